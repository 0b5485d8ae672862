//! Reading events: GetLogEvents (one stream, forward and backward tokens)
//! and FilterLogEvents (a group's streams interleaved by time, with a
//! filter pattern).

use std::collections::HashMap;
use std::ops::Bound;

use nimbus_store::{ReadView, Snapshot};
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{LogsError, Result};
use crate::model::{self, GroupRecord};
use crate::pattern::Pattern;
use crate::request::{self, Object};
use crate::{keys, token, Logs};

const MAX_EVENTS: i64 = 10_000;
/// Both reads return at most 1 MB of messages per call, as AWS does.
const MAX_RESPONSE_BYTES: usize = 1_048_576;
/// FilterLogEvents examines at most this many events per call, then
/// returns a nextToken (possibly with no events) so one call never scans
/// a huge group whole; AWS documents such empty pages too.
const MAX_SCANNED: usize = 100_000;
const MAX_STREAM_NAMES: usize = 100;
const MAX_PATTERN_CHARS: usize = 1024;

fn time_member(req: &Object, member: &str) -> Result<Option<i64>> {
    let t = request::opt_i64(req, member)?;
    if let Some(t) = t {
        if t < 0 {
            return Err(LogsError::validation(
                t,
                member,
                "Member must have value greater than or equal to 0",
            ));
        }
    }
    Ok(t)
}

/// The group to read and the oldest timestamp it still shows.
fn readable_group(
    logs: &Logs,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    name: &str,
) -> Result<(GroupRecord, i64)> {
    let group = model::require_group(snapshot, &ctx.account_id, &ctx.region, name)?;
    let floor = group.retention_cutoff(logs.now_ms()).unwrap_or(i64::MIN);
    Ok((group, floor))
}

/// A position between events of one stream: (timestamp, sequence).
type Position = [u8; 16];

fn position(ts: i64, seq: u64) -> Position {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&keys::ts_bytes(ts));
    p[8..].copy_from_slice(&seq.to_be_bytes());
    p
}

fn encode_get_token(forward: bool, p: &Position) -> String {
    format!("{}/{}", if forward { "f" } else { "b" }, hex::encode(p))
}

fn decode_get_token(t: &str) -> Result<(bool, Position)> {
    let (forward, rest) = match t.split_once('/') {
        Some(("f", rest)) => (true, rest),
        Some(("b", rest)) => (false, rest),
        _ => return Err(LogsError::invalid_next_token()),
    };
    let bytes = token::decode_bytes(rest, 16)?;
    let mut p = [0u8; 16];
    p.copy_from_slice(&bytes);
    Ok((forward, p))
}

pub fn get_log_events(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let group_name = request::group_name_or_identifier(req)?;
    let stream_name = request::stream_name(req)?;
    let start = time_member(req, "startTime")?;
    let end = time_member(req, "endTime")?;
    let limit = request::limit(req, MAX_EVENTS)?;
    let from_head = request::opt_bool(req, "startFromHead")?.unwrap_or(false);
    request::opt_bool(req, "unmask")?;
    let given = request::next_token(req)?
        .map(|t| decode_get_token(t).map(|d| (t, d)))
        .transpose()?;

    let snapshot = logs.store().snapshot()?;
    let (group, floor) = readable_group(logs, &snapshot, ctx, &group_name)?;
    let stream = model::require_stream(&snapshot, group.id, stream_name)?;

    // The window: [max(startTime, retention floor), endTime), as positions.
    let low = position(start.unwrap_or(i64::MIN).max(floor), 0);
    let high = position(end.unwrap_or(i64::MAX), 0);
    let sid = stream.id.to_be_bytes();
    let key_at = |p: &Position| keys::by_stream(group.id, &[&sid, p]);
    let (mut lower, mut upper) = (key_at(&low), key_at(&high));
    let mut lower_inclusive = true;
    let forward = match &given {
        Some((_, (true, p))) => {
            let k = key_at(p);
            if k >= lower {
                lower = k;
                lower_inclusive = false;
            }
            true
        }
        Some((_, (false, p))) => {
            let k = key_at(p);
            if k < upper {
                upper = k;
            }
            false
        }
        None => from_head,
    };
    if lower >= upper {
        upper = lower.clone();
    }
    let lower_bound = if lower_inclusive {
        Bound::Included(lower.as_slice())
    } else {
        Bound::Excluded(lower.as_slice())
    };

    let mut found: Vec<(i64, u64)> = Vec::new();
    snapshot.scan(
        lower_bound,
        Bound::Excluded(upper.as_slice()),
        !forward,
        &mut |k, _| {
            if let Some((_, ts, seq)) = keys::parse_stream_key(k) {
                found.push((ts, seq));
            }
            found.len() < limit
        },
    )?;
    if !forward {
        found.reverse();
    }
    let mut events = Vec::with_capacity(found.len());
    let mut bytes = 0usize;
    let mut positions = Vec::with_capacity(found.len());
    let time_key = |ts: i64, seq: u64| {
        keys::by_time(group.id, &[&keys::ts_bytes(ts), &sid, &seq.to_be_bytes()])
    };
    // Keep the 1 MB cap on the side the client reads toward.
    let ordered: Box<dyn Iterator<Item = &(i64, u64)>> = if forward {
        Box::new(found.iter())
    } else {
        Box::new(found.iter().rev())
    };
    for &(ts, seq) in ordered {
        let Some(value) = snapshot.get(&time_key(ts, seq))? else {
            continue;
        };
        let Some((ingestion, message)) = model::decode_event(&value) else {
            continue;
        };
        if !events.is_empty() && bytes + message.len() > MAX_RESPONSE_BYTES {
            break;
        }
        bytes += message.len();
        events.push(json!({ "timestamp": ts, "message": message, "ingestionTime": ingestion }));
        positions.push(position(ts, seq));
    }
    if !forward {
        events.reverse();
        positions.reverse();
    }
    let (next_forward, next_backward) = match (positions.first(), positions.last()) {
        (Some(first), Some(last)) => (encode_get_token(true, last), encode_get_token(false, first)),
        // Nothing more this way: the token passed in comes back.
        _ => match &given {
            Some((t, (true, p))) => (t.to_string(), encode_get_token(false, p)),
            Some((t, (false, p))) => (encode_get_token(true, p), t.to_string()),
            None => (encode_get_token(true, &low), encode_get_token(false, &high)),
        },
    };
    Ok(json!({
        "events": events,
        "nextForwardToken": next_forward,
        "nextBackwardToken": next_backward,
    }))
}

