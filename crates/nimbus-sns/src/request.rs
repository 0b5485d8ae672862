//! Reading request members (see `query` for how form parameters become
//! JSON) with SNS's errors for missing or mistyped ones.

use serde_json::Value;

use crate::error::{Result, SnsError};
use crate::query::Object;

/// A member given in a shape the model does not allow (a list where a
/// string belongs, say): only hand-built requests do this.
fn mistyped(name: &str) -> SnsError {
    SnsError::validation(format!(
        "1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must have the type the model gives it"
    ))
}

/// An optional string member.
pub fn opt_str<'a>(obj: &'a Object, name: &str) -> Result<Option<&'a str>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(mistyped(name)),
    }
}

/// A required string member: absent is AWS's "Value null" validation error.
pub fn req_str<'a>(obj: &'a Object, name: &str) -> Result<&'a str> {
    opt_str(obj, name)?.ok_or_else(|| SnsError::missing(name))
}

/// An optional boolean member (`true` / `false` on the wire).
pub fn opt_bool(obj: &Object, name: &str) -> Result<Option<bool>> {
    match opt_str(obj, name)? {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(mistyped(name)),
    }
}

/// An optional map whose values `value` reads (`None`: not the model's
/// type), in key order. An empty map is sent as `Name=`.
fn map<'a, T>(
    obj: &'a Object,
    name: &str,
    value: impl Fn(&'a Value) -> Option<T>,
) -> Result<Vec<(&'a str, T)>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::Object(entries)) => entries
            .iter()
            .map(|(k, v)| {
                value(v)
                    .map(|v| (k.as_str(), v))
                    .ok_or_else(|| mistyped(name))
            })
            .collect(),
        Some(_) => Err(mistyped(name)),
    }
}

/// An optional string-to-string map (`Attributes`), in key order. An entry
/// sent without a value maps to the empty string.
pub fn str_map(obj: &Object, name: &str) -> Result<Vec<(String, String)>> {
    let entries = map(obj, name, |v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        _ => None,
    })?;
    Ok(entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect())
}

/// An optional list whose items `item` reads (`None`: not the model's
/// type). An empty list is sent as `Name=`.
fn list<'a, T>(
    obj: &'a Object,
    name: &str,
    item: impl Fn(&'a Value) -> Option<T>,
) -> Result<Vec<T>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| item(v).ok_or_else(|| mistyped(name)))
            .collect(),
        Some(_) => Err(mistyped(name)),
    }
}

/// An optional list of strings (`TagKeys`).
pub fn str_list(obj: &Object, name: &str) -> Result<Vec<String>> {
    list(obj, name, |v| v.as_str().map(str::to_owned))
}

/// An optional list of structures (`Tags`, batch entries).
pub fn obj_list<'a>(obj: &'a Object, name: &str) -> Result<Vec<&'a Object>> {
    list(obj, name, Value::as_object)
}

/// An optional map of structures (`MessageAttributes`), in key order.
pub fn obj_map<'a>(obj: &'a Object, name: &str) -> Result<Vec<(&'a str, &'a Object)>> {
    map(obj, name, Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn members_read_with_aws_errors() {
        let o = obj(json!({"A": "x", "B": "TRUE", "L": ["1", "2"], "E": "", "M": {"k": null}}));
        assert_eq!(req_str(&o, "A").unwrap(), "x");
        assert_eq!(req_str(&o, "TopicArn").unwrap_err().code, "ValidationError");
        assert_eq!(opt_bool(&o, "B").unwrap(), Some(true));
        assert_eq!(opt_bool(&o, "A").unwrap_err().code, "ValidationError");
        assert_eq!(str_list(&o, "L").unwrap(), vec!["1", "2"]);
        assert!(str_list(&o, "E").unwrap().is_empty());
        assert_eq!(
            str_map(&o, "M").unwrap(),
            vec![("k".to_owned(), String::new())]
        );
        assert!(opt_str(&o, "L").is_err());
    }
}
