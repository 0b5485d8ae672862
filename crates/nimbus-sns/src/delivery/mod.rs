//! The delivery worker: works the outbox off.
//!
//! Every outbox entry (`nq` due | message | index, see `model`) is one
//! delivery of one message to one subscription. The worker
//! - takes fresh entries of standard topics straight from Publish (no wait
//!   for a scan) and runs them concurrently;
//! - scans the outbox for entries that are due: everything left by a
//!   previous process, retries whose wait is over, and all FIFO entries;
//! - runs FIFO entries one at a time per lane (subscription and message
//!   group), in outbox-key order, which is publish order: a lane waits out
//!   its head's retries, so a group's messages never overtake each other;
//! - removes an entry, in one write with its message's pending count (and
//!   the message with its last entry), once the endpoint took it, or once it
//!   failed for good and went to the subscription's dead-letter queue (or
//!   was dropped without one, as SNS does).
//!
//! An entry is removed only after its delivery, so a crash in between
//! delivers it again after restart: at least once, as SNS promises (SQS
//! FIFO queues drop the repeat by its deduplication id).

pub mod endpoints;
pub mod http;
pub mod payload;
pub mod retry;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nimbus_store::{ReadView, Store};
use tokio::sync::{Notify, Semaphore};

use crate::arn;
use crate::catalog::decode;
use crate::error::{Result, SnsError};
use crate::model::{self, DeliveryRecord, MessageRecord};
use crate::Sns;
use endpoints::{Delivered, DeliveryError, QueueMessage};

/// Standard-topic deliveries running at once.
const PARALLEL: usize = 256;
/// Outbox entries one scan dispatches at most (the next scan goes on).
const SCAN_LIMIT: usize = 4096;
/// Longest the worker sleeps without looking at the outbox.
const IDLE_RESCAN: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The worker's in-memory state; the outbox itself is in the store.
pub struct Outbox {
    started: AtomicBool,
    /// Entries being delivered (or queued in a lane), by outbox key.
    in_flight: Mutex<HashSet<Vec<u8>>>,
    /// FIFO lanes with work, each its entries in key order.
    lanes: Mutex<HashMap<String, BTreeMap<Vec<u8>, DeliveryRecord>>>,
    /// Messages with deliveries in progress, by sequence.
    messages: Mutex<HashMap<u64, Arc<MessageRecord>>>,
    wake: Notify,
    permits: Arc<Semaphore>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            started: AtomicBool::new(false),
            in_flight: Mutex::default(),
            lanes: Mutex::default(),
            messages: Mutex::default(),
            wake: Notify::new(),
            permits: Arc::new(Semaphore::new(PARALLEL)),
        }
    }
}

impl Outbox {
    /// Takes the deliveries of a message Publish just wrote.
    pub(crate) fn accept(
        &self,
        sns: &Sns,
        seq: u64,
        message: Arc<MessageRecord>,
        deliveries: Vec<(Vec<u8>, DeliveryRecord)>,
    ) {
        if !self.started.load(Ordering::Acquire) {
            return;
        }
        if message.fifo {
            // FIFO entries go through the ordered scan.
            self.wake.notify_one();
            return;
        }
        lock(&self.messages).insert(seq, message);
        for (key, record) in deliveries {
            dispatch(sns, key, record);
        }
    }
}

/// The highest message sequence in the store (0 if none), so sequences are
/// not reused across restarts while their messages are still pending.
pub fn last_message_seq(store: &Store) -> Result<u64> {
    let snapshot = store.snapshot()?;
    let end = model::prefix_end(model::MESSAGE_PREFIX);
    let mut last = 0;
    snapshot.scan(
        Bound::Included(model::MESSAGE_PREFIX),
        Bound::Excluded(end.as_slice()),
        true,
        &mut |key, _| {
            last = key
                .get(2..10)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            false
        },
    )?;
    Ok(last)
}

