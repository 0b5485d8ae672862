//! DynamoDB Streams: each stream-enabled table's change log, written in
//! the same store write as the item change it describes.
//!
//! # In-process interface (for Lambda event source mappings)
//!
//! Other services read streams without HTTP:
//!
//! - [`DynamoDb::stream_records`](crate::DynamoDb::stream_records)`(stream_arn, after_sequence, limit)`
//!   returns up to `limit` records (each a `serde_json::Value` exactly as
//!   GetRecords returns it) whose sequence number is after
//!   `after_sequence` (`None`: from the oldest retained record), plus
//!   whether the stream is closed and has nothing more to give.
//! - [`DynamoDb::wait_for_stream_records`](crate::DynamoDb::wait_for_stream_records)`(stream_arn, after_sequence,
//!   timeout)` resolves as soon as a record after `after_sequence` is
//!   readable (or at the timeout), woken by the stream's `tokio::Notify`,
//!   so pollers never spin.
//! - [`DynamoDb::stream_arns`](crate::DynamoDb::stream_arns)`(account, region)` lists every stream ARN
//!   with its table and status.
//!
//! Records are in the Streams API's shape. Lambda's DynamoDB event differs
//! in two details the caller maps: `eventSourceARN` (the stream ARN) is
//! added, and a TTL record's `userIdentity` members are spelled `type` /
//! `principalId` there instead of the API's `Type` / `PrincipalId`.
//!
//! # Model
//!
//! A stream's records are numbered in one sequence; its shards are
//! consecutive ranges of it that roll over with time, each naming the one
//! before as its parent (see [`shards`]). nimbus never splits a shard, so
//! lineage is a chain. A shard has a starting sequence number and, once
//! rolled over or once the stream is disabled or its table deleted, an
//! ending one; a closed shard's reader gets no NextShardIterator after its
//! last record. In-process readers (Lambda) read the whole sequence.
//!
//! # Keyspaces (see `layout` for the rest)
//!
//! - `D` stream id (u64 BE) -> the stream's [`StreamMeta`] (JSON).
//! - `R` stream id (u64 BE) | record number (u64 BE) -> creation time (ms,
//!   u64 BE) then the record's JSON.
//! - `Q` -> the next stream id (u64 BE).
//! - `H` stream id (u64 BE) | first record number (u64 BE) -> a shard (see
//!   [`shards`]).
//!
//! # Invariants
//!
//! - A record is written only by [`record_change`], called from the one
//!   item-write path (`ops::write::replace_item`), inside the store write
//!   that changes the item: no change without its record, no record
//!   without its change, across crashes.
//! - Record numbers are assigned inside the single writer thread, so they
//!   increase in commit order; a write that fails leaves a gap, never a
//!   reordering. The sequence number is `10^20 + number` (21 digits).
//! - Which stream item writes record to is the table's live stream
//!   (`Table::live_stream`), switched inside the store write that enables
//!   or disables it.
//! - Records older than 24 hours (by the injectable clock) are deleted by
//!   the trimmer ([`trim`]); the stream's `trimmed_before` moves in the
//!   same write, so a position below it is reported as trimmed.

pub mod api;
pub mod iterator;
pub mod reader;
pub mod shards;
pub mod trim;

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use nimbus_clock::Clock;
use nimbus_store::{ReadView, WriteTxn};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

use crate::catalog::{KeyAttr, TableDef};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::model::size::item_size;
use crate::model::Item;

pub const STREAM_TAG: u8 = b'D';
pub const RECORD_TAG: u8 = b'R';
pub const NEXT_STREAM_ID_KEY: &[u8] = b"Q";

/// How long records (and disabled streams) are kept.
pub const RETENTION_MS: u64 = 24 * 3600 * 1000;

/// Sequence numbers are this plus the record number: 21 digits, so their
/// decimal strings order like the numbers.
const SEQUENCE_BASE: u128 = 100_000_000_000_000_000_000;

/// StreamViewType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewType {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

impl ViewType {
    pub const ENUM: &'static str = "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]";

