//! ReceiveMessage: takes visible messages in one durable write (new
//! visibility deadline, receive count, receipt handle), and long polls on
//! the queue's `Notify` when there are none, waking early for a send, for
//! the next message to become visible, or for server shutdown.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::attempts::{self, AttemptedMessage};
use crate::error::{Result, SqsError};
use crate::groups;
use crate::md5::message_attributes_md5;
use crate::messages::{load_message, visibility_timeout_param};
use crate::model::{self, AttributeValue, MessageRecord, QueueRecord};
use crate::queues::to_json;
use crate::receipt::Receipt;
use crate::request::{self, Object};
use crate::{load_queue, redrive, Sqs};

const MAX_WAIT_SECONDS: i64 = 20;
/// The most messages one ReceiveMessage returns.
const MAX_MESSAGES: usize = 10;
/// Group heads read at a time by a FIFO receive.
const HEADS_PER_READ: usize = 64;

/// The system attributes ReceiveMessage can return (the FIFO and
/// dead-letter ones only for messages that have them).
const SYSTEM_ATTRIBUTES: [&str; 8] = [
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SenderId",
    "SentTimestamp",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
    "DeadLetterQueueSourceArn",
];

pub async fn receive_message(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let max = match request::opt_int(req, "MaxNumberOfMessages")? {
        None => 1,
        Some(n) if (1..=10).contains(&n) => n as usize,
        Some(n) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {n} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
            )))
        }
    };
    let visibility = match request::opt_int(req, "VisibilityTimeout")? {
        None => queue.attributes.visibility_timeout,
        Some(v) => visibility_timeout_param(v)?,
    };
    let wait = match request::opt_int(req, "WaitTimeSeconds")? {
        None => queue.attributes.receive_message_wait_time_seconds,
        Some(w) if (0..=MAX_WAIT_SECONDS).contains(&w) => w as u32,
        Some(w) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
            )))
        }
    };
    // Names this server never returns (FIFO-only ones, queue attribute
    // names some code passes here) are ignored rather than refused.
    let mut system: Vec<String> = request::str_list(req, "AttributeNames")?;
    system.extend(request::str_list(req, "MessageSystemAttributeNames")?);
    let user = request::str_list(req, "MessageAttributeNames")?;
    // Only FIFO queues use ReceiveRequestAttemptId; standard ones ignore it.
    let attempt = match request::opt_str(req, "ReceiveRequestAttemptId")? {
        Some(id) if queue.is_fifo() => {
            attempts::check(id)?;
            Some(id.to_owned())
        }
        _ => None,
    };

    let deadline = Instant::now() + Duration::from_secs(u64::from(wait));
    let notify = sqs.notifier(queue.id);
    loop {
        // Registered before looking, so a send between the look and the
        // wait still wakes this receiver.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let stopped = sqs.stop_signal().notified();
        tokio::pin!(stopped);
        stopped.as_mut().enable();
        // Also subscribed before looking: a clock advance can make a
        // message visible (its visibility timeout or delay ran out), and
        // the receiver must then deliver it at once.
        let mut advanced = sqs.clock().subscribe();
        advanced.borrow_and_update();

        let now = sqs.now_ms();
        let next = match peek(sqs, queue.id, now)? {
            Peek::Ready => {
                let taken = take(sqs, &queue, max, visibility, attempt.clone()).await?;
                if taken.at_limit && !queue.is_fifo() && wait == 0 {
                    // AWS: OverLimit on a short poll of a standard queue; a
                    // long poll (or any FIFO receive) gets no messages.
                    return Err(SqsError::too_many_in_flight());
                }
                if let Some(dlq) = taken.dead_letter_queue {
                    sqs.notifier(dlq).notify_waiters();
                }
                if !taken.messages.is_empty() {
                    let messages: Vec<Value> = taken
                        .messages
                        .iter()
                        .map(|(m, handle)| message_json(m, handle, &system, &user))
                        .collect();
                    return Ok(json!({ "Messages": messages }));
                }
                if taken.progressed {
                    // Everything due had outlived its retention or moved to
                    // the dead-letter queue; look again at once, since live
                    // messages may be right behind. Each pass removes what
                    // it scanned, so this ends.
                    continue;
                }
                // FIFO: every visible message is in a group held back by a
                // message in flight. Wait for a delete or visibility change
                // (both notify) or for the first deadline to pass.
                next_after(sqs, queue.id, now)?
            }
            Peek::NextAt(at) => Some(at),
            Peek::Empty => None,
        };
        if Instant::now() >= deadline || sqs.stopping() {
            return Ok(json!({}));
        }
        let mut wake = deadline;
        if let Some(at) = next {
            let until = Duration::from_millis(at.saturating_sub(sqs.now_ms()));
            wake = wake.min(Instant::now() + until);
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = advanced.changed() => {}
            _ = tokio::time::sleep_until(wake) => {}
            _ = &mut stopped => return Ok(json!({})),
        }
        // The queue may be gone (deleted while we waited).
        if sqs
            .load(&queue.region, &queue.account, &queue.name)?
            .is_none_or(|q| q.id != queue.id)
        {
            return Err(SqsError::queue_does_not_exist());
        }
    }
}