pub fn filter_log_events(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let group_name = request::group_name_or_identifier(req)?;
    let names = request::opt_str_list(req, "logStreamNames")?;
    if let Some(names) = &names {
        if names.is_empty() {
            return Err(LogsError::validation(
                "[]",
                "logStreamNames",
                "Member must have length greater than or equal to 1",
            ));
        }
        if names.len() > MAX_STREAM_NAMES {
            return Err(LogsError::validation(
                format!("list of {} names", names.len()),
                "logStreamNames",
                "Member must have length less than or equal to 100",
            ));
        }
        for n in names {
            request::check_stream_name(n, "logStreamNames")?;
        }
    }
    let prefix = request::prefix(req, "logStreamNamePrefix")?;
    if let Some(p) = prefix {
        request::check_stream_name(p, "logStreamNamePrefix")?;
    }
    if names.is_some() && prefix.is_some() {
        return Err(LogsError::InvalidParameter(
            "You cannot specify both logStreamNames and logStreamNamePrefix.".into(),
        ));
    }
    let start = time_member(req, "startTime")?;
    let end = time_member(req, "endTime")?;
    let pattern_text = request::opt_str(req, "filterPattern")?.unwrap_or("");
    if pattern_text.chars().count() > MAX_PATTERN_CHARS {
        return Err(LogsError::validation(
            pattern_text,
            "filterPattern",
            "Member must have length less than or equal to 1024",
        ));
    }
    let pattern = Pattern::parse(pattern_text)?;
    let limit = request::limit(req, MAX_EVENTS)?;
    request::opt_bool(req, "interleaved")?;
    request::opt_bool(req, "unmask")?;
    let after = request::next_token(req)?
        .map(|t| token::decode_bytes(t, 24))
        .transpose()?;

    let snapshot = logs.store().snapshot()?;
    let (group, floor) = readable_group(logs, &snapshot, ctx, &group_name)?;
    // Stream ids to names, for the streams this call reads.
    let streams: HashMap<u64, String> = model::all_streams(&snapshot, group.id)?
        .into_iter()
        .filter(|s| match (&names, prefix) {
            (Some(names), _) => names.contains(&s.name),
            (None, Some(p)) => s.name.starts_with(p),
            (None, None) => true,
        })
        .map(|s| (s.id, s.name))
        .collect();

    let low_ts = start.unwrap_or(i64::MIN).max(floor);
    let lower = keys::by_time(group.id, &[&keys::ts_bytes(low_ts)]);
    let upper = match end {
        // endTime is inclusive here (unlike GetLogEvents).
        Some(e) if e < i64::MAX => keys::by_time(group.id, &[&keys::ts_bytes(e + 1)]),
        _ => keys::prefix_end(&keys::by_time(group.id, &[])),
    };
    let resume = after.map(|rest| keys::by_time(group.id, &[&rest]));
    let lower_bound = match &resume {
        Some(k) if *k >= lower => Bound::Excluded(k.as_slice()),
        _ => Bound::Included(lower.as_slice()),
    };

    let mut events = Vec::new();
    let mut bytes = 0usize;
    let mut scanned = 0usize;
    let mut last_key: Option<Vec<u8>> = None;
    let mut more = false;
    snapshot.scan(
        lower_bound,
        Bound::Excluded(upper.as_slice()),
        false,
        &mut |k, v| {
            if events.len() >= limit || scanned >= MAX_SCANNED {
                more = true;
                return false;
            }
            scanned += 1;
            let Some((ts, sid, seq)) = keys::parse_time_key(k) else {
                return true;
            };
            let Some(stream) = streams.get(&sid) else {
                last_key = Some(k.to_vec());
                return true;
            };
            let Some((ingestion, message)) = model::decode_event(v) else {
                return true;
            };
            if !pattern.matches(message) {
                last_key = Some(k.to_vec());
                return true;
            }
            if !events.is_empty() && bytes + message.len() > MAX_RESPONSE_BYTES {
                more = true;
                return false;
            }
            bytes += message.len();
            last_key = Some(k.to_vec());
            events.push(json!({
                "logStreamName": stream,
                "timestamp": ts,
                "message": message,
                "ingestionTime": ingestion,
                "eventId": format!("{:020}{:020}{:016}", ts.max(0), sid, seq),
            }));
            true
        },
    )?;
    let mut out = json!({ "events": events });
    if more {
        if let Some(k) = last_key {
            out["nextToken"] = json!(token::encode_bytes(&k[15..]));
        }
    }
    Ok(out)
}
