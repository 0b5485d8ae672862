//! The message group index of FIFO queues, so a receive reads only the
//! groups it can deliver from instead of every message of the queue.
//!
//! Keys (see also [`crate::model`]):
//! - `sg` queue id | group id | 0x00 | sequence -> empty: every message of a
//!   FIFO queue, by group, in send order. Group ids are printable ASCII, so
//!   the 0x00 ends the group unambiguously.
//! - `sh` queue id | sequence -> group id: the first (oldest) message of
//!   each group, in send order: the order groups are served in.
//!
//! Invariants: a message is in the index exactly when it has a
//! SequenceNumber (it is in a FIFO queue); every group with messages has
//! exactly one `sh` entry, at its lowest sequence. [`add`] and [`remove`]
//! keep both, in the same store write as the message itself. A message
//! always joins its group at the tail, since sequences only grow.

use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};

use crate::error::Result;
use crate::model::{self, MessageRecord};

fn group_prefix(queue_id: u64, group: &str) -> Vec<u8> {
    let mut k = member_prefix(queue_id);
    k.extend_from_slice(group.as_bytes());
    k.push(0);
    k
}

pub fn member_prefix(queue_id: u64) -> Vec<u8> {
    let mut k = b"sg".to_vec();
    k.extend_from_slice(&queue_id.to_be_bytes());
    k
}

fn member_key(queue_id: u64, group: &str, seq: u64) -> Vec<u8> {
    let mut k = group_prefix(queue_id, group);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn head_prefix(queue_id: u64) -> Vec<u8> {
    let mut k = b"sh".to_vec();
    k.extend_from_slice(&queue_id.to_be_bytes());
    k
}

fn head_key(queue_id: u64, seq: u64) -> Vec<u8> {
    let mut k = head_prefix(queue_id);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn tail_seq(key: &[u8]) -> Option<u64> {
    let at = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key[at..].try_into().ok()?))
}

/// The group a message is indexed under, if it is indexed at all.
fn indexed_group(record: &MessageRecord) -> Option<&str> {
    record.sequence_number.as_ref()?;
    Some(record.group_id.as_deref().unwrap_or(""))
}

/// Sequences of `group`'s messages from `from` on, at most `limit`.
pub fn members(
    view: &impl ReadView,
    queue_id: u64,
    group: &str,
    from: u64,
    limit: usize,
) -> Result<Vec<u64>> {
    let prefix = group_prefix(queue_id, group);
    let start = member_key(queue_id, group, from);
    let end = model::prefix_end(&prefix);
    let mut out = Vec::new();
    view.scan(
        Bound::Included(&start[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, _| {
            if let Some(seq) = tail_seq(k) {
                out.push(seq);
            }
            out.len() < limit
        },
    )?;
    Ok(out)
}

/// Group heads in serving order, from sequence `from` on, at most `limit`:
/// (head sequence, group id).
pub fn heads(
    view: &impl ReadView,
    queue_id: u64,
    from: u64,
    limit: usize,
) -> Result<Vec<(u64, String)>> {
    let start = head_key(queue_id, from);
    let end = model::prefix_end(&head_prefix(queue_id));
    let mut out = Vec::new();
    view.scan(
        Bound::Included(&start[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            if let Some(seq) = tail_seq(k) {
                out.push((seq, String::from_utf8_lossy(v).into_owned()));
            }
            out.len() < limit
        },
    )?;
    Ok(out)
}

/// Indexes a message just stored under `seq` (the newest of its group).
pub fn add(txn: &mut WriteTxn<'_>, queue_id: u64, seq: u64, record: &MessageRecord) -> Result<()> {
    let Some(group) = indexed_group(record) else {
        return Ok(());
    };
    if members(txn, queue_id, group, 0, 1)?.is_empty() {
        txn.put(&head_key(queue_id, seq), group.as_bytes());
    }
    txn.put(&member_key(queue_id, group, seq), &[]);
    Ok(())
}

/// Unindexes a message being removed from its queue; if it headed its
/// group, the next one becomes the head.
pub fn remove(
    txn: &mut WriteTxn<'_>,
    queue_id: u64,
    seq: u64,
    record: &MessageRecord,
) -> Result<()> {
    let Some(group) = indexed_group(record) else {
        return Ok(());
    };
    txn.delete(&member_key(queue_id, group, seq));
    let head = head_key(queue_id, seq);
    if txn.get(&head)?.is_some() {
        txn.delete(&head);
        if let Some(&next) = members(txn, queue_id, group, 0, 1)?.first() {
            txn.put(&head_key(queue_id, next), group.as_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::SqsError;

    fn record(group: &str, seq: u64) -> MessageRecord {
        MessageRecord {
            message_id: format!("m{seq}"),
            body: String::new(),
            md5_of_body: String::new(),
            attributes: BTreeMap::new(),
            sender_id: String::new(),
            trace_header: None,
            sent_ms: 0,
            receive_count: 0,
            first_receive_ms: None,
            last_receive_ms: None,
            visible_at_ms: 0,
            group_id: Some(group.into()),
            dedup_id: None,
            sequence_number: Some(crate::fifo::sequence_number(seq)),
            dead_letter_source_arn: None,
        }
    }

    #[test]
    fn heads_follow_removals() {
        let store = nimbus_store::Store::in_memory().unwrap();
        store
            .write_blocking(|txn| {
                for (g, seq) in [("a", 1), ("b", 2), ("a", 3), ("ab", 4), ("b", 5)] {
                    add(txn, 9, seq, &record(g, seq))?;
                }
                Ok::<_, SqsError>(())
            })
            .unwrap();
        let snap = store.snapshot().unwrap();
        let h = heads(&snap, 9, 0, 10).unwrap();
        assert_eq!(h, vec![(1, "a".into()), (2, "b".into()), (4, "ab".into())]);
        // "a" and "ab" do not share members.
        assert_eq!(members(&snap, 9, "a", 0, 10).unwrap(), vec![1, 3]);
        assert_eq!(members(&snap, 9, "ab", 0, 10).unwrap(), vec![4]);
        drop(snap);
        store
            .write_blocking(|txn| {
                remove(txn, 9, 1, &record("a", 1))?;
                remove(txn, 9, 5, &record("b", 5))?;
                remove(txn, 9, 4, &record("ab", 4))?;
                Ok::<_, SqsError>(())
            })
            .unwrap();
        let snap = store.snapshot().unwrap();
        assert_eq!(
            heads(&snap, 9, 0, 10).unwrap(),
            vec![(2, "b".into()), (3, "a".into())]
        );
        assert_eq!(heads(&snap, 9, 3, 10).unwrap(), vec![(3, "a".into())]);
        assert!(heads(&snap, 8, 0, 10).unwrap().is_empty());
    }

    #[test]
    fn standard_messages_are_not_indexed() {
        let store = nimbus_store::Store::in_memory().unwrap();
        let mut plain = record("g", 1);
        plain.sequence_number = None;
        store
            .write_blocking(move |txn| add(txn, 1, 1, &plain))
            .unwrap();
        assert!(heads(&store.snapshot().unwrap(), 1, 0, 10)
            .unwrap()
            .is_empty());
    }
}
