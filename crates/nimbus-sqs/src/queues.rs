//! Queue operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
//! GetQueueAttributes, SetQueueAttributes, PurgeQueue.

use std::ops::Bound;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};

use crate::attributes::QueueAttributes;
use crate::error::{Result, SqsError};
use crate::model::{self, QueueRecord};
use crate::request::{self, Object};
use crate::{config, groups, redrive, tags, tombstones};
use crate::{load_queue, queue_url, Sqs};

/// AWS's rule for queue names: 1 to 80 of [A-Za-z0-9_-], where a FIFO
/// queue's name ends in `.fifo` (counted in the 80) and only a FIFO queue's
/// may.
pub fn validate_queue_name(name: &str, fifo: bool) -> Result<()> {
    let suffixed = name.ends_with(".fifo");
    let base = if fifo && suffixed {
        &name[..name.len() - 5]
    } else {
        name
    };
    let ok = (1..=80).contains(&name.len())
        && !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && (suffixed || !fifo);
    if ok {
        Ok(())
    } else if fifo {
        Err(SqsError::invalid_parameter_value(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
        ))
    } else {
        Err(SqsError::invalid_parameter_value(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ))
    }
}

pub async fn create_queue(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::req_str(req, "QueueName")?.to_owned();
    let changes = request::str_map(req, "Attributes")?;
    let fifo = config::requested_fifo(&changes)?;
    validate_queue_name(&name, fifo)?;
    let tags = tags::create_queue_tags(req)?;

    let key = model::queue_key(&ctx.account_id, &ctx.region, &name);
    let now = sqs.now_ms() / 1000;
    let mut record = QueueRecord {
        id: 0,
        name: name.clone(),
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        created: now,
        last_modified: now,
        attributes: QueueAttributes::default(),
        fifo: fifo.then(config::new_fifo),
        redrive_policy: None,
        redrive_allow_policy: None,
        tags,
        policy: None,
        encryption: Default::default(),
    };
    config::apply(&mut record, &changes)?;
    let now_ms = sqs.now_ms();
    sqs.store()
        .write(move |txn| {
            if let Some(existing) = load_queue(txn, &key)? {
                // Same name: fine if every attribute given matches.
                for (attr, _) in &changes {
                    if config::text(&existing, attr) != config::text(&record, attr) {
                        return Err(SqsError::queue_name_exists(attr));
                    }
                }
                return Ok::<_, SqsError>(());
            }
            tombstones::check(txn, &record.account, &record.region, &record.name, now_ms)?;
            if let Some((policy, raw)) = config::new_redrive_policy(&record, &changes) {
                redrive::check_target(txn, &record, &policy, &raw)?;
            }
            let id = model::read_u64(txn.get(model::NEXT_QUEUE_ID_KEY)?) + 1;
            txn.put(model::NEXT_QUEUE_ID_KEY, &id.to_be_bytes());
            record.id = id;
            txn.put(&key, &to_json(&record));
            Ok::<_, SqsError>(())
        })
        .await?;
    Ok(json!({ "QueueUrl": queue_url(ctx, &ctx.account_id, &name) }))
}

pub fn get_queue_url(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::req_str(req, "QueueName")?;
    let account = request::opt_str(req, "QueueOwnerAWSAccountId")?.unwrap_or(&ctx.account_id);
    let queue = sqs
        .load(&ctx.region, account, name)?
        .ok_or_else(SqsError::queue_does_not_exist)?;
    Ok(json!({ "QueueUrl": queue_url(ctx, &queue.account, &queue.name) }))
}

