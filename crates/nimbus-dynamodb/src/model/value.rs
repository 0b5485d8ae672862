//! Attribute values, the ten DynamoDB types, and their equality.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use super::Number;

// Request decoding lives in decode.rs; callers find it next to the type.
pub use super::decode::{decode_item, decode_value, ValueError, ValueErrorKind};

/// An item or a map value: attribute name to value.
pub type Item = BTreeMap<String, AttributeValue>;

/// One DynamoDB attribute value.
///
/// Sets keep their members in the order they were given and never hold
/// duplicates or nothing (both are rejected when a value is decoded); set
/// equality ignores order.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<AttributeValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

impl AttributeValue {
    /// The type's name as DynamoDB JSON and error messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }
}

/// DynamoDB equality: same type and same value, where sets compare as sets
/// (order ignored), maps as maps, lists element by element and numbers by
/// value (their normalized form makes that structural).
impl PartialEq for AttributeValue {
    fn eq(&self, other: &AttributeValue) -> bool {
        use AttributeValue as V;
        match (self, other) {
            (V::S(a), V::S(b)) => a == b,
            (V::N(a), V::N(b)) => a == b,
            (V::B(a), V::B(b)) => a == b,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Null, V::Null) => true,
            (V::M(a), V::M(b)) => a == b,
            (V::L(a), V::L(b)) => a == b,
            (V::Ss(a), V::Ss(b)) => same_members(a, b),
            (V::Ns(a), V::Ns(b)) => same_members(a, b),
            (V::Bs(a), V::Bs(b)) => same_members(a, b),
            _ => false,
        }
    }
}

impl Eq for AttributeValue {}

/// Set equality for duplicate-free member lists. Small sets compare by
/// scanning (no allocation); large ones through a hash set, so comparing two
/// 10,000-member sets stays linear.
fn same_members<T: Eq + Hash>(a: &[T], b: &[T]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 16 {
        return a.iter().all(|x| b.contains(x));
    }
    let members: HashSet<&T> = a.iter().collect();
    b.iter().all(|x| members.contains(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn type_names() {
        let values = [
            (AttributeValue::S("x".into()), "S"),
            (AttributeValue::N(n("1")), "N"),
            (AttributeValue::B(vec![1]), "B"),
            (AttributeValue::Bool(true), "BOOL"),
            (AttributeValue::Null, "NULL"),
            (AttributeValue::M(Item::new()), "M"),
            (AttributeValue::L(vec![]), "L"),
            (AttributeValue::Ss(vec!["a".into()]), "SS"),
            (AttributeValue::Ns(vec![n("1")]), "NS"),
            (AttributeValue::Bs(vec![vec![1]]), "BS"),
        ];
        for (value, name) in values {
            assert_eq!(value.type_name(), name);
        }
    }

    #[test]
    fn sets_compare_as_sets() {
        let ss = |m: &[&str]| AttributeValue::Ss(m.iter().map(|s| s.to_string()).collect());
        assert_eq!(ss(&["a", "b", "c"]), ss(&["c", "a", "b"]));
        assert_ne!(ss(&["a", "b"]), ss(&["a", "b", "c"]));
        assert_ne!(ss(&["a", "b"]), ss(&["a", "c"]));
        let ns = |m: &[&str]| AttributeValue::Ns(m.iter().map(|s| n(s)).collect());
        assert_eq!(ns(&["1.50", "2"]), ns(&["2", "1.5"]));
        assert_ne!(ns(&["1", "2"]), ns(&["1", "3"]));
        let bs = |m: &[&[u8]]| AttributeValue::Bs(m.iter().map(|b| b.to_vec()).collect());
        assert_eq!(bs(&[b"x", b"y"]), bs(&[b"y", b"x"]));
        assert_ne!(bs(&[b"x"]), bs(&[b"y"]));
        // Large sets take the hashing path.
        let big: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let mut reversed = big.clone();
        reversed.reverse();
        assert_eq!(
            AttributeValue::Ss(big.clone()),
            AttributeValue::Ss(reversed.clone())
        );
        reversed[0] = "x".into();
        assert_ne!(AttributeValue::Ss(big), AttributeValue::Ss(reversed));
    }

    #[test]
    fn documents_and_scalars() {
        let l = |v: Vec<AttributeValue>| AttributeValue::L(v);
        let s = |t: &str| AttributeValue::S(t.into());
        assert_eq!(l(vec![s("a"), s("b")]), l(vec![s("a"), s("b")]));
        assert_ne!(l(vec![s("a"), s("b")]), l(vec![s("b"), s("a")]));
        let mut m1 = Item::new();
        m1.insert("x".into(), AttributeValue::N(n("1.0")));
        m1.insert("y".into(), AttributeValue::Ss(vec!["p".into(), "q".into()]));
        let mut m2 = Item::new();
        m2.insert("y".into(), AttributeValue::Ss(vec!["q".into(), "p".into()]));
        m2.insert("x".into(), AttributeValue::N(n("1")));
        assert_eq!(AttributeValue::M(m1.clone()), AttributeValue::M(m2.clone()));
        m2.insert("z".into(), AttributeValue::Null);
        assert_ne!(AttributeValue::M(m1), AttributeValue::M(m2));
        assert_ne!(s("1"), AttributeValue::N(n("1")));
        assert_ne!(AttributeValue::B(b"a".to_vec()), s("a"));
        assert_ne!(AttributeValue::Bool(true), AttributeValue::Bool(false));
        assert_eq!(AttributeValue::Null, AttributeValue::Null);
        assert_ne!(
            AttributeValue::Ss(vec!["1".into()]),
            AttributeValue::Ns(vec![n("1")])
        );
    }
}
