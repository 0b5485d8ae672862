//! SendMessage and SendMessageBatch: validation of bodies and message
//! attributes, the MD5 digests the response carries, and one durable store
//! write per request that wakes waiting receivers.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};

use crate::error::{Result, SqsError};
use crate::md5::{md5_hex, message_attributes_md5};
use crate::messages::{check_batch, failed_json};
use crate::model::{self, AttributeValue, MessageRecord, QueueRecord};
use crate::queues::to_json;
use crate::request::{self, Object};
use crate::Sqs;
use crate::{fifo, groups};

/// The largest request SendMessageBatch accepts, all entries together.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
const MAX_DELAY_SECONDS: i64 = 900;
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
    group_id: Option<String>,
    /// FIFO queues: the explicit or content-based deduplication id.
    dedup_id: Option<String>,
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
        Some(d) if queue.is_fifo() && d != 0 => {
            // FIFO queues take only the queue's delay.
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
            )));
        }
        Some(d) if (0..=MAX_DELAY_SECONDS).contains(&d) => d as u32,
        Some(d) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )))
        }
    };
    let (group_id, dedup_id) = parse_fifo_ids(queue, entry, body)?;
    let message = NewMessage {
        body: body.to_owned(),
        attributes: parse_message_attributes(entry)?,
        trace_header: parse_trace_header(entry)?,
        delay_seconds,
        group_id,
        dedup_id,
    };
    let max = queue.attributes.maximum_message_size as usize;
    if message.size() > max {
        return Err(SqsError::invalid_parameter_value(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    Ok(message)
}

/// MessageGroupId and MessageDeduplicationId: both FIFO-only except that a
/// standard queue accepts a group id (fair queues use it); a FIFO message
/// needs a group and a deduplication id, explicit or from its body.
fn parse_fifo_ids(
    queue: &QueueRecord,
    entry: &Object,
    body: &str,
) -> Result<(Option<String>, Option<String>)> {
    let group = request::opt_str(entry, "MessageGroupId")?;
    let dedup = request::opt_str(entry, "MessageDeduplicationId")?;
    if let Some(g) = group {
        fifo::check_id("MessageGroupId", g)?;
    }
    let Some(attrs) = &queue.fifo else {
        if let Some(d) = dedup {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {d} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type."
            )));
        }
        return Ok((group.map(str::to_owned), None));
    };
    let group = group.ok_or_else(|| SqsError::missing_parameter("MessageGroupId"))?;
    let dedup = match dedup {
        Some(d) => {
            fifo::check_id("MessageDeduplicationId", d)?;
            d.to_owned()
        }
        None if attrs.content_based_deduplication => fifo::content_dedup_id(body),
        None => {
            return Err(SqsError::invalid_parameter_value(
                "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ))
        }
    };
    Ok((Some(group.to_owned()), Some(dedup)))
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
    /// FIFO queues: the message's SequenceNumber (the original's, for a
    /// duplicate).
    sequence_number: Option<String>,
}

/// Stores `messages` in one durable write and wakes waiting receivers. On a
/// FIFO queue a message whose deduplication id was seen in the last five
/// minutes is not stored; its send answers with the original's ids.
async fn insert(
    sqs: &Sqs,
    ctx: &RequestContext,
    queue: &QueueRecord,
    messages: Vec<NewMessage>,
) -> Result<Vec<Sent>> {
    let now = sqs.now_ms();
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
            group_id: m.group_id,
            dedup_id: m.dedup_id,
            sequence_number: None,
            dead_letter_source_arn: None,
        };
        sent.push(Sent {
            message_id: record.message_id.clone(),
            md5_of_body: record.md5_of_body.clone(),
            md5_of_attributes: (!record.attributes.is_empty())
                .then(|| message_attributes_md5(&record.attributes)),
            md5_of_system_attributes: record.trace_header.as_deref().map(trace_header_md5),
            sequence_number: None,
        });
        records.push(record);
    }
    let queue_id = queue.id;
    let queue_key = model::queue_key(&queue.account, &queue.region, &queue.name);
    let fifo = queue.fifo.clone();
    let ids = sqs
        .store()
        .write(move |txn| {
            // The queue may have been deleted since it was resolved.
            if crate::load_queue(txn, &queue_key)?.is_none_or(|q| q.id != queue_id) {
                return Err(SqsError::queue_does_not_exist());
            }
            if fifo.is_some() {
                fifo::sweep_expired(txn, queue_id, now)?;
            }
            let mut seq = model::read_u64(txn.get(model::NEXT_SEQUENCE_KEY)?);
            // Per message: (message id, sequence number) as answered.
            let mut ids = Vec::with_capacity(records.len());
            for mut record in records {
                let scope = match (&fifo, &record.group_id, &record.dedup_id) {
                    (Some(attrs), Some(group), Some(dedup)) => {
                        Some(fifo::dedup_scope_key(attrs, group, dedup))
                    }
                    _ => None,
                };
                if let Some(key) = &scope {
                    if let Some(original) = fifo::recent_duplicate(txn, queue_id, key, now)? {
                        ids.push((original.message_id, Some(original.sequence_number)));
                        continue;
                    }
                }
                seq += 1;
                if let Some(key) = &scope {
                    let number = fifo::sequence_number(seq);
                    fifo::remember(txn, queue_id, key, &record.message_id, &number, now)?;
                    record.sequence_number = Some(number);
                }
                txn.put(&model::message_key(queue_id, seq), &to_json(&record));
                txn.put(
                    &model::visibility_key(queue_id, record.visible_at_ms, seq),
                    &model::visibility_value(&record),
                );
                groups::add(txn, queue_id, seq, &record)?;
                ids.push((record.message_id, record.sequence_number));
            }
            txn.put(model::NEXT_SEQUENCE_KEY, &seq.to_be_bytes());
            Ok(ids)
        })
        .await?;
    for (s, (message_id, sequence_number)) in sent.iter_mut().zip(ids) {
        s.message_id = message_id;
        s.sequence_number = sequence_number;
    }
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
    if let Some(number) = &s.sequence_number {
        out.insert("SequenceNumber".into(), json!(number));
    }
    out
}

pub async fn send_message(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let message = parse_message(&queue, req)?;
    let sent = insert(sqs, ctx, &queue, vec![message]).await?;
    Ok(Value::Object(sent_json(&sent[0])))
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
}
