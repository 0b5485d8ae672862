//! Tuning knobs for [`crate::Store::open`].

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
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_size_bytes: 64 * 1024 * 1024,
            max_group_calls: 1024,
            max_group_bytes: 64 * 1024 * 1024,
        }
    }
}
