//! Item size as DynamoDB meters it against the 400 KB item limit, following
//! the Developer Guide's "Item sizes and formats" rules.

use super::{AttributeValue, Item};

/// Largest item DynamoDB stores: 400 KB, binary units.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// Bytes of container overhead for a list or map, whatever it holds.
const DOCUMENT_OVERHEAD: usize = 3;
/// Bytes of overhead per list or map element.
const ELEMENT_OVERHEAD: usize = 1;

/// The item's size: for each attribute, its name's UTF-8 length plus its
/// value's size.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// A value's size, without any attribute name:
/// - S: UTF-8 bytes; B: raw bytes (not base64); N: see [`super::Number::approx_size`];
/// - BOOL, NULL: 1;
/// - sets: the sum of their members' sizes;
/// - L, M: 3 bytes, plus 1 byte per element, plus the elements (for a map,
///   each element's name and value).
pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.approx_size(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.approx_size()).sum(),
        AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
        AttributeValue::L(list) => {
            DOCUMENT_OVERHEAD
                + list
                    .iter()
                    .map(|v| ELEMENT_OVERHEAD + value_size(v))
                    .sum::<usize>()
        }
        AttributeValue::M(map) => {
            DOCUMENT_OVERHEAD
                + map
                    .iter()
                    .map(|(name, v)| ELEMENT_OVERHEAD + name.len() + value_size(v))
                    .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Number;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).unwrap())
    }

    fn item(pairs: Vec<(&str, AttributeValue)>) -> Item {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn scalars() {
        assert_eq!(value_size(&s("abc")), 3);
        assert_eq!(value_size(&s("é")), 2);
        assert_eq!(value_size(&s("")), 0);
        assert_eq!(value_size(&AttributeValue::B(vec![0; 10])), 10);
        assert_eq!(value_size(&AttributeValue::Bool(false)), 1);
        assert_eq!(value_size(&AttributeValue::Null), 1);
        assert_eq!(value_size(&n("12345")), 4);
    }

    #[test]
    fn documents_and_sets() {
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        assert_eq!(value_size(&AttributeValue::M(Item::new())), 3);
        // 3 + (1 + 2) + (1 + 1)
        assert_eq!(
            value_size(&AttributeValue::L(vec![s("xy"), AttributeValue::Null])),
            8
        );
        // 3 + (1 + len("ab") + 1)
        let map = item(vec![("ab", AttributeValue::Bool(true))]);
        assert_eq!(value_size(&AttributeValue::M(map)), 7);
        assert_eq!(
            value_size(&AttributeValue::Ss(vec!["a".into(), "bcd".into()])),
            4
        );
        let ns = AttributeValue::Ns(vec![
            Number::parse("1").unwrap(),
            Number::parse("-1.5").unwrap(),
        ]);
        assert_eq!(value_size(&ns), 2 + 4);
        assert_eq!(
            value_size(&AttributeValue::Bs(vec![vec![1, 2], vec![3]])),
            3
        );
    }

    #[test]
    fn item_sizes_add_names() {
        let it = item(vec![
            ("id", s("abc")),                     // 2 + 3
            ("n", n("12345")),                    // 1 + 4
            ("flag", AttributeValue::Bool(true)), // 4 + 1
        ]);
        assert_eq!(item_size(&it), 5 + 5 + 5);
        assert_eq!(item_size(&Item::new()), 0);
    }

    #[test]
    fn four_hundred_kb_boundary() {
        // A key attribute "a" of 10 chars and a filler "b": exactly at the
        // limit, then one byte over.
        let filler = MAX_ITEM_SIZE - (1 + 10) - 1;
        let at_limit = item(vec![
            ("a", s(&"k".repeat(10))),
            ("b", s(&"x".repeat(filler))),
        ]);
        assert_eq!(item_size(&at_limit), MAX_ITEM_SIZE);
        let over = item(vec![
            ("a", s(&"k".repeat(10))),
            ("b", s(&"x".repeat(filler + 1))),
        ]);
        assert!(item_size(&over) > MAX_ITEM_SIZE);
    }
}
