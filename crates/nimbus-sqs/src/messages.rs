//! Message operations: SendMessage(Batch), ReceiveMessage (with long
//! polling), DeleteMessage(Batch), ChangeMessageVisibility(Batch).
//!
//! Every state change (send, receive, delete, visibility change) is one
//! durable store write. Receiving moves a message's visibility deadline;
//! nothing is held in memory, so after a restart messages whose deadline
//! passed are visible again.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::error::{Result, SqsError};
use crate::md5::{md5_hex, message_attributes_md5};
use crate::model::{self, AttributeValue, MessageRecord, QueueRecord};
use crate::queues::to_json;
use crate::receipt::Receipt;
use crate::request::{self, Object};
use crate::Sqs;

/// The largest request SendMessageBatch accepts, all entries together.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
const MAX_DELAY_SECONDS: i64 = 900;
const MAX_VISIBILITY_TIMEOUT: i64 = 43_200;
const MAX_WAIT_SECONDS: i64 = 20;
const MAX_MESSAGE_ATTRIBUTES: usize = 10;

/// The characters SQS accepts in a body or string attribute value.
pub fn valid_chars(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    })
}

/// A validated message, not yet stored.
struct NewMessage {
    body: String,
    attributes: BTreeMap<String, AttributeValue>,
    /// `MessageSystemAttributes.AWSTraceHeader`; not counted in the size.
    trace_header: Option<String>,
    delay_seconds: u32,
}

impl NewMessage {
    /// Body plus every attribute's name, type and value, as AWS counts size.
    fn size(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(name, v)| {
                    name.len()
                        + v.data_type.len()
                        + v.string_value.as_ref().map_or(0, String::len)
                        + v.binary_value.as_ref().map_or(0, Vec::len)
                })
                .sum::<usize>()
    }
}

