//! Publish and PublishBatch, and [`Sns::publish`], the same operation for
//! other services in process (Lambda destinations and event source mapping
//! failure destinations name SNS topics).
//!
//! A publish is acknowledged only after one store write holds the message,
//! its pending-delivery count and one outbox entry per subscription it
//! matched (confirmed, and its filter policy admitting the message), and,
//! for FIFO topics, its deduplication id and sequence number. The delivery
//! worker takes it from there.
//!
//! Limits and rules (SNS API reference, Publish and PublishBatch): the
//! message, with every attribute's name, type and value, is at most 256 KB;
//! a batch holds 1 to 10 entries, 256 KB in all; FIFO topics need a
//! MessageGroupId and, unless ContentBasedDeduplication is on, a
//! MessageDeduplicationId, and drop a message whose deduplication id was
//! seen in the last five minutes (answering with the first one's ids);
//! content-based deduplication uses the SHA-256 of the message.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};
use sha2::Digest;

use crate::arn;
use crate::catalog::{decode, CachedTopic};
use crate::error::{Result, SnsError};
use crate::message_attrs::{self, MessageAttribute};
use crate::model::{self, DedupRecord, DeliveryRecord, MessageRecord};
use crate::query::Object;
use crate::request;
use crate::Sns;

/// Largest message (body plus attributes), and largest batch.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
pub const MAX_BATCH_ENTRIES: usize = 10;
/// FIFO deduplication window.
pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;
/// Expired deduplication ids removed per publish (bounds the work one
/// write does; the rest go with later publishes).
const DEDUP_SWEEP: usize = 256;

/// A Publish, as the API takes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishInput {
    pub topic_arn: Option<String>,
    pub target_arn: Option<String>,
    pub phone_number: Option<String>,
    pub message: Option<String>,
    pub subject: Option<String>,
    pub message_structure: Option<String>,
    pub message_attributes: BTreeMap<String, MessageAttribute>,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
}

/// What Publish answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOutput {
    pub message_id: String,
    /// FIFO topics only.
    pub sequence_number: Option<String>,
}

impl Sns {
    /// Publishes to a topic from inside nimbus, with Publish's validation,
    /// errors and durability: the message is in the outbox when this
    /// returns `Ok`. The topic is named by `topic_arn` (or `target_arn`); its
    /// region and account are the ARN's.
    pub async fn publish(&self, input: PublishInput) -> Result<PublishOutput> {
        let prepared = prepare(self, None, &input)?;
        let mut out = commit(self, vec![prepared]).await?;
        out.pop()
            .ok_or_else(|| SnsError::internal("a publish wrote no message"))
    }
}

/// A message ready to be written.
struct Draft {
    topic_id: u64,
    message: MessageRecord,
    deliveries: Vec<DeliveryRecord>,
}

fn check_subject(subject: Option<&str>) -> Result<()> {
    let Some(subject) = subject else {
        return Ok(());
    };
    let ok = !subject.is_empty()
        && subject.chars().count() <= 100
        && !subject.starts_with(char::is_whitespace)
        && !subject.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid_parameter("Invalid parameter: Subject"))
    }
}

fn check_message(message: Option<&str>) -> Result<&str> {
    match message {
        None => Err(SnsError::missing("Message")),
        Some("") => Err(SnsError::invalid_parameter(
            "Invalid parameter: Empty message",
        )),
        Some(m) => Ok(m),
    }
}

/// `(default message, per-protocol messages)` of a publish.
fn structure(kind: Option<&str>, message: &str) -> Result<(String, BTreeMap<String, String>)> {
    match kind {
        None => Ok((message.to_owned(), BTreeMap::new())),
        Some("json") => {
            let parsed: Value = serde_json::from_str(message).map_err(|_| {
                SnsError::invalid_parameter(
                    "Invalid parameter: Message Structure - JSON message body failed to parse",
                )
            })?;
            // Only string members count; others are ignored, as AWS does.
            let per_protocol: BTreeMap<String, String> = parsed
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            let default = per_protocol.get("default").cloned().ok_or_else(|| {
                SnsError::invalid_parameter(
                    "Invalid parameter: Message Structure - No default entry in JSON message body",
                )
            })?;
            Ok((default, per_protocol))
        }
        Some(_) => Err(SnsError::invalid_parameter(
            "Invalid parameter: MessageStructure",
        )),
    }
}

