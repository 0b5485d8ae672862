//! Restores: a new table filled from a backup, or from a table's state at a
//! point in time, in bounded batches that resume after a crash.
//!
//! A point-in-time restore to T copies the source's current items, then
//! undoes, newest first, every change recorded after T, each undo putting
//! back the item's image from before that change. Both phases read one
//! store snapshot, so they see the same table. After a restart the restore
//! continues from its recorded position on a new snapshot; that is still
//! exact, because an item's state at T is its image before its oldest
//! change after T (or its current image when it has none), whichever later
//! snapshot one reads it from, as long as the source kept recording changes
//! all along: a resumed restore checks that PITR is still on with the same
//! enable time, and the janitor keeps the history after T of every restore
//! in progress.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use nimbus_store::{ReadView, Snapshot, StoreError, WriteTxn};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pitr::{decode_record, history_key, history_prefix};
use super::{meta, read_batch, target};
use crate::catalog::{Table, TableDef};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::ops::tables::{claim_table_number, read_index_stats, write_definition, Stats};
use crate::ops::write::replace_item;
use crate::DynamoDb;

pub const RESTORE_JOB_TAG: u8 = b'J';

/// What a restore reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RestoreSource {
    Backup {
        number: u64,
        arn: String,
    },
    PointInTime {
        table_number: u64,
        /// The restore time: changes after it are undone.
        at_ms: u64,
        /// The source's PITR enable time when the restore began: a resumed
        /// restore needs the history recorded since without a gap.
        enabled_ms: u64,
    },
}

/// How far a restore got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Phase {
    /// Copying items; `after`: the last copied item key (without prefix).
    Copy { after: Option<Vec<u8>> },
    /// Undoing changes after the restore time, newest first; `before`: the
    /// last undone history key.
    Undo { before: Option<Vec<u8>> },
}

/// A restore in progress (JSON in the `J` keyspace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreJob {
    /// The new table's number.
    pub target: u64,
    pub source: RestoreSource,
    pub source_table_arn: String,
    /// RestoreDateTime: the backup's creation time, or the point in time.
    pub restore_ms: u64,
    pub phase: Phase,
}

pub fn job_key(target: u64) -> [u8; 9] {
    layout::numbered_key(RESTORE_JOB_TAG, target)
}

/// A table being restored, with what its RestoreSummary says.
pub struct Restoring {
    pub table: Arc<Table>,
    pub job: RestoreJob,
}

impl Restoring {
    pub fn backup_arn(&self) -> Option<&str> {
        match &self.job.source {
            RestoreSource::Backup { arn, .. } => Some(arn),
            RestoreSource::PointInTime { .. } => None,
        }
    }

    /// TableInUseException's text for a second restore into this name.
    pub fn in_use_message(&self) -> String {
        let name = &self.table.def.name;
        match self.backup_arn() {
            Some(arn) => format!("Table: {name} is already being restored from backup: {arn}"),
            None => format!(
                "Table: {name} is already being restored from table: {}",
                self.job.source_table_arn
            ),
        }
    }

    /// The TableDescription of a restoring table: CREATING, with its
    /// RestoreSummary, and its GSIs without IndexStatus, as AWS lists them.
    pub fn describe(&self, view: &impl ReadView) -> Result<Value> {
        let def = &self.table.def;
        let stats = Stats::read(view, def.number)?;
        let index_stats = read_index_stats(view, def)?;
        let mut d = crate::ops::tables::describe(def, "CREATING", stats, &index_stats);
        if let Some(gsis) = d["GlobalSecondaryIndexes"].as_array_mut() {
            for g in gsis.iter_mut().filter_map(Value::as_object_mut) {
                g.remove("IndexStatus");
            }
        }
        d["RestoreSummary"] = target::restore_summary(
            self.backup_arn(),
            &self.job.source_table_arn,
            self.job.restore_ms,
        );
        Ok(d)
    }
}

type Scope = (String, String, String);

/// The restores in progress, by target table.
#[derive(Default)]
pub struct Restores {
    by_name: RwLock<HashMap<Scope, Arc<Restoring>>>,
    /// Held from the checks to the registration of a new restore, and by
    /// DeleteBackup, so a backup in use cannot be deleted or restored twice.
    pub(crate) admission: tokio::sync::Mutex<()>,
}

