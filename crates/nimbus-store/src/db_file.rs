//! The redb file's storage backend: redb's own file backend, except that a
//! checkpoint's fsync runs on a background thread (the syncer) instead of
//! inside the commit on the writer thread, and that the syncer keeps the
//! kernel writing the file's pages back as they come.
//!
//! Why: a checkpoint is one durable redb commit, and most of its cost (100 to
//! 800 ms on this project's disk) was the `fdatasync` of every page written
//! since the last one. redb runs it inside `WriteTransaction::commit`, and no
//! other write transaction can begin meanwhile, so every write queued behind
//! a checkpoint waited that long. Here the writer arms [`SyncGate::defer_next`]
//! before the checkpoint's commit; redb's `sync_data` then only hands the
//! fsync to the syncer and returns, and the writer goes back to logging and
//! committing groups (non-durably) while the disk works. The writer learns
//! from [`SyncGate::poll`] when the checkpoint became durable, and only then
//! may reuse the log file holding the records it covers (see `wal`).
//!
//! # Invariants (why this is crash-safe)
//!
//! - **What redb's crash safety rests on.** redb (1-phase commit with
//!   checksums, its default) writes a durable commit's pages, then its header
//!   (both commit slots, the new one primary), then syncs once; recovery
//!   takes the primary slot only if the checksums of what it points to hold,
//!   else the other slot. Non-durable commits write no header at all (they
//!   change the in-memory one only), and nothing overwrites a page the last
//!   durable state uses before the next durable commit: between durable
//!   commits redb reuses only pages allocated after the last one.
//!   So whatever subset of its writes reaches the disk, a crash recovers the
//!   last durable commit whose header and pages all did.
//! - **Early writeback is safe.** Pages redb writes between durable commits
//!   (evictions from its write buffer) are pages no durable state uses, and
//!   the header on disk does not change; writing them back sooner than the
//!   kernel would (`sync_file_range`, below) changes nothing a crash can
//!   recover. Any fsync is safe for the same reason: it persists nothing the
//!   kernel might not have written back on its own at any moment.
//! - **Nothing reaches the file after a deferred sync until that sync has
//!   finished.** Once the checkpoint's commit returns, redb believes it
//!   durable and may reuse pages the previous durable state uses. Every
//!   `write` (and every shrinking `set_len`) waits while a deferred sync is
//!   outstanding, so the disk holds the commit's writes, in whatever subset
//!   the kernel persisted, and none after it: what a crash in the middle of
//!   redb's own fsync would leave. Writes are rare meanwhile: non-durable
//!   commits keep their pages in redb's in-memory write buffer, so only
//!   evictions from it would wait, and the writer starts no durable commit.
//! - **A non-deferred sync is a plain fsync**, run at once even while a
//!   deferred one is outstanding (redb syncs after growing the file, possibly
//!   mid-transaction, and should not wait out a checkpoint): recovery,
//!   shutdown and file growth keep redb's usual behaviour. Growing the file
//!   is not held back either.
//! - **A failed deferred sync poisons the file.** Its pages' fate on disk is
//!   unknown (Linux may have dropped them), so every later write, resize and
//!   sync fails; redb then fails every transaction, and the write-ahead log
//!   still holds every record the failed checkpoint should have covered.
//!
//! # What was measured (`store_bench --mode latency`, 8,000 writes/s)
//!
//! - Deferring the fsync (kept): the writer's share of a checkpoint went
//!   from 340-440 ms to 40-70 ms; what is left is redb's own commit work
//!   (processing the pages freed and allocated since the last durable
//!   commit, flushing its ~32 MiB write buffer), measured before it calls
//!   `sync_data`.
//! - Early writeback every 50 ms (kept): without it the pages piled up in
//!   the page cache (the kernel starts only past 10% of RAM or after 30 s),
//!   and the checkpoint fsync wrote them in one burst, during which every
//!   write-ahead log fsync queued behind it: p99 fell from ~100-200 ms to
//!   ~45-80 ms with it.
//! - Smaller checkpoints (not kept): 8 MiB or 2 MiB instead of 64 MiB cut
//!   each checkpoint's writer time far less than proportionally (37 ms and
//!   14 ms) and doubled to tripled the writes slower than 10 ms.
//! - Holding the checkpoint's page writes in memory for the syncer to write
//!   (not kept): the commit took as long, since the time is redb's
//!   bookkeeping, not `pwrite`.
//! - A smaller page cache (16 MiB, not kept): smaller checkpoints, but many
//!   more buffer evictions, so more disk writes and slower log fsyncs.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// The shared state of one database file's syncs.
#[derive(Debug, Default)]
pub(crate) struct SyncGate {
    state: Mutex<GateState>,
    changed: Condvar,
    /// redb wrote to the file since the syncer last started writeback.
    written: AtomicBool,
}

