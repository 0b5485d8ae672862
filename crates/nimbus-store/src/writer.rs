//! The writer thread and group commit.
//!
//! Invariants:
//! - Exactly one thread (this one) opens write transactions on the database,
//!   so calls run one at a time, in the order the channel delivered them.
//! - A group is one redb write transaction. Each call in it runs against the
//!   table as left by the calls before it; a call's overlay is applied only if
//!   the call returned `Ok`.
//! - Durable mode: a group that wrote anything is first appended to the
//!   write-ahead log as one record and synced; only then is its transaction
//!   committed, non-durably (visible to snapshots, no fsync). So no snapshot
//!   sees a write before it is durable. The log only ever holds records of
//!   groups that redb has committed, or of the group being committed now.
//! - Every call taken from the channel is finished exactly once, and only
//!   after its group is durable (logged and committed; committed with fsync
//!   in memory mode) or abandoned. If the group fails, every call in it that
//!   would have written gets the error; none of them was applied. If the
//!   commit fails after the log sync, the record is retracted (its header
//!   zeroed and synced) before the callers hear of it.
//! - A failed log write or sync poisons the writer: the record's fate on disk
//!   is unknown, so every later write fails and nothing more is checkpointed
//!   until the store is reopened (recovery then decides from the log).
//! - Checkpoints run between groups, after the previous group's callers were
//!   answered: when the log passes `wal_checkpoint_bytes`, when its oldest
//!   record passes `wal_checkpoint_interval`, when the queue has been idle for
//!   `wal_idle_checkpoint`, and on shutdown, which leaves an empty log.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::{Database, Durability};
use tokio::sync::oneshot;

use crate::checkpoint;
use crate::dir_lock::DirLock;
use crate::overlay::Overlay;
use crate::read::KV;
use crate::stats::StatsCell;
use crate::wal::{self, Wal};
use crate::write_txn::WriteTxn;
use crate::StoreError;

pub(crate) type KvTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

/// A write call with its result type erased, as queued for the writer.
pub(crate) trait Job: Send {
    /// Runs the call against the group's table. Returns its writes if it
    /// succeeded; on failure the call keeps its own error for `finish`.
    fn run(&mut self, table: &KvTable<'_>) -> Option<Overlay>;

    /// Delivers the call's result once its group's fate (`group`) is known.
    fn finish(self: Box<Self>, group: Result<(), StoreError>);
}

/// What a caller receives. A panic in the caller's closure travels back to
/// the caller (and is re-raised there) instead of killing the writer thread.
pub(crate) enum Delivery<R, E> {
    Done(Result<R, E>),
    Panicked(Box<dyn Any + Send>),
}

impl<R, E> Delivery<R, E> {
    pub(crate) fn into_result(self) -> Result<R, E> {
        match self {
            Delivery::Done(result) => result,
            Delivery::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }
}

/// Where a call's result goes: an async caller awaits a oneshot, a blocking
/// caller parks on a std channel (which, unlike `oneshot::blocking_recv`, is
/// safe to use even on a runtime thread).
pub(crate) enum Reply<R, E> {
    Async(oneshot::Sender<Delivery<R, E>>),
    Blocking(SyncSender<Delivery<R, E>>),
}

impl<R, E> Reply<R, E> {
    fn send(self, delivery: Delivery<R, E>) {
        // A caller that stopped waiting (dropped future) no longer cares.
        match self {
            Reply::Async(tx) => drop(tx.send(delivery)),
            Reply::Blocking(tx) => drop(tx.send(delivery)),
        }
    }
}

pub(crate) struct Call<F, R, E> {
    f: Option<F>,
    outcome: Option<Delivery<R, E>>,
    reply: Reply<R, E>,
}

impl<F, R, E> Call<F, R, E> {
    pub(crate) fn new(f: F, reply: Reply<R, E>) -> Call<F, R, E> {
        Call {
            f: Some(f),
            outcome: None,
            reply,
        }
    }
}

impl<F, R, E> Job for Call<F, R, E>
where
    F: FnOnce(&mut WriteTxn<'_>) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn run(&mut self, table: &KvTable<'_>) -> Option<Overlay> {
        let f = self.f.take().expect("a write call runs at most once");
        let mut txn = WriteTxn::new(table);
        // The closure only reads the table (writes go to its overlay), so a
        // panic cannot leave the shared transaction half-modified.
        let result = catch_unwind(AssertUnwindSafe(|| f(&mut txn)));
        let (outcome, overlay) = match result {
            Ok(Ok(value)) => {
                let mut overlay = txn.into_overlay();
                match overlay.take_rejection() {
                    None => (Delivery::Done(Ok(value)), Some(overlay)),
                    Some(err) => (Delivery::Done(Err(E::from(err))), None),
                }
            }
            Ok(Err(err)) => (Delivery::Done(Err(err)), None),
            Err(payload) => (Delivery::Panicked(payload), None),
        };
        self.outcome = Some(outcome);
        overlay
    }

