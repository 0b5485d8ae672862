//! Subscription filter policies: SNS's rules on top of the shared event
//! pattern language (`nimbus-patterns`, which SNS's own Ruler engine also
//! implements, hence the same reason texts).
//!
//! What SNS adds or takes away (SNS developer guide, "Amazon SNS message
//! filtering" and "Filter policy constraints"):
//! - at most five top-level keys ("Filter policy can not have more than 5
//!   keys");
//! - at most 150 combinations: the product, over every array of values, of
//!   its length times the depth of its key, `$or` alternatives adding up
//!   (the guide's worked example: 3 x 4 x 2 x 3 = 72);
//! - with FilterPolicyScope `MessageAttributes` (the default) no nesting:
//!   keys are attribute names;
//! - no `wildcard`, and `anything-but` takes only `prefix` as an operator
//!   (AWS answers "Unsupported anything-but pattern: suffix");
//! - errors are `InvalidParameter` "Invalid parameter: FilterPolicy:
//!   <reason>", with "Attributes Reason: " after "Invalid parameter: " when
//!   the policy came with Subscribe. AWS appends Jackson's source location
//!   to parse errors; nimbus does not reproduce it.
//!
//! Matching: attributes become a JSON object of name to value: `String`
//! values as strings, `Number` values as numbers, `String.Array` values as
//! the JSON array they hold (each element matched on its own); `Binary`
//! attributes are not compared. A message without attributes matches no
//! attribute policy (the guide: an empty set of attributes makes
//! `"exists": false` fail too). With scope `MessageBody` the message must be
//! a JSON object, matched structurally.

use nimbus_patterns::{Pattern, PatternError};
use serde_json::{Map, Number, Value};

use crate::error::{Result, SnsError};
use crate::model::MessageRecord;

pub const MAX_KEYS: usize = 5;
pub const MAX_COMBINATIONS: u64 = 150;

/// What a policy is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    MessageAttributes,
    MessageBody,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::MessageAttributes => "MessageAttributes",
            Scope::MessageBody => "MessageBody",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        match name {
            "MessageAttributes" => Some(Scope::MessageAttributes),
            "MessageBody" => Some(Scope::MessageBody),
            _ => None,
        }
    }
}

/// Whether the policy came with Subscribe (its errors say "Attributes
/// Reason:") or SetSubscriptionAttributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Subscribe,
    SetAttributes,
}

impl Origin {
    pub fn prefix(self) -> &'static str {
        match self {
            Origin::Subscribe => "Invalid parameter: Attributes Reason: ",
            Origin::SetAttributes => "Invalid parameter: ",
        }
    }
}

/// A validated policy, ready to match messages.
#[derive(Debug, Clone)]
pub struct FilterPolicy {
    pattern: Pattern,
    scope: Scope,
}

/// Whether `text` clears the policy: an empty string or `{}` (what the SNS
/// console and CLI send to remove one).
pub fn clears(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.is_empty()
        || serde_json::from_str::<Value>(trimmed)
            .is_ok_and(|v| v.as_object().is_some_and(Map::is_empty))
}

/// Validates a policy as SNS does. `None` for a policy that clears.
pub fn compile(text: &str, scope: Scope, origin: Origin) -> Result<Option<FilterPolicy>> {
    if clears(text) {
        return Ok(None);
    }
    let prefix = origin.prefix();
    let reason = |r: &dyn std::fmt::Display| {
        SnsError::invalid_parameter(format!("{prefix}FilterPolicy: {r}"))
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| reason(&format_args!("failed to parse JSON. {e}")))?;
    let Value::Object(root) = &value else {
        return Err(reason(&PatternError::NotAnObject));
    };
    if root.len() > MAX_KEYS {
        return Err(reason(&"Filter policy can not have more than 5 keys"));
    }
    let combinations = walk(root, 1, 1, scope, prefix)?;
    if combinations > MAX_COMBINATIONS {
        return Err(reason(&"Filter policy is too complex"));
    }
    let pattern = Pattern::parse(text).map_err(|e| reason(&e))?;
    Ok(Some(FilterPolicy { pattern, scope }))
}

/// Checks the policy's shape and SNS's operator restrictions; returns its
/// combination count (saturating, so a hostile policy cannot overflow it).
fn walk(
    object: &Map<String, Value>,
    depth: u64,
    mut combinations: u64,
    scope: Scope,
    prefix: &str,
) -> Result<u64> {
    let reason = |r: &dyn std::fmt::Display| {
        SnsError::invalid_parameter(format!("{prefix}FilterPolicy: {r}"))
    };
    for (key, value) in object {
        match value {
            Value::Object(inner) => {
                combinations = walk(inner, depth + 1, combinations, scope, prefix)?;
            }
            Value::Array(items) if items.is_empty() => {
                return Err(reason(&PatternError::EmptyArray));
            }
            Value::Array(alternatives) if key == "$or" => {
                let mut total = 0u64;
                for alternative in alternatives {
                    let Value::Object(alt) = alternative else {
                        return Err(reason(&PatternError::OrMemberNotObject));
                    };
                    total = total.saturating_add(walk(alt, depth, combinations, scope, prefix)?);
                }
                combinations = total;
            }
            Value::Array(items) => {
                for item in items {
                    check_operator(item).map_err(|e| reason(&e))?;
                }
                combinations = combinations
                    .saturating_mul(items.len() as u64)
                    .saturating_mul(depth);
            }
            _ => return Err(reason(&PatternError::FieldNotObjectOrArray(key.clone()))),
        }
    }
    if scope == Scope::MessageAttributes && depth > 1 {
        return Err(SnsError::invalid_parameter(format!(
            "{prefix}Filter policy scope MessageAttributes does not support nested filter policy"
        )));
    }
    Ok(combinations)
}

