//! Checkpoints and recovery: how the write-ahead log and the redb file agree.
//!
//! Invariants:
//! - The `meta` table's `wal_checkpoint_seq` is the sequence number of the
//!   last WAL record whose writes the durable redb state contains (0 if
//!   none). It is only ever written in a durable commit, together with the
//!   writes of every record up to it, so the durable redb state is always
//!   exactly "every record up to `wal_checkpoint_seq`".
//! - The applier thread writes frozen memtable layers into redb in the order
//!   they were frozen, each at a log record boundary: volatile commits
//!   (visible, not durable) between checkpoints, and a durable commit for a
//!   checkpoint. Volatile commits never survive a crash, so after one the
//!   redb file is at its last checkpoint, and replaying the valid log
//!   records after it, in order, rebuilds every acknowledged group (and
//!   perhaps some complete but unacknowledged ones, which is allowed).
//! - When the writer freezes a checkpoint's layer it starts a new log
//!   generation in the other file at once, so the checkpoint covers exactly
//!   the records of the generation it ends (and older ones). It starts no
//!   other checkpoint, and so reuses no file, before that one returned: a
//!   crash meanwhile leaves redb at either checkpoint, and both files
//!   together hold every record after either.
//! - Recovery replays in a single durable transaction that also advances the
//!   checkpoint, then starts a new generation. A crash before that commit
//!   leaves the file and the log as they were, so recovery simply runs
//!   again: replay is idempotent.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use crate::layer::Layer;
use crate::read::KV;
use crate::redo;
use crate::wal::{self, Wal};
use crate::StoreError;

const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
const CHECKPOINT_SEQ: &str = "wal_checkpoint_seq";

/// The sequence number the durable state includes.
pub(crate) fn checkpointed_seq(db: &Database) -> Result<u64, StoreError> {
    let txn = db
        .begin_read()
        .map_err(|e| StoreError::storage("begin a read transaction", e))?;
    let table = match txn.open_table(META) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(StoreError::storage("open the meta table", e)),
    };
    let seq = table
        .get(CHECKPOINT_SEQ)
        .map_err(|e| StoreError::storage("read the checkpoint", e))?;
    Ok(seq.map_or(0, |g| g.value()))
}

pub(crate) fn set_checkpointed_seq(
    txn: &redb::WriteTransaction,
    seq: u64,
) -> Result<(), StoreError> {
    let mut table = txn
        .open_table(META)
        .map_err(|e| StoreError::storage("open the meta table for writing", e))?;
    table
        .insert(CHECKPOINT_SEQ, seq)
        .map_err(|e| StoreError::storage("record a checkpoint", e))?;
    Ok(())
}

/// How the applier commits a frozen layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commit {
    /// Durable mode, between checkpoints: visible at once, durable with the
    /// next checkpoint (the log holds its records until then).
    Volatile,
    /// Durable mode: a checkpoint; `seq` is the last log record it covers.
    Checkpoint { seq: u64 },
    /// In-memory mode: nothing is durable, but redb reuses freed pages only
    /// after a durable commit, so every commit is one (its sync is a no-op).
    InMemory,
}

/// Writes a frozen memtable layer into the `kv` table in one commit (the
/// applier thread's job). For a checkpoint, the commit is durable and
/// records `seq`: the caller then holds every record up to `seq` in redb,
/// counting the layers applied volatile before it, which a durable commit
/// makes durable too. The caller starts no other checkpoint before this one
/// returns, and reuses the log file holding the records it covers only once
/// it returned `Ok`.
pub(crate) fn apply_layer(db: &Database, layer: &Layer, commit: Commit) -> Result<(), StoreError> {
    let mut txn = db
        .begin_write()
        .map_err(|e| StoreError::storage("begin applying writes", e))?;
    if commit == Commit::Volatile {
        txn.set_durability(Durability::None)
            .map_err(|e| StoreError::storage("set a volatile commit", e))?;
    }
    {
        // Creates the table in the first checkpoint ever made.
        let mut table = txn
            .open_table(KV)
            .map_err(|e| StoreError::storage("open the kv table for a checkpoint", e))?;
        let mut result = Ok(());
        layer.for_each_op(|op| {
            if result.is_ok() {
                result = redo::apply(&op, &mut table);
            }
        });
        result?;
    }
    if let Commit::Checkpoint { seq } = commit {
        set_checkpointed_seq(&txn, seq)?;
    }
    // An error drops (aborts) the transaction: nothing of the layer lands.
    txn.commit()
        .map_err(|e| StoreError::storage("commit applied writes", e))
}

/// Opens the log files, replays what the redb file lacks, checkpoints (and
/// waits for it) if it replayed anything, and returns the log with a new
/// generation started for appends.
pub(crate) fn recover(db: &Database, dir: &Path) -> Result<Wal, StoreError> {
    let applied = checkpointed_seq(db)?;
    let (mut wal, found) = Wal::open(dir)?;
    let corrupt = |why: String| {
        StoreError::io(
            "recover from the write-ahead log",
            dir.join(wal::WAL_FILES[0]),
            std::io::Error::new(std::io::ErrorKind::InvalidData, why),
        )
    };
    let records: Vec<_> = found.into_iter().filter(|r| r.seq > applied).collect();
    let Some(first) = records.first() else {
        wal.start_generation(Some(0), applied + 1)?;
        wal.retire_inactive();
        return Ok(wal);
    };
    if first.seq != applied + 1 {
        return Err(corrupt(format!(
            "the log resumes at record {} but the database holds records up to {applied} only",
            first.seq
        )));
    }
    // The two files' generations meet without a gap or an overlap.
    if let Some(pair) = records.windows(2).find(|p| p[1].seq != p[0].seq + 1) {
        return Err(corrupt(format!(
            "the log jumps from record {} to record {}",
            pair[0].seq, pair[1].seq
        )));
    }
    let last = records.last().expect("not empty").seq;
    let txn = db
        .begin_write()
        .map_err(|e| StoreError::storage("begin recovery", e))?;
    {
        let mut table = txn
            .open_table(KV)
            .map_err(|e| StoreError::storage("open the kv table for recovery", e))?;
        for record in &records {
            let ops = redo::decode(&record.bytes)
                .map_err(|why| corrupt(format!("record {}: {why}", record.seq)))?;
            for op in &ops {
                redo::apply(op, &mut table)?;
            }
        }
    }
    set_checkpointed_seq(&txn, last)?;
    txn.commit()
        .map_err(|e| StoreError::storage("commit recovery", e))?;
    tracing::info!(
        records = records.len(),
        bytes = records.iter().map(|r| r.bytes.len()).sum::<usize>(),
        "replayed the write-ahead log"
    );
    wal.start_generation(Some(0), last + 1)?;
    wal.retire_inactive();
    Ok(wal)
}
