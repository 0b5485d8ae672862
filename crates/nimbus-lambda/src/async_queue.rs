//! Asynchronous (Event) invocations: accepted into a durable queue in the
//! store before Invoke answers 202, run by a background worker, retried on
//! function errors and throttles as AWS does, and removed only once done.
//!
//! Invariants: an event is acknowledged only after its record is durable,
//! and its record is deleted only after its last attempt finished, so an
//! accepted event survives SIGKILL and runs after restart (at least once).
//! Retries wait 1 then 2 minutes after function errors (AWS's schedule,
//! MaximumRetryAttempts 2); throttled events are retried with backoff until
//! they are 6 hours old (MaximumEventAgeInSeconds' default).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use nimbus_store::ReadView;
use serde::{Deserialize, Serialize};

use crate::destinations::{self, invocation_record, Condition, DestinationKind, LastResponse};
use crate::error::{LambdaError, Result};
use crate::exec::{InvokeResult, Target};
use crate::model::{self, FunctionRecord};
use crate::Lambda;

const QUEUE_PREFIX: &[u8] = b"la";
/// Retries after a function error (AWS default).
const MAX_RETRIES: u32 = 2;
/// Oldest event still attempted (AWS default: 6 hours).
const MAX_EVENT_AGE_MS: u64 = 6 * 3600 * 1000;
/// Events run at once by the worker.
const PARALLEL: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EventRecord {
    pub account: String,
    pub region: String,
    pub function: String,
    pub qualifier: Option<String>,
    pub payload: String,
    pub request_id: String,
    pub enqueued_ms: u64,
    /// Function errors so far.
    pub retries: u32,
    /// Throttles so far (for backoff).
    pub throttles: u32,
    pub not_before_ms: u64,
}

/// Queue state shared by enqueuers and the worker.
pub(crate) struct Queue {
    next_seq: AtomicU64,
    wake: tokio::sync::Notify,
}

impl Queue {
    pub fn new(store: &nimbus_store::Store) -> Result<Queue> {
        let snapshot = store.snapshot()?;
        let end = model::prefix_end(QUEUE_PREFIX);
        let mut last = 0;
        snapshot.scan(
            std::ops::Bound::Included(QUEUE_PREFIX),
            std::ops::Bound::Excluded(end.as_slice()),
            true,
            &mut |key, _| {
                last = seq_of(key).unwrap_or(0);
                false
            },
        )?;
        Ok(Queue {
            next_seq: AtomicU64::new(last + 1),
            wake: tokio::sync::Notify::new(),
        })
    }
}

fn key(seq: u64) -> Vec<u8> {
    let mut k = QUEUE_PREFIX.to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn seq_of(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(2..10)?.try_into().ok()?))
}

/// Accepts one Event invocation durably.
pub(crate) async fn enqueue(
    lambda: &Lambda,
    f: &FunctionRecord,
    qualifier: Option<&str>,
    payload: Bytes,
    request_id: &str,
) -> Result<()> {
    let inner = lambda.inner();
    let now = lambda.inner().clock.now_ms();
    let record = EventRecord {
        account: f.account.clone(),
        region: f.region.clone(),
        function: f.name.clone(),
        qualifier: qualifier.map(str::to_owned),
        payload: String::from_utf8_lossy(&payload).into_owned(),
        request_id: request_id.to_owned(),
        enqueued_ms: now,
        retries: 0,
        throttles: 0,
        not_before_ms: now,
    };
    let seq = inner.queue.next_seq.fetch_add(1, Ordering::Relaxed);
    let value = serde_json::to_vec(&record).map_err(|e| LambdaError::Service(e.to_string()))?;
    inner
        .store
        .write(move |txn| {
            txn.put(&key(seq), &value);
            Ok::<_, LambdaError>(())
        })
        .await?;
    inner.queue.wake.notify_one();
    Ok(())
}

/// Runs queued events until the process ends. Started once the server
/// listens.
pub(crate) async fn run_worker(lambda: Lambda) {
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let in_flight = std::sync::Arc::new(std::sync::Mutex::new(
        std::collections::HashSet::<u64>::new(),
    ));
    loop {
        let due = match due_events(&lambda, &in_flight) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!("lambda: cannot read the async invocation queue: {e}");
                Vec::new()
            }
        };
        let mut next_wake = Duration::from_secs(1);
        let now = lambda.inner().clock.now_ms();
        for (seq, record) in due {
            if record.not_before_ms > now {
                next_wake = next_wake.min(Duration::from_millis(record.not_before_ms - now));
                continue;
            }
            let Ok(permit) = semaphore.clone().acquire_owned().await else {
                return;
            };
            in_flight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(seq);
            let lambda = lambda.clone();
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                attempt(&lambda, seq, record).await;
                in_flight
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&seq);
                drop(permit);
                lambda.inner().queue.wake.notify_one();
            });
        }
        // Wake for new events, when the next one is due, or when the clock
        // is advanced past it.
        let mut advanced = lambda.inner().clock.subscribe();
        tokio::select! {
            _ = lambda.inner().queue.wake.notified() => {}
            _ = tokio::time::sleep(next_wake) => {}
            _ = advanced.changed() => {}
        }
    }
}

