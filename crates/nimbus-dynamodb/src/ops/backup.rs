//! On-demand backups: CreateBackup, DescribeBackup, ListBackups,
//! DeleteBackup, RestoreTableFromBackup.
//!
//! Decisions where AWS's behaviour depends on time passing:
//! - CreateBackup answers once the backup is complete and durable, so its
//!   BackupStatus is AVAILABLE (AWS answers CREATING and is AVAILABLE
//!   moments later for small tables).
//! - There is no warm-up window after CreateTable in which AWS refuses
//!   backups (ContinuousBackupsUnavailableException): nimbus can back up a
//!   table at once.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::backup::meta::{self, BackupMeta, BackupStatus};
use crate::backup::target::{self, Overrides};
use crate::backup::{create, restore, BackupError};
use crate::catalog::Table;
use crate::codec::{decode, Violations};
use crate::error::{DynamoError, Result};
use crate::ops::tables::{IndexInput, ProvisionedThroughput};
use crate::{Caller, DynamoDb};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBackupInput {
    table_name: Option<String>,
    backup_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BackupArnInput {
    backup_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBackupsInput {
    table_name: Option<String>,
    limit: Option<i64>,
    time_range_lower_bound: Option<f64>,
    time_range_upper_bound: Option<f64>,
    exclusive_start_backup_arn: Option<String>,
    backup_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RestoreTableFromBackupInput {
    target_table_name: Option<String>,
    backup_arn: Option<String>,
    billing_mode_override: Option<String>,
    provisioned_throughput_override: Option<ProvisionedThroughput>,
    global_secondary_index_override: Option<Vec<IndexInput>>,
    local_secondary_index_override: Option<Vec<IndexInput>>,
}

/// The live table a backup-API request names by a TableArn-type member
/// (a name or a table ARN, already checked); a missing (or still
/// restoring) table is TableNotFoundException, as AWS's backup APIs say.
pub(crate) fn source_table(
    db: &DynamoDb,
    caller: &Caller,
    member: Option<&str>,
) -> Result<Arc<Table>> {
    let name = table_name_of(member.unwrap_or_default());
    db.catalog
        .get(&caller.account_id, &caller.region, name)
        .ok_or_else(|| BackupError::TableNotFound(name.to_string()).into())
}

/// The table name a TableArn-type member names: the name itself, or the
/// last part of a table ARN.
fn table_name_of(value: &str) -> &str {
    match value.strip_prefix("arn:") {
        Some(_) => value.rsplit_once(":table/").map_or(value, |(_, name)| name),
        None => value,
    }
}

/// Lengths of AWS's TableArn (a name or ARN) and BackupArn types.
pub(crate) const TABLE_ARN_LENGTH: (usize, usize) = (1, 1024);
const BACKUP_ARN_LENGTH: (usize, usize) = (37, 1024);

/// The visible backup `arn` names in the caller's account and region.
fn backup_for(db: &DynamoDb, caller: &Caller, arn: &str) -> Result<Arc<BackupMeta>> {
    meta::check_backup_arn(arn)?;
    db.backups
        .backups
        .get(arn)
        .filter(|m| m.account == caller.account_id && m.region == caller.region)
        .ok_or_else(|| BackupError::BackupNotFound(arn.to_string()).into())
}

/// A backup still being written can be neither restored nor deleted.
fn check_not_creating(m: &BackupMeta) -> Result<()> {
    if m.status == BackupStatus::Creating {
        return Err(BackupError::BackupInUse(format!("Backup is being created: {}", m.arn)).into());
    }
    Ok(())
}

pub async fn create_backup(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: CreateBackupInput = decode(body)?;
    let mut v = Violations::new();
    v.check_length(
        input.table_name.as_deref(),
        "tableName",
        TABLE_ARN_LENGTH,
        true,
    );
    v.check_name(input.backup_name.as_deref(), "backupName", 3, 255);
    v.into_result()?;
    let table = source_table(db, caller, input.table_name.as_deref())?;
    let backup = create::take(db, &table, input.backup_name.unwrap_or_default()).await?;
    Ok(json!({ "BackupDetails": meta::details_json(&backup, backup.status) }))
}

pub async fn describe_backup(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: BackupArnInput = decode(body)?;
    let mut v = Violations::new();
    v.check_length(
        input.backup_arn.as_deref(),
        "backupArn",
        BACKUP_ARN_LENGTH,
        true,
    );
    v.into_result()?;
    let backup = backup_for(db, caller, input.backup_arn.as_deref().unwrap_or_default())?;
    Ok(json!({ "BackupDescription": meta::description_json(&backup, backup.status) }))
}

pub async fn list_backups(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: ListBackupsInput = decode(body)?;
    let mut v = Violations::new();
    v.check_length(
        input.table_name.as_deref(),
        "tableName",
        TABLE_ARN_LENGTH,
        false,
    );
    v.check_range(input.limit, "limit", (1, 100));
    v.check_length(
        input.exclusive_start_backup_arn.as_deref(),
        "exclusiveStartBackupArn",
        BACKUP_ARN_LENGTH,
        false,
    );
    let user = match input.backup_type.as_deref() {
        None | Some("USER" | "ALL") => true,
        Some("SYSTEM" | "AWS_BACKUP") => false,
        Some(other) => {
            v.add(
                &Violations::quoted(other),
                "backupType",
                "Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]",
            );
            false
        }
    };
    v.into_result()?;
    let ms = |s: f64| (s * 1000.0).round().clamp(0.0, u64::MAX as f64) as u64;
    let lower = input.time_range_lower_bound.map(ms);
    let upper = input.time_range_upper_bound.map(ms);
    if let (Some(l), Some(u)) = (lower, upper) {
        if l > u {
            return Err(DynamoError::validation(
                "Time range lower bound must be less than or equal to upper bound",
            ));
        }
    }
    // The cursor is a position, by the time its ARN carries: it may name a
    // backup deleted since.
    let start = match input.exclusive_start_backup_arn.as_deref() {
        None => None,
        Some(arn) => {
            meta::check_backup_arn(arn)?;
            let at =
                meta::arn_time(arn).ok_or_else(|| DynamoError::validation("Invalid Backup ARN"))?;
            Some((at, arn.to_string()))
        }
    };
    let table = input.table_name.as_deref().map(table_name_of);
    // nimbus keeps only USER backups (no SYSTEM or AWS Backup ones).
    let matching: Vec<Arc<BackupMeta>> = if user {
        db.backups
            .backups
            .list(&caller.account_id, &caller.region)
            .into_iter()
            .filter(|m| table.is_none_or(|t| m.table.name == t))
            .filter(|m| lower.is_none_or(|l| m.created_ms >= l))
            .filter(|m| upper.is_none_or(|u| m.created_ms < u))
            .filter(|m| {
                start
                    .as_ref()
                    .is_none_or(|(at, arn)| (m.created_ms, &m.arn) > (*at, arn))
            })
            .collect()
    } else {
        Vec::new()
    };
    let limit = input.limit.map_or(usize::MAX, |l| l as usize);
    let page: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|m| meta::summary_json(m))
        .collect();
    let mut out = json!({ "BackupSummaries": page });
    if matching.len() > limit {
        out["LastEvaluatedBackupArn"] = json!(matching[limit - 1].arn);
    }
    Ok(out)
}

pub async fn delete_backup(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: BackupArnInput = decode(body)?;
    let mut v = Violations::new();
    v.check_length(
        input.backup_arn.as_deref(),
        "backupArn",
        BACKUP_ARN_LENGTH,
        true,
    );
    v.into_result()?;
    let arn = input.backup_arn.unwrap_or_default();
    // Held so no restore of this backup starts while it is deleted.
    let _admission = db.backups.restores.admission.lock().await;
    let backup = backup_for(db, caller, &arn)?;
    check_not_creating(&backup)?;
    if db.backups.restores.from_backup(backup.number).is_some() {
        return Err(BackupError::BackupInUse(format!(
            "Backup is being used to restore table: {arn}"
        ))
        .into());
    }
    let dead = BackupMeta {
        status: BackupStatus::Deleting,
        ..(*backup).clone()
    };
    let stored = dead.clone();
    db.store
        .write(move |txn: &mut nimbus_store::WriteTxn<'_>| -> Result<()> {
            create::write_meta(txn, &stored);
            Ok(())
        })
        .await?;
    db.backups.backups.remove(&arn);
    tracing::info!(backup = %arn, "deleted backup");
    Ok(json!({ "BackupDescription": meta::description_json(&dead, BackupStatus::Deleting) }))
}

pub async fn restore_table_from_backup(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Value> {
    let input: RestoreTableFromBackupInput = decode(body)?;
    let overrides = Overrides {
        billing_mode: input.billing_mode_override,
        throughput: input.provisioned_throughput_override,
        gsis: input.global_secondary_index_override,
        lsis: input.local_secondary_index_override,
    };
    let mut v = Violations::new();
    v.check_name(
        input.target_table_name.as_deref(),
        "targetTableName",
        3,
        255,
    );
    v.check_length(
        input.backup_arn.as_deref(),
        "backupArn",
        BACKUP_ARN_LENGTH,
        true,
    );
    v.into_result()?;
    target::check_members(&overrides)?;
    let name = input.target_table_name.unwrap_or_default();
    let arn = input.backup_arn.unwrap_or_default();
    let backup = backup_for(db, caller, &arn)?;
    check_not_creating(&backup)?;
    let request = restore::Request {
        target: (&caller.account_id, &caller.region, &name),
        source_def: &backup.table,
        overrides,
        source: restore::RestoreSource::Backup {
            number: backup.number,
            arn: arn.clone(),
        },
        restore_ms: backup.created_ms,
    };
    let description = restore::start(db, request, None).await?;
    Ok(json!({ "TableDescription": description }))
}
