//! Retention: PutRetentionPolicy, DeleteRetentionPolicy, and the sweep that
//! deletes events older than their group's retention.
//!
//! Reads already hide expired events (they compare against the clock), so
//! the sweep only reclaims space; it deletes in bounded batches, each one
//! write call removing both index entries of every event it takes.

use std::ops::Bound;

use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{LogsError, Result};
use crate::model::{self, GroupRecord, RETENTION_DAYS};
use crate::request::{self, Object};
use crate::{groups, keys, Logs};

/// Events deleted per write call by the sweep.
const SWEEP_BATCH: usize = 10_000;

pub async fn put_retention_policy(
    logs: &Logs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let name = request::group_name(req)?.to_owned();
    let days = request::opt_i64(req, "retentionInDays")?
        .ok_or_else(|| LogsError::missing("retentionInDays"))?;
    if !RETENTION_DAYS.contains(&days) {
        let set: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
        return Err(LogsError::validation(
            days,
            "retentionInDays",
            &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
        ));
    }
    set_retention(logs, ctx, name, Some(days)).await?;
    // Reclaim at once what the new policy expires.
    logs.enforce_retention().await?;
    Ok(json!({}))
}

pub async fn delete_retention_policy(
    logs: &Logs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let name = request::group_name(req)?.to_owned();
    set_retention(logs, ctx, name, None).await?;
    Ok(json!({}))
}

async fn set_retention(
    logs: &Logs,
    ctx: &RequestContext,
    name: String,
    days: Option<i64>,
) -> Result<()> {
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    logs.store()
        .write(move |txn| {
            let mut group = model::require_group(txn, &account, &region, &name)?;
            group.retention_days = days;
            groups::put_group(txn, &account, &region, &group);
            Ok(())
        })
        .await
}

impl Logs {
    /// Deletes every event older than its group's retention; returns how
    /// many it deleted.
    pub async fn enforce_retention(&self) -> Result<u64> {
        let now = self.now_ms();
        let mut targets = Vec::new();
        {
            let snapshot = self.store().snapshot()?;
            let end = keys::prefix_end(keys::GROUP);
            snapshot.scan(
                Bound::Included(keys::GROUP),
                Bound::Excluded(&end),
                false,
                &mut |k, v| {
                    if let Ok(g) = serde_json::from_slice::<GroupRecord>(v) {
                        if let Some(cutoff) = g.retention_cutoff(now) {
                            targets.push((k.to_vec(), g.id, cutoff));
                        }
                    }
                    true
                },
            )?;
        }
        let mut total = 0u64;
        for (group_key, gid, cutoff) in targets {
            loop {
                let key = group_key.clone();
                let deleted = self
                    .store()
                    .write(move |txn| delete_expired(txn, &key, gid, cutoff))
                    .await?;
                total += deleted as u64;
                if deleted < SWEEP_BATCH {
                    break;
                }
            }
        }
        Ok(total)
    }
}

/// Deletes up to [`SWEEP_BATCH`] events of group `gid` older than `cutoff`,
/// from both indexes, and takes their bytes off the group's count.
fn delete_expired(
    txn: &mut nimbus_store::WriteTxn<'_>,
    group_key: &[u8],
    gid: u64,
    cutoff: i64,
) -> Result<usize> {
    let lower = keys::by_time(gid, &[]);
    let upper = keys::by_time(gid, &[&keys::ts_bytes(cutoff)]);
    let mut doomed = Vec::new();
    let mut bytes = 0u64;
    txn.scan(
        Bound::Included(&lower),
        Bound::Excluded(&upper),
        false,
        &mut |k, v| {
            doomed.push(k.to_vec());
            bytes += v.len().saturating_sub(8) as u64;
            doomed.len() < SWEEP_BATCH
        },
    )?;
    for k in &doomed {
        if let Some((ts, sid, seq)) = keys::parse_time_key(k) {
            txn.delete(&keys::by_stream(
                gid,
                &[&sid.to_be_bytes(), &keys::ts_bytes(ts), &seq.to_be_bytes()],
            ));
        }
        txn.delete(k);
    }
    if !doomed.is_empty() {
        // The group may have been deleted and recreated meanwhile: only a
        // record with the same id owns these bytes.
        if let Some(bytes_json) = txn.get(group_key)? {
            if let Ok(mut group) = serde_json::from_slice::<GroupRecord>(&bytes_json) {
                if group.id == gid {
                    group.stored_bytes = group.stored_bytes.saturating_sub(bytes);
                    txn.put(group_key, &model::encode(&group));
                }
            }
        }
    }
    Ok(doomed.len())
}
