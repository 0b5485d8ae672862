//! What SNS keeps in the store, and where.
//!
//! Keyspaces (all under the byte `n`, which no other service uses):
//!
//! - `nt` account `/` region `/` topic name -> [`TopicRecord`] (JSON).
//! - `ns` account `/` region `/` topic name `/` subscription id ->
//!   [`SubscriptionRecord`] (JSON). Topic names cannot contain `/`, so one
//!   topic's subscriptions are one range, and an account's in a region
//!   another.
//! - `nk` confirmation token -> subscription ARN (HTTP subscriptions waiting
//!   for ConfirmSubscription).
//! - `nm` message sequence (u64 BE) -> [`MessageRecord`] (JSON): a published
//!   message some delivery still needs.
//! - `nr` message sequence -> deliveries of it still pending (u32 BE).
//! - `nq` due (ms since the epoch, u64 BE) | message sequence | delivery
//!   index (u32 BE) -> [`DeliveryRecord`] (JSON): the outbox, one entry per
//!   subscription a message must still reach, ordered by when to try next.
//! - `nd` topic id (u64 BE) | deduplication id -> [`DedupRecord`]: FIFO
//!   deduplication ids seen in the last five minutes.
//! - `ne` topic id | expires-at (u64 BE) | deduplication id -> empty: the
//!   same, by expiry, so publishes sweep expired ones.
//! - `nn` -> the next topic id (u64 BE); `nx` -> the next FIFO sequence
//!   number (u64 BE).
//!
//! Invariants:
//! - A published message, its pending count and its outbox entries are
//!   written in the one store write that acknowledges the Publish, so an
//!   acknowledged message reaches every subscriber it matched even if the
//!   server dies right after.
//! - `nr` of a message equals its number of `nq` entries; the message and
//!   its count are deleted in the write that removes the last entry.
//! - Every `nd` entry has exactly one `ne` entry with its expiry.
//! - A topic id is never reused, so a topic deleted and created again
//!   under the same name never sees the old one's deduplication ids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::arn::{self, TopicRef};
use crate::delivery::retry::RetryPolicy;
use crate::message_attrs::MessageAttribute;

pub const NEXT_TOPIC_ID_KEY: &[u8] = b"nn";
pub const NEXT_SEQUENCE_KEY: &[u8] = b"nx";
pub const OUTBOX_PREFIX: &[u8] = b"nq";
pub const MESSAGE_PREFIX: &[u8] = b"nm";

/// A topic's definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopicRecord {
    pub id: u64,
    pub name: String,
    pub account: String,
    pub region: String,
    pub created_ms: u64,
    /// The attributes set by CreateTopic and SetTopicAttributes, as given
    /// (DisplayName, Policy, DeliveryPolicy, KmsMasterKeyId, ...).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub fifo: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl TopicRecord {
    pub fn topic_ref(&self) -> TopicRef {
        TopicRef {
            region: self.region.clone(),
            account: self.account.clone(),
            name: self.name.clone(),
        }
    }

    pub fn arn(&self) -> String {
        arn::topic_arn(&self.region, &self.account, &self.name)
    }

    pub fn content_based_deduplication(&self) -> bool {
        self.attributes
            .get("ContentBasedDeduplication")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// "1" (SHA1) unless set to "2" (SHA256).
    pub fn signature_version(&self) -> &str {
        match self.attributes.get("SignatureVersion").map(String::as_str) {
            Some("2") => "2",
            _ => "1",
        }
    }
}