/// Group and deduplication ids: up to 128 characters, alphanumeric and
/// punctuation (SNS API reference, Publish).
fn check_id(member: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.chars().count() <= 128
        && value.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid_parameter(format!(
            "Invalid parameter: {member} Reason: {member} can contain up to 128 alphanumeric and punctuation characters"
        )))
    }
}

/// The member naming the target, and its ARN.
fn target(input: &PublishInput) -> Result<(&'static str, &str)> {
    if let Some(t) = &input.topic_arn {
        return Ok(("TopicArn", t));
    }
    if let Some(t) = &input.target_arn {
        if t.contains(":endpoint/") {
            return Err(SnsError::invalid_parameter(
                "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
            ));
        }
        return Ok(("TargetArn", t));
    }
    if let Some(number) = &input.phone_number {
        return Err(SnsError::invalid_parameter(format!(
            "Invalid parameter: PhoneNumber Reason: nimbus does not send SMS (to {number}); publish to a topic"
        )));
    }
    Err(SnsError::invalid_parameter(
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
    ))
}

/// Validates a publish as SNS does, in SNS's order, finds its topic and
/// chooses its deliveries. `region` is the caller's (a topic of another
/// region is refused); `None` for in-process callers.
fn prepare(sns: &Sns, region: Option<&str>, input: &PublishInput) -> Result<Draft> {
    check_subject(input.subject.as_deref())?;
    let message = check_message(input.message.as_deref())?;
    if message.len() + message_attrs::total_size(&input.message_attributes) > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid_parameter(
            "Invalid parameter: Message too long",
        ));
    }
    let (member, topic_arn) = target(input)?;
    prepare_checked(sns, region, input, member, topic_arn, message)
}

/// The rest of [`prepare`], once subject, message and size are known good.
fn prepare_checked(
    sns: &Sns,
    region: Option<&str>,
    input: &PublishInput,
    member: &str,
    topic_arn: &str,
    message: &str,
) -> Result<Draft> {
    let fifo_name = topic_arn.ends_with(".fifo");
    if fifo_name && input.message_group_id.is_none() {
        return Err(SnsError::invalid_parameter(
            "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
        ));
    }
    if !fifo_name && input.message_deduplication_id.is_some() {
        return Err(SnsError::invalid_parameter(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
        ));
    }
    if let Some(group) = &input.message_group_id {
        check_id("MessageGroupId", group)?;
    }
    if let Some(dedup) = &input.message_deduplication_id {
        check_id("MessageDeduplicationId", dedup)?;
    }
    let (default, per_protocol) = structure(input.message_structure.as_deref(), message)?;
    let t = arn::parse_topic(member, topic_arn)?;
    if region.is_some_and(|r| r != t.region) {
        return Err(SnsError::invalid_parameter(format!(
            "Invalid parameter: {member}"
        )));
    }
    let topic = sns
        .catalog()
        .get(sns.store(), &t)?
        .ok_or_else(SnsError::topic_not_found)?;
    let fifo = topic.topic.fifo;
    let dedup_id = if fifo {
        match &input.message_deduplication_id {
            Some(id) => Some(id.clone()),
            None if topic.topic.content_based_deduplication() => {
                Some(hex::encode(sha2::Sha256::digest(message.as_bytes())))
            }
            None => {
                return Err(SnsError::invalid_parameter(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ))
            }
        }
    } else {
        None
    };
    let record = MessageRecord {
        message_id: uuid::Uuid::new_v4().to_string(),
        topic_arn: topic.topic.arn(),
        message: default,
        per_protocol,
        subject: input.subject.clone(),
        attributes: input.message_attributes.clone(),
        timestamp_ms: sns.now_ms(),
        group_id: input.message_group_id.clone(),
        dedup_id,
        sequence_number: None,
        fifo,
        signature_version: topic.topic.signature_version().to_owned(),
    };
    let deliveries = deliveries_for(&topic, &record);
    Ok(Draft {
        topic_id: topic.topic.id,
        message: record,
        deliveries,
    })
}

