//! The DynamoDB Streams poller of one event source mapping: reads the
//! stream after the mapping's checkpoint, gathers batches (BatchSize,
//! MaximumBatchingWindowInSeconds), invokes the function with AWS's
//! DynamoDB event, and moves the checkpoint only past what succeeded.
//!
//! Failure handling is AWS's: a failed batch is retried (in order: nothing
//! after it is processed meanwhile) until MaximumRetryAttempts or
//! MaximumRecordAgeInSeconds runs out; BisectBatchOnFunctionError halves a
//! failing batch to isolate the bad record; with ReportBatchItemFailures the
//! checkpoint moves to just before the first failed record. A batch given
//! up on is described to the OnFailure destination (an SQS queue) and
//! skipped.
//!
//! Invariant: the checkpoint (the sequence number of the last record done
//! with) is written durably after each batch and before the next is read,
//! so after a crash the mapping resumes after the last record it finished,
//! never skipping one (a batch in flight at the crash runs again).
//!
//! ParallelizationFactor N splits each batch by partition key into up to N
//! groups processed concurrently, so records of one key stay in order (as
//! AWS keeps them within a shard); the checkpoint moves only when every
//! group is done.
//!
//! With TumblingWindowInSeconds, batches are cut at window bounds and run
//! one at a time (the window's state passes from one to the next); see
//! `window.rs`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nimbus_store::ReadView;
use serde_json::{json, Value};

use super::window::{self, Final, OpenWindow};
use super::{checkpoint_key, window_key, Mapping};
use crate::error::LambdaError;
use crate::exec::{InvokeResult, Target};
use crate::queues::{QueueError, StreamPage};
use crate::Lambda;

/// How long a poller waits after a problem before trying again.
const PROBLEM_BACKOFF: Duration = Duration::from_secs(5);
/// Pause between retries of a failing batch.
const RETRY_DELAY: Duration = Duration::from_millis(500);
/// How long DynamoDB keeps stream records (the default record age limit).
const STREAM_RETENTION_SECS: i64 = 24 * 3600;
/// The shard events and failure records name when the batch's own cannot
/// be found (an empty final window invocation, a stream gone meanwhile).
const UNKNOWN_SHARD_ID: &str = "shardId-00000000000000000001";
/// How long after a tumbling window's end its final invocation waits for
/// records stamped just before the end but committed just after it.
const WINDOW_GRACE_MS: u64 = 250;

