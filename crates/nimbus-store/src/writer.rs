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
//! - Checkpoints start between groups, after the previous group's callers
//!   were answered: when the log passes `wal_checkpoint_bytes`, when its
//!   oldest record passes `wal_checkpoint_interval`, when the queue has been
//!   idle for `wal_idle_checkpoint`, and on shutdown, which waits for it and
//!   leaves nothing to replay. The writer only makes the checkpoint's commit;
//!   its fsync runs on the syncer thread (`db_file`) while groups go on being
//!   logged into the next log generation. At most one checkpoint is in flight:
//!   the next starts only once the previous is durable, because it reuses the
//!   previous generation's log file.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::{Database, Durability};
use tokio::sync::oneshot;

use crate::checkpoint;
use crate::db_file::{SyncGate, SyncState};
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
    /// The call's `on_abort` hooks, kept until its group's fate is known.
    undo: Vec<crate::write_txn::Undo>,
}

impl<F, R, E> Call<F, R, E> {
    pub(crate) fn new(f: F, reply: Reply<R, E>) -> Call<F, R, E> {
        Call {
            f: Some(f),
            outcome: None,
            reply,
            undo: Vec::new(),
        }
    }
}

/// Runs undo hooks newest first.
fn run_undo(undo: Vec<crate::write_txn::Undo>) {
    for hook in undo.into_iter().rev() {
        hook();
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
        let (mut overlay, undo) = txn.into_parts();
        let (outcome, overlay) = match result {
            Ok(Ok(value)) => match overlay.take_rejection() {
                None => (Delivery::Done(Ok(value)), Some(overlay)),
                Some(err) => (Delivery::Done(Err(E::from(err))), None),
            },
            Ok(Err(err)) => (Delivery::Done(Err(err)), None),
            Err(payload) => (Delivery::Panicked(payload), None),
        };
        if overlay.is_some() {
            self.undo = undo;
        } else {
            // The call's writes are discarded now: so are its changes.
            run_undo(undo);
        }
        self.outcome = Some(outcome);
        overlay
    }

    fn finish(self: Box<Self>, group: Result<(), StoreError>) {
        if group.is_err() {
            run_undo(self.undo);
        }
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
    /// The database file's syncs, and the checkpoint whose sync may still
    /// be running.
    pub(crate) gate: Arc<SyncGate>,
    pub(crate) in_flight: Option<InFlight>,
    /// The database file, for errors.
    pub(crate) db_path: PathBuf,
}

/// A checkpoint whose commit returned; durable once its ticket is done
/// (`None`: it was durable on return).
pub(crate) struct InFlight {
    ticket: Option<u64>,
    started: Instant,
    bytes: u64,
}

/// How often the idle writer looks whether a checkpoint became durable.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(5);

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
    /// then checkpoints and waits for it, so a clean shutdown leaves nothing
    /// to replay.
    pub(crate) fn run(mut self) {
        while let Some(first) = self.next_job() {
            let mut group = vec![first];
            let result = self.commit_group(&mut group);
            if let Err(err) = &result {
                tracing::error!(error = %err, calls = group.len(), "group commit failed");
            }
            // A failed group's calls undo their in-memory changes newest
            // first, the reverse of the order they made them.
            if result.is_err() {
                group.reverse();
            }
            for call in group {
                call.finish(result.clone());
            }
            self.poll_checkpoint();
            if self.checkpoint_due() {
                self.start_checkpoint();
            }
        }
        self.wait_checkpoint();
        self.start_checkpoint();
        self.wait_checkpoint();
    }

    /// The next call, checkpointing first if the queue stays idle for long
    /// enough while the log holds records, and noticing meanwhile when a
    /// checkpoint in flight becomes durable. `None` once the store is closed.
    fn next_job(&mut self) -> Option<Box<dyn Job>> {
        let mut idle_since = Instant::now();
        loop {
            self.poll_checkpoint();
            let wait = match &self.log {
                Some(log) if log.poisoned.is_none() => {
                    if log.in_flight.is_some() {
                        Some(IN_FLIGHT_POLL)
                    } else if log.wal.len() > 0 {
                        let idle = idle_since.elapsed();
                        if idle >= log.idle_checkpoint {
                            self.start_checkpoint();
                            // If it failed, retry after another idle spell,
                            // not at once.
                            idle_since = Instant::now();
                            continue;
                        }
                        Some(log.idle_checkpoint - idle)
                    } else {
                        None
                    }
                }
                _ => None,
            };
            let Some(wait) = wait else {
                return self.jobs.recv().ok();
            };
            match self.jobs.recv_timeout(wait) {
                Ok(job) => return Some(job),
                Err(RecvTimeoutError::Timeout) => {}
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

    /// Starts a checkpoint up to the last record, unless one is still in
    /// flight (its log generation's file is not free yet) or there is
    /// nothing to do. The writer is busy only for the commit itself; the
    /// fsync runs on the syncer thread. A failed commit leaves the log to
    /// grow, and a later attempt retries; a failed new generation poisons
    /// the log, like any failed log write.
    fn start_checkpoint(&mut self) {
        let Some(log) = &mut self.log else { return };
        if log.in_flight.is_some() || log.wal.len() == 0 || log.poisoned.is_some() {
            return;
        }
        let started = Instant::now();
        let seq = log.wal.last_seq();
        let ticket = match checkpoint::commit_checkpoint(&self.db, &log.gate, seq) {
            Ok(ticket) => ticket,
            Err(err) => {
                tracing::error!(error = %err, "checkpoint failed");
                return;
            }
        };
        let bytes = log.wal.len();
        if let Err(err) = log.wal.start_generation(None, seq + 1) {
            tracing::error!(error = %err, "starting a write-ahead log generation failed");
            log.poisoned = Some(err);
        }
        log.oldest_record = None;
        log.in_flight = Some(InFlight {
            ticket,
            started,
            bytes,
        });
        self.stats.writer_busy(started.elapsed());
        self.poll_checkpoint();
    }

    /// Notices whether the checkpoint in flight is durable (or failed).
    fn poll_checkpoint(&mut self) {
        let Some(log) = &mut self.log else { return };
        let Some(in_flight) = &log.in_flight else {
            return;
        };
        let state = match in_flight.ticket {
            Some(ticket) => log.gate.poll(ticket),
            None => SyncState::Done(Duration::ZERO),
        };
        match state {
            SyncState::Pending => return,
            SyncState::Done(fsync) => {
                log.wal.retire_inactive();
                let took = in_flight.started.elapsed();
                self.stats.durable(took);
                tracing::debug!(bytes = in_flight.bytes, elapsed = ?took, ?fsync, "checkpoint durable");
            }
            SyncState::Failed(source) => {
                // The records it covers are still in the previous log
                // generation, which stays untouched: reopening recovers.
                log.poisoned = Some(StoreError::Io {
                    op: "sync the database file for a checkpoint",
                    path: log.db_path.clone(),
                    source,
                });
            }
        }
        log.in_flight = None;
    }

    /// Blocks until no checkpoint is in flight.
    fn wait_checkpoint(&mut self) {
        if let Some(log) = &self.log {
            // A failure is picked up by the poll.
            let _ = log.gate.wait_idle();
        }
        self.poll_checkpoint();
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
            #[cfg(test)]
            Ok(true) if fails_for_test(&txn) => {
                let _ = txn.abort();
                Err(StoreError::Closed)
            }
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

/// Tests make a group fail after its calls ran by writing this key.
#[cfg(test)]
pub(crate) const FAIL_GROUP_KEY: &[u8] = b"\xff test: fail this group";

#[cfg(test)]
fn fails_for_test(txn: &redb::WriteTransaction) -> bool {
    use redb::ReadableTable;
    txn.open_table(KV)
        .ok()
        .and_then(|t| t.get(FAIL_GROUP_KEY).ok().flatten().map(|_| ()))
        .is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use crate::{ReadView, Store, StoreError};

    /// A flag a call sets inside its closure, with an undo that clears it.
    fn set_with_undo(flag: &Arc<AtomicBool>) -> impl FnOnce(&mut crate::WriteTxn<'_>) + 'static {
        let flag = flag.clone();
        move |txn| {
            flag.store(true, Ordering::SeqCst);
            let undo = flag.clone();
            txn.on_abort(move || undo.store(false, Ordering::SeqCst));
        }
    }

    #[test]
    fn undo_runs_only_when_the_writes_are_lost() {
        let store = Store::in_memory().unwrap();
        let flag = Arc::new(AtomicBool::new(false));

        // Committed: the change stays.
        let set = set_with_undo(&flag);
        store
            .write_blocking(move |txn| -> Result<(), StoreError> {
                set(txn);
                txn.put(b"k", b"v");
                Ok(())
            })
            .unwrap();
        assert!(flag.load(Ordering::SeqCst));

        // The call fails: undone.
        flag.store(false, Ordering::SeqCst);
        let set = set_with_undo(&flag);
        let failed = store.write_blocking(move |txn| -> Result<(), StoreError> {
            set(txn);
            txn.put(b"k2", b"v");
            Err(StoreError::Closed)
        });
        assert!(failed.is_err());
        assert!(!flag.load(Ordering::SeqCst));

        // The call is rejected (an entry over the limit): undone.
        let set = set_with_undo(&flag);
        let big = vec![0u8; crate::MAX_ENTRY_BYTES + 1];
        let rejected = store.write_blocking(move |txn| -> Result<(), StoreError> {
            set(txn);
            txn.put(b"big", &big);
            Ok(())
        });
        assert!(matches!(rejected, Err(StoreError::EntryTooLarge { .. })));
        assert!(!flag.load(Ordering::SeqCst));

        // The call succeeds but its group fails to commit: undone, and
        // nothing of the group is visible.
        let set = set_with_undo(&flag);
        let lost = store.write_blocking(move |txn| -> Result<(), StoreError> {
            set(txn);
            txn.put(b"k3", b"v");
            txn.put(super::FAIL_GROUP_KEY, b"");
            Ok(())
        });
        assert!(lost.is_err());
        assert!(!flag.load(Ordering::SeqCst));
        let snapshot = store.snapshot().unwrap();
        assert_eq!(snapshot.get(b"k3").unwrap(), None);
        assert_eq!(snapshot.get(b"k").unwrap(), Some(b"v".to_vec()));
    }
}
