//! Reading awsJson request members with SQS's errors for missing or
//! mistyped parameters.

use serde_json::{Map, Value};

use crate::error::{Result, SqsError};

pub type Object = Map<String, Value>;

/// The request body as a JSON object.
pub fn parse(body: &[u8]) -> Result<Object> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Object::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(SqsError {
            shape: "SerializationException",
            query_code: "SerializationException",
            message: "The request body is not a JSON object.".into(),
            sender_fault: true,
            status: 400,
        }),
    }
}

fn wrong_type(name: &str) -> SqsError {
    SqsError::invalid_parameter_value(format!("The value for parameter {name} is not valid."))
}

/// An optional string member; `null` counts as absent.
pub fn opt_str<'a>(obj: &'a Object, name: &str) -> Result<Option<&'a str>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(name)),
    }
}

/// A required string member: absent is MissingParameter.
pub fn req_str<'a>(obj: &'a Object, name: &str) -> Result<&'a str> {
    opt_str(obj, name)?.ok_or_else(|| SqsError::missing_parameter(name))
}

/// An optional integer member.
pub fn opt_int(obj: &Object, name: &str) -> Result<Option<i64>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| wrong_type(name)),
        Some(_) => Err(wrong_type(name)),
    }
}

/// An optional list of strings.
pub fn str_list(obj: &Object, name: &str) -> Result<Vec<String>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| wrong_type(name))
            })
            .collect(),
        Some(_) => Err(wrong_type(name)),
    }
}

/// An optional string-to-string map, in request order.
pub fn str_map(obj: &Object, name: &str) -> Result<Vec<(String, String)>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|s| (k.clone(), s.to_owned()))
                    .ok_or_else(|| wrong_type(name))
            })
            .collect(),
        Some(_) => Err(wrong_type(name)),
    }
}

/// An optional list of objects (batch entries).
pub fn obj_list<'a>(obj: &'a Object, name: &str) -> Result<Vec<&'a Object>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_object().ok_or_else(|| wrong_type(name)))
            .collect(),
        Some(_) => Err(wrong_type(name)),
    }
}
