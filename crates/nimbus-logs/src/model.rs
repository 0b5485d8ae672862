//! What the store holds for groups and streams, and how each is described.

use std::collections::BTreeMap;

use nimbus_store::ReadView;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::arn;
use crate::error::{LogsError, Result};
use crate::keys;

/// The retention periods AWS accepts, in days.
pub const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRecord {
    pub name: String,
    pub id: u64,
    pub created_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub log_group_class: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub stored_bytes: u64,
}

impl GroupRecord {
    /// The oldest timestamp still retained at `now_ms` (events before it
    /// are expired), or `None` if the group keeps events forever.
    pub fn retention_cutoff(&self, now_ms: i64) -> Option<i64> {
        self.retention_days
            .map(|days| now_ms.saturating_sub(days.saturating_mul(DAY_MS)))
    }

    /// DescribeLogGroups' entry.
    pub fn describe(&self, region: &str, account: &str) -> Value {
        let group_arn = arn::group_arn(region, account, &self.name);
        let mut v = json!({
            "logGroupName": self.name,
            "creationTime": self.created_ms,
            "metricFilterCount": 0,
            "arn": format!("{group_arn}:*"),
            "logGroupArn": group_arn,
            "storedBytes": self.stored_bytes,
            "logGroupClass": self.log_group_class,
        });
        if let Some(days) = self.retention_days {
            v["retentionInDays"] = json!(days);
        }
        if let Some(kms) = &self.kms_key_id {
            v["kmsKeyId"] = json!(kms);
        }
        v
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamRecord {
    pub name: String,
    pub id: u64,
    pub created_ms: i64,
    /// The sequence number the next event gets (1 for the first).
    pub next_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ingestion_ms: Option<i64>,
    #[serde(default)]
    pub stored_bytes: u64,
}

impl StreamRecord {
    /// DescribeLogStreams' entry.
    pub fn describe(&self, region: &str, account: &str, group: &str) -> Value {
        let mut v = json!({
            "logStreamName": self.name,
            "creationTime": self.created_ms,
            "arn": arn::stream_arn(region, account, group, &self.name),
            // AWS reports 0 here since 2019; the group's storedBytes counts.
            "storedBytes": 0,
            "uploadSequenceToken": sequence_token(self.next_seq),
        });
        if let Some(t) = self.first_event_ms {
            v["firstEventTimestamp"] = json!(t);
        }
        if let Some(t) = self.last_event_ms {
            v["lastEventTimestamp"] = json!(t);
        }
        if let Some(t) = self.last_ingestion_ms {
            v["lastIngestionTime"] = json!(t);
        }
        v
    }
}

/// Sequence tokens are ignored on input (as AWS does now); the one
/// returned is still unique per batch, for clients that log it.
pub fn sequence_token(next_seq: u64) -> String {
    format!("{next_seq:056}")
}

/// An event's stored value: ingestion time, then the UTF-8 message.
pub fn encode_event(ingestion_ms: i64, message: &str, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&ingestion_ms.to_be_bytes());
    out.extend_from_slice(message.as_bytes());
}

pub fn decode_event(value: &[u8]) -> Option<(i64, &str)> {
    if value.len() < 8 {
        return None;
    }
    let ingestion = keys::u64_from(&value[..8]) as i64;
    std::str::from_utf8(&value[8..])
        .ok()
        .map(|msg| (ingestion, msg))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| LogsError::ServiceUnavailable(format!("a stored {what} is unreadable: {e}")))
}

pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    serde_json::to_vec(record).expect("records serialize")
}

pub fn load_group(
    view: &impl ReadView,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<GroupRecord>> {
    match view.get(&keys::group(account, region, name))? {
        None => Ok(None),
        Some(bytes) => decode(&bytes, "log group").map(Some),
    }
}

pub fn require_group(
    view: &impl ReadView,
    account: &str,
    region: &str,
    name: &str,
) -> Result<GroupRecord> {
    load_group(view, account, region, name)?.ok_or_else(LogsError::group_not_found)
}

pub fn load_stream(view: &impl ReadView, gid: u64, name: &str) -> Result<Option<StreamRecord>> {
    match view.get(&keys::stream(gid, name))? {
        None => Ok(None),
        Some(bytes) => decode(&bytes, "log stream").map(Some),
    }
}

pub fn require_stream(view: &impl ReadView, gid: u64, name: &str) -> Result<StreamRecord> {
    load_stream(view, gid, name)?.ok_or_else(LogsError::stream_not_found)
}

/// Every stream of a group, by name (bounded by what the group holds).
pub fn all_streams(view: &impl ReadView, gid: u64) -> Result<Vec<StreamRecord>> {
    let prefix = keys::streams_prefix(gid);
    let end = keys::prefix_end(&prefix);
    let mut out = Vec::new();
    let mut failure = None;
    view.scan(
        std::ops::Bound::Included(&prefix),
        std::ops::Bound::Excluded(&end),
        false,
        &mut |_, v| match decode::<StreamRecord>(v, "log stream") {
            Ok(s) => {
                out.push(s);
                true
            }
            Err(e) => {
                failure = Some(e);
                false
            }
        },
    )?;
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Allocates a fresh id for a group or stream inside a write call.
pub fn next_id(txn: &mut nimbus_store::WriteTxn<'_>) -> Result<u64> {
    let current = txn
        .get(keys::NEXT_ID)?
        .filter(|b| b.len() == 8)
        .map(|b| keys::u64_from(&b))
        .unwrap_or(1);
    txn.put(keys::NEXT_ID, &(current + 1).to_be_bytes());
    Ok(current)
}