pub(crate) async fn run(lambda: Lambda, mapping: Arc<Mapping>) {
    let filter = mapping
        .filter_criteria
        .as_ref()
        .and_then(|f| crate::ops::event_source_mappings::filter_patterns(f).ok())
        .and_then(|p| nimbus_patterns::FilterCriteria::parse(&p).ok())
        .filter(|f| !f.is_empty());
    let mut checkpoint = load_checkpoint(&lambda, &mapping.uuid);
    let mut window = load_window(&lambda, &mapping.uuid);
    loop {
        let Some(streams) = lambda.inner().streams.get().cloned() else {
            problem(
                &lambda,
                &mapping,
                "PROBLEM: nimbus has no DynamoDB Streams service attached".into(),
            );
            tokio::time::sleep(PROBLEM_BACKOFF).await;
            continue;
        };
        if let Some(open) = &window {
            if window_over(&lambda, &mapping, &streams, checkpoint.as_deref(), open) {
                if close_window(&lambda, &mapping, open, Final::Closed)
                    .await
                    .is_err()
                {
                    continue;
                }
                window = None;
            }
        }
        let window_end_ms = window.as_ref().map(|w| w.end * 1000 + WINDOW_GRACE_MS);
        let batch = match gather(
            &lambda,
            &mapping,
            &streams,
            checkpoint.as_deref(),
            window_end_ms,
        )
        .await
        {
            Ok(Some(batch)) => batch,
            Ok(None) => continue,
            Err(p) => {
                problem(&lambda, &mapping, p);
                tokio::time::sleep(PROBLEM_BACKOFF).await;
                continue;
            }
        };
        let Some(mut last) = batch.last_sequence.clone() else {
            continue;
        };
        let mut raw = batch.records;
        if mapping.tumbling_window > 0 {
            let now = lambda.inner().clock.now_secs();
            let first = raw.first().and_then(window::record_time).unwrap_or(now);
            if let Some(open) = window.take_if(|open| !open.contains(first)) {
                // The batch starts in a later window: the open one is over.
                if close_window(&lambda, &mapping, &open, Final::Closed)
                    .await
                    .is_err()
                {
                    window = Some(open);
                    continue;
                }
            }
            let open =
                window.get_or_insert_with(|| OpenWindow::holding(first, mapping.tumbling_window));
            // A batch never spans two windows.
            if let Some(cut) = raw
                .iter()
                .position(|r| window::record_time(r).is_some_and(|t| !open.contains(t)))
            {
                raw.truncate(cut);
                if let Some(seq) = raw
                    .last()
                    .and_then(|r| r["dynamodb"]["SequenceNumber"].as_str())
                {
                    last = seq.to_owned();
                }
            }
        }
        let records: Vec<Value> = raw
            .iter()
            .map(|r| event_record(&mapping, r))
            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect();
        if !records.is_empty() {
            match window.as_mut() {
                Some(open) => process(&lambda, &mapping, records, Some(open)).await,
                None => {
                    let groups = partition(records, mapping.parallelization_factor);
                    futures_util::future::join_all(
                        groups
                            .into_iter()
                            .map(|g| process(&lambda, &mapping, g, None)),
                    )
                    .await;
                }
            }
        }
        if save_checkpoint(&lambda, &mapping.uuid, &last, window.as_ref())
            .await
            .is_err()
        {
            tokio::time::sleep(PROBLEM_BACKOFF).await;
            continue;
        }
        checkpoint = Some(last);
    }
}

/// Whether the open window's time is over and no record of it is left to
/// process.
fn window_over(
    lambda: &Lambda,
    m: &Mapping,
    streams: &crate::queues::Streams,
    after: Option<&str>,
    open: &OpenWindow,
) -> bool {
    if lambda.inner().clock.now_ms() < open.end * 1000 + WINDOW_GRACE_MS {
        return false;
    }
    match read(streams, m, after, 1) {
        Ok(page) => page
            .records
            .first()
            .and_then(window::record_time)
            .is_none_or(|t| !open.contains(t)),
        // An unreadable stream: let `gather` report the problem.
        Err(_) => false,
    }
}

