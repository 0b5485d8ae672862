//! Attribute values, the ten DynamoDB types.

use std::collections::BTreeMap;

use super::Number;

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
