//! [`WriteTxn`]: what a write call's closure sees.
//!
//! Reads merge the call's own [`Overlay`] over the group's redb table, which
//! already holds the writes of the calls before this one in the group. Writes
//! only touch the overlay. The merge gives overlay entries precedence over
//! table entries with the same key and hides table keys inside cleared ranges.

use std::cmp::Ordering;
use std::ops::Bound;

use crate::overlay::{Lookup, Overlay};
use crate::read::{table_get_with, table_range, ReadView};
use crate::writer::KvTable;
use crate::StoreError;

/// A write call's view of the store: read-your-writes, buffered until the
/// call returns `Ok`.
pub struct WriteTxn<'a> {
    table: &'a KvTable<'a>,
    overlay: Overlay,
    undo: Vec<Undo>,
}

/// Puts back an in-memory change a write call made alongside its writes.
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

impl<'a> WriteTxn<'a> {
    pub(crate) fn new(table: &'a KvTable<'a>) -> WriteTxn<'a> {
        WriteTxn {
            table,
            overlay: Overlay::default(),
            undo: Vec::new(),
        }
    }

    pub(crate) fn into_parts(self) -> (Overlay, Vec<Undo>) {
        (self.overlay, self.undo)
    }

    /// Registers `undo` to run if this call's writes are not committed:
    /// the call fails (returns `Err`, panics, or is rejected), or its group
    /// fails to commit. A service that changes in-memory state inside its
    /// closure (so later calls in the writer see it at once) registers how
    /// to put it back here, so memory never claims a write the store lost.
    /// Undos run on the writer thread, newest first; they must be quick and
    /// must not write to the store.
    pub fn on_abort(&mut self, undo: impl FnOnce() + Send + 'static) {
        self.undo.push(Box::new(undo));
    }

    /// Sets `key` to `value`. An entry over [`crate::MAX_ENTRY_BYTES`] is not
    /// written and makes the whole call fail with `StoreError::EntryTooLarge`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.overlay.put(key, value);
    }

    /// Removes `key` (a no-op if absent).
    pub fn delete(&mut self, key: &[u8]) {
        self.overlay.delete(key);
    }

    /// Deletes every key in the range; counts what it deleted.
    pub fn delete_range(
        &mut self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> Result<u64, StoreError> {
        let mut count = 0u64;
        self.scan(lower, upper, false, &mut |_, _| {
            count += 1;
            true
        })?;
        self.overlay.clear_range(lower, upper);
        Ok(count)
    }
}

type TableItem<'t> = (
    redb::AccessGuard<'t, &'static [u8]>,
    redb::AccessGuard<'t, &'static [u8]>,
);
type TableIter<'t> = Box<dyn Iterator<Item = Result<TableItem<'t>, redb::StorageError>> + 't>;
type PointIter<'o> = Box<dyn Iterator<Item = (&'o Vec<u8>, &'o Option<Vec<u8>>)> + 'o>;

impl ReadView for WriteTxn<'_> {
    fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, StoreError> {
        match self.overlay.lookup(key) {
            Lookup::Value(v) => Ok(Some(f(v))),
            Lookup::Deleted => Ok(None),
            Lookup::Unknown => table_get_with(self.table, key, f),
        }
    }

    fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        // `None` means the bounds are empty, for the overlay as well.
        let Some(range) = table_range(self.table, lower, upper)? else {
            return Ok(());
        };
        let mut table_iter: TableIter<'_> = if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let points = self.overlay.points_in(lower, upper);
        let mut point_iter: PointIter<'_> = if reverse {
            Box::new(points.rev())
        } else {
            Box::new(points)
        };

        // The next visible table entry, skipping keys inside cleared ranges.
        let mut next_table = || -> Result<Option<TableItem<'_>>, StoreError> {
            for item in table_iter.by_ref() {
                let item = item.map_err(|e| StoreError::storage("scan a range", e))?;
                if !self.overlay.hides_table_key(item.0.value()) {
                    return Ok(Some(item));
                }
            }
            Ok(None)
        };

        let mut table_head = next_table()?;
        let mut point_head = point_iter.next();
        loop {
            // Which side holds the next key in scan order; on a tie the
            // overlay wins and the table entry is skipped.
            let order = match (&table_head, &point_head) {
                (None, None) => return Ok(()),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((tk, _)), Some((pk, _))) => {
                    let o = tk.value().cmp(pk.as_slice());
                    if reverse {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if order == Ordering::Less {
                let (k, v) = table_head.take().expect("table side chosen");
                if !visit(k.value(), v.value()) {
                    return Ok(());
                }
                table_head = next_table()?;
            } else {
                if order == Ordering::Equal {
                    table_head = next_table()?;
                }
                let (k, v) = point_head.take().expect("overlay side chosen");
                point_head = point_iter.next();
                if let Some(v) = v {
                    if !visit(k, v) {
                        return Ok(());
                    }
                }
            }
        }
    }
}
