//! The SQS poller of one event source mapping: long-polls the queue,
//! gathers batches (BatchSize, MaximumBatchingWindowInSeconds, the 6 MB
//! payload cap), invokes the function synchronously with AWS's SQS event,
//! and deletes what succeeded: the whole batch, or all but the
//! `batchItemFailures` the function reported (ReportBatchItemFailures).
//! A failed batch is left alone: its messages become visible again after
//! the queue's visibility timeout, and the queue's redrive policy moves them
//! to its dead-letter queue after maxReceiveCount receives, as on AWS.
//!
//! Concurrency scales with the backlog: the poller starts with one batch at
//! a time and adds one concurrent batch each second in which every running
//! batch was full, up to ScalingConfig.MaximumConcurrency (default: the
//! account limit); a batch loop that keeps finding the queue empty stops
//! while at least one other runs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

use super::Mapping;
use crate::error::LambdaError;
use crate::exec::{InvokeResult, Target};
use crate::queues::{QueueError, ReceivedMessage};
use crate::Lambda;

/// Largest payload one invocation may carry (AWS: 6 MB).
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
/// How long a poller waits after a problem (queue or function gone) before
/// trying again, so a broken mapping never spins.
const PROBLEM_BACKOFF: Duration = Duration::from_secs(5);
/// Empty long polls in a row after which a surplus batch loop stops.
const IDLE_POLLS_TO_STOP: u32 = 3;

struct Shared {
    lambda: Lambda,
    mapping: Arc<Mapping>,
    /// The mapping's FilterCriteria; messages matching none are deleted
    /// without invoking the function, as on AWS.
    filter: Option<nimbus_patterns::FilterCriteria>,
    loops: AtomicU32,
    /// Batches that came back full since the supervisor last looked.
    full_batches: AtomicU64,
}

pub(crate) async fn run(lambda: Lambda, mapping: Arc<Mapping>) {
    let max = mapping
        .maximum_concurrency
        .unwrap_or_else(|| lambda.inner().exec.concurrency.limit())
        .max(1);
    let filter = mapping
        .filter_criteria
        .as_ref()
        .and_then(|f| crate::ops::event_source_mappings::filter_patterns(f).ok())
        .and_then(|p| nimbus_patterns::FilterCriteria::parse(&p).ok())
        .filter(|f| !f.is_empty());
    let shared = Arc::new(Shared {
        lambda,
        mapping,
        filter,
        loops: AtomicU32::new(0),
        full_batches: AtomicU64::new(0),
    });
    let mut loops = tokio::task::JoinSet::new();
    spawn_loop(&shared, &mut loops);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let running = shared.loops.load(Ordering::SeqCst);
                let full = shared.full_batches.swap(0, Ordering::SeqCst);
                if running == 0 || (full >= u64::from(running) && running < max) {
                    spawn_loop(&shared, &mut loops);
                }
            }
            Some(_) = loops.join_next() => {}
        }
    }
}

fn spawn_loop(shared: &Arc<Shared>, loops: &mut tokio::task::JoinSet<()>) {
    shared.loops.fetch_add(1, Ordering::SeqCst);
    let shared = shared.clone();
    loops.spawn(async move {
        batch_loop(&shared).await;
        shared.loops.fetch_sub(1, Ordering::SeqCst);
    });
}

