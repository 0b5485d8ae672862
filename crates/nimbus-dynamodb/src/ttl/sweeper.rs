//! The TTL sweeper: a background thread that deletes expired items.
//!
//! It wakes every [`SWEEP_INTERVAL`] and at once after every clock advance
//! (so a test that advances the clock sees expired items go within
//! milliseconds), reads each TTL-enabled table's expiry index up to now,
//! and deletes each due item in its own store write through
//! `replace_item`, the path DeleteItem uses, so indexes and stats stay
//! consistent and no write is ever partial. The writes of one round are
//! issued together, so group commit makes them one fsync.
//!
//! It holds the service weakly and stops when the service is dropped or
//! the store is closed.

use std::ops::Bound;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nimbus_store::{ReadView, StoreError, WriteTxn};

use super::{expiry_key, expiry_ms, expiry_prefix, parse_expiry_key, MAX_EXPIRED_AGE_MS};
use crate::catalog::Table;
use crate::error::Result;
use crate::layout::decode_stored;
use crate::ops::items::parse_stored;
use crate::ops::write::replace_item_by;
use crate::streams::Origin;
use crate::{DynamoDb, Inner};

/// How often the sweeper looks without being woken by a clock advance.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Most due entries one round reads per table before writing them.
const ROUND_LIMIT: usize = 1000;

/// Starts the sweeper thread for `db`.
pub fn spawn(db: &DynamoDb) -> std::io::Result<()> {
    crate::background::spawn_rounds(db, "nimbus-ttl", SWEEP_INTERVAL, |weak| async move {
        sweep_round(&weak).await
    })
}

/// One round over every TTL-enabled table; false when the sweeper should
/// stop (service dropped, store closed).
async fn sweep_round(weak: &Weak<Inner>) -> bool {
    let Some(inner) = weak.upgrade() else {
        return false;
    };
    let db = DynamoDb { inner };
    for table in db.catalog.all() {
        if table.live_ttl().is_none() {
            continue;
        }
        loop {
            match sweep_table(&db, &table).await {
                Ok(Swept::All) => break,
                Ok(Swept::More) => continue,
                Err(Stop::Closed) => return false,
                Err(Stop::Failed(message)) => {
                    tracing::warn!(table = %table.def.name, "TTL sweep failed: {message}");
                    break;
                }
            }
        }
    }
    true
}

enum Swept {
    /// Every due entry was handled.
    All,
    /// The round limit was reached; more may be due.
    More,
}

enum Stop {
    Closed,
    Failed(String),
}

/// Deletes the due items of one table (up to the round limit).
async fn sweep_table(db: &DynamoDb, table: &Arc<Table>) -> std::result::Result<Swept, Stop> {
    let now = db.clock.now_ms();
    let number = table.def.number;
    let snapshot = db.store.snapshot().map_err(|e| match e {
        StoreError::Closed => Stop::Closed,
        other => Stop::Failed(other.to_string()),
    })?;
    let start = expiry_prefix(number);
    // Every entry expiring at or before `now`.
    let end = expiry_key(number, now.saturating_add(1), &[]);
    let mut due = Vec::new();
    snapshot
        .scan(
            Bound::Included(&start[..]),
            Bound::Excluded(&end[..]),
            false,
            &mut |k, _| {
                if let Some((at, item_key)) = parse_expiry_key(number, k) {
                    due.push((at, item_key.to_vec()));
                }
                due.len() < ROUND_LIMIT
            },
        )
        .map_err(|e| Stop::Failed(e.to_string()))?;
    drop(snapshot);
    let full = due.len() == ROUND_LIMIT;
    let writes: Vec<_> = due
        .into_iter()
        .map(|(at, item_key)| {
            let db = db.clone();
            let t = table.clone();
            tokio::spawn(async move {
                let clock = db.clock.clone();
                db.store
                    .write(move |txn: &mut WriteTxn<'_>| {
                        expire_one(txn, &t, at, &item_key, clock.now_ms())
                    })
                    .await
            })
        })
        .collect();
    let mut deleted = 0;
    let mut failure = None;
    for write in writes {
        match write.await {
            Ok(Ok(true)) => deleted += 1,
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                let e = e.into_aws();
                failure = Some(format!("{}: {}", e.code, e.message));
            }
            Err(join) => failure = Some(join.to_string()),
        }
    }
    if deleted > 0 {
        tracing::debug!(table = %table.def.name, deleted, "TTL deleted expired items");
    }
    match failure {
        Some(message) => Err(Stop::Failed(message)),
        None if full => Ok(Swept::More),
        None => Ok(Swept::All),
    }
}

/// Inside one store write: deletes the item an expiry entry points at if it
/// is still there, still TTL-enabled and still expired; returns whether it
/// deleted it. Entries that no longer match are removed.
fn expire_one(
    txn: &mut WriteTxn<'_>,
    table: &Table,
    at: u64,
    item_key: &[u8],
    now: u64,
) -> Result<bool> {
    let number = table.def.number;
    let entry = expiry_key(number, at, item_key);
    // Dropped, or TTL disabled since the scan: that write removed the
    // entries already.
    if table.is_dropped() {
        return Ok(false);
    }
    let Some(attribute) = table.live_ttl() else {
        return Ok(false);
    };
    // Rewritten or deleted since the scan.
    if txn.get(&entry)?.is_none() {
        return Ok(false);
    }
    let Some(stored) = txn.get(item_key)? else {
        txn.delete(&entry);
        return Ok(false);
    };
    let item = parse_stored(decode_stored(&stored).1)?;
    if expiry_ms(&item, &attribute) != Some(at) || at > now {
        // Cannot happen while the index invariant holds; never delete on
        // an entry that disagrees with the item.
        txn.delete(&entry);
        return Ok(false);
    }
    if now - at > MAX_EXPIRED_AGE_MS {
        // AWS's rule: an expiry more than five years past is ignored. The
        // item stays; the entry goes, since the clock only moves forward.
        txn.delete(&entry);
        return Ok(false);
    }
    record_ttl_removal(txn, table, item_key, &stored)?;
    Ok(true)
}

/// Deletes an expired item as DynamoDB itself: through the one item-write
/// path, whose stream record (on a stream-enabled table) is the REMOVE with
/// `userIdentity` `{"type": "Service", "principalId":
/// "dynamodb.amazonaws.com"}`, in the same write as the delete, so
/// consumers can tell expiry from a user's DeleteItem.
fn record_ttl_removal(
    txn: &mut WriteTxn<'_>,
    table: &Table,
    item_key: &[u8],
    stored: &[u8],
) -> Result<()> {
    replace_item_by(txn, table, item_key, Some(stored), None, Origin::TimeToLive)?;
    Ok(())
}
