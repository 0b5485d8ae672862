//! The in-flight message limit: how many messages of a queue may be
//! received and not yet deleted (nor visible again) at once.
//!
//! AWS documents about 120,000 for standard queues and 120,000 for FIFO
//! queues (raised from 20,000). At the limit a standard queue answers a
//! short poll with OverLimit and a long poll with no messages; a FIFO
//! queue never answers with an error, it returns no messages. nimbus does
//! the same.
//!
//! Counting in-flight messages means scanning the visibility index, so it
//! is not done on every receive. Each queue keeps an upper bound instead:
//! the count at the last scan plus every message delivered since (only a
//! receive puts a message in flight; deletes and expiring visibility
//! timeouts only take them out). While the bound plus the messages asked
//! for stays under the limit, a receive needs no scan; when it would not,
//! one scan (stopping at the limit) gives the exact count and resets it.
//! The bound lives in memory: after a restart the first receive scans.
//! Every check runs inside the receive's store write, which is serialized,
//! so concurrent receivers cannot overshoot the limit together.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Mutex, PoisonError};

use nimbus_store::ReadView;

use crate::error::Result;
use crate::model;

/// AWS's limits (SQS developer guide, standard and FIFO queue quotas).
pub const STANDARD_LIMIT: u64 = 120_000;
pub const FIFO_LIMIT: u64 = 120_000;

/// The limits a server enforces. Only tests lower them (`nimbus serve
/// --sqs-max-inflight`), to reach them without 120,000 messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub standard: u64,
    pub fifo: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            standard: STANDARD_LIMIT,
            fifo: FIFO_LIMIT,
        }
    }
}

impl Limits {
    /// The same limit for both queue types.
    pub fn both(limit: u64) -> Limits {
        Limits {
            standard: limit,
            fifo: limit,
        }
    }

    pub fn for_queue(&self, fifo: bool) -> u64 {
        if fifo {
            self.fifo
        } else {
            self.standard
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Upper {
    /// In flight at the last scan.
    counted: u64,
    /// Delivered since that scan.
    delivered: u64,
    /// A receive found the queue at the limit (and may be long polling):
    /// the next delete must wake the queue's waiting receivers, which a
    /// delete on a standard queue otherwise does not.
    waiting: bool,
}

/// Per queue id, the upper bound on its messages in flight.
#[derive(Default)]
pub struct Bounds {
    queues: Mutex<HashMap<u64, Upper>>,
}

impl Bounds {
    /// How many of `wanted` messages a receive may deliver now without
    /// passing `limit`: `wanted` while the bound allows it, else what an
    /// exact count leaves (0 at the limit). Call inside the receive's
    /// store write, with its view.
    pub fn capacity(
        &self,
        view: &impl ReadView,
        queue_id: u64,
        limit: u64,
        wanted: usize,
        now_ms: u64,
    ) -> Result<usize> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(u) = queues.get(&queue_id) {
            if u.counted + u.delivered + wanted as u64 <= limit {
                return Ok(wanted);
            }
        }
        let counted = count_in_flight(view, queue_id, now_ms, limit)?;
        let room = limit.saturating_sub(counted).min(wanted as u64) as usize;
        // Set inside the receive's write: a delete whose write comes later
        // sees it, and one that came earlier was already counted.
        let waiting = room == 0 || queues.get(&queue_id).is_some_and(|u| u.waiting);
        queues.insert(
            queue_id,
            Upper {
                counted,
                delivered: 0,
                waiting,
            },
        );
        Ok(room)
    }

    /// Whether a receive was held back by the limit since the last call;
    /// clears the mark (a receive still at the limit sets it again).
    pub fn take_waiting(&self, queue_id: u64) -> bool {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        queues
            .get_mut(&queue_id)
            .is_some_and(|u| std::mem::replace(&mut u.waiting, false))
    }

    /// Notes `n` messages delivered by a receive.
    pub fn delivered(&self, queue_id: u64, n: usize) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(u) = queues.get_mut(&queue_id) {
            u.delivered += n as u64;
        }
    }

    pub fn forget(&self, queue_id: u64) {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&queue_id);
    }
}

/// Messages of the queue received and still invisible at `now_ms`
/// (delayed messages, never received, are not in flight), counted up to
/// `stop_at`.
pub fn count_in_flight(
    view: &impl ReadView,
    queue_id: u64,
    now_ms: u64,
    stop_at: u64,
) -> Result<u64> {
    let lower = model::visibility_key(queue_id, now_ms.saturating_add(1), 0);
    let upper = model::prefix_end(&model::visibility_prefix(queue_id));
    let mut n = 0;
    view.scan(
        Bound::Included(&lower[..]),
        Bound::Excluded(&upper[..]),
        false,
        &mut |_, v| {
            if model::parse_visibility_value(v).is_some_and(|(_, received)| received) {
                n += 1;
            }
            n < stop_at
        },
    )?;
    Ok(n)
}
