//! Shards: consecutive ranges of a stream's record numbers.
//!
//! A stream's records are numbered in one global sequence; its shards cut
//! that sequence into consecutive ranges, oldest first. The open shard (the
//! last one) rolls over once it is older than the stream's rollover period
//! (AWS rolls about every four hours): the first record written after that
//! opens a new shard whose parent is the old one, and the old one ends at
//! the record before.
//!
//! Only shard starts are stored (`H` stream id (u64 BE) | first record
//! number (u64 BE) -> [`Shard`] JSON); a shard ends where the next starts,
//! or where the stream closed. The start of a new shard is written by
//! [`roll_if_due`] inside the store write of the record that opens it, so
//! a snapshot that holds a shard's successor also holds every record of the
//! shard that will ever exist: numbers are handed out in the writer, in
//! commit order. Readers therefore take shard ends from their snapshot,
//! never from memory.
//!
//! A shard only rolls once a record number has been handed out in it, so
//! every closed shard had a record; an idle stream keeps its one open shard
//! until a write comes (AWS would show empty shards instead).
//!
//! Streams stored before shards existed have no `H` keys: their one shard
//! is implied ([`StreamMeta::shard_id`], starting at record 1), and is
//! written out the first time it rolls.

use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};
use serde::{Deserialize, Serialize};

use super::{Stream, StreamMeta};
use crate::error::{DynamoError, Result};
use crate::layout;

pub const SHARD_TAG: u8 = b'S';

/// AWS's default shard lifetime.
pub const DEFAULT_ROLLOVER_MS: u64 = 4 * 3600 * 1000;

/// One shard as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// `shardId-<20 digits>-<8 hex>`, as AWS shapes them.
    pub id: String,
    /// The shard this one continues (AWS's ParentShardId).
    pub parent: Option<String>,
    pub created_ms: u64,
    /// The number of its first record.
    pub first: u64,
}

/// A shard and where it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub shard: Shard,
    /// The last record number that belongs to it; `None` while open.
    pub last: Option<u64>,
}

impl Span {
    pub fn contains(&self, number: u64) -> bool {
        number >= self.shard.first && self.last.is_none_or(|l| number <= l)
    }

    /// Closed, with a record once, and every record of it trimmed: AWS no
    /// longer lists it.
    pub fn trimmed_away(&self, trimmed_before: u64) -> bool {
        self.last
            .is_some_and(|l| l >= self.shard.first && l < trimmed_before)
    }
}

pub fn shards_prefix(stream_id: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = SHARD_TAG;
    k[1..].copy_from_slice(&stream_id.to_be_bytes());
    k
}

pub fn shard_key(stream_id: u64, first: u64) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[..9].copy_from_slice(&shards_prefix(stream_id));
    k[9..].copy_from_slice(&first.to_be_bytes());
    k
}

/// The id of a shard created at `created_ms` starting at record `first`:
/// the time in the 20 digits, a hash of the stream and start in the hex.
pub fn new_shard_id(stream_id: u64, created_ms: u64, first: u64) -> String {
    let mut seed = [0u8; 16];
    seed[..8].copy_from_slice(&stream_id.to_be_bytes());
    seed[8..].copy_from_slice(&first.to_be_bytes());
    let hex = xxhash_rust::xxh3::xxh3_64(&seed) as u32;
    format!("shardId-{created_ms:020}-{hex:08x}")
}

/// The first shard of a stream (the implied one of older streams too).
pub fn initial_shard(meta: &StreamMeta) -> Shard {
    Shard {
        id: meta.shard_id(),
        parent: None,
        created_ms: meta.created_ms,
        first: 1,
    }
}

pub(crate) fn write_shard(txn: &mut WriteTxn<'_>, stream_id: u64, shard: &Shard) {
    txn.put(
        &shard_key(stream_id, shard.first),
        &serde_json::to_vec(shard).expect("shards serialize"),
    );
}

fn parse(v: &[u8]) -> Result<Shard> {
    serde_json::from_slice(v)
        .map_err(|e| DynamoError::Internal(format!("a stored stream shard is unreadable: {e}")))
}