#[derive(Debug, Default)]
struct GateState {
    /// The next `sync_data` call is a checkpoint's: defer it.
    defer_next: bool,
    /// Deferred syncs requested / finished so far (tickets).
    requested: u64,
    finished: u64,
    /// How long the last finished deferred sync took.
    last_took: Duration,
    /// A deferred sync failed: the file's contents on disk are unknown.
    failed: Option<Arc<io::Error>>,
    /// The backend was closed: the syncer thread exits.
    closed: bool,
}

/// What [`SyncGate::poll`] reports about a ticket.
#[derive(Debug)]
pub(crate) enum SyncState {
    Pending,
    /// Durable; the fsync took this long.
    Done(Duration),
    Failed(Arc<io::Error>),
}

impl SyncGate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the next `sync_data` redb issues (the checkpoint's commit)
    /// return at once, with the fsync running in the background.
    pub(crate) fn defer_next(&self) {
        self.lock().defer_next = true;
    }

    /// Disarms [`defer_next`](Self::defer_next) and returns the ticket of
    /// the deferred sync it caused, if redb synced at all.
    pub(crate) fn take_deferred(&self, before: u64) -> Option<u64> {
        let mut state = self.lock();
        state.defer_next = false;
        (state.requested > before).then_some(state.requested)
    }

    /// The ticket number of the latest deferred sync requested.
    pub(crate) fn requested(&self) -> u64 {
        self.lock().requested
    }

    /// Whether the deferred sync with this ticket has finished.
    pub(crate) fn poll(&self, ticket: u64) -> SyncState {
        let state = self.lock();
        if let Some(err) = &state.failed {
            SyncState::Failed(Arc::clone(err))
        } else if state.finished >= ticket {
            SyncState::Done(state.last_took)
        } else {
            SyncState::Pending
        }
    }

    /// Blocks until no deferred sync is outstanding.
    pub(crate) fn wait_idle(&self) -> Result<(), Arc<io::Error>> {
        let state = self.wait_quiet();
        match &state.failed {
            Some(err) => Err(Arc::clone(err)),
            None => Ok(()),
        }
    }

    fn wait_quiet(&self) -> MutexGuard<'_, GateState> {
        let mut state = self.lock();
        while state.finished < state.requested && state.failed.is_none() {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
    }
}

/// How often the syncer starts writeback of pages redb wrote (evicted from
/// its write buffer, or a checkpoint's) while no fsync is outstanding.
/// Without it they pile up in the page cache (the kernel starts on them only
/// past 10% of RAM or after 30 s) and the next checkpoint's fsync, or the
/// kernel's flusher, writes hundreds of megabytes in one burst, during which
/// every write-ahead log fsync queues behind it.
const EARLY_WRITEBACK_EVERY: Duration = Duration::from_millis(50);

/// redb's file backend behind a [`SyncGate`].
#[derive(Debug)]
pub(crate) struct GatedFile {
    file: Arc<FileBackend>,
    gate: Arc<SyncGate>,
}

