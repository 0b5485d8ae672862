//! nimbus-store: an ordered key-value store (byte keys, byte values,
//! lexicographic order) with snapshot reads and group-committed atomic
//! writes, on [redb](https://docs.rs/redb).
//!
//! Every service keeps its state here. One redb table, `kv`, holds all keys;
//! services carve it up with key prefixes of their own.
//!
//! # Invariants
//!
//! - **Durability.** In durable mode, an `Ok` from [`Store::write`] or
//!   [`Store::write_blocking`] means the call's writes are on disk and
//!   survive `kill -9` or power loss: the group holding them was appended to
//!   the write-ahead log (`<dir>/wal` and `<dir>/wal.1`, used in turn) as one
//!   checksummed record and synced (`fdatasync`) before its redb transaction
//!   was committed (non-durably) and before any caller in it was answered.
//!   In-memory mode ([`Store::in_memory`]) keeps nothing across restarts and
//!   has no log.
//! - **Log and database agree.** The durable redb state is exactly "every
//!   log record up to the checkpoint sequence number stored in it". A
//!   checkpoint (a durable redb commit) starts when the log grows past a
//!   size, is old, the store is idle, or it closes; the log then continues in
//!   a new generation in its other file, while the checkpoint's fsync runs in
//!   the background, and the old generation's file is reused only once the
//!   checkpoint is durable. Each generation has its own random salt in every
//!   record's checksum, so only its own records validate. Opening replays
//!   the valid records of both files after the checkpoint, in order, stopping
//!   at the first torn or corrupt one (an unacknowledged group), then
//!   checkpoints. A clean `close` leaves nothing to replay.
//! - **Atomicity per call.** A write call's writes are applied all together or
//!   not at all: they are buffered while its closure runs and discarded if it
//!   returns `Err` or panics, or if its group fails to commit.
//! - **Memory follows the store.** A call that changes in-memory state
//!   inside its closure (so later calls see it at once) registers how to
//!   put it back with [`WriteTxn::on_abort`]; the writer runs those undos
//!   whenever the call's writes are not committed, so a service's memory
//!   never claims a write the store lost.
//! - **Isolation.** Write calls run one at a time on a single writer thread,
//!   in submission order. A call sees every write of the calls before it,
//!   including those in the same, not yet committed, group; it sees its own
//!   writes too. There are no write conflicts to retry.
//! - **Snapshots never see partial groups, nor undurable ones.** A
//!   [`Snapshot`] is a redb read transaction: it sees exactly the groups
//!   committed before it was taken, and a group is committed only once its
//!   log record is durable.
//!   A call's result is delivered only after its group commits, so a snapshot
//!   taken after an `Ok` sees that call's writes.
//! - **One owner per directory.** An open durable store holds an exclusive OS
//!   lock on `<dir>/LOCK`, taken before the database is opened; a second
//!   opener fails with [`StoreError::Locked`] without touching the database.
//!
//! # Layout
//!
//! - [`store`](Store): opening, the shared handle, shutdown.
//! - `writer`: the writer thread, group commit, when to checkpoint.
//! - `wal`: the write-ahead log file and its record format.
//! - `redo`: a group's writes as ops, applied live and in replay alike.
//! - `checkpoint`: checkpoints and recovery on open.
//! - `db_file`: the redb file's backend, which runs checkpoint fsyncs off the
//!   writer thread.
//! - `write_txn` / `overlay`: a write call's view and its buffered writes.
//! - `read`: [`ReadView`], [`Snapshot`], table access shared by both.
//! - `stats`: checkpoint counters ([`Store::checkpoint_stats`]).
//! - `keys`: prefix scans' end keys and stored counters, for services.
//! - `dir_lock`, `bounds`, `error`, `options`: small supporting pieces.

mod applier;
mod bounds;
mod checkpoint;
mod db_file;
mod dir_lock;
mod error;
mod keys;
mod layer;
mod memtable;
mod merge;
mod options;
mod overlay;
mod priority;
mod read;
#[cfg(test)]
mod recovery_tests;
mod redo;
mod stats;
mod store;
mod wal;
mod write_txn;
mod writer;

pub use error::StoreError;
pub use keys::{prefix_end, read_u64};
pub use options::StoreOptions;
pub use overlay::MAX_ENTRY_BYTES;
pub use read::{ReadView, Snapshot};
pub use stats::CheckpointStats;
pub use store::{Store, DB_FILE};
pub use write_txn::WriteTxn;