enum Peek {
    /// At least one message is visible now.
    Ready,
    /// None is visible; the first becomes visible at this time (ms).
    NextAt(u64),
    Empty,
}

/// A read-only look at the visibility index, so an empty poll costs no write.
fn peek(sqs: &Sqs, queue_id: u64, now: u64) -> Result<Peek> {
    let prefix = model::visibility_prefix(queue_id);
    let end = model::prefix_end(&prefix);
    let mut first = None;
    sqs.store().snapshot()?.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, _| {
            first = model::parse_visibility_key(k).map(|(at, _)| at);
            false
        },
    )?;
    Ok(match first {
        Some(at) if at <= now => Peek::Ready,
        Some(at) => Peek::NextAt(at),
        None => Peek::Empty,
    })
}

/// The first time after `now` at which a message of the queue becomes
/// visible.
fn next_after(sqs: &Sqs, queue_id: u64, now: u64) -> Result<Option<u64>> {
    let lower = model::visibility_key(queue_id, now + 1, 0);
    let end = model::prefix_end(&model::visibility_prefix(queue_id));
    let mut first = None;
    sqs.store().snapshot()?.scan(
        Bound::Included(&lower[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, _| {
            first = model::parse_visibility_key(k).map(|(at, _)| at);
            false
        },
    )?;
    Ok(first)
}

/// What one receive pass did.
struct Taken {
    messages: Vec<(MessageRecord, String)>,
    /// Messages were swept (past retention) or moved to the dead-letter
    /// queue, so another pass may find more.
    progressed: bool,
    /// The dead-letter queue that received messages, to wake its readers.
    dead_letter_queue: Option<u64>,
    /// Nothing was taken: the queue's in-flight messages are at the limit.
    at_limit: bool,
}

impl Taken {
    fn nothing(at_limit: bool) -> Taken {
        Taken {
            messages: Vec::new(),
            progressed: false,
            dead_letter_queue: None,
            at_limit,
        }
    }
}

/// What a receive pass does with one message it looked at.
enum Fate {
    Deliver,
    /// Past the queue's retention period: deleted.
    Expire,
    /// Received `maxReceiveCount` times already: moved to the DLQ.
    DeadLetter,
}

/// Receives up to `max` visible messages in one durable write: each gets a
/// new visibility deadline and receive count. Messages past the queue's
/// retention period are deleted instead, and messages already received
/// `maxReceiveCount` times move to the dead-letter queue, in the same write.
///
/// On a FIFO queue with a ReceiveRequestAttemptId, a live earlier attempt
/// is replayed instead (see [`attempts`]), and a new one is remembered.
async fn take(
    sqs: &Sqs,
    queue: &QueueRecord,
    max: usize,
    visibility: u32,
    attempt: Option<String>,
) -> Result<Taken> {
    let queue_id = queue.id;
    let queue_key = model::queue_key(&queue.account, &queue.region, &queue.name);
    let clock = sqs.clock().clone();
    let limit = sqs.inflight_limit(queue.is_fifo());
    let sqs = sqs.clone();
    sqs.clone()
        .store()
        .write(move |txn| {
            let now = clock.now_ms();
            // The queue as it is now: its redrive policy may have changed.
            let Some(queue) = load_queue(txn, &queue_key)?.filter(|q| q.id == queue_id) else {
                return Err(SqsError::queue_does_not_exist());
            };
            if let Some(id) = &attempt {
                if let Some(messages) = attempts::replay(txn, queue_id, id, visibility, now)? {
                    sqs.inflight().delivered(queue_id, messages.len());
                    return Ok(Taken {
                        messages,
                        ..Taken::nothing(false)
                    });
                }
            }
            let max = sqs.inflight().capacity(txn, queue_id, limit, max, now)?;
            if max == 0 {
                return Ok(Taken::nothing(true));
            }
            let dlq = redrive::dead_letter_queue(txn, &queue)?;
            let dead_letter_after = queue
                .redrive_policy
                .as_ref()
                .filter(|_| dlq.is_some())
                .map(|p| p.max_receive_count);
            let retention_ms = u64::from(queue.attributes.message_retention_period) * 1000;
            let fate = |record: &MessageRecord| {
                if record.sent_ms + retention_ms <= now {
                    Fate::Expire
                } else if dead_letter_after.is_some_and(|n| record.receive_count >= n) {
                    Fate::DeadLetter
                } else {
                    Fate::Deliver
                }
            };
            let due = if queue.is_fifo() {
                due_fifo(txn, queue_id, max, now, &fate)?
            } else {
                due_standard(txn, queue_id, max, &fate, now)?
            };
            let mut taken = Taken::nothing(false);
            let mut attempted = Vec::new();
            for (seq, mut record, fate) in due {
                let key = model::message_key(queue_id, seq);
                txn.delete(&model::visibility_key(queue_id, record.visible_at_ms, seq));
                match (fate, &dlq) {
                    (Fate::Expire, _) => {
                        groups::remove(txn, queue_id, seq, &record)?;
                        txn.delete(&key);
                        taken.progressed = true;
                    }
                    (Fate::DeadLetter, Some(dlq)) => {
                        groups::remove(txn, queue_id, seq, &record)?;
                        redrive::move_to_dead_letter_queue(txn, &queue, dlq, seq, record, now)?;
                        taken.progressed = true;
                        taken.dead_letter_queue = Some(dlq.id);
                    }
                    _ => {
                        record.receive_count += 1;
                        record.first_receive_ms.get_or_insert(now);
                        record.last_receive_ms = Some(now);
                        record.visible_at_ms = now + u64::from(visibility) * 1000;
                        txn.put(&key, &to_json(&record));
                        txn.put(
                            &model::visibility_key(queue_id, record.visible_at_ms, seq),
                            &model::visibility_value(&record),
                        );
                        let handle = Receipt {
                            queue_id,
                            seq,
                            receive_count: record.receive_count,
                        }
                        .encode();
                        attempted.push(AttemptedMessage {
                            seq,
                            receive_count: record.receive_count,
                            handle: handle.clone(),
                        });
                        taken.messages.push((record, handle));
                    }
                }
            }
            if let Some(id) = attempt.filter(|_| !attempted.is_empty()) {
                attempts::remember(txn, queue_id, &id, attempted, now)?;
            }
            sqs.inflight().delivered(queue_id, taken.messages.len());
            Ok(taken)
        })
        .await
}

type Due = Vec<(u64, MessageRecord, Fate)>;

/// Standard queues: the first `max` entries of the visibility index that
/// are due by `now`, in deadline order.
fn due_standard(
    txn: &WriteTxn<'_>,
    queue_id: u64,
    max: usize,
    fate: &dyn Fn(&MessageRecord) -> Fate,
    now: u64,
) -> Result<Due> {
    let prefix = model::visibility_prefix(queue_id);
    let upper = model::visibility_key(queue_id, now, u64::MAX);
    let mut entries = Vec::new();
    txn.scan(
        Bound::Included(&prefix[..]),
        Bound::Included(&upper[..]),
        false,
        &mut |k, _| {
            if let Some(entry) = model::parse_visibility_key(k) {
                entries.push(entry);
            }
            entries.len() < max
        },
    )?;
    let mut due = Vec::with_capacity(entries.len());
    for (at, seq) in entries {
        match load_message(txn, &model::message_key(queue_id, seq))? {
            Some(record) => {
                let f = fate(&record);
                due.push((seq, record, f));
            }
            // An index entry without its message: drop the entry.
            None => due.push((seq, orphan(at), Fate::Expire)),
        }
    }
    Ok(due)
}

/// A stand-in for a missing message, so its stray index entry is removed.
fn orphan(visible_at_ms: u64) -> MessageRecord {
    MessageRecord {
        message_id: String::new(),
        body: String::new(),
        md5_of_body: String::new(),
        attributes: BTreeMap::new(),
        sender_id: String::new(),
        trace_header: None,
        sent_ms: 0,
        receive_count: 0,
        first_receive_ms: None,
        last_receive_ms: None,
        visible_at_ms,
        group_id: None,
        dedup_id: None,
        sequence_number: None,
        dead_letter_source_arn: None,
    }
}

/// FIFO queues: messages in send order, skipping every group that has a
/// message in flight, and each group from its first message not visible
/// now (a delayed one) on: a group is delivered strictly in order, and only
/// while none of it is in flight. Messages of
/// one group that are visible come together, up to `max`.
fn due_fifo(
    txn: &WriteTxn<'_>,
    queue_id: u64,
    max: usize,
    now: u64,
    fate: &dyn Fn(&MessageRecord) -> Fate,
) -> Result<Due> {
    // Groups with a message in flight anywhere in them are held, even if
    // their first message is visible again: found from the visibility
    // index's entries after `now` (the in-flight and delayed ones).
    let mut blocked: HashSet<String> = HashSet::new();
    let later = model::visibility_key(queue_id, now + 1, 0);
    let index_end = model::prefix_end(&model::visibility_prefix(queue_id));
    txn.scan(
        Bound::Included(&later[..]),
        Bound::Excluded(&index_end[..]),
        false,
        &mut |_, v| {
            if model::parse_visibility_value(v).is_some_and(|(_, received)| received) {
                if let Some(group) = model::visibility_group(v) {
                    blocked.insert(String::from_utf8_lossy(group).into_owned());
                }
            }
            true
        },
    )?;
    // Groups in serving order (by their oldest message), each read from
    // its oldest message until one is not visible now.
    let mut due = Vec::new();
    let mut delivered = 0;
    let mut from = 0;
    'heads: loop {
        let heads = groups::heads(txn, queue_id, from, HEADS_PER_READ)?;
        let Some(&(last_head, _)) = heads.last() else {
            break;
        };
        for (_, group) in &heads {
            if blocked.contains(group) {
                continue;
            }
            let mut next = 0;
            'group: loop {
                let seqs = groups::members(txn, queue_id, group, next, MAX_MESSAGES)?;
                let Some(&last_member) = seqs.last() else {
                    break;
                };
                for seq in seqs {
                    let Some(record) = load_message(txn, &model::message_key(queue_id, seq))?
                    else {
                        continue;
                    };
                    if record.visible_at_ms > now {
                        break 'group;
                    }
                    let f = fate(&record);
                    if matches!(f, Fate::Deliver) {
                        delivered += 1;
                    }
                    due.push((seq, record, f));
                    if delivered >= max {
                        break 'heads;
                    }
                }
                next = last_member + 1;
            }
        }
        if heads.len() < HEADS_PER_READ {
            break;
        }
        from = last_head + 1;
    }
    Ok(due)
}

