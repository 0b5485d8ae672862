//! The applier thread: writes each frozen memtable layer into redb in one
//! commit (see `checkpoint`), off the writer thread, so that redb's work
//! and a checkpoint's fsync never hold up a write.
//!
//! Invariant: it applies one layer at a time, in the order sent, and
//! reports each result once, in the same order.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use redb::Database;

use crate::checkpoint::{self, Commit};
use crate::layer::Layer;
use crate::StoreError;

/// A frozen layer and how to commit it.
pub(crate) struct Batch {
    pub(crate) layer: Arc<Layer>,
    pub(crate) commit: Commit,
}

pub(crate) struct Applier {
    batches: Option<Sender<Batch>>,
    results: Receiver<Result<(), StoreError>>,
    thread: Option<JoinHandle<()>>,
}

impl Applier {
    pub(crate) fn start(db: Arc<Database>) -> std::io::Result<Applier> {
        let (batches, inbox) = mpsc::channel::<Batch>();
        let (outbox, results) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("nimbus-store-applier".into())
            .spawn(move || {
                crate::priority::set_thread_nice(crate::store::APPLIER_NICE);
                for batch in inbox {
                    let result = checkpoint::apply_layer(&db, &batch.layer, batch.commit);
                    if outbox.send(result).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Applier {
            batches: Some(batches),
            results,
            thread: Some(thread),
        })
    }

    pub(crate) fn send(&self, batch: Batch) -> Result<(), StoreError> {
        self.batches
            .as_ref()
            .and_then(|tx| tx.send(batch).ok())
            .ok_or_else(gone)
    }

    /// The result of the oldest layer not yet reported, if it is in.
    pub(crate) fn try_result(&self) -> Option<Result<(), StoreError>> {
        match self.results.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(gone())),
        }
    }

    /// Waits for the result of the oldest layer not yet reported.
    pub(crate) fn wait_result(&self) -> Result<(), StoreError> {
        self.results.recv().unwrap_or_else(|_| Err(gone()))
    }
}

impl Drop for Applier {
    /// Lets the thread finish what it was sent, then joins it.
    fn drop(&mut self) {
        drop(self.batches.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the store applier thread panicked");
            }
        }
    }
}

fn gone() -> StoreError {
    StoreError::io(
        "apply a checkpoint",
        std::path::PathBuf::new(),
        std::io::Error::other("the applier thread is gone"),
    )
}
