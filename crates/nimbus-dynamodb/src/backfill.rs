//! Online index operations: filling a global secondary index that
//! UpdateTable creates on a table that already has items (the backfill),
//! and removing the entries of one it deletes, in the background, in
//! bounded store writes, resuming after a restart.
//!
//! # A backfill under concurrent writes
//!
//! The backfill walks the table's items in key order. Its progress, the
//! *cursor*, is the last item key it has indexed; it lives in memory on the
//! table ([`Jobs`]) for item writes to read, and durably in the job's key.
//! Item writes maintain a backfilling index only for items at or before the
//! cursor ([`Jobs::maintains`]); items after it are left to the backfill,
//! which reads them when it gets there. Each batch runs inside one store
//! write: it reads the next items as they are *now* (the writer runs one
//! call at a time, so no item write interleaves), indexes them, and moves
//! the cursor, durably and in memory, in that same write. So every item is
//! indexed exactly once from its then-current value and kept up to date by
//! every write after that: an item changed or deleted during the backfill
//! leaves no stale entry, and the index's item count is exact. A batch
//! holds the writer for at most [`MAX_BATCH_BYTES`] of items or the
//! configured number of items, and the worker yields between batches.
//!
//! Until the backfill ends the index is CREATING (and Backfilling) and
//! reads of it are refused; the table is UPDATING. The last batch marks the
//! backfill done for writers inside its write, but readers see it end only
//! once that write has committed, so a read allowed by it never misses the
//! last batch.
//!
//! # Deleting an index
//!
//! UpdateTable removes the index from the definition and from the set item
//! writes maintain in one write, which also records a drop job; the worker
//! then deletes the entries in batches and finally the index's stats and
//! the job. Meanwhile DescribeTable shows the index DELETING. Deleting an
//! index that is still backfilling replaces its backfill job, which stops.
//!
//! # Keyspace
//!
//! - `J` table number (u64 BE) | index number (u32 BE) -> the job: `B`
//!   then the cursor (nothing before the first batch), or `D` then the
//!   deleted index's definition (JSON).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nimbus_store::{ReadView, StoreError, WriteTxn};
use serde_json::{json, Value};

use crate::catalog::{Catalog, IndexDef, Table};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::ops::items::parse_stored;
use crate::{DynamoDb, Inner};

pub const JOB_TAG: u8 = b'K';

/// Most bytes of items one backfill write reads.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// How long the worker waits after a failed batch before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

const BACKFILL: u8 = b'B';
const DROP: u8 = b'D';

/// How far a backfill has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// No item indexed yet.
    Started,
    /// Indexed up to this item key.
    At(Vec<u8>),
    /// Every item indexed, in a write not yet known to be committed.
    Done,
}

/// The online index operations of one table that are in progress.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    /// Index number -> how far its backfill has come.
    pub backfills: BTreeMap<u32, Progress>,
    /// Indexes being deleted, as they were defined.
    pub drops: Vec<IndexDef>,
}

impl Jobs {
    pub fn is_empty(&self) -> bool {
        self.backfills.is_empty() && self.drops.is_empty()
    }

    /// Whether item writes at `item_key` maintain index `number` yet: not
    /// while its backfill has still to reach the key.
    pub fn maintains(&self, number: u32, item_key: &[u8]) -> bool {
        match self.backfills.get(&number) {
            None | Some(Progress::Done) => true,
            Some(Progress::Started) => false,
            Some(Progress::At(cursor)) => item_key <= cursor.as_slice(),
        }
    }
}

/// The indexes among `indexes` (the table's live set) an item write at
/// `item_key` maintains (see [`Jobs::maintains`]); call from inside the
/// writer.
pub fn maintained<'a>(
    table: &Table,
    indexes: &'a [IndexDef],
    item_key: &[u8],
) -> Cow<'a, [IndexDef]> {
    table.with_jobs(|jobs| {
        if jobs.backfills.is_empty() {
            Cow::Borrowed(indexes)
        } else {
            Cow::Owned(
                indexes
                    .iter()
                    .filter(|i| jobs.maintains(i.number, item_key))
                    .cloned()
                    .collect(),
            )
        }
    })
}

