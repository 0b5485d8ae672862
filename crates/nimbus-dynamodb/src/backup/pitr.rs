//! Point-in-time recovery: each PITR-enabled table's change history, written
//! in the same store write as the item change it undoes.
//!
//! Keyspaces (see `backup` for the rest):
//! - `P` table number (u64 BE) -> the table's [`PitrState`] (JSON), present
//!   while PITR is enabled.
//! - `H` table number (u64 BE) | change time (ms, u64 BE) | sequence (u64
//!   BE) -> the changed item's key (without its table prefix) and its image
//!   before the change, or "absent" (see [`encode_record`]).
//!
//! Invariants:
//! - While PITR is enabled on a table, every item change of it has its
//!   history record: [`record`] is called from the one item-write path
//!   (`ops::write::replace_item`) inside the write that changes the item, so
//!   no change commits without its record, across crashes. A write that
//!   changes nothing (same bytes) records nothing.
//! - History keys of a table increase in commit order: the writer thread
//!   assigns them, the time is clamped to never go backwards and the
//!   sequence always grows, also across disable / enable and restarts
//!   (both resume from the table's last key).
//! - So the table's state at time T is its current state with every change
//!   after T undone, newest first, using the old images: the restore does
//!   exactly that (`backup::restore`).
//! - History older than the recovery period, and all history of tables
//!   whose PITR is off or that are gone, is deleted by the janitor, never
//!   past the restore time of a point-in-time restore still reading it.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use nimbus_clock::Clock;
use nimbus_store::{ReadView, WriteTxn};
use serde::{Deserialize, Serialize};

use crate::error::{DynamoError, Result};
use crate::layout;

pub const PITR_STATE_TAG: u8 = b'P';
pub const HISTORY_TAG: u8 = b'H';

/// AWS's recovery period when none is given, and its maximum.
pub const DEFAULT_PERIOD_DAYS: u32 = 35;
pub const DAY_MS: u64 = 24 * 3600 * 1000;

/// What is stored for a table while PITR is enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitrState {
    /// When PITR was (last) enabled: the earliest restorable time at first.
    pub enabled_ms: u64,
    /// RecoveryPeriodInDays (1-35).
    pub period_days: u32,
}

impl PitrState {
    /// EarliestRestorableDateTime at `now`: the later of the enable time
    /// and the start of the recovery period.
    pub fn earliest_ms(&self, now_ms: u64) -> u64 {
        self.enabled_ms
            .max(now_ms.saturating_sub(self.period_days as u64 * DAY_MS))
    }
}

/// A PITR-enabled table's live log: its settings and where its history
/// keys continue.
pub struct PitrLog {
    state: RwLock<PitrState>,
    /// The time of the last record: later records never go below it.
    last_ms: AtomicU64,
    next_seq: AtomicU64,
    clock: Clock,
}

impl std::fmt::Debug for PitrLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PitrLog")
            .field("state", &self.state())
            .finish()
    }
}

impl PitrLog {
    /// A log continuing after `last` (the table's last history key, if any).
    pub fn new(state: PitrState, last: Option<(u64, u64)>, clock: Clock) -> PitrLog {
        let (last_ms, last_seq) = last.map_or((0, None), |(at, seq)| (at, Some(seq)));
        PitrLog {
            state: RwLock::new(state),
            last_ms: AtomicU64::new(last_ms),
            next_seq: AtomicU64::new(last_seq.map_or(0, |s| s + 1)),
            clock,
        }
    }

