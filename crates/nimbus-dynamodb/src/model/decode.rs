//! Decoding UNTRUSTED DynamoDB JSON (request input) into attribute values,
//! with DynamoDB's errors.
//!
//! DynamoDB reads a request in two stages, and so do we:
//! 1. deserialization (`shape`): a member of the wrong JSON type anywhere in
//!    the request is a SerializationException, whatever else is wrong;
//! 2. validation (`build`): empty or multi-typed values, bad numbers, empty
//!    or duplicated sets, `NULL: false`, nesting deeper than 32 levels are
//!    ValidationExceptions, reported in traversal order.
//!
//! Unknown keys inside an attribute value are ignored, as DynamoDB's JSON
//! reader ignores unknown members, and a member set to `null` counts as
//! absent; so `{"X": "a"}` is "empty", not a serialization error.
//!
//! Stage 1 walks the JSON with an explicit stack, so any depth is safe; stage
//! 2 recurses but stops at 32 levels.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::{AttributeValue, Item, Number};

/// Deepest nesting DynamoDB accepts: a top-level attribute is level 1 and
/// each map or list adds one, so 31 nested maps around a scalar are allowed
/// and 32 are not.
pub const MAX_NESTING_LEVELS: usize = 32;

/// Which AWS error a decoding failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueErrorKind {
    /// `ValidationException`.
    Validation,
    /// `SerializationException`.
    Serialization,
}

/// A request value DynamoDB would refuse, with its exact message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub kind: ValueErrorKind,
    pub message: String,
}

impl ValueError {
    fn validation(message: impl Into<String>) -> ValueError {
        ValueError {
            kind: ValueErrorKind::Validation,
            message: message.into(),
        }
    }

