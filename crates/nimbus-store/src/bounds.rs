//! Helpers for `(Bound<&[u8]>, Bound<&[u8]>)` key ranges.
//!
//! Both `BTreeMap::range` and redb panic or misbehave on inverted ranges, so
//! every range entry point first asks [`is_empty`] and returns nothing for an
//! empty range instead of passing it down.

use std::ops::Bound;

/// A range whose bounds own their keys (kept in a write call's overlay).
pub(crate) type OwnedRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// True if no key can lie in `[lower, upper)` as the bounds describe.
pub(crate) fn is_empty(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u))
        | (Bound::Excluded(l), Bound::Excluded(u)) => l >= u,
        _ => false,
    }
}

pub(crate) fn contains(range: &OwnedRange, key: &[u8]) -> bool {
    let above = match &range.0 {
        Bound::Included(l) => key >= l.as_slice(),
        Bound::Excluded(l) => key > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match &range.1 {
        Bound::Included(u) => key <= u.as_slice(),
        Bound::Excluded(u) => key < u.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

pub(crate) fn to_owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

pub(crate) fn as_ref(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Bound::*;

    #[test]
    fn empty_ranges() {
        assert!(!is_empty(Unbounded, Unbounded));
        assert!(!is_empty(Included(b"a"), Included(b"a")));
        assert!(is_empty(Included(b"a"), Excluded(b"a")));
        assert!(is_empty(Excluded(b"a"), Included(b"a")));
        assert!(is_empty(Included(b"b"), Included(b"a")));
        assert!(!is_empty(Excluded(b"a"), Excluded(b"b")));
    }

    #[test]
    fn containment() {
        let r: OwnedRange = (Excluded(b"b".to_vec()), Included(b"d".to_vec()));
        assert!(!contains(&r, b"b"));
        assert!(contains(&r, b"b\0"));
        assert!(contains(&r, b"d"));
        assert!(!contains(&r, b"d\0"));
        assert!(contains(&(Unbounded, Unbounded), b""));
    }
}
