//! The stream trimmer: a background thread that deletes records older
//! than the 24-hour retention, and disabled streams 24 hours after they
//! closed, by the injectable clock.
//!
//! It wakes every [`TRIM_INTERVAL`] and after every clock advance. Each
//! stream's old records go in writes of at most [`BATCH`] records that also
//! move the stream's `trimmed_before`, so readers see either the records or
//! the trim, never neither; the same write forgets the closed shards whose
//! records are all gone, so DescribeStream stops listing them. It holds the
//! service weakly and stops when the service is dropped or the store
//! closes.

use std::ops::Bound;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nimbus_store::{ReadView, WriteTxn};

use super::{record_key, record_number, records_prefix, stream_key, Stream, RETENTION_MS};
use crate::background::Stop;
use crate::error::Result;
use crate::layout;
use crate::{DynamoDb, Inner};

pub const TRIM_INTERVAL: Duration = Duration::from_secs(30);

/// Most records one trim write deletes.
const BATCH: usize = 1000;

pub fn spawn(db: &DynamoDb) -> std::io::Result<()> {
    crate::background::spawn_rounds(db, "nimbus-stream-trim", TRIM_INTERVAL, |weak| async move {
        trim_round(&weak).await
    })
}

/// One pass over every stream; false when the trimmer should stop.
async fn trim_round(weak: &Weak<Inner>) -> bool {
    let Some(inner) = weak.upgrade() else {
        return false;
    };
    let db = DynamoDb { inner };
    for stream in db.streams.all() {
        loop {
            match trim_stream(&db, &stream).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(Stop::Closed) => return false,
                Err(Stop::Failed(e)) => {
                    tracing::warn!(stream = %stream.meta().arn, "stream trim failed: {e}");
                    break;
                }
            }
        }
    }
    true
}

/// Trims one batch of a stream; true when more may be due.
async fn trim_stream(db: &DynamoDb, stream: &Arc<Stream>) -> std::result::Result<bool, Stop> {
    let now = db.clock.now_ms();
    let horizon = now.saturating_sub(RETENTION_MS);
    let meta = stream.meta();
    let expired_stream = meta.closed.is_some_and(|c| c.at_ms < horizon);
    // Which numbers are past retention, from a snapshot (records are in
    // creation order, so the first young one ends the run).
    let snapshot = db.store.snapshot()?;
    let start = record_key(meta.id, meta.trimmed_before);
    let end = layout::prefix_end(&records_prefix(meta.id));
    let mut last_old = None;
    let mut count = 0;
    snapshot.scan(
        Bound::Included(&start[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            let created = v
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            if created >= horizon && !expired_stream {
                return false;
            }
            last_old = record_number(k);
            count += 1;
            count < BATCH
        },
    )?;
    drop(snapshot);
    if last_old.is_none() && !expired_stream {
        return Ok(false);
    }
    let s = stream.clone();
    let id = meta.id;
    let done = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<bool> {
            let from = record_key(id, 0);
            if let Some(last) = last_old {
                let to = record_key(id, last + 1);
                txn.delete_range(Bound::Included(&from[..]), Bound::Excluded(&to[..]))?;
            }
            if expired_stream && count < BATCH {
                // Past retention and empty now: the stream itself goes.
                let end = layout::prefix_end(&records_prefix(id));
                txn.delete_range(Bound::Included(&from[..]), Bound::Excluded(&end[..]))?;
                super::shards::delete_all(txn, id)?;
                txn.delete(&stream_key(id));
                return Ok(true);
            }
            if let Some(last) = last_old {
                let mut meta = s.meta();
                meta.trimmed_before = meta.trimmed_before.max(last + 1);
                super::shards::forget_trimmed(txn, &meta, meta.trimmed_before)?;
                // In memory only once nothing can fail any more.
                let meta = s.update_meta(|m| m.trimmed_before = m.trimmed_before.max(last + 1));
                super::write_meta(txn, &meta);
            }
            Ok(false)
        })
        .await
        .map_err(|e| Stop::Failed(e.into_aws().message))?;
    if done {
        super::unregister(&db.streams, &meta.arn);
        return Ok(false);
    }
    Ok(count == BATCH)
}