/// One outbox entry per confirmed subscription whose filter admits the
/// message.
fn deliveries_for(topic: &CachedTopic, message: &MessageRecord) -> Vec<DeliveryRecord> {
    topic
        .subscriptions
        .iter()
        .filter(|s| !s.record.pending)
        .filter(|s| s.filter.admits(message, &s.record.protocol))
        .map(|s| {
            let sub_arn = s.record.arn();
            DeliveryRecord {
                lane: message
                    .fifo
                    .then(|| format!("{sub_arn}\n{}", message.group_id.as_deref().unwrap_or(""))),
                subscription_arn: sub_arn,
                protocol: s.record.protocol.clone(),
                endpoint: s.record.endpoint.clone(),
                raw: s.record.raw(),
                dead_letter_arn: s.record.dead_letter_arn(),
                retry: s.retry.clone(),
                attempts: 0,
                not_before_ms: 0,
            }
        })
        .collect()
}

/// A message as written: its ids, and what the delivery worker needs.
struct Written {
    output: PublishOutput,
    /// `None` for a duplicate or a message nobody was subscribed to.
    queued: Option<Queued>,
}

/// A written message's sequence, the message, and its outbox entries.
type Queued = (u64, MessageRecord, Vec<(Vec<u8>, DeliveryRecord)>);

/// Writes the drafts in one store write (so a batch is all or nothing),
/// then hands their deliveries to the worker.
async fn commit(sns: &Sns, drafts: Vec<Draft>) -> Result<Vec<PublishOutput>> {
    let clock = sns.clock().clone();
    let worker = sns.clone();
    let written = sns
        .store()
        .write(move |txn| {
            let now = clock.now_ms();
            let mut swept = HashSet::new();
            let mut written = Vec::with_capacity(drafts.len());
            for draft in drafts {
                written.push(write_one(&worker, txn, draft, now, &mut swept)?);
            }
            Ok::<_, SnsError>(written)
        })
        .await?;
    let mut outputs = Vec::with_capacity(written.len());
    for w in written {
        if let Some((seq, message, deliveries)) = w.queued {
            sns.outbox().accept(sns, seq, Arc::new(message), deliveries);
        }
        outputs.push(w.output);
    }
    Ok(outputs)
}

fn write_one(
    sns: &Sns,
    txn: &mut WriteTxn<'_>,
    mut draft: Draft,
    now: u64,
    swept: &mut HashSet<u64>,
) -> Result<Written> {
    if let Some(dedup) = draft.message.dedup_id.clone() {
        if swept.insert(draft.topic_id) {
            sweep_dedup(txn, draft.topic_id, now)?;
        }
        let key = model::dedup_key(draft.topic_id, &dedup);
        if let Some(seen) = decode::<DedupRecord>(txn.get(&key)?)? {
            if seen.expires_ms > now {
                return Ok(Written {
                    output: PublishOutput {
                        message_id: seen.message_id,
                        sequence_number: Some(seen.sequence_number),
                    },
                    queued: None,
                });
            }
            txn.delete(&model::dedup_expiry_key(
                draft.topic_id,
                seen.expires_ms,
                &dedup,
            ));
        }
        let next = model::read_u64(txn.get(model::NEXT_SEQUENCE_KEY)?) + 1;
        txn.put(model::NEXT_SEQUENCE_KEY, &next.to_be_bytes());
        let sequence_number = format!("{next:020}");
        let expires_ms = now + DEDUP_WINDOW_MS;
        let seen = DedupRecord {
            message_id: draft.message.message_id.clone(),
            sequence_number: sequence_number.clone(),
            expires_ms,
        };
        txn.put(&key, &model::to_json(&seen));
        txn.put(
            &model::dedup_expiry_key(draft.topic_id, expires_ms, &dedup),
            &[],
        );
        draft.message.sequence_number = Some(sequence_number);
    }
    let output = PublishOutput {
        message_id: draft.message.message_id.clone(),
        sequence_number: draft.message.sequence_number.clone(),
    };
    if draft.deliveries.is_empty() {
        return Ok(Written {
            output,
            queued: None,
        });
    }
    // Taken here, on the store's single writer, so sequence order is commit
    // order and FIFO deliveries leave in the order they were published.
    let seq = sns.next_message().fetch_add(1, Ordering::Relaxed);
    txn.put(&model::message_key(seq), &model::to_json(&draft.message));
    let count = u32::try_from(draft.deliveries.len()).unwrap_or(u32::MAX);
    txn.put(&model::pending_key(seq), &count.to_be_bytes());
    let mut deliveries = Vec::with_capacity(draft.deliveries.len());
    for (i, d) in draft.deliveries.into_iter().enumerate() {
        let key = model::outbox_key(now, seq, i as u32);
        txn.put(&key, &model::to_json(&d));
        deliveries.push((key, d));
    }
    Ok(Written {
        output,
        queued: Some((seq, draft.message, deliveries)),
    })
}

