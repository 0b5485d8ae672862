//! FIFO queues: their attributes, message group and deduplication ids, the
//! five-minute deduplication window and sequence numbers.
//!
//! Deduplication state lives in the store (`sd` / `se` keys, see
//! [`crate::model`]), written in the same store write as the message it
//! deduplicates, so a restart neither forgets a recent id nor delivers a
//! duplicate that was acknowledged as one.

use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, SqsError};
use crate::model::{self, DedupRecord};
use crate::queues::to_json;

/// How long a deduplication id suppresses duplicates.
pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

/// How many expired deduplication entries one send sweeps at most, so the
/// cost of a send stays bounded while the table still shrinks.
const SWEEP_PER_SEND: usize = 32;

/// The attributes only FIFO queues have.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FifoAttributes {
    pub content_based_deduplication: bool,
    /// `messageQueue` or `messageGroup`.
    pub deduplication_scope: String,
    /// `perQueue` or `perMessageGroupId`.
    pub fifo_throughput_limit: String,
}

impl Default for FifoAttributes {
    fn default() -> Self {
        FifoAttributes {
            content_based_deduplication: false,
            deduplication_scope: "messageQueue".into(),
            fifo_throughput_limit: "perQueue".into(),
        }
    }
}

/// The attribute names only FIFO queues accept.
pub const FIFO_ONLY: [&str; 4] = [
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

impl FifoAttributes {
    /// Sets one FIFO attribute from its text; `false` if `name` is not one
    /// of the settable FIFO attributes.
    pub fn apply(&mut self, name: &str, value: &str) -> Result<bool> {
        let bad = || SqsError::invalid_attribute_value(name);
        match name {
            "ContentBasedDeduplication" => {
                self.content_based_deduplication = parse_bool(value).ok_or_else(bad)?;
            }
            "DeduplicationScope" => {
                if !matches!(value, "messageQueue" | "messageGroup") {
                    return Err(bad());
                }
                self.deduplication_scope = value.to_owned();
            }
            "FifoThroughputLimit" => {
                if !matches!(value, "perQueue" | "perMessageGroupId") {
                    return Err(bad());
                }
                self.fifo_throughput_limit = value.to_owned();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// AWS refuses per-message-group throughput with queue-wide
    /// deduplication: high throughput needs both set for groups.
    pub fn check(&self) -> Result<()> {
        if self.fifo_throughput_limit == "perMessageGroupId"
            && self.deduplication_scope == "messageQueue"
        {
            return Err(SqsError::invalid_attribute_value("FifoThroughputLimit"));
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "FifoQueue" => "true".into(),
            "ContentBasedDeduplication" => self.content_based_deduplication.to_string(),
            "DeduplicationScope" => self.deduplication_scope.clone(),
            "FifoThroughputLimit" => self.fifo_throughput_limit.clone(),
            _ => return None,
        })
    }
}

/// `true` / `false` as SQS reads them (case-insensitively).
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// AWS's rule for MessageGroupId and MessageDeduplicationId: 1 to 128
/// characters, alphanumeric or ASCII punctuation.
pub fn check_id(parameter: &str, value: &str) -> Result<()> {
    let ok = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b.is_ascii_punctuation());
    if ok {
        Ok(())
    } else {
        Err(SqsError::invalid_parameter_value(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )))
    }
}

/// The deduplication id ContentBasedDeduplication derives: the SHA-256 of
/// the body, in hex.
pub fn content_dedup_id(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// The key a deduplication id is remembered under: per queue, or per
/// message group when the queue's DeduplicationScope is `messageGroup`.
pub fn dedup_scope_key(attrs: &FifoAttributes, group: &str, dedup: &str) -> Vec<u8> {
    if attrs.deduplication_scope == "messageGroup" {
        let mut k = group.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(dedup.as_bytes());
        k
    } else {
        dedup.as_bytes().to_vec()
    }
}

/// The SequenceNumber of the message stored under `seq`: 20 decimal
/// digits, like AWS's, increasing with send order because `seq` does.
pub fn sequence_number(seq: u64) -> String {
    format!("{seq:020}")
}

/// The send a deduplication key already stands for, if it is still inside
/// its window at `now`.
pub fn recent_duplicate(
    txn: &WriteTxn<'_>,
    queue_id: u64,
    key: &[u8],
    now: u64,
) -> Result<Option<DedupRecord>> {
    let Some(bytes) = txn.get(&model::dedup_key(queue_id, key))? else {
        return Ok(None);
    };
    let record: DedupRecord = serde_json::from_slice(&bytes)
        .map_err(|e| SqsError::internal(format!("deduplication record is unreadable: {e}")))?;
    Ok((record.expires_ms > now).then_some(record))
}

/// Remembers `key` for five minutes from `now` as the send of `record`,
/// replacing an expired entry under the same key.
pub fn remember(
    txn: &mut WriteTxn<'_>,
    queue_id: u64,
    key: &[u8],
    message_id: &str,
    sequence_number: &str,
    now: u64,
) -> Result<()> {
    let entry_key = model::dedup_key(queue_id, key);
    if let Some(bytes) = txn.get(&entry_key)? {
        if let Ok(old) = serde_json::from_slice::<DedupRecord>(&bytes) {
            txn.delete(&model::dedup_expiry_key(queue_id, old.expires_ms, key));
        }
    }
    let record = DedupRecord {
        message_id: message_id.to_owned(),
        sequence_number: sequence_number.to_owned(),
        expires_ms: now + DEDUP_WINDOW_MS,
    };
    txn.put(&entry_key, &to_json(&record));
    txn.put(
        &model::dedup_expiry_key(queue_id, record.expires_ms, key),
        &[],
    );
    Ok(())
}

/// Deletes up to a few deduplication entries of the queue that expired by
/// `now`.
pub fn sweep_expired(txn: &mut WriteTxn<'_>, queue_id: u64, now: u64) -> Result<()> {
    let prefix = model::dedup_expiry_prefix(queue_id);
    // Everything expiring at or before `now`, whatever its key's suffix.
    let upper = model::dedup_expiry_key(queue_id, now + 1, &[]);
    let mut expired = Vec::new();
    txn.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&upper[..]),
        false,
        &mut |k, _| {
            expired.push(k.to_vec());
            expired.len() < SWEEP_PER_SEND
        },
    )?;
    for key in expired {
        if let Some((_, dedup)) = model::parse_dedup_expiry_key(&key) {
            txn.delete(&model::dedup_key(queue_id, dedup));
        }
        txn.delete(&key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_aws_rules() {
        assert!(check_id("MessageGroupId", "g-1_!~").is_ok());
        assert!(check_id("MessageGroupId", &"x".repeat(128)).is_ok());
        let err = check_id("MessageGroupId", "").unwrap_err();
        assert_eq!(
            err.message,
            "Value  for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."
        );
        assert!(check_id("MessageDeduplicationId", &"x".repeat(129)).is_err());
        assert!(check_id("MessageDeduplicationId", "a b").is_err());
        assert!(check_id("MessageDeduplicationId", "é").is_err());
    }

    #[test]
    fn content_based_id_is_sha256_hex() {
        assert_eq!(
            content_dedup_id("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn attributes_validate() {
        let mut a = FifoAttributes::default();
        assert!(a.apply("ContentBasedDeduplication", "TRUE").unwrap());
        assert!(a.content_based_deduplication);
        assert!(a.apply("ContentBasedDeduplication", "yes").is_err());
        assert!(a.apply("DeduplicationScope", "queue").is_err());
        assert!(a.apply("FifoThroughputLimit", "perMessageGroupId").unwrap());
        assert_eq!(
            a.check().unwrap_err().message,
            "Invalid value for the parameter FifoThroughputLimit."
        );
        a.apply("DeduplicationScope", "messageGroup").unwrap();
        assert!(a.check().is_ok());
        assert!(!a.apply("VisibilityTimeout", "1").unwrap());
    }

    /// The window as time passes: a duplicate inside five minutes finds the
    /// original, one after it does not, and sends sweep expired entries
    /// (both keys) so the table does not grow without bound.
    #[test]
    fn window_expires_and_entries_are_swept() {
        let store = nimbus_store::Store::in_memory().unwrap();
        let t0 = 1_000_000u64;
        store
            .write_blocking(move |txn| {
                remember(txn, 7, b"d1", "m1", "01", t0)?;
                remember(txn, 7, b"d2", "m2", "02", t0 + 1000)?;
                remember(txn, 8, b"d1", "other", "03", t0)?;
                Ok::<_, SqsError>(())
            })
            .unwrap();
        let found = store
            .write_blocking(move |txn| {
                let inside = recent_duplicate(txn, 7, b"d1", t0 + DEDUP_WINDOW_MS - 1)?;
                let after = recent_duplicate(txn, 7, b"d1", t0 + DEDUP_WINDOW_MS)?;
                Ok::<_, SqsError>((inside, after))
            })
            .unwrap();
        assert_eq!(found.0.map(|r| r.message_id), Some("m1".to_owned()));
        assert_eq!(found.1, None);
        // Sweeping at the end of d1's window removes d1 of queue 7 only.
        store
            .write_blocking(move |txn| sweep_expired(txn, 7, t0 + DEDUP_WINDOW_MS))
            .unwrap();
        let snapshot = store.snapshot().unwrap();
        assert_eq!(snapshot.get(&model::dedup_key(7, b"d1")).unwrap(), None);
        assert!(snapshot.get(&model::dedup_key(7, b"d2")).unwrap().is_some());
        assert!(snapshot.get(&model::dedup_key(8, b"d1")).unwrap().is_some());
        let mut expiry_keys = 0;
        let prefix = model::dedup_expiry_prefix(7);
        let end = model::prefix_end(&prefix);
        snapshot
            .scan(
                Bound::Included(&prefix[..]),
                Bound::Excluded(&end[..]),
                false,
                &mut |_, _| {
                    expiry_keys += 1;
                    true
                },
            )
            .unwrap();
        assert_eq!(expiry_keys, 1);
        // Remembering an expired id again replaces its old expiry entry.
        store
            .write_blocking(move |txn| {
                remember(txn, 7, b"d2", "m2b", "04", t0 + DEDUP_WINDOW_MS + 5000)?;
                Ok::<_, SqsError>(())
            })
            .unwrap();
        let snapshot = store.snapshot().unwrap();
        assert_eq!(
            snapshot
                .get(&model::dedup_expiry_key(
                    7,
                    t0 + 1000 + DEDUP_WINDOW_MS,
                    b"d2"
                ))
                .unwrap(),
            None
        );
    }

    #[test]
    fn scope_keys_and_sequence_numbers() {
        let mut a = FifoAttributes::default();
        assert_eq!(dedup_scope_key(&a, "g", "d"), b"d".to_vec());
        a.deduplication_scope = "messageGroup".into();
        assert_eq!(dedup_scope_key(&a, "g", "d"), b"g\0d".to_vec());
        assert_eq!(sequence_number(42), "00000000000000000042");
        assert!(sequence_number(9) < sequence_number(10));
    }
}