    fn serialization(message: impl Into<String>) -> ValueError {
        ValueError {
            kind: ValueErrorKind::Serialization,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// Decodes one request attribute value, e.g. an ExpressionAttributeValues
/// entry, as a top-level (level 1) value.
pub fn decode_value(value: &Value) -> Result<AttributeValue, ValueError> {
    check_shape(value, Expect::Value)?;
    build(value, 1)
}

/// Decodes a request item or key (attribute name to value).
pub fn decode_item(item: &Map<String, Value>) -> Result<Item, ValueError> {
    for value in item.values() {
        check_shape(value, Expect::Value)?;
    }
    item.iter()
        .map(|(name, value)| Ok((name.clone(), build(value, 1)?)))
        .collect()
}

// ---------------------------------------------------------------------------
// Stage 1: JSON types (SerializationException). The messages are those of
// DynamoDB's Java JSON reader, named after the Java type it was filling.

/// What a JSON position must hold.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// An AttributeValue structure (a map value or list element).
    Value,
    /// A string: S, N, and members of SS and NS.
    Text,
    /// A base64 string: B and members of BS.
    Blob,
    /// A boolean: BOOL and NULL.
    Boolean,
    /// A list of the given element kind: SS, NS, BS, L.
    List(Element),
    /// A map of attribute values: M.
    Map,
}

#[derive(Debug, Clone, Copy)]
enum Element {
    Text,
    Blob,
    Value,
}

impl Element {
    fn expect(self) -> Expect {
        match self {
            Element::Text => Expect::Text,
            Element::Blob => Expect::Blob,
            Element::Value => Expect::Value,
        }
    }
}

const MAP_WHERE_NOT_EXPECTED: &str = "Start of structure or map found where not expected";
const AWS_MODEL: &str = "com.amazonaws.dynamodb.v20120810.AttributeValue";

fn check_shape(root: &Value, expect: Expect) -> Result<(), ValueError> {
    let mut stack = vec![(root, expect)];
    while let Some((value, expect)) = stack.pop() {
        if value.is_null() {
            // Absent; stage 2 decides whether that is allowed here.
            continue;
        }
        match expect {
            Expect::Value => match value {
                Value::Object(members) => {
                    // Reverse, so members are checked in order off the stack.
                    for (key, member) in members.iter().rev() {
                        if let Some(expect) = member_kind(key) {
                            stack.push((member, expect));
                        }
                    }
                }
                Value::Array(_) => {
                    return Err(ValueError::serialization(format!(
                        "Unrecognized collection type class {AWS_MODEL}"
                    )))
                }
                _ => {
                    return Err(ValueError::serialization(
                        "Unexpected value type in payload",
                    ))
                }
            },
            Expect::Text => scalar_as("String", value, |v| v.is_string())?,
            Expect::Boolean => match value {
                Value::String(_) => {
                    return Err(ValueError::serialization(
                        "Unexpected token received from parser",
                    ))
                }
                other => scalar_as("Boolean", other, |v| v.is_boolean())?,
            },
            Expect::Blob => match value {
                Value::String(text) => check_base64(text)?,
                Value::Array(_) => {
                    return Err(ValueError::serialization(
                        "Unrecognized collection type class java.nio.ByteBuffer",
                    ))
                }
                Value::Object(_) => return Err(ValueError::serialization(MAP_WHERE_NOT_EXPECTED)),
                _ => {
                    return Err(ValueError::serialization(
                        "only base-64-encoded strings are convertible to bytes",
                    ))
                }
            },
            Expect::List(element) => match value {
                Value::Array(items) => {
                    stack.extend(items.iter().rev().map(|item| (item, element.expect())));
                }
                Value::Object(_) => return Err(ValueError::serialization(MAP_WHERE_NOT_EXPECTED)),
                _ => return Err(ValueError::serialization("Unexpected field type")),
            },
            Expect::Map => match value {
                Value::Object(members) => {
                    stack.extend(members.values().rev().map(|member| (member, Expect::Value)));
                }
                Value::Array(_) => {
                    return Err(ValueError::serialization(format!(
                        "Unrecognized collection type java.util.Map<java.lang.String, {AWS_MODEL}>"
                    )))
                }
                _ => return Err(ValueError::serialization("Unexpected field type")),
            },
        }
    }
    Ok(())
}

/// The JSON kind each known type key holds; `None` for keys DynamoDB
/// ignores.
fn member_kind(key: &str) -> Option<Expect> {
    Some(match key {
        "S" | "N" => Expect::Text,
        "B" => Expect::Blob,
        "BOOL" | "NULL" => Expect::Boolean,
        "M" => Expect::Map,
        "L" => Expect::List(Element::Value),
        "SS" | "NS" => Expect::List(Element::Text),
        "BS" => Expect::List(Element::Blob),
        _ => return None,
    })
}

/// Accepts `value` if `ok`, else names the JSON token that could not become
/// the Java type, as DynamoDB's reader does.
fn scalar_as(
    java_type: &str,
    value: &Value,
    ok: impl Fn(&Value) -> bool,
) -> Result<(), ValueError> {
    if ok(value) {
        return Ok(());
    }
    let message = match value {
        Value::Bool(true) => format!("TRUE_VALUE cannot be converted to {java_type}"),
        Value::Bool(false) => format!("FALSE_VALUE cannot be converted to {java_type}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            format!("NUMBER_VALUE cannot be converted to {java_type}")
        }
        Value::Number(_) => format!("DECIMAL_VALUE cannot be converted to {java_type}"),
        Value::String(_) => format!("STRING_VALUE cannot be converted to {java_type}"),
        Value::Array(_) => format!("Unrecognized collection type class java.lang.{java_type}"),
        Value::Object(_) | Value::Null => MAP_WHERE_NOT_EXPECTED.to_string(),
    };
    Err(ValueError::serialization(message))
}

fn check_base64(text: &str) -> Result<(), ValueError> {
    decode_base64(text).map(|_| ())
}

fn decode_base64(text: &str) -> Result<Vec<u8>, ValueError> {
    // (Not `is_multiple_of`: the workspace's minimum Rust is 1.85.)
    let partial_quad = text.len() % 4;
    if partial_quad != 0 {
        return Err(ValueError::serialization(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        )));
    }
    // DynamoDB's spelling, typo included.
    STANDARD
        .decode(text)
        .map_err(|_| ValueError::serialization("Invalid last non-pad Base64 character dectected"))
}

// ---------------------------------------------------------------------------
// Stage 2: building values (ValidationException). Shapes are known good
// here, but every access still handles the unexpected without panicking.

const EMPTY: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MORE_THAN_ONE: &str =
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const INVALID: &str = "One or more parameter values were invalid: ";
const NESTING: &str =
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";

fn build(value: &Value, level: usize) -> Result<AttributeValue, ValueError> {
    if level > MAX_NESTING_LEVELS {
        return Err(ValueError::validation(NESTING));
    }
    let members = match value {
        Value::Object(members) => members,
        // Null where a value is required: nothing is set.
        _ => return Err(ValueError::validation(EMPTY)),
    };
    let mut present = members
        .iter()
        .filter(|(key, member)| !member.is_null() && member_kind(key).is_some())
        .peekable();
    if present.peek().is_none() {
        return Err(ValueError::validation(EMPTY));
    }
    // Every member set is validated, in order, before the type count is:
    // {"S":"a","N":"x"} reports the bad number.
    let mut first = None;
    let mut count = 0;
    for (key, member) in present {
        let built = build_member(key, member, level)?;
        count += 1;
        first.get_or_insert(built);
    }
    match first {
        Some(value) if count == 1 => Ok(value),
        Some(_) => Err(ValueError::validation(MORE_THAN_ONE)),
        None => Err(ValueError::validation(EMPTY)),
    }
}

fn build_member(key: &str, member: &Value, level: usize) -> Result<AttributeValue, ValueError> {
    Ok(match key {
        "S" => AttributeValue::S(text(member)?.to_string()),
        "N" => AttributeValue::N(number(member)?),
        "B" => AttributeValue::B(decode_base64(text(member)?)?),
        "BOOL" => AttributeValue::Bool(boolean(member)?),
        "NULL" => {
            if !boolean(member)? {
                return Err(ValueError::validation(format!(
                    "{INVALID}Null attribute value types must have the value of true"
                )));
            }
            AttributeValue::Null
        }
        "M" => {
            let mut map = Item::new();
            for (name, value) in object(member)? {
                map.insert(name.clone(), build(value, level + 1)?);
            }
            AttributeValue::M(map)
        }
        "L" => AttributeValue::L(
            array(member)?
                .iter()
                .map(|element| build(element, level + 1))
                .collect::<Result<_, _>>()?,
        ),
        "SS" => AttributeValue::Ss(string_set(array(member)?)?),
        "NS" => AttributeValue::Ns(number_set(array(member)?)?),
        "BS" => AttributeValue::Bs(binary_set(array(member)?)?),
        _ => return Err(ValueError::validation(EMPTY)),
    })
}

fn string_set(members: &[Value]) -> Result<Vec<String>, ValueError> {
    if members.is_empty() {
        // Two spaces and "An string": DynamoDB's text, verbatim.
        return Err(ValueError::validation(format!(
            "{INVALID}An string set  may not be empty"
        )));
    }
    let mut set = Vec::with_capacity(members.len());
    for member in members {
        match member {
            Value::String(s) => set.push(s.as_str()),
            _ => {
                return Err(ValueError::validation(format!(
                    "{INVALID}An string set may not have a null string as a member"
                )))
            }
        }
    }
    if has_duplicates(set.iter().copied()) {
        return Err(ValueError::validation(format!(
            "{INVALID}Input collection {} contains duplicates.",
            java_list(set.iter().copied())
        )));
    }
    Ok(set.into_iter().map(str::to_string).collect())
}

fn number_set(members: &[Value]) -> Result<Vec<Number>, ValueError> {
    if members.is_empty() {
        return Err(ValueError::validation(format!(
            "{INVALID}An number set  may not be empty"
        )));
    }
    let set = members.iter().map(number).collect::<Result<Vec<_>, _>>()?;
    // Duplicates by value: "1" and "1.0" are the same member.
    if has_duplicates(set.iter()) {
        return Err(ValueError::validation(
            "Input collection contains duplicates",
        ));
    }
    Ok(set)
}

fn binary_set(members: &[Value]) -> Result<Vec<Vec<u8>>, ValueError> {
    if members.is_empty() {
        return Err(ValueError::validation(format!(
            "{INVALID}Binary sets should not be empty"
        )));
    }
    let mut texts = Vec::with_capacity(members.len());
    for member in members {
        match member {
            Value::String(s) => texts.push(s.as_str()),
            _ => {
                return Err(ValueError::validation(format!(
                    "{INVALID}Binary sets may not contain null or empty values"
                )))
            }
        }
    }
    let set = texts
        .iter()
        .map(|t| decode_base64(t))
        .collect::<Result<Vec<_>, _>>()?;
    if has_duplicates(set.iter()) {
        // The missing space before "of" is DynamoDB's.
        return Err(ValueError::validation(format!(
            "{INVALID}Input collection {}of type BS contains duplicates.",
            java_list(texts.iter().copied())
        )));
    }
    Ok(set)
}

fn has_duplicates<T: Eq + std::hash::Hash>(members: impl Iterator<Item = T>) -> bool {
    let mut seen = HashSet::new();
    members.into_iter().any(|member| !seen.insert(member))
}

/// A collection as Java's `List.toString` prints it, which DynamoDB echoes.
fn java_list<'a>(members: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, member) in members.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(member);
    }
    out.push(']');
    out
}