/// Starts the worker (once).
pub fn start(sns: Sns) {
    if sns.outbox().started.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async move {
        loop {
            let now = sns.now_ms();
            let next = match scan(&sns, now) {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!("sns: cannot read the outbox: {}", e.message);
                    None
                }
            };
            let rescan = now + IDLE_RESCAN.as_millis() as u64;
            let until = next.map_or(rescan, |due| due.min(rescan));
            if until <= now {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = sns.outbox().wake.notified() => {}
                () = sns.clock().sleep_until_ms(until) => {}
            }
        }
    });
}

/// Dispatches the due entries that are not in progress; returns when the
/// next one is due (`Some(now)` if this scan stopped at its limit).
fn scan(sns: &Sns, now: u64) -> Result<Option<u64>> {
    let due_end = model::outbox_key(now.saturating_add(1), 0, 0);
    let mut due = Vec::new();
    let mut more = false;
    // The snapshot is taken under the in-flight lock: a delivery finishing
    // meanwhile either committed before it (its entry is not seen) or is
    // still marked in flight (its entry is skipped), never run twice.
    let snapshot = {
        let in_flight = lock(&sns.outbox().in_flight);
        let snapshot = sns.store().snapshot()?;
        snapshot.scan(
            Bound::Included(model::OUTBOX_PREFIX),
            Bound::Excluded(due_end.as_slice()),
            false,
            &mut |key, value| {
                if !in_flight.contains(key) {
                    due.push((key.to_vec(), value.to_vec()));
                }
                more = due.len() >= SCAN_LIMIT;
                !more
            },
        )?;
        snapshot
    };
    for (key, value) in due {
        match serde_json::from_slice::<DeliveryRecord>(&value) {
            Ok(record) => dispatch(sns, key, record),
            Err(e) => tracing::error!("sns: an outbox entry is unreadable ({e}); it is skipped"),
        }
    }
    if more {
        return Ok(Some(now));
    }
    let end = model::prefix_end(model::OUTBOX_PREFIX);
    let mut next = None;
    snapshot.scan(
        Bound::Included(due_end.as_slice()),
        Bound::Excluded(end.as_slice()),
        false,
        &mut |key, _| {
            next = model::parse_outbox_key(key).map(|(at, _, _)| at);
            false
        },
    )?;
    Ok(next)
}

/// Starts one delivery: in its lane for FIFO topics, else on its own.
fn dispatch(sns: &Sns, key: Vec<u8>, record: DeliveryRecord) {
    if !lock(&sns.outbox().in_flight).insert(key.clone()) {
        return;
    }
    match record.lane.clone() {
        Some(lane) => {
            let mut lanes = lock(&sns.outbox().lanes);
            let running = lanes.contains_key(&lane);
            lanes.entry(lane.clone()).or_default().insert(key, record);
            if !running {
                tokio::spawn(run_lane(sns.clone(), lane));
            }
        }
        None => {
            let sns = sns.clone();
            tokio::spawn(async move {
                let permits = Arc::clone(&sns.outbox().permits);
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                deliver_once(&sns, key, record).await;
            });
        }
    }
}

/// Works one FIFO lane off, entry by entry, until it is empty.
async fn run_lane(sns: Sns, lane: String) {
    loop {
        let next = {
            let mut lanes = lock(&sns.outbox().lanes);
            let Some(entries) = lanes.get_mut(&lane) else {
                return;
            };
            match entries.pop_first() {
                Some(entry) => entry,
                None => {
                    lanes.remove(&lane);
                    return;
                }
            }
        };
        let (key, record) = next;
        deliver_in_order(&sns, key, record).await;
    }
}

/// What follows an attempt.
enum Step {
    Delivered,
    /// Failed for good: to the dead-letter queue, with the reason.
    DeadLetter(String),
    /// Try again after this many milliseconds.
    RetryAfter(u64),
}

/// Counts a failed attempt against the retry policy.
fn next_step(record: &mut DeliveryRecord, outcome: Delivered) -> Step {
    match outcome {
        Ok(()) => Step::Delivered,
        Err(DeliveryError::Client(reason)) => Step::DeadLetter(reason),
        Err(DeliveryError::Server(reason)) => {
            record.attempts += 1;
            match record.retry.delay_before(record.attempts) {
                Some(delay) => Step::RetryAfter(delay),
                None => Step::DeadLetter(reason),
            }
        }
    }
}

