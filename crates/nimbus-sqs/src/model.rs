//! What SQS keeps in the store, and where.
//!
//! Keyspaces (all under the byte `s`, which no other service uses):
//!
//! - `sq` account `/` region `/` queue name -> [`QueueRecord`] (JSON).
//! - `sm` queue id (u64 BE) | sequence (u64 BE) -> [`MessageRecord`] (JSON).
//! - `sv` queue id | visible-at (ms since the epoch, u64 BE) | sequence ->
//!   sent-at (ms, u64 BE) | 1 if ever received else 0 | message group id
//!   (if any): every message of a
//!   queue ordered by when it may next be received. Receiving is one range
//!   scan up to "now"; the value lets GetQueueAttributes count visible,
//!   in-flight and delayed messages without reading the messages.
//! - `sn` -> the next queue id (u64 BE); `ss` -> the next message sequence.
//! - `sd` queue id | deduplication key -> [`DedupRecord`] (JSON): FIFO
//!   deduplication ids seen in the last five minutes. The key is the
//!   deduplication id, prefixed by the message group id and a NUL byte when
//!   the queue's DeduplicationScope is `messageGroup`. Keys starting with
//!   byte 0x01 hold ReceiveRequestAttemptIds instead (see `attempts`).
//! - `se` queue id | expires-at (ms, u64 BE) | deduplication key -> empty:
//!   the same entries ordered by expiry, so sends sweep expired ones.
//! - `sx` account `/` region `/` queue name -> deleted-at (ms, u64 BE): a
//!   queue deleted in the last 60 seconds, whose name cannot be used yet
//!   (see `tombstones`); `sy` deleted-at | account `/` region `/` name ->
//!   empty: the same, ordered by time, so deletes sweep old ones.
//!
//! Invariants:
//! - Every message has exactly one `sv` entry, whose time equals its
//!   record's `visible_at_ms` and whose value matches its `sent_ms` and
//!   whether it was received; both change in the same store write.
//! - A queue id is never reused, so messages of a deleted queue can never
//!   appear in a queue created later under the same name.
//! - Visibility is stored as a deadline, not a timer: after a restart, a
//!   message whose deadline passed is simply visible again.
//! - Every `sd` entry has exactly one `se` entry with its expiry; both are
//!   written and removed together.
//! - A FIFO message's sequence key (`sm`) orders it within its queue: the
//!   global sequence only grows, so send order is key order, and a FIFO
//!   receive walks `sm` to deliver each group in order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::attributes::QueueAttributes;
use crate::fifo::FifoAttributes;
use crate::redrive::{RedriveAllowPolicy, RedrivePolicy};
use crate::sse::Encryption;

pub const NEXT_QUEUE_ID_KEY: &[u8] = b"sn";
pub const NEXT_SEQUENCE_KEY: &[u8] = b"ss";

/// A queue's definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueueRecord {
    pub id: u64,
    pub name: String,
    pub account: String,
    pub region: String,
    /// Seconds since the epoch.
    pub created: u64,
    pub last_modified: u64,
    pub attributes: QueueAttributes,
    /// Present exactly when the queue is a FIFO queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fifo: Option<FifoAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_policy: Option<RedrivePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_allow_policy: Option<RedriveAllowPolicy>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The `Policy` attribute's text (see [`crate::policy`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Queues stored before encryption attributes existed read as SSE-SQS,
    /// AWS's default.
    #[serde(default)]
    pub encryption: Encryption,
}

impl QueueRecord {
    pub fn arn(&self) -> String {
        queue_arn(&self.region, &self.account, &self.name)
    }

    pub fn is_fifo(&self) -> bool {
        self.fifo.is_some()
    }
}

pub fn queue_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

/// (region, account, name) of an SQS queue ARN, or `None` if it is not one.
pub fn parse_queue_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next().filter(|p| !p.is_empty())?;
    if parts.next()? != "sqs" {
        return None;
    }
    let region = parts.next().filter(|r| !r.is_empty())?;
    let account = parts.next().filter(|a| !a.is_empty())?;
    let name = parts.next().filter(|n| !n.is_empty() && !n.contains(':'))?;
    Some((region, account, name))
}

