//! [`Store`]: opening, the handle shared by the whole server, and shutdown.
//!
//! Invariants:
//! - While a `Store` is open it holds one redb `Database` and one writer
//!   thread. The writer thread owns the data directory's [`DirLock`] and
//!   drops it only when it exits, after its last commit, so the lock is never
//!   free while this process can still write the file.
//! - After `close` begins, no new write is accepted (`StoreError::Closed`);
//!   writes already queued still run and commit before `close` returns.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, PoisonError, RwLock};
use std::thread::{self, JoinHandle};

use redb::{backends::InMemoryBackend, Database, DatabaseError};
use tokio::sync::oneshot;

use crate::applier::Applier;
use crate::checkpoint;
use crate::db_file::DbFile;
use crate::dir_lock::{sync_dir, DirLock};
use crate::memtable::Published;
use crate::read::Snapshot;
use crate::stats::{CheckpointStats, StatsCell};
use crate::write_txn::WriteTxn;
use crate::writer::{Call, Job, LogState, Memtable, Reply, Writer};
use crate::{StoreError, StoreOptions};

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "nimbus.redb";

/// The in-memory database already lives in RAM; a large page cache would
/// only hold second copies of its pages.
const IN_MEMORY_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// Scheduling priorities (nice values) of the store's threads: the writer
/// above the request workers (0), the applier, whose work is only bounded by
/// the memtable's size, below them.
const WRITER_NICE: i32 = -10;
pub(crate) const APPLIER_NICE: i32 = 5;

/// Handle to an open store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    durable: bool,
    stats: Arc<StatsCell>,
    state: RwLock<Option<Open>>,
}

struct Open {
    db: Arc<Database>,
    /// The memtable as readers see it.
    published: Arc<Published>,
    jobs: mpsc::Sender<Box<dyn Job>>,
    writer: JoinHandle<()>,
}

impl Store {
    /// Opens or creates `dir`, takes an exclusive OS file lock on `<dir>/LOCK`
    /// (before touching the database, so a second process on the same dir
    /// fails at once with `StoreError::Locked` and never corrupts it), then
    /// opens or creates `<dir>/nimbus.redb`, recovering it after a crash, and
    /// replays the write-ahead log `<dir>/wal` into it (see the crate docs).
    pub fn open(dir: &Path, opts: &StoreOptions) -> Result<Store, StoreError> {
        let lock = DirLock::acquire(dir)?;
        let path = dir.join(DB_FILE);
        let fresh = !path.exists();
        let file =
            DbFile::open(&path).map_err(|e| StoreError::io("open the database file", &path, e))?;
        let db = redb::Builder::new()
            .set_cache_size(opts.cache_size_bytes)
            .create_with_backend(file)
            .map_err(|e| match e {
                // Only possible if something other than nimbus holds the file.
                DatabaseError::DatabaseAlreadyOpen => StoreError::Locked {
                    dir: dir.to_path_buf(),
                },
                e => StoreError::OpenDatabase {
                    path: path.clone(),
                    source: Arc::new(e.into()),
                },
            })?;
        if fresh {
            // redb fsyncs the file's contents, not its directory entry: without
            // this a power loss could lose the new file and what it acknowledged.
            sync_dir(dir)?;
        }
        let wal = checkpoint::recover(&db, dir)?;
        let log = LogState {
            wal,
            record: Vec::new(),
        };
        Store::start(db, Some(log), Some(lock), opts)
    }

