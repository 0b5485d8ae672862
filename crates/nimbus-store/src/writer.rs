//! The writer thread and group commit.
//!
//! Invariants:
//! - Exactly one thread (this one) runs write calls, one at a time, in the
//!   order the channel delivered them, and only it changes the memtable's
//!   active layer.
//! - A group is the calls run between two log syncs. Each call runs against
//!   the memtable as left by the calls before it (its group's included) over
//!   a redb read transaction's table; a call's overlay is absorbed into the
//!   active layer only if the call returned `Ok`.
//! - Durable mode: a group that wrote anything is appended to the write-ahead
//!   log as one record and synced; only then is the active layer published
//!   to readers. So no snapshot sees a write before it is durable, and the
//!   log holds every record the memtable holds.
//! - Every call taken from the channel is finished exactly once, and only
//!   after its group is durable (logged and published; published in memory
//!   mode) or abandoned. If the group fails, every call in it that would
//!   have written gets the error, the active layer is put back as it was
//!   before the group, and the calls' undo hooks run.
//! - A failed log write or sync poisons the writer: the record's fate on disk
//!   is unknown, so every later write fails and nothing more is checkpointed
//!   until the store is reopened (recovery then decides from the log). A
//!   failed checkpoint poisons it too: its layer stays readable, and the log
//!   still holds every record of it.
//! - Between groups (after the previous group's callers were answered) the
//!   writer freezes the active layer and hands it to the applier thread,
//!   which writes it into redb while the writer goes on. An ordinary freeze
//!   happens once the layer's first write is `apply_every` old or it holds
//!   4 MiB; its redb commit is not synced, because the log still holds its
//!   records. A checkpoint also starts a new log generation, and its commit
//!   is synced, after which the previous generation is retired. Checkpoints
//!   happen when the log's generation passes `wal_checkpoint_bytes`, when its
//!   oldest record passes `wal_checkpoint_interval`, when the queue has been
//!   idle for `wal_idle_checkpoint`, and on shutdown, which waits for it and
//!   leaves nothing to replay. At most one checkpoint is in flight, because
//!   the next reuses the previous generation's log file.
//! - Layers are applied in the order they were frozen, so redb only ever
//!   holds a prefix of the log's records, and readers see each frozen layer
//!   until redb holds it. If the active layer grows past four times the
//!   checkpoint size while layers wait, the writer waits for the applier
//!   before the next group, which bounds the memtable's memory.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::Database;
use tokio::sync::oneshot;

use crate::applier::{Applier, Batch};
use crate::checkpoint::Commit;
use crate::dir_lock::DirLock;
use crate::layer::Layer;
use crate::memtable::{Published, View};
use crate::merge::{KvReadTable, Stack};
use crate::overlay::Overlay;
use crate::read::open_table;
use crate::stats::StatsCell;
use crate::wal::{self, Wal};
use crate::write_txn::{Base, WriteTxn};
use crate::StoreError;

