//! Topic attributes: which ones CreateTopic and SetTopicAttributes take,
//! how their values are checked, and what GetTopicAttributes answers.
//!
//! Settable (SNS API reference, SetTopicAttributes): DeliveryPolicy,
//! DisplayName, Policy, TracingConfig, KmsMasterKeyId, SignatureVersion, the
//! delivery status logging attributes (`<Protocol>SuccessFeedbackRoleArn`,
//! `...SuccessFeedbackSampleRate`, `...FailureFeedbackRoleArn` for
//! Application, Firehose, HTTP, Lambda and SQS), DataProtectionPolicy, and
//! for FIFO topics ContentBasedDeduplication, ArchivePolicy and
//! FifoThroughputScope. FifoTopic is set only by CreateTopic. nimbus stores
//! them all; it acts on DeliveryPolicy (HTTP retries), Policy
//! (AddPermission / RemovePermission edit it; it is not enforced),
//! SignatureVersion and ContentBasedDeduplication.

use serde_json::{Map, Value};

use crate::error::{Result, SnsError};
use crate::model::TopicRecord;
use crate::policy;

/// Who is setting the attribute: CreateTopic's errors say "Attributes
/// Reason:", SetTopicAttributes' do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Create,
    Set,
}

impl Origin {
    fn prefix(self) -> &'static str {
        match self {
            Origin::Create => "Invalid parameter: Attributes Reason: ",
            Origin::Set => "Invalid parameter: ",
        }
    }
}

const FEEDBACK_PROTOCOLS: &[&str] = &["Application", "Firehose", "HTTP", "Lambda", "SQS"];

fn is_feedback(name: &str) -> bool {
    FEEDBACK_PROTOCOLS.iter().any(|p| {
        name.strip_prefix(p).is_some_and(|rest| {
            matches!(
                rest,
                "SuccessFeedbackRoleArn" | "SuccessFeedbackSampleRate" | "FailureFeedbackRoleArn"
            )
        })
    })
}

const FIFO_ONLY: &[&str] = &[
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
];

const GENERAL: &[&str] = &[
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "DataProtectionPolicy",
];

/// Checks one attribute for a topic that is (or will be) FIFO or not.
/// Returns the value to store, `None` to remove the attribute (an empty
/// value clears the policies and optional settings).
pub fn check(name: &str, value: &str, fifo: bool, origin: Origin) -> Result<Option<String>> {
    let prefix = origin.prefix();
    let invalid = || SnsError::invalid_parameter(format!("{prefix}{name}"));
    let known = GENERAL.contains(&name) || FIFO_ONLY.contains(&name) || is_feedback(name);
    if !known {
        return Err(SnsError::invalid_parameter(format!(
            "{prefix}AttributeName"
        )));
    }
    if FIFO_ONLY.contains(&name) && !fifo {
        return Err(SnsError::invalid_parameter(format!(
            "{prefix}{name} Reason: The request includes {name} parameter that is not valid for this topic type"
        )));
    }
    if value.is_empty() && name != "DisplayName" {
        return Ok(None);
    }
    match name {
        "Policy" | "DeliveryPolicy" | "DataProtectionPolicy" | "ArchivePolicy" => {
            match serde_json::from_str::<Value>(value) {
                Ok(Value::Object(_)) => {}
                _ => return Err(invalid()),
            }
        }
        "SignatureVersion" if !matches!(value, "1" | "2") => return Err(invalid()),
        "TracingConfig" if !matches!(value, "Active" | "PassThrough") => return Err(invalid()),
        "FifoThroughputScope" if !matches!(value, "Topic" | "MessageGroup") => {
            return Err(invalid())
        }
        "ContentBasedDeduplication" => {
            return match value.to_ascii_lowercase().as_str() {
                v @ ("true" | "false") => Ok(Some(v.to_owned())),
                _ => Err(invalid()),
            };
        }
        n if n.ends_with("SampleRate") => match value.parse::<u32>() {
            Ok(rate) if rate <= 100 => {}
            _ => return Err(invalid()),
        },
        "DisplayName" if value.chars().count() > 100 => return Err(invalid()),
        _ => {}
    }
    Ok(Some(value.to_owned()))
}

