//! Pattern text to [`ObjectPattern`], refusing what EventBridge refuses with
//! EventBridge's reasons.
//!
//! Rules enforced (EventBridge user guide, "Event pattern syntax" and
//! "Content filtering in Amazon EventBridge event patterns"):
//! - the pattern is a non-empty JSON object; every field holds either a
//!   non-empty object (descend) or a non-empty array of conditions (a leaf);
//! - a leaf array holds strings, numbers, `true`, `false`, `null` or
//!   one-key operator objects: `prefix`, `suffix` (each also as
//!   `{"equals-ignore-case": s}`), `equals-ignore-case`, `wildcard`,
//!   `exists`, `numeric`, `anything-but`, `cidr`;
//! - `$or` holds an array of at least two non-empty objects, whose fields may
//!   not be operator names;
//! - numbers used for numeric matching lie in +-5.0e9 with at most six
//!   decimals.
//!
//! Recursion is bounded twice: serde_json refuses input nested deeper than
//! 128 levels before we see it, and we refuse objects nested deeper than
//! [`MAX_NESTING_DEPTH`].

use serde_json::{Map, Number, Value};

use crate::cidr::{address_if_possible, Cidr};
use crate::error::PatternError;
use crate::model::{
    AnythingBut, Bound, Condition, FieldPattern, Literal, NumberLiteral, ObjectPattern, Range,
};
use crate::number::{pattern_micros, NumberProblem};
use crate::wildcard::Wildcard;

/// Deepest object nesting a pattern may have (the outer object is level 1;
/// each `$or` alternative counts as a level). EventBridge documents no such
/// limit; ours keeps every recursion over a pattern far from the stack's end.
pub const MAX_NESTING_DEPTH: usize = 64;

const OR: &str = "$or";

/// Field names that may not appear inside `$or` (EventBridge reserves its
/// operator names, including some it has not shipped yet).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "html",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

pub(crate) fn parse(text: &str) -> Result<ObjectPattern, PatternError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        if message.starts_with("recursion limit exceeded") {
            PatternError::TooDeep(MAX_NESTING_DEPTH)
        } else {
            PatternError::Json(message)
        }
    })?;
    match value {
        Value::Object(map) => parse_object(&map, 1, false),
        _ => Err(PatternError::NotAnObject),
    }
}

fn parse_object(
    map: &Map<String, Value>,
    depth: usize,
    inside_or: bool,
) -> Result<ObjectPattern, PatternError> {
    if depth > MAX_NESTING_DEPTH {
        return Err(PatternError::TooDeep(MAX_NESTING_DEPTH));
    }
    if map.is_empty() {
        return Err(PatternError::EmptyObject);
    }
    let mut pattern = ObjectPattern {
        fields: Vec::with_capacity(map.len()),
        ors: Vec::new(),
    };
    for (name, value) in map {
        if name == OR {
            pattern.ors.push(parse_or(value, depth)?);
            continue;
        }
        if inside_or && RESERVED_IN_OR.contains(&name.as_str()) {
            return Err(PatternError::OrReservedFieldName(name.clone()));
        }
        let field = match value {
            Value::Object(inner) => {
                FieldPattern::Object(parse_object(inner, depth + 1, inside_or)?)
            }
            Value::Array(items) => FieldPattern::Leaf(parse_leaf(items)?),
            _ => return Err(PatternError::FieldNotObjectOrArray(name.clone())),
        };
        pattern.fields.push((name.clone(), field));
    }
    Ok(pattern)
}

fn parse_or(value: &Value, depth: usize) -> Result<Vec<ObjectPattern>, PatternError> {
    let Value::Array(items) = value else {
        return Err(PatternError::OrNotArray);
    };
    let mut alternatives = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(map) => alternatives.push(parse_object(map, depth + 1, true)?),
            _ => return Err(PatternError::OrMemberNotObject),
        }
    }
    if alternatives.len() < 2 {
        return Err(PatternError::OrTooFewMembers);
    }
    Ok(alternatives)
}

