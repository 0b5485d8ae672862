//! Matching an event against a parsed pattern.
//!
//! The pattern is walked structurally alongside the event:
//! - a pattern object matches an event object when every field matches and
//!   each `$or` has a matching alternative;
//! - where the event holds an array under a pattern object, the pattern
//!   must match one element as a whole, so fields matched together come
//!   from the same element (EventBridge's array consistency);
//! - a leaf condition sees the event's leaf values at that path: a scalar, or
//!   every scalar in an array (nested arrays flattened). Objects are not
//!   leaves, so a field holding an object, an empty array or nothing at all
//!   is "absent" to a leaf: only `{"exists": false}` matches it.
//!
//! Recursion depth follows the pattern only (bounded when parsed); the
//! event's arrays are flattened with an explicit stack, so a hostile event
//! cannot exhaust the stack either.

use serde_json::Value;

use crate::cidr::address_if_possible;
use crate::model::{
    AnythingBut, Condition, FieldPattern, Literal, NumberLiteral, ObjectPattern, Range,
};
use crate::number::comparable;

/// Whether the pattern object matches the event value found at its path.
pub(crate) fn object_matches(pattern: &ObjectPattern, node: Option<&Value>) -> bool {
    match node {
        Some(Value::Array(_)) => {
            let elements = flatten(node);
            if elements.is_empty() {
                object_matches_one(pattern, None)
            } else {
                elements
                    .into_iter()
                    .any(|e| object_matches_one(pattern, Some(e)))
            }
        }
        _ => object_matches_one(pattern, node),
    }
}

/// `node` is not an array here.
fn object_matches_one(pattern: &ObjectPattern, node: Option<&Value>) -> bool {
    let object = node.and_then(Value::as_object);
    let fields_match = pattern.fields.iter().all(|(name, field)| {
        let child = object.and_then(|o| o.get(name));
        match field {
            FieldPattern::Object(inner) => object_matches(inner, child),
            FieldPattern::Leaf(conditions) => leaf_matches(conditions, child),
        }
    });
    fields_match
        && pattern
            .ors
            .iter()
            .all(|alternatives| alternatives.iter().any(|a| object_matches_one(a, node)))
}

fn leaf_matches(conditions: &[Condition], node: Option<&Value>) -> bool {
    let values: Vec<&Value> = flatten(node)
        .into_iter()
        .filter(|v| !v.is_object())
        .collect();
    if values.is_empty() {
        return conditions
            .iter()
            .any(|c| matches!(c, Condition::Exists(false)));
    }
    conditions.iter().any(|c| match c {
        Condition::Exists(present) => *present,
        other => values.iter().any(|v| condition_matches(other, v)),
    })
}

/// Every non-array value reachable through arrays from `node`, in order.
fn flatten(node: Option<&Value>) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = node.into_iter().collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items.iter().rev()),
            other => out.push(other),
        }
    }
    out
}

/// One condition against one present leaf value (a scalar).
fn condition_matches(condition: &Condition, value: &Value) -> bool {
    match condition {
        Condition::Literal(Literal::String(s)) => value.as_str() == Some(s.as_str()),
        // An address literal also matches the same address written another way.
        Condition::Address { text, bytes } => value
            .as_str()
            .is_some_and(|v| v == text || address_if_possible(v).is_some_and(|a| a == *bytes)),
        Condition::Literal(Literal::Bool(b)) => value.as_bool() == Some(*b),
        Condition::Literal(Literal::Null) => value.is_null(),
        Condition::Number(literal) => number_equals(literal, value),
        Condition::Prefix(p) => value.as_str().is_some_and(|s| s.starts_with(p.as_str())),
        Condition::Suffix(p) => value.as_str().is_some_and(|s| s.ends_with(p.as_str())),
        Condition::PrefixIgnoreCase(p) => value
            .as_str()
            .is_some_and(|s| s.to_lowercase().starts_with(&p.to_lowercase())),
        Condition::SuffixIgnoreCase(p) => value
            .as_str()
            .is_some_and(|s| s.to_lowercase().ends_with(&p.to_lowercase())),
        Condition::EqualsIgnoreCase(p) => value
            .as_str()
            .is_some_and(|s| s.to_lowercase() == p.to_lowercase()),
        Condition::Wildcard(w) => value.as_str().is_some_and(|s| w.matches(s)),
        Condition::Numeric(range) => in_range(range, value),
        Condition::Cidr(block) => value.as_str().is_some_and(|v| block.contains(v)),
        Condition::AnythingBut(but) => !excluded(but, value),
        // Handled by the caller, which knows whether the field is present.
        Condition::Exists(present) => *present,
    }
}

/// A bare pattern number equals an event number of the same value when both
/// are inside the numeric range, and otherwise only one printed the same way.
fn number_equals(literal: &NumberLiteral, value: &Value) -> bool {
    let Value::Number(n) = value else {
        return false;
    };
    if let (Some(micros), Some(c)) = (literal.micros, comparable(n)) {
        if c.eq(micros) {
            return true;
        }
    }
    literal.number.to_string() == n.to_string()
}

fn in_range(range: &Range, value: &Value) -> bool {
    let Some(c) = value.as_number().and_then(comparable) else {
        return false;
    };
    let above = range.lower.is_none_or(|b| {
        if b.inclusive {
            c.ge(b.micros)
        } else {
            c.gt(b.micros)
        }
    });
    let below = range.upper.is_none_or(|b| {
        if b.inclusive {
            c.le(b.micros)
        } else {
            c.lt(b.micros)
        }
    });
    above && below
}

/// Whether `anything-but` rules this value out. Values of another type than
/// the excluded ones are never excluded (anything-but "a" matches 5 and null).
fn excluded(but: &AnythingBut, value: &Value) -> bool {
    match (but, value) {
        (AnythingBut::Strings(list), Value::String(s)) => list.iter().any(|x| x == s),
        (AnythingBut::Numbers(list), Value::Number(n)) => {
            comparable(n).is_some_and(|c| list.iter().any(|m| c.eq(*m)))
        }
        (AnythingBut::Prefixes(list), Value::String(s)) => {
            list.iter().any(|p| s.starts_with(p.as_str()))
        }
        (AnythingBut::Suffixes(list), Value::String(s)) => {
            list.iter().any(|p| s.ends_with(p.as_str()))
        }
        (AnythingBut::IgnoreCase(list), Value::String(s)) => {
            let lower = s.to_lowercase();
            list.contains(&lower)
        }
        (AnythingBut::Wildcards(list), Value::String(s)) => list.iter().any(|w| w.matches(s)),
        _ => false,
    }
}