    pub fn state(&self) -> PitrState {
        *self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_period(&self, days: u32) {
        self.state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .period_days = days;
    }
}

pub fn state_key(table_number: u64) -> [u8; 9] {
    layout::numbered_key(PITR_STATE_TAG, table_number)
}

/// Prefix of every history record of one table.
pub fn history_prefix(table_number: u64) -> [u8; 9] {
    layout::numbered_key(HISTORY_TAG, table_number)
}

pub fn history_key(table_number: u64, at_ms: u64, seq: u64) -> [u8; 25] {
    let mut k = [0u8; 25];
    k[..9].copy_from_slice(&history_prefix(table_number));
    k[9..17].copy_from_slice(&at_ms.to_be_bytes());
    k[17..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// `(table number, time, sequence)` of a history key.
pub fn parse_history_key(key: &[u8]) -> Option<(u64, u64, u64)> {
    if key.len() != 25 || key[0] != HISTORY_TAG {
        return None;
    }
    let n = |r: std::ops::Range<usize>| u64::from_be_bytes(key[r].try_into().expect("8 bytes"));
    Some((n(1..9), n(9..17), n(17..25)))
}

/// A history value: a flag (1: an old image follows), the item key's
/// length (u32 LE), the item key without its table prefix, then the old
/// stored value.
pub fn encode_record(item_key: &[u8], old: Option<&[u8]>) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + item_key.len() + old.map_or(0, <[u8]>::len));
    v.push(old.is_some() as u8);
    v.extend_from_slice(&(item_key.len() as u32).to_le_bytes());
    v.extend_from_slice(item_key);
    if let Some(old) = old {
        v.extend_from_slice(old);
    }
    v
}

/// The item key (without table prefix) and old image of a history value.
pub fn decode_record(v: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (&flag, rest) = v.split_first()?;
    let (len, rest) = rest.split_at_checked(4)?;
    let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
    let (key, old) = rest.split_at_checked(len)?;
    match flag {
        0 if old.is_empty() => Some((key, None)),
        1 => Some((key, Some(old))),
        _ => None,
    }
}

/// Inside an item's store write: records the change of the item stored at
/// `key` from `old` to `new` (stored values). Nothing for a write that
/// changes nothing.
pub(crate) fn record(
    txn: &mut WriteTxn<'_>,
    log: &PitrLog,
    table_number: u64,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) {
    if old == new {
        return;
    }
    let now = log.clock.now_ms();
    let at = log.last_ms.fetch_max(now, Ordering::AcqRel).max(now);
    let seq = log.next_seq.fetch_add(1, Ordering::AcqRel);
    // Every item key starts with its 9-byte table prefix.
    let item_key = key.get(9..).unwrap_or_default();
    txn.put(
        &history_key(table_number, at, seq),
        &encode_record(item_key, old),
    );
}

/// The last history key of a table: `(time, sequence)`.
pub fn last_history(view: &impl ReadView, table_number: u64) -> Result<Option<(u64, u64)>> {
    let prefix = history_prefix(table_number);
    let end = layout::prefix_end(&prefix);
    let mut last = None;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        true,
        &mut |k, _| {
            last = parse_history_key(k).map(|(_, at, seq)| (at, seq));
            false
        },
    )?;
    Ok(last)
}

pub fn read_state(view: &impl ReadView, table_number: u64) -> Result<Option<PitrState>> {
    view.get_with(&state_key(table_number), |v| serde_json::from_slice(v))?
        .transpose()
        .map_err(|e| DynamoError::Internal(format!("a stored PITR setting is unreadable: {e}")))
}

/// Every stored PITR setting, by table number.
pub fn load_states(view: &impl ReadView) -> Result<Vec<(u64, PitrState)>> {
    super::load_numbered(view, PITR_STATE_TAG, "PITR setting")
}

/// Inside the write that enables PITR (or changes its period): stores the
/// setting and, if PITR was off, switches item writes to a new log that
/// continues after the table's last history key.
pub(crate) fn enable(
    txn: &mut WriteTxn<'_>,
    table: &crate::catalog::Table,
    clock: &Clock,
    period_days: Option<u32>,
) -> Result<PitrState> {
    let number = table.def.number;
    let state = match table.live_pitr() {
        Some(log) => {
            if let Some(days) = period_days {
                log.set_period(days);
            }
            log.state()
        }
        None => {
            let last = last_history(txn, number)?;
            // Never before the last record of an earlier enabled spell, so
            // no restore window reaches back into history with a gap.
            let enabled_ms = clock.now_ms().max(last.map_or(0, |(at, _)| at));
            let state = PitrState {
                enabled_ms,
                period_days: period_days.unwrap_or(DEFAULT_PERIOD_DAYS),
            };
            let log = PitrLog::new(state, last, clock.clone());
            table.switch_live_pitr(txn, Some(std::sync::Arc::new(log)));
            state
        }
    };
    txn.put(
        &state_key(number),
        &serde_json::to_vec(&state).expect("PITR settings serialize"),
    );
    Ok(state)
}

/// Inside the write that disables PITR: item writes stop recording; the
/// janitor deletes the history.
pub(crate) fn disable(txn: &mut WriteTxn<'_>, table: &crate::catalog::Table) {
    txn.delete(&state_key(table.def.number));
    table.switch_live_pitr(txn, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let v = encode_record(b"key", Some(b"\x01\0\0\0{}"));
        assert_eq!(
            decode_record(&v),
            Some((&b"key"[..], Some(&b"\x01\0\0\0{}"[..])))
        );
        let v = encode_record(b"key", None);
        assert_eq!(decode_record(&v), Some((&b"key"[..], None)));
        assert_eq!(decode_record(b"\x02\0"), None);
    }

    #[test]
    fn history_keys_order_by_time_then_sequence() {
        let a = history_key(7, 1000, 5);
        let b = history_key(7, 1001, 0);
        let c = history_key(7, 1001, 1);
        assert!(a < b && b < c);
        assert_eq!(parse_history_key(&c), Some((7, 1001, 1)));
        assert!(history_key(6, u64::MAX, u64::MAX) < a);
    }

    #[test]
    fn earliest_is_the_later_of_enable_and_period_start() {
        let s = PitrState {
            enabled_ms: 10 * DAY_MS,
            period_days: 1,
        };
        assert_eq!(s.earliest_ms(10 * DAY_MS + 5), 10 * DAY_MS);
        assert_eq!(s.earliest_ms(13 * DAY_MS), 12 * DAY_MS);
    }
}