fn parse_leaf(items: &[Value]) -> Result<Vec<Condition>, PatternError> {
    let mut conditions = Vec::with_capacity(items.len());
    for item in items {
        conditions.push(match item {
            Value::Object(map) => parse_expression(map)?,
            Value::String(s) => match address_if_possible(s) {
                Some(bytes) => Condition::Address {
                    text: s.clone(),
                    bytes,
                },
                None => Condition::Literal(Literal::String(s.clone())),
            },
            Value::Bool(b) => Condition::Literal(Literal::Bool(*b)),
            Value::Null => Condition::Literal(Literal::Null),
            // A bare number that cannot be compared numerically (an account
            // id, say) is still a valid pattern: it then matches by text.
            Value::Number(n) => Condition::Number(NumberLiteral {
                micros: pattern_micros(n).ok(),
                number: n.clone(),
            }),
            Value::Array(_) => return Err(PatternError::BadMatchValue),
        });
    }
    if conditions.is_empty() {
        return Err(PatternError::EmptyArray);
    }
    Ok(conditions)
}

/// One `{ "operator": value }` object in a leaf array.
fn parse_expression(map: &Map<String, Value>) -> Result<Condition, PatternError> {
    let Some((operator, value)) = map.iter().next() else {
        return Err(PatternError::MatchExpressionNameNotFound);
    };
    // EventBridge validates the first operator's value before noticing a
    // second key, and names the excess differently per operator.
    let (condition, excess) = match operator.as_str() {
        "prefix" => match value {
            Value::String(s) => (Condition::Prefix(s.clone()), PatternError::OnlyOneKey),
            Value::Object(inner) => (
                Condition::PrefixIgnoreCase(ignore_case_operand(inner, Side::Prefix)?),
                PatternError::OnlyOneKey,
            ),
            _ => return Err(PatternError::MustBeString("prefix")),
        },
        "suffix" => match value {
            Value::String(s) => (Condition::Suffix(s.clone()), PatternError::OnlyOneKey),
            Value::Object(inner) => (
                Condition::SuffixIgnoreCase(ignore_case_operand(inner, Side::Suffix)?),
                PatternError::OnlyOneKey,
            ),
            _ => return Err(PatternError::MustBeString("suffix")),
        },
        "equals-ignore-case" => match value {
            Value::String(s) => (
                Condition::EqualsIgnoreCase(s.clone()),
                PatternError::OnlyOneKey,
            ),
            _ => return Err(PatternError::MustBeString("equals-ignore-case")),
        },
        "wildcard" => match value {
            Value::String(s) => (
                Condition::Wildcard(Wildcard::parse(s)?),
                PatternError::OnlyOneKey,
            ),
            _ => return Err(PatternError::MustBeString("wildcard")),
        },
        "exists" => match value {
            Value::Bool(b) => (Condition::Exists(*b), PatternError::OnlyOneKey),
            _ => return Err(PatternError::ExistsNotBoolean),
        },
        "numeric" => match value {
            Value::Array(items) => (
                Condition::Numeric(parse_numeric(items)?),
                PatternError::TooManyElements,
            ),
            _ => return Err(PatternError::NumericNotArray),
        },
        // EventBridge's text for a non-string cidr names prefix (sic).
        "cidr" => match value {
            Value::String(s) => (Condition::Cidr(Cidr::parse(s)?), PatternError::OnlyOneKey),
            _ => return Err(PatternError::MustBeString("prefix")),
        },
        "anything-but" => (
            Condition::AnythingBut(parse_anything_but(value)?),
            PatternError::TooManyElements,
        ),
        other => return Err(PatternError::UnrecognizedMatchType(other.to_string())),
    };
    if map.len() > 1 {
        return Err(excess);
    }
    Ok(condition)
}

