//! Point-in-time recovery: UpdateContinuousBackups,
//! DescribeContinuousBackups, RestoreTableToPointInTime.
//!
//! Decisions:
//! - LatestRestorableDateTime is now. AWS trails by about five minutes
//!   because its change log is shipped asynchronously; nimbus writes each
//!   change's history record in the change's own commit, so every
//!   acknowledged write is restorable at once. EarliestRestorableDateTime is
//!   the later of the enable time and now minus the recovery period.
//! - ContinuousBackupsStatus is always ENABLED (AWS shows DISABLED for a few
//!   seconds after a table is created, then ENABLED for good).

use nimbus_store::WriteTxn;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::backup::error::iso_seconds;
use crate::backup::pitr::{self, PitrLog};
use crate::backup::target::{self, Overrides};
use crate::backup::{restore, BackupError};
use crate::codec::{decode, Violations};
use crate::error::{DynamoError, Result};
use crate::ops::backup::{source_table, TABLE_ARN_LENGTH};
use crate::ops::tables::{IndexInput, ProvisionedThroughput};
use crate::{Caller, DynamoDb};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    table_name: Option<String>,
    point_in_time_recovery_specification: Option<Specification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Specification {
    point_in_time_recovery_enabled: Option<bool>,
    recovery_period_in_days: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInput {
    table_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RestoreInput {
    source_table_arn: Option<String>,
    source_table_name: Option<String>,
    target_table_name: Option<String>,
    use_latest_restorable_time: Option<bool>,
    restore_date_time: Option<f64>,
    billing_mode_override: Option<String>,
    provisioned_throughput_override: Option<ProvisionedThroughput>,
    global_secondary_index_override: Option<Vec<IndexInput>>,
    local_secondary_index_override: Option<Vec<IndexInput>>,
    sse_specification_override: Option<Value>,
}

/// ContinuousBackupsDescription for a table with (or without) a PITR log.
fn description(log: Option<&PitrLog>, now_ms: u64) -> Value {
    let pitr = match log {
        Some(log) => {
            let s = log.state();
            json!({
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": s.period_days,
                "EarliestRestorableDateTime": s.earliest_ms(now_ms) as f64 / 1000.0,
                "LatestRestorableDateTime": now_ms as f64 / 1000.0,
            })
        }
        None => json!({ "PointInTimeRecoveryStatus": "DISABLED" }),
    };
    json!({
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": pitr,
        }
    })
}

pub async fn update_continuous_backups(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Value> {
    let input: UpdateInput = decode(body)?;
    let mut v = Violations::new();
    v.check_length(
        input.table_name.as_deref(),
        "tableName",
        TABLE_ARN_LENGTH,
        true,
    );
    const SPEC: &str = "pointInTimeRecoverySpecification";
    match &input.point_in_time_recovery_specification {
        None => v.add("null", SPEC, "Member must not be null"),
        Some(spec) => {
            if spec.point_in_time_recovery_enabled.is_none() {
                v.add(
                    "null",
                    &format!("{SPEC}.pointInTimeRecoveryEnabled"),
                    "Member must not be null",
                );
            }
            v.check_range(
                spec.recovery_period_in_days,
                &format!("{SPEC}.recoveryPeriodInDays"),
                (1, pitr::DEFAULT_PERIOD_DAYS as i64),
            );
        }
    }
    v.into_result()?;
    let spec = input
        .point_in_time_recovery_specification
        .expect("checked present");
    let enabled = spec.point_in_time_recovery_enabled.unwrap_or_default();
    let period = spec.recovery_period_in_days.map(|d| d as u32);
    if !enabled && period.is_some() {
        return Err(DynamoError::validation(
            "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery.",
        ));
    }
    let table = source_table(db, caller, input.table_name.as_deref())?;
    let t = table.clone();
    let clock = db.clock.clone();
    db.store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<()> {
            if t.is_dropped() {
                return Err(BackupError::TableNotFound(t.def.name.clone()).into());
            }
            if enabled {
                pitr::enable(txn, &t, &clock, period)?;
            } else {
                pitr::disable(txn, &t);
            }
            Ok(())
        })
        .await?;
    tracing::info!(table = %table.def.name, enabled, "updated continuous backups");
    Ok(description(table.live_pitr().as_deref(), db.clock.now_ms()))
}

pub async fn describe_continuous_backups(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Value> {
    let input: DescribeInput = decode(body)?;
    let mut v = Violations::new();
    v.check_length(
        input.table_name.as_deref(),
        "tableName",
        TABLE_ARN_LENGTH,
        true,
    );
    v.into_result()?;
    let table = source_table(db, caller, input.table_name.as_deref())?;
    Ok(description(table.live_pitr().as_deref(), db.clock.now_ms()))
}

/// The source a RestoreTableToPointInTime names: `(account, region, name)`.
fn restore_source(caller: &Caller, input: &RestoreInput) -> Result<(String, String, String)> {
    match (&input.source_table_name, &input.source_table_arn) {
        (Some(_), Some(_)) => Err(DynamoError::validation(
            "Must provide exactly one of: sourceTableArn, sourceTableName",
        )),
        (None, None) => Err(DynamoError::validation(
            "The parameter 'TableName' is required",
        )),
        (Some(name), None) => Ok((
            caller.account_id.clone(),
            caller.region.clone(),
            name.clone(),
        )),
        (None, Some(arn)) => {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let ["arn", "aws", "dynamodb", region, account, resource] = parts.as_slice() else {
                return Err(DynamoError::validation("sourceTableArn is not a valid ARN"));
            };
            let Some(name) = resource
                .strip_prefix("table/")
                .filter(|n| !n.is_empty() && !n.contains('/'))
            else {
                return Err(DynamoError::validation("sourceTableArn is not a valid ARN"));
            };
            if *account != caller.account_id {
                return Err(DynamoError::validation(
                    "This action is only supported by accounts that match the resource owner's account",
                ));
            }
            if *region != caller.region && input.sse_specification_override.is_none() {
                return Err(DynamoError::validation(
                    "Invalid Request: sseSpecificationOverride must be provided for cross-region restores",
                ));
            }
            Ok((account.to_string(), region.to_string(), name.to_string()))
        }
    }
}

pub async fn restore_table_to_point_in_time(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Value> {
    let input: RestoreInput = decode(body)?;
    let mut v = Violations::new();
    v.check_name(
        input.target_table_name.as_deref(),
        "targetTableName",
        3,
        255,
    );
    if input.source_table_name.is_some() {
        v.check_name(
            input.source_table_name.as_deref(),
            "sourceTableName",
            3,
            255,
        );
    }
    v.check_length(
        input.source_table_arn.as_deref(),
        "sourceTableArn",
        TABLE_ARN_LENGTH,
        false,
    );
    v.into_result()?;
    let (account, region, source_name) = restore_source(caller, &input)?;
    let latest = input.use_latest_restorable_time == Some(true);
    match (input.restore_date_time, latest) {
        (Some(_), true) => {
            return Err(DynamoError::validation(
                "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set for point-in-time restore request. Please specify either RestoreDateTime time or UseLatestRestorableTime",
            ))
        }
        (None, false) => {
            return Err(DynamoError::validation(
                "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be specified, but not both",
            ))
        }
        _ => {}
    }
    let overrides = Overrides {
        billing_mode: input.billing_mode_override,
        throughput: input.provisioned_throughput_override,
        gsis: input.global_secondary_index_override,
        lsis: input.local_secondary_index_override,
    };
    target::check_members(&overrides)?;
    let source = db
        .catalog
        .get(&account, &region, &source_name)
        .ok_or_else(|| BackupError::TableNotFound(source_name.clone()))?;
    // The restore reads this snapshot; PITR is judged by it too, so every
    // change it holds since the enable time has its history record.
    let now = db.clock.now_ms();
    let snapshot = db.store.snapshot()?;
    let Some(state) = pitr::read_state(&snapshot, source.def.number)? else {
        return Err(BackupError::PitrUnavailable(source_name).into());
    };
    let at_ms = match input.restore_date_time {
        Some(s) => (s * 1000.0).floor().clamp(0.0, u64::MAX as f64) as u64,
        None => now,
    };
    let earliest = state.earliest_ms(now);
    if at_ms < earliest || at_ms > now {
        return Err(BackupError::InvalidRestoreTime {
            requested: iso_seconds(at_ms),
            earliest: iso_seconds(earliest),
            latest: iso_seconds(now),
        }
        .into());
    }
    let name = input.target_table_name.unwrap_or_default();
    let request = restore::Request {
        target: (&caller.account_id, &caller.region, &name),
        source_def: &source.def,
        overrides,
        source: restore::RestoreSource::PointInTime {
            table_number: source.def.number,
            at_ms,
            enabled_ms: state.enabled_ms,
        },
        restore_ms: at_ms,
    };
    let description = restore::start(db, request, Some(snapshot)).await?;
    Ok(json!({ "TableDescription": description }))
}
