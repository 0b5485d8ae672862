//! Tuning knobs for [`crate::Store::open`].

use std::time::Duration;

/// Options for opening a durable store. `Default` gives the server's settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Upper bound on redb's page cache. The cache fills lazily, so an idle
    /// server on a small database stays far below this.
    pub cache_size_bytes: usize,
    /// Most write calls folded into one group commit. Larger groups amortise
    /// the fsync further but delay the first caller's reply.
    pub max_group_calls: usize,
    /// Stop adding calls to a group once their buffered writes exceed this
    /// many bytes, so one commit's dirty pages stay bounded in memory.
    pub max_group_bytes: usize,
    /// How far redb may trail the write-ahead log: the memtable's active
    /// layer is handed to the applier thread once its first write is this
    /// old (or it holds 4 MiB). Smaller means fewer, smaller layers for
    /// reads to look through, but more, smaller redb commits.
    pub apply_every: Duration,
    /// Checkpoint (a durable redb commit, then a new write-ahead log
    /// generation) once the log holds this many bytes. Bounds the log's size
    /// (each of its two files grows to about this), the redb memory held by
    /// non-durable commits, and recovery time after a crash. The applier
    /// thread makes it, so writes do not wait for it.
    pub wal_checkpoint_bytes: u64,
    /// Checkpoint once the oldest record in the log is this old, even under
    /// steady load.
    pub wal_checkpoint_interval: Duration,
    /// Checkpoint once no write has arrived for this long and the log is not
    /// empty, so checkpoints tend to happen off the hot path.
    pub wal_idle_checkpoint: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_size_bytes: 64 * 1024 * 1024,
            max_group_calls: 1024,
            max_group_bytes: 64 * 1024 * 1024,
            apply_every: Duration::from_millis(20),
            wal_checkpoint_bytes: 64 * 1024 * 1024,
            wal_checkpoint_interval: Duration::from_secs(30),
            wal_idle_checkpoint: Duration::from_millis(500),
        }
    }
}