#[derive(Clone, Copy)]
enum Side {
    Prefix,
    Suffix,
}

/// The `{"equals-ignore-case": "..."}` inside `prefix` or `suffix`.
fn ignore_case_operand(map: &Map<String, Value>, side: Side) -> Result<String, PatternError> {
    let Some((operator, value)) = map.iter().next() else {
        return Err(match side {
            Side::Prefix => PatternError::PrefixExpressionNameNotFound,
            Side::Suffix => PatternError::SuffixExpressionNameNotFound,
        });
    };
    if operator != "equals-ignore-case" {
        return Err(match side {
            Side::Prefix => PatternError::UnsupportedPrefixPattern(operator.clone()),
            Side::Suffix => PatternError::UnsupportedSuffixPattern(operator.clone()),
        });
    }
    let Value::String(s) = value else {
        return Err(PatternError::MustBeString("equals-ignore-case"));
    };
    if map.len() > 1 {
        return Err(PatternError::OnlyOneKey);
    }
    Ok(s.clone())
}

/// `["=", n]`, `[">" | ">=" | "<" | "<=", n]`, or
/// `[">" | ">=", low, "<" | "<=", high]`.
fn parse_numeric(items: &[Value]) -> Result<Range, PatternError> {
    let operator = match items.first() {
        Some(Value::String(s)) => s.as_str(),
        other => return Err(PatternError::NumericInvalidMember(token_text(other))),
    };
    let operand = |index: usize, name: &str| match items.get(index) {
        Some(Value::Number(n)) => Ok(n),
        _ => Err(PatternError::NumericValueNotNumber(name.to_string())),
    };
    match operator {
        "=" => {
            let n = operand(1, "equals")?;
            if items.len() > 2 {
                return Err(PatternError::TooManyElements);
            }
            let at = bound(n, true)?;
            Ok(Range {
                lower: Some(at),
                upper: Some(at),
            })
        }
        "<" | "<=" => {
            let n = operand(1, operator)?;
            if items.len() > 2 {
                return Err(PatternError::TooManyElements);
            }
            Ok(Range {
                lower: None,
                upper: Some(bound(n, operator == "<=")?),
            })
        }
        ">" | ">=" => {
            let low = operand(1, operator)?;
            let low_inclusive = operator == ">=";
            if items.len() == 2 {
                return Ok(Range {
                    lower: Some(bound(low, low_inclusive)?),
                    upper: None,
                });
            }
            let upper_operator = match items.get(2) {
                Some(Value::String(s)) => s.as_str(),
                other => return Err(PatternError::NumericBadRangeValue(token_text(other))),
            };
            if upper_operator != "<" && upper_operator != "<=" {
                return Err(PatternError::NumericBadRangeOperator(
                    upper_operator.to_string(),
                ));
            }
            let high = operand(3, upper_operator)?;
            if items.len() > 4 {
                return Err(PatternError::NumericTooManyTerms);
            }
            let lower = bound(low, low_inclusive)?;
            let upper = bound(high, upper_operator == "<=")?;
            if lower.micros >= upper.micros {
                return Err(PatternError::BottomNotBelowTop);
            }
            Ok(Range {
                lower: Some(lower),
                upper: Some(upper),
            })
        }
        other => Err(PatternError::NumericUnknownOperator(other.to_string())),
    }
}

fn bound(n: &Number, inclusive: bool) -> Result<Bound, PatternError> {
    Ok(Bound {
        micros: micros(n)?,
        inclusive,
    })
}