/// Refuses a read of an index that is still being backfilled.
pub fn check_readable(table: &Table, index: &IndexDef) -> Result<()> {
    if table.with_jobs(|j| j.backfills.contains_key(&index.number)) {
        return Err(DynamoError::validation(format!(
            "Cannot read from backfilling global secondary index: {}",
            index.name
        )));
    }
    Ok(())
}

pub fn job_key(table_number: u64, index: u32) -> [u8; 13] {
    let mut k = layout::index_prefix(table_number, index);
    k[0] = JOB_TAG;
    k
}

/// Prefix of every job key of one table (DeleteTable drops them).
pub fn table_jobs_prefix(table_number: u64) -> [u8; 9] {
    let mut k = layout::items_prefix(table_number);
    k[0] = JOB_TAG;
    k
}

/// Inside the UpdateTable write that adds index `number`: records its
/// backfill. Call last: it changes the table's in-memory jobs.
pub(crate) fn start_backfill(txn: &mut WriteTxn<'_>, table: &Table, number: u32) {
    txn.put(&job_key(table.def.number, number), &[BACKFILL]);
    table.update_jobs(|j| {
        j.backfills.insert(number, Progress::Started);
    });
}

/// Inside the UpdateTable write that removes `index` from the definition
/// and the live set: records its drop (replacing a backfill in progress).
/// Call last: it changes the table's in-memory jobs.
pub(crate) fn start_drop(txn: &mut WriteTxn<'_>, table: &Table, index: IndexDef) {
    let mut value = vec![DROP];
    serde_json::to_writer(&mut value, &index).expect("index definitions serialize");
    txn.put(&job_key(table.def.number, index.number), &value);
    table.update_jobs(|j| {
        j.backfills.remove(&index.number);
        j.drops.retain(|d| d.number != index.number);
        j.drops.push(index);
    });
}

/// Loads the stored jobs into their tables' in-memory state at start-up.
pub(crate) fn load(view: &impl ReadView, catalog: &Catalog) -> Result<()> {
    let prefix = [JOB_TAG];
    let end = layout::prefix_end(&prefix);
    let tables = catalog.all();
    let mut bad = None;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            let (Some(table_number), Some(number)) = (
                k.get(1..9)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes),
                k.get(9..13)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes),
            ) else {
                return true;
            };
            let Some(table) = tables.iter().find(|t| t.def.number == table_number) else {
                return true;
            };
            match v.split_first() {
                Some((&BACKFILL, cursor)) => table.update_jobs(|j| {
                    let progress = if cursor.is_empty() {
                        Progress::Started
                    } else {
                        Progress::At(cursor.to_vec())
                    };
                    j.backfills.insert(number, progress);
                }),
                Some((&DROP, def)) => match serde_json::from_slice::<IndexDef>(def) {
                    Ok(index) => table.update_jobs(|j| j.drops.push(index)),
                    Err(e) => {
                        bad = Some(format!("an index job is unreadable: {e}"));
                        return false;
                    }
                },
                _ => {
                    bad = Some("an index job is unreadable".to_owned());
                    return false;
                }
            }
            true
        },
    )?;
    match bad {
        Some(msg) => Err(DynamoError::Internal(msg)),
        None => Ok(()),
    }
}

/// DescribeTable's view of the jobs: a backfilling index is CREATING and
/// Backfilling, a deleted one is listed as DELETING until its entries are
/// gone. `drop_stats` follows `jobs.drops`.
pub fn describe_jobs(
    desc: &mut Value,
    table: &Table,
    jobs: &Jobs,
    drop_stats: &[crate::ops::tables::Stats],
) {
    let def = &table.def;
    if let Some(gsis) = desc
        .get_mut("GlobalSecondaryIndexes")
        .and_then(Value::as_array_mut)
    {
        for g in gsis.iter_mut() {
            let backfilling = def.indexes.iter().any(|i| {
                g["IndexName"] == i.name.as_str() && jobs.backfills.contains_key(&i.number)
            });
            if backfilling {
                g["IndexStatus"] = json!("CREATING");
                g["Backfilling"] = json!(true);
            }
        }
    }
    // A delete not yet committed still has its index in the definition.
    let dropping = jobs
        .drops
        .iter()
        .zip(drop_stats)
        .filter(|(index, _)| !def.indexes.iter().any(|i| i.number == index.number));
    let dropping: Vec<Value> = dropping
        .map(|(index, stats)| {
            let mut d = crate::ops::tables::index_description(def, index, *stats);
            d["IndexStatus"] = json!("DELETING");
            d
        })
        .collect();
    if dropping.is_empty() {
        return;
    }
    match desc
        .get_mut("GlobalSecondaryIndexes")
        .and_then(Value::as_array_mut)
    {
        Some(gsis) => gsis.extend(dropping),
        None => desc["GlobalSecondaryIndexes"] = Value::Array(dropping),
    }
}