/// A FIFO delivery: retried in place (keeping its key, so its place in the
/// lane) until it succeeds or fails for good.
async fn deliver_in_order(sns: &Sns, key: Vec<u8>, mut record: DeliveryRecord) {
    let Some((seq, message)) = message_of(sns, &key).await else {
        return;
    };
    loop {
        if record.not_before_ms > sns.now_ms() {
            sns.clock().sleep_until_ms(record.not_before_ms).await;
        }
        let outcome = attempt(sns, &record, &message).await;
        match next_step(&mut record, outcome) {
            Step::Delivered => break,
            Step::DeadLetter(reason) => {
                dead_letter(sns, &record, &message, &reason).await;
                break;
            }
            Step::RetryAfter(delay) => {
                record.not_before_ms = sns.now_ms() + delay;
                record_retry(sns, &key, key.clone(), &record).await;
            }
        }
    }
    finish(sns, key, seq).await;
}

/// A standard-topic delivery: retried at once while the policy says so,
/// else put back in the outbox with its next due time.
async fn deliver_once(sns: &Sns, key: Vec<u8>, mut record: DeliveryRecord) {
    let Some((seq, message)) = message_of(sns, &key).await else {
        return;
    };
    loop {
        let outcome = attempt(sns, &record, &message).await;
        match next_step(&mut record, outcome) {
            Step::Delivered => break,
            Step::DeadLetter(reason) => {
                dead_letter(sns, &record, &message, &reason).await;
                break;
            }
            Step::RetryAfter(0) => continue,
            Step::RetryAfter(delay) => {
                reschedule(sns, key, record, sns.now_ms() + delay).await;
                return;
            }
        }
    }
    finish(sns, key, seq).await;
}

/// The message an outbox entry delivers, from memory or the store. An entry
/// whose message is gone is dropped (it cannot be delivered).
async fn message_of(sns: &Sns, key: &[u8]) -> Option<(u64, Arc<MessageRecord>)> {
    let (_, seq, _) = model::parse_outbox_key(key)?;
    if let Some(m) = lock(&sns.outbox().messages).get(&seq) {
        return Some((seq, Arc::clone(m)));
    }
    let loaded = sns
        .store()
        .snapshot()
        .map_err(SnsError::from)
        .and_then(|s| decode::<MessageRecord>(s.get(&model::message_key(seq))?));
    match loaded {
        Ok(Some(m)) => {
            let m = Arc::new(m);
            lock(&sns.outbox().messages).insert(seq, Arc::clone(&m));
            Some((seq, m))
        }
        Ok(None) => {
            tracing::error!("sns: an outbox entry's message {seq} is gone; the entry is dropped");
            finish(sns, key.to_vec(), seq).await;
            None
        }
        Err(e) => {
            tracing::error!("sns: cannot read message {seq}: {}", e.message);
            lock(&sns.outbox().in_flight).remove(key);
            None
        }
    }
}

/// One try at delivering `message` to the record's endpoint.
async fn attempt(sns: &Sns, record: &DeliveryRecord, message: &MessageRecord) -> Delivered {
    let links = sns.links();
    match record.protocol.as_str() {
        "sqs" => {
            let endpoints = sns
                .endpoints()
                .ok_or_else(|| DeliveryError::Server("SQS is not attached".into()))?;
            (endpoints.sqs)(queue_message(record, message, &record.endpoint, &links)).await
        }
        "lambda" => {
            let endpoints = sns
                .endpoints()
                .ok_or_else(|| DeliveryError::Server("Lambda is not attached".into()))?;
            let event = payload::lambda_event(message, &record.subscription_arn, &links);
            (endpoints.lambda)(record.endpoint.clone(), event).await
        }
        "http" => sns.http().post(http_post(record, message, &links)).await,
        other => Err(DeliveryError::Client(format!(
            "nimbus does not deliver to {other} endpoints"
        ))),
    }
}

