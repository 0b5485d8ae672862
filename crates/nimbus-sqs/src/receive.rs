//! ReceiveMessage: takes visible messages in one durable write (new
//! visibility deadline, receive count, receipt handle), and long polls on
//! the queue's `Notify` when there are none, waking early for a send, for
//! the next message to become visible, or for server shutdown.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::error::{Result, SqsError};
use crate::md5::message_attributes_md5;
use crate::messages::{load_message, visibility_timeout_param};
use crate::model::{self, AttributeValue, MessageRecord, QueueRecord};
use crate::queues::to_json;
use crate::receipt::Receipt;
use crate::request::{self, Object};
use crate::Sqs;

const MAX_WAIT_SECONDS: i64 = 20;

/// The system attributes ReceiveMessage can return.
const SYSTEM_ATTRIBUTES: [&str; 4] = [
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SenderId",
    "SentTimestamp",
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
                let received = take(sqs, &queue, max, visibility).await?;
                if !received.is_empty() {
                    let messages: Vec<Value> = received
                        .iter()
                        .map(|(m, handle)| message_json(m, handle, &system, &user))
                        .collect();
                    return Ok(json!({ "Messages": messages }));
                }
                // Everything due had outlived its retention and was swept;
                // look again at once, since live messages may be right
                // behind. Each sweep deletes what it scanned, so this ends.
                continue;
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

/// Receives up to `max` visible messages in one durable write: each gets a
/// new visibility deadline and receive count. Messages past the queue's
/// retention period are deleted instead.
async fn take(
    sqs: &Sqs,
    queue: &QueueRecord,
    max: usize,
    visibility: u32,
) -> Result<Vec<(MessageRecord, String)>> {
    let queue_id = queue.id;
    let retention_ms = u64::from(queue.attributes.message_retention_period) * 1000;
    let clock = sqs.clock().clone();
    sqs.store()
        .write(move |txn| {
            let now = clock.now_ms();
            let prefix = model::visibility_prefix(queue_id);
            let upper = model::visibility_key(queue_id, now, u64::MAX);
            let mut due = Vec::new();
            txn.scan(
                Bound::Included(&prefix[..]),
                Bound::Included(&upper[..]),
                false,
                &mut |k, _| {
                    if let Some(entry) = model::parse_visibility_key(k) {
                        due.push(entry);
                    }
                    due.len() < max
                },
            )?;
            let mut out = Vec::new();
            for (at, seq) in due {
                txn.delete(&model::visibility_key(queue_id, at, seq));
                let key = model::message_key(queue_id, seq);
                let Some(mut record) = load_message(txn, &key)? else {
                    continue;
                };
                if record.sent_ms + retention_ms <= now {
                    txn.delete(&key);
                    continue;
                }
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
                out.push((record, handle));
            }
            Ok(out)
        })
        .await
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
            _ => m.sent_ms.to_string(),
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
