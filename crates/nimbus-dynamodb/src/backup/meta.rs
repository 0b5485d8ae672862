//! What is stored about an on-demand backup, its ARN, the registry of
//! backups the API can see, and the backup shapes of the API's responses.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use nimbus_store::ReadView;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::catalog::TableDef;
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::ops::tables::{key_schema_json, projection_json};
use crate::ttl::TtlState;

pub const BACKUP_TAG: u8 = b'B';
pub const BACKUP_ITEM_TAG: u8 = b'A';
pub const NEXT_BACKUP_NUMBER_KEY: &[u8] = b"V";

/// Where a backup is in its life. Only CREATING and AVAILABLE backups are
/// visible; a DELETING one is being removed by the janitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupStatus {
    Creating,
    Available,
    Deleting,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Creating => "CREATING",
            BackupStatus::Available => "AVAILABLE",
            // DeleteBackup's answer; the stored status is never shown.
            BackupStatus::Deleting => "DELETED",
        }
    }
}

/// Everything stored about one backup (JSON in the `B` keyspace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupMeta {
    /// Storage number of its items (the `A` keyspace); never reused.
    pub number: u64,
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    /// BackupCreationDateTime (ms since the epoch, by the server's clock).
    pub created_ms: u64,
    pub status: BackupStatus,
    /// The table's definition as it was backed up.
    pub table: TableDef,
    /// The table's TTL setting then, if TTL was enabled.
    pub ttl: Option<TtlState>,
    /// Item count and bytes of the backed-up table.
    pub items: i64,
    pub bytes: i64,
}

pub fn meta_key(number: u64) -> [u8; 9] {
    layout::numbered_key(BACKUP_TAG, number)
}

/// Prefix of every item of one backup; an item's key is this followed by
/// its table item key without the table prefix.
pub fn items_prefix(number: u64) -> [u8; 9] {
    layout::numbered_key(BACKUP_ITEM_TAG, number)
}

/// `TABLE_ARN/backup/01714564800000-1a2b3c4d`: the creation time in ms,
/// 14 digits, then 8 random hex digits, as AWS forms backup ARNs.
pub fn backup_arn(table_arn: &str, created_ms: u64) -> String {
    let random = uuid::Uuid::new_v4().as_u128() as u32;
    format!("{table_arn}/backup/{created_ms:014}-{random:08x}")
}

/// The creation time a backup ARN's id carries, for positioning
/// ExclusiveStartBackupArn (which may name a deleted backup).
pub fn arn_time(arn: &str) -> Option<u64> {
    let id = arn.rsplit_once("/backup/")?.1;
    let digits = id.get(..14)?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())
        .flatten()
}

/// Checks the form of a BackupArn as AWS does: not a DynamoDB backup ARN
/// at all -> "Invalid Backup ARN"; a backup ARN of another partition or
/// service -> "BackupArn is not valid".
pub fn check_backup_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, service, _region, _account, resource] = parts.as_slice() else {
        return Err(DynamoError::validation("Invalid Backup ARN"));
    };
    let Some((table, id)) = resource
        .strip_prefix("table/")
        .and_then(|r| r.split_once("/backup/"))
    else {
        return Err(DynamoError::validation("Invalid Backup ARN"));
    };
    if table.is_empty() || id.is_empty() || id.contains('/') {
        return Err(DynamoError::validation("Invalid Backup ARN"));
    }
    if *partition != "aws" || *service != "dynamodb" {
        return Err(DynamoError::validation("BackupArn is not valid"));
    }
    Ok(())
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// BackupDetails; `status` overrides the stored one (DeleteBackup says
/// DELETED).
pub fn details_json(meta: &BackupMeta, status: BackupStatus) -> Value {
    json!({
        "BackupArn": meta.arn,
        "BackupName": meta.name,
        "BackupSizeBytes": meta.bytes,
        "BackupStatus": status.as_str(),
        "BackupType": "USER",
        "BackupCreationDateTime": seconds(meta.created_ms),
    })
}

/// One entry of ListBackups.
pub fn summary_json(meta: &BackupMeta) -> Value {
    json!({
        "TableName": meta.table.name,
        "TableId": meta.table.id,
        "TableArn": meta.table.arn(),
        "BackupArn": meta.arn,
        "BackupName": meta.name,
        "BackupCreationDateTime": seconds(meta.created_ms),
        "BackupStatus": meta.status.as_str(),
        "BackupType": "USER",
        "BackupSizeBytes": meta.bytes,
    })
}