/// What goes to an SQS queue (the subscribed one, or a dead-letter queue):
/// the raw message with its attributes, or the JSON envelope; FIFO queues
/// get the message group and deduplication ids.
fn queue_message(
    record: &DeliveryRecord,
    message: &MessageRecord,
    queue_arn: &str,
    links: &payload::Links,
) -> QueueMessage {
    let raw = record.raw && matches!(record.protocol.as_str(), "sqs" | "http");
    let (body, attributes) = if raw {
        (
            message.message_for(&record.protocol).to_owned(),
            message.attributes.clone(),
        )
    } else {
        (
            payload::envelope(message, "sqs", &record.subscription_arn, links),
            Default::default(),
        )
    };
    let fifo_queue =
        arn::parse_queue(queue_arn).is_some_and(|(_, _, name)| name.ends_with(".fifo"));
    QueueMessage {
        queue_arn: queue_arn.to_owned(),
        body,
        attributes,
        // A FIFO topic's groups reach FIFO queues only; a standard topic
        // passes a group id on as given.
        group_id: if message.fifo && !fifo_queue {
            None
        } else {
            message.group_id.clone()
        },
        dedup_id: if fifo_queue {
            message.dedup_id.clone()
        } else {
            None
        },
    }
}

fn http_post(
    record: &DeliveryRecord,
    message: &MessageRecord,
    links: &payload::Links,
) -> http::Post {
    let mut headers = vec![
        ("x-amz-sns-message-type", "Notification".to_owned()),
        ("x-amz-sns-message-id", message.message_id.clone()),
        ("x-amz-sns-topic-arn", message.topic_arn.clone()),
        (
            "x-amz-sns-subscription-arn",
            record.subscription_arn.clone(),
        ),
    ];
    let body = if record.raw {
        headers.push(("x-amz-sns-rawdelivery", "true".to_owned()));
        message.message_for("http").to_owned()
    } else {
        payload::envelope(message, "http", &record.subscription_arn, links)
    };
    http::Post {
        url: record.endpoint.clone(),
        content_type: "text/plain; charset=UTF-8".into(),
        headers,
        body,
    }
}

/// Sends a message that cannot be delivered to the subscription's
/// dead-letter queue; without one (or if that fails too) it is dropped, as
/// SNS drops it.
async fn dead_letter(sns: &Sns, record: &DeliveryRecord, message: &MessageRecord, reason: &str) {
    let Some(dlq) = &record.dead_letter_arn else {
        tracing::warn!(
            "sns: message {} could not be delivered to {} ({reason}); no dead-letter queue, dropped",
            message.message_id,
            record.subscription_arn
        );
        return;
    };
    let Some(endpoints) = sns.endpoints() else {
        return;
    };
    let outcome = (endpoints.sqs)(queue_message(record, message, dlq, &sns.links())).await;
    match outcome {
        Ok(()) => tracing::info!(
            "sns: message {} could not be delivered to {} ({reason}); sent to {dlq}",
            message.message_id,
            record.subscription_arn
        ),
        Err(e) => tracing::warn!(
            "sns: message {} could not be delivered to {} ({reason}) nor to its dead-letter queue {dlq} ({}); dropped",
            message.message_id,
            record.subscription_arn,
            e.reason()
        ),
    }
}

/// Puts a delivery back in the outbox, due at `due`.
async fn reschedule(sns: &Sns, key: Vec<u8>, record: DeliveryRecord, due: u64) {
    if let Some((_, seq, index)) = model::parse_outbox_key(&key) {
        record_retry(sns, &key, model::outbox_key(due, seq, index), &record).await;
    }
    lock(&sns.outbox().in_flight).remove(&key);
    sns.outbox().wake.notify_one();
}

/// Writes a delivery's attempts so far under `new_key` (the same key for
/// FIFO deliveries, which keep their place in line), so a restart resumes
/// its retry schedule rather than restarting it. Nothing is written if the
/// entry is gone.
async fn record_retry(sns: &Sns, old_key: &[u8], new_key: Vec<u8>, record: &DeliveryRecord) {
    let old = old_key.to_vec();
    let value = model::to_json(record);
    let written = sns
        .store()
        .write(move |txn| {
            if txn.get(&old)?.is_some() {
                if old != new_key {
                    txn.delete(&old);
                }
                txn.put(&new_key, &value);
            }
            Ok::<_, SnsError>(())
        })
        .await;
    if let Err(e) = written {
        tracing::warn!("sns: could not record a retry: {}", e.message);
    }
}