    pub fn parse(s: &str) -> Option<ViewType> {
        Some(match s {
            "KEYS_ONLY" => ViewType::KeysOnly,
            "NEW_IMAGE" => ViewType::NewImage,
            "OLD_IMAGE" => ViewType::OldImage,
            "NEW_AND_OLD_IMAGES" => ViewType::NewAndOldImages,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ViewType::KeysOnly => "KEYS_ONLY",
            ViewType::NewImage => "NEW_IMAGE",
            ViewType::OldImage => "OLD_IMAGE",
            ViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    fn new_image(self) -> bool {
        matches!(self, ViewType::NewImage | ViewType::NewAndOldImages)
    }

    fn old_image(self) -> bool {
        matches!(self, ViewType::OldImage | ViewType::NewAndOldImages)
    }
}

/// The table definition's note of its latest stream (DescribeTable's
/// LatestStreamArn / LatestStreamLabel / StreamSpecification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStream {
    pub id: u64,
    pub arn: String,
    pub label: String,
    pub view_type: ViewType,
    pub enabled: bool,
}

/// When and where a stream's shard closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub at_ms: u64,
    /// The last record number written (0: none).
    pub last: u64,
}

/// Everything stored about one stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub id: u64,
    pub arn: String,
    pub label: String,
    pub account: String,
    pub region: String,
    pub table_name: String,
    pub table_number: u64,
    pub view_type: ViewType,
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    pub created_ms: u64,
    /// The first record number not yet trimmed.
    pub trimmed_before: u64,
    pub closed: Option<Closed>,
}

impl StreamMeta {
    /// The first shard's id, in AWS's shape (`shardId-<20 digits>-<8 hex>`).
    pub fn shard_id(&self) -> String {
        format!("shardId-{:020}-{:08x}", self.created_ms, self.id as u32)
    }

    pub fn status(&self) -> &'static str {
        if self.closed.is_some() {
            "DISABLED"
        } else {
            "ENABLED"
        }
    }
}

/// A live stream: its metadata, the next record number, and the waiters'
/// notifier.
pub struct Stream {
    pub meta: RwLock<StreamMeta>,
    next: AtomicU64,
    pub notify: Notify,
    clock: Clock,
    /// How old the open shard gets before a record opens the next (0:
    /// never).
    rollover_ms: u64,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("meta", &self.meta())
            .finish()
    }
}

impl Stream {
    pub fn meta(&self) -> StreamMeta {
        self.meta.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update_meta(&self, f: impl FnOnce(&mut StreamMeta)) -> StreamMeta {
        let mut m = self.meta.write().unwrap_or_else(|e| e.into_inner());
        f(&mut m);
        m.clone()
    }

    /// The number the next record gets.
    pub fn next_number(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }
}

/// Every stream of the server, by ARN.
pub struct Streams {
    by_arn: RwLock<HashMap<String, Arc<Stream>>>,
    /// The shard rollover period of every stream.
    rollover_ms: u64,
}

impl Default for Streams {
    fn default() -> Self {
        Streams::with_rollover(shards::DEFAULT_ROLLOVER_MS)
    }
}

impl Streams {
    pub fn with_rollover(rollover_ms: u64) -> Streams {
        Streams {
            by_arn: RwLock::default(),
            rollover_ms,
        }
    }

    pub fn get(&self, arn: &str) -> Option<Arc<Stream>> {
        self.by_arn
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
            .cloned()
    }

