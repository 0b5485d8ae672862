//! Request decoding and the small validation vocabulary AWS's framework uses
//! ("1 validation error detected: Value ... at '...' failed to satisfy
//! constraint: ...").

use serde::de::DeserializeOwned;

use crate::error::DynamoError;

/// Decodes an awsJson request body into `T`; a body that is not JSON, or a
/// member of the wrong JSON type, is a SerializationException as on AWS.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DynamoError> {
    // An empty body is an empty request structure, as AWS treats it.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let msg = if e.is_syntax() || e.is_eof() {
            "Start of structure or map found where not expected.".to_string()
        } else {
            coral_message(&e.to_string())
        };
        DynamoError::Serialization(msg)
    })
}

/// Renders a serde type mismatch the way AWS's request framework words it
/// ("NUMBER_VALUE cannot be converted to String"), since SDK users see and
/// search for that text.
fn coral_message(serde_text: &str) -> String {
    let text = serde_text.split(" at line ").next().unwrap_or_default();
    let Some(rest) = text.strip_prefix("invalid type: ") else {
        return text.to_string();
    };
    let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let java_type = match expected {
        "a string" => "String",
        "a boolean" => "Boolean",
        e if e.starts_with('i') || e.starts_with('u') => "Integer",
        "a sequence" | "a map" => return "Unexpected value type in payload".to_string(),
        e if e.starts_with("struct") || e.starts_with("a map") => {
            return "Unexpected value type in payload".to_string()
        }
        _ => "Object",
    };
    let token = if found.starts_with("integer") {
        "NUMBER_VALUE"
    } else if found.starts_with("floating point") {
        "DECIMAL_VALUE"
    } else if found == "boolean `true`" {
        "TRUE_VALUE"
    } else if found == "boolean `false`" {
        "FALSE_VALUE"
    } else if found.starts_with("string") {
        "STRING_VALUE"
    } else if found == "map" {
        return "Start of structure or map found where not expected.".to_string();
    } else if found == "sequence" {
        return "Start of list found where not expected".to_string();
    } else {
        return text.to_string();
    };
    format!("{token} cannot be converted to {java_type}")
}

/// Checks that required request members are present, reporting every
/// missing one at once, as AWS does.
pub fn require(members: &[(&str, bool)]) -> Result<(), DynamoError> {
    let mut v = Violations::new();
    for (member, present) in members {
        if !present {
            v.add("null", member, "Member must not be null");
        }
    }
    v.into_result()
}

/// Collects framework-level constraint violations and renders them the way
/// AWS does: "1 validation error detected: A; B" / "2 validation errors ...".
#[derive(Default)]
pub struct Violations(Vec<String>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// `value` is rendered as AWS renders it (`null` for absent members).
    pub fn add(&mut self, value: &str, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value {value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    pub fn quoted(v: &str) -> String {
        format!("'{v}'")
    }

    pub fn check_name(&mut self, name: Option<&str>, member: &str, min: usize, max: usize) {
        match name {
            None => self.add("null", member, "Member must not be null"),
            Some(n) => {
                let len = n.chars().count();
                if len < min {
                    self.add(
                        &Self::quoted(n),
                        member,
                        &format!("Member must have length greater than or equal to {min}"),
                    );
                }
                if len > max {
                    self.add(
                        &Self::quoted(n),
                        member,
                        &format!("Member must have length less than or equal to {max}"),
                    );
                }
                if !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
                {
                    self.add(
                        &Self::quoted(n),
                        member,
                        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                    );
                }
            }
        }
    }

    /// A string member of `min` to `max` characters (any characters);
    /// absent is a violation only when `required`.
    pub fn check_length(
        &mut self,
        value: Option<&str>,
        member: &str,
        (min, max): (usize, usize),
        required: bool,
    ) {
        let Some(s) = value else {
            if required {
                self.add("null", member, "Member must not be null");
            }
            return;
        };
        let len = s.chars().count();
        if len < min {
            self.add(
                &Self::quoted(s),
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.add(
                &Self::quoted(s),
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// An integer member from `min` to `max`, if present.
    pub fn check_range(&mut self, value: Option<i64>, member: &str, (min, max): (i64, i64)) {
        match value {
            Some(n) if n < min => self.add(
                &Self::quoted(&n.to_string()),
                member,
                &format!("Member must have value greater than or equal to {min}"),
            ),
            Some(n) if n > max => self.add(
                &Self::quoted(&n.to_string()),
                member,
                &format!("Member must have value less than or equal to {max}"),
            ),
            _ => {}
        }
    }

    pub fn into_result(self) -> Result<(), DynamoError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(DynamoError::Validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(DynamoError::Validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

/// Validates a table name as AWS's framework does (3 to 255 of
/// `[a-zA-Z0-9_.-]`).
pub fn check_table_name(name: Option<&str>) -> Result<&str, DynamoError> {
    let mut v = Violations::new();
    v.check_name(name, "tableName", 3, 255);
    v.into_result()?;
    Ok(name.unwrap_or_default())
}

/// Seconds since the Unix epoch, with milliseconds, as DynamoDB's JSON
/// timestamps are.
pub fn epoch_seconds(t: std::time::SystemTime) -> f64 {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_mismatches_read_like_aws() {
        let e = decode::<std::collections::HashMap<String, String>>(br#"{"a": 123}"#).unwrap_err();
        assert!(
            matches!(e, DynamoError::Serialization(m) if m == "NUMBER_VALUE cannot be converted to String")
        );
        let e = decode::<std::collections::HashMap<String, bool>>(br#"{"a": "x"}"#).unwrap_err();
        assert!(
            matches!(e, DynamoError::Serialization(m) if m == "STRING_VALUE cannot be converted to Boolean")
        );
        let e = decode::<std::collections::HashMap<String, String>>(b"{not json").unwrap_err();
        assert!(matches!(e, DynamoError::Serialization(_)));
    }
}