    fn finish(self: Box<Self>, group: Result<(), StoreError>) {
        let delivery = match (self.outcome, group) {
            // The call's own failure stands whatever happened to the group.
            (Some(Delivery::Done(Err(e))), _) => Delivery::Done(Err(e)),
            (Some(Delivery::Panicked(p)), _) => Delivery::Panicked(p),
            (Some(Delivery::Done(Ok(value))), Ok(())) => Delivery::Done(Ok(value)),
            (Some(Delivery::Done(Ok(_))), Err(err)) | (None, Err(err)) => {
                Delivery::Done(Err(E::from(err)))
            }
            (None, Ok(())) => unreachable!("a group only succeeds after all its calls ran"),
        };
        self.reply.send(delivery);
    }
}

/// The durable-mode log and when to checkpoint it.
pub(crate) struct LogState {
    pub(crate) wal: Wal,
    pub(crate) checkpoint_bytes: u64,
    pub(crate) checkpoint_interval: Duration,
    pub(crate) idle_checkpoint: Duration,
    /// When the log last went from empty to non-empty.
    pub(crate) oldest_record: Option<Instant>,
    /// Set when the log may hold a record whose group failed: nothing more
    /// is written or checkpointed until the store is reopened.
    pub(crate) poisoned: Option<StoreError>,
    /// Reused buffer for the group's record.
    pub(crate) record: Vec<u8>,
}

pub(crate) struct Writer {
    pub(crate) db: Arc<Database>,
    pub(crate) jobs: Receiver<Box<dyn Job>>,
    pub(crate) max_group_calls: usize,
    pub(crate) max_group_bytes: usize,
    /// `Some` in durable mode.
    pub(crate) log: Option<LogState>,
    pub(crate) stats: Arc<StatsCell>,
    /// The data directory's lock (durable mode), held until this thread
    /// exits, i.e. until after the last commit this process will make.
    pub(crate) _lock: Option<DirLock>,
}

impl Writer {
    /// Serves groups until every sender is gone and the queue is drained,
    /// then checkpoints so a clean shutdown leaves an empty log.
    pub(crate) fn run(mut self) {
        while let Some(first) = self.next_job() {
            let mut group = vec![first];
            let result = self.commit_group(&mut group);
            if let Err(err) = &result {
                tracing::error!(error = %err, calls = group.len(), "group commit failed");
            }
            for call in group {
                call.finish(result.clone());
            }
            if self.checkpoint_due() {
                self.checkpoint();
            }
        }
        self.checkpoint();
    }