impl Restores {
    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<Restoring>> {
        self.by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(account.into(), region.into(), name.into()))
            .cloned()
    }

    /// Names of the tables being restored in one account and region.
    pub fn names(&self, account: &str, region: &str) -> Vec<String> {
        self.by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .filter(|(a, r, _)| a == account && r == region)
            .map(|(_, _, n)| n.clone())
            .collect()
    }

    /// The restore reading backup `number`, if any.
    pub fn from_backup(&self, number: u64) -> Option<Arc<Restoring>> {
        self.by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find(
                |r| matches!(r.job.source, RestoreSource::Backup { number: n, .. } if n == number),
            )
            .cloned()
    }

    /// For each table a point-in-time restore reads, the earliest restore
    /// time: its history after that must stay.
    pub fn pitr_pins(&self) -> HashMap<u64, u64> {
        let mut pins = HashMap::new();
        for r in self
            .by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            if let RestoreSource::PointInTime {
                table_number,
                at_ms,
                ..
            } = r.job.source
            {
                let pin = pins.entry(table_number).or_insert(at_ms);
                *pin = (*pin).min(at_ms);
            }
        }
        pins
    }

    fn insert(&self, r: Arc<Restoring>) {
        let d = &r.table.def;
        let key = (d.account.clone(), d.region.clone(), d.name.clone());
        self.by_name
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, r);
    }

    fn remove(&self, def: &TableDef) {
        self.by_name
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(def.account.clone(), def.region.clone(), def.name.clone()));
    }
}

/// What a restore request asks for: the new table (account, region,
/// name), and what to restore into it from the source table `source_def`
/// (as recorded in the backup, or as it is now).
pub(crate) struct Request<'a> {
    pub target: (&'a str, &'a str, &'a str),
    pub source_def: &'a TableDef,
    pub overrides: target::Overrides,
    pub source: RestoreSource,
    pub restore_ms: u64,
}

/// Starts a restore: checks the overrides, then the checks AWS makes last
/// (the target name is free; a backup feeds one restore at a time), and
/// returns the new table's TableDescription. `view` is the snapshot to
/// read (a point-in-time restore's checks were made on it); a backup
/// restore reads one taken once its table exists.
pub(crate) async fn start(
    db: &DynamoDb,
    request: Request<'_>,
    view: Option<Snapshot>,
) -> Result<Value> {
    let def = target::target_definition(
        request.source_def,
        request.overrides,
        request.target,
        crate::codec::epoch_seconds(db.clock.now()),
    )?;
    let job = RestoreJob {
        target: 0,
        source: request.source,
        source_table_arn: request.source_def.arn(),
        restore_ms: request.restore_ms,
        phase: Phase::Copy { after: None },
    };
    let restoring = {
        let _admission = db.backups.restores.admission.lock().await;
        check_target_free(db, &def)?;
        if let RestoreSource::Backup { number, arn } = &job.source {
            if db.backups.restores.from_backup(*number).is_some() {
                return Err(super::BackupError::BackupInUse(format!(
                    "Backup is being used to restore another table: {arn}"
                ))
                .into());
            }
        }
        admit(db, def, job).await?
    };
    let view = match view {
        Some(view) => view,
        None => db.store.snapshot()?,
    };
    let description = restoring.describe(&db.store.snapshot()?)?;
    spawn(db, restoring, view);
    Ok(description)
}

/// A restore's target name must be free: not a table, not being restored.
fn check_target_free(db: &DynamoDb, def: &TableDef) -> Result<()> {
    let (account, region, name) = (&def.account, &def.region, &def.name);
    if let Some(r) = db.backups.restores.get(account, region, name) {
        return Err(super::BackupError::TableInUse(r.in_use_message()).into());
    }
    if db.catalog.get(account, region, name).is_some() {
        return Err(super::BackupError::TableAlreadyExists(name.clone()).into());
    }
    Ok(())
}

/// Creates the target table (its definition and job, in one write) and
/// registers it as restoring. Call with the admission lock held; then
/// [`spawn`] the copy.
pub(crate) async fn admit(db: &DynamoDb, def: TableDef, job: RestoreJob) -> Result<Arc<Restoring>> {
    let (def, job) = db
        .store
        .write(
            move |txn: &mut WriteTxn<'_>| -> Result<(TableDef, RestoreJob)> {
                let Some(number) = claim_table_number(txn, &def)? else {
                    return Err(super::BackupError::TableAlreadyExists(def.name).into());
                };
                let def = TableDef { number, ..def };
                write_definition(txn, &def);
                let job = RestoreJob {
                    target: number,
                    ..job
                };
                write_job(txn, &job);
                Ok((def, job))
            },
        )
        .await?;
    let restoring = Arc::new(Restoring {
        table: Table::new(def),
        job,
    });
    db.backups.restores.insert(restoring.clone());
    tracing::info!(table = %restoring.table.def.name, source = %restoring.job.source_table_arn, "restore started");
    Ok(restoring)
}

fn write_job(txn: &mut WriteTxn<'_>, job: &RestoreJob) {
    txn.put(
        &job_key(job.target),
        &serde_json::to_vec(job).expect("restore jobs serialize"),
    );
}