/// Removes deduplication ids of `topic_id` that expired by `now`.
fn sweep_dedup(txn: &mut WriteTxn<'_>, topic_id: u64, now: u64) -> Result<()> {
    let prefix = model::dedup_expiry_prefix(topic_id);
    let mut upper = prefix.clone();
    upper.extend_from_slice(&now.saturating_add(1).to_be_bytes());
    let mut expired = Vec::new();
    txn.scan(
        Bound::Included(prefix.as_slice()),
        Bound::Excluded(upper.as_slice()),
        false,
        &mut |key, _| {
            expired.push(key.to_vec());
            expired.len() < DEDUP_SWEEP
        },
    )?;
    for key in expired {
        if let Some((_, dedup)) = model::parse_dedup_expiry_key(&key) {
            let dedup = String::from_utf8_lossy(dedup).into_owned();
            txn.delete(&model::dedup_key(topic_id, &dedup));
        }
        txn.delete(&key);
    }
    Ok(())
}

/// A Publish's members as a [`PublishInput`].
fn input_from(req: &Object, position: Option<usize>) -> Result<PublishInput> {
    let s = |name: &str| request::opt_str(req, name).map(|v| v.map(str::to_owned));
    Ok(PublishInput {
        topic_arn: s("TopicArn")?,
        target_arn: s("TargetArn")?,
        phone_number: s("PhoneNumber")?,
        message: s("Message")?,
        subject: s("Subject")?,
        message_structure: s("MessageStructure")?,
        message_attributes: message_attrs::parse(req, position)?,
        message_group_id: s("MessageGroupId")?,
        message_deduplication_id: s("MessageDeduplicationId")?,
    })
}

fn output_json(out: &PublishOutput) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("MessageId".into(), Value::String(out.message_id.clone()));
    if let Some(seq) = &out.sequence_number {
        m.insert("SequenceNumber".into(), Value::String(seq.clone()));
    }
    m
}

pub async fn publish_action(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let input = input_from(req, None)?;
    let draft = prepare(sns, Some(&ctx.region), &input)?;
    let out = commit(sns, vec![draft]).await?;
    let first = out
        .first()
        .ok_or_else(|| SnsError::internal("a publish wrote no message"))?;
    Ok(Value::Object(output_json(first)))
}

/// Batch entry ids: 1 to 80 letters, digits, hyphens and underscores.
fn check_entry_id(id: &str) -> Result<()> {
    if id.chars().count() > 80 {
        return Err(SnsError::invalid_batch_entry_id(format!(
            "The Id of a batch entry in the batch request is too long: {id}"
        )));
    }
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(SnsError::invalid_batch_entry_id(format!(
            "The Id of a batch entry in the batch request contains an impermissible character: {id}"
        )));
    }
    Ok(())
}