    /// The next call, checkpointing first if the queue stays idle for long
    /// enough while the log holds records. `None` once the store is closed.
    fn next_job(&mut self) -> Option<Box<dyn Job>> {
        loop {
            let idle = match &self.log {
                Some(log) if log.wal.len() > 0 && log.poisoned.is_none() => log.idle_checkpoint,
                _ => return self.jobs.recv().ok(),
            };
            match self.jobs.recv_timeout(idle) {
                Ok(job) => return Some(job),
                Err(RecvTimeoutError::Timeout) => self.checkpoint(),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    fn checkpoint_due(&self) -> bool {
        let Some(log) = &self.log else { return false };
        log.wal.len() >= log.checkpoint_bytes
            || log
                .oldest_record
                .is_some_and(|t| t.elapsed() >= log.checkpoint_interval)
    }

    /// Makes redb durable up to the last record and resets the log. On
    /// failure the log just keeps growing and the next attempt retries.
    fn checkpoint(&mut self) {
        let Some(log) = &mut self.log else { return };
        if log.wal.len() == 0 || log.poisoned.is_some() {
            return;
        }
        let started = Instant::now();
        let bytes = log.wal.len();
        match checkpoint::checkpoint(&self.db, &mut log.wal) {
            Ok(()) => {
                log.oldest_record = None;
                let took = started.elapsed();
                self.stats.writer_busy(took);
                self.stats.durable(took);
                tracing::debug!(bytes, elapsed = ?took, "checkpoint");
            }
            Err(err) => tracing::error!(error = %err, "checkpoint failed"),
        }
    }

    /// Runs `group[0]` and whatever else is queued (within the group limits)
    /// in one transaction and commits it. Calls drained from the queue are
    /// appended to `group` before they run, so each is finished even if the
    /// transaction fails part-way.
    ///
    /// Durable mode: the group's writes are logged and synced first, then
    /// the transaction is committed without fsync (visible, not durable).
    fn commit_group(&mut self, group: &mut Vec<Box<dyn Job>>) -> Result<(), StoreError> {
        let mut record = match &mut self.log {
            Some(log) => {
                if let Some(err) = &log.poisoned {
                    return Err(err.clone());
                }
                let mut record = std::mem::take(&mut log.record);
                wal::begin_record(&mut record);
                Some(record)
            }
            None => None,
        };
        let mut txn = self
            .db
            .begin_write()
            .map_err(|e| StoreError::storage("begin a write transaction", e))?;
        if record.is_some() {
            txn.set_durability(Durability::None)
                .map_err(|e| StoreError::storage("set non-durable commits", e))?;
        }
        let result = match self.run_calls(&txn, group, record.as_mut()) {
            Ok(true) => self.log_and_commit(txn, record.as_mut()),
            // Nothing to write: skip the fsync. Earlier groups are already
            // durable, so anything these calls read is too.
            Ok(false) => txn
                .abort()
                .map_err(|e| StoreError::storage("end a read-only write transaction", e)),
            Err(err) => {
                if let Err(abort_err) = txn.abort() {
                    tracing::warn!(error = %abort_err, "aborting a failed write transaction");
                }
                Err(err)
            }
        };
        if let (Some(log), Some(record)) = (&mut self.log, record) {
            log.record = record;
        }
        result
    }

    /// Durable mode: appends and syncs the record, then commits. A failed
    /// sync poisons the log (the record's fate on disk is unknown); a failed
    /// commit after a good sync retracts the record.
    fn log_and_commit(
        &mut self,
        txn: redb::WriteTransaction,
        record: Option<&mut Vec<u8>>,
    ) -> Result<(), StoreError> {
        let commit = |txn: redb::WriteTransaction| {
            txn.commit()
                .map_err(|e| StoreError::storage("commit a write transaction", e))
        };
        let (Some(log), Some(record)) = (&mut self.log, record) else {
            return commit(txn);
        };
        if let Err(err) = log.wal.append(record).and_then(|_| log.wal.sync()) {
            log.poisoned = Some(err.clone());
            if let Err(abort_err) = txn.abort() {
                tracing::warn!(error = %abort_err, "aborting an unlogged write transaction");
            }
            return Err(err);
        }
        log.oldest_record.get_or_insert_with(Instant::now);
        let result = commit(txn);
        if result.is_err() {
            if let Err(err) = log.wal.retract() {
                log.poisoned = Some(err);
            }
        }
        result
    }

    /// Returns whether any call wrote something. With `record`, also logs
    /// each applied call's ops there, in the order applied.
    fn run_calls(
        &self,
        txn: &redb::WriteTransaction,
        group: &mut Vec<Box<dyn Job>>,
        mut record: Option<&mut Vec<u8>>,
    ) -> Result<bool, StoreError> {
        // Creates the table in the first group ever written.
        let mut table = txn
            .open_table(KV)
            .map_err(|e| StoreError::storage("open the kv table for writing", e))?;
        let mut wrote = false;
        let mut bytes = 0usize;
        let mut next = 0;
        loop {
            if let Some(overlay) = group[next].run(&table) {
                bytes += overlay.bytes();
                if !overlay.is_empty() {
                    wrote = true;
                    overlay.apply(&mut table, record.as_deref_mut())?;
                }
            }
            next += 1;
            if group.len() >= self.max_group_calls || bytes >= self.max_group_bytes {
                return Ok(wrote);
            }
            match self.jobs.try_recv() {
                Ok(call) => group.push(call),
                Err(_) => return Ok(wrote),
            }
        }
    }
}