fn due_events(
    lambda: &Lambda,
    in_flight: &std::sync::Mutex<std::collections::HashSet<u64>>,
) -> Result<Vec<(u64, EventRecord)>> {
    let busy = in_flight
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let snapshot = lambda.inner().store.snapshot()?;
    let end = model::prefix_end(QUEUE_PREFIX);
    let now = lambda.inner().clock.now_ms();
    let mut out = Vec::new();
    // Only due events count toward the page: events waiting out a retry or
    // throttle backoff must never hide the ones behind them.
    snapshot.scan(
        std::ops::Bound::Included(QUEUE_PREFIX),
        std::ops::Bound::Excluded(end.as_slice()),
        false,
        &mut |key, value| {
            if let (Some(seq), Ok(record)) =
                (seq_of(key), serde_json::from_slice::<EventRecord>(value))
            {
                if !busy.contains(&seq) && record.not_before_ms <= now {
                    out.push((seq, record));
                }
            }
            out.len() < 1000
        },
    )?;
    Ok(out)
}

/// One attempt of one event; then the record is deleted (after sending it
/// on to its destination, if any) or rescheduled.
async fn attempt(lambda: &Lambda, seq: u64, mut record: EventRecord) {
    let inner = lambda.inner();
    let Some(f) = inner
        .catalog
        .get(&record.account, &record.region, &record.function)
    else {
        tracing::warn!(
            "lambda: dropped event {}: function {} no longer exists",
            record.request_id,
            record.function
        );
        let _ = delete(lambda, seq).await;
        return;
    };
    let qualifier = record
        .qualifier
        .clone()
        .unwrap_or_else(|| crate::names::LATEST.to_owned());
    let config = f
        .event_invoke_configs
        .get(&qualifier)
        .cloned()
        .unwrap_or_default();
    let max_retries = config.maximum_retry_attempts.unwrap_or(MAX_RETRIES);
    let max_age_ms = config
        .maximum_event_age_seconds
        .map_or(MAX_EVENT_AGE_MS, |s| u64::from(s) * 1000);
    let function_arn = crate::names::qualified_arn(&f.region, &f.account, &f.name, &qualifier);

    if lambda
        .inner()
        .clock
        .now_ms()
        .saturating_sub(record.enqueued_ms)
        > max_age_ms
    {
        tracing::warn!(
            "lambda: event {} for {} is older than its maximum age; not run",
            record.request_id,
            record.function
        );
        let failure = Failure {
            condition: Condition::EventAgeExceeded,
            response: None,
        };
        deliver_failure(lambda, &f, &config, &function_arn, &record, failure).await;
        let _ = delete(lambda, seq).await;
        return;
    }

    let result = match run_once(lambda, &f, &record).await {
        Attempt::Succeeded(response) => {
            if let Some(dest) = &config.on_success {
                let body = invocation_record(
                    &record.request_id,
                    &function_arn,
                    Condition::Success,
                    record.retries + 1,
                    &record.payload,
                    Some(&response),
                );
                send(lambda, dest, body.to_string(), Vec::new()).await;
            }
            delete(lambda, seq).await
        }
        Attempt::Failed(response) if record.retries >= max_retries => {
            tracing::warn!(
                "lambda: event {} for {} failed after {} attempt(s)",
                record.request_id,
                record.function,
                record.retries + 1
            );
            let failure = Failure {
                condition: Condition::RetriesExhausted,
                response,
            };
            deliver_failure(lambda, &f, &config, &function_arn, &record, failure).await;
            delete(lambda, seq).await
        }
        Attempt::Failed(_) => {
            record.retries += 1;
            record.not_before_ms =
                lambda.inner().clock.now_ms() + 60_000 * u64::from(record.retries);
            reschedule(lambda, seq, &record).await
        }
        Attempt::Throttled => {
            record.throttles += 1;
            let backoff = (1000u64 << record.throttles.min(8)).min(5 * 60_000);
            record.not_before_ms = lambda.inner().clock.now_ms() + backoff;
            reschedule(lambda, seq, &record).await
        }
    };
    if let Err(e) = result {
        tracing::error!(
            "lambda: could not update async event {}: {e}",
            record.request_id
        );
    }
}

struct Failure {
    condition: Condition,
    response: Option<LastResponse>,
}

