//! Reading awsJson request members, and the member constraints of the
//! Logs API model (name lengths and patterns, limits, enums), each failing
//! with AWS's validation text.

use serde_json::{Map, Value};

use crate::error::{LogsError, Result};

pub type Object = Map<String, Value>;

/// Log group names: 1 to 512 of `[\.\-_/#A-Za-z0-9]`.
const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
/// Log stream names: 1 to 512 characters, none of them `:` or `*`.
const STREAM_NAME_PATTERN: &str = "[^:*]*";
pub const MAX_NAME_LEN: usize = 512;

/// The request body as a JSON object (an empty body is `{}`).
pub fn parse(body: &[u8]) -> Result<Object> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Object::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(LogsError::Serialization(
            "The request body is not a JSON object.".into(),
        )),
        Err(e) => Err(LogsError::Serialization(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

fn wrong_type(member: &str, expected: &str) -> LogsError {
    LogsError::Serialization(format!("Expected {expected} for member '{member}'"))
}

/// An optional string member; `null` counts as absent.
pub fn opt_str<'a>(obj: &'a Object, member: &str) -> Result<Option<&'a str>> {
    match obj.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(member, "a string")),
    }
}

pub fn opt_i64(obj: &Object, member: &str) -> Result<Option<i64>> {
    match obj.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(member, "an integer")),
        Some(_) => Err(wrong_type(member, "an integer")),
    }
}

pub fn opt_bool(obj: &Object, member: &str) -> Result<Option<bool>> {
    match obj.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(member, "a boolean")),
    }
}

/// An optional list of strings (`None` when absent).
pub fn opt_str_list(obj: &Object, member: &str) -> Result<Option<Vec<String>>> {
    match obj.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| wrong_type(member, "a list of strings"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(wrong_type(member, "a list of strings")),
    }
}

/// An optional string-to-string map (`None` when absent).
pub fn opt_str_map(obj: &Object, member: &str) -> Result<Option<Vec<(String, String)>>> {
    match obj.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|s| (k.clone(), s.to_owned()))
                    .ok_or_else(|| wrong_type(member, "a map of strings"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(wrong_type(member, "a map of strings")),
    }
}

fn check_length(value: &str, member: &str) -> Result<()> {
    let chars = value.chars().count();
    if chars < 1 {
        return Err(LogsError::validation(
            value,
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if chars > MAX_NAME_LEN {
        return Err(LogsError::validation(
            value,
            member,
            "Member must have length less than or equal to 512",
        ));
    }
    Ok(())
}

/// Checks a log group name against the model (any member holding one).
pub fn check_group_name(value: &str, member: &str) -> Result<()> {
    check_length(value, member)?;
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
    if !ok {
        return Err(LogsError::validation(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {GROUP_NAME_PATTERN}"),
        ));
    }
    Ok(())
}

/// Checks a log stream name against the model.
pub fn check_stream_name(value: &str, member: &str) -> Result<()> {
    check_length(value, member)?;
    if value.contains([':', '*']) {
        return Err(LogsError::validation(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {STREAM_NAME_PATTERN}"),
        ));
    }
    Ok(())
}

/// A required `logGroupName`.
pub fn group_name(obj: &Object) -> Result<&str> {
    let name = opt_str(obj, "logGroupName")?.ok_or_else(|| LogsError::missing("logGroupName"))?;
    check_group_name(name, "logGroupName")?;
    Ok(name)
}

/// A required `logStreamName`.
pub fn stream_name(obj: &Object) -> Result<&str> {
    let name = opt_str(obj, "logStreamName")?.ok_or_else(|| LogsError::missing("logStreamName"))?;
    check_stream_name(name, "logStreamName")?;
    Ok(name)
}

/// The log group an operation reads: `logGroupName`, or `logGroupIdentifier`
/// (a name or a log group ARN), never both.
pub fn group_name_or_identifier(obj: &Object) -> Result<String> {
    let name = opt_str(obj, "logGroupName")?;
    let ident = opt_str(obj, "logGroupIdentifier")?;
    match (name, ident) {
        (Some(_), Some(_)) => Err(LogsError::InvalidParameter(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into(),
        )),
        (Some(name), None) => {
            check_group_name(name, "logGroupName")?;
            Ok(name.to_owned())
        }
        (None, Some(ident)) => {
            let name = crate::arn::group_name_of(ident).unwrap_or(ident);
            if name.chars().count() > 2048 || name.is_empty() {
                return Err(LogsError::validation(
                    ident,
                    "logGroupIdentifier",
                    "Member must have length between 1 and 2048",
                ));
            }
            check_group_name(name, "logGroupIdentifier")?;
            Ok(name.to_owned())
        }
        (None, None) => Err(LogsError::missing("logGroupName")),
    }
}

/// An optional `limit` within `1..=max`, defaulting to `max`.
pub fn limit(obj: &Object, max: i64) -> Result<usize> {
    match opt_i64(obj, "limit")? {
        None => Ok(max as usize),
        Some(n) if n < 1 => Err(LogsError::validation(
            n,
            "limit",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > max => Err(LogsError::validation(
            n,
            "limit",
            &format!("Member must have value less than or equal to {max}"),
        )),
        Some(n) => Ok(n as usize),
    }
}

/// An optional name prefix member (same length rules as names, may not be empty).
pub fn prefix<'a>(obj: &'a Object, member: &str) -> Result<Option<&'a str>> {
    let Some(p) = opt_str(obj, member)? else {
        return Ok(None);
    };
    check_length(p, member)?;
    Ok(Some(p))
}

/// An optional `nextToken` (1 character at least).
pub fn next_token(obj: &Object) -> Result<Option<&str>> {
    let Some(token) = opt_str(obj, "nextToken")? else {
        return Ok(None);
    };
    if token.is_empty() {
        return Err(LogsError::validation(
            token,
            "nextToken",
            "Member must have length greater than or equal to 1",
        ));
    }
    Ok(Some(token))
}