/// A subscription.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubscriptionRecord {
    pub id: String,
    /// The id of the topic it was made on: a topic deleted and created
    /// again is another topic, without this subscription.
    pub topic_id: u64,
    pub topic_name: String,
    pub account: String,
    pub region: String,
    pub protocol: String,
    pub endpoint: String,
    pub owner: String,
    /// Waiting for ConfirmSubscription (HTTP endpoints); gets nothing.
    pub pending: bool,
    pub confirmation_authenticated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub created_ms: u64,
    /// The settable attributes as set: RawMessageDelivery, FilterPolicy,
    /// FilterPolicyScope, RedrivePolicy, DeliveryPolicy, SubscriptionRoleArn.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl SubscriptionRecord {
    pub fn topic_ref(&self) -> TopicRef {
        TopicRef {
            region: self.region.clone(),
            account: self.account.clone(),
            name: self.topic_name.clone(),
        }
    }

    pub fn topic_arn(&self) -> String {
        self.topic_ref().arn()
    }

    pub fn arn(&self) -> String {
        format!("{}:{}", self.topic_arn(), self.id)
    }

    pub fn raw(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v == "true")
    }

    /// The dead-letter queue of its RedrivePolicy, if any.
    pub fn dead_letter_arn(&self) -> Option<String> {
        let policy = self.attributes.get("RedrivePolicy")?;
        let value: serde_json::Value = serde_json::from_str(policy).ok()?;
        value
            .get("deadLetterTargetArn")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }
}

/// A published message, kept until every delivery of it is done.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageRecord {
    pub message_id: String,
    pub topic_arn: String,
    /// The message (the `default` one, with MessageStructure=json).
    pub message: String,
    /// With MessageStructure=json: the message per protocol (`sqs`,
    /// `lambda`, `http`, ...), each overriding `message` for its protocol.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_protocol: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, MessageAttribute>,
    pub timestamp_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    pub fifo: bool,
    pub signature_version: String,
}

impl MessageRecord {
    /// The message a subscription of `protocol` receives.
    pub fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol
            .get(protocol)
            .map_or(self.message.as_str(), String::as_str)
    }
}

#[cfg(test)]
impl MessageRecord {
    /// A message of a standard topic, for unit tests.
    pub(crate) fn sample(message: &str) -> MessageRecord {
        MessageRecord {
            message_id: "mid".into(),
            topic_arn: "arn:aws:sns:us-east-1:000000000000:t".into(),
            message: message.into(),
            per_protocol: BTreeMap::new(),
            subject: None,
            attributes: BTreeMap::new(),
            timestamp_ms: 0,
            group_id: None,
            dedup_id: None,
            sequence_number: None,
            fifo: false,
            signature_version: "1".into(),
        }
    }
}

/// One pending delivery: everything needed to reach the endpoint without
/// looking the subscription up (it may be gone by then; SNS still delivers
/// what was published before an unsubscribe took effect).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliveryRecord {
    pub subscription_arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub raw: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_arn: Option<String>,
    pub retry: RetryPolicy,
    /// Attempts made so far.
    pub attempts: u32,
    /// FIFO deliveries keep their outbox key (their order) while they wait
    /// out a retry; this is when the next attempt may run.
    #[serde(default)]
    pub not_before_ms: u64,
    /// FIFO topics: deliveries with the same lane (subscription and message
    /// group) run one at a time, in publish order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<String>,
}

/// A FIFO deduplication id seen recently: what a duplicate publish answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DedupRecord {
    pub message_id: String,
    pub sequence_number: String,
    pub expires_ms: u64,
}

fn path_key(tag: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut k = tag.to_vec();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            k.push(b'/');
        }
        k.extend_from_slice(part.as_bytes());
    }
    k
}

pub fn topic_key(t: &TopicRef) -> Vec<u8> {
    path_key(b"nt", &[&t.account, &t.region, &t.name])
}

/// Every topic of an account in a region.
pub fn topics_prefix(account: &str, region: &str) -> Vec<u8> {
    path_key(b"nt", &[account, region, ""])
}

pub fn subscription_key(t: &TopicRef, id: &str) -> Vec<u8> {
    path_key(b"ns", &[&t.account, &t.region, &t.name, id])
}

/// Every subscription of one topic.
pub fn topic_subscriptions_prefix(t: &TopicRef) -> Vec<u8> {
    path_key(b"ns", &[&t.account, &t.region, &t.name, ""])
}

/// Every subscription of an account in a region.
pub fn subscriptions_prefix(account: &str, region: &str) -> Vec<u8> {
    path_key(b"ns", &[account, region, ""])
}

pub fn token_key(token: &str) -> Vec<u8> {
    path_key(b"nk", &[token])
}