/// Why a restore step stopped.
#[derive(Debug)]
pub(crate) enum StepError {
    /// The store failed or closed: the job stays and resumes at the next
    /// start.
    Store(StoreError),
    /// The restore cannot be completed.
    Failed(String),
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::Store(e)
    }
}

impl From<DynamoError> for StepError {
    fn from(e: DynamoError) -> Self {
        StepError::Failed(e.into_aws().message)
    }
}

/// Runs the restore to its end on a thread of its own, reading `view`.
pub(crate) fn spawn(db: &DynamoDb, restoring: Arc<Restoring>, view: Snapshot) {
    let db = db.clone();
    let name = restoring.table.def.name.clone();
    let started = std::thread::Builder::new()
        .name("nimbus-restore".into())
        .spawn(move || run(&db, &restoring, &view));
    if let Err(e) = started {
        // The job stays stored; the next start resumes it.
        tracing::error!(table = %name, "cannot start a restore thread: {e}");
    }
}

fn run(db: &DynamoDb, restoring: &Restoring, view: &Snapshot) {
    let mut job = restoring.job.clone();
    let name = &restoring.table.def.name;
    loop {
        match step(db, restoring, &mut job, view) {
            Ok(true) => continue,
            Ok(false) => break,
            Err(StepError::Store(e)) => {
                tracing::warn!(table = %name, "restore paused until the next start: {e}");
                return;
            }
            Err(StepError::Failed(reason)) => {
                abandon(db, restoring, &reason);
                return;
            }
        }
    }
    match finish(db, restoring) {
        Ok(()) => tracing::info!(table = %name, "restore finished"),
        Err(e) => tracing::warn!(table = %name, "restore paused until the next start: {e:?}"),
    }
}

/// The prefix of the items a restore copies.
fn source_items_prefix(source: &RestoreSource) -> [u8; 9] {
    match source {
        RestoreSource::Backup { number, .. } => meta::items_prefix(*number),
        RestoreSource::PointInTime { table_number, .. } => layout::items_prefix(*table_number),
    }
}

/// One batch of the restore; false when there is nothing more to do.
/// Each batch is one store write that also records the new position.
pub(crate) fn step(
    db: &DynamoDb,
    restoring: &Restoring,
    job: &mut RestoreJob,
    view: &impl ReadView,
) -> std::result::Result<bool, StepError> {
    let target = job.target;
    let changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = match &job.phase {
        Phase::Copy { after } => {
            let prefix = source_items_prefix(&job.source);
            let end = layout::prefix_end(&prefix);
            let from = after.as_ref().map(|k| [&prefix[..], k].concat());
            let lower = match &from {
                Some(k) => Bound::Excluded(&k[..]),
                None => Bound::Included(&prefix[..]),
            };
            let batch = read_batch(view, lower, Bound::Excluded(&end[..]), false)?;
            let Some((last, _)) = batch.last() else {
                return Ok(match job.source {
                    RestoreSource::PointInTime { .. } => {
                        job.phase = Phase::Undo { before: None };
                        true
                    }
                    RestoreSource::Backup { .. } => false,
                });
            };
            job.phase = Phase::Copy {
                after: Some(last[9..].to_vec()),
            };
            batch
                .into_iter()
                .map(|(k, v)| (k[9..].to_vec(), Some(v)))
                .collect()
        }
        Phase::Undo { before } => {
            let RestoreSource::PointInTime {
                table_number,
                at_ms,
                ..
            } = job.source
            else {
                return Ok(false);
            };
            let after_restore_time = history_key(table_number, at_ms, u64::MAX);
            let end = layout::prefix_end(&history_prefix(table_number));
            let upper = match before {
                Some(k) => Bound::Excluded(&k[..]),
                None => Bound::Excluded(&end[..]),
            };
            let batch = read_batch(view, Bound::Excluded(&after_restore_time[..]), upper, true)?;
            let Some((last, _)) = batch.last() else {
                return Ok(false);
            };
            job.phase = Phase::Undo {
                before: Some(last.clone()),
            };
            let mut undo = Vec::with_capacity(batch.len());
            for (k, v) in &batch {
                let (item_key, old) = decode_record(v).ok_or_else(|| {
                    StepError::Failed(format!("history record {k:?} is unreadable"))
                })?;
                undo.push((item_key.to_vec(), old.map(<[u8]>::to_vec)));
            }
            undo
        }
    };
    let table = restoring.table.clone();
    let progress = job.clone();
    db.store.write_blocking(
        move |txn: &mut WriteTxn<'_>| -> std::result::Result<(), StepError> {
            for (item_key, image) in changes {
                let key = [&layout::items_prefix(target)[..], &item_key].concat();
                let current = txn.get(&key)?;
                replace_item(txn, &table, &key, current.as_deref(), image.as_deref())?;
            }
            write_job(txn, &progress);
            Ok(())
        },
    )?;
    Ok(true)
}

