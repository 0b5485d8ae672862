//! The redb file's storage backend: redb's own file backend, plus a thread
//! (the syncer) that keeps the kernel writing the file's pages back as they
//! come.
//!
//! Why: only checkpoints write the file (the applier thread's durable
//! commits, see `checkpoint`), and each one's fsync would otherwise find
//! every page it wrote, and every page evicted from redb's write buffer
//! since the last one, still dirty in the page cache (the kernel starts on
//! them only past 10% of RAM or after 30 s), and write them in one burst,
//! during which every write-ahead log fsync queues behind it.
//!
//! # Invariants (why this is crash-safe)
//!
//! - Early writeback changes nothing a crash can recover: redb (1-phase
//!   commit with checksums, its default) never overwrites a page the last
//!   durable state uses before the next durable commit, and takes a commit's
//!   header only if the checksums of what it points to hold. Writing pages
//!   back sooner than the kernel would (`sync_file_range`, below) persists
//!   nothing the kernel might not have written back on its own at any moment.
//! - Every other call is redb's file backend's own, so redb's durability
//!   (its `sync_data` is an `fdatasync`) is unchanged.
//!
//! # What was measured (`store_bench --mode latency`, 8,000 writes/s)
//!
//! - Early writeback every 50 ms (kept): without it the pages piled up in
//!   the page cache and the checkpoint fsync wrote them in one burst, during
//!   which every write-ahead log fsync queued behind it: p99 fell from
//!   ~100-200 ms to ~45-80 ms with it (when checkpoints still ran on the
//!   writer thread).
//! - A smaller page cache (16 MiB, not kept): smaller checkpoints, but many
//!   more buffer evictions, so more disk writes and slower log fsyncs.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// What the syncer thread shares with the backend.
#[derive(Debug, Default)]
struct Syncer {
    /// Set once the backend is closed: the syncer thread exits.
    closed: Mutex<bool>,
    changed: Condvar,
    /// redb wrote to the file since the syncer last started writeback.
    written: AtomicBool,
}

/// How often the syncer starts writeback of pages redb wrote (evicted from
/// its write buffer, or a checkpoint's) while no fsync is outstanding.
/// Without it they pile up in the page cache (the kernel starts on them only
/// past 10% of RAM or after 30 s) and the next checkpoint's fsync, or the
/// kernel's flusher, writes hundreds of megabytes in one burst, during which
/// every write-ahead log fsync queues behind it.
const EARLY_WRITEBACK_EVERY: Duration = Duration::from_millis(50);

/// redb's file backend with early writeback.
#[derive(Debug)]
pub(crate) struct DbFile {
    file: FileBackend,
    syncer: Arc<Syncer>,
}

impl DbFile {
    /// Opens (or creates) the database file as redb's `Builder::create`
    /// would, and starts its syncer thread.
    pub(crate) fn open(path: &Path) -> io::Result<DbFile> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let raw = file.try_clone()?;
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        let syncer = Arc::new(Syncer::default());
        let for_thread = Arc::clone(&syncer);
        thread::Builder::new()
            .name("nimbus-store-syncer".into())
            .spawn(move || run_syncer(&raw, &for_thread))?;
        Ok(DbFile { file, syncer })
    }
}

/// The syncer thread: every [`EARLY_WRITEBACK_EVERY`], starts writeback of
/// whatever redb wrote meanwhile, until the backend closes.
fn run_syncer(raw: &File, syncer: &Syncer) {
    let mut closed = syncer.closed.lock().unwrap_or_else(|e| e.into_inner());
    while !*closed {
        closed = syncer
            .changed
            .wait_timeout(closed, EARLY_WRITEBACK_EVERY)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if syncer.written.swap(false, Ordering::Relaxed) {
            drop(closed);
            start_writeback(raw);
            closed = syncer.closed.lock().unwrap_or_else(|e| e.into_inner());
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

impl StorageBackend for DbFile {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write(offset, data)?;
        self.syncer.written.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        *self.syncer.closed.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.syncer.changed.notify_all();
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
