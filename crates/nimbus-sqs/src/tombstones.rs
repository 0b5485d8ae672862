//! QueueDeletedRecently: after DeleteQueue, AWS refuses to create a queue
//! of the same name (same account and region) for 60 seconds.
//!
//! A deleted queue leaves a tombstone in the store, written in the delete's
//! own write, so the rule holds across restarts; time is the server's
//! clock, so tests move past the 60 seconds with `/_nimbus/clock/advance`.
//! Each tombstone has a second entry ordered by time (`sy`), so every
//! delete sweeps the expired ones without a full scan, and a create of the
//! same name removes an expired one it finds.

use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};

use crate::error::{Result, SqsError};
use crate::model;

/// How long a deleted queue's name stays unavailable.
pub const NAME_HELD_MS: u64 = 60_000;

/// Expired tombstones one delete removes at most, so its cost stays bounded.
const SWEEP_PER_DELETE: usize = 64;

fn name_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = model::queue_key(account, region, name);
    k[1] = b'x';
    k
}

fn time_key(deleted_ms: u64, account: &str, region: &str, name: &str) -> Vec<u8> {
    let queue_key = model::queue_key(account, region, name);
    let mut k = Vec::with_capacity(queue_key.len() + 8);
    k.extend_from_slice(b"sy");
    k.extend_from_slice(&deleted_ms.to_be_bytes());
    // The queue key without its `sq` prefix: account/region/name.
    k.extend_from_slice(&queue_key[2..]);
    k
}

/// Records, in the delete's write, that the queue was deleted at `now_ms`,
/// and sweeps tombstones whose 60 seconds are over.
pub fn record(
    txn: &mut WriteTxn<'_>,
    account: &str,
    region: &str,
    name: &str,
    now_ms: u64,
) -> Result<()> {
    let key = name_key(account, region, name);
    if let Some(previous) = txn.get(&key)? {
        txn.delete(&time_key(
            model::read_u64(Some(previous)),
            account,
            region,
            name,
        ));
    }
    txn.put(&key, &now_ms.to_be_bytes());
    txn.put(&time_key(now_ms, account, region, name), &[]);
    sweep(txn, now_ms)
}

/// Refuses a create of `name` while its tombstone is younger than 60
/// seconds; removes an older one.
pub fn check(
    txn: &mut WriteTxn<'_>,
    account: &str,
    region: &str,
    name: &str,
    now_ms: u64,
) -> Result<()> {
    let key = name_key(account, region, name);
    let Some(value) = txn.get(&key)? else {
        return Ok(());
    };
    let deleted = model::read_u64(Some(value));
    if now_ms < deleted.saturating_add(NAME_HELD_MS) {
        return Err(SqsError::queue_deleted_recently());
    }
    txn.delete(&key);
    txn.delete(&time_key(deleted, account, region, name));
    Ok(())
}

/// Removes up to [`SWEEP_PER_DELETE`] tombstones older than 60 seconds.
fn sweep(txn: &mut WriteTxn<'_>, now_ms: u64) -> Result<()> {
    let lower = b"sy".to_vec();
    let upper = time_key(now_ms.saturating_sub(NAME_HELD_MS), "", "", "");
    let mut expired = Vec::new();
    txn.scan(
        Bound::Included(&lower[..]),
        Bound::Excluded(&upper[..]),
        false,
        &mut |k, _| {
            expired.push(k.to_vec());
            expired.len() < SWEEP_PER_DELETE
        },
    )?;
    for k in expired {
        txn.delete(&k);
        // sy | time (8 bytes) | account/region/name: the name entry is sx
        // followed by the same account/region/name.
        let mut name_entry = b"sx".to_vec();
        name_entry.extend_from_slice(&k[10..]);
        txn.delete(&name_entry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(name_key("1", "r", "q"), b"sx1/r/q".to_vec());
        let t = time_key(5, "1", "r", "q");
        assert_eq!(&t[..2], b"sy");
        assert_eq!(&t[10..], b"1/r/q");
        assert!(time_key(4, "9", "r", "q") < t);
    }
}