/// The stored shards of a stream, oldest first (empty for older streams
/// whose one shard is implied).
fn stored(view: &impl ReadView, stream_id: u64) -> Result<Vec<Shard>> {
    let prefix = shards_prefix(stream_id);
    let end = layout::prefix_end(&prefix);
    let mut out = Vec::new();
    let mut bad = None;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |_, v| match parse(v) {
            Ok(s) => {
                out.push(s);
                true
            }
            Err(e) => {
                bad = Some(e);
                false
            }
        },
    )?;
    match bad {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Every shard of the stream `meta` describes, oldest first, with its end,
/// as of `view` (read `meta` from the same view). Shards trimmed away are
/// included; callers that list shards drop them.
pub fn spans(view: &impl ReadView, meta: &StreamMeta) -> Result<Vec<Span>> {
    let mut shards = stored(view, meta.id)?;
    if shards.is_empty() {
        shards.push(initial_shard(meta));
    }
    let mut out: Vec<Span> = Vec::with_capacity(shards.len());
    for shard in shards {
        if let Some(prev) = out.last_mut() {
            prev.last = Some(shard.first - 1);
        }
        out.push(Span { shard, last: None });
    }
    if let (Some(c), Some(open)) = (meta.closed, out.last_mut()) {
        // A stream closed before its open shard got a record leaves that
        // shard empty: it ends before it starts.
        open.last = Some(c.last.max(open.shard.first - 1));
    }
    Ok(out)
}

/// Inside the store write of record `number`: opens a new shard at it when
/// the open shard is due to roll over.
pub(crate) fn roll_if_due(
    txn: &mut WriteTxn<'_>,
    stream: &Stream,
    stream_id: u64,
    number: u64,
    now_ms: u64,
) -> Result<()> {
    if stream.rollover_ms == 0 {
        return Ok(());
    }
    let prefix = shards_prefix(stream_id);
    let end = layout::prefix_end(&prefix);
    let mut open = None;
    let mut bad = None;
    txn.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        true,
        &mut |_, v| {
            match parse(v) {
                Ok(s) => open = Some(s),
                Err(e) => bad = Some(e),
            }
            false
        },
    )?;
    if let Some(e) = bad {
        return Err(e);
    }
    let implied = open.is_none();
    let open = match open {
        Some(s) => s,
        None => initial_shard(&stream.meta()),
    };
    // Due by age, and only once a number was handed out in it, so the
    // shard it closes is not empty.
    if now_ms.saturating_sub(open.created_ms) < stream.rollover_ms || number <= open.first {
        return Ok(());
    }
    if implied {
        write_shard(txn, stream_id, &open);
    }
    let shard = Shard {
        id: new_shard_id(stream_id, now_ms, number),
        parent: Some(open.id),
        created_ms: now_ms,
        first: number,
    };
    write_shard(txn, stream_id, &shard);
    tracing::debug!(stream = %stream.meta().arn, shard = %shard.id, "stream shard rolled over");
    Ok(())
}

/// Inside a trim write that moved the stream's `trimmed_before`: forgets
/// the closed shards whose records are all gone. The last stored shard
/// stays (listings hide it when it is trimmed away), so the stored list is
/// never emptied back into the implied first shard.
pub(crate) fn forget_trimmed(
    txn: &mut WriteTxn<'_>,
    meta: &StreamMeta,
    trimmed_before: u64,
) -> Result<()> {
    let mut spans = stored_spans(txn, meta)?;
    spans.pop();
    for span in spans {
        if span.trimmed_away(trimmed_before) {
            txn.delete(&shard_key(meta.id, span.shard.first));
        }
    }
    Ok(())
}

/// [`spans`] of the stored shards only.
fn stored_spans(view: &impl ReadView, meta: &StreamMeta) -> Result<Vec<Span>> {
    if stored(view, meta.id)?.is_empty() {
        return Ok(Vec::new());
    }
    spans(view, meta)
}

/// Deletes every stored shard of a stream (the stream itself goes).
pub(crate) fn delete_all(txn: &mut WriteTxn<'_>, stream_id: u64) -> Result<()> {
    let prefix = shards_prefix(stream_id);
    let end = layout::prefix_end(&prefix);
    txn.delete_range(Bound::Included(&prefix[..]), Bound::Excluded(&end[..]))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ids_have_aws_shape_and_differ_per_start() {
        let a = new_shard_id(3, 1_714_564_800_000, 10);
        let b = new_shard_id(3, 1_714_564_800_000, 11);
        assert_ne!(a, b);
        let rest = a.strip_prefix("shardId-").unwrap();
        let (digits, hex) = rest.split_once('-').unwrap();
        assert_eq!(digits.len(), 20);
        assert!(digits.bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(hex.len(), 8);
        assert!(hex.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn spans_contain_their_numbers() {
        let s = |first| Shard {
            id: String::new(),
            parent: None,
            created_ms: 0,
            first,
        };
        let closed = Span {
            shard: s(5),
            last: Some(9),
        };
        assert!(!closed.contains(4) && closed.contains(5) && closed.contains(9));
        assert!(!closed.contains(10));
        assert!(closed.trimmed_away(10) && !closed.trimmed_away(9));
        let open = Span {
            shard: s(10),
            last: None,
        };
        assert!(open.contains(u64::MAX) && !open.trimmed_away(u64::MAX));
        // An empty shard (closed before its first record) is never trimmed away.
        let empty = Span {
            shard: s(1),
            last: Some(0),
        };
        assert!(!empty.trimmed_away(100));
    }
}