/// The operators SNS refuses although EventBridge takes them.
fn check_operator(item: &Value) -> std::result::Result<(), PatternError> {
    let Some((operator, operand)) = item.as_object().and_then(|o| o.iter().next()) else {
        return Ok(());
    };
    match (operator.as_str(), operand) {
        ("wildcard", _) => Err(PatternError::UnrecognizedMatchType("wildcard".into())),
        ("anything-but", Value::Object(inner)) => match inner.iter().next() {
            Some((name, value)) if name == "prefix" => match value {
                Value::String(_) => Ok(()),
                _ => Err(PatternError::MustBeString("prefix")),
            },
            Some((name, _)) => Err(PatternError::UnsupportedAnythingBut(name.clone())),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

impl FilterPolicy {
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether a subscription of `protocol` with this policy gets `message`.
    pub fn matches(&self, message: &MessageRecord, protocol: &str) -> bool {
        match self.scope {
            Scope::MessageAttributes => {
                if message.attributes.is_empty() {
                    return false;
                }
                let event: Map<String, Value> = message
                    .attributes
                    .iter()
                    .filter_map(|(name, a)| attribute_value(a).map(|v| (name.clone(), v)))
                    .collect();
                self.pattern.matches(&Value::Object(event))
            }
            Scope::MessageBody => {
                match serde_json::from_str::<Value>(message.message_for(protocol)) {
                    Ok(body @ Value::Object(_)) => self.pattern.matches(&body),
                    _ => false,
                }
            }
        }
    }
}

/// An attribute as filter policies see it; `None` for binary ones.
fn attribute_value(a: &crate::message_attrs::MessageAttribute) -> Option<Value> {
    let text = a.string_value.as_deref()?;
    if a.data_type.starts_with("Number") {
        return Some(number(text).map_or_else(|| Value::String(text.to_owned()), Value::Number));
    }
    if a.data_type == "String.Array" {
        if let Ok(array @ Value::Array(_)) = serde_json::from_str::<Value>(text) {
            return Some(array);
        }
    }
    Some(Value::String(text.to_owned()))
}

fn number(text: &str) -> Option<Number> {
    serde_json::from_str::<Number>(text.trim())
        .ok()
        .or_else(|| text.trim().parse::<f64>().ok().and_then(Number::from_f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message_attrs::MessageAttribute;

    fn sub_err(text: &str) -> String {
        compile(text, Scope::MessageAttributes, Origin::Subscribe)
            .unwrap_err()
            .message
    }

    fn set_err(text: &str, scope: Scope) -> String {
        compile(text, scope, Origin::SetAttributes)
            .unwrap_err()
            .message
    }

    fn message(attrs: &[(&str, &str, &str)], body: &str) -> MessageRecord {
        let mut m = MessageRecord::sample(body);
        m.attributes = attrs
            .iter()
            .map(|(n, t, v)| (n.to_string(), MessageAttribute::string(t, v)))
            .collect();
        m
    }

    fn policy(text: &str, scope: Scope) -> FilterPolicy {
        compile(text, scope, Origin::SetAttributes)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn aws_validation_texts() {
        assert_eq!(
            sub_err(r#"{"key":[["value"]]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Match value must be String, number, true, false, or null"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"wrong-operator":true}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized match type wrong-operator"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"suffix":"value","prefix":"value2"}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Only one key allowed in match expression"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"suffix":100}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: suffix match pattern must be a string"
        );
        assert_eq!(
            sub_err(r#"{"key":{"suffix":"value"}}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: \"suffix\" must be an object or an array"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"numeric":[]}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Invalid member in numeric match: ]"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"numeric":["<",100,">",10]}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Too many elements in numeric expression"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"numeric":[">",3,"<",1]}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Bottom must be less than top"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"exists":"no"}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: exists match pattern must be either true or false."
        );
        assert_eq!(
            sub_err(r#"{"key":[{"anything-but":{"suffix":"test"}}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Unsupported anything-but pattern: suffix"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"anything-but":{"prefix":false}}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: prefix match pattern must be a string"
        );
        assert_eq!(
            sub_err(r#"{"key":[{"wildcard":"a*"}]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized match type wildcard"
        );
        assert_eq!(
            sub_err(r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy can not have more than 5 keys"
        );
        assert_eq!(
            set_err(r#"{"key_a":"value_one"}"#, Scope::MessageBody),
            "Invalid parameter: FilterPolicy: \"key_a\" must be an object or an array"
        );
        assert_eq!(
            set_err(r#"{"object":{"key":["a"]}}"#, Scope::MessageAttributes),
            "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
        );
        assert!(sub_err("{invalid").starts_with(
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON. "
        ));
    }

    #[test]
    fn complexity_counts_like_the_guide() {
        // The developer guide's example: 4 values three levels deep times 3
        // values two levels deep is 3 x 4 x 2 x 3 = 72, allowed.
        let nested =
            r#"{"key_a":{"key_b":{"key_c":["1","2","3","4"]}},"key_d":{"key_e":["1","2","3"]}}"#;
        assert!(compile(nested, Scope::MessageBody, Origin::SetAttributes).is_ok());
        let values: Vec<String> = (0..151).map(|i| format!("\"v{i}\"")).collect();
        let too_many = format!("{{\"k\":[{}]}}", values.join(","));
        assert_eq!(
            sub_err(&too_many),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"
        );
        // 13 x 12 = 156 combinations.
        let values = |n: usize| {
            (0..n)
                .map(|i| format!("\"v{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        let product = format!("{{\"a\":[{}],\"b\":[{}]}}", values(13), values(12));
        assert_eq!(
            sub_err(&product),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"
        );
        // $or alternatives add up: 2 x 70 = 140 is fine, 2 x 80 is not.
        let alt = |n: usize| {
            let v: Vec<String> = (0..n).map(|i| format!("\"v{i}\"")).collect();
            format!("{{\"$or\":[{{\"a\":[{0}]}},{{\"b\":[{0}]}}]}}", v.join(","))
        };
        assert!(compile(&alt(70), Scope::MessageAttributes, Origin::Subscribe).is_ok());
        assert!(compile(&alt(80), Scope::MessageAttributes, Origin::Subscribe).is_err());
    }

    #[test]
    fn clearing_policies() {
        assert!(compile("", Scope::MessageAttributes, Origin::Subscribe)
            .unwrap()
            .is_none());
        assert!(compile(" {} ", Scope::MessageBody, Origin::Subscribe)
            .unwrap()
            .is_none());
    }

    #[test]
    fn attribute_matching() {
        let p = policy(
            r#"{"store":["example_corp"],"price":[{"numeric":[">",0,"<=",100]}],"tags":["red"]}"#,
            Scope::MessageAttributes,
        );
        let ok = message(
            &[
                ("store", "String", "example_corp"),
                ("price", "Number", "99.5"),
                ("tags", "String.Array", r#"["blue","red"]"#),
            ],
            "x",
        );
        assert!(p.matches(&ok, "sqs"));
        let too_expensive = message(
            &[
                ("store", "String", "example_corp"),
                ("price", "Number", "100.01"),
                ("tags", "String.Array", r#"["red"]"#),
            ],
            "x",
        );
        assert!(!p.matches(&too_expensive, "sqs"));
        // A number sent as a String attribute is not a number.
        let as_string = message(
            &[
                ("store", "String", "example_corp"),
                ("price", "String", "50"),
                ("tags", "String", "red"),
            ],
            "x",
        );
        assert!(!p.matches(&as_string, "sqs"));

        let absent = policy(r#"{"store":[{"exists":false}]}"#, Scope::MessageAttributes);
        assert!(absent.matches(&message(&[("other", "String", "1")], "x"), "sqs"));
        assert!(!absent.matches(&message(&[], "x"), "sqs"));
        let prefix = policy(
            r#"{"event":[{"prefix":"order-"},{"anything-but":{"prefix":"x"}}]}"#,
            Scope::MessageAttributes,
        );
        assert!(prefix.matches(&message(&[("event", "String", "order-1")], ""), "sqs"));
        assert!(!prefix.matches(&message(&[("event", "String", "xyz")], ""), "sqs"));
    }

    #[test]
    fn body_matching() {
        let p = policy(
            r#"{"object":{"key":[{"prefix":"auto-"}]}}"#,
            Scope::MessageBody,
        );
        assert!(p.matches(&message(&[], r#"{"object":{"key":"auto-test"}}"#), "sqs"));
        assert!(!p.matches(&message(&[], r#"{"object":{"key":"home"}}"#), "sqs"));
        assert!(!p.matches(&message(&[], "not json"), "sqs"));
        assert!(!p.matches(&message(&[], "[1]"), "sqs"));
        let either = policy(
            r#"{"$or":[{"a":["1"]},{"b":[{"numeric":["=",2]}]}]}"#,
            Scope::MessageBody,
        );
        assert!(either.matches(&message(&[], r#"{"b":2}"#), "sqs"));
        assert!(!either.matches(&message(&[], r#"{"b":3}"#), "sqs"));
    }
}