/// What GetTopicAttributes answers.
pub fn render(topic: &TopicRecord, confirmed: usize, pending: usize) -> Map<String, Value> {
    let mut out = Map::new();
    let arn = topic.arn();
    for (name, value) in &topic.attributes {
        out.insert(name.clone(), Value::String(value.clone()));
    }
    out.insert("TopicArn".into(), Value::String(arn.clone()));
    out.insert("Owner".into(), Value::String(topic.account.clone()));
    out.entry("Policy")
        .or_insert_with(|| Value::String(policy::default_policy(&arn, &topic.account)));
    out.entry("DisplayName")
        .or_insert_with(|| Value::String(String::new()));
    out.insert(
        "SubscriptionsConfirmed".into(),
        Value::String(confirmed.to_string()),
    );
    out.insert(
        "SubscriptionsPending".into(),
        Value::String(pending.to_string()),
    );
    // Subscriptions are removed at once, never left "deleted".
    out.insert("SubscriptionsDeleted".into(), Value::String("0".into()));
    out.insert(
        "EffectiveDeliveryPolicy".into(),
        Value::String(effective_delivery_policy(
            topic.attributes.get("DeliveryPolicy").map(String::as_str),
        )),
    );
    if topic.fifo {
        out.insert("FifoTopic".into(), Value::String("true".into()));
        out.entry("ContentBasedDeduplication")
            .or_insert_with(|| Value::String("false".into()));
    }
    out
}

/// The topic's delivery policy with SNS's defaults filled in, members in
/// the order AWS writes them.
pub fn effective_delivery_policy(set: Option<&str>) -> String {
    let http = set
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("http").cloned())
        .unwrap_or_default();
    let healthy = http
        .get("defaultHealthyRetryPolicy")
        .cloned()
        .unwrap_or_default();
    let number =
        |name: &str, default: u64| healthy.get(name).and_then(Value::as_u64).unwrap_or(default);
    let backoff = healthy
        .get("backoffFunction")
        .and_then(Value::as_str)
        .unwrap_or("linear");
    let disable = http
        .get("disableSubscriptionOverrides")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let content_type = http
        .get("defaultRequestPolicy")
        .and_then(|p| p.get("headerContentType"))
        .and_then(Value::as_str)
        .unwrap_or("text/plain; charset=UTF-8");
    format!(
        "{{\"http\":{{\"defaultHealthyRetryPolicy\":{{\"minDelayTarget\":{},\"maxDelayTarget\":{},\"numRetries\":{},\"numMaxDelayRetries\":{},\"numNoDelayRetries\":{},\"numMinDelayRetries\":{},\"backoffFunction\":{}}},\"disableSubscriptionOverrides\":{disable},\"defaultRequestPolicy\":{{\"headerContentType\":{}}}}}}}",
        number("minDelayTarget", 20),
        number("maxDelayTarget", 20),
        number("numRetries", 3),
        number("numMaxDelayRetries", 0),
        number("numNoDelayRetries", 0),
        number("numMinDelayRetries", 0),
        quote(backoff),
        quote(content_type),
    )
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_names_and_values() {
        assert_eq!(
            check("FifoTopic", "true", true, Origin::Set)
                .unwrap_err()
                .message,
            "Invalid parameter: AttributeName"
        );
        assert_eq!(
            check("Nope", "x", false, Origin::Create)
                .unwrap_err()
                .message,
            "Invalid parameter: Attributes Reason: AttributeName"
        );
        assert_eq!(
            check("ContentBasedDeduplication", "true", false, Origin::Set)
                .unwrap_err()
                .message,
            "Invalid parameter: ContentBasedDeduplication Reason: The request includes ContentBasedDeduplication parameter that is not valid for this topic type"
        );
        assert_eq!(
            check("ContentBasedDeduplication", "TRUE", true, Origin::Set).unwrap(),
            Some("true".into())
        );
        assert!(check("Policy", "{not json", false, Origin::Set).is_err());
        assert!(check("SignatureVersion", "3", false, Origin::Set).is_err());
        assert!(check("LambdaSuccessFeedbackSampleRate", "101", false, Origin::Set).is_err());
        assert_eq!(
            check("LambdaSuccessFeedbackSampleRate", "100", false, Origin::Set).unwrap(),
            Some("100".into())
        );
        assert_eq!(
            check("DeliveryPolicy", "", false, Origin::Set).unwrap(),
            None
        );
        assert_eq!(
            check("DisplayName", "", false, Origin::Set).unwrap(),
            Some(String::new())
        );
    }

    #[test]
    fn effective_policy_fills_defaults() {
        let default: Value = serde_json::from_str(&effective_delivery_policy(None)).unwrap();
        assert_eq!(
            default,
            json!({"http": {
                "defaultHealthyRetryPolicy": {
                    "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                    "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                    "backoffFunction": "linear"
                },
                "disableSubscriptionOverrides": false,
                "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
            }})
        );
        let set = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1},"disableSubscriptionOverrides":false}}"#;
        let merged: Value = serde_json::from_str(&effective_delivery_policy(Some(set))).unwrap();
        assert_eq!(
            merged["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"],
            5
        );
        assert_eq!(
            merged["http"]["defaultHealthyRetryPolicy"]["numMinDelayRetries"],
            0
        );
        assert_eq!(
            merged["http"]["defaultRequestPolicy"]["headerContentType"],
            "text/plain; charset=UTF-8"
        );
    }
}