impl GatedFile {
    /// Opens (or creates) the database file as redb's `Builder::create`
    /// would, and starts its syncer thread.
    pub(crate) fn open(path: &Path) -> io::Result<(GatedFile, Arc<SyncGate>)> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        GatedFile::new(file)
    }

    fn new(file: File) -> io::Result<(GatedFile, Arc<SyncGate>)> {
        let raw = file.try_clone()?;
        let file = Arc::new(FileBackend::new(file).map_err(io::Error::other)?);
        let gate = Arc::new(SyncGate::default());
        let (for_thread, gate_for_thread) = (Arc::clone(&file), Arc::clone(&gate));
        thread::Builder::new()
            .name("nimbus-store-syncer".into())
            .spawn(move || run_syncer(&for_thread, &raw, &gate_for_thread))?;
        let backend = GatedFile {
            file,
            gate: Arc::clone(&gate),
        };
        Ok((backend, gate))
    }

    /// Waits out any outstanding deferred sync; fails if one failed.
    fn quiet(&self) -> io::Result<()> {
        self.gate.wait_idle().map_err(|e| {
            io::Error::new(e.kind(), format!("an earlier checkpoint sync failed: {e}"))
        })
    }
}

/// The syncer thread: runs each requested deferred fsync, one at a time,
/// and in between starts writeback of whatever redb wrote (see
/// [`EARLY_WRITEBACK_EVERY`]).
fn run_syncer(file: &FileBackend, raw: &File, gate: &SyncGate) {
    let mut state = gate.lock();
    loop {
        if state.finished < state.requested {
            let target = state.requested;
            drop(state);
            let started = Instant::now();
            let result = file.sync_data();
            state = gate.lock();
            match result {
                Ok(()) => {
                    state.finished = target;
                    state.last_took = started.elapsed();
                }
                Err(err) => {
                    tracing::error!(error = %err, "checkpoint fsync failed");
                    state.failed = Some(Arc::new(err));
                }
            }
            gate.changed.notify_all();
            if state.failed.is_some() {
                return;
            }
            continue;
        }
        if state.closed {
            return;
        }
        state = gate
            .changed
            .wait_timeout(state, EARLY_WRITEBACK_EVERY)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if gate.written.swap(false, Ordering::Relaxed) {
            drop(state);
            start_writeback(raw);
            state = gate.lock();
        }
    }
}

/// Asks the kernel to start writing the file's dirty pages now, without
/// waiting for them and without a cache flush (`sync_file_range(2)` with
/// `SYNC_FILE_RANGE_WRITE`). Best effort: an error only means the pages are
/// written later, by the kernel or by the next checkpoint's fsync.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain syscall on a file descriptor this thread keeps open.
    let rc = unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    if rc != 0 {
        tracing::debug!(error = %io::Error::last_os_error(), "sync_file_range");
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}

impl StorageBackend for GatedFile {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        // Reads are never held back: they change nothing on disk.
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        // A shrink could cut pages the previous durable state uses; growing
        // (redb does it mid-transaction) is harmless at any time.
        if len < self.file.len()? {
            self.quiet()?;
        }
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut state = self.gate.lock();
        if let Some(err) = &state.failed {
            return Err(io::Error::new(err.kind(), err.to_string()));
        }
        if state.defer_next {
            // One deferred sync at a time (the writer never starts a
            // checkpoint before the last is durable; this is a backstop).
            drop(state);
            state = self.gate.wait_quiet();
            if let Some(err) = &state.failed {
                return Err(io::Error::new(err.kind(), err.to_string()));
            }
            state.defer_next = false;
            state.requested += 1;
            self.gate.changed.notify_all();
            return Ok(());
        }
        // Not a checkpoint's (redb growing the file, recovery, shutdown):
        // an fsync now, alongside any deferred one, is always safe.
        drop(state);
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.quiet()?;
        self.file.write(offset, data)?;
        self.gate.written.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        // Let an outstanding checkpoint finish (its result is the writer's
        // business), then stop the syncer.
        let mut state = self.gate.wait_quiet();
        state.closed = true;
        self.gate.changed.notify_all();
        drop(state);
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}