/// A user message attribute (`MessageAttributeValue`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttributeValue {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// Stored as base64 text (a JSON array of numbers would take up to four
    /// times the space).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes"
    )]
    pub binary_value: Option<Vec<u8>>,
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => s.serialize_str(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => STANDARD
                .decode(text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// One message, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageRecord {
    pub message_id: String,
    pub body: String,
    pub md5_of_body: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    pub sender_id: String,
    /// The `AWSTraceHeader` system attribute (X-Ray), if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    pub sent_ms: u64,
    pub receive_count: u32,
    #[serde(default)]
    pub first_receive_ms: Option<u64>,
    /// When the latest receive happened: a visibility timeout may reach at
    /// most 12 hours past it.
    #[serde(default)]
    pub last_receive_ms: Option<u64>,
    pub visible_at_ms: u64,
    /// FIFO queues (and, optionally, standard ones): the message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// FIFO queues: the deduplication id, explicit or content-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
    /// FIFO queues: the `SequenceNumber` given when it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    /// Set when a redrive moved the message here from a source queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_source_arn: Option<String>,
}

/// A FIFO deduplication id seen recently: what a duplicate send answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DedupRecord {
    pub message_id: String,
    pub sequence_number: String,
    pub expires_ms: u64,
}

pub fn dedup_key(queue_id: u64, dedup: &[u8]) -> Vec<u8> {
    let mut k = dedup_prefix(queue_id);
    k.extend_from_slice(dedup);
    k
}

pub fn dedup_prefix(queue_id: u64) -> Vec<u8> {
    let mut k = b"sd".to_vec();
    k.extend_from_slice(&queue_id.to_be_bytes());
    k
}

pub fn dedup_expiry_key(queue_id: u64, expires_ms: u64, dedup: &[u8]) -> Vec<u8> {
    let mut k = dedup_expiry_prefix(queue_id);
    k.extend_from_slice(&expires_ms.to_be_bytes());
    k.extend_from_slice(dedup);
    k
}

pub fn dedup_expiry_prefix(queue_id: u64) -> Vec<u8> {
    let mut k = b"se".to_vec();
    k.extend_from_slice(&queue_id.to_be_bytes());
    k
}

/// Splits a dedup expiry key into (expires-at, deduplication key).
pub fn parse_dedup_expiry_key(key: &[u8]) -> Option<(u64, &[u8])> {
    let at = u64::from_be_bytes(key.get(10..18)?.try_into().ok()?);
    Some((at, &key[18..]))
}

pub fn queue_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + account.len() + region.len() + name.len());
    k.extend_from_slice(b"sq");
    k.extend_from_slice(account.as_bytes());
    k.push(b'/');
    k.extend_from_slice(region.as_bytes());
    k.push(b'/');
    k.extend_from_slice(name.as_bytes());
    k
}