/// A write call with its result type erased, as queued for the writer.
pub(crate) trait Job: Send {
    /// Runs the call against the writer's memtable and table. Returns its
    /// writes if it succeeded; on failure the call keeps its own error for
    /// `finish`.
    fn run(&mut self, base: Base<'_>) -> Option<Overlay>;

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
    fn run(&mut self, base: Base<'_>) -> Option<Overlay> {
        let f = self.f.take().expect("a write call runs at most once");
        let mut txn = WriteTxn::new(base);
        // The closure only reads the memtable and table (writes go to its
        // overlay), so a panic cannot leave them half-modified.
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

/// The durable-mode log.
pub(crate) struct LogState {
    pub(crate) wal: Wal,
    /// Reused buffer for the group's record.
    pub(crate) record: Vec<u8>,
}

/// The writer's side of the memtable, and when to apply and checkpoint it.
pub(crate) struct Memtable {
    pub(crate) active: Layer,
    /// When the active layer got its first write.
    pub(crate) active_since: Option<Instant>,
    /// Layers handed to the applier and not yet reported applied, oldest
    /// first, and the same layers newest first, as readers get them.
    pub(crate) pending: VecDeque<Pending>,
    pub(crate) frozen: Arc<[Arc<Layer>]>,
    /// Where readers take the memtable from.
    pub(crate) published: Arc<Published>,
    pub(crate) checkpoint_bytes: u64,
    pub(crate) checkpoint_interval: Duration,
    pub(crate) idle_checkpoint: Duration,
    pub(crate) apply_every: Duration,
    /// When the log's current generation got its first record.
    pub(crate) oldest_record: Option<Instant>,
}

/// A frozen layer handed to the applier.
pub(crate) struct Pending {
    layer: Arc<Layer>,
    started: Instant,
    checkpoint: bool,
}

/// The active layer is frozen and handed to the applier once its first write
/// is `apply_every` old, or once it holds this much: redb follows the log in
/// small batches, so readers look through few, small layers, each commit's
/// work stays small, and pages reach the disk steadily instead of in bursts.
const APPLY_BYTES: usize = 4 << 20;
/// Past this many layers waiting for the applier, the active layer grows
/// instead (fewer, larger commits let a slow applier catch up).
const MAX_PENDING: usize = 4;

impl Memtable {
    pub(crate) fn new(published: Arc<Published>, opts: &crate::StoreOptions) -> Memtable {
        Memtable {
            active: Layer::default(),
            active_since: None,
            pending: VecDeque::new(),
            frozen: Arc::new([]),
            published,
            checkpoint_bytes: opts.wal_checkpoint_bytes,
            checkpoint_interval: opts.wal_checkpoint_interval,
            idle_checkpoint: opts.wal_idle_checkpoint,
            apply_every: opts.apply_every,
            oldest_record: None,
        }
    }

    fn publish(&self) {
        self.published.set(View {
            active: self.active.clone(),
            frozen: Arc::clone(&self.frozen),
        });
    }

    fn refreeze(&mut self) {
        self.frozen = self
            .pending
            .iter()
            .rev()
            .map(|p| Arc::clone(&p.layer))
            .collect();
    }

    fn checkpoint_in_flight(&self) -> bool {
        self.pending.iter().any(|p| p.checkpoint)
    }

    /// Past this the writer waits for the applier before the next group,
    /// which bounds the memtable's memory.
    fn over_limit(&self) -> bool {
        !self.pending.is_empty()
            && self.active.bytes() as u64 >= self.checkpoint_bytes.saturating_mul(4)
    }

    fn apply_due(&self) -> bool {
        !self.active.is_empty()
            && self.pending.len() < MAX_PENDING
            && (self.active.bytes() >= APPLY_BYTES
                || self
                    .active_since
                    .is_some_and(|t| t.elapsed() >= self.apply_every))
    }
}

/// How often the idle writer looks whether the applier finished.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(5);

pub(crate) struct Writer {
    pub(crate) db: Arc<Database>,
    pub(crate) jobs: Receiver<Box<dyn Job>>,
    pub(crate) max_group_calls: usize,
    pub(crate) max_group_bytes: usize,
    /// `Some` in durable mode.
    pub(crate) log: Option<LogState>,
    /// Set when a log write or sync failed (the log may hold a record whose
    /// group failed) or the applier failed: nothing more is written or
    /// applied until the store is reopened.
    pub(crate) poisoned: Option<StoreError>,
    pub(crate) mem: Memtable,
    pub(crate) applier: Applier,
    pub(crate) stats: Arc<StatsCell>,
    /// The data directory's lock (durable mode), held until this thread
    /// exits, i.e. until after the last commit this process will make.
    pub(crate) _lock: Option<DirLock>,
}

impl Writer {
    /// Serves groups until every sender is gone and the queue is drained,
    /// then applies everything and checkpoints, so a clean shutdown leaves
    /// nothing to replay. The applier thread is joined when the writer is
    /// dropped, before the directory lock is released.
    pub(crate) fn run(mut self) {
        while let Some(first) = self.next_job() {
            while self.mem.over_limit() && self.poisoned.is_none() {
                self.collect_applied(true);
            }
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
            self.collect_applied(false);
            self.freeze_if_due(Duration::ZERO);
        }
        while self.mem.checkpoint_in_flight() && self.poisoned.is_none() {
            self.collect_applied(true);
        }
        self.freeze(self.log.is_some());
        while !self.mem.pending.is_empty() && self.poisoned.is_none() {
            self.collect_applied(true);
        }
    }

    /// The next call. Meanwhile, hands the active layer to the applier when
    /// it is due, checkpoints if the queue stays idle for long enough while
    /// the log holds records, and notices what the applier finished. `None`
    /// once the store is closed.
    fn next_job(&mut self) -> Option<Box<dyn Job>> {
        let idle_since = Instant::now();
        loop {
            self.collect_applied(false);
            self.freeze_if_due(idle_since.elapsed());
            let wait = self.next_wake(idle_since.elapsed());
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

    /// How long the idle writer may sleep before it has something to do.
    fn next_wake(&self, idle: Duration) -> Option<Duration> {
        if self.poisoned.is_some() {
            return None;
        }
        let mut wake: Option<Duration> = None;
        let mut at = |d: Duration| wake = Some(wake.map_or(d, |w| w.min(d)));
        if !self.mem.pending.is_empty() {
            at(IN_FLIGHT_POLL);
        }
        if let Some(since) = self.mem.active_since {
            at(self.mem.apply_every.saturating_sub(since.elapsed()));
        }
        if self.log.as_ref().is_some_and(|log| log.wal.len() > 0)
            && !self.mem.checkpoint_in_flight()
        {
            at(self.mem.idle_checkpoint.saturating_sub(idle));
        }
        wake
    }

    fn freeze_if_due(&mut self, idle: Duration) {
        if self.checkpoint_due(idle) {
            self.freeze(true);
        } else if self.mem.apply_due() {
            self.freeze(false);
        }
    }

    /// A checkpoint is due when the log's generation passes
    /// `wal_checkpoint_bytes` or `wal_checkpoint_interval`, or the queue was
    /// idle for `wal_idle_checkpoint`, and none is in flight.
    fn checkpoint_due(&self, idle: Duration) -> bool {
        let Some(log) = &self.log else { return false };
        let len = log.wal.len();
        len > 0
            && !self.mem.checkpoint_in_flight()
            && (len >= self.mem.checkpoint_bytes
                || idle >= self.mem.idle_checkpoint
                || self
                    .mem
                    .oldest_record
                    .is_some_and(|t| t.elapsed() >= self.mem.checkpoint_interval))
    }

    /// Freezes the active layer and hands it to the applier. A checkpoint
    /// (durable mode; only one in flight at a time, else this is an ordinary
    /// apply) also starts a new log generation and is frozen even if the
    /// active layer is empty, since the records of layers applied before it
    /// are not durable in redb yet. The writer is busy only for this. A
    /// failed new generation poisons the log, like any failed log write.
    fn freeze(&mut self, checkpoint: bool) {
        let checkpoint = checkpoint && !self.mem.checkpoint_in_flight();
        if self.poisoned.is_some() || (self.mem.active.is_empty() && !checkpoint) {
            return;
        }
        let started = Instant::now();
        let layer = Arc::new(std::mem::take(&mut self.mem.active));
        self.mem.active_since = None;
        let commit = match (&mut self.log, checkpoint) {
            (Some(log), true) => {
                let seq = log.wal.last_seq();
                if let Err(err) = log.wal.start_generation(None, seq + 1) {
                    tracing::error!(error = %err, "starting a write-ahead log generation failed");
                    self.poisoned = Some(err);
                }
                self.mem.oldest_record = None;
                Commit::Checkpoint { seq }
            }
            (Some(_), false) => Commit::Volatile,
            (None, _) => Commit::InMemory,
        };
        self.mem.pending.push_back(Pending {
            layer: Arc::clone(&layer),
            started,
            checkpoint,
        });
        self.mem.refreeze();
        self.mem.publish();
        if let Err(err) = self.applier.send(Batch { layer, commit }) {
            self.applier_failed(err);
        }
        if checkpoint {
            self.stats.writer_busy(started.elapsed());
        }
    }

    /// Takes in what the applier finished (waiting for one result if
    /// `wait`) and drops those layers from the memtable.
    fn collect_applied(&mut self, wait: bool) {
        let mut applied = false;
        while !self.mem.pending.is_empty() && self.poisoned.is_none() {
            let result = if wait && !applied {
                self.applier.wait_result()
            } else {
                match self.applier.try_result() {
                    Some(result) => result,
                    None => break,
                }
            };
            if let Err(err) = result {
                self.applier_failed(err);
                break;
            }
            let done = self.mem.pending.pop_front().expect("pending");
            applied = true;
            if done.checkpoint {
                if let Some(log) = &mut self.log {
                    log.wal.retire_inactive();
                }
                let took = done.started.elapsed();
                self.stats.durable(took);
                tracing::debug!(elapsed = ?took, "checkpoint durable");
            }
        }
        if applied {
            self.mem.refreeze();
            self.mem.publish();
        }
    }

    /// The applier failed: redb's state is unknown past its last durable
    /// commit, but the log holds every record since, so the store stops
    /// taking writes (its frozen layers stay readable) and reopening it
    /// recovers.
    fn applier_failed(&mut self, err: StoreError) {
        tracing::error!(error = %err, "applying writes to the database file failed; the store refuses writes until it is reopened");
        self.poisoned.get_or_insert(err);
    }

    /// Runs `group[0]` and whatever else is queued (within the group limits)
    /// and, if they wrote, logs and publishes their writes. Calls drained
    /// from the queue are appended to `group` before they run, so each is
    /// finished even if the group fails part-way.
    fn commit_group(&mut self, group: &mut Vec<Box<dyn Job>>) -> Result<(), StoreError> {
        if let Some(err) = &self.poisoned {
            return Err(err.clone());
        }
        let mut record = match &mut self.log {
            Some(log) => {
                let mut record = std::mem::take(&mut log.record);
                wal::begin_record(&mut record);
                Some(record)
            }
            None => None,
        };
        // A pointer copy: the group's writes are undone by putting it back.
        let before = self.mem.active.clone();
        let result = self.run_group(group, record.as_mut());
        if let (Some(log), Some(record)) = (&mut self.log, record) {
            log.record = record;
        }
        if result.is_err() {
            self.mem.active = before;
        }
        result
    }

    fn run_group(
        &mut self,
        group: &mut Vec<Box<dyn Job>>,
        mut record: Option<&mut Vec<u8>>,
    ) -> Result<(), StoreError> {
        let table = open_table(&self.db)?;
        let wrote = self.run_calls(table.as_ref(), group, record.as_deref_mut())?;
        if !wrote {
            // Nothing to log or publish. Earlier groups are already durable,
            // so anything these calls read is too.
            return Ok(());
        }
        #[cfg(test)]
        if fails_for_test(&self.mem.active) {
            return Err(StoreError::Closed);
        }
        if let (Some(log), Some(record)) = (&mut self.log, record) {
            if let Err(err) = log.wal.append(record).and_then(|_| log.wal.sync()) {
                self.poisoned = Some(err.clone());
                return Err(err);
            }
        }
        let now = Instant::now();
        self.mem.active_since.get_or_insert(now);
        if self.log.is_some() {
            self.mem.oldest_record.get_or_insert(now);
        }
        self.mem.publish();
        Ok(())
    }

    /// Returns whether any call wrote something. With `record`, also logs
    /// each absorbed call's ops there, in the order absorbed.
    fn run_calls(
        &mut self,
        table: Option<&KvReadTable>,
        group: &mut Vec<Box<dyn Job>>,
        mut record: Option<&mut Vec<u8>>,
    ) -> Result<bool, StoreError> {
        let mut wrote = false;
        let mut bytes = 0usize;
        let mut next = 0;
        loop {
            let base = Base {
                stack: Stack {
                    overlay: None,
                    active: Some(&self.mem.active),
                    frozen: &self.mem.frozen,
                },
                table,
            };
            if let Some(overlay) = group[next].run(base) {
                bytes += overlay.bytes();
                if !overlay.is_empty() {
                    wrote = true;
                    if let Some(out) = record.as_deref_mut() {
                        overlay.encode(out);
                    }
                    self.mem.active.absorb(overlay);
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
fn fails_for_test(active: &Layer) -> bool {
    matches!(
        active.lookup(FAIL_GROUP_KEY),
        crate::overlay::Lookup::Value(_)
    )
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