/// Hands the window's final state to the function: AWS suspends the
/// mapping until this invocation succeeds. On success the window is
/// dropped from the store (the checkpoint stays where it is).
async fn close_window(
    lambda: &Lambda,
    m: &Mapping,
    open: &OpenWindow,
    why: Final,
) -> Result<(), ()> {
    let mut delay = RETRY_DELAY;
    loop {
        match invoke(lambda, m, &[], Some((open, why))).await {
            Outcome::Done(_) | Outcome::PartlyDone(..) => break,
            Outcome::Failed(reason) => {
                problem(
                    lambda,
                    m,
                    format!("{reason} (final invocation of a window)"),
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(PROBLEM_BACKOFF);
            }
        }
    }
    set_result(lambda, m, "OK", 0);
    if why == Final::Closed {
        let key = window_key(&m.uuid);
        let cleared = lambda
            .inner()
            .store
            .write(move |txn| {
                txn.delete(&key);
                Ok::<_, LambdaError>(())
            })
            .await;
        if cleared.is_err() {
            tokio::time::sleep(PROBLEM_BACKOFF).await;
            return Err(());
        }
    }
    Ok(())
}

/// Splits a batch into up to `factor` groups by a hash of each record's
/// keys, keeping stream order within a group.
fn partition(records: Vec<Value>, factor: u32) -> Vec<Vec<Value>> {
    use std::hash::{Hash, Hasher};
    let n = factor.max(1) as usize;
    if n == 1 {
        return vec![records];
    }
    let mut groups: Vec<Vec<Value>> = vec![Vec::new(); n];
    for r in records {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        r["dynamodb"]["Keys"].to_string().hash(&mut h);
        groups[(h.finish() % n as u64) as usize].push(r);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// The next batch after `after`: waits for the first record, then up to
/// the batching window for more.
async fn gather(
    lambda: &Lambda,
    m: &Mapping,
    streams: &crate::queues::Streams,
    after: Option<&str>,
    wake_at_ms: Option<u64>,
) -> Result<Option<StreamPage>, String> {
    let limit = m.batch_size as usize;
    let mut page = read(streams, m, after, limit)?;
    if page.records.is_empty() {
        if page.exhausted {
            problem(
                lambda,
                m,
                "PROBLEM: the stream is disabled and every record has been processed".into(),
            );
            tokio::time::sleep(PROBLEM_BACKOFF * 6).await;
            return Ok(None);
        }
        let wait = (streams.wait)(
            m.event_source_arn.clone(),
            after.map(str::to_owned),
            Duration::from_secs(20),
        );
        match wake_at_ms {
            // An open tumbling window: wake at its end (on the server's
            // clock, so an advance ends it) to make its final invocation.
            Some(at) => {
                tokio::select! {
                    _ = wait => {}
                    () = lambda.inner().clock.sleep_until_ms(at) => {}
                }
            }
            None => {
                wait.await;
            }
        }
        return Ok(None);
    }
    let window = Duration::from_secs(u64::from(m.maximum_batching_window));
    let deadline = tokio::time::Instant::now() + window;
    while page.records.len() < limit {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        (streams.wait)(m.event_source_arn.clone(), page.last_sequence.clone(), left).await;
        let more = read(
            streams,
            m,
            page.last_sequence.as_deref(),
            limit - page.records.len(),
        )?;
        if more.records.is_empty() && tokio::time::Instant::now() >= deadline {
            break;
        }
        page.records.extend(more.records);
        if more.last_sequence.is_some() {
            page.last_sequence = more.last_sequence;
        }
    }
    Ok(Some(page))
}

fn read(
    streams: &crate::queues::Streams,
    m: &Mapping,
    after: Option<&str>,
    limit: usize,
) -> Result<StreamPage, String> {
    (streams.read)(&m.event_source_arn, after, limit).map_err(|e| match e {
        QueueError::NotFound => format!("PROBLEM: Stream not found: {}", m.event_source_arn),
        QueueError::Other(e) => format!("PROBLEM: {e}"),
    })
}

/// Runs one batch to completion: success, or retries (with bisection) until
/// it is given up on and reported to the OnFailure destination. With a
/// tumbling window, each successful invocation's state is the next one's.
async fn process(
    lambda: &Lambda,
    m: &Mapping,
    records: Vec<Value>,
    mut window: Option<&mut OpenWindow>,
) {
    // Sub-batches still to do, in stream order, with the attempts each has
    // had (a bisected or partly done batch keeps its count).
    let mut pending: Vec<(Vec<Value>, i64)> = vec![(records, 0)];
    while !pending.is_empty() {
        let (batch, tried) = pending[0].clone();
        let attempts = tried + 1;
        let framing = window.as_deref().map(|w| (w, Final::No));
        match invoke(lambda, m, &batch, framing).await {
            Outcome::Done(state) => {
                set_result(lambda, m, "OK", batch.len());
                pending.remove(0);
                carry_state(lambda, m, window.as_deref_mut(), state).await;
                continue;
            }
            Outcome::PartlyDone(first_failed, state) => {
                set_result(
                    lambda,
                    m,
                    "PROBLEM: Function reported batch item failures",
                    batch.len(),
                );
                carry_state(lambda, m, window.as_deref_mut(), state).await;
                // Records before the first reported failure are done.
                pending[0] = (batch[first_failed..].to_vec(), attempts);
            }
            Outcome::Failed(reason) => {
                set_result(lambda, m, &reason, batch.len());
                if m.bisect_on_error && batch.len() > 1 {
                    let (a, b) = batch.split_at(batch.len() / 2);
                    pending.splice(0..1, [(a.to_vec(), attempts), (b.to_vec(), attempts)]);
                    tokio::time::sleep(RETRY_DELAY).await;
                    continue;
                }
                pending[0].1 = attempts;
            }
        }
        let (head, attempts) = pending[0].clone();
        if give_up(lambda, m, attempts, &head) {
            let condition = if expired(lambda, m, &head) {
                "RecordAgeExceeded"
            } else {
                "RetryAttemptsExhausted"
            };
            report_failure(lambda, m, &head, attempts, condition).await;
            pending.remove(0);
        } else {
            tokio::time::sleep(RETRY_DELAY).await;
        }
    }
}

/// Keeps the state a windowed invocation returned; one over 1 MB ends the
/// window early (a final invocation with it), and the window goes on with
/// a fresh state.
async fn carry_state(
    lambda: &Lambda,
    m: &Mapping,
    window: Option<&mut OpenWindow>,
    state: Option<Value>,
) {
    let (Some(open), Some(state)) = (window, state) else {
        return;
    };
    open.state = state;
    if window::too_large(&open.state) {
        // Never fails: it retries until the function takes it.
        let _ = close_window(lambda, m, open, Final::Early).await;
        open.state = Value::Object(serde_json::Map::new());
    }
}

enum Outcome {
    /// With a tumbling window, the state the function returned.
    Done(Option<Value>),
    /// ReportBatchItemFailures: the index of the first failed record.
    PartlyDone(usize, Option<Value>),
    Failed(String),
}

/// Invokes the function with `batch`; `window` frames the event for a
/// tumbling window (and says whether this is its final invocation).
async fn invoke(
    lambda: &Lambda,
    m: &Mapping,
    batch: &[Value],
    window: Option<(&OpenWindow, Final)>,
) -> Outcome {
    let Some(f) = lambda
        .inner()
        .catalog
        .get(&m.account, &m.region, &m.function_name)
    else {
        return Outcome::Failed(format!(
            "PROBLEM: Function {} does not exist",
            m.function_arn()
        ));
    };
    let ctx = nimbus_wire::RequestContext::local(&m.region);
    let Ok((version, invoked_arn)) = crate::ops::invoke::resolve(&f, &ctx, m.qualifier.as_deref())
    else {
        return Outcome::Failed(format!(
            "PROBLEM: Function {} does not exist",
            m.function_arn()
        ));
    };
    let Some(config) = f.version(&version) else {
        return Outcome::Failed("PROBLEM: Function version does not exist".into());
    };
    let target = Target {
        function: &f,
        config,
        invoked_arn,
    };
    let mut event = json!({ "Records": batch });
    if let Some((open, last)) = window {
        let shard = shard_id(lambda, m, batch);
        open.decorate(&mut event, &m.event_source_arn, &shard, last);
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match lambda
        .inner()
        .exec
        .run(&target, Bytes::from(event.to_string()), None, &request_id)
        .await
    {
        Ok(execution) => match execution.result {
            InvokeResult::Success(body) => body,
            InvokeResult::FunctionError(_) => {
                return Outcome::Failed("PROBLEM: Function call failed".into())
            }
        },
        Err(LambdaError::TooManyRequests { .. }) => {
            return Outcome::Failed("PROBLEM: Function call throttled".into())
        }
        Err(e) => return Outcome::Failed(format!("PROBLEM: {e}")),
    };
    let state = match window {
        Some((_, Final::No)) => match window::returned_state(&body) {
            Some(state) => Some(state),
            None => {
                return Outcome::Failed(
                    "PROBLEM: Function response has no state for its tumbling window".into(),
                )
            }
        },
        // A final invocation's answer is not read.
        Some(_) => return Outcome::Done(None),
        None => None,
    };
    if m.report_batch_item_failures {
        return match first_failure(&body, batch) {
            Failures::None => {
                record_age(lambda, m, batch);
                Outcome::Done(state)
            }
            Failures::From(i) => Outcome::PartlyDone(i, state),
            Failures::Invalid => Outcome::Failed(
                "PROBLEM: Function returned an invalid batchItemFailures response".into(),
            ),
        };
    }
    record_age(lambda, m, batch);
    Outcome::Done(state)
}

/// What a ReportBatchItemFailures response says.
enum Failures {
    None,
    /// The index of the lowest-positioned failed record.
    From(usize),
    Invalid,
}

/// Checkpoint semantics of ReportBatchItemFailures for streams: the
/// lowest-positioned failed record is where processing resumes; a malformed
/// response fails the whole batch.
fn first_failure(body: &[u8], batch: &[Value]) -> Failures {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Failures::None;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Failures::Invalid;
    };
    let Some(list) = value.get("batchItemFailures").filter(|l| !l.is_null()) else {
        return Failures::None;
    };
    let Some(list) = list.as_array() else {
        return Failures::Invalid;
    };
    let mut first: Option<usize> = None;
    for item in list {
        let Some(id) = item.get("itemIdentifier").and_then(Value::as_str) else {
            return Failures::Invalid;
        };
        let Some(i) = batch
            .iter()
            .position(|r| r["dynamodb"]["SequenceNumber"] == id)
        else {
            return Failures::Invalid;
        };
        first = Some(first.map_or(i, |f| f.min(i)));
    }
    match first {
        None => Failures::None,
        Some(i) => Failures::From(i),
    }
}

/// Records the iterator age: how old the batch's newest record is now.
fn record_age(lambda: &Lambda, m: &Mapping, batch: &[Value]) {
    let created = batch
        .last()
        .and_then(|r| r["dynamodb"]["ApproximateCreationDateTime"].as_f64());
    if let Some(created) = created {
        let now = lambda.inner().clock.now_ms() as f64;
        let age = (now - created * 1000.0).max(0.0) as u64;
        lambda
            .inner()
            .pollers
            .update(&m.uuid, |s| s.iterator_age_ms = Some(age));
    }
}

fn give_up(lambda: &Lambda, m: &Mapping, attempts: i64, batch: &[Value]) -> bool {
    (m.maximum_retry_attempts >= 0 && attempts > m.maximum_retry_attempts)
        || expired(lambda, m, batch)
}

/// Whether the oldest record of the batch is older than MaximumRecordAge.
fn expired(lambda: &Lambda, m: &Mapping, batch: &[Value]) -> bool {
    // -1 means "until the record leaves the stream": its 24-hour retention.
    let max_age = if m.maximum_record_age < 0 {
        STREAM_RETENTION_SECS
    } else {
        m.maximum_record_age
    };
    let now = lambda.inner().clock.now_ms() as f64 / 1000.0;
    batch
        .first()
        .and_then(|r| r["dynamodb"]["ApproximateCreationDateTime"].as_f64())
        .is_some_and(|created| now - created > max_age as f64)
}

/// The id of the shard holding the batch's first record (a batch read as
/// one sequence may span a shard rollover; AWS batches never do, and name
/// their shard).
fn shard_id(lambda: &Lambda, m: &Mapping, batch: &[Value]) -> String {
    let first = batch
        .first()
        .and_then(|r| r["dynamodb"]["SequenceNumber"].as_str());
    lambda
        .inner()
        .streams
        .get()
        .zip(first)
        .and_then(|(streams, seq)| (streams.shard_of)(&m.event_source_arn, seq))
        .unwrap_or_else(|| UNKNOWN_SHARD_ID.to_owned())
}

/// Sends AWS's failure record for a skipped batch to the OnFailure queue.
async fn report_failure(
    lambda: &Lambda,
    m: &Mapping,
    batch: &[Value],
    attempts: i64,
    condition: &str,
) {
    tracing::warn!(
        "lambda: event source mapping {}: skipped {} stream record(s) ({condition})",
        m.uuid,
        batch.len()
    );
    let Some(destination) = &m.on_failure else {
        return;
    };
    let seq = |r: Option<&Value>| {
        r.map(|r| r["dynamodb"]["SequenceNumber"].clone())
            .unwrap_or(Value::Null)
    };
    let arrival = |r: Option<&Value>| {
        r.and_then(|r| r["dynamodb"]["ApproximateCreationDateTime"].as_f64())
            .map(|t| crate::model::log_timestamp((t * 1000.0) as u64))
    };
    let body = json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": m.function_arn(),
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": m.qualifier.clone().unwrap_or_else(|| crate::names::LATEST.into()),
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": crate::model::log_timestamp(crate::model::now_ms()),
        "DDBStreamBatchInfo": {
            "shardId": shard_id(lambda, m, batch),
            "startSequenceNumber": seq(batch.first()),
            "endSequenceNumber": seq(batch.last()),
            "approximateArrivalOfFirstRecord": arrival(batch.first()),
            "approximateArrivalOfLastRecord": arrival(batch.last()),
            "batchSize": batch.len(),
            "streamArn": m.event_source_arn,
        },
    });
    if let Err(e) =
        crate::destinations::deliver(lambda, destination, body.to_string(), Vec::new()).await
    {
        tracing::warn!("lambda: could not deliver to destination {destination}: {e}");
    }
}

/// A stream record as Lambda's DynamoDB event carries it.
fn event_record(m: &Mapping, record: &Value) -> Value {
    let mut r = record.clone();
    r["eventSourceARN"] = m.event_source_arn.clone().into();
    if let Some(identity) = record.get("userIdentity") {
        r["userIdentity"] = json!({
            "type": identity.get("Type").cloned().unwrap_or(Value::Null),
            "principalId": identity.get("PrincipalId").cloned().unwrap_or(Value::Null),
        });
    }
    r
}

fn load_checkpoint(lambda: &Lambda, uuid: &str) -> Option<String> {
    let snapshot = lambda.inner().store.snapshot().ok()?;
    let bytes = snapshot.get(&checkpoint_key(uuid)).ok()??;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

/// The tumbling window the mapping was filling when it stopped, if any.
fn load_window(lambda: &Lambda, uuid: &str) -> Option<OpenWindow> {
    let snapshot = lambda.inner().store.snapshot().ok()?;
    let bytes = snapshot.get(&window_key(uuid)).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Stores the checkpoint and, in the same write, the open tumbling window
/// whose state counts the records up to it.
pub(crate) async fn save_checkpoint(
    lambda: &Lambda,
    uuid: &str,
    sequence: &str,
    window: Option<&OpenWindow>,
) -> Result<(), LambdaError> {
    let key = checkpoint_key(uuid);
    let value = sequence.as_bytes().to_vec();
    let window = window
        .map(|w| serde_json::to_vec(w).map(|v| (window_key(uuid), v)))
        .transpose()
        .map_err(|e| LambdaError::Service(e.to_string()))?;
    lambda
        .inner()
        .store
        .write(move |txn| {
            txn.put(&key, &value);
            if let Some((key, value)) = &window {
                txn.put(key, value);
            }
            Ok::<_, LambdaError>(())
        })
        .await
}

fn problem(lambda: &Lambda, m: &Mapping, problem: String) {
    tracing::warn!("lambda: event source mapping {}: {problem}", m.uuid);
    lambda.inner().pollers.update(&m.uuid, |s| {
        s.last_processing_result = Some(problem.clone());
        s.problem = Some(problem);
    });
}

fn set_result(lambda: &Lambda, m: &Mapping, result: &str, records: usize) {
    lambda.inner().pollers.update(&m.uuid, |s| {
        s.last_processing_result = Some(result.to_owned());
        s.problem = None;
        s.batches += 1;
        s.records += records as u64;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_keep_each_key_in_order() {
        let rec = |k: &str, n: u32| json!({"dynamodb": {"Keys": {"pk": {"S": k}}, "SequenceNumber": n.to_string()}});
        let records: Vec<Value> = (0..40).map(|i| rec(&format!("k{}", i % 7), i)).collect();
        let groups = partition(records.clone(), 4);
        assert!(groups.len() > 1 && groups.len() <= 4);
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 40);
        for g in &groups {
            let seqs: Vec<u32> = g
                .iter()
                .map(|r| {
                    r["dynamodb"]["SequenceNumber"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]));
            // A key lives in one group only.
            for r in g {
                let k = &r["dynamodb"]["Keys"];
                assert!(
                    groups
                        .iter()
                        .filter(|o| o.iter().any(|x| &x["dynamodb"]["Keys"] == k))
                        .count()
                        == 1
                );
            }
        }
        assert_eq!(partition(records, 1).len(), 1);
    }
}
