//! Topic and subscription ARNs, and SNS's errors for malformed ones.
//!
//! - topic: `arn:aws:sns:REGION:ACCOUNT:NAME`
//! - subscription: `arn:aws:sns:REGION:ACCOUNT:TOPIC:ID` (ID a UUID)
//!
//! SNS counts the colon-separated elements first: fewer than six is
//! "An ARN must have at least 6 elements, not N" under the member's name.
//! A well-formed ARN that names no SNS resource is simply not found.

use crate::error::{Result, SnsError};

/// Where a topic lives and what it is called.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicRef {
    pub region: String,
    pub account: String,
    pub name: String,
}

impl TopicRef {
    pub fn arn(&self) -> String {
        topic_arn(&self.region, &self.account, &self.name)
    }
}

pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// "Invalid parameter: TopicArn Reason: An ARN must have at least 6
/// elements, not N", when the ARN has fewer than six elements.
fn check_elements<'a>(member: &str, arn: &'a str) -> Result<Vec<&'a str>> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return Err(SnsError::invalid_parameter(format!(
            "Invalid parameter: {member} Reason: An ARN must have at least 6 elements, not {}",
            parts.len()
        )));
    }
    Ok(parts)
}

/// The topic an ARN names. `member` is the request member it came in
/// (`TopicArn`, `TargetArn`, `ResourceArn`), for the error text.
pub fn parse_topic(member: &str, arn: &str) -> Result<TopicRef> {
    let parts = check_elements(member, arn)?;
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, name]
            if !partition.is_empty() && !region.is_empty() && !account.is_empty() =>
        {
            Ok(TopicRef {
                region: (*region).to_owned(),
                account: (*account).to_owned(),
                name: (*name).to_owned(),
            })
        }
        _ => Err(SnsError::topic_not_found()),
    }
}

/// A subscription's topic and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRef {
    pub topic: TopicRef,
    pub id: String,
}

impl SubscriptionRef {
    pub fn arn(&self) -> String {
        format!("{}:{}", self.topic.arn(), self.id)
    }
}

/// How a subscription ARN failed to name a subscription.
pub enum BadSubscriptionArn {
    /// The caller's mistake, with SNS's error for it.
    Invalid(SnsError),
    /// Well formed, but no SNS subscription can have it.
    Unknown,
}

/// The subscription an ARN names. Six elements (a topic ARN, no id) is
/// "Invalid parameter: SubscriptionId".
pub fn parse_subscription(arn: &str) -> std::result::Result<SubscriptionRef, BadSubscriptionArn> {
    let parts = check_elements("SubscriptionArn", arn).map_err(BadSubscriptionArn::Invalid)?;
    if parts.len() == 6 {
        return Err(BadSubscriptionArn::Invalid(SnsError::invalid_parameter(
            "Invalid parameter: SubscriptionId",
        )));
    }
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, topic, id]
            if !partition.is_empty() && !region.is_empty() && !id.is_empty() =>
        {
            Ok(SubscriptionRef {
                topic: TopicRef {
                    region: (*region).to_owned(),
                    account: (*account).to_owned(),
                    name: (*topic).to_owned(),
                },
                id: (*id).to_owned(),
            })
        }
        _ => Err(BadSubscriptionArn::Unknown),
    }
}

/// `(region, account, name)` of an SQS queue ARN.
pub fn parse_queue(arn: &str) -> Option<(&str, &str, &str)> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "sqs", region, account, name]
            if !partition.is_empty()
                && !region.is_empty()
                && !account.is_empty()
                && !name.is_empty() =>
        {
            Some((region, account, name))
        }
        _ => None,
    }
}

/// Whether `arn` is a Lambda function ARN, optionally qualified
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`).
pub fn is_function(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(parts.as_slice(),
        ["arn", p, "lambda", r, a, "function", name, ..]
            if !p.is_empty() && !r.is_empty() && !a.is_empty() && !name.is_empty() && parts.len() <= 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns() {
        let t = parse_topic("TopicArn", "arn:aws:sns:us-east-1:000000000000:jobs").unwrap();
        assert_eq!(t.name, "jobs");
        assert_eq!(t.arn(), "arn:aws:sns:us-east-1:000000000000:jobs");
        assert_eq!(
            parse_topic("TopicArn", "").unwrap_err().message,
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
        );
        assert_eq!(
            parse_topic("TargetArn", "a:b").unwrap_err().message,
            "Invalid parameter: TargetArn Reason: An ARN must have at least 6 elements, not 2"
        );
        assert_eq!(
            parse_topic("TopicArn", "arn:aws:sqs:us-east-1:1:q")
                .unwrap_err()
                .code,
            "NotFound"
        );
    }

    #[test]
    fn subscription_arns() {
        let s = parse_subscription("arn:aws:sns:us-east-1:1:t:abc")
            .ok()
            .unwrap();
        assert_eq!(s.id, "abc");
        assert_eq!(s.arn(), "arn:aws:sns:us-east-1:1:t:abc");
        match parse_subscription("arn:aws:sns:us-east-1:1:t") {
            Err(BadSubscriptionArn::Invalid(e)) => {
                assert_eq!(e.message, "Invalid parameter: SubscriptionId")
            }
            _ => panic!("six elements must be refused"),
        }
        match parse_subscription("arn:aws:sns:us-east-1:1") {
            Err(BadSubscriptionArn::Invalid(e)) => assert_eq!(
                e.message,
                "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"
            ),
            _ => panic!("five elements must be refused"),
        }
        assert!(matches!(
            parse_subscription("arn:aws:sqs:us-east-1:1:t:x"),
            Err(BadSubscriptionArn::Unknown)
        ));
    }

    #[test]
    fn endpoint_arns() {
        assert_eq!(
            parse_queue("arn:aws:sqs:us-east-1:1:q.fifo"),
            Some(("us-east-1", "1", "q.fifo"))
        );
        assert_eq!(parse_queue("http://localhost/1/q"), None);
        assert!(is_function("arn:aws:lambda:us-east-1:1:function:f"));
        assert!(is_function("arn:aws:lambda:us-east-1:1:function:f:live"));
        assert!(!is_function("arn:aws:lambda:us-east-1:1:layer:f"));
        assert!(!is_function("f"));
    }
}