/// Sends a failed event to its on-failure destination (an invocation
/// record), else to the version's dead-letter queue (the event itself).
async fn deliver_failure(
    lambda: &Lambda,
    f: &FunctionRecord,
    config: &crate::model::EventInvokeConfig,
    function_arn: &str,
    record: &EventRecord,
    failure: Failure,
) {
    if let Some(dest) = &config.on_failure {
        let body = invocation_record(
            &record.request_id,
            function_arn,
            failure.condition,
            record.retries + 1,
            &record.payload,
            failure.response.as_ref(),
        );
        send(lambda, dest, body.to_string(), Vec::new()).await;
        return;
    }
    let version = failure
        .response
        .as_ref()
        .map(|r| r.executed_version.clone())
        .unwrap_or_else(|| crate::names::LATEST.to_owned());
    let dlq = f
        .version(&version)
        .and_then(|v| v.dead_letter_target.clone());
    if let Some(dlq) = dlq {
        let message = failure
            .response
            .as_ref()
            .and_then(|r| r.payload.as_deref())
            .and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok())
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let attributes = vec![
            ("RequestID".to_owned(), record.request_id.clone()),
            ("ErrorCode".to_owned(), "200".to_owned()),
            ("ErrorMessage".to_owned(), message),
        ];
        send(lambda, &dlq, record.payload.clone(), attributes).await;
    }
}

/// Delivers one destination message; failures are logged, as AWS only
/// counts them in a metric.
async fn send(lambda: &Lambda, arn: &str, body: String, attributes: Vec<(String, String)>) {
    let outcome = match destinations::kind_of(arn) {
        Ok(DestinationKind::Lambda) => enqueue_to_function(lambda, arn, body).await,
        Ok(DestinationKind::Sqs | DestinationKind::Sns) => {
            destinations::deliver(lambda, arn, body, attributes).await
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = outcome {
        tracing::warn!("lambda: could not deliver to destination {arn}: {e}");
    }
}

/// Queues an asynchronous invocation of the function a destination ARN names.
async fn enqueue_to_function(
    lambda: &Lambda,
    arn: &str,
    body: String,
) -> std::result::Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let (region, account) = (
        parts.get(3).copied().unwrap_or(""),
        parts.get(4).copied().unwrap_or(""),
    );
    let r = crate::names::parse_function_ref(arn).map_err(|e| e.to_string())?;
    let f = lambda
        .inner()
        .catalog
        .get(account, region, &r.name)
        .ok_or_else(|| format!("function {arn} does not exist"))?;
    let request_id = uuid::Uuid::new_v4().to_string();
    enqueue(
        lambda,
        &f,
        r.qualifier.as_deref(),
        Bytes::from(body),
        &request_id,
    )
    .await
    .map_err(|e| e.to_string())
}

async fn delete(lambda: &Lambda, seq: u64) -> Result<()> {
    lambda
        .inner()
        .store
        .write(move |txn| {
            txn.delete(&key(seq));
            Ok::<_, LambdaError>(())
        })
        .await
}

async fn reschedule(lambda: &Lambda, seq: u64, record: &EventRecord) -> Result<()> {
    let value = serde_json::to_vec(record).map_err(|e| LambdaError::Service(e.to_string()))?;
    lambda
        .inner()
        .store
        .write(move |txn| {
            txn.put(&key(seq), &value);
            Ok::<_, LambdaError>(())
        })
        .await
}

enum Attempt {
    Succeeded(LastResponse),
    /// A function error (with what it returned) or an environment failure.
    Failed(Option<LastResponse>),
    Throttled,
}

async fn run_once(lambda: &Lambda, f: &FunctionRecord, record: &EventRecord) -> Attempt {
    let ctx = nimbus_wire::RequestContext::local(&record.region);
    let Ok((version, invoked_arn)) =
        crate::ops::invoke::resolve(f, &ctx, record.qualifier.as_deref())
    else {
        return Attempt::Failed(None);
    };
    let Some(config) = f.version(&version) else {
        return Attempt::Failed(None);
    };
    let target = Target {
        function: f,
        config,
        invoked_arn,
    };
    let payload = Bytes::from(record.payload.clone());
    match lambda
        .inner()
        .exec
        .run(&target, payload, None, &record.request_id)
        .await
    {
        Ok(execution) => match execution.result {
            InvokeResult::Success(body) => Attempt::Succeeded(LastResponse {
                executed_version: version,
                function_error: false,
                payload: Some(body.to_vec()),
            }),
            InvokeResult::FunctionError(body) => {
                tracing::info!(
                    "lambda: async invocation {} of {} failed: {}",
                    record.request_id,
                    f.name,
                    String::from_utf8_lossy(&body)
                );
                Attempt::Failed(Some(LastResponse {
                    executed_version: version,
                    function_error: true,
                    payload: Some(body.to_vec()),
                }))
            }
        },
        Err(LambdaError::TooManyRequests { .. }) => Attempt::Throttled,
        Err(e) => {
            tracing::warn!(
                "lambda: async invocation {} of {} could not run: {e}",
                record.request_id,
                f.name
            );
            Attempt::Failed(None)
        }
    }
}
