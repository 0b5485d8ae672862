//! ReceiveRequestAttemptId on FIFO queues: a ReceiveMessage retried with the
//! same attempt id within five minutes gets the same messages with the same
//! receipt handles (their visibility timeout starts again), as long as none
//! of them was deleted or received again since. That lets a consumer whose
//! response was lost retry without the group staying held until the
//! visibility timeout ends.
//!
//! Attempts are kept in the deduplication keyspace (`sd` / `se`, see
//! [`crate::model`]) under a key starting with byte 0x01, which no
//! deduplication key can start with (ids are printable ASCII), so the
//! sends' sweep expires them too.

use nimbus_store::{ReadView, WriteTxn};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SqsError};
use crate::fifo::{self, DEDUP_WINDOW_MS};
use crate::messages::load_message;
use crate::model::{self, MessageRecord};
use crate::queues::to_json;

/// What one receive attempt returned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttemptRecord {
    pub expires_ms: u64,
    pub messages: Vec<AttemptedMessage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttemptedMessage {
    pub seq: u64,
    /// The receive count that attempt gave it: a different one now means
    /// it was received again since.
    pub receive_count: u32,
    pub handle: String,
}

fn attempt_key(attempt_id: &str) -> Vec<u8> {
    let mut k = vec![0x01];
    k.extend_from_slice(attempt_id.as_bytes());
    k
}

/// Checks a ReceiveRequestAttemptId: AWS's id rule.
pub fn check(attempt_id: &str) -> Result<()> {
    fifo::check_id("ReceiveRequestAttemptId", attempt_id)
}

/// Replays an earlier attempt: the messages it returned that are still as
/// it left them, with their visibility deadline restarted at `now`. `None`
/// when there is no live attempt or none of its messages is left (the
/// caller then receives afresh).
pub fn replay(
    txn: &mut WriteTxn<'_>,
    queue_id: u64,
    attempt_id: &str,
    visibility: u32,
    now: u64,
) -> Result<Option<Vec<(MessageRecord, String)>>> {
    let key = model::dedup_key(queue_id, &attempt_key(attempt_id));
    let Some(bytes) = txn.get(&key)? else {
        return Ok(None);
    };
    let attempt: AttemptRecord = serde_json::from_slice(&bytes)
        .map_err(|e| SqsError::internal(format!("receive attempt record is unreadable: {e}")))?;
    if attempt.expires_ms <= now {
        return Ok(None);
    }
    let mut out = Vec::new();
    for m in attempt.messages {
        let message_key = model::message_key(queue_id, m.seq);
        let Some(mut record) =
            load_message(txn, &message_key)?.filter(|r| r.receive_count == m.receive_count)
        else {
            continue;
        };
        txn.delete(&model::visibility_key(
            queue_id,
            record.visible_at_ms,
            m.seq,
        ));
        record.visible_at_ms = now + u64::from(visibility) * 1000;
        record.last_receive_ms = Some(now);
        txn.put(&message_key, &to_json(&record));
        txn.put(
            &model::visibility_key(queue_id, record.visible_at_ms, m.seq),
            &model::visibility_value(&record),
        );
        out.push((record, m.handle));
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Remembers what the attempt `attempt_id` returned, for five minutes.
pub fn remember(
    txn: &mut WriteTxn<'_>,
    queue_id: u64,
    attempt_id: &str,
    messages: Vec<AttemptedMessage>,
    now: u64,
) -> Result<()> {
    fifo::sweep_expired(txn, queue_id, now)?;
    let short = attempt_key(attempt_id);
    let key = model::dedup_key(queue_id, &short);
    if let Some(bytes) = txn.get(&key)? {
        if let Ok(old) = serde_json::from_slice::<AttemptRecord>(&bytes) {
            txn.delete(&model::dedup_expiry_key(queue_id, old.expires_ms, &short));
        }
    }
    let record = AttemptRecord {
        expires_ms: now + DEDUP_WINDOW_MS,
        messages,
    };
    txn.put(&key, &to_json(&record));
    txn.put(
        &model::dedup_expiry_key(queue_id, record.expires_ms, &short),
        &[],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_ids_follow_the_id_rule() {
        assert!(check("attempt-1").is_ok());
        assert_eq!(
            check("a b").unwrap_err().message,
            "Value a b for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length."
        );
        // Printable ASCII never starts with 0x01, so attempts and
        // deduplication ids never share a key.
        assert_eq!(attempt_key("x")[0], 1);
    }
}