fn number(member: &Value) -> Result<Number, ValueError> {
    match member {
        Value::String(s) => Number::parse(s),
        // A null NS member reads like an empty string.
        _ => Number::parse(""),
    }
    .map_err(|e| ValueError::validation(e.message()))
}

// Shape accessors: stage 1 guarantees these, so failing here means the two
// stages disagree; report it as the serialization error it would be.

fn text(member: &Value) -> Result<&str, ValueError> {
    member
        .as_str()
        .ok_or_else(|| ValueError::serialization("Unexpected value type in payload"))
}

fn boolean(member: &Value) -> Result<bool, ValueError> {
    member
        .as_bool()
        .ok_or_else(|| ValueError::serialization("Unexpected value type in payload"))
}

fn array(member: &Value) -> Result<&[Value], ValueError> {
    member
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| ValueError::serialization("Unexpected field type"))
}

fn object(member: &Value) -> Result<&Map<String, Value>, ValueError> {
    member
        .as_object()
        .ok_or_else(|| ValueError::serialization("Unexpected field type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(value: Value) -> AttributeValue {
        decode_value(&value).unwrap_or_else(|e| panic!("{value}: {e}"))
    }

    fn validation(value: Value, message: &str) {
        assert_eq!(
            decode_value(&value),
            Err(ValueError::validation(message)),
            "{value}"
        );
    }

    fn serialization(value: Value, message: &str) {
        assert_eq!(
            decode_value(&value),
            Err(ValueError::serialization(message)),
            "{value}"
        );
    }

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(ok(json!({"S": "x"})), AttributeValue::S("x".into()));
        assert_eq!(ok(json!({"S": ""})), AttributeValue::S(String::new()));
        assert_eq!(ok(json!({"N": "1.50"})), AttributeValue::N(n("1.5")));
        assert_eq!(
            ok(json!({"B": "AAEC/w=="})),
            AttributeValue::B(vec![0, 1, 2, 255])
        );
        assert_eq!(ok(json!({"B": ""})), AttributeValue::B(vec![]));
        assert_eq!(ok(json!({"BOOL": false})), AttributeValue::Bool(false));
        assert_eq!(ok(json!({"NULL": true})), AttributeValue::Null);
        assert_eq!(ok(json!({"L": []})), AttributeValue::L(vec![]));
        assert_eq!(ok(json!({"M": {}})), AttributeValue::M(Item::new()));
        assert_eq!(
            ok(json!({"SS": ["b", "a", ""]})),
            AttributeValue::Ss(vec!["b".into(), "a".into(), String::new()])
        );
        assert_eq!(
            ok(json!({"NS": ["2", "1"]})),
            AttributeValue::Ns(vec![n("2"), n("1")])
        );
        assert_eq!(
            ok(json!({"BS": ["YQ==", ""]})),
            AttributeValue::Bs(vec![b"a".to_vec(), vec![]])
        );
        let nested = ok(json!({"M": {"a": {"L": [{"N": "1"}, {"M": {"b": {"NULL": true}}}]}}}));
        let mut inner = Item::new();
        inner.insert("b".into(), AttributeValue::Null);
        let mut outer = Item::new();
        outer.insert(
            "a".into(),
            AttributeValue::L(vec![AttributeValue::N(n("1")), AttributeValue::M(inner)]),
        );
        assert_eq!(nested, AttributeValue::M(outer));
    }

    #[test]
    fn unknown_keys_and_nulls_are_ignored() {
        assert_eq!(ok(json!({"S": "a", "X": 1})), AttributeValue::S("a".into()));
        assert_eq!(
            ok(json!({"S": "a", "N": null})),
            AttributeValue::S("a".into())
        );
        assert_eq!(ok(json!({"s": 5, "S": "a"})), AttributeValue::S("a".into()));
    }

    #[test]
    fn empty_and_multiple_types() {
        for value in [
            json!({}),
            json!({"X": "a"}),
            json!({"a": ""}),
            json!({"S": null}),
            json!({"M": {"a": {}}}),
            json!({"L": [{}]}),
            json!({"L": [{"a": {}}]}),
            json!({"L": [null]}),
            Value::Null,
        ] {
            validation(value, EMPTY);
        }
        validation(json!({"S": "a", "N": "1"}), MORE_THAN_ONE);
        validation(json!({"S": "a", "BOOL": true, "NULL": true}), MORE_THAN_ONE);
        // Each member is validated before the type count.
        validation(
            json!({"S": "a", "N": "b"}),
            "The parameter cannot be converted to a numeric value: b",
        );
        validation(
            json!({"S": "", "N": ""}),
            "The parameter cannot be converted to a numeric value",
        );
    }

    #[test]
    fn number_errors() {
        validation(
            json!({"N": ""}),
            "The parameter cannot be converted to a numeric value",
        );
        validation(
            json!({"N": "b"}),
            "The parameter cannot be converted to a numeric value: b",
        );
        validation(
            json!({"N": " 1"}),
            "The parameter cannot be converted to a numeric value:  1",
        );
        validation(
            json!({"NS": ["1", ""]}),
            "The parameter cannot be converted to a numeric value",
        );
        validation(
            json!({"NS": ["1", "b"]}),
            "The parameter cannot be converted to a numeric value: b",
        );
        validation(
            json!({"NS": ["1", null]}),
            "The parameter cannot be converted to a numeric value",
        );
        let too_many = "Attempting to store more than 38 significant digits in a Number";
        validation(
            json!({"N": "123456789012345678901234567890123456789"}),
            too_many,
        );
        validation(
            json!({"N": "-1.23456789012345678901234567890123456789"}),
            too_many,
        );
        let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
        validation(json!({"N": "1e126"}), overflow);
        validation(json!({"N": "-1e126"}), overflow);
        let underflow =
            "Number underflow. Attempting to store a number with magnitude smaller than supported range";
        validation(json!({"N": "1e-131"}), underflow);
        validation(json!({"N": "-1e-131"}), underflow);
    }

    #[test]
    fn set_errors() {
        validation(
            json!({"SS": []}),
            "One or more parameter values were invalid: An string set  may not be empty",
        );
        validation(
            json!({"NS": []}),
            "One or more parameter values were invalid: An number set  may not be empty",
        );
        validation(
            json!({"BS": []}),
            "One or more parameter values were invalid: Binary sets should not be empty",
        );
        validation(
            json!({"SS": ["a", "a"]}),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        );
        validation(
            json!({"SS": ["a", "b", "a"]}),
            "One or more parameter values were invalid: Input collection [a, b, a] contains duplicates.",
        );
        validation(
            json!({"SS": ["", ""]}),
            "One or more parameter values were invalid: Input collection [, ] contains duplicates.",
        );
        validation(
            json!({"BS": ["Yg==", "Yg=="]}),
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
        );
        validation(
            json!({"NS": ["1", "1"]}),
            "Input collection contains duplicates",
        );
        validation(
            json!({"NS": ["1", "1.0"]}),
            "Input collection contains duplicates",
        );
        validation(
            json!({"SS": ["a", null]}),
            "One or more parameter values were invalid: An string set may not have a null string as a member",
        );
        validation(
            json!({"BS": ["YQ==", null]}),
            "One or more parameter values were invalid: Binary sets may not contain null or empty values",
        );
    }

    #[test]
    fn null_must_be_true() {
        validation(
            json!({"NULL": false}),
            "One or more parameter values were invalid: Null attribute value types must have the value of true",
        );
    }

    #[test]
    fn wrong_json_types_are_serialization_errors() {
        // String members (S, N, and SS/NS members).
        for key in ["S", "N"] {
            serialization(
                json!({key: true}),
                "TRUE_VALUE cannot be converted to String",
            );
            serialization(
                json!({key: false}),
                "FALSE_VALUE cannot be converted to String",
            );
            serialization(
                json!({key: 23}),
                "NUMBER_VALUE cannot be converted to String",
            );
            serialization(
                json!({key: -2147483648i64}),
                "NUMBER_VALUE cannot be converted to String",
            );
            serialization(
                json!({key: 34.56}),
                "DECIMAL_VALUE cannot be converted to String",
            );
            serialization(
                json!({key: []}),
                "Unrecognized collection type class java.lang.String",
            );
            serialization(json!({key: {}}), MAP_WHERE_NOT_EXPECTED);
        }
        serialization(
            json!({"SS": [1]}),
            "NUMBER_VALUE cannot be converted to String",
        );
        serialization(
            json!({"NS": [true]}),
            "TRUE_VALUE cannot be converted to String",
        );
        // Boolean members.
        for key in ["BOOL", "NULL"] {
            serialization(json!({key: "23"}), "Unexpected token received from parser");
            serialization(
                json!({key: "true"}),
                "Unexpected token received from parser",
            );
            serialization(
                json!({key: 23}),
                "NUMBER_VALUE cannot be converted to Boolean",
            );
            serialization(
                json!({key: 34.56}),
                "DECIMAL_VALUE cannot be converted to Boolean",
            );
            serialization(
                json!({key: []}),
                "Unrecognized collection type class java.lang.Boolean",
            );
            serialization(json!({key: {}}), MAP_WHERE_NOT_EXPECTED);
        }
        // Binary members.
        for bad in [json!(true), json!(23), json!(34.56)] {
            serialization(
                json!({"B": bad}),
                "only base-64-encoded strings are convertible to bytes",
            );
        }
        serialization(
            json!({"B": []}),
            "Unrecognized collection type class java.nio.ByteBuffer",
        );
        serialization(json!({"B": {}}), MAP_WHERE_NOT_EXPECTED);
        serialization(
            json!({"B": "23456"}),
            "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        );
        serialization(
            json!({"B": "=+/="}),
            "Invalid last non-pad Base64 character dectected",
        );
        serialization(
            json!({"B": "+/+="}),
            "Invalid last non-pad Base64 character dectected",
        );
        serialization(
            json!({"BS": ["YQ==", "!!!!"]}),
            "Invalid last non-pad Base64 character dectected",
        );
        // Lists.
        for key in ["SS", "NS", "BS", "L"] {
            for bad in [json!("23"), json!(true), json!(23), json!(34.56)] {
                serialization(json!({key: bad}), "Unexpected field type");
            }
            serialization(json!({key: {}}), MAP_WHERE_NOT_EXPECTED);
        }
        // Maps.
        for bad in [json!("23"), json!(true), json!(23), json!(34.56)] {
            serialization(json!({"M": bad}), "Unexpected field type");
        }
        serialization(
            json!({"M": []}),
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
        );
        // Values inside lists and maps, and the value itself.
        for bad in [json!("23"), json!(true), json!(23), json!(34.56)] {
            serialization(
                json!({"L": [bad.clone()]}),
                "Unexpected value type in payload",
            );
            serialization(
                json!({"M": {"a": bad.clone()}}),
                "Unexpected value type in payload",
            );
            serialization(bad, "Unexpected value type in payload");
        }
        serialization(
            json!({"L": [[]]}),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
        );
    }

    #[test]
    fn serialization_errors_win_over_validation_errors() {
        serialization(
            json!({"L": [{"NULL": false}, {"S": 1}]}),
            "NUMBER_VALUE cannot be converted to String",
        );
        let item = json!({"a": {"SS": []}, "b": {"BOOL": "x"}});
        assert_eq!(
            decode_item(item.as_object().unwrap()),
            Err(ValueError::serialization(
                "Unexpected token received from parser"
            ))
        );
        // Unknown keys are not even type-checked.
        assert_eq!(
            ok(json!({"S": "a", "X": {"deep": [1, 2]}})),
            AttributeValue::S("a".into())
        );
    }

    fn nested_maps(wraps: usize) -> Value {
        let mut value = json!({"S": "leaf"});
        for _ in 0..wraps {
            value = json!({"M": {"n": value}});
        }
        value
    }

    fn nested_lists(wraps: usize) -> Value {
        let mut value = json!({"N": "1"});
        for _ in 0..wraps {
            value = json!({"L": [value]});
        }
        value
    }

    #[test]
    fn nesting_limit_is_32_levels() {
        assert!(decode_value(&nested_maps(31)).is_ok());
        assert!(decode_value(&nested_lists(31)).is_ok());
        validation(nested_maps(32), NESTING);
        validation(nested_lists(32), NESTING);
        validation(nested_maps(200), NESTING);
        let item = json!({"a": nested_maps(31), "b": nested_lists(32)});
        assert_eq!(
            decode_item(item.as_object().unwrap()),
            Err(ValueError::validation(NESTING))
        );
    }

    #[test]
    fn very_deep_input_does_not_overflow_the_stack() {
        // Built by hand (serde_json's parser would refuse it past 128), and
        // taken apart by hand, since dropping it recursively would itself
        // overflow the test thread's stack.
        let depth = 100_000;
        let mut value = json!({"S": "leaf"});
        for _ in 0..depth {
            let mut map = Map::new();
            map.insert("L".into(), Value::Array(vec![value]));
            value = Value::Object(map);
        }
        assert_eq!(decode_value(&value), Err(ValueError::validation(NESTING)));
        // A serialization error at the very bottom is still found.
        let mut bad = json!({"S": 1});
        for _ in 0..depth {
            let mut map = Map::new();
            map.insert("L".into(), Value::Array(vec![bad]));
            bad = Value::Object(map);
        }
        assert_eq!(
            decode_value(&bad).map_err(|e| e.kind),
            Err(ValueErrorKind::Serialization)
        );
        dismantle(value);
        dismantle(bad);
    }

    /// Drops a deep value iteratively.
    fn dismantle(value: Value) {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    #[test]
    fn decodes_items() {
        let item = json!({"pk": {"S": "a"}, "n": {"N": "007"}, "m": {"M": {"x": {"BOOL": true}}}});
        let decoded = decode_item(item.as_object().unwrap()).unwrap();
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded["n"], AttributeValue::N(n("7")));
        let bad = json!({"pk": {"S": "a"}, "n": {"N": "x"}});
        assert_eq!(
            decode_item(bad.as_object().unwrap()),
            Err(ValueError::validation(
                "The parameter cannot be converted to a numeric value: x"
            ))
        );
    }

    #[test]
    fn decoded_values_serialize_back() {
        let input =
            json!({"M": {"b": {"BS": ["YQ=="]}, "n": {"NS": ["1.0", "-2e2"]}, "s": {"S": "x"}}});
        let value = ok(input);
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            json!({"M": {"b": {"BS": ["YQ=="]}, "n": {"NS": ["1", "-200"]}, "s": {"S": "x"}}})
        );
    }
}