/// Removes a finished delivery, and its message with its last delivery.
async fn finish(sns: &Sns, key: Vec<u8>, seq: u64) {
    let k = key.clone();
    let done = sns
        .store()
        .write(move |txn| {
            if txn.get(&k)?.is_none() {
                return Ok::<_, SnsError>(false);
            }
            txn.delete(&k);
            let pending_key = model::pending_key(seq);
            let pending = model::read_u32(txn.get(&pending_key)?);
            if pending <= 1 {
                txn.delete(&pending_key);
                txn.delete(&model::message_key(seq));
                Ok(true)
            } else {
                txn.put(&pending_key, &(pending - 1).to_be_bytes());
                Ok(false)
            }
        })
        .await;
    match done {
        Ok(true) => {
            lock(&sns.outbox().messages).remove(&seq);
        }
        Ok(false) => {}
        Err(e) => tracing::warn!("sns: could not remove a finished delivery: {}", e.message),
    }
    lock(&sns.outbox().in_flight).remove(&key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::retry::RetryPolicy;
    use crate::message_attrs::MessageAttribute;

    fn record(protocol: &str, raw: bool) -> DeliveryRecord {
        DeliveryRecord {
            subscription_arn: "arn:aws:sns:us-east-1:1:t:s".into(),
            protocol: protocol.into(),
            endpoint: "arn:aws:sqs:us-east-1:1:q.fifo".into(),
            raw,
            dead_letter_arn: None,
            retry: RetryPolicy::Managed,
            attempts: 0,
            not_before_ms: 0,
            lane: None,
        }
    }

    fn message(fifo: bool) -> MessageRecord {
        let mut m = MessageRecord::sample("body");
        m.attributes
            .insert("a".to_owned(), MessageAttribute::string("String", "v"));
        m.group_id = Some("g".into());
        m.dedup_id = Some("d".into());
        m.fifo = fifo;
        m
    }

    fn links() -> payload::Links {
        payload::Links {
            base_url: "http://h".into(),
        }
    }

    #[test]
    fn queue_messages() {
        let raw = queue_message(
            &record("sqs", true),
            &message(true),
            "arn:aws:sqs:us-east-1:1:q.fifo",
            &links(),
        );
        assert_eq!(raw.body, "body");
        assert_eq!(raw.attributes.len(), 1);
        assert_eq!(raw.group_id.as_deref(), Some("g"));
        assert_eq!(raw.dedup_id.as_deref(), Some("d"));
        let standard_queue = queue_message(
            &record("sqs", false),
            &message(true),
            "arn:aws:sqs:us-east-1:1:q",
            &links(),
        );
        assert!(standard_queue
            .body
            .starts_with("{\"Type\":\"Notification\""));
        assert!(standard_queue.attributes.is_empty());
        assert_eq!(standard_queue.group_id, None);
        assert_eq!(standard_queue.dedup_id, None);
        // Lambda's dead-letter queue gets the envelope.
        let dlq = queue_message(
            &record("lambda", true),
            &message(false),
            "arn:aws:sqs:us-east-1:1:dlq",
            &links(),
        );
        assert!(dlq.body.starts_with('{'));
        assert_eq!(dlq.group_id.as_deref(), Some("g"));
    }

    #[test]
    fn http_posts() {
        let mut r = record("http", true);
        r.endpoint = "http://127.0.0.1:9/hook".into();
        let post = http_post(&r, &message(false), &links());
        assert_eq!(post.body, "body");
        assert!(post
            .headers
            .contains(&("x-amz-sns-rawdelivery", "true".to_owned())));
        r.raw = false;
        let post = http_post(&r, &message(false), &links());
        assert!(post.body.contains("\"UnsubscribeURL\""));
    }
}
