//! Event source mappings: the stored mappings and the pollers that run
//! them. Each enabled mapping has one poller task (which may run several
//! concurrent batches); disabling, updating or deleting a mapping stops its
//! poller, and a new one starts from the stored record.
//!
//! Sources: SQS queues (`sqs.rs`). The mapping record is durable; pollers
//! are started again when the server starts.

pub mod sqs;
pub mod streams;
pub mod window;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::Lambda;

/// Store key prefix of mapping records: `lm` + UUID.
pub const MAPPING_PREFIX: &[u8] = b"lm";

pub fn mapping_key(uuid: &str) -> Vec<u8> {
    let mut k = MAPPING_PREFIX.to_vec();
    k.extend_from_slice(uuid.as_bytes());
    k
}

/// One event source mapping as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub uuid: String,
    pub account: String,
    pub region: String,
    pub event_source_arn: String,
    /// The function's name and the qualifier from FunctionName, if any.
    pub function_name: String,
    pub qualifier: Option<String>,
    pub batch_size: u32,
    pub maximum_batching_window: u32,
    pub enabled: bool,
    #[serde(default)]
    pub report_batch_item_failures: bool,
    #[serde(default)]
    pub maximum_concurrency: Option<u32>,
    #[serde(default)]
    pub filter_criteria: Option<Value>,
    pub last_modified_ms: u64,
    /// Stream sources only: where a new mapping starts (TRIM_HORIZON, LATEST).
    #[serde(default)]
    pub starting_position: Option<String>,
    /// Stream sources: -1 retries until the record expires.
    #[serde(default = "minus_one")]
    pub maximum_retry_attempts: i64,
    /// Stream sources: -1 means no limit.
    #[serde(default = "minus_one")]
    pub maximum_record_age: i64,
    #[serde(default)]
    pub bisect_on_error: bool,
    #[serde(default = "one")]
    pub parallelization_factor: u32,
    /// Stream sources: where batches that could not be processed go (SQS).
    #[serde(default)]
    pub on_failure: Option<String>,
    /// Stream sources: TumblingWindowInSeconds (0: no windows).
    #[serde(default)]
    pub tumbling_window: u32,
}

fn minus_one() -> i64 {
    -1
}

fn one() -> u32 {
    1
}

/// Store key of a stream mapping's checkpoint: `lk` + UUID -> the sequence
/// number of the last record done with.
pub fn checkpoint_key(uuid: &str) -> Vec<u8> {
    let mut k = b"lk".to_vec();
    k.extend_from_slice(uuid.as_bytes());
    k
}

/// Store key of a stream mapping's open tumbling window: `lw` + UUID ->
/// the window's bounds and state (JSON), written with the checkpoint.
pub fn window_key(uuid: &str) -> Vec<u8> {
    let mut k = b"lw".to_vec();
    k.extend_from_slice(uuid.as_bytes());
    k
}

/// Whether an event source ARN names a DynamoDB stream.
pub fn is_stream(arn: &str) -> bool {
    arn.starts_with("arn:aws:dynamodb:") && arn.contains("/stream/")
}

impl Mapping {
    pub fn function_arn(&self) -> String {
        match &self.qualifier {
            Some(q) => {
                crate::names::qualified_arn(&self.region, &self.account, &self.function_name, q)
            }
            None => crate::names::function_arn(&self.region, &self.account, &self.function_name),
        }
    }
}

/// What a poller reports about its mapping (in memory; AWS's
/// LastProcessingResult and StateTransitionReason).
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub last_processing_result: Option<String>,
    /// Set when the poller cannot work (queue or function gone).
    pub problem: Option<String>,
    pub batches: u64,
    pub records: u64,
    /// Streams: how old the last record processed was when it was
    /// processed (AWS's IteratorAge), in milliseconds.
    pub iterator_age_ms: Option<u64>,
}

/// Running pollers and their status, by mapping UUID.
#[derive(Default)]
pub(crate) struct Pollers {
    running: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
    status: Mutex<HashMap<String, Status>>,
}

impl Pollers {
    pub fn status(&self, uuid: &str) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(uuid)
            .cloned()
            .unwrap_or_default()
    }

    pub fn update(&self, uuid: &str, f: impl FnOnce(&mut Status)) {
        let mut map = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        f(map.entry(uuid.to_owned()).or_default());
    }

    /// Stops the mapping's poller, if one runs.
    pub fn stop(&self, uuid: &str) {
        if let Some(handle) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(uuid)
        {
            handle.abort();
        }
    }

    /// Stops every poller (server shutdown).
    pub fn stop_all(&self) {
        let running =
            std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, handle) in running {
            handle.abort();
        }
    }

    pub fn forget(&self, uuid: &str) {
        self.stop(uuid);
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(uuid);
    }

    fn insert(&self, uuid: &str, handle: tokio::task::JoinHandle<()>) {
        if let Some(old) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(uuid.to_owned(), handle)
        {
            old.abort();
        }
    }
}

/// (Re)starts the poller of `mapping` if it is enabled; stops it otherwise.
pub(crate) fn apply(lambda: &Lambda, mapping: &Mapping) {
    let pollers = &lambda.inner().pollers;
    pollers.stop(&mapping.uuid);
    pollers.update(&mapping.uuid, |s| s.problem = None);
    if !mapping.enabled {
        return;
    }
    let handle = if mapping.event_source_arn.starts_with("arn:aws:sqs:") {
        tokio::spawn(sqs::run(lambda.clone(), Arc::new(mapping.clone())))
    } else if is_stream(&mapping.event_source_arn) {
        tokio::spawn(streams::run(lambda.clone(), Arc::new(mapping.clone())))
    } else {
        return;
    };
    pollers.insert(&mapping.uuid, handle);
}

