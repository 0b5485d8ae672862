//! The backup janitor: a background thread that deletes, in bounded
//! batches, the items of deleted (or never finished) backups, PITR history
//! older than each table's recovery period, all history of tables whose
//! PITR is off or that are gone, and the PITR settings of deleted tables.
//!
//! It wakes every [`INTERVAL`] and after every clock advance. It never
//! deletes history after the restore time of a point-in-time restore in
//! progress. It holds the service weakly and stops when the service is
//! dropped or the store closes.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nimbus_store::{ReadView, StoreError, WriteTxn};

use super::meta::{self, BackupStatus};
use super::pitr::{self, history_key, history_prefix, parse_history_key};
use super::{delete_through, read_batch};
use crate::background::Stop;
use crate::catalog::Table;
use crate::layout;
use crate::{DynamoDb, Inner};

pub const INTERVAL: Duration = Duration::from_secs(30);

pub fn spawn(db: &DynamoDb) -> std::io::Result<()> {
    crate::background::spawn_rounds(db, "nimbus-backup-janitor", INTERVAL, |weak| async move {
        match round(&weak).await {
            Ok(going_on) => going_on,
            Err(Stop::Closed) => false,
            Err(Stop::Failed(e)) => {
                tracing::warn!("backup janitor round failed: {e}");
                true
            }
        }
    })
}

/// One pass; false when the service is gone.
async fn round(weak: &Weak<Inner>) -> Result<bool, Stop> {
    let Some(inner) = weak.upgrade() else {
        return Ok(false);
    };
    let db = DynamoDb { inner };
    while delete_dead_backup(&db).await? {}
    while trim_history(&db).await? {}
    drop_orphan_states(&db).await?;
    Ok(true)
}

/// The live tables by number. Read after the snapshot that is judged with
/// it: a table with PITR state or history in that snapshot was in the
/// catalog before it, so it is missing now only if it was deleted.
fn live_tables(db: &DynamoDb) -> HashMap<u64, Arc<Table>> {
    db.catalog
        .all()
        .into_iter()
        .map(|t| (t.def.number, t))
        .collect()
}

/// Deletes one batch of a backup marked DELETING (its meta last); true
/// when there may be more to do.
async fn delete_dead_backup(db: &DynamoDb) -> Result<bool, Stop> {
    let snapshot = db.store.snapshot()?;
    let Some(dead) = meta::load(&snapshot)?
        .into_iter()
        .find(|m| m.status == BackupStatus::Deleting)
    else {
        return Ok(false);
    };
    let prefix = meta::items_prefix(dead.number);
    let end = layout::prefix_end(&prefix);
    let batch = read_batch(
        &snapshot,
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
    )?;
    drop(snapshot);
    let last = batch.last().map(|(k, _)| k.clone());
    let number = dead.number;
    db.store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<(), StoreError> {
            match last {
                Some(last) => {
                    delete_through(txn, &prefix, &last)?;
                }
                None => txn.delete(&meta::meta_key(number)),
            }
            Ok(())
        })
        .await?;
    Ok(true)
}

/// Deletes one batch of history nobody can restore to any more; true when
/// there may be more to do.
async fn trim_history(db: &DynamoDb) -> Result<bool, Stop> {
    let now = db.clock.now_ms();
    let pins = db.backups.restores.pitr_pins();
    let snapshot = db.store.snapshot()?;
    let tables = live_tables(db);
    let mut from = vec![pitr::HISTORY_TAG];
    loop {
        // The next table with history.
        let end = layout::prefix_end(&[pitr::HISTORY_TAG]);
        let mut first = None;
        snapshot.scan(
            Bound::Included(&from[..]),
            Bound::Excluded(&end[..]),
            false,
            &mut |k, _| {
                first = parse_history_key(k);
                false
            },
        )?;
        let Some((number, _, _)) = first else {
            return Ok(false);
        };
        // Changes before the horizon are no longer needed: before the
        // recovery window (or all of them, without PITR), but never after a
        // running restore's time.
        let mut horizon = match tables.get(&number).and_then(|t| t.live_pitr()) {
            Some(log) => log.state().earliest_ms(now),
            None => u64::MAX,
        };
        if let Some(&at) = pins.get(&number) {
            horizon = horizon.min(at.saturating_add(1));
        }
        let prefix = history_prefix(number);
        let limit = history_key(number, horizon, 0);
        let batch = read_batch(
            &snapshot,
            Bound::Included(&prefix[..]),
            Bound::Excluded(&limit[..]),
            false,
        )?;
        if let Some((last, _)) = batch.last() {
            let last = last.clone();
            drop(snapshot);
            db.store
                .write(move |txn: &mut WriteTxn<'_>| -> Result<(), StoreError> {
                    delete_through(txn, &prefix, &last)?;
                    Ok(())
                })
                .await?;
            return Ok(true);
        }
        match number.checked_add(1) {
            Some(next) => from = history_prefix(next).to_vec(),
            None => return Ok(false),
        }
    }
}

/// Deletes the PITR settings of tables that are gone.
async fn drop_orphan_states(db: &DynamoDb) -> Result<(), Stop> {
    let states = pitr::load_states(&db.store.snapshot()?)?;
    let tables = live_tables(db);
    let orphans: Vec<u64> = states
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !tables.contains_key(n))
        .collect();
    if orphans.is_empty() {
        return Ok(());
    }
    db.store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<(), StoreError> {
            for n in orphans {
                txn.delete(&pitr::state_key(n));
            }
            Ok(())
        })
        .await?;
    Ok(())
}
