//! Exclusive ownership of a data directory.
//!
//! Invariant: while a `DirLock` is alive, this process holds an exclusive OS
//! lock (flock on Unix) on `<dir>/LOCK`, and no other `DirLock` for the same
//! directory can exist, in this process or any other. The lock is taken
//! *before* the database file is opened, so a second nimbus never touches the
//! database (not even to run recovery) while the first is running. The OS drops
//! the lock when the process dies, so a `kill -9` never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::StoreError;

pub(crate) const LOCK_FILE: &str = "LOCK";

#[derive(Debug)]
pub(crate) struct DirLock {
    // Held only for its lock; closing the file releases it.
    _file: File,
}

impl DirLock {
    /// Creates `dir` if needed and locks it, failing at once (never waiting)
    /// with `StoreError::Locked` if someone else holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::io("create data directory", dir, e))?;
            // Make the new directory's own entry durable, or a power loss could
            // take the directory, and every acknowledged write in it, away.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("open lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Locked {
                dir: display_dir(dir),
            }),
            Err(TryLockError::Error(e)) => Err(StoreError::io("lock", path, e)),
        }
    }
}

/// fsyncs a directory, making the entries created in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("sync directory", dir, e))
}

/// The directory as the user would recognise it in an error message.
fn display_dir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}
