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
    let now = model::now_ms();
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
        let now = model::now_ms();
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
        let _ = tokio::time::timeout(next_wake, lambda.inner().queue.wake.notified()).await;
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
    let mut out = Vec::new();
    snapshot.scan(
        std::ops::Bound::Included(QUEUE_PREFIX),
        std::ops::Bound::Excluded(end.as_slice()),
        false,
        &mut |key, value| {
            if let (Some(seq), Ok(record)) =
                (seq_of(key), serde_json::from_slice::<EventRecord>(value))
            {
                if !busy.contains(&seq) {
                    out.push((seq, record));
                }
            }
            out.len() < 1000
        },
    )?;
    Ok(out)
}

/// One attempt of one event; then the record is deleted or rescheduled.
async fn attempt(lambda: &Lambda, seq: u64, mut record: EventRecord) {
    let now = model::now_ms();
    let inner = lambda.inner();
    let outcome = if now.saturating_sub(record.enqueued_ms) > MAX_EVENT_AGE_MS {
        tracing::warn!(
            "lambda: dropped event {} for {}: older than its maximum age",
            record.request_id,
            record.function
        );
        Done
    } else {
        match inner
            .catalog
            .get(&record.account, &record.region, &record.function)
        {
            None => {
                tracing::warn!(
                    "lambda: dropped event {} : function {} no longer exists",
                    record.request_id,
                    record.function
                );
                Done
            }
            Some(f) => run_once(lambda, &f, &record).await,
        }
    };
    let result = match outcome {
        Done => {
            inner
                .store
                .write(move |txn| {
                    txn.delete(&key(seq));
                    Ok::<_, LambdaError>(())
                })
                .await
        }
        Failed => {
            if record.retries >= MAX_RETRIES {
                tracing::warn!(
                    "lambda: event {} for {} failed after {} retries; discarded",
                    record.request_id,
                    record.function,
                    record.retries
                );
                inner
                    .store
                    .write(move |txn| {
                        txn.delete(&key(seq));
                        Ok::<_, LambdaError>(())
                    })
                    .await
            } else {
                record.retries += 1;
                record.not_before_ms = model::now_ms() + 60_000 * u64::from(record.retries);
                reschedule(lambda, seq, &record).await
            }
        }
        Throttled => {
            record.throttles += 1;
            let backoff = (1000u64 << record.throttles.min(8)).min(5 * 60_000);
            record.not_before_ms = model::now_ms() + backoff;
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

enum AttemptOutcome {
    Done,
    Failed,
    Throttled,
}
use AttemptOutcome::{Done, Failed, Throttled};

async fn run_once(lambda: &Lambda, f: &FunctionRecord, record: &EventRecord) -> AttemptOutcome {
    let ctx = nimbus_wire::RequestContext::local(&record.region);
    let resolved = crate::ops::invoke::resolve(f, &ctx, record.qualifier.as_deref());
    let Ok((version, invoked_arn)) = resolved else {
        return Done;
    };
    let Some(config) = f.version(&version) else {
        return Done;
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
            InvokeResult::Success(_) => Done,
            InvokeResult::FunctionError(body) => {
                tracing::info!(
                    "lambda: async invocation {} of {} failed: {}",
                    record.request_id,
                    f.name,
                    String::from_utf8_lossy(&body)
                );
                Failed
            }
        },
        Err(LambdaError::TooManyRequests { .. }) => Throttled,
        Err(e) => {
            tracing::warn!(
                "lambda: async invocation {} of {} could not run: {e}",
                record.request_id,
                f.name
            );
            Failed
        }
    }
}