/// The last write of a restore: the job goes, and the table enters the
/// catalog, ACTIVE.
pub(crate) fn finish(db: &DynamoDb, restoring: &Restoring) -> std::result::Result<(), StepError> {
    let number = restoring.table.def.number;
    db.store.write_blocking(
        move |txn: &mut WriteTxn<'_>| -> std::result::Result<(), StepError> {
            txn.delete(&job_key(number));
            Ok(())
        },
    )?;
    db.catalog.insert(restoring.table.clone());
    db.backups.restores.remove(&restoring.table.def);
    Ok(())
}

/// Gives up a restore that cannot complete: its table goes, as if it had
/// never been created.
fn abandon(db: &DynamoDb, restoring: &Restoring, reason: &str) {
    let def = restoring.table.def.clone();
    tracing::error!(table = %def.name, "restore failed, its table is removed: {reason}");
    let number = def.number;
    let dropped = db
        .store
        .write_blocking(move |txn: &mut WriteTxn<'_>| -> Result<()> {
            txn.delete(&layout::table_key(&def.account, &def.region, &def.name));
            txn.delete(&layout::stats_key(number));
            txn.delete(&job_key(number));
            for prefix in [
                layout::items_prefix(number),
                layout::table_indexes_prefix(number),
                layout::table_index_stats_prefix(number),
            ] {
                let end = layout::prefix_end(&prefix);
                txn.delete_range(Bound::Included(&prefix[..]), Bound::Excluded(&end[..]))?;
            }
            Ok(())
        });
    if let Err(e) = dropped {
        tracing::error!(table = %restoring.table.def.name, "cannot remove a failed restore's table: {e:?}");
        return;
    }
    restoring.table.mark_dropped();
    db.backups.restores.remove(&restoring.table.def);
}

/// The table numbers of restores in progress (the catalog skips them).
pub fn pending_targets(view: &impl ReadView) -> Result<HashSet<u64>> {
    let prefix = [RESTORE_JOB_TAG];
    let end = layout::prefix_end(&prefix);
    let mut out = HashSet::new();
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, _| {
            if let Some(n) = k.get(1..9).and_then(|b| b.try_into().ok()) {
                out.insert(u64::from_be_bytes(n));
            }
            true
        },
    )?;
    Ok(out)
}

/// At start-up: registers every stored restore and continues each on a
/// snapshot taken now, before any request is served; one whose source is
/// gone (or whose PITR history has a gap) is abandoned.
pub(crate) fn resume(db: &DynamoDb, defs: Vec<TableDef>) -> Result<()> {
    let jobs: Vec<RestoreJob> =
        super::load_numbered(&db.store.snapshot()?, RESTORE_JOB_TAG, "restore")?
            .into_iter()
            .map(|(_, job)| job)
            .collect();
    for job in jobs {
        let Some(def) = defs.iter().find(|d| d.number == job.target).cloned() else {
            tracing::error!(
                target = job.target,
                "a stored restore has no table; dropped"
            );
            let number = job.target;
            db.store
                .write_blocking(move |txn: &mut WriteTxn<'_>| -> Result<()> {
                    txn.delete(&job_key(number));
                    Ok(())
                })?;
            continue;
        };
        let restoring = Arc::new(Restoring {
            table: Table::new(def),
            job,
        });
        db.backups.restores.insert(restoring.clone());
        if let Some(reason) = unresumable(db, &restoring.job) {
            abandon(db, &restoring, &reason);
            continue;
        }
        tracing::info!(table = %restoring.table.def.name, "resuming a restore");
        spawn(db, restoring, db.store.snapshot()?);
    }
    Ok(())
}

/// Why a stored restore cannot continue, if it cannot.
fn unresumable(db: &DynamoDb, job: &RestoreJob) -> Option<String> {
    match &job.source {
        RestoreSource::Backup { arn, .. } => db
            .backups
            .backups
            .get(arn)
            .is_none()
            .then(|| format!("its backup {arn} is gone")),
        RestoreSource::PointInTime {
            table_number,
            enabled_ms,
            ..
        } => {
            let source = db
                .catalog
                .all()
                .into_iter()
                .find(|t| t.def.number == *table_number);
            let recording = source
                .as_ref()
                .and_then(|t| t.live_pitr())
                .is_some_and(|log| log.state().enabled_ms == *enabled_ms);
            (!recording).then(|| {
                format!(
                    "its source {} is gone or stopped recording changes",
                    job.source_table_arn
                )
            })
        }
    }
}
