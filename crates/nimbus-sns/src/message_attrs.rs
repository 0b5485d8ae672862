//! Message attributes: their model, AWS's validation of names, types and
//! values (with AWS's texts, error code `ParameterValueInvalid`), and how
//! much of a message's 256 KB they use.
//!
//! From the SNS developer guide, "Amazon SNS message attributes": names may
//! hold letters, digits, `-`, `_` and `.`, must not start or end with `.`
//! nor hold two in a row, and are under 256 bytes; the data type is
//! `String`, `Number` or `Binary`, optionally followed by `.` and a custom
//! label (`String.Array` among them); a value is required and non-empty.
//! (nimbus refuses names over 256 bytes with AWS's text, which says "less
//! than 256"; where exactly AWS draws the line is not documented.)
//! All parts (name, type, value) count toward the message size.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, SnsError};
use crate::query::Object;
use crate::request;

/// One message attribute. Binary values are stored base64-encoded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessageAttribute {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes"
    )]
    pub binary_value: Option<Vec<u8>>,
}

impl MessageAttribute {
    pub fn string(data_type: &str, value: &str) -> Self {
        MessageAttribute {
            data_type: data_type.to_owned(),
            string_value: Some(value.to_owned()),
            binary_value: None,
        }
    }

    pub fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }

    /// The value as the SNS JSON envelope shows it (`Value`): the string,
    /// or the binary value in base64.
    pub fn display_value(&self) -> String {
        match &self.binary_value {
            Some(bytes) => base64::engine::general_purpose::STANDARD.encode(bytes),
            None => self.string_value.clone().unwrap_or_default(),
        }
    }

    /// Bytes this attribute adds to the message size.
    pub fn size(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + self.string_value.as_ref().map_or(0, String::len)
            + self.binary_value.as_ref().map_or(0, Vec::len)
    }
}

mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

/// The `MessageAttributes` member of a Publish (or of batch entry number
/// `position`, from 1), validated in key order.
pub fn parse(obj: &Object, position: Option<usize>) -> Result<BTreeMap<String, MessageAttribute>> {
    let mut out = BTreeMap::new();
    for (name, value) in request::obj_map(obj, "MessageAttributes")? {
        let attribute = parse_one(name, value, position)?;
        out.insert(name.to_owned(), attribute);
    }
    Ok(out)
}

fn parse_one(name: &str, value: &Object, position: Option<usize>) -> Result<MessageAttribute> {
    check_name(name)?;
    let data_type = match value.get("DataType") {
        Some(Value::String(t)) => t.clone(),
        _ => {
            let at = match position {
                Some(p) => format!(
                    "publishBatchRequestEntries.{p}.member.messageAttributes.{name}.member.dataType"
                ),
                None => format!("messageAttributes.{name}.member.dataType"),
            };
            return Err(SnsError::validation(format!(
                "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member must not be null"
            )));
        }
    };
    check_type(name, &data_type)?;
    let string_value = value.get("StringValue").and_then(Value::as_str);
    let binary_value = value.get("BinaryValue").and_then(Value::as_str);
    let empty = || {
        SnsError::parameter_value_invalid(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
        ))
    };
    if string_value.is_none() && binary_value.is_none() {
        return Err(empty());
    }
    if data_type.starts_with("Binary") {
        let Some(encoded) = binary_value else {
            return Err(wrong_field(name, &data_type, "Binary"));
        };
        if encoded.is_empty() {
            return Err(empty());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| {
                SnsError::parameter_value_invalid(format!(
                    "The message attribute '{name}' has a BinaryValue that is not valid base64."
                ))
            })?;
        Ok(MessageAttribute {
            data_type,
            string_value: None,
            binary_value: Some(bytes),
        })
    } else {
        let Some(text) = string_value else {
            return Err(wrong_field(name, &data_type, "String"));
        };
        if text.is_empty() {
            return Err(empty());
        }
        Ok(MessageAttribute::string(&data_type, text))
    }
}

