//! On-demand backups and point-in-time recovery, built on the store's
//! snapshots.
//!
//! # Keyspaces (see `layout` for the rest)
//!
//! - `B` backup number (u64 BE) -> the backup's [`meta::BackupMeta`] (JSON).
//! - `A` backup number (u64 BE) | item key without its table prefix -> the
//!   item as it was stored in the table.
//! - `V` -> the next backup number (u64 BE).
//! - `P`, `H`: PITR settings and change history (see [`pitr`]).
//! - `J` table number (u64 BE) -> the [`restore::RestoreJob`] of a table
//!   being restored, with its progress.
//!
//! # Invariants
//!
//! - A backup is a copy of one store snapshot of its table: CreateBackup
//!   reads every item from a single redb read transaction and writes the
//!   copy in bounded batches, then marks the backup AVAILABLE; it answers
//!   only after that write is durable. A backup left CREATING by a crash is
//!   never shown again: start-up marks it for deletion.
//! - Backups live apart from tables: DeleteTable leaves them alone.
//! - A restore creates its table (definition and job) in one write and
//!   copies in bounded batches, each write also recording how far it got,
//!   so the writer is never held for long and a restart resumes exactly
//!   where the last durable batch ended. Until the last batch the table is
//!   not in the catalog: data-plane calls find no table, DescribeTable and
//!   ListTables show it CREATING. It becomes ACTIVE (enters the catalog)
//!   only after its job is deleted, in the write after the last batch.
//! - Restores read their source, never write it.
//! - Large deletions (a deleted backup's items, old PITR history) are done
//!   by the janitor in bounded batches.

pub mod create;
pub mod error;
pub mod janitor;
pub mod meta;
pub mod pitr;
pub mod restore;
pub mod target;
#[cfg(test)]
mod tests;

use std::ops::Bound;

use nimbus_store::{ReadView, StoreError, WriteTxn};

use crate::error::{DynamoError, Result};
use crate::DynamoDb;

pub use error::BackupError;

/// Most items one copy write carries.
pub const BATCH_ITEMS: usize = 500;
/// Most bytes (keys and values) one copy write carries.
pub const BATCH_BYTES: usize = 4 << 20;

/// The service's backup state: the visible backups and the restores in
/// progress.
#[derive(Default)]
pub struct Backups {
    pub backups: meta::BackupRegistry,
    pub restores: restore::Restores,
}

/// Key-value pairs read for one batch.
pub(crate) type Batch = Vec<(Vec<u8>, Vec<u8>)>;

/// Up to [`BATCH_ITEMS`] entries (or [`BATCH_BYTES`]) of a range, in key
/// order or reversed; always at least one entry if the range has one.
pub(crate) fn read_batch(
    view: &impl ReadView,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
) -> std::result::Result<Batch, StoreError> {
    let mut out = Vec::new();
    let mut bytes = 0;
    view.scan(lower, upper, reverse, &mut |k, v| {
        bytes += k.len() + v.len();
        out.push((k.to_vec(), v.to_vec()));
        out.len() < BATCH_ITEMS && bytes < BATCH_BYTES
    })?;
    Ok(out)
}

/// Every value stored under `tag` | number (u64 BE), parsed as JSON, with
/// its number; `what` names it in the error for an unreadable one.
pub(crate) fn load_numbered<T: serde::de::DeserializeOwned>(
    view: &impl ReadView,
    tag: u8,
    what: &str,
) -> Result<Vec<(u64, T)>> {
    let prefix = [tag];
    let end = crate::layout::prefix_end(&prefix);
    let mut out = Vec::new();
    let mut bad = None;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            let number = k.get(1..9).and_then(|b| b.try_into().ok());
            match (number, serde_json::from_slice::<T>(v)) {
                (Some(n), Ok(value)) => out.push((u64::from_be_bytes(n), value)),
                (_, Err(e)) => bad = Some(format!("a stored {what} is unreadable: {e}")),
                (None, Ok(_)) => bad = Some(format!("a stored {what} has a malformed key")),
            }
            bad.is_none()
        },
    )?;
    match bad {
        Some(m) => Err(DynamoError::Internal(m)),
        None => Ok(out),
    }
}

/// Deletes the keys of `prefix` up to and including `last` (found by a
/// bounded scan), inside a write.
pub(crate) fn delete_through(
    txn: &mut WriteTxn<'_>,
    prefix: &[u8],
    last: &[u8],
) -> std::result::Result<u64, StoreError> {
    txn.delete_range(Bound::Included(prefix), Bound::Included(last))
}

/// At start-up, after the catalog is loaded: the visible backups, the PITR
/// logs of PITR-enabled tables, the restores to resume (`restoring`: the
/// definitions of their tables, which the catalog skipped), and the
/// janitor.
pub(crate) fn start(db: &DynamoDb, restoring: Vec<crate::catalog::TableDef>) -> Result<()> {
    let snapshot = db.store.snapshot()?;
    let mut dead = Vec::new();
    for m in meta::load(&snapshot)? {
        match m.status {
            meta::BackupStatus::Available => db.backups.backups.insert(std::sync::Arc::new(m)),
            // A backup still CREATING lost its snapshot in a crash.
            meta::BackupStatus::Creating => dead.push(m),
            meta::BackupStatus::Deleting => {}
        }
    }
    for (number, state) in pitr::load_states(&snapshot)? {
        if let Some(table) = db
            .catalog
            .all()
            .into_iter()
            .find(|t| t.def.number == number)
        {
            let last = pitr::last_history(&snapshot, number)?;
            table.set_live_pitr(Some(std::sync::Arc::new(pitr::PitrLog::new(
                state,
                last,
                db.clock.clone(),
            ))));
        }
    }
    drop(snapshot);
    if !dead.is_empty() {
        db.store
            .write_blocking(move |txn: &mut WriteTxn<'_>| -> Result<()> {
                for mut m in dead {
                    m.status = meta::BackupStatus::Deleting;
                    create::write_meta(txn, &m);
                }
                Ok(())
            })?;
    }
    restore::resume(db, restoring)?;
    janitor::spawn(db)
        .map_err(|e| DynamoError::Internal(format!("cannot start the backup janitor: {e}")))
}
