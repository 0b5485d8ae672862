//! Key attribute values as storage-key bytes whose memcmp order is
//! DynamoDB's key order: strings and binaries by unsigned bytes (UTF-8 byte
//! order is code point order, which is how DynamoDB sorts strings), numbers
//! numerically.

use super::AttributeValue;

/// Appends `value`'s key bytes to `out`. Only S, N and B can be key
/// attributes; for any other type nothing is written and `false` returned.
///
/// S and B are written raw, so they are not self-delimiting: put them last
/// in a key, or escape them. N is self-delimiting (see
/// [`super::Number::encode_ordered`]).
pub fn encode_key_component(value: &AttributeValue, out: &mut Vec<u8>) -> bool {
    match value {
        AttributeValue::S(s) => out.extend_from_slice(s.as_bytes()),
        AttributeValue::B(b) => out.extend_from_slice(b),
        AttributeValue::N(n) => n.encode_ordered(out),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Item, Number};

    fn key(value: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(encode_key_component(value, &mut out));
        out
    }

    #[test]
    fn strings_order_by_utf8_bytes() {
        let sorted = ["", "A", "B", "a", "aa", "ab", "b", "é", "\u{FFFF}", "😀"];
        for pair in sorted.windows(2) {
            let (a, b) = (
                AttributeValue::S(pair[0].into()),
                AttributeValue::S(pair[1].into()),
            );
            assert!(key(&a) < key(&b), "{:?} < {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn binaries_order_unsigned() {
        let sorted: [&[u8]; 5] = [b"", b"\x00", b"\x01", b"\x7f", b"\x80\x00"];
        for pair in sorted.windows(2) {
            let (a, b) = (
                AttributeValue::B(pair[0].to_vec()),
                AttributeValue::B(pair[1].to_vec()),
            );
            assert!(key(&a) < key(&b));
        }
    }

    #[test]
    fn numbers_order_numerically() {
        let sorted = ["-10", "-2", "-1.5", "0", "0.5", "2", "10"];
        for pair in sorted.windows(2) {
            let a = AttributeValue::N(Number::parse(pair[0]).unwrap());
            let b = AttributeValue::N(Number::parse(pair[1]).unwrap());
            assert!(key(&a) < key(&b));
        }
    }

    #[test]
    fn other_types_are_not_keys() {
        for value in [
            AttributeValue::Bool(true),
            AttributeValue::Null,
            AttributeValue::M(Item::new()),
            AttributeValue::L(vec![]),
            AttributeValue::Ss(vec!["a".into()]),
            AttributeValue::Ns(vec![Number::zero()]),
            AttributeValue::Bs(vec![vec![1]]),
        ] {
            let mut out = vec![7];
            assert!(!encode_key_component(&value, &mut out));
            assert_eq!(out, vec![7]);
        }
    }
}
