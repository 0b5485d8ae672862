//! The one error type of the store.
//!
//! `StoreError` is `Clone` because a failed group commit is reported to every
//! caller in the group: the underlying `io::Error` / `redb::Error` are shared
//! behind an `Arc` rather than flattened into strings, so callers can still
//! walk the `source()` chain.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another `Store` in this process) holds the
    /// directory's lock file.
    #[error(
        "data directory {} is locked: another nimbus is using it (stop it, or choose another data directory)",
        dir.display()
    )]
    Locked { dir: PathBuf },

    /// A file-system operation on the data directory failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: Arc<io::Error>,
    },

    /// The database file could not be opened (or recovered after a crash).
    #[error("cannot open database file {}: {source}", path.display())]
    OpenDatabase {
        path: PathBuf,
        #[source]
        source: Arc<redb::Error>,
    },

    /// The storage engine (redb) failed; `op` says what the store was doing.
    #[error("storage engine failed to {op}: {source}")]
    Storage {
        op: &'static str,
        #[source]
        source: Arc<redb::Error>,
    },

    /// A `put` exceeded the per-entry size limit. Only the offending call fails.
    #[error("entry of {key_len}-byte key and {value_len}-byte value exceeds the {limit}-byte entry limit")]
    EntryTooLarge {
        key_len: usize,
        value_len: usize,
        limit: usize,
    },

    /// The store was closed (explicitly or by dropping its last handle).
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    /// Wraps any redb error (each of its error enums converts into `redb::Error`).
    pub(crate) fn storage(op: &'static str, err: impl Into<redb::Error>) -> StoreError {
        StoreError::Storage {
            op,
            source: Arc::new(err.into()),
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, err: io::Error) -> StoreError {
        StoreError::Io {
            op,
            path: path.into(),
            source: Arc::new(err),
        }
    }
}
