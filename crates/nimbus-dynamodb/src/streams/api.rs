//! The DynamoDB Streams API (`DynamoDBStreams_20120810.*`): ListStreams,
//! DescribeStream, GetShardIterator, GetRecords.

use serde::Deserialize;
use serde_json::{json, Value};

use super::iterator::{ShardIterator, LIFETIME_MS};
use super::reader::{read_shard, View};
use super::shards::Span;
use super::{parse_sequence_number, sequence_number, Stream, StreamMeta};
use crate::codec::{decode, Violations};
use crate::error::{DynamoError, Result};
use crate::{Caller, DynamoDb};

/// GetRecords returns at most 1 MB of records per call.
pub const MAX_BYTES: usize = 1024 * 1024;

const ITERATOR_TYPES: &str = "[TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsInput {
    table_name: Option<String>,
    limit: Option<i64>,
    exclusive_start_stream_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamInput {
    stream_arn: Option<String>,
    limit: Option<i64>,
    exclusive_start_shard_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetShardIteratorInput {
    stream_arn: Option<String>,
    shard_id: Option<String>,
    shard_iterator_type: Option<String>,
    sequence_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsInput {
    shard_iterator: Option<String>,
    limit: Option<i64>,
}

/// Runs one Streams operation on an awsJson1_0 body.
pub(crate) async fn handle(
    db: &DynamoDb,
    caller: &Caller,
    operation: &str,
    body: &[u8],
) -> Result<Value> {
    match operation {
        "ListStreams" => list_streams(db, caller, body),
        "DescribeStream" => describe_stream(db, caller, body),
        "GetShardIterator" => get_shard_iterator(db, caller, body),
        "GetRecords" => get_records(db, caller, body),
        other => Err(DynamoError::UnknownOperation(other.to_string())),
    }
}

pub(crate) fn stream_not_found(arn: &str) -> DynamoError {
    DynamoError::ResourceNotFound(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

fn check_limit(v: &mut Violations, limit: Option<i64>, max: i64) {
    if let Some(l) = limit {
        if l < 1 {
            v.add(
                &Violations::quoted(&l.to_string()),
                "limit",
                "Member must have value greater than or equal to 1",
            );
        } else if l > max {
            v.add(
                &Violations::quoted(&l.to_string()),
                "limit",
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }
}

/// A required string member's presence and AWS's length bounds.
fn check_length(v: &mut Violations, value: Option<&str>, member: &str, min: usize, max: usize) {
    match value {
        None => v.add("null", member, "Member must not be null"),
        Some(s) if s.len() < min => v.add(
            &Violations::quoted(s),
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ),
        Some(s) if s.len() > max => v.add(
            &Violations::quoted(s),
            member,
            &format!("Member must have length less than or equal to {max}"),
        ),
        Some(_) => {}
    }
}

/// Stream ARNs are 37 to 1024 characters.
fn check_arn(v: &mut Violations, arn: Option<&str>, member: &str) {
    check_length(v, arn, member, 37, 1024);
}

/// The stream an ARN names, visible to the caller's account and region.
fn stream_for(db: &DynamoDb, caller: &Caller, arn: &str) -> Result<std::sync::Arc<Stream>> {
    db.streams
        .get(arn)
        .filter(|s| {
            let m = s.meta();
            m.account == caller.account_id && m.region == caller.region
        })
        .ok_or_else(|| stream_not_found(arn))
}

fn list_streams(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: ListStreamsInput = decode(body)?;
    let mut v = Violations::new();
    check_limit(&mut v, input.limit, 100);
    if input.table_name.is_some() {
        v.check_name(input.table_name.as_deref(), "tableName", 3, 255);
    }
    if let Some(a) = input.exclusive_start_stream_arn.as_deref() {
        check_arn(&mut v, Some(a), "exclusiveStartStreamArn");
    }
    v.into_result()?;
    let limit = input.limit.unwrap_or(100) as usize;
    let metas: Vec<StreamMeta> = db
        .streams
        .all()
        .into_iter()
        .map(|s| s.meta())
        .filter(|m| m.account == caller.account_id && m.region == caller.region)
        .filter(|m| input.table_name.as_ref().is_none_or(|t| &m.table_name == t))
        .collect();
    let start = match input.exclusive_start_stream_arn.as_deref() {
        Some(a) => metas.partition_point(|m| m.arn.as_str() <= a),
        None => 0,
    };
    let page: Vec<&StreamMeta> = metas[start..].iter().take(limit).collect();
    let streams: Vec<Value> = page
        .iter()
        .map(|m| json!({"StreamArn": m.arn, "TableName": m.table_name, "StreamLabel": m.label}))
        .collect();
    let mut out = json!({ "Streams": streams });
    if start + page.len() < metas.len() {
        if let Some(last) = page.last() {
            out["LastEvaluatedStreamArn"] = json!(last.arn);
        }
    }
    Ok(out)
}

fn describe_stream(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: DescribeStreamInput = decode(body)?;
    let mut v = Violations::new();
    check_arn(&mut v, input.stream_arn.as_deref(), "streamArn");
    check_limit(&mut v, input.limit, 100);
    if input.exclusive_start_shard_id.is_some() {
        check_length(
            &mut v,
            input.exclusive_start_shard_id.as_deref(),
            "exclusiveStartShardId",
            28,
            65,
        );
    }
    v.into_result()?;
    let arn = input.stream_arn.unwrap_or_default();
    let stream = stream_for(db, caller, &arn)?;
    let view = View::of(db, &stream)?;
    let meta = &view.meta;
    // Oldest first; a page starts after the shard named, or, when that one
    // is gone, after where its id sorts (ids start with their creation
    // time).
    let listed: Vec<&Span> = view.listed().collect();
    let start = match input.exclusive_start_shard_id.as_deref() {
        Some(after) => match listed.iter().position(|s| s.shard.id == after) {
            Some(p) => p + 1,
            None => listed.partition_point(|s| s.shard.id.as_str() <= after),
        },
        None => 0,
    };
    let limit = input.limit.unwrap_or(100) as usize;
    let page = &listed[start..(start + limit).min(listed.len())];
    let shards: Vec<Value> = page.iter().map(|s| describe_shard(s)).collect();
    let mut key_schema = vec![json!({"AttributeName": meta.hash_key.name, "KeyType": "HASH"})];
    if let Some(r) = &meta.range_key {
        key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
    }
    let mut out = json!({ "StreamDescription": {
        "StreamArn": meta.arn,
        "StreamLabel": meta.label,
        "StreamStatus": meta.status(),
        "StreamViewType": meta.view_type.as_str(),
        "CreationRequestDateTime": meta.created_ms as f64 / 1000.0,
        "TableName": meta.table_name,
        "KeySchema": key_schema,
        "Shards": shards,
    }});
    if start + page.len() < listed.len() {
        if let Some(last) = page.last() {
            out["StreamDescription"]["LastEvaluatedShardId"] = json!(last.shard.id);
        }
    }
    Ok(out)
}

/// A Shard structure: its id, sequence number range and parent.
fn describe_shard(span: &Span) -> Value {
    let first = span.shard.first;
    let mut range = json!({ "StartingSequenceNumber": sequence_number(first) });
    if let Some(last) = span.last {
        // A shard closed before its first record ends where it starts.
        range["EndingSequenceNumber"] = json!(sequence_number(last.max(first)));
    }
    let mut shard = json!({ "ShardId": span.shard.id, "SequenceNumberRange": range });
    if let Some(parent) = &span.shard.parent {
        shard["ParentShardId"] = json!(parent);
    }
    shard
}

fn get_shard_iterator(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: GetShardIteratorInput = decode(body)?;
    let mut v = Violations::new();
    check_arn(&mut v, input.stream_arn.as_deref(), "streamArn");
    check_length(&mut v, input.shard_id.as_deref(), "shardId", 28, 65);
    let kind = input.shard_iterator_type.as_deref();
    match kind {
        None => v.add("null", "shardIteratorType", "Member must not be null"),
        Some("TRIM_HORIZON" | "LATEST" | "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER") => {}
        Some(other) => v.add(
            &Violations::quoted(other),
            "shardIteratorType",
            &format!("Member must satisfy enum value set: {ITERATOR_TYPES}"),
        ),
    }
    v.into_result()?;
    let kind = kind.unwrap_or_default();
    let arn = input.stream_arn.unwrap_or_default();
    let stream = stream_for(db, caller, &arn)?;
    let view = View::of(db, &stream)?;
    let shard_id = input.shard_id.unwrap_or_default();
    let Some(span) = view.listed().find(|s| s.shard.id == shard_id) else {
        return Err(DynamoError::ResourceNotFound(
            "Requested resource not found: Shard does not exist".into(),
        ));
    };
    let sequence = match (kind, input.sequence_number.as_deref()) {
        ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => {
            return Err(DynamoError::validation(format!(
                "Must provide SequenceNumber for ShardIteratorType {kind}"
            )))
        }
        ("TRIM_HORIZON" | "LATEST", Some(_)) => {
            return Err(DynamoError::validation(format!(
                "Cannot provide SequenceNumber for ShardIteratorType {kind}"
            )))
        }
        (_, Some(s)) => {
            let n = parse_sequence_number(s)
                .ok_or_else(|| DynamoError::validation(format!("Invalid SequenceNumber: {s}")))?;
            if n < view.meta.trimmed_before {
                return Err(trimmed());
            }
            if !span.contains(n) {
                return Err(DynamoError::validation(format!(
                    "Invalid SequenceNumber: {s} is not in shard {shard_id}"
                )));
            }
            Some(n)
        }
        (_, None) => None,
    };
    let trimmed_before = view.meta.trimmed_before;
    let position = match (kind, sequence) {
        ("TRIM_HORIZON", _) => span.shard.first.max(trimmed_before),
        ("LATEST", _) => match span.last {
            Some(last) => last + 1,
            None => stream.next_number().max(span.shard.first),
        },
        ("AT_SEQUENCE_NUMBER", Some(n)) => n,
        (_, Some(n)) => n.saturating_add(1),
        _ => unreachable!("checked above"),
    };
    let it = ShardIterator {
        stream_id: view.meta.id,
        shard_first: span.shard.first,
        position,
        issued_ms: db.clock.now_ms(),
        stream_arn: view.meta.arn.clone(),
    };
    Ok(json!({ "ShardIterator": it.encode() }))
}

pub(crate) fn trimmed() -> DynamoError {
    DynamoError::TrimmedDataAccess(
        "The operation attempted to read past the oldest stream record in a shard.".into(),
    )
}

fn get_records(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: GetRecordsInput = decode(body)?;
    let mut v = Violations::new();
    check_length(
        &mut v,
        input.shard_iterator.as_deref(),
        "shardIterator",
        1,
        2048,
    );
    check_limit(&mut v, input.limit, 1000);
    v.into_result()?;
    let raw = input.shard_iterator.unwrap_or_default();
    let it = ShardIterator::decode(&raw)
        .ok_or_else(|| DynamoError::validation("Invalid ShardIterator"))?;
    let now = db.clock.now_ms();
    if now.saturating_sub(it.issued_ms) > LIFETIME_MS {
        return Err(DynamoError::ExpiredIterator(
            "Iterator expired. The iterator was created more than 15 minutes ago.".into(),
        ));
    }
    let stream = stream_for(db, caller, &it.stream_arn)?;
    if stream.meta().id != it.stream_id {
        return Err(stream_not_found(&it.stream_arn));
    }
    let limit = input.limit.unwrap_or(1000) as usize;
    let read = read_shard(db, &stream, it.shard_first, it.position, limit, MAX_BYTES)?;
    let mut out = json!({ "Records": read.records });
    // A closed shard read to its end has no next iterator: the reader
    // moves on to its child.
    if !read.exhausted {
        let next = ShardIterator {
            position: read.next,
            issued_ms: now,
            ..it
        };
        out["NextShardIterator"] = json!(next.encode());
    }
    Ok(out)
}
