//! [`WriteTxn`]: what a write call's closure sees.
//!
//! Reads merge the call's own [`Overlay`] over the writer's memtable, which
//! already holds the writes of the calls before this one (in its group too),
//! over the redb table (see `merge`). Writes only touch the overlay.

use std::ops::Bound;

use crate::merge::{self, KvReadTable, Stack};
use crate::overlay::Overlay;
use crate::read::ReadView;
use crate::StoreError;

/// What the writer reads under a call's overlay: its memtable and a read
/// transaction's table (`None` before the first write ever created it).
#[derive(Clone, Copy)]
pub(crate) struct Base<'a> {
    pub(crate) stack: Stack<'a>,
    pub(crate) table: Option<&'a KvReadTable>,
}

/// A write call's view of the store: read-your-writes, buffered until the
/// call returns `Ok`.
pub struct WriteTxn<'a> {
    base: Base<'a>,
    overlay: Overlay,
    undo: Vec<Undo>,
}

/// Puts back an in-memory change a write call made alongside its writes.
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

impl<'a> WriteTxn<'a> {
    pub(crate) fn new(base: Base<'a>) -> WriteTxn<'a> {
        WriteTxn {
            base,
            overlay: Overlay::default(),
            undo: Vec::new(),
        }
    }

    fn stack(&self) -> Stack<'_> {
        Stack {
            overlay: Some(&self.overlay),
            ..self.base.stack
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

impl ReadView for WriteTxn<'_> {
    fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, StoreError> {
        merge::get_with(self.stack(), self.base.table, key, f)
    }

    fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        merge::scan(self.stack(), self.base.table, lower, upper, reverse, visit)
    }
}