/// Starts every stored enabled mapping (server start).
pub(crate) fn start_all(lambda: &Lambda) {
    match load_all(lambda) {
        Ok(mappings) => {
            for m in &mappings {
                apply(lambda, m);
            }
        }
        Err(e) => tracing::error!("lambda: cannot load event source mappings: {e}"),
    }
}

pub(crate) fn load_all(lambda: &Lambda) -> crate::error::Result<Vec<Mapping>> {
    use nimbus_store::ReadView;
    let snapshot = lambda.inner().store.snapshot()?;
    let end = crate::model::prefix_end(MAPPING_PREFIX);
    let mut out = Vec::new();
    snapshot.scan(
        std::ops::Bound::Included(MAPPING_PREFIX),
        std::ops::Bound::Excluded(end.as_slice()),
        false,
        &mut |_, value| {
            if let Ok(m) = serde_json::from_slice::<Mapping>(value) {
                out.push(m);
            }
            true
        },
    )?;
    Ok(out)
}

/// Prometheus text for every mapping: batches and records processed, and
/// the iterator age of stream mappings.
pub(crate) fn metrics(lambda: &Lambda, out: &mut String) {
    use std::fmt::Write;
    let Ok(mappings) = load_all(lambda) else {
        return;
    };
    let pollers = &lambda.inner().pollers;
    let statuses: Vec<(&Mapping, Status)> = mappings
        .iter()
        .map(|m| (m, pollers.status(&m.uuid)))
        .collect();
    let family = |out: &mut String,
                  name: &str,
                  kind: &str,
                  help: &str,
                  value: &dyn Fn(&Status) -> Option<u64>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (m, s) in &statuses {
            if let Some(v) = value(s) {
                let _ = writeln!(out, "{name}{{{}}} {v}", labels(m));
            }
        }
    };
    family(
        out,
        "nimbus_lambda_event_source_mapping_batches_total",
        "counter",
        "Batches an event source mapping has sent to its function.",
        &|s| Some(s.batches),
    );
    family(
        out,
        "nimbus_lambda_event_source_mapping_records_total",
        "counter",
        "Records an event source mapping has sent to its function.",
        &|s| Some(s.records),
    );
    family(
        out,
        "nimbus_lambda_event_source_mapping_iterator_age_milliseconds",
        "gauge",
        "Age of the last stream record processed.",
        &|s| s.iterator_age_ms,
    );
    family(
        out,
        "nimbus_lambda_event_source_mapping_problem",
        "gauge",
        "Whether the mapping reports a problem (1) or not (0).",
        &|s| Some(u64::from(s.problem.is_some())),
    );
}

fn labels(m: &Mapping) -> String {
    let escape = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "uuid=\"{}\",event_source_arn=\"{}\",function=\"{}\"",
        escape(&m.uuid),
        escape(&m.event_source_arn),
        escape(&m.function_name)
    )
}

/// The EventSourceMappingConfiguration object.
pub fn mapping_json(lambda: &Lambda, m: &Mapping, state: Option<&str>) -> Value {
    let status = lambda.inner().pollers.status(&m.uuid);
    let state = state.unwrap_or(if m.enabled { "Enabled" } else { "Disabled" });
    let mut out = json!({
        "UUID": m.uuid,
        "EventSourceMappingArn": format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", m.region, m.account, m.uuid),
        "BatchSize": m.batch_size,
        "MaximumBatchingWindowInSeconds": m.maximum_batching_window,
        "EventSourceArn": m.event_source_arn,
        "FunctionArn": m.function_arn(),
        "LastModified": m.last_modified_ms as f64 / 1000.0,
        "State": state,
        "StateTransitionReason": status.problem.clone().unwrap_or_else(|| "USER_INITIATED".into()),
        "LastProcessingResult": status.last_processing_result.unwrap_or_else(|| "No records processed".into()),
        "FunctionResponseTypes": if m.report_batch_item_failures { json!(["ReportBatchItemFailures"]) } else { json!([]) },
    });
    if let Some(n) = m.maximum_concurrency {
        out["ScalingConfig"] = json!({ "MaximumConcurrency": n });
    }
    if let Some(f) = &m.filter_criteria {
        out["FilterCriteria"] = f.clone();
    }
    if is_stream(&m.event_source_arn) {
        if let Some(p) = &m.starting_position {
            out["StartingPosition"] = p.clone().into();
        }
        out["MaximumRetryAttempts"] = m.maximum_retry_attempts.into();
        out["MaximumRecordAgeInSeconds"] = m.maximum_record_age.into();
        out["BisectBatchOnFunctionError"] = m.bisect_on_error.into();
        out["ParallelizationFactor"] = m.parallelization_factor.into();
        out["DestinationConfig"] = match &m.on_failure {
            Some(d) => json!({ "OnFailure": { "Destination": d } }),
            None => json!({ "OnFailure": {} }),
        };
        out["TumblingWindowInSeconds"] = m.tumbling_window.into();
    }
    out
}
