//! What expressions need to know about attribute values: type codes as AWS
//! prints them, which types order, how they order, and how `size()` counts.

use std::cmp::Ordering;

use crate::model::{AttributeValue, Number};

/// The type code AWS prints in expression messages ("operand type: M").
pub(crate) fn type_code(value: &AttributeValue) -> &'static str {
    match value {
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

/// Only strings, numbers and binaries have an order; `<`, `BETWEEN` and
/// friends are false for anything else.
pub(crate) fn is_orderable(value: &AttributeValue) -> bool {
    matches!(
        value,
        AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
    )
}

/// Orders two values of the same orderable type: numbers numerically, strings
/// by their UTF-8 bytes (which is code point order), binaries as unsigned
/// bytes. `None` for different or unorderable types.
pub(crate) fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `size()`: string length in UTF-8 bytes, binary length, element count of
/// sets, lists and maps. Numbers, booleans and nulls have no size.
pub(crate) fn size_of(value: &AttributeValue) -> Option<usize> {
    match value {
        AttributeValue::S(s) => Some(s.len()),
        AttributeValue::B(b) => Some(b.len()),
        AttributeValue::Ss(v) => Some(v.len()),
        AttributeValue::Ns(v) => Some(v.len()),
        AttributeValue::Bs(v) => Some(v.len()),
        AttributeValue::L(v) => Some(v.len()),
        AttributeValue::M(m) => Some(m.len()),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => None,
    }
}

/// A count as a DynamoDB number.
pub(crate) fn number_from_count(n: usize) -> Option<Number> {
    n.to_string().parse::<Number>().ok()
}

/// A scalar rendered the way AWS quotes operands in BETWEEN messages:
/// `AttributeValue: {N:5}`.
pub(crate) fn describe(value: &AttributeValue) -> String {
    use base64::Engine as _;
    let inner = match value {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => base64::engine::general_purpose::STANDARD.encode(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_string(),
        other => format!("{other:?}"),
    };
    format!("AttributeValue: {{{}:{}}}", type_code(value), inner)
}
