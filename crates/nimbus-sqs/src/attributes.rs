//! Queue attributes: the configurable ones with AWS's defaults and ranges,
//! and the names GetQueueAttributes answers.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SqsError};

/// The configurable attributes of a standard queue.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueAttributes {
    pub delay_seconds: u32,
    pub maximum_message_size: u32,
    pub message_retention_period: u32,
    pub receive_message_wait_time_seconds: u32,
    pub visibility_timeout: u32,
}

impl Default for QueueAttributes {
    fn default() -> Self {
        QueueAttributes {
            delay_seconds: 0,
            maximum_message_size: 1_048_576,
            message_retention_period: 345_600,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: 30,
        }
    }
}

/// Name and inclusive range of each configurable attribute. Message size
/// follows AWS's current limits (1 MiB maximum and default, raised from
/// 256 KiB in 2025), as the SQS API reference states them.
const CONFIGURABLE: [(&str, u32, u32); 5] = [
    ("DelaySeconds", 0, 900),
    ("MaximumMessageSize", 1024, 1_048_576),
    ("MessageRetentionPeriod", 60, 1_209_600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20),
    ("VisibilityTimeout", 0, 43_200),
];

/// Attributes only GetQueueAttributes returns.
const READ_ONLY: [&str; 6] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

impl QueueAttributes {
    fn slot(&mut self, name: &str) -> Option<&mut u32> {
        Some(match name {
            "DelaySeconds" => &mut self.delay_seconds,
            "MaximumMessageSize" => &mut self.maximum_message_size,
            "MessageRetentionPeriod" => &mut self.message_retention_period,
            "ReceiveMessageWaitTimeSeconds" => &mut self.receive_message_wait_time_seconds,
            "VisibilityTimeout" => &mut self.visibility_timeout,
            _ => return None,
        })
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        let mut copy = *self;
        copy.slot(name).map(|v| *v)
    }

    /// Applies `changes` (attribute name -> value as text) in request order,
    /// validating each: an unknown name is InvalidAttributeName, a value that
    /// is not an integer in range is InvalidAttributeValue.
    pub fn apply(&mut self, changes: &[(String, String)]) -> Result<()> {
        for (name, value) in changes {
            let Some(&(_, min, max)) = CONFIGURABLE.iter().find(|(n, _, _)| n == name) else {
                return Err(SqsError::invalid_attribute_name(name));
            };
            let parsed = value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|v| (min..=max).contains(v))
                .ok_or_else(|| SqsError::invalid_attribute_value(name))?;
            if let Some(slot) = self.slot(name) {
                *slot = parsed;
            }
        }
        Ok(())
    }
}

/// Every attribute name GetQueueAttributes knows, in the order `All` lists them.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    CONFIGURABLE
        .iter()
        .map(|(n, _, _)| *n)
        .chain(READ_ONLY.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_owned(), value.to_owned())]
    }

    #[test]
    fn ranges_are_enforced() {
        let mut attrs = QueueAttributes::default();
        attrs.apply(&change("VisibilityTimeout", "43200")).unwrap();
        assert_eq!(attrs.visibility_timeout, 43200);
        let err = attrs
            .apply(&change("VisibilityTimeout", "43201"))
            .unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value for the parameter VisibilityTimeout."
        );
        assert!(attrs.apply(&change("MaximumMessageSize", "1023")).is_err());
        assert!(attrs.apply(&change("DelaySeconds", "-1")).is_err());
        assert!(attrs.apply(&change("DelaySeconds", "abc")).is_err());
        let err = attrs.apply(&change("Nope", "1")).unwrap_err();
        assert_eq!(err.message, "Unknown Attribute Nope.");
        assert_eq!(attrs.visibility_timeout, 43200);
    }
}