pub fn message_key(queue_id: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(18);
    k.extend_from_slice(b"sm");
    k.extend_from_slice(&queue_id.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn message_prefix(queue_id: u64) -> Vec<u8> {
    let mut k = b"sm".to_vec();
    k.extend_from_slice(&queue_id.to_be_bytes());
    k
}

pub fn visibility_key(queue_id: u64, visible_at_ms: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(26);
    k.extend_from_slice(b"sv");
    k.extend_from_slice(&queue_id.to_be_bytes());
    k.extend_from_slice(&visible_at_ms.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn visibility_prefix(queue_id: u64) -> Vec<u8> {
    let mut k = b"sv".to_vec();
    k.extend_from_slice(&queue_id.to_be_bytes());
    k
}

/// The value of a message's visibility entry: sent-at, whether it was ever
/// received, then its message group id if it has one (so a FIFO receive
/// finds the groups with messages in flight from the index alone).
pub fn visibility_value(record: &MessageRecord) -> Vec<u8> {
    let group = record.group_id.as_deref().unwrap_or("");
    let mut v = Vec::with_capacity(9 + group.len());
    v.extend_from_slice(&record.sent_ms.to_be_bytes());
    v.push(u8::from(record.receive_count > 0));
    v.extend_from_slice(group.as_bytes());
    v
}

/// (sent-at, ever received) from a visibility entry's value.
pub fn parse_visibility_value(value: &[u8]) -> Option<(u64, bool)> {
    let sent = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    Some((sent, *value.get(8)? == 1))
}

/// The message group id in a visibility entry's value, if any.
pub fn visibility_group(value: &[u8]) -> Option<&[u8]> {
    value.get(9..).filter(|g| !g.is_empty())
}

/// Splits a visibility key into (visible-at, sequence).
pub fn parse_visibility_key(key: &[u8]) -> Option<(u64, u64)> {
    if key.len() != 26 {
        return None;
    }
    let at = u64::from_be_bytes(key[10..18].try_into().ok()?);
    let seq = u64::from_be_bytes(key[18..26].try_into().ok()?);
    Some((at, seq))
}

pub use nimbus_store::{prefix_end, read_u64};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_entries_round_trip() {
        let key = visibility_key(7, 1_700_000_000_123, 42);
        assert_eq!(parse_visibility_key(&key), Some((1_700_000_000_123, 42)));
        assert!(key.starts_with(&visibility_prefix(7)));
        assert_eq!(parse_visibility_key(&key[1..]), None);
        let mut record = MessageRecord {
            message_id: "m".into(),
            body: "b".into(),
            md5_of_body: String::new(),
            attributes: BTreeMap::new(),
            sender_id: "s".into(),
            trace_header: None,
            sent_ms: 99,
            receive_count: 0,
            first_receive_ms: None,
            last_receive_ms: None,
            visible_at_ms: 0,
            group_id: None,
            dedup_id: None,
            sequence_number: None,
            dead_letter_source_arn: None,
        };
        assert_eq!(
            parse_visibility_value(&visibility_value(&record)),
            Some((99, false))
        );
        record.receive_count = 3;
        assert_eq!(
            parse_visibility_value(&visibility_value(&record)),
            Some((99, true))
        );
        assert_eq!(parse_visibility_value(&[]), None);
        assert_eq!(visibility_group(&visibility_value(&record)), None);
        record.group_id = Some("g1".into());
        let value = visibility_value(&record);
        assert_eq!(parse_visibility_value(&value), Some((99, true)));
        assert_eq!(visibility_group(&value), Some(&b"g1"[..]));
    }

    #[test]
    fn binary_attribute_values_are_stored_as_base64() {
        let v = AttributeValue {
            data_type: "Binary".into(),
            string_value: None,
            binary_value: Some(vec![0, 1, 255]),
        };
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"data_type":"Binary","binary_value":"AAH/"}"#);
        assert_eq!(serde_json::from_str::<AttributeValue>(&json).unwrap(), v);
        let s: AttributeValue =
            serde_json::from_str(r#"{"data_type":"String","string_value":"x"}"#).unwrap();
        assert_eq!(s.binary_value, None);
    }

    #[test]
    fn queue_arns_parse() {
        let arn = queue_arn("us-east-1", "000000000000", "dlq.fifo");
        assert_eq!(
            parse_queue_arn(&arn),
            Some(("us-east-1", "000000000000", "dlq.fifo"))
        );
        assert_eq!(parse_queue_arn("arn:aws:sns:us-east-1:1:t"), None);
        assert_eq!(parse_queue_arn("arn:aws:sqs:us-east-1:1"), None);
        assert_eq!(parse_queue_arn("arn:aws:sqs:us-east-1:1:a:b"), None);
        assert_eq!(parse_queue_arn("dlq"), None);
    }

    #[test]
    fn dedup_expiry_keys_round_trip() {
        let key = dedup_expiry_key(4, 1234, b"g\0d");
        assert_eq!(parse_dedup_expiry_key(&key), Some((1234, &b"g\0d"[..])));
        assert!(key.starts_with(&dedup_expiry_prefix(4)));
    }
}