/// Starts the worker thread that runs every table's jobs.
pub fn spawn(db: &DynamoDb) -> std::io::Result<()> {
    let weak = Arc::downgrade(&db.inner);
    let wake = db.index_jobs.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("nimbus-index-jobs".into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    // Enabled before the round: a job added during it
                    // starts the next one at once.
                    let woken = wake.notified();
                    tokio::pin!(woken);
                    woken.as_mut().enable();
                    match run_jobs(&weak).await {
                        Round::Stop => return,
                        Round::Idle => woken.await,
                        Round::Retry => tokio::time::sleep(RETRY_AFTER).await,
                    }
                }
            })
        })?;
    Ok(())
}

enum Round {
    /// Nothing left to do until a job is added.
    Idle,
    /// A batch failed; try again shortly.
    Retry,
    /// The service or its store is gone.
    Stop,
}

/// Runs batches of every job, round robin, until none is left.
async fn run_jobs(weak: &Weak<Inner>) -> Round {
    loop {
        let Some(inner) = weak.upgrade() else {
            return Round::Stop;
        };
        let db = DynamoDb { inner };
        let mut work = Vec::new();
        for table in db.catalog.all() {
            table.with_jobs(|j| {
                work.extend(j.backfills.keys().map(|n| (table.clone(), *n, BACKFILL)));
                work.extend(j.drops.iter().map(|d| (table.clone(), d.number, DROP)));
            });
        }
        if work.is_empty() {
            return Round::Idle;
        }
        for (table, number, kind) in work {
            let result = if kind == BACKFILL {
                backfill_batch(&db, &table, number).await
            } else {
                drop_batch(&db, &table, number).await
            };
            match result {
                Ok(()) => {}
                Err(JobError::Store(StoreError::Closed)) => return Round::Stop,
                Err(e) => {
                    tracing::warn!(table = %table.def.name, index = number, "index job failed: {e}");
                    return Round::Retry;
                }
            }
            // Let request tasks queue their writes between batches.
            tokio::task::yield_now().await;
        }
    }
}

/// Why a batch failed: the store (closed: stop) or anything else.
#[derive(Debug)]
enum JobError {
    Store(StoreError),
    Other(DynamoError),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Store(e)
    }
}

impl From<DynamoError> for JobError {
    fn from(e: DynamoError) -> Self {
        JobError::Other(e)
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Store(e) => write!(f, "{e}"),
            JobError::Other(e) => write!(f, "{e:?}"),
        }
    }
}

/// Whether the job of index `number` is still the stored one of `kind`
/// (a delete replaces a backfill; DeleteTable removes both).
fn still_stored(
    txn: &WriteTxn<'_>,
    table: &Table,
    number: u32,
    kind: u8,
) -> Result<Option<Vec<u8>>, JobError> {
    if table.is_dropped() {
        return Ok(None);
    }
    Ok(txn
        .get_with(&job_key(table.def.number, number), |v| v.to_vec())?
        .filter(|v| v.first() == Some(&kind)))
}