pub async fn publish_batch(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let topic_arn = request::req_str(req, "TopicArn")?.to_owned();
    if req.get("PublishBatchRequestEntries").is_none() {
        return Err(SnsError::missing("PublishBatchRequestEntries"));
    }
    let entries = request::obj_list(req, "PublishBatchRequestEntries")?;
    if entries.is_empty() {
        return Err(SnsError::empty_batch_request());
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(SnsError::too_many_entries());
    }
    let t = crate::topics::resolve_topic_arn(ctx, &topic_arn)?;
    sns.catalog()
        .get(sns.store(), &t)?
        .ok_or_else(SnsError::topic_not_found)?;
    let mut ids = HashSet::new();
    for entry in &entries {
        let id = request::req_str(entry, "Id")?;
        if !ids.insert(id) {
            return Err(SnsError::batch_entry_ids_not_distinct());
        }
    }
    for entry in &entries {
        check_entry_id(request::req_str(entry, "Id")?)?;
    }

    // Problems of the request as a whole fail it; an entry's own subject or
    // empty message fail only that entry.
    let mut total = 0usize;
    let mut failed = Vec::new();
    let mut accepted = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let id = request::req_str(entry, "Id")?.to_owned();
        let mut input = input_from(entry, Some(i + 1))?;
        input.topic_arn = Some(topic_arn.clone());
        let own = check_subject(input.subject.as_deref())
            .and_then(|()| check_message(input.message.as_deref()).map(str::to_owned));
        let message = match own {
            Ok(m) => m,
            Err(e) => {
                failed.push(json!({
                    "Id": id,
                    "Code": e.code,
                    "Message": e.message,
                    "SenderFault": true,
                }));
                continue;
            }
        };
        total += message.len() + message_attrs::total_size(&input.message_attributes);
        let draft = prepare_checked(
            sns,
            Some(&ctx.region),
            &input,
            "TopicArn",
            &topic_arn,
            &message,
        )?;
        accepted.push((id, draft));
    }
    if total > MAX_MESSAGE_BYTES {
        return Err(SnsError::batch_request_too_long());
    }
    let (ids, drafts): (Vec<String>, Vec<Draft>) = accepted.into_iter().unzip();
    let outputs = if drafts.is_empty() {
        Vec::new()
    } else {
        commit(sns, drafts).await?
    };
    let successful: Vec<Value> = ids
        .into_iter()
        .zip(outputs)
        .map(|(id, out)| {
            let mut m = output_json(&out);
            m.insert("Id".into(), Value::String(id));
            Value::Object(m)
        })
        .collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        assert!(check_subject(None).is_ok());
        assert!(check_subject(Some("Order 17 shipped!")).is_ok());
        for bad in ["", " lead", "line\nbreak", &"s".repeat(101)] {
            assert_eq!(
                check_subject(Some(bad)).unwrap_err().message,
                "Invalid parameter: Subject",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn message_structures() {
        let (d, per) = structure(
            Some("json"),
            r#"{"default":"d","sqs":"for sqs","lambda":{"not":"a string"}}"#,
        )
        .unwrap();
        assert_eq!(d, "d");
        assert_eq!(per.get("sqs").map(String::as_str), Some("for sqs"));
        assert!(!per.contains_key("lambda"));
        assert_eq!(
            structure(Some("json"), "{").unwrap_err().message,
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        );
        assert_eq!(
            structure(Some("json"), r#"{"sqs":"x"}"#)
                .unwrap_err()
                .message,
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        );
        assert_eq!(
            structure(Some("json"), r#"{"default":1}"#)
                .unwrap_err()
                .message,
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        );
    }

    #[test]
    fn entry_ids() {
        assert!(check_entry_id("a-1_B").is_ok());
        assert_eq!(
            check_entry_id("a b").unwrap_err().code,
            "InvalidBatchEntryId"
        );
        assert_eq!(
            check_entry_id(&"a".repeat(81)).unwrap_err().code,
            "InvalidBatchEntryId"
        );
    }

    #[test]
    fn targets() {
        let mut input = PublishInput::default();
        assert_eq!(
            target(&input).unwrap_err().message,
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
        );
        input.target_arn = Some("arn:aws:sns:us-east-1:1:endpoint/GCM/app/1".into());
        assert_eq!(
            target(&input).unwrap_err().message,
            "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"
        );
        input.target_arn = Some("arn:aws:sns:us-east-1:1:t".into());
        assert_eq!(target(&input).unwrap().0, "TargetArn");
    }
}