async fn batch_loop(shared: &Shared) {
    let mut idle = 0;
    loop {
        let started = tokio::time::Instant::now();
        match collect(shared).await {
            Ok(batch) if batch.is_empty() => {
                // A long poll that came back empty at once (the server is
                // shutting down, or the queue's receive is short) must not
                // turn into a busy loop.
                if started.elapsed() < Duration::from_millis(500) {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                idle += 1;
                if idle >= IDLE_POLLS_TO_STOP && shared.loops.load(Ordering::SeqCst) > 1 {
                    return;
                }
            }
            Ok(batch) => {
                idle = 0;
                if batch.len() as u32 >= shared.mapping.batch_size {
                    shared.full_batches.fetch_add(1, Ordering::SeqCst);
                }
                let batch = drop_filtered(shared, batch).await;
                for chunk in split_by_size(batch) {
                    process(shared, chunk).await;
                }
            }
            Err(problem) => {
                report_problem(shared, problem);
                tokio::time::sleep(PROBLEM_BACKOFF).await;
            }
        }
    }
}

/// Deletes the messages no filter matches and returns the rest.
async fn drop_filtered(shared: &Shared, batch: Vec<ReceivedMessage>) -> Vec<ReceivedMessage> {
    let Some(filter) = &shared.filter else {
        return batch;
    };
    let (keep, drop): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .partition(|msg| filter.matches_sqs_record(&record(&shared.mapping, msg)));
    if !drop.is_empty() {
        let receipts = drop
            .iter()
            .map(|m| str_of(m, "ReceiptHandle").to_owned())
            .collect();
        if let Some(queues) = shared.lambda.inner().queues.get() {
            if let Err(e) = (queues.delete)(shared.mapping.event_source_arn.clone(), receipts).await
            {
                report_problem(shared, queue_problem(&shared.mapping, e));
            }
        }
    }
    keep
}

/// One batch: a long poll for the first messages, then more until the
/// batch is full or the batching window closes.
async fn collect(shared: &Shared) -> Result<Vec<ReceivedMessage>, String> {
    let Some(queues) = shared.lambda.inner().queues.get() else {
        return Err("PROBLEM: nimbus has no SQS service attached".into());
    };
    let m = &shared.mapping;
    let arn = m.event_source_arn.clone();
    let receive = |max: u32, wait: u32| (queues.receive)(arn.clone(), max.min(10), wait);
    let mut batch = receive(m.batch_size, 20)
        .await
        .map_err(|e| queue_problem(m, e))?;
    if batch.is_empty() {
        return Ok(batch);
    }
    let window = Duration::from_secs(u64::from(m.maximum_batching_window));
    let deadline = tokio::time::Instant::now() + window;
    while (batch.len() as u32) < m.batch_size {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let wait = left.as_secs().min(20) as u32;
        let more = receive(m.batch_size - batch.len() as u32, wait)
            .await
            .map_err(|e| queue_problem(m, e))?;
        if more.is_empty() && wait == 0 {
            tokio::time::sleep(left.min(Duration::from_millis(200))).await;
        }
        batch.extend(more);
    }
    Ok(batch)
}

/// Splits a batch so each invocation's event stays under 6 MB.
fn split_by_size(batch: Vec<ReceivedMessage>) -> Vec<Vec<ReceivedMessage>> {
    let mut out = vec![Vec::new()];
    let mut size = 0;
    for message in batch {
        let len = message
            .get("Body")
            .and_then(Value::as_str)
            .map_or(0, str::len)
            + 1024;
        if size + len > MAX_PAYLOAD && !out.last().is_some_and(Vec::is_empty) {
            out.push(Vec::new());
            size = 0;
        }
        size += len;
        if let Some(last) = out.last_mut() {
            last.push(message);
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

async fn process(shared: &Shared, batch: Vec<ReceivedMessage>) {
    let m = &shared.mapping;
    let lambda = &shared.lambda;
    if batch.is_empty() {
        return;
    }
    let records: Vec<Value> = batch.iter().map(|msg| record(m, msg)).collect();
    let receipts: Vec<(String, String)> = batch
        .iter()
        .map(|msg| {
            (
                str_of(msg, "MessageId").to_owned(),
                str_of(msg, "ReceiptHandle").to_owned(),
            )
        })
        .collect();
    let Some(f) = lambda
        .inner()
        .catalog
        .get(&m.account, &m.region, &m.function_name)
    else {
        report_problem(
            shared,
            format!("PROBLEM: Function {} does not exist", m.function_arn()),
        );
        tokio::time::sleep(PROBLEM_BACKOFF).await;
        return;
    };
    let ctx = nimbus_wire::RequestContext::local(&m.region);
    let Ok((version, invoked_arn)) = crate::ops::invoke::resolve(&f, &ctx, m.qualifier.as_deref())
    else {
        report_problem(
            shared,
            format!("PROBLEM: Function {} does not exist", m.function_arn()),
        );
        tokio::time::sleep(PROBLEM_BACKOFF).await;
        return;
    };
    let Some(config) = f.version(&version) else {
        return;
    };
    let target = Target {
        function: &f,
        config,
        invoked_arn,
    };
    let event = json!({ "Records": records });
    let request_id = uuid::Uuid::new_v4().to_string();
    let outcome = lambda
        .inner()
        .exec
        .run(&target, Bytes::from(event.to_string()), None, &request_id)
        .await;
    let delete: Vec<String> = match outcome {
        Ok(execution) => match execution.result {
            InvokeResult::Success(body) => {
                let failed = if m.report_batch_item_failures {
                    batch_item_failures(&body, &receipts)
                } else {
                    Some(HashSet::new())
                };
                match failed {
                    Some(failed) => {
                        set_result(
                            shared,
                            if failed.is_empty() {
                                "OK"
                            } else {
                                "PROBLEM: Function reported partial batch failure"
                            },
                            receipts.len(),
                        );
                        receipts
                            .iter()
                            .filter(|(id, _)| !failed.contains(id))
                            .map(|(_, r)| r.clone())
                            .collect()
                    }
                    None => {
                        set_result(
                            shared,
                            "PROBLEM: Function returned an invalid batchItemFailures response",
                            receipts.len(),
                        );
                        Vec::new()
                    }
                }
            }
            InvokeResult::FunctionError(_) => {
                set_result(shared, "PROBLEM: Function call failed", receipts.len());
                Vec::new()
            }
        },
        Err(LambdaError::TooManyRequests { .. }) => {
            set_result(shared, "PROBLEM: Function call throttled", receipts.len());
            tokio::time::sleep(Duration::from_millis(500)).await;
            Vec::new()
        }
        Err(e) => {
            report_problem(shared, format!("PROBLEM: {e}"));
            tokio::time::sleep(PROBLEM_BACKOFF).await;
            Vec::new()
        }
    };
    if delete.is_empty() {
        return;
    }
    if let Some(queues) = lambda.inner().queues.get() {
        if let Err(e) = (queues.delete)(m.event_source_arn.clone(), delete).await {
            report_problem(shared, queue_problem(m, e));
        }
    }
}

/// The message ids a ReportBatchItemFailures response names; `None` when
/// the response is malformed (then the whole batch counts as failed, as on
/// AWS). An empty or missing list means every message succeeded.
fn batch_item_failures(body: &[u8], receipts: &[(String, String)]) -> Option<HashSet<String>> {
    // An empty body is success; anything that is not JSON fails the whole
    // batch, as AWS documents for ReportBatchItemFailures.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(HashSet::new());
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let Some(list) = value.get("batchItemFailures") else {
        return Some(HashSet::new());
    };
    if list.is_null() {
        return Some(HashSet::new());
    }
    let list = list.as_array()?;
    let mut failed = HashSet::new();
    for item in list {
        let id = item.get("itemIdentifier")?.as_str()?;
        if id.is_empty() || !receipts.iter().any(|(m, _)| m == id) {
            return None;
        }
        failed.insert(id.to_owned());
    }
    Some(failed)
}

/// One message as the function sees it in `Records`.
fn record(m: &Mapping, msg: &ReceivedMessage) -> Value {
    let attributes = msg.get("Attributes").cloned().unwrap_or_else(|| json!({}));
    let mut message_attributes = serde_json::Map::new();
    if let Some(attrs) = msg.get("MessageAttributes").and_then(Value::as_object) {
        for (name, a) in attrs {
            let mut out = json!({
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": a.get("DataType").cloned().unwrap_or(Value::Null),
            });
            if let Some(s) = a.get("StringValue") {
                out["stringValue"] = s.clone();
            }
            if let Some(b) = a.get("BinaryValue") {
                out["binaryValue"] = b.clone();
            }
            message_attributes.insert(name.clone(), out);
        }
    }
    let mut out = json!({
        "messageId": str_of(msg, "MessageId"),
        "receiptHandle": str_of(msg, "ReceiptHandle"),
        "body": str_of(msg, "Body"),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": str_of(msg, "MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": m.event_source_arn,
        "awsRegion": m.region,
    });
    if let Some(md5) = msg.get("MD5OfMessageAttributes") {
        out["md5OfMessageAttributes"] = md5.clone();
    }
    out
}

fn str_of<'a>(msg: &'a ReceivedMessage, key: &str) -> &'a str {
    msg.get(key).and_then(Value::as_str).unwrap_or("")
}

fn queue_problem(m: &Mapping, e: QueueError) -> String {
    match e {
        QueueError::NotFound => format!(
            "PROBLEM: Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. The queue {} does not exist",
            m.event_source_arn
        ),
        QueueError::Other(e) => format!("PROBLEM: {e}"),
    }
}

fn report_problem(shared: &Shared, problem: String) {
    let uuid = &shared.mapping.uuid;
    tracing::warn!("lambda: event source mapping {uuid}: {problem}");
    shared.lambda.inner().pollers.update(uuid, |s| {
        s.last_processing_result = Some(problem.clone());
        s.problem = Some(problem);
    });
}

fn set_result(shared: &Shared, result: &str, records: usize) {
    shared
        .lambda
        .inner()
        .pollers
        .update(&shared.mapping.uuid, |s| {
            s.last_processing_result = Some(result.to_owned());
            s.problem = None;
            s.batches += 1;
            s.records += records as u64;
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipts() -> Vec<(String, String)> {
        vec![("a".into(), "ra".into()), ("b".into(), "rb".into())]
    }

    #[test]
    fn batch_item_failure_responses() {
        let r = receipts();
        assert_eq!(batch_item_failures(b"null", &r), Some(HashSet::new()));
        assert_eq!(batch_item_failures(b"", &r), Some(HashSet::new()));
        assert_eq!(batch_item_failures(b"failed: abc", &r), None);
        assert_eq!(
            batch_item_failures(br#"{"batchItemFailures":[]}"#, &r),
            Some(HashSet::new())
        );
        assert_eq!(
            batch_item_failures(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &r),
            Some(HashSet::from(["b".to_owned()]))
        );
        // Unknown or empty ids fail the whole batch.
        assert_eq!(
            batch_item_failures(br#"{"batchItemFailures":[{"itemIdentifier":"zz"}]}"#, &r),
            None
        );
        assert_eq!(
            batch_item_failures(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &r),
            None
        );
        assert_eq!(
            batch_item_failures(br#"{"batchItemFailures":[{}]}"#, &r),
            None
        );
    }

    #[test]
    fn batches_split_under_six_megabytes() {
        let big = "x".repeat(4 * 1024 * 1024);
        let msg = |b: &str| {
            let mut m = serde_json::Map::new();
            m.insert("Body".into(), b.into());
            m
        };
        let chunks = split_by_size(vec![msg(&big), msg(&big), msg("small")]);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].len(), 1);
        assert_eq!(chunks[1].len(), 2);
    }
}
