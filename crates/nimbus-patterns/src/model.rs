//! A parsed pattern: plain data, built by `parse.rs`, read by `matcher.rs`.

use serde_json::Number;

use crate::cidr::Cidr;
use crate::wildcard::Wildcard;

/// One JSON object of the pattern: every field must match (AND), and each
/// `$or` at this level needs one of its alternatives to match.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectPattern {
    pub fields: Vec<(String, FieldPattern)>,
    /// At most one `$or` per object (JSON keys are unique), but `$or`
    /// alternatives may themselves contain `$or`, hence a list of lists.
    pub ors: Vec<Vec<ObjectPattern>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldPattern {
    /// `"field": { ... }`: descend into the event.
    Object(ObjectPattern),
    /// `"field": [ ... ]`: the field matches if any condition does (OR).
    Leaf(Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    /// A bare string, `true`, `false` or `null` in the array.
    Literal(Literal),
    /// A bare string that is an IP address literal: it also matches the same
    /// address spelled differently. The bytes are parsed once, here.
    Address {
        text: String,
        bytes: Vec<u8>,
    },
    /// A bare number: equal by value within the numeric range (5 == 5.0),
    /// or by text when the number is outside it.
    Number(NumberLiteral),
    Prefix(String),
    PrefixIgnoreCase(String),
    Suffix(String),
    SuffixIgnoreCase(String),
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(Cidr),
    Exists(bool),
    AnythingBut(AnythingBut),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    String(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberLiteral {
    /// Exact millionths, when the number is inside EventBridge's range.
    pub micros: Option<i64>,
    pub number: Number,
}

/// Bounds in millionths; `None` is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub micros: i64,
    pub inclusive: bool,
}

/// What `anything-but` excludes. It matches any present value that is not
/// excluded (so never a missing field).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AnythingBut {
    Strings(Vec<String>),
    /// Millionths: numbers are excluded by value (100 also excludes 100.0).
    Numbers(Vec<i64>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    /// Stored lower-cased.
    IgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}
