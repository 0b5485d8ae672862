//! Checkpoints and recovery: how the write-ahead log and the redb file agree.
//!
//! Invariants:
//! - The `meta` table's `wal_checkpoint_seq` is the sequence number of the
//!   last WAL record whose writes the durable redb state contains (0 if
//!   none). It is only ever written in a durable commit, together with (or
//!   after) the writes of every record up to it, so the durable redb state is
//!   always exactly "every record up to `wal_checkpoint_seq`".
//! - Non-durable commits never survive a crash, so after one the redb file is
//!   at its last checkpoint, and replaying the valid log records after it, in
//!   order, rebuilds every acknowledged group (and perhaps some complete but
//!   unacknowledged ones, which is allowed).
//! - A checkpoint's commit returns before it is durable (its fsync runs on
//!   the syncer thread, see `db_file`), so it starts a new log generation in
//!   the other file and leaves the covered records where they are; the
//!   writer starts no other checkpoint, and so reuses no file, before that
//!   one is durable. A crash meanwhile leaves redb at either checkpoint, and
//!   both files together hold every record after either.
//! - Recovery replays in a single durable transaction that also advances the
//!   checkpoint (an ordinary, synchronous commit), then starts a new
//!   generation. A crash before that commit leaves the
//!   file and the log as they were, so recovery simply runs again: replay is
//!   idempotent.

use std::path::Path;

use redb::{Database, ReadableDatabase, TableDefinition};

use crate::db_file::SyncGate;
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

/// A checkpoint's commit: redb durable with "every record up to `seq`",
/// except that the commit's fsync is handed to the syncer thread (see
/// `db_file`). Returns the ticket to poll the gate with, or `None` if redb
/// synced without deferring (nothing outstanding). The caller then starts a
/// new log generation, so the records this covers stay on disk until it is
/// durable; and starts no other checkpoint before that, since the next one
/// overwrites their file.
pub(crate) fn commit_checkpoint(
    db: &Database,
    gate: &SyncGate,
    seq: u64,
) -> Result<Option<u64>, StoreError> {
    let txn = db
        .begin_write()
        .map_err(|e| StoreError::storage("begin a checkpoint", e))?;
    set_checkpointed_seq(&txn, seq)?;
    let before = gate.requested();
    gate.defer_next();
    let committed = txn.commit();
    let ticket = gate.take_deferred(before);
    committed.map_err(|e| StoreError::storage("commit a checkpoint", e))?;
    Ok(ticket)
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