    pub fn by_id(&self, id: u64) -> Option<Arc<Stream>> {
        self.by_arn
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find(|s| s.meta().id == id)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<Stream>> {
        let mut v: Vec<_> = self
            .by_arn
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        v.sort_by_key(|s| s.meta().arn);
        v
    }

    fn insert(&self, stream: Arc<Stream>) {
        let arn = stream.meta().arn;
        self.by_arn
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(arn, stream);
    }

    fn remove(&self, arn: &str) {
        self.by_arn
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }
}

pub fn stream_key(id: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = STREAM_TAG;
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

pub fn records_prefix(id: u64) -> [u8; 9] {
    let mut k = stream_key(id);
    k[0] = RECORD_TAG;
    k
}

pub fn record_key(id: u64, number: u64) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[..9].copy_from_slice(&records_prefix(id));
    k[9..].copy_from_slice(&number.to_be_bytes());
    k
}

fn record_number(key: &[u8]) -> Option<u64> {
    key.get(9..17)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

/// The decimal sequence number of record `number`.
pub fn sequence_number(number: u64) -> String {
    (SEQUENCE_BASE + number as u128).to_string()
}

/// The record number a sequence number names; `None` when it is not one
/// of ours (not decimal, or out of range).
pub fn parse_sequence_number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 40 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u128 = s.parse().ok()?;
    n.checked_sub(SEQUENCE_BASE)
        .and_then(|n| u64::try_from(n).ok())
}

/// AWS's stream label: the creation time, `2024-05-01T12:00:00.000` (UTC).
pub fn label_for(ms: u64) -> String {
    let t = time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(ms as i64);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Who made a change: a caller, or DynamoDB itself deleting an expired item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Caller,
    TimeToLive,
}

/// Inside an item's store write: appends the stream record for the change
/// from `old` to `new` (stored JSON and parsed items), opening a new shard
/// with it when the open one is due to roll over. Writes nothing when the
/// write changed nothing, as on AWS.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_change(
    txn: &mut WriteTxn<'_>,
    stream: &Stream,
    def: &TableDef,
    old_json: Option<&[u8]>,
    new_json: Option<&[u8]>,
    old: Option<&Item>,
    new: Option<&Item>,
    origin: Origin,
) -> Result<()> {
    let event = match (old, new) {
        (None, None) => return Ok(()),
        (None, Some(_)) => "INSERT",
        (Some(_), None) => "REMOVE",
        (Some(_), Some(_)) if old_json == new_json => return Ok(()),
        (Some(_), Some(_)) => "MODIFY",
    };
    let (view, id, region) = {
        let m = stream.meta.read().unwrap_or_else(|e| e.into_inner());
        if m.closed.is_some() {
            return Ok(());
        }
        (m.view_type, m.id, m.region.clone())
    };
    let either = new.or(old).expect("one image exists");
    let keys: Item = def
        .key_attrs()
        .filter_map(|k| either.get(&k.name).map(|v| (k.name.clone(), v.clone())))
        .collect();
    let mut size = item_size(&keys);
    let number = stream.next.fetch_add(1, Ordering::AcqRel);
    let now = stream.clock.now_ms();
    shards::roll_if_due(txn, stream, id, number, now)?;
    let mut ddb = Map::new();
    ddb.insert("ApproximateCreationDateTime".into(), json!(now / 1000));
    ddb.insert("Keys".into(), json!(keys));
    if let (true, Some(n)) = (view.new_image(), new) {
        size += item_size(n);
        ddb.insert("NewImage".into(), json!(n));
    }
    if let (true, Some(o)) = (view.old_image(), old) {
        size += item_size(o);
        ddb.insert("OldImage".into(), json!(o));
    }
    ddb.insert("SequenceNumber".into(), json!(sequence_number(number)));
    ddb.insert("SizeBytes".into(), json!(size));
    ddb.insert("StreamViewType".into(), json!(view.as_str()));
    let mut record = json!({
        "eventID": uuid::Uuid::new_v4().simple().to_string(),
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": Value::Object(ddb),
    });
    if origin == Origin::TimeToLive {
        // The Streams API's Identity shape; Lambda's event format spells
        // the same members `type` / `principalId`.
        record["userIdentity"] = json!({
            "Type": "Service",
            "PrincipalId": "dynamodb.amazonaws.com",
        });
    }
    let mut value = Vec::with_capacity(256);
    value.extend_from_slice(&now.to_be_bytes());
    serde_json::to_writer(&mut value, &record).expect("records serialize");
    txn.put(&record_key(id, number), &value);
    // Waiters re-check after the commit (see `wait_for_stream_records`).
    stream.notify.notify_waiters();
    Ok(())
}

fn write_meta(txn: &mut WriteTxn<'_>, meta: &StreamMeta) {
    txn.put(
        &stream_key(meta.id),
        &serde_json::to_vec(meta).expect("stream metadata serializes"),
    );
}

/// Inside the write that enables a stream on `def`: allocates the stream,
/// stores it, and returns it (not yet registered: see [`register`]).
pub(crate) fn create_stream(
    txn: &mut WriteTxn<'_>,
    db_streams: &Streams,
    clock: &Clock,
    def: &TableDef,
    view_type: ViewType,
) -> Result<Arc<Stream>> {
    let id = txn
        .get(NEXT_STREAM_ID_KEY)?
        .and_then(|v| v.try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(1);
    txn.put(NEXT_STREAM_ID_KEY, &(id + 1).to_be_bytes());
    let mut created_ms = clock.now_ms();
    // Labels are per-millisecond; two streams of one table in one
    // millisecond (enable, disable, enable) still get distinct ARNs.
    let arn_at = |ms| format!("{}/stream/{}", def.arn(), label_for(ms));
    while db_streams.get(&arn_at(created_ms)).is_some() {
        created_ms += 1;
    }
    let meta = StreamMeta {
        id,
        arn: arn_at(created_ms),
        label: label_for(created_ms),
        account: def.account.clone(),
        region: def.region.clone(),
        table_name: def.name.clone(),
        table_number: def.number,
        view_type,
        hash_key: def.hash_key.clone(),
        range_key: def.range_key.clone(),
        created_ms,
        trimmed_before: 1,
        closed: None,
    };
    write_meta(txn, &meta);
    shards::write_shard(txn, id, &shards::initial_shard(&meta));
    Ok(Arc::new(Stream {
        meta: RwLock::new(meta),
        next: AtomicU64::new(1),
        notify: Notify::new(),
        clock: clock.clone(),
        rollover_ms: db_streams.rollover_ms,
    }))
}

/// Inside the write that disables a stream (or deletes its table): closes
/// its shard at the last record written.
pub(crate) fn close_stream(txn: &mut WriteTxn<'_>, stream: &Stream, now_ms: u64) {
    let last = stream.next_number() - 1;
    let meta = stream.update_meta(|m| {
        if m.closed.is_none() {
            m.closed = Some(Closed {
                at_ms: now_ms,
                last,
            });
        }
    });
    write_meta(txn, &meta);
    stream.notify.notify_waiters();
}

/// Makes a committed stream visible to the Streams API.
pub(crate) fn register(streams: &Streams, stream: Arc<Stream>) {
    streams.insert(stream);
}

/// The table's note of a stream.
pub fn table_stream(stream: &Stream, enabled: bool) -> TableStream {
    let m = stream.meta();
    TableStream {
        id: m.id,
        arn: m.arn,
        label: m.label,
        view_type: m.view_type,
        enabled,
    }
}

/// Loads every stored stream at start-up, restoring each one's next record
/// number from its last record.
pub(crate) fn load(
    view: &impl ReadView,
    clock: &Clock,
    rollover_ms: u64,
) -> Result<Vec<Arc<Stream>>> {
    let prefix = [STREAM_TAG];
    let end = layout::prefix_end(&prefix);
    let mut metas = Vec::new();
    let mut bad = None;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |_, v| match serde_json::from_slice::<StreamMeta>(v) {
            Ok(m) => {
                metas.push(m);
                true
            }
            Err(e) => {
                bad = Some(format!("a stored stream is unreadable: {e}"));
                false
            }
        },
    )?;
    if let Some(msg) = bad {
        return Err(DynamoError::Internal(msg));
    }
    let mut out = Vec::with_capacity(metas.len());
    for meta in metas {
        let prefix = records_prefix(meta.id);
        let end = layout::prefix_end(&prefix);
        let mut last = meta.trimmed_before.saturating_sub(1);
        view.scan(
            Bound::Included(&prefix[..]),
            Bound::Excluded(&end[..]),
            true,
            &mut |k, _| {
                if let Some(n) = record_number(k) {
                    last = last.max(n);
                }
                false
            },
        )?;
        if let Some(c) = meta.closed {
            last = last.max(c.last);
        }
        out.push(Arc::new(Stream {
            meta: RwLock::new(meta),
            next: AtomicU64::new(last + 1),
            notify: Notify::new(),
            clock: clock.clone(),
            rollover_ms,
        }));
    }
    Ok(out)
}

pub(crate) use api::handle;

pub use reader::StreamBatch;

/// Forgets a stream (the trimmer removes disabled streams past retention).
pub(crate) fn unregister(streams: &Streams, arn: &str) {
    streams.remove(arn);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_are_21_digits_and_round_trip() {
        let s = sequence_number(1);
        assert_eq!(s, "100000000000000000001");
        assert_eq!(parse_sequence_number(&s), Some(1));
        assert!(sequence_number(9) < sequence_number(10));
        assert_eq!(parse_sequence_number("12x"), None);
        assert_eq!(parse_sequence_number("5"), None);
    }

    #[test]
    fn labels_read_like_aws() {
        assert_eq!(label_for(1_714_564_800_000), "2024-05-01T12:00:00.000");
        assert_eq!(label_for(1_714_564_800_123), "2024-05-01T12:00:00.123");
    }
}