/// BackupDescription: details plus what the backup recorded of its table.
/// Features appear only when the table had them, as on AWS.
pub fn description_json(meta: &BackupMeta, status: BackupStatus) -> Value {
    let def = &meta.table;
    let throughput =
        |read: i64, write: i64| json!({"ReadCapacityUnits": read, "WriteCapacityUnits": write});
    let source = json!({
        "TableName": def.name,
        "TableId": def.id,
        "TableArn": def.arn(),
        "TableSizeBytes": meta.bytes,
        "KeySchema": key_schema_json(&def.hash_key, def.range_key.as_ref()),
        "TableCreationDateTime": def.created,
        "ProvisionedThroughput": throughput(def.throughput.read, def.throughput.write),
        "ItemCount": meta.items,
        "BillingMode": def.billing_mode,
    });
    let mut features = Map::new();
    let (mut gsis, mut lsis) = (Vec::new(), Vec::new());
    for index in &def.indexes {
        let mut d = json!({
            "IndexName": index.name,
            "KeySchema": key_schema_json(&index.hash_key, index.range_key.as_ref()),
            "Projection": projection_json(&index.projection),
        });
        if index.local {
            lsis.push(d);
        } else {
            let t = index.throughput.clone().unwrap_or_default();
            d["ProvisionedThroughput"] = throughput(t.read, t.write);
            gsis.push(d);
        }
    }
    if !lsis.is_empty() {
        features.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
    }
    if !gsis.is_empty() {
        features.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if let Some(s) = def.stream.as_ref().filter(|s| s.enabled) {
        features.insert(
            "StreamDescription".into(),
            json!({"StreamEnabled": true, "StreamViewType": s.view_type.as_str()}),
        );
    }
    if let Some(ttl) = &meta.ttl {
        features.insert(
            "TimeToLiveDescription".into(),
            json!({"TimeToLiveStatus": "ENABLED", "AttributeName": ttl.attribute_name}),
        );
    }
    json!({
        "BackupDetails": details_json(meta, status),
        "SourceTableDetails": source,
        "SourceTableFeatureDetails": Value::Object(features),
    })
}

/// The backups the API can see (CREATING and AVAILABLE), by ARN.
#[derive(Default)]
pub struct BackupRegistry {
    by_arn: RwLock<HashMap<String, Arc<BackupMeta>>>,
}

impl BackupRegistry {
    pub fn get(&self, arn: &str) -> Option<Arc<BackupMeta>> {
        self.by_arn
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
            .cloned()
    }

    pub fn insert(&self, meta: Arc<BackupMeta>) {
        self.by_arn
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(meta.arn.clone(), meta);
    }

    pub fn remove(&self, arn: &str) {
        self.by_arn
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }

    /// The backups of one account and region, oldest first (ties by ARN).
    pub fn list(&self, account: &str, region: &str) -> Vec<Arc<BackupMeta>> {
        let mut out: Vec<Arc<BackupMeta>> = self
            .by_arn
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|m| m.account == account && m.region == region)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.created_ms, &a.arn).cmp(&(b.created_ms, &b.arn)));
        out
    }
}

/// Every stored backup.
pub fn load(view: &impl ReadView) -> Result<Vec<BackupMeta>> {
    Ok(super::load_numbered(view, BACKUP_TAG, "backup")?
        .into_iter()
        .map(|(_, m)| m)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_carry_their_creation_time() {
        let arn = backup_arn(
            "arn:aws:dynamodb:us-east-1:000000000000:table/t",
            1_714_564_800_000,
        );
        assert!(arn
            .starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/t/backup/01714564800000-"));
        assert_eq!(
            arn.len(),
            "arn:aws:dynamodb:us-east-1:000000000000:table/t/backup/".len() + 23
        );
        assert_eq!(arn_time(&arn), Some(1_714_564_800_000));
        assert!(check_backup_arn(&arn).is_ok());
    }

    #[test]
    fn arn_forms_are_checked_like_aws() {
        let msg = |a: &str| match check_backup_arn(a) {
            Err(DynamoError::Validation(m)) => m,
            other => panic!("{a}: {other:?}"),
        };
        assert_eq!(
            msg("arn:aws:dynamodb:us-east-1:000000000000:table/t"),
            "Invalid Backup ARN"
        );
        assert_eq!(
            msg("not-an-arn-at-all-but-long-enough-to-pass-min"),
            "Invalid Backup ARN"
        );
        assert_eq!(
            msg("arn:aws:sqs:us-east-1:000000000000:table/t/backup/01714564800000-1a2b3c4d"),
            "BackupArn is not valid"
        );
    }
}