/// One backfill write: indexes the items after the cursor, at most the
/// configured number and [`MAX_BATCH_BYTES`], and moves the cursor; the
/// last one ends the job, for readers once it has committed.
async fn backfill_batch(db: &DynamoDb, table: &Arc<Table>, number: u32) -> Result<(), JobError> {
    let t = table.clone();
    let limit = db.backfill_batch.max(1);
    let ended = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<bool, JobError> {
            let Some(job) = still_stored(txn, &t, number, BACKFILL)? else {
                return Ok(true);
            };
            let key = job_key(t.def.number, number);
            let Some(index) = t
                .live_indexes()
                .iter()
                .find(|i| i.number == number)
                .cloned()
            else {
                // Not an index of the table (cannot happen: the job is
                // written with it): nothing to fill.
                txn.delete(&key);
                return Ok(true);
            };
            let cursor = &job[1..];
            let prefix = layout::items_prefix(t.def.number);
            let end = layout::prefix_end(&prefix);
            let lower = if cursor.is_empty() {
                Bound::Included(&prefix[..])
            } else {
                Bound::Excluded(cursor)
            };
            let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let mut bytes = 0;
            let mut more = false;
            txn.scan(lower, Bound::Excluded(&end[..]), false, &mut |k, v| {
                if items.len() >= limit || bytes >= MAX_BATCH_BYTES {
                    more = true;
                    return false;
                }
                bytes += v.len();
                items.push((k.to_vec(), layout::decode_stored(v).1.to_vec()));
                true
            })?;
            for (_, json) in &items {
                let item = parse_stored(json)?;
                crate::index::add_entry(txn, &t.def, &index, &item)?;
            }
            match items.pop() {
                Some((last, _)) if more => {
                    let mut value = vec![BACKFILL];
                    value.extend_from_slice(&last);
                    txn.put(&key, &value);
                    t.update_jobs(|j| {
                        j.backfills.insert(number, Progress::At(last));
                    });
                    Ok(false)
                }
                _ => {
                    txn.delete(&key);
                    // Writers from here on maintain every item's entry.
                    t.update_jobs(|j| {
                        j.backfills.insert(number, Progress::Done);
                    });
                    tracing::info!(table = %t.def.name, index = %index.name, "index backfilled");
                    Ok(true)
                }
            }
        })
        .await?;
    if ended {
        // Committed: reads of the index may start.
        table.update_jobs(|j| {
            j.backfills.remove(&number);
        });
    }
    Ok(())
}

/// One drop write: deletes the next entries of the index; the last one
/// deletes its stats and ends the job.
async fn drop_batch(db: &DynamoDb, table: &Arc<Table>, number: u32) -> Result<(), JobError> {
    let t = table.clone();
    let limit = db.backfill_batch.max(1);
    let ended = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<bool, JobError> {
            if still_stored(txn, &t, number, DROP)?.is_none() {
                return Ok(true);
            }
            let prefix = layout::index_prefix(t.def.number, number);
            let end = layout::prefix_end(&prefix);
            let mut keys = Vec::new();
            let mut more = false;
            txn.scan(
                Bound::Included(&prefix[..]),
                Bound::Excluded(&end[..]),
                false,
                &mut |k, _| {
                    if keys.len() >= limit {
                        more = true;
                        return false;
                    }
                    keys.push(k.to_vec());
                    true
                },
            )?;
            for k in &keys {
                txn.delete(k);
            }
            if !more {
                txn.delete(&layout::index_stats_key(t.def.number, number));
                txn.delete(&job_key(t.def.number, number));
            }
            Ok(!more)
        })
        .await?;
    if ended {
        table.update_jobs(|j| j.drops.retain(|d| d.number != number));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_maintain_a_backfilling_index_only_behind_the_cursor() {
        let mut jobs = Jobs::default();
        assert!(jobs.maintains(1, b"anything"));
        jobs.backfills.insert(1, Progress::Started);
        assert!(!jobs.maintains(1, b"a"));
        assert!(jobs.maintains(2, b"a"));
        jobs.backfills.insert(1, Progress::At(b"m".to_vec()));
        assert!(jobs.maintains(1, b"a") && jobs.maintains(1, b"m"));
        assert!(!jobs.maintains(1, b"ma") && !jobs.maintains(1, b"z"));
        // Done for writers before readers are told.
        jobs.backfills.insert(1, Progress::Done);
        assert!(jobs.maintains(1, b"z"));
    }

    #[test]
    fn job_keys_sit_under_their_table() {
        let k = job_key(7, 3);
        assert!(k.starts_with(&table_jobs_prefix(7)));
        assert!(!k.starts_with(&table_jobs_prefix(8)));
    }
}
