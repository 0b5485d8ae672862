//! Subscription attributes: which ones Subscribe and
//! SetSubscriptionAttributes take (SNS API reference: DeliveryPolicy,
//! FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy,
//! SubscriptionRoleArn), how each value is checked, and what
//! GetSubscriptionAttributes answers.
//!
//! Errors are `InvalidParameter` "Invalid parameter: <reason>"; with
//! Subscribe the reason follows "Attributes Reason: ".

use serde_json::{Map, Value};

use crate::arn;
use crate::error::{Result, SnsError};
use crate::filter::{self, Scope};
use crate::model::SubscriptionRecord;

pub const SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
];

/// Protocols that can take raw messages.
const RAW_PROTOCOLS: &[&str] = &["sqs", "http", "https", "firehose"];

/// What a subscription attribute is checked against.
pub struct Context<'a> {
    pub protocol: &'a str,
    pub endpoint: &'a str,
    pub topic_fifo: bool,
    /// The filter policy scope in force once this change applies.
    pub scope: Scope,
    pub origin: filter::Origin,
}

/// Checks one attribute; returns the value to store, or `None` to remove
/// it (an empty policy clears it).
pub fn check(name: &str, value: &str, cx: &Context<'_>) -> Result<Option<String>> {
    let prefix = cx.origin.prefix();
    let invalid = |reason: String| SnsError::invalid_parameter(format!("{prefix}{reason}"));
    if !SETTABLE.contains(&name) {
        return Err(invalid("AttributeName".into()));
    }
    match name {
        "RawMessageDelivery" => {
            let v = value.to_ascii_lowercase();
            if v != "true" && v != "false" {
                return Err(invalid(format!(
                    "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                )));
            }
            if v == "true" && !RAW_PROTOCOLS.contains(&cx.protocol) {
                return Err(invalid(format!(
                    "Delivery protocol [{}] does not support raw message delivery.",
                    cx.protocol
                )));
            }
            Ok(Some(v))
        }
        "FilterPolicyScope" => match Scope::from_name(value) {
            Some(scope) => Ok(Some(scope.name().to_owned())),
            None => Err(invalid(format!(
                "FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            ))),
        },
        "FilterPolicy" => {
            if filter::clears(value) {
                return Ok(None);
            }
            filter::compile(value, cx.scope, cx.origin)?;
            Ok(Some(value.to_owned()))
        }
        "RedrivePolicy" => {
            if value.is_empty() {
                return Ok(None);
            }
            let parsed: Value = serde_json::from_str(value).map_err(|e| {
                invalid(format!("RedrivePolicy: failed to parse JSON. {e}"))
            })?;
            let target = parsed
                .get("deadLetterTargetArn")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some((_, _, queue)) = arn::parse_queue(target) else {
                return Err(invalid(
                    "RedrivePolicy: deadLetterTargetArn is an invalid arn".into(),
                ));
            };
            if cx.topic_fifo && cx.endpoint.ends_with(".fifo") && !queue.ends_with(".fifo") {
                return Err(invalid(
                    "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
                        .into(),
                ));
            }
            Ok(Some(value.to_owned()))
        }
        "DeliveryPolicy" => {
            if value.is_empty() {
                return Ok(None);
            }
            match serde_json::from_str::<Value>(value) {
                Ok(Value::Object(_)) => Ok(Some(value.to_owned())),
                Ok(_) => Err(invalid("DeliveryPolicy: must be a JSON object".into())),
                Err(e) => Err(invalid(format!("DeliveryPolicy: failed to parse JSON. {e}"))),
            }
        }
        // SubscriptionRoleArn (Firehose): kept as given.
        _ => Ok((!value.is_empty()).then(|| value.to_owned())),
    }
}

/// What GetSubscriptionAttributes answers.
pub fn render(
    sub: &SubscriptionRecord,
    effective_delivery_policy: Option<String>,
) -> Map<String, Value> {
    let s = |v: &str| Value::String(v.to_owned());
    let mut out = Map::new();
    out.insert("SubscriptionArn".into(), s(&sub.arn()));
    out.insert("TopicArn".into(), s(&sub.topic_arn()));
    out.insert("Protocol".into(), s(&sub.protocol));
    out.insert("Endpoint".into(), s(&sub.endpoint));
    out.insert("Owner".into(), s(&sub.owner));
    out.insert(
        "PendingConfirmation".into(),
        s(if sub.pending { "true" } else { "false" }),
    );
    out.insert(
        "ConfirmationWasAuthenticated".into(),
        s(if sub.confirmation_authenticated {
            "true"
        } else {
            "false"
        }),
    );
    out.insert(
        "SubscriptionPrincipal".into(),
        s(&format!("arn:aws:iam::{}:root", sub.owner)),
    );
    out.insert(
        "RawMessageDelivery".into(),
        s(if sub.raw() { "true" } else { "false" }),
    );
    for (name, value) in &sub.attributes {
        // The scope is shown only alongside a policy, as AWS does.
        if name == "FilterPolicyScope" || name == "RawMessageDelivery" {
            continue;
        }
        out.insert(name.clone(), s(value));
    }
    if sub.attributes.contains_key("FilterPolicy") {
        let scope = sub
            .attributes
            .get("FilterPolicyScope")
            .map_or("MessageAttributes", String::as_str);
        out.insert("FilterPolicyScope".into(), s(scope));
    }
    if let Some(policy) = effective_delivery_policy {
        out.insert("EffectiveDeliveryPolicy".into(), Value::String(policy));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Origin;

    fn cx(protocol: &'static str, origin: Origin) -> Context<'static> {
        Context {
            protocol,
            endpoint: "arn:aws:sqs:us-east-1:000000000000:q",
            topic_fifo: false,
            scope: Scope::MessageAttributes,
            origin,
        }
    }

    #[test]
    fn aws_texts() {
        let sub = cx("sqs", Origin::Subscribe);
        let set = cx("sqs", Origin::SetAttributes);
        assert_eq!(
            check("RawMessageDelivery", "wrongvalue", &sub).unwrap_err().message,
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false."
        );
        assert_eq!(
            check("RawMessageDelivery", "", &set).unwrap_err().message,
            "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."
        );
        assert_eq!(
            check("RawMessageDelivery", "TRUE", &set).unwrap(),
            Some("true".into())
        );
        assert_eq!(
            check("Fake", "x", &set).unwrap_err().message,
            "Invalid parameter: AttributeName"
        );
        assert_eq!(
            check("RedrivePolicy", r#"{"deadLetterTargetArn":"x"}"#, &set)
                .unwrap_err()
                .message,
            "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"
        );
        assert_eq!(
            check("FilterPolicyScope", "RandomValue", &set).unwrap_err().message,
            "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes"
        );
        assert!(check("RedrivePolicy", "{invalid", &set)
            .unwrap_err()
            .message
            .starts_with("Invalid parameter: RedrivePolicy: failed to parse JSON. "));
        let lambda = cx("lambda", Origin::SetAttributes);
        assert_eq!(
            check("RawMessageDelivery", "true", &lambda)
                .unwrap_err()
                .message,
            "Invalid parameter: Delivery protocol [lambda] does not support raw message delivery."
        );
        assert_eq!(
            check("RawMessageDelivery", "false", &lambda).unwrap(),
            Some("false".into())
        );
        let fifo = Context {
            protocol: "sqs",
            endpoint: "arn:aws:sqs:us-east-1:1:q.fifo",
            topic_fifo: true,
            scope: Scope::MessageAttributes,
            origin: Origin::SetAttributes,
        };
        assert_eq!(
            check("RedrivePolicy", r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq"}"#, &fifo)
                .unwrap_err()
                .message,
            "Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
        );
        assert_eq!(check("FilterPolicy", "{}", &set).unwrap(), None);
    }
}