fn micros(n: &Number) -> Result<i64, PatternError> {
    pattern_micros(n).map_err(|problem| match problem {
        NumberProblem::OutOfRange => PatternError::NumberOutOfRange,
        NumberProblem::TooManyDecimals => PatternError::TooManyDecimals,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum ButKind {
    IgnoreCase,
    Prefix,
    Suffix,
    Wildcard,
}

fn parse_anything_but(value: &Value) -> Result<AnythingBut, PatternError> {
    match value {
        Value::String(s) => Ok(AnythingBut::Strings(vec![s.clone()])),
        Value::Number(n) => Ok(AnythingBut::Numbers(vec![micros(n)?])),
        Value::Array(items) => parse_anything_but_list(items),
        Value::Object(map) => parse_anything_but_object(map),
        Value::Bool(_) | Value::Null => Err(PatternError::AnythingButBadValue),
    }
}

/// `{"anything-but": ["a", "b"]}` or `{"anything-but": [1, 2]}`: one type only.
fn parse_anything_but_list(items: &[Value]) -> Result<AnythingBut, PatternError> {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    for item in items {
        match item {
            Value::String(s) => strings.push(s.clone()),
            Value::Number(n) => numbers.push(micros(n)?),
            _ => return Err(PatternError::AnythingButListBadMember),
        }
    }
    match (strings.is_empty(), numbers.is_empty()) {
        (false, true) => Ok(AnythingBut::Strings(strings)),
        (true, false) => Ok(AnythingBut::Numbers(numbers)),
        _ => Err(PatternError::AnythingButListMixed),
    }
}

/// `{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": s or [s, ...]}}`.
fn parse_anything_but_object(map: &Map<String, Value>) -> Result<AnythingBut, PatternError> {
    let Some((operator, value)) = map.iter().next() else {
        return Err(PatternError::AnythingButNameNotFound);
    };
    let kind = match operator.as_str() {
        "equals-ignore-case" => ButKind::IgnoreCase,
        "prefix" => ButKind::Prefix,
        "suffix" => ButKind::Suffix,
        "wildcard" => ButKind::Wildcard,
        other => return Err(PatternError::UnsupportedAnythingBut(other.to_string())),
    };
    let texts: Vec<String> = match value {
        Value::String(s) => vec![but_operand(value, kind).map(|()| s.clone())?],
        Value::Number(_) => return Err(but_operand(value, kind).unwrap_err()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                but_operand(item, kind).map(|()| item.as_str().unwrap_or_default().to_string())
            })
            .collect::<Result<_, _>>()?,
        Value::Bool(_) | Value::Null | Value::Object(_) => {
            return Err(PatternError::AnythingButBadValue)
        }
    };
    if map.len() > 1 {
        return Err(PatternError::TooManyElements);
    }
    Ok(match kind {
        ButKind::IgnoreCase => {
            AnythingBut::IgnoreCase(texts.iter().map(|t| t.to_lowercase()).collect())
        }
        ButKind::Prefix => AnythingBut::Prefixes(texts),
        ButKind::Suffix => AnythingBut::Suffixes(texts),
        ButKind::Wildcard => AnythingBut::Wildcards(
            texts
                .iter()
                .map(|t| Wildcard::parse(t))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Checks one operand of an anything-but object form: a string, non-empty
/// for prefix and suffix.
fn but_operand(value: &Value, kind: ButKind) -> Result<(), PatternError> {
    match value {
        Value::String(s) if s.is_empty() && matches!(kind, ButKind::Prefix | ButKind::Suffix) => {
            Err(PatternError::AnythingButEmptyPrefixSuffix)
        }
        Value::String(_) => Ok(()),
        _ => Err(match kind {
            ButKind::IgnoreCase => PatternError::AnythingButIgnoreCaseBadMember,
            ButKind::Wildcard => PatternError::MustBeString("wildcard"),
            ButKind::Prefix | ButKind::Suffix => PatternError::AnythingButPrefixSuffixNotString,
        }),
    }
}

/// How EventBridge's JSON reader prints the token it found where it wanted
/// something else (`]` when an array ended early).
fn token_text(token: Option<&Value>) -> String {
    match token {
        None => "]".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(_)) => "{".to_string(),
        Some(Value::Array(_)) => "[".to_string(),
        Some(other) => other.to_string(),
    }
}
