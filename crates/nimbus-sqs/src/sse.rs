//! Server-side encryption attributes: `SqsManagedSseEnabled` (SSE-SQS,
//! on by default for new queues, as on AWS since 2022), `KmsMasterKeyId`
//! (SSE-KMS) and `KmsDataKeyReusePeriodSeconds`.
//!
//! They are accepted, validated, stored and returned as AWS returns them,
//! and that is all: nimbus has no KMS, and messages are stored as they are
//! in every queue (in the data directory, not encrypted with any key).

use serde::{Deserialize, Serialize};

use crate::error::{Result, SqsError};
use crate::fifo::parse_bool;

pub const NAMES: [&str; 3] = [
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// KmsDataKeyReusePeriodSeconds: its range and default (five minutes).
const REUSE_PERIOD: std::ops::RangeInclusive<u32> = 60..=86_400;
const DEFAULT_REUSE_PERIOD: u32 = 300;

/// A queue's encryption settings. At most one kind is on: SSE-SQS, or
/// SSE-KMS with a key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Encryption {
    pub sqs_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    pub kms_data_key_reuse_period_seconds: u32,
}

impl Default for Encryption {
    /// A new queue: SSE-SQS.
    fn default() -> Self {
        Encryption {
            sqs_managed: true,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: DEFAULT_REUSE_PERIOD,
        }
    }
}

/// AWS refuses a request that turns on both kinds at once.
pub fn check_request(changes: &[(String, String)]) -> Result<()> {
    let given = |name: &str| {
        changes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let sqs_managed = given("SqsManagedSseEnabled").and_then(parse_bool) == Some(true);
    let kms = given("KmsMasterKeyId").is_some_and(|k| !k.is_empty());
    if sqs_managed && kms {
        return Err(SqsError::invalid_attribute_name_message(
            "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
        ));
    }
    Ok(())
}

impl Encryption {
    /// Sets one encryption attribute. Choosing a kind turns the other off:
    /// a KMS key turns SSE-SQS off, `SqsManagedSseEnabled=true` drops the
    /// KMS key, and an empty `KmsMasterKeyId` removes the key.
    pub fn apply(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "KmsMasterKeyId" if value.is_empty() => self.kms_master_key_id = None,
            "KmsMasterKeyId" => {
                self.kms_master_key_id = Some(value.to_owned());
                self.sqs_managed = false;
            }
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|v| REUSE_PERIOD.contains(v))
                    .ok_or_else(|| SqsError::invalid_attribute_value(name))?;
            }
            "SqsManagedSseEnabled" => {
                self.sqs_managed =
                    parse_bool(value).ok_or_else(|| SqsError::invalid_attribute_value(name))?;
                if self.sqs_managed {
                    self.kms_master_key_id = None;
                }
            }
            _ => return Err(SqsError::invalid_attribute_name(name)),
        }
        Ok(())
    }

    /// The attribute's text, `None` where AWS leaves it out: the KMS
    /// attributes exist only while a KMS key is set.
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "SqsManagedSseEnabled" => Some(self.sqs_managed.to_string()),
            "KmsMasterKeyId" => self.kms_master_key_id.clone(),
            "KmsDataKeyReusePeriodSeconds" => self
                .kms_master_key_id
                .as_ref()
                .map(|_| self.kms_data_key_reuse_period_seconds.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kinds_exclude_each_other() {
        let mut e = Encryption::default();
        assert_eq!(e.get("SqsManagedSseEnabled").as_deref(), Some("true"));
        assert_eq!(e.get("KmsMasterKeyId"), None);
        assert_eq!(e.get("KmsDataKeyReusePeriodSeconds"), None);
        e.apply("KmsMasterKeyId", "alias/aws/sqs").unwrap();
        assert_eq!(e.get("SqsManagedSseEnabled").as_deref(), Some("false"));
        assert_eq!(
            e.get("KmsDataKeyReusePeriodSeconds").as_deref(),
            Some("300")
        );
        e.apply("KmsDataKeyReusePeriodSeconds", "86400").unwrap();
        assert_eq!(
            e.get("KmsDataKeyReusePeriodSeconds").as_deref(),
            Some("86400")
        );
        e.apply("SqsManagedSseEnabled", "true").unwrap();
        assert_eq!(e.get("KmsMasterKeyId"), None);
        e.apply("SqsManagedSseEnabled", "false").unwrap();
        assert_eq!(e.get("SqsManagedSseEnabled").as_deref(), Some("false"));
        let err = check_request(&changes(&[
            ("SqsManagedSseEnabled", "true"),
            ("KmsMasterKeyId", "k"),
        ]))
        .unwrap_err();
        assert_eq!(err.shape, "InvalidAttributeName");
        assert!(check_request(&changes(&[
            ("SqsManagedSseEnabled", "false"),
            ("KmsMasterKeyId", "k")
        ]))
        .is_ok());
    }

    #[test]
    fn values_are_checked() {
        let mut e = Encryption::default();
        for bad in ["59", "86401", "x", ""] {
            let err = e.apply("KmsDataKeyReusePeriodSeconds", bad).unwrap_err();
            assert_eq!(
                err.message,
                "Invalid value for the parameter KmsDataKeyReusePeriodSeconds."
            );
        }
        assert!(e.apply("KmsDataKeyReusePeriodSeconds", "60").is_ok());
        let err = e.apply("SqsManagedSseEnabled", "yes").unwrap_err();
        assert_eq!(err.shape, "InvalidAttributeValue");
        assert_eq!(
            e,
            Encryption {
                kms_data_key_reuse_period_seconds: 60,
                ..Default::default()
            }
        );
    }
}
