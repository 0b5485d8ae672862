//! The writer thread and group commit.
//!
//! Invariants:
//! - Exactly one thread (this one) opens write transactions on the database,
//!   so calls run one at a time, in the order the channel delivered them.
//! - A group is one redb write transaction. Each call in it runs against the
//!   table as left by the calls before it; a call's overlay is applied only if
//!   the call returned `Ok`.
//! - Every call taken from the channel is finished exactly once, and only
//!   after its group's transaction has committed (fsync'ed in durable mode) or
//!   been abandoned. If the transaction fails, every call in the group that
//!   would have written gets the error; none of them was applied.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;

use redb::Database;
use tokio::sync::oneshot;

use crate::dir_lock::DirLock;
use crate::overlay::Overlay;
use crate::read::KV;
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

pub(crate) struct Writer {
    pub(crate) db: Arc<Database>,
    pub(crate) jobs: Receiver<Box<dyn Job>>,
    pub(crate) max_group_calls: usize,
    pub(crate) max_group_bytes: usize,
    /// The data directory's lock (durable mode), held until this thread
    /// exits, i.e. until after the last commit this process will make.
    pub(crate) _lock: Option<DirLock>,
}

impl Writer {
    /// Serves groups until every sender is gone and the queue is drained.
    pub(crate) fn run(self) {
        while let Ok(first) = self.jobs.recv() {
            let mut group = vec![first];
            let result = self.commit_group(&mut group);
            if let Err(err) = &result {
                tracing::error!(error = %err, calls = group.len(), "group commit failed");
            }
            for call in group {
                call.finish(result.clone());
            }
        }
    }

    /// Runs `group[0]` and whatever else is queued (within the group limits)
    /// in one transaction and commits it. Calls drained from the queue are
    /// appended to `group` before they run, so each is finished even if the
    /// transaction fails part-way.
    fn commit_group(&self, group: &mut Vec<Box<dyn Job>>) -> Result<(), StoreError> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| StoreError::storage("begin a write transaction", e))?;
        match self.run_calls(&txn, group) {
            Ok(true) => txn
                .commit()
                .map_err(|e| StoreError::storage("commit a write transaction", e)),
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
        }
    }

    /// Returns whether any call wrote something.
    fn run_calls(
        &self,
        txn: &redb::WriteTransaction,
        group: &mut Vec<Box<dyn Job>>,
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
                    overlay.apply(&mut table)?;
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
