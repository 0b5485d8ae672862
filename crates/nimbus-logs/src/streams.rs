//! Log streams: CreateLogStream, DeleteLogStream, DescribeLogStreams.

use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{LogsError, Result};
use crate::model::{self, StreamRecord};
use crate::request::{self, Object};
use crate::{keys, token, Logs};

const MAX_DESCRIBE: i64 = 50;

pub async fn create_log_stream(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let group = request::group_name(req)?.to_owned();
    let stream = request::stream_name(req)?.to_owned();
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    let now = logs.now_ms();
    logs.store()
        .write(move |txn| {
            let group = model::require_group(txn, &account, &region, &group)?;
            if model::load_stream(txn, group.id, &stream)?.is_some() {
                return Err(LogsError::ResourceAlreadyExists(
                    "The specified log stream already exists".into(),
                ));
            }
            let record = new_stream(txn, &stream, now)?;
            put_stream(txn, group.id, &record);
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub(crate) fn new_stream(txn: &mut WriteTxn<'_>, name: &str, now: i64) -> Result<StreamRecord> {
    Ok(StreamRecord {
        name: name.to_owned(),
        id: model::next_id(txn)?,
        created_ms: now,
        next_seq: 1,
        first_event_ms: None,
        last_event_ms: None,
        last_ingestion_ms: None,
        stored_bytes: 0,
    })
}

pub(crate) fn put_stream(txn: &mut WriteTxn<'_>, gid: u64, stream: &StreamRecord) {
    txn.put(&keys::stream(gid, &stream.name), &model::encode(stream));
}

pub async fn delete_log_stream(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let group = request::group_name(req)?.to_owned();
    let stream = request::stream_name(req)?.to_owned();
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    logs.store()
        .write(move |txn| {
            let mut group = model::require_group(txn, &account, &region, &group)?;
            let record = model::require_stream(txn, group.id, &stream)?;
            // The stream index names every event; each goes from both indexes.
            let prefix = keys::by_stream(group.id, &[&record.id.to_be_bytes()]);
            let end = keys::prefix_end(&prefix);
            let mut time_keys = Vec::new();
            txn.scan(
                Bound::Included(&prefix),
                Bound::Excluded(&end),
                false,
                &mut |k, _| {
                    if let Some((sid, ts, seq)) = keys::parse_stream_key(k) {
                        time_keys.push(keys::by_time(
                            group.id,
                            &[&keys::ts_bytes(ts), &sid.to_be_bytes(), &seq.to_be_bytes()],
                        ));
                    }
                    true
                },
            )?;
            for k in &time_keys {
                txn.delete(k);
            }
            txn.delete_range(Bound::Included(&prefix), Bound::Excluded(&end))?;
            txn.delete(&keys::stream(group.id, &stream));
            group.stored_bytes = group.stored_bytes.saturating_sub(record.stored_bytes);
            crate::groups::put_group(txn, &account, &region, &group);
            Ok::<(), LogsError>(())
        })
        .await?;
    Ok(json!({}))
}

pub fn describe_log_streams(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let group_name = request::group_name_or_identifier(req)?;
    let prefix = request::prefix(req, "logStreamNamePrefix")?;
    if let Some(p) = prefix {
        request::check_stream_name(p, "logStreamNamePrefix")?;
    }
    let order = request::opt_str(req, "orderBy")?.unwrap_or("LogStreamName");
    if order != "LogStreamName" && order != "LastEventTime" {
        return Err(LogsError::validation(
            order,
            "orderBy",
            "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
        ));
    }
    let by_time = order == "LastEventTime";
    if by_time && prefix.is_some() {
        return Err(LogsError::InvalidParameter(
            "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
        ));
    }
    let descending = request::opt_bool(req, "descending")?.unwrap_or(false);
    let limit = request::limit(req, MAX_DESCRIBE)?;
    let token = request::next_token(req)?;

    let snapshot = logs.store().snapshot()?;
    let group = model::require_group(&snapshot, &ctx.account_id, &ctx.region, &group_name)?;
    let mut streams: Vec<StreamRecord> = model::all_streams(&snapshot, group.id)?;
    if let Some(p) = prefix {
        streams.retain(|s| s.name.starts_with(p));
    }
    // A total order for either sort, so a position names one place.
    let sort_key = |s: &StreamRecord| -> (i64, String) {
        let t = if by_time {
            s.last_event_ms.unwrap_or(i64::MIN)
        } else {
            0
        };
        (t, s.name.clone())
    };
    streams.sort_by_key(sort_key);
    if descending {
        streams.reverse();
    }
    let start = match token {
        None => 0,
        Some(t) => {
            let position = decode_position(t)?;
            streams
                .iter()
                .position(|s| {
                    let k = sort_key(s);
                    if descending {
                        k < position
                    } else {
                        k > position
                    }
                })
                .unwrap_or(streams.len())
        }
    };
    let page: Vec<&StreamRecord> = streams.iter().skip(start).take(limit).collect();
    let described: Vec<Value> = page
        .iter()
        .map(|s| s.describe(&ctx.region, &ctx.account_id, &group.name))
        .collect();
    let mut out = json!({ "logStreams": described });
    if start + page.len() < streams.len() {
        if let Some(last) = page.last() {
            out["nextToken"] = json!(encode_position(&sort_key(last)));
        }
    }
    Ok(out)
}

fn encode_position((t, name): &(i64, String)) -> String {
    let mut bytes = keys::ts_bytes(*t).to_vec();
    bytes.extend_from_slice(name.as_bytes());
    token::encode_bytes(&bytes)
}

fn decode_position(t: &str) -> Result<(i64, String)> {
    let bytes = hex::decode(t).map_err(|_| LogsError::invalid_next_token())?;
    if bytes.len() < 8 {
        return Err(LogsError::invalid_next_token());
    }
    let name =
        String::from_utf8(bytes[8..].to_vec()).map_err(|_| LogsError::invalid_next_token())?;
    Ok((keys::ts_from(&bytes[..8]), name))
}