fn wrong_field(name: &str, data_type: &str, field: &str) -> SnsError {
    SnsError::parameter_value_invalid(format!(
        "The message attribute '{name}' with type '{data_type}' must use field '{field}'."
    ))
}

fn check_type(name: &str, data_type: &str) -> Result<()> {
    let valid = ["String", "Number", "Binary"].iter().any(|base| {
        data_type == *base
            || data_type
                .strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|label| !label.is_empty())
    });
    if valid {
        Ok(())
    } else {
        Err(SnsError::parameter_value_invalid(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )))
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.len() > 256 {
        return Err(SnsError::parameter_value_invalid(
            "Length of message attribute name must be less than 256 bytes.",
        ));
    }
    if name.starts_with('.') {
        return Err(SnsError::parameter_value_invalid(
            "Invalid message attribute name starting with character '.' was found.",
        ));
    }
    if name.ends_with('.') {
        return Err(SnsError::parameter_value_invalid(
            "Invalid message attribute name ending with character '.' was found.",
        ));
    }
    let mut previous = None;
    for c in name.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(SnsError::parameter_value_invalid(format!(
                "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
                c as u32
            )));
        }
        if c == '.' && previous == Some('.') {
            return Err(SnsError::parameter_value_invalid(
                "Message attribute name can not have successive '.' character.",
            ));
        }
        previous = Some(c);
    }
    Ok(())
}

/// Bytes a message's attributes add to its size.
pub fn total_size(attributes: &BTreeMap<String, MessageAttribute>) -> usize {
    attributes.iter().map(|(n, a)| a.size(n)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Result<BTreeMap<String, MessageAttribute>> {
        parse(
            &json!({ "MessageAttributes": v })
                .as_object()
                .unwrap()
                .clone(),
            None,
        )
    }

    fn message(v: Value) -> String {
        attrs(v).unwrap_err().message
    }

    #[test]
    fn valid_attributes() {
        let a = attrs(json!({
            "s": {"DataType": "String", "StringValue": "x"},
            "n": {"DataType": "Number", "StringValue": "1.5"},
            "b": {"DataType": "Binary", "BinaryValue": "AgME"},
            "arr": {"DataType": "String.Array", "StringValue": "[\"a\"]"},
        }))
        .unwrap();
        assert_eq!(a["b"].binary_value, Some(vec![2, 3, 4]));
        assert_eq!(a["b"].display_value(), "AgME");
        assert_eq!(a["s"].size("s"), 1 + 6 + 1);
        let stored = serde_json::to_string(&a["b"]).unwrap();
        assert_eq!(stored, r#"{"data_type":"Binary","binary_value":"AgME"}"#);
        assert_eq!(
            serde_json::from_str::<MessageAttribute>(&stored).unwrap(),
            a["b"]
        );
    }

    #[test]
    fn aws_texts_for_bad_attributes() {
        assert_eq!(
            message(json!({"attr1": {"DataType": "String", "StringValue": ""}})),
            "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."
        );
        assert_eq!(
            message(json!({"attr1": {"DataType": "String", "BinaryValue": "AQ=="}})),
            "The message attribute 'attr1' with type 'String' must use field 'String'."
        );
        assert_eq!(
            message(json!({"attr1": {"DataType": "Binary", "StringValue": "x"}})),
            "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."
        );
        assert_eq!(
            message(json!({"attr1": {"DataType": "Nope", "StringValue": "x"}})),
            "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        );
        assert_eq!(
            message(json!({"a^b": {"DataType": "String", "StringValue": "x"}})),
            "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."
        );
        assert_eq!(
            message(json!({"a..b": {"DataType": "String", "StringValue": "x"}})),
            "Message attribute name can not have successive '.' character."
        );
        assert_eq!(
            message(json!({"a": {"StringValue": "x"}})),
            "1 validation error detected: Value null at 'messageAttributes.a.member.dataType' failed to satisfy constraint: Member must not be null"
        );
        let err = attrs(json!({"a": {"DataType": "Binary", "BinaryValue": "%%%"}})).unwrap_err();
        assert_eq!(err.code, "ParameterValueInvalid");
    }
}
