//! Reads through a stack of levels over the redb table: a write call's own
//! overlay (for a [`crate::WriteTxn`]), then the memtable's active layer,
//! then its frozen layers, newest first, and the table last.
//!
//! Rules (each level keeps the overlay/layer invariants, see `layer`):
//! - A key's state is that of the newest level that knows it: a point, or a
//!   cleared range that covers it; failing that, the table's.
//! - A scan shows, for each key, the newest level's point (if it is a put),
//!   unless a cleared range of a still newer level covers the key; a table
//!   entry shows unless some level has a point for its key or a cleared
//!   range over it.
//!
//! Most scans find no level touching their range and go straight to the
//! table.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use redb::ReadOnlyTable;

use crate::bounds;
use crate::layer::Layer;
use crate::overlay::{Lookup, Overlay};
use crate::read::{table_get_with, table_range, table_scan};
use crate::StoreError;

pub(crate) type KvReadTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The levels over the table, each optional, newest first.
#[derive(Clone, Copy, Default)]
pub(crate) struct Stack<'a> {
    pub(crate) overlay: Option<&'a Overlay>,
    pub(crate) active: Option<&'a Layer>,
    /// Newest first.
    pub(crate) frozen: &'a [Arc<Layer>],
}

impl<'a> Stack<'a> {
    fn levels(self) -> impl Iterator<Item = Level<'a>> {
        let active = self.active.filter(|l| !l.is_empty());
        self.overlay
            .map(Level::Overlay)
            .into_iter()
            .chain(active.map(Level::Layer))
            .chain(self.frozen.iter().map(|l| Level::Layer(l)))
    }
}

/// One level of the stack.
#[derive(Clone, Copy)]
enum Level<'a> {
    Overlay(&'a Overlay),
    Layer(&'a Layer),
}

type Points<'a> = Box<dyn Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + 'a>;

impl<'a> Level<'a> {
    fn lookup(self, key: &[u8]) -> Lookup<'a> {
        match self {
            Level::Overlay(o) => o.lookup(key),
            Level::Layer(l) => l.lookup(key),
        }
    }

    fn hides(self, key: &[u8]) -> bool {
        match self {
            Level::Overlay(o) => o.hides_table_key(key),
            Level::Layer(l) => l.hides(key),
        }
    }

    fn touches(self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
        match self {
            Level::Overlay(o) => !o.is_empty(),
            Level::Layer(l) => l.touches(lower, upper),
        }
    }

    fn points(self, lower: Bound<&[u8]>, upper: Bound<&[u8]>, reverse: bool) -> Points<'a> {
        match (self, reverse) {
            (Level::Overlay(o), false) => Box::new(
                o.points_in(lower, upper)
                    .map(|(k, v)| (k.as_slice(), v.as_deref())),
            ),
            (Level::Overlay(o), true) => Box::new(
                o.points_in(lower, upper)
                    .rev()
                    .map(|(k, v)| (k.as_slice(), v.as_deref())),
            ),
            (Level::Layer(l), false) => Box::new(l.points_in(lower, upper)),
            (Level::Layer(l), true) => Box::new(l.points_in(lower, upper).rev()),
        }
    }
}

pub(crate) fn get_with<R>(
    stack: Stack<'_>,
    table: Option<&KvReadTable>,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, StoreError> {
    for level in stack.levels() {
        match level.lookup(key) {
            Lookup::Value(v) => return Ok(Some(f(v))),
            Lookup::Deleted => return Ok(None),
            Lookup::Unknown => {}
        }
    }
    match table {
        Some(table) => table_get_with(table, key, f),
        None => Ok(None),
    }
}

type TableItem<'t> = (
    redb::AccessGuard<'t, &'static [u8]>,
    redb::AccessGuard<'t, &'static [u8]>,
);
type TableIter<'t> = Box<dyn Iterator<Item = Result<TableItem<'t>, redb::StorageError>> + 't>;

fn next_table<'t>(iter: &mut Option<TableIter<'t>>) -> Result<Option<TableItem<'t>>, StoreError> {
    match iter.as_mut().and_then(Iterator::next) {
        Some(item) => item
            .map(Some)
            .map_err(|e| StoreError::storage("scan a range", e)),
        None => Ok(None),
    }
}

pub(crate) fn scan(
    stack: Stack<'_>,
    table: Option<&KvReadTable>,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
    visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), StoreError> {
    if bounds::is_empty(lower, upper) {
        return Ok(());
    }
    if !stack.levels().any(|l| l.touches(lower, upper)) {
        return match table {
            Some(table) => table_scan(table, lower, upper, reverse, visit),
            None => Ok(()),
        };
    }
    let levels: Vec<Level<'_>> = stack.levels().collect();
    let mut iters: Vec<Points<'_>> = levels
        .iter()
        .map(|l| l.points(lower, upper, reverse))
        .collect();
    let mut heads: Vec<_> = iters.iter_mut().map(|it| it.next()).collect();
    let mut table_iter: Option<TableIter<'_>> = match table {
        Some(table) => table_range(table, lower, upper)?.map(|range| -> TableIter<'_> {
            if reverse {
                Box::new(range.rev())
            } else {
                Box::new(range)
            }
        }),
        None => None,
    };
    let mut table_head = next_table(&mut table_iter)?;
    // "a comes before b in scan order"
    let before = |a: &[u8], b: &[u8]| {
        let o = a.cmp(b);
        if reverse {
            o == Ordering::Greater
        } else {
            o == Ordering::Less
        }
    };
    loop {
        // The next key in scan order, over every level and the table.
        let mut best: Option<&[u8]> = table_head.as_ref().map(|(k, _)| k.value());
        for (key, _) in heads.iter().flatten() {
            if best.is_none_or(|b| before(key, b)) {
                best = Some(*key);
            }
        }
        let Some(best) = best else { return Ok(()) };
        // The newest level holding it decides; the table if none does.
        let winner = heads
            .iter()
            .position(|h| h.is_some_and(|(k, _)| k == best))
            .unwrap_or(levels.len());
        let value = match heads.get(winner) {
            Some(Some((_, value))) => *value,
            _ => table_head.as_ref().map(|(_, v)| v.value()),
        };
        let hidden = levels[..winner].iter().any(|l| l.hides(best));
        let advance: Vec<bool> = heads
            .iter()
            .map(|head| head.is_some_and(|(k, _)| k == best))
            .collect();
        let advance_table = table_head.as_ref().is_some_and(|(k, _)| k.value() == best);
        if let (Some(value), false) = (value, hidden) {
            if !visit(best, value) {
                return Ok(());
            }
        }
        for (i, head) in heads.iter_mut().enumerate() {
            if advance[i] {
                *head = iters[i].next();
            }
        }
        if advance_table {
            table_head = next_table(&mut table_iter)?;
        }
    }
}