pub fn list_queues(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let prefix = request::opt_str(req, "QueueNamePrefix")?.unwrap_or("");
    let max = match request::opt_int(req, "MaxResults")? {
        None => None,
        Some(n) if (1..=1000).contains(&n) => Some(n as usize),
        Some(n) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {n} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
            )))
        }
    };
    let after = match request::opt_str(req, "NextToken")? {
        None => None,
        Some(token) => Some(
            STANDARD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| SqsError::invalid_parameter_value("Invalid NextToken value."))?,
        ),
    };
    let limit = max.unwrap_or(1000);
    let base = model::queue_key(&ctx.account_id, &ctx.region, "");
    let start = model::queue_key(&ctx.account_id, &ctx.region, prefix);
    let end = model::prefix_end(&start);
    let lower = match &after {
        Some(last) => Bound::Excluded(model::queue_key(&ctx.account_id, &ctx.region, last)),
        None => Bound::Included(start.clone()),
    };
    let mut names = Vec::new();
    let mut more = false;
    let snapshot = sqs.store().snapshot()?;
    snapshot.scan(
        lower.as_ref().map(Vec::as_slice),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, _| {
            if !k.starts_with(&start) {
                return true;
            }
            if names.len() == limit {
                more = true;
                return false;
            }
            names.push(String::from_utf8_lossy(&k[base.len()..]).into_owned());
            true
        },
    )?;
    let mut out = Map::new();
    if !names.is_empty() {
        let urls: Vec<String> = names
            .iter()
            .map(|n| queue_url(ctx, &ctx.account_id, n))
            .collect();
        out.insert("QueueUrls".into(), json!(urls));
    }
    if more && max.is_some() {
        if let Some(last) = names.last() {
            out.insert("NextToken".into(), json!(STANDARD.encode(last)));
        }
    }
    Ok(Value::Object(out))
}

pub async fn delete_queue(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let key = model::queue_key(&queue.account, &queue.region, &queue.name);
    let id = queue.id;
    let now_ms = sqs.now_ms();
    sqs.store()
        .write(move |txn| {
            if load_queue(txn, &key)?.is_some_and(|q| q.id == id) {
                txn.delete(&key);
                tombstones::record(txn, &queue.account, &queue.region, &queue.name, now_ms)?;
            }
            delete_messages(txn, id, true)
        })
        .await?;
    sqs.forget_queue(id);
    Ok(json!({}))
}

/// Removes every message of a queue (records and visibility entries) and,
/// with `dedup_history`, the FIFO deduplication ids it saw. A purge keeps
/// those: a producer retrying a send after a purge still must not enqueue a
/// duplicate inside the five-minute window.
fn delete_messages(txn: &mut WriteTxn<'_>, queue_id: u64, dedup_history: bool) -> Result<()> {
    let mut prefixes = vec![
        model::message_prefix(queue_id),
        model::visibility_prefix(queue_id),
        groups::member_prefix(queue_id),
        groups::head_prefix(queue_id),
    ];
    if dedup_history {
        prefixes.push(model::dedup_prefix(queue_id));
        prefixes.push(model::dedup_expiry_prefix(queue_id));
    }
    for prefix in prefixes {
        let end = model::prefix_end(&prefix);
        txn.delete_range(Bound::Included(&prefix[..]), Bound::Excluded(&end[..]))?;
    }
    Ok(())
}

/// Message counts: (visible, in flight, delayed), from the visibility
/// index alone. Messages past retention are left out (receives sweep them).
fn count_messages(sqs: &Sqs, queue: &QueueRecord) -> Result<(u64, u64, u64)> {
    let now = sqs.now_ms();
    let retention_ms = u64::from(queue.attributes.message_retention_period) * 1000;
    let prefix = model::visibility_prefix(queue.id);
    let end = model::prefix_end(&prefix);
    let (mut visible, mut in_flight, mut delayed) = (0, 0, 0);
    let snapshot = sqs.store().snapshot()?;
    snapshot.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            let (Some((at, _)), Some((sent, received))) = (
                model::parse_visibility_key(k),
                model::parse_visibility_value(v),
            ) else {
                return true;
            };
            if sent + retention_ms <= now {
                // Past retention: gone for clients.
            } else if at <= now {
                visible += 1;
            } else if received {
                in_flight += 1;
            } else {
                delayed += 1;
            }
            true
        },
    )?;
    Ok((visible, in_flight, delayed))
}