fn parse_message(queue: &QueueRecord, entry: &Object) -> Result<NewMessage> {
    let body = request::opt_str(entry, "MessageBody")?
        .filter(|b| !b.is_empty())
        .ok_or_else(|| SqsError::missing_parameter("MessageBody"))?;
    if !valid_chars(body) {
        return Err(SqsError::invalid_message_contents());
    }
    let delay_seconds = match request::opt_int(entry, "DelaySeconds")? {
        None => queue.attributes.delay_seconds,
        Some(d) if (0..=MAX_DELAY_SECONDS).contains(&d) => d as u32,
        Some(d) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )))
        }
    };
    let message = NewMessage {
        body: body.to_owned(),
        attributes: parse_message_attributes(entry)?,
        trace_header: parse_trace_header(entry)?,
        delay_seconds,
    };
    let max = queue.attributes.maximum_message_size as usize;
    if message.size() > max {
        return Err(SqsError::invalid_parameter_value(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    Ok(message)
}

fn valid_attribute_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
}

fn parse_message_attributes(entry: &Object) -> Result<BTreeMap<String, AttributeValue>> {
    let mut out = BTreeMap::new();
    let Some(value) = entry.get("MessageAttributes").filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let map = value.as_object().ok_or_else(|| {
        SqsError::invalid_parameter_value("The value for parameter MessageAttributes is not valid.")
    })?;
    if map.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(SqsError::invalid_parameter_value(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            map.len()
        )));
    }
    for (name, v) in map {
        if !valid_attribute_name(name) {
            return Err(SqsError::invalid_parameter_value(format!(
                "Message (user) attribute name '{name}' is invalid."
            )));
        }
        let empty = Map::new();
        let attr = v.as_object().unwrap_or(&empty);
        let data_type = request::opt_str(attr, "DataType")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                SqsError::invalid_parameter_value(format!(
                    "The message attribute '{name}' must contain a non-empty message attribute type."
                ))
            })?;
        let base = data_type.split('.').next().unwrap_or("");
        let non_empty_value = || {
            SqsError::invalid_parameter_value(format!(
                "The message attribute '{name}' must contain a non-empty message attribute value for message attribute type '{base}'."
            ))
        };
        let value = match base {
            "String" | "Number" => {
                let s = request::opt_str(attr, "StringValue")?
                    .filter(|s| !s.is_empty())
                    .ok_or_else(non_empty_value)?;
                if !valid_chars(s) {
                    return Err(SqsError::invalid_message_contents());
                }
                if base == "Number" && s.trim().parse::<f64>().is_err() {
                    return Err(SqsError::invalid_parameter_value(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
                AttributeValue {
                    data_type: data_type.to_owned(),
                    string_value: Some(s.to_owned()),
                    binary_value: None,
                }
            }
            "Binary" => {
                let encoded = request::opt_str(attr, "BinaryValue")?.ok_or_else(non_empty_value)?;
                let bytes = STANDARD.decode(encoded).map_err(|_| {
                    SqsError::invalid_parameter_value(format!(
                        "The message attribute '{name}' has an invalid binary value."
                    ))
                })?;
                if bytes.is_empty() {
                    return Err(non_empty_value());
                }
                AttributeValue {
                    data_type: data_type.to_owned(),
                    string_value: None,
                    binary_value: Some(bytes),
                }
            }
            _ => {
                return Err(SqsError::invalid_parameter_value(format!(
                    "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )))
            }
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// The one message system attribute a sender may set: `AWSTraceHeader`,
/// a non-empty String.
fn parse_trace_header(entry: &Object) -> Result<Option<String>> {
    let Some(value) = entry
        .get("MessageSystemAttributes")
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let empty = Map::new();
    let map = value.as_object().unwrap_or(&empty);
    let mut trace = None;
    for (name, v) in map {
        let attr = v.as_object().unwrap_or(&empty);
        let valid = name == "AWSTraceHeader"
            && request::opt_str(attr, "DataType")? == Some("String")
            && request::opt_str(attr, "StringValue")?.is_some_and(|s| !s.is_empty());
        if !valid {
            return Err(SqsError::invalid_parameter_value(format!(
                "Message system attribute '{name}' is invalid: only AWSTraceHeader, a non-empty String, can be set."
            )));
        }
        trace = request::opt_str(attr, "StringValue")?.map(str::to_owned);
    }
    Ok(trace)
}

/// `MD5OfMessageSystemAttributes`: the message attribute digest of
/// `{AWSTraceHeader: String}`.
fn trace_header_md5(trace: &str) -> String {
    let mut map = BTreeMap::new();
    map.insert(
        "AWSTraceHeader".to_owned(),
        AttributeValue {
            data_type: "String".into(),
            string_value: Some(trace.to_owned()),
            binary_value: None,
        },
    );
    message_attributes_md5(&map)
}

/// What a send answers per message.
struct Sent {
    message_id: String,
    md5_of_body: String,
    md5_of_attributes: Option<String>,
    md5_of_system_attributes: Option<String>,
}

/// Stores `messages` in one durable write and wakes waiting receivers.
async fn insert(
    sqs: &Sqs,
    ctx: &RequestContext,
    queue: &QueueRecord,
    messages: Vec<NewMessage>,
) -> Result<Vec<Sent>> {
    let now = model::now_ms();
    let mut sent = Vec::with_capacity(messages.len());
    let mut records = Vec::with_capacity(messages.len());
    for m in messages {
        let record = MessageRecord {
            message_id: uuid::Uuid::new_v4().to_string(),
            md5_of_body: md5_hex(m.body.as_bytes()),
            body: m.body,
            attributes: m.attributes,
            sender_id: ctx.account_id.clone(),
            trace_header: m.trace_header,
            sent_ms: now,
            receive_count: 0,
            first_receive_ms: None,
            last_receive_ms: None,
            visible_at_ms: now + u64::from(m.delay_seconds) * 1000,
        };
        sent.push(Sent {
            message_id: record.message_id.clone(),
            md5_of_body: record.md5_of_body.clone(),
            md5_of_attributes: (!record.attributes.is_empty())
                .then(|| message_attributes_md5(&record.attributes)),
            md5_of_system_attributes: record.trace_header.as_deref().map(trace_header_md5),
        });
        records.push(record);
    }
    let queue_id = queue.id;
    let queue_key = model::queue_key(&queue.account, &queue.region, &queue.name);
    sqs.store()
        .write(move |txn| {
            // The queue may have been deleted since it was resolved.
            if crate::load_queue(txn, &queue_key)?.is_none_or(|q| q.id != queue_id) {
                return Err(SqsError::queue_does_not_exist());
            }
            let mut seq = model::read_u64(txn.get(model::NEXT_SEQUENCE_KEY)?);
            for record in &records {
                seq += 1;
                txn.put(&model::message_key(queue_id, seq), &to_json(record));
                txn.put(
                    &model::visibility_key(queue_id, record.visible_at_ms, seq),
                    &model::visibility_value(record),
                );
            }
            txn.put(model::NEXT_SEQUENCE_KEY, &seq.to_be_bytes());
            Ok(())
        })
        .await?;
    sqs.notifier(queue_id).notify_waiters();
    Ok(sent)
}

fn sent_json(s: &Sent) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(s.message_id));
    out.insert("MD5OfMessageBody".into(), json!(s.md5_of_body));
    if let Some(md5) = &s.md5_of_attributes {
        out.insert("MD5OfMessageAttributes".into(), json!(md5));
    }
    if let Some(md5) = &s.md5_of_system_attributes {
        out.insert("MD5OfMessageSystemAttributes".into(), json!(md5));
    }
    out
}

pub async fn send_message(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let message = parse_message(&queue, req)?;
    let sent = insert(sqs, ctx, &queue, vec![message]).await?;
    Ok(Value::Object(sent_json(&sent[0])))
}

/// AWS's checks on a batch as a whole: 1 to 10 entries, valid, distinct ids.
fn check_batch(entries: &[&Object], entry_shape: &str) -> Result<()> {
    if entries.is_empty() {
        return Err(SqsError::empty_batch_request(entry_shape));
    }
    if entries.len() > 10 {
        return Err(SqsError::too_many_entries(entries.len()));
    }
    let mut seen = HashSet::new();
    for entry in entries {
        let id = request::req_str(entry, "Id")?;
        let valid = (1..=80).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SqsError::invalid_batch_entry_id());
        }
        if !seen.insert(id) {
            return Err(SqsError::batch_entry_ids_not_distinct(id));
        }
    }
    Ok(())
}

fn failed_json(id: &str, err: &SqsError) -> Value {
    json!({
        "Id": id,
        "SenderFault": err.sender_fault,
        "Code": err.query_code,
        "Message": err.message,
    })
}

pub async fn send_message_batch(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let entries = request::obj_list(req, "Entries")?;
    check_batch(&entries, "SendMessageBatchRequestEntry")?;
    let mut ids = Vec::new();
    let mut messages = Vec::new();
    let mut failed = Vec::new();
    let mut total = 0;
    for entry in &entries {
        let id = request::req_str(entry, "Id")?;
        match parse_message(&queue, entry) {
            Ok(message) => {
                total += message.size();
                ids.push(id);
                messages.push(message);
            }
            Err(err) => failed.push(failed_json(id, &err)),
        }
    }
    if total > MAX_BATCH_BYTES {
        return Err(SqsError::batch_request_too_long(total));
    }
    let sent = if messages.is_empty() {
        Vec::new()
    } else {
        insert(sqs, ctx, &queue, messages).await?
    };
    let successful: Vec<Value> = ids
        .iter()
        .zip(&sent)
        .map(|(id, s)| {
            let mut out = sent_json(s);
            out.insert("Id".into(), json!(id));
            Value::Object(out)
        })
        .collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// The system attributes ReceiveMessage can return.
const SYSTEM_ATTRIBUTES: [&str; 4] = [
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SenderId",
    "SentTimestamp",
];

fn visibility_timeout_param(value: i64) -> Result<u32> {
    if (0..=MAX_VISIBILITY_TIMEOUT).contains(&value) {
        Ok(value as u32)
    } else {
        Err(SqsError::invalid_parameter_value(format!(
            "Value {value} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
        )))
    }
}

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

        let now = model::now_ms();
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
                None
            }
            Peek::NextAt(at) => Some(at),
            Peek::Empty => None,
        };
        if Instant::now() >= deadline || sqs.stopping() {
            return Ok(json!({}));
        }
        let mut wake = deadline;
        if let Some(at) = next {
            let until = Duration::from_millis(at.saturating_sub(model::now_ms()));
            wake = wake.min(Instant::now() + until);
        }
        tokio::select! {
            _ = &mut notified => {}
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
    sqs.store()
        .write(move |txn| {
            let now = model::now_ms();
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

fn load_message(view: &impl ReadView, key: &[u8]) -> Result<Option<MessageRecord>> {
    match view.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SqsError::internal(format!("message record is unreadable: {e}"))),
    }
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

/// The receipt a handle names, if it is one of this queue's.
fn receipt_for(queue: &QueueRecord, handle: &str) -> Result<Receipt> {
    Receipt::decode(handle)
        .filter(|r| r.queue_id == queue.id)
        .ok_or_else(|| SqsError::receipt_handle_is_invalid(handle))
}

/// Deletes the message if `receipt` is from its latest receive; a stale
/// handle (or an already deleted message) succeeds without deleting, as in
/// AWS.
fn delete_in(txn: &mut WriteTxn<'_>, receipt: Receipt) -> Result<()> {
    let key = model::message_key(receipt.queue_id, receipt.seq);
    if let Some(record) = load_message(txn, &key)? {
        if record.receive_count == receipt.receive_count {
            txn.delete(&key);
            txn.delete(&model::visibility_key(
                receipt.queue_id,
                record.visible_at_ms,
                receipt.seq,
            ));
        }
    }
    Ok(())
}

pub async fn delete_message(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let receipt = receipt_for(&queue, request::req_str(req, "ReceiptHandle")?)?;
    sqs.store()
        .write(move |txn| delete_in(txn, receipt))
        .await?;
    Ok(json!({}))
}

pub async fn delete_message_batch(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let entries = request::obj_list(req, "Entries")?;
    check_batch(&entries, "DeleteMessageBatchRequestEntry")?;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for entry in &entries {
        let id = request::req_str(entry, "Id")?.to_owned();
        let parsed = request::req_str(entry, "ReceiptHandle").and_then(|h| receipt_for(&queue, h));
        match parsed {
            Ok(receipt) => ok.push((id, receipt)),
            Err(err) => failed.push(failed_json(&id, &err)),
        }
    }
    let receipts: Vec<Receipt> = ok.iter().map(|(_, r)| *r).collect();
    sqs.store()
        .write(move |txn| {
            for receipt in receipts {
                delete_in(txn, receipt)?;
            }
            Ok::<_, SqsError>(())
        })
        .await?;
    let successful: Vec<Value> = ok.iter().map(|(id, _)| json!({ "Id": id })).collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// Moves the visibility deadline of an in-flight message, in `txn`.
fn change_in(
    txn: &mut WriteTxn<'_>,
    receipt: Receipt,
    handle: &str,
    timeout: u32,
    now: u64,
) -> Result<()> {
    let key = model::message_key(receipt.queue_id, receipt.seq);
    let mut record = load_message(txn, &key)?
        .filter(|r| r.receive_count == receipt.receive_count)
        .ok_or_else(|| SqsError::message_not_available(handle))?;
    if record.visible_at_ms <= now {
        return Err(SqsError::message_not_inflight());
    }
    // At most 12 hours in flight per receive, counted in whole seconds.
    let elapsed = now.saturating_sub(record.last_receive_ms.unwrap_or(now)) / 1000;
    if elapsed + u64::from(timeout) > MAX_VISIBILITY_TIMEOUT as u64 {
        return Err(SqsError::invalid_parameter_value(format!(
            "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
        )));
    }
    txn.delete(&model::visibility_key(
        receipt.queue_id,
        record.visible_at_ms,
        receipt.seq,
    ));
    record.visible_at_ms = now + u64::from(timeout) * 1000;
    txn.put(&key, &to_json(&record));
    txn.put(
        &model::visibility_key(receipt.queue_id, record.visible_at_ms, receipt.seq),
        &model::visibility_value(&record),
    );
    Ok(())
}

fn required_visibility(entry: &Object) -> Result<u32> {
    let v = request::opt_int(entry, "VisibilityTimeout")?
        .ok_or_else(|| SqsError::missing_parameter("VisibilityTimeout"))?;
    visibility_timeout_param(v)
}

pub async fn change_message_visibility(
    sqs: &Sqs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let handle = request::req_str(req, "ReceiptHandle")?.to_owned();
    let receipt = receipt_for(&queue, &handle)?;
    let timeout = required_visibility(req)?;
    let now = model::now_ms();
    sqs.store()
        .write(move |txn| change_in(txn, receipt, &handle, timeout, now))
        .await?;
    sqs.notifier(queue.id).notify_waiters();
    Ok(json!({}))
}

pub async fn change_message_visibility_batch(
    sqs: &Sqs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let entries = request::obj_list(req, "Entries")?;
    check_batch(&entries, "ChangeMessageVisibilityBatchRequestEntry")?;
    let mut planned = Vec::new();
    let mut failed = Vec::new();
    for entry in &entries {
        let id = request::req_str(entry, "Id")?.to_owned();
        let parsed = request::req_str(entry, "ReceiptHandle").and_then(|h| {
            let receipt = receipt_for(&queue, h)?;
            let timeout = required_visibility(entry)?;
            Ok((h.to_owned(), receipt, timeout))
        });
        match parsed {
            Ok((handle, receipt, timeout)) => planned.push((id, handle, receipt, timeout)),
            Err(err) => failed.push(failed_json(&id, &err)),
        }
    }
    let now = model::now_ms();
    // Each entry succeeds or fails on its own; one write holds them all.
    let outcomes = sqs
        .store()
        .write(move |txn| {
            let mut outcomes = Vec::new();
            for (id, handle, receipt, timeout) in planned {
                let result = change_in(txn, receipt, &handle, timeout, now);
                outcomes.push((id, result));
            }
            Ok::<_, SqsError>(outcomes)
        })
        .await?;
    let mut successful = Vec::new();
    for (id, result) in outcomes {
        match result {
            Ok(()) => successful.push(json!({ "Id": id })),
            Err(err) => failed.push(failed_json(&id, &err)),
        }
    }
    sqs.notifier(queue.id).notify_waiters();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_characters() {
        assert!(valid_chars("hello\tworld\n\r ✓ 😀"));
        assert!(!valid_chars("bell\u{7}"));
        assert!(!valid_chars("\u{FFFE}"));
        assert!(!valid_chars("nul\u{0}"));
    }

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
