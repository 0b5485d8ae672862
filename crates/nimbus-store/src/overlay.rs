//! The buffered writes of one write call.
//!
//! A call's `put`/`delete`/`delete_range` land here, not in the writer's
//! memtable, so that a call returning `Err` (or panicking) can be dropped
//! without disturbing the calls before it in the same group. Only when the
//! call returns `Ok` does the writer absorb it into the memtable (`layer`).
//!
//! Invariants:
//! - `points` holds the latest state of every key the call wrote: `Some(v)` for
//!   a put, `None` for a delete.
//! - No entry in `points` predates a range in `cleared` that contains its key:
//!   `clear_range` drops such entries. Hence applying every cleared range
//!   first and then every point gives the same table as replaying the call's
//!   operations in order, and a key's state is `points` if present, else
//!   "deleted" if any cleared range contains it, else the table's.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::bounds::{self, OwnedRange};
use crate::redo::{self, Op};
use crate::StoreError;

/// Largest key + value accepted by `put`. redb itself allows about 3.75 GiB,
/// but an entry that big would pin that much memory in the overlay and the
/// commit; nothing nimbus stores comes near it (DynamoDB items are 400 KB).
pub const MAX_ENTRY_BYTES: usize = 1 << 30;

/// What the overlay knows about one key.
pub(crate) enum Lookup<'o> {
    Value(&'o [u8]),
    Deleted,
    /// Not written by this call: ask the table.
    Unknown,
}

/// A call's point writes: `Some(value)` for a put, `None` for a delete.
pub(crate) type Points = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

#[derive(Default)]
pub(crate) struct Overlay {
    points: Points,
    cleared: Vec<OwnedRange>,
    /// Bytes of keys and values buffered, counting overwritten ones too: it
    /// only sizes groups, so an over-estimate is harmless.
    bytes: usize,
    /// The first put that broke a limit; it fails the whole call.
    rejected: Option<StoreError>,
}

impl Overlay {
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) {
        if key.len() + value.len() > MAX_ENTRY_BYTES {
            self.rejected.get_or_insert(StoreError::EntryTooLarge {
                key_len: key.len(),
                value_len: value.len(),
                limit: MAX_ENTRY_BYTES,
            });
            return;
        }
        self.bytes += key.len() + value.len();
        self.points.insert(key.to_vec(), Some(value.to_vec()));
    }

    pub(crate) fn delete(&mut self, key: &[u8]) {
        self.bytes += key.len();
        self.points.insert(key.to_vec(), None);
    }

    /// Records that every key in the range is deleted as of now.
    pub(crate) fn clear_range(&mut self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) {
        if bounds::is_empty(lower, upper) {
            return;
        }
        let doomed: Vec<Vec<u8>> = self
            .points
            .range::<[u8], _>((lower, upper))
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            self.points.remove(&key);
        }
        self.cleared
            .push((bounds::to_owned(lower), bounds::to_owned(upper)));
    }

    pub(crate) fn lookup(&self, key: &[u8]) -> Lookup<'_> {
        match self.points.get(key) {
            Some(Some(v)) => Lookup::Value(v),
            Some(None) => Lookup::Deleted,
            None if self.hides_table_key(key) => Lookup::Deleted,
            None => Lookup::Unknown,
        }
    }

    /// True if a table key must not be shown because a cleared range covers
    /// it (a point entry for the same key, if any, is merged separately).
    pub(crate) fn hides_table_key(&self, key: &[u8]) -> bool {
        self.cleared.iter().any(|r| bounds::contains(r, key))
    }

    /// The call's point writes within a (non-empty) range, in key order.
    pub(crate) fn points_in(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> std::collections::btree_map::Range<'_, Vec<u8>, Option<Vec<u8>>> {
        debug_assert!(!bounds::is_empty(lower, upper));
        self.points.range::<[u8], _>((lower, upper))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty() && self.cleared.is_empty()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The limit error that fails this call, if any put broke a limit.
    pub(crate) fn take_rejection(&mut self) -> Option<StoreError> {
        self.rejected.take()
    }

    /// The call's writes as redo ops, in the order they must be applied:
    /// every cleared range first, then every point (see the module
    /// invariants for why this equals the call's own order).
    pub(crate) fn for_each_op(&self, mut f: impl FnMut(Op<'_>)) {
        for (lower, upper) in &self.cleared {
            f(Op::DeleteRange(
                bounds::as_ref(lower),
                bounds::as_ref(upper),
            ));
        }
        for (key, value) in &self.points {
            f(match value {
                Some(v) => Op::Put(key, v),
                None => Op::Delete(key),
            });
        }
    }

    /// Appends the call's writes to a write-ahead log record's payload.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        self.for_each_op(|op| redo::encode(&op, out));
    }

    /// The call's point writes and cleared ranges, for a memtable layer to
    /// absorb without copying them.
    pub(crate) fn into_parts(self) -> (Points, Vec<OwnedRange>) {
        (self.points, self.cleared)
    }
}
