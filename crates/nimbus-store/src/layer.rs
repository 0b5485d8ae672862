//! A memtable layer: acknowledged writes that the redb table does not hold
//! yet.
//!
//! The writer thread absorbs each successful call's [`Overlay`] into the
//! *active* layer, publishes a copy of it to readers once the call's group is
//! durable, and from time to time *freezes* it and hands it to the applier,
//! which writes it into redb in one durable commit (a checkpoint). Readers
//! see the layers over the table (see `merge`). A copy of a layer is a
//! pointer copy: its points live in a persistent map ([`imbl::OrdMap`]),
//! which shares every node the two copies have in common.
//!
//! Invariants (the same as an overlay's, so both merge the same way):
//! - `points` holds the latest state of every key written since the layer
//!   began: `Some(v)` for a put, `None` for a delete.
//! - No point predates a range in `cleared` that contains its key: absorbing
//!   a cleared range drops the points inside it. Hence a key's state is its
//!   point if present, else "deleted" if a cleared range contains it, else
//!   whatever the layers below (and the table) say; and applying every
//!   cleared range first, then every point, turns the table below into the
//!   table as of the layer's last write.

use std::ops::Bound;

use bytes::Bytes;
use imbl::OrdMap;

use crate::bounds::{self, OwnedRange};
use crate::overlay::{Lookup, Overlay};
use crate::redo::Op;

#[derive(Clone, Default)]
pub(crate) struct Layer {
    points: OrdMap<Bytes, Option<Bytes>>,
    cleared: Vec<OwnedRange>,
    /// Bytes of keys and values absorbed, overwritten ones included: it
    /// only decides when to freeze, so an over-estimate is harmless.
    bytes: usize,
}

impl Layer {
    /// Adds a successful call's writes, which follow every write already in
    /// the layer.
    pub(crate) fn absorb(&mut self, overlay: Overlay) {
        self.bytes += overlay.bytes();
        let (points, cleared) = overlay.into_parts();
        for range in cleared {
            let (lower, upper) = (bounds::as_ref(&range.0), bounds::as_ref(&range.1));
            let doomed: Vec<Bytes> = self
                .points
                .range::<_, [u8]>((lower, upper))
                .map(|(k, _)| k.clone())
                .collect();
            for key in doomed {
                self.points.remove::<[u8]>(&key);
            }
            self.cleared.push(range);
        }
        for (key, value) in points {
            self.points.insert(Bytes::from(key), value.map(Bytes::from));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty() && self.cleared.is_empty()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn lookup(&self, key: &[u8]) -> Lookup<'_> {
        match self.points.get::<[u8]>(key) {
            Some(Some(v)) => Lookup::Value(v),
            Some(None) => Lookup::Deleted,
            None if self.hides(key) => Lookup::Deleted,
            None => Lookup::Unknown,
        }
    }

    /// True if a cleared range of this layer covers `key`, hiding it in
    /// every layer below and in the table.
    pub(crate) fn hides(&self, key: &[u8]) -> bool {
        self.cleared.iter().any(|r| bounds::contains(r, key))
    }

    /// Whether anything in this layer could change a scan of the range.
    pub(crate) fn touches(&self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
        !self.cleared.is_empty()
            || self
                .points
                .range::<_, [u8]>((lower, upper))
                .next()
                .is_some()
    }

    /// The layer's points within a (non-empty) range, in key order.
    pub(crate) fn points_in(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> impl DoubleEndedIterator<Item = (&[u8], Option<&[u8]>)> + '_ {
        debug_assert!(!bounds::is_empty(lower, upper));
        self.points
            .range::<_, [u8]>((lower, upper))
            .map(|(k, v)| (k.as_ref(), v.as_deref()))
    }

    /// The layer as redo ops, in the order they must be applied: every
    /// cleared range first, then every point (see the invariants).
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(f: impl FnOnce(&mut Overlay)) -> Overlay {
        let mut o = Overlay::default();
        f(&mut o);
        o
    }

    #[test]
    fn later_writes_win_and_clears_drop_earlier_points() {
        let mut layer = Layer::default();
        layer.absorb(overlay(|o| {
            o.put(b"a", b"1");
            o.put(b"b", b"1");
            o.put(b"c", b"1");
        }));
        layer.absorb(overlay(|o| {
            o.clear_range(Bound::Included(b"b"), Bound::Unbounded);
            o.put(b"c", b"2");
        }));
        assert!(matches!(layer.lookup(b"a"), Lookup::Value(b"1")));
        assert!(matches!(layer.lookup(b"b"), Lookup::Deleted));
        assert!(matches!(layer.lookup(b"c"), Lookup::Value(b"2")));
        assert!(matches!(layer.lookup(b"z"), Lookup::Deleted));
        assert!(matches!(layer.lookup(b"0"), Lookup::Unknown));
        let mut ops = Vec::new();
        layer.for_each_op(|op| ops.push(format!("{op:?}")));
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert!(ops[0].starts_with("DeleteRange"), "{ops:?}");
    }

    #[test]
    fn a_copy_is_unaffected_by_later_writes() {
        let mut layer = Layer::default();
        layer.absorb(overlay(|o| o.put(b"k", b"old")));
        let copy = layer.clone();
        layer.absorb(overlay(|o| o.put(b"k", b"new")));
        assert!(matches!(copy.lookup(b"k"), Lookup::Value(b"old")));
        assert!(matches!(layer.lookup(b"k"), Lookup::Value(b"new")));
    }
}
