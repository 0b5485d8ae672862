//! Checkpoint counters, for benchmarks and metrics.
//!
//! The writer thread records each checkpoint's two costs separately: how long
//! the writer itself was busy with it (every write queued meanwhile waits that
//! long) and how long until the checkpoint was durable (the fsync of the
//! database file, which need not block writes).

use std::sync::Mutex;
use std::time::Duration;

/// Totals since the store was opened. Plain numbers: cheap to copy out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Checkpoints started (their commit returned), and those of them that
    /// became durable; `started - count` is 1 while one is in flight.
    pub started: u64,
    pub count: u64,
    /// Time the writer thread spent in checkpoints, in total and at most once.
    pub writer_busy_total: Duration,
    pub writer_busy_max: Duration,
    /// From a checkpoint's start until it was durable, in total and at most.
    pub durable_total: Duration,
    pub durable_max: Duration,
}

#[derive(Default)]
pub(crate) struct StatsCell(Mutex<CheckpointStats>);

impl StatsCell {
    pub(crate) fn writer_busy(&self, took: Duration) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.started += 1;
        s.writer_busy_total += took;
        s.writer_busy_max = s.writer_busy_max.max(took);
    }

    pub(crate) fn durable(&self, took: Duration) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.count += 1;
        s.durable_total += took;
        s.durable_max = s.durable_max.max(took);
    }

    pub(crate) fn get(&self) -> CheckpointStats {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