pub fn get_queue_attributes(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let asked = request::str_list(req, "AttributeNames")?;
    if let Some(bad) = asked.iter().find(|n| !config::is_known(&queue, n)) {
        return Err(SqsError::invalid_attribute_name(bad));
    }
    let all = asked.iter().any(|n| n == "All");
    let wanted: Vec<&str> = config::names(&queue)
        .into_iter()
        .filter(|n| all || asked.iter().any(|a| a == n))
        .collect();
    let counts = if wanted.iter().any(|n| n.starts_with("ApproximateNumber")) {
        count_messages(sqs, &queue)?
    } else {
        (0, 0, 0)
    };
    let mut out = Map::new();
    for name in wanted {
        let value = match name {
            "ApproximateNumberOfMessages" => counts.0.to_string(),
            "ApproximateNumberOfMessagesNotVisible" => counts.1.to_string(),
            "ApproximateNumberOfMessagesDelayed" => counts.2.to_string(),
            "CreatedTimestamp" => queue.created.to_string(),
            "LastModifiedTimestamp" => queue.last_modified.to_string(),
            "QueueArn" => queue.arn(),
            other => match config::text(&queue, other) {
                Some(v) => v,
                None => continue,
            },
        };
        out.insert(name.to_owned(), Value::String(value));
    }
    if out.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Attributes": out }))
}

pub async fn set_queue_attributes(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    if !req.contains_key("Attributes") {
        return Err(SqsError::missing_parameter("Attributes"));
    }
    let changes = request::str_map(req, "Attributes")?;
    // Validate before writing, then apply to the queue as it is at write time.
    config::apply(&mut queue.clone(), &changes)?;
    update_queue(sqs, &queue, move |txn, current, now| {
        config::apply(current, &changes)?;
        if let Some((policy, raw)) = config::new_redrive_policy(current, &changes) {
            redrive::check_target(txn, current, &policy, &raw)?;
        }
        current.last_modified = now;
        Ok(())
    })
    .await?;
    // A shorter wait or delay may let sleeping receivers find messages sooner.
    sqs.notifier(queue.id).notify_waiters();
    Ok(json!({}))
}

pub async fn purge_queue(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    if !sqs.start_purge(queue.id, sqs.now_ms()) {
        return Err(SqsError::purge_queue_in_progress(&queue.name));
    }
    let id = queue.id;
    sqs.store()
        .write(move |txn| delete_messages(txn, id, false))
        .await?;
    Ok(json!({}))
}

/// Rewrites `queue` with `change` in one store write, applied to the queue
/// as it is at write time (QueueDoesNotExist if it was deleted meanwhile).
/// `change` gets the write (to check other queues in it), the queue and the
/// current time in seconds.
pub(crate) async fn update_queue(
    sqs: &Sqs,
    queue: &QueueRecord,
    change: impl FnOnce(&mut WriteTxn<'_>, &mut QueueRecord, u64) -> Result<()> + Send + 'static,
) -> Result<()> {
    let key = model::queue_key(&queue.account, &queue.region, &queue.name);
    let id = queue.id;
    let now = sqs.now_ms() / 1000;
    sqs.store()
        .write(move |txn| {
            let mut current = load_queue(txn, &key)?
                .filter(|q| q.id == id)
                .ok_or_else(SqsError::queue_does_not_exist)?;
            change(txn, &mut current, now)?;
            txn.put(&key, &to_json(&current));
            Ok::<_, SqsError>(())
        })
        .await
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert!(validate_queue_name("a", false).is_ok());
        assert!(validate_queue_name(&"x".repeat(80), false).is_ok());
        assert!(validate_queue_name("Jobs_1-2", false).is_ok());
        assert!(validate_queue_name("", false).is_err());
        assert!(validate_queue_name(&"x".repeat(81), false).is_err());
        assert!(validate_queue_name("a.fifo", false).is_err());
        assert!(validate_queue_name("a b", false).is_err());
        assert!(validate_queue_name("a.fifo", true).is_ok());
        assert!(validate_queue_name(&format!("{}.fifo", "x".repeat(75)), true).is_ok());
        assert!(validate_queue_name(&format!("{}.fifo", "x".repeat(76)), true).is_err());
        assert!(validate_queue_name("a", true).is_err());
        assert!(validate_queue_name(".fifo", true).is_err());
        assert!(validate_queue_name("a.b.fifo", true).is_err());
    }
}