fn wants(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*").is_some_and(|prefix| {
                name.starts_with(prefix) && name[prefix.len()..].starts_with('.')
            })
    })
}

fn message_json(m: &MessageRecord, handle: &str, system: &[String], user: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(m.message_id));
    out.insert("ReceiptHandle".into(), json!(handle));
    out.insert("MD5OfBody".into(), json!(m.md5_of_body));
    out.insert("Body".into(), json!(m.body));
    let mut attrs = Map::new();
    for name in SYSTEM_ATTRIBUTES {
        if !system.iter().any(|n| n == "All" || n == name) {
            continue;
        }
        let value = match name {
            "ApproximateReceiveCount" => m.receive_count.to_string(),
            "ApproximateFirstReceiveTimestamp" => m.first_receive_ms.unwrap_or(0).to_string(),
            "SenderId" => m.sender_id.clone(),
            "SentTimestamp" => m.sent_ms.to_string(),
            "MessageGroupId" => match &m.group_id {
                Some(g) => g.clone(),
                None => continue,
            },
            "MessageDeduplicationId" => match &m.dedup_id {
                Some(d) => d.clone(),
                None => continue,
            },
            "SequenceNumber" => match &m.sequence_number {
                Some(n) => n.clone(),
                None => continue,
            },
            _ => match &m.dead_letter_source_arn {
                Some(arn) => arn.clone(),
                None => continue,
            },
        };
        attrs.insert(name.into(), json!(value));
    }
    if let Some(trace) = &m.trace_header {
        if system.iter().any(|n| n == "All" || n == "AWSTraceHeader") {
            attrs.insert("AWSTraceHeader".into(), json!(trace));
        }
    }
    if !attrs.is_empty() {
        out.insert("Attributes".into(), Value::Object(attrs));
    }
    let selected: BTreeMap<String, AttributeValue> = m
        .attributes
        .iter()
        .filter(|(name, _)| wants(user, name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !selected.is_empty() {
        out.insert(
            "MD5OfMessageAttributes".into(),
            json!(message_attributes_md5(&selected)),
        );
        let rendered: Map<String, Value> = selected
            .iter()
            .map(|(name, v)| {
                let mut a = Map::new();
                a.insert("DataType".into(), json!(v.data_type));
                if let Some(s) = &v.string_value {
                    a.insert("StringValue".into(), json!(s));
                }
                if let Some(b) = &v.binary_value {
                    a.insert("BinaryValue".into(), json!(STANDARD.encode(b)));
                }
                (name.clone(), Value::Object(a))
            })
            .collect();
        out.insert("MessageAttributes".into(), Value::Object(rendered));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_name_selection() {
        let names = vec!["foo.*".to_owned(), "exact".to_owned()];
        assert!(wants(&names, "foo.bar"));
        assert!(!wants(&names, "foobar"));
        assert!(wants(&names, "exact"));
        assert!(!wants(&names, "other"));
        assert!(wants(&["All".to_owned()], "x"));
        assert!(wants(&[".*".to_owned()], "x"));
    }
}
