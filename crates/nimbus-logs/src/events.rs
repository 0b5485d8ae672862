//! Writing events: PutLogEvents, and [`append`] for other services.
//!
//! Both end in [`store_events`], which writes each event under its two keys
//! and updates the stream's and group's counters, inside the caller's one
//! write call.

use nimbus_store::WriteTxn;
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{LogsError, Result};
use crate::model::{self, GroupRecord, StreamRecord, DAY_MS};
use crate::request::{self, Object};
use crate::{groups, keys, streams, Logs};

pub const MAX_BATCH_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// What AWS adds to each message's UTF-8 size when sizing a batch.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
pub const MAX_PAST_MS: i64 = 14 * DAY_MS;
pub const MAX_FUTURE_MS: i64 = 2 * 60 * 60 * 1000;
pub const MAX_SPAN_MS: i64 = DAY_MS;

/// One event as a request carries it.
struct InputEvent {
    timestamp: i64,
    message: String,
}

fn input_events(req: &Object) -> Result<Vec<InputEvent>> {
    let items = match req.get("logEvents") {
        None | Some(Value::Null) => return Err(LogsError::missing("logEvents")),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(LogsError::Serialization(
                "Expected a list for member 'logEvents'".into(),
            ))
        }
    };
    if items.is_empty() {
        return Err(LogsError::validation(
            "[]",
            "logEvents",
            "Member must have length greater than or equal to 1",
        ));
    }
    if items.len() > MAX_BATCH_EVENTS {
        return Err(LogsError::validation(
            format!("list of {} events", items.len()),
            "logEvents",
            "Member must have length less than or equal to 10000",
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(LogsError::Serialization(
                "Expected an object in member 'logEvents'".into(),
            ));
        };
        let member = |name: &str| format!("logEvents.{}.member.{name}", i + 1);
        let timestamp = request::opt_i64(obj, "timestamp")?
            .ok_or_else(|| LogsError::missing(&member("timestamp")))?;
        if timestamp < 0 {
            return Err(LogsError::validation(
                timestamp,
                &member("timestamp"),
                "Member must have value greater than or equal to 0",
            ));
        }
        let message = request::opt_str(obj, "message")?
            .ok_or_else(|| LogsError::missing(&member("message")))?;
        if message.is_empty() {
            return Err(LogsError::validation(
                "",
                &member("message"),
                "Member must have length greater than or equal to 1",
            ));
        }
        out.push(InputEvent {
            timestamp,
            message: message.to_owned(),
        });
    }
    Ok(out)
}

/// Which events of a sorted batch AWS would reject for their age, as
/// PutLogEvents reports them.
#[derive(Debug, Default, PartialEq)]
pub struct Rejected {
    /// Events before this index are older than 14 days (exclusive end).
    pub too_old_end: usize,
    /// Events before this index precede the group's retention period.
    pub expired_end: usize,
    /// Events from this index on are more than 2 hours in the future.
    pub too_new_start: usize,
}

pub fn classify(timestamps: &[i64], now: i64, retention_cutoff: Option<i64>) -> Rejected {
    let too_old_end = timestamps.partition_point(|&t| t < now - MAX_PAST_MS);
    let expired_end = retention_cutoff.map_or(0, |c| timestamps.partition_point(|&t| t < c));
    let too_new_start = timestamps.partition_point(|&t| t <= now + MAX_FUTURE_MS);
    Rejected {
        too_old_end,
        expired_end,
        too_new_start,
    }
}