    /// A store held entirely in memory: nothing survives the process, and
    /// commits never fsync.
    pub fn in_memory() -> Result<Store, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(IN_MEMORY_CACHE_BYTES)
            .create_with_backend(InMemoryBackend::new())
            .map_err(|e| StoreError::storage("create an in-memory database", e))?;
        // Commits stay `Durability::Immediate`: the in-memory backend's sync is
        // a no-op, and non-durable commits would keep freed pages from being
        // reused until a durable one, growing memory without bound.
        Store::start(db, None, None, &StoreOptions::default())
    }

    fn start(
        db: Database,
        log: Option<LogState>,
        lock: Option<DirLock>,
        opts: &StoreOptions,
    ) -> Result<Store, StoreError> {
        let durable = log.is_some();
        let db = Arc::new(db);
        let stats = Arc::new(StatsCell::default());
        let published = Arc::new(Published::default());
        let applier = Applier::start(Arc::clone(&db))
            .map_err(|e| StoreError::io("spawn the applier thread", PathBuf::new(), e))?;
        let (jobs, queue) = mpsc::channel();
        let writer = Writer {
            db: Arc::clone(&db),
            jobs: queue,
            max_group_calls: opts.max_group_calls.max(1),
            max_group_bytes: opts.max_group_bytes,
            log,
            poisoned: None,
            mem: Memtable::new(Arc::clone(&published), opts),
            applier,
            stats: Arc::clone(&stats),
            _lock: lock,
        };
        let writer = thread::Builder::new()
            .name("nimbus-store-writer".into())
            .spawn(move || {
                // Every write waits for this thread; on a busy machine it
                // should not queue behind request workers for a time slice.
                crate::priority::set_thread_nice(WRITER_NICE);
                writer.run()
            })
            .map_err(|e| StoreError::io("spawn the writer thread", PathBuf::new(), e))?;
        Ok(Store {
            inner: Arc::new(Inner {
                durable,
                stats,
                state: RwLock::new(Some(Open {
                    db,
                    published,
                    jobs,
                    writer,
                })),
            }),
        })
    }

    pub fn is_durable(&self) -> bool {
        self.inner.durable
    }

    /// Checkpoint counts and costs since the store was opened.
    pub fn checkpoint_stats(&self) -> CheckpointStats {
        self.inner.stats.get()
    }

    /// A consistent point-in-time read view (redb read transaction).
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let state = self
            .inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let open = state.as_ref().ok_or(StoreError::Closed)?;
        Snapshot::begin(&open.db, &open.published)
    }

    /// Runs `f` on the single writer thread inside a write transaction shared
    /// with other concurrent callers (group commit); resolves only after the
    /// transaction holding this call's writes is durable (its write-ahead log
    /// record synced, in durable mode) and committed.
    ///
    /// If `f` returns `Err`, none of its writes are applied and the `Err` is
    /// returned; other callers in the same group are unaffected. If the commit
    /// fails, every caller in the group gets the `StoreError`. A panic in `f`
    /// discards its writes and is resumed in the caller.
    ///
    /// The call is queued when the future is first polled; once queued it runs
    /// and commits even if the future is dropped.
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut WriteTxn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(Box::new(Call::new(f, Reply::Async(tx))))?;
        match rx.await {
            Ok(delivery) => delivery.into_result(),
            // The writer dropped the call unfinished: it is gone.
            Err(_) => Err(E::from(StoreError::Closed)),
        }
    }

    /// Same as [`Store::write`], blocking the calling thread (for start-up code
    /// and tests; not from async tasks).
    pub fn write_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut WriteTxn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(Box::new(Call::new(f, Reply::Blocking(tx))))?;
        match rx.recv() {
            Ok(delivery) => delivery.into_result(),
            Err(_) => Err(E::from(StoreError::Closed)),
        }
    }

    fn submit(&self, call: Box<dyn Job>) -> Result<(), StoreError> {
        let state = self
            .inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let open = state.as_ref().ok_or(StoreError::Closed)?;
        open.jobs.send(call).map_err(|_| StoreError::Closed)
    }

    /// Stops accepting writes, lets queued writes commit, joins the writer
    /// thread (which checkpoints, leaving an empty write-ahead log, and
    /// releases the directory lock as it exits), and drops the database.
    /// Idempotent.
    /// Also done on drop of the last clone.
    ///
    /// Snapshots still alive keep the database file open (read-only) until
    /// they are dropped.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Inner {
    fn close(&self) {
        // Take the state out and release the RwLock at once: a queued call may
        // itself use a `Store` handle, which must see `Closed`, not deadlock.
        let open = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(Open {
            db, jobs, writer, ..
        }) = open
        else {
            return;
        };
        // Disconnecting the channel ends the writer once the queue is empty.
        drop(jobs);
        if writer.thread().id() == thread::current().id() {
            // The last handle was dropped inside a write call on the writer
            // thread itself. It cannot join itself; it exits on its own once
            // the queue is drained, releasing the directory lock then.
            tracing::debug!("store closed from its writer thread");
        } else if writer.join().is_err() {
            tracing::error!("the store writer thread panicked");
        }
        drop(db);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}