/// `tag` followed by a big-endian id: the keys of a message, its pending
/// count, and a topic's deduplication ranges.
fn id_key(tag: &[u8], id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(tag.len() + 8);
    k.extend_from_slice(tag);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

pub fn message_key(seq: u64) -> Vec<u8> {
    id_key(MESSAGE_PREFIX, seq)
}

pub fn pending_key(seq: u64) -> Vec<u8> {
    id_key(b"nr", seq)
}

/// The outbox key of delivery `index` of message `seq`, due at `due_ms`.
pub fn outbox_key(due_ms: u64, seq: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(22);
    k.extend_from_slice(OUTBOX_PREFIX);
    k.extend_from_slice(&due_ms.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// `(due, message sequence, delivery index)` of an outbox key.
pub fn parse_outbox_key(key: &[u8]) -> Option<(u64, u64, u32)> {
    if key.len() != 22 || !key.starts_with(OUTBOX_PREFIX) {
        return None;
    }
    Some((
        u64::from_be_bytes(key[2..10].try_into().ok()?),
        u64::from_be_bytes(key[10..18].try_into().ok()?),
        u32::from_be_bytes(key[18..22].try_into().ok()?),
    ))
}

pub fn dedup_key(topic_id: u64, dedup: &str) -> Vec<u8> {
    [dedup_prefix(topic_id).as_slice(), dedup.as_bytes()].concat()
}

pub fn dedup_prefix(topic_id: u64) -> Vec<u8> {
    id_key(b"nd", topic_id)
}

pub fn dedup_expiry_key(topic_id: u64, expires_ms: u64, dedup: &str) -> Vec<u8> {
    [
        dedup_expiry_prefix(topic_id).as_slice(),
        &expires_ms.to_be_bytes(),
        dedup.as_bytes(),
    ]
    .concat()
}

pub fn dedup_expiry_prefix(topic_id: u64) -> Vec<u8> {
    id_key(b"ne", topic_id)
}

/// `(expires-at, deduplication id)` of a dedup expiry key.
pub fn parse_dedup_expiry_key(key: &[u8]) -> Option<(u64, &[u8])> {
    let at = u64::from_be_bytes(key.get(10..18)?.try_into().ok()?);
    Some((at, &key[18..]))
}

pub use nimbus_store::{prefix_end, read_u64};

pub fn read_u32(bytes: Option<Vec<u8>>) -> u32 {
    bytes
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

/// A stored record as JSON bytes. Records are plain data, so this cannot
/// fail; the fallback only keeps it total.
pub fn to_json<T: Serialize>(record: &T) -> Vec<u8> {
    serde_json::to_vec(record).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TopicRef {
        TopicRef {
            region: "us-east-1".into(),
            account: "000000000000".into(),
            name: name.into(),
        }
    }

    #[test]
    fn one_topic_is_one_range() {
        let a = subscription_key(&t("a"), "x");
        let ab = subscription_key(&t("ab"), "x");
        let prefix = topic_subscriptions_prefix(&t("a"));
        assert!(a.starts_with(&prefix));
        assert!(!ab.starts_with(&prefix));
        assert!(a.starts_with(&subscriptions_prefix("000000000000", "us-east-1")));
        assert!(topic_key(&t("a")).starts_with(&topics_prefix("000000000000", "us-east-1")));
    }

    #[test]
    fn outbox_keys_order_by_due_then_message() {
        let k = outbox_key(5, 7, 2);
        assert_eq!(parse_outbox_key(&k), Some((5, 7, 2)));
        assert!(outbox_key(5, 8, 0) > outbox_key(5, 7, 9));
        assert!(outbox_key(6, 0, 0) > outbox_key(5, 9, 9));
        assert_eq!(parse_outbox_key(&k[1..]), None);
    }

    #[test]
    fn dedup_expiry_keys_round_trip() {
        let key = dedup_expiry_key(4, 1234, "d1");
        assert_eq!(parse_dedup_expiry_key(&key), Some((1234, &b"d1"[..])));
        assert!(key.starts_with(&dedup_expiry_prefix(4)));
    }

    #[test]
    fn per_protocol_messages() {
        let mut m = MessageRecord::sample("default");
        m.per_protocol.insert("sqs".into(), "for sqs".into());
        assert_eq!(m.message_for("sqs"), "for sqs");
        assert_eq!(m.message_for("lambda"), "default");
    }
}