pub async fn put_log_events(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let group_name = request::group_name(req)?.to_owned();
    let stream_name = request::stream_name(req)?.to_owned();
    // Sequence tokens are accepted and ignored, as AWS does since 2023.
    request::opt_str(req, "sequenceToken")?;
    let events = input_events(req)?;
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(LogsError::InvalidParameter(
            "Log events in a single PutLogEvents request must be in chronological order.".into(),
        ));
    }
    let size: usize = events
        .iter()
        .map(|e| e.message.len() + EVENT_OVERHEAD_BYTES)
        .sum();
    if size > MAX_BATCH_BYTES {
        return Err(LogsError::InvalidParameter(format!(
            "Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    let now = logs.now_ms();
    logs.store()
        .write(move |txn| {
            let mut group = model::require_group(txn, &account, &region, &group_name)?;
            let mut stream = model::require_stream(txn, group.id, &stream_name)?;
            let timestamps: Vec<i64> = events.iter().map(|e| e.timestamp).collect();
            let rejected = classify(&timestamps, now, group.retention_cutoff(now));
            let first = rejected.too_old_end.max(rejected.expired_end);
            let last = rejected.too_new_start.max(first);
            let accepted = &events[first..last];
            if let (Some(a), Some(b)) = (accepted.first(), accepted.last()) {
                if b.timestamp - a.timestamp > MAX_SPAN_MS {
                    return Err(LogsError::InvalidParameter(
                        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
                            .into(),
                    ));
                }
            }
            store_events(
                txn,
                &mut group,
                &mut stream,
                accepted.iter().map(|e| (e.timestamp, e.message.as_str())),
                now,
            );
            streams::put_stream(txn, group.id, &stream);
            groups::put_group(txn, &account, &region, &group);
            let mut out = json!({ "nextSequenceToken": model::sequence_token(stream.next_seq) });
            let mut info = serde_json::Map::new();
            if rejected.too_old_end > 0 {
                info.insert("tooOldLogEventEndIndex".into(), json!(rejected.too_old_end));
            }
            if rejected.expired_end > 0 {
                info.insert("expiredLogEventEndIndex".into(), json!(rejected.expired_end));
            }
            if rejected.too_new_start < events.len() {
                info.insert("tooNewLogEventStartIndex".into(), json!(rejected.too_new_start));
            }
            if !info.is_empty() {
                out["rejectedLogEventsInfo"] = Value::Object(info);
            }
            Ok(out)
        })
        .await
}

/// Writes events (in timestamp order) to `stream` of `group` and updates
/// both records in memory; the caller writes the records.
pub(crate) fn store_events<'m>(
    txn: &mut WriteTxn<'_>,
    group: &mut GroupRecord,
    stream: &mut StreamRecord,
    events: impl Iterator<Item = (i64, &'m str)>,
    now: i64,
) {
    let (mut time_key, mut stream_key, mut value) = (
        Vec::with_capacity(keys::EVENT_KEY_LEN),
        Vec::with_capacity(keys::EVENT_KEY_LEN),
        Vec::new(),
    );
    let mut wrote = false;
    for (ts, message) in events {
        let seq = stream.next_seq;
        stream.next_seq += 1;
        keys::event_keys(group.id, stream.id, ts, seq, &mut time_key, &mut stream_key);
        model::encode_event(now, message, &mut value);
        txn.put(&time_key, &value);
        txn.put(&stream_key, &[]);
        let bytes = message.len() as u64;
        stream.stored_bytes += bytes;
        group.stored_bytes += bytes;
        stream.first_event_ms = Some(stream.first_event_ms.map_or(ts, |f| f.min(ts)));
        stream.last_event_ms = Some(stream.last_event_ms.map_or(ts, |l| l.max(ts)));
        wrote = true;
    }
    if wrote {
        stream.last_ingestion_ms = Some(now);
    }
}

/// See [`Logs::append`].
pub async fn append(
    logs: &Logs,
    account: &str,
    region: &str,
    group_name: &str,
    stream_name: &str,
    mut events: Vec<(i64, String)>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    if events.windows(2).any(|w| w[1].0 < w[0].0) {
        events.sort_by_key(|e| e.0);
    }
    let (account, region) = (account.to_owned(), region.to_owned());
    let (group_name, stream_name) = (group_name.to_owned(), stream_name.to_owned());
    let now = logs.now_ms();
    logs.store()
        .write(move |txn| {
            let mut group = match model::load_group(txn, &account, &region, &group_name)? {
                Some(g) => g,
                None => groups::new_group(txn, &group_name, now)?,
            };
            let mut stream = match model::load_stream(txn, group.id, &stream_name)? {
                Some(s) => s,
                None => streams::new_stream(txn, &stream_name, now)?,
            };
            store_events(
                txn,
                &mut group,
                &mut stream,
                events.iter().map(|(t, m)| (*t, m.as_str())),
                now,
            );
            streams::put_stream(txn, group.id, &stream);
            groups::put_group(txn, &account, &region, &group);
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_split_a_sorted_batch() {
        let now = 100 * DAY_MS;
        let ts = [
            now - 15 * DAY_MS,
            now - 2 * DAY_MS,
            now,
            now + MAX_FUTURE_MS,
            now + MAX_FUTURE_MS + 1,
        ];
        assert_eq!(
            classify(&ts, now, Some(now - DAY_MS)),
            Rejected {
                too_old_end: 1,
                expired_end: 2,
                too_new_start: 4
            }
        );
        assert_eq!(
            classify(&ts, now, None),
            Rejected {
                too_old_end: 1,
                expired_end: 0,
                too_new_start: 4
            }
        );
    }
}
