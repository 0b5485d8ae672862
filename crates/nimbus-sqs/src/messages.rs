//! Message operations on received messages: DeleteMessage(Batch) and
//! ChangeMessageVisibility(Batch), plus what the message families share
//! (batch checks, receipt handles, reading a stored message).
//!
//! Every state change (send, receive, delete, visibility change) is one
//! durable store write. Receiving moves a message's visibility deadline;
//! nothing is held in memory, so after a restart messages whose deadline
//! passed are visible again.

use std::collections::HashSet;

use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{Result, SqsError};
use crate::groups;
use crate::model::{self, MessageRecord, QueueRecord};
use crate::queues::to_json;
use crate::receipt::Receipt;
use crate::request::{self, Object};
use crate::Sqs;

pub(crate) const MAX_VISIBILITY_TIMEOUT: i64 = 43_200;

/// AWS's checks on a batch as a whole: 1 to 10 entries, valid, distinct ids.
pub(crate) fn check_batch(entries: &[&Object], entry_shape: &str) -> Result<()> {
    if entries.is_empty() {
        return Err(SqsError::empty_batch_request(entry_shape));
    }
    if entries.len() > 10 {
        return Err(SqsError::too_many_entries(entries.len()));
    }
    let mut seen = HashSet::new();
    for entry in entries {
        let id = request::req_str(entry, "Id")?;
        let valid = (1..=80).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SqsError::invalid_batch_entry_id());
        }
        if !seen.insert(id) {
            return Err(SqsError::batch_entry_ids_not_distinct(id));
        }
    }
    Ok(())
}

pub(crate) fn failed_json(id: &str, err: &SqsError) -> Value {
    json!({
        "Id": id,
        "SenderFault": err.sender_fault,
        "Code": err.query_code,
        "Message": err.message,
    })
}

pub(crate) fn visibility_timeout_param(value: i64) -> Result<u32> {
    if (0..=MAX_VISIBILITY_TIMEOUT).contains(&value) {
        Ok(value as u32)
    } else {
        Err(SqsError::invalid_parameter_value(format!(
            "Value {value} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
        )))
    }
}

pub(crate) fn load_message(view: &impl ReadView, key: &[u8]) -> Result<Option<MessageRecord>> {
    match view.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SqsError::internal(format!("message record is unreadable: {e}"))),
    }
}

/// The receipt a handle names, if it is one of this queue's.
fn receipt_for(queue: &QueueRecord, handle: &str) -> Result<Receipt> {
    Receipt::decode(handle)
        .filter(|r| r.queue_id == queue.id)
        .ok_or_else(|| SqsError::receipt_handle_is_invalid(handle))
}

/// Deletes the message if `receipt` is from its latest receive; a stale
/// handle (or an already deleted message) succeeds without deleting, as in
/// AWS.
fn delete_in(txn: &mut WriteTxn<'_>, receipt: Receipt) -> Result<()> {
    let key = model::message_key(receipt.queue_id, receipt.seq);
    if let Some(record) = load_message(txn, &key)? {
        if record.receive_count == receipt.receive_count {
            groups::remove(txn, receipt.queue_id, receipt.seq, &record)?;
            txn.delete(&key);
            txn.delete(&model::visibility_key(
                receipt.queue_id,
                record.visible_at_ms,
                receipt.seq,
            ));
        }
    }
    Ok(())
}

pub async fn delete_message(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let receipt = receipt_for(&queue, request::req_str(req, "ReceiptHandle")?)?;
    sqs.store()
        .write(move |txn| delete_in(txn, receipt))
        .await?;
    // A FIFO group held back by this message may be deliverable now, and
    // so may messages held back by the in-flight limit.
    if queue.is_fifo() || sqs.inflight().take_waiting(queue.id) {
        sqs.notifier(queue.id).notify_waiters();
    }
    Ok(json!({}))
}

pub async fn delete_message_batch(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let entries = request::obj_list(req, "Entries")?;
    check_batch(&entries, "DeleteMessageBatchRequestEntry")?;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for entry in &entries {
        let id = request::req_str(entry, "Id")?.to_owned();
        let parsed = request::req_str(entry, "ReceiptHandle").and_then(|h| receipt_for(&queue, h));
        match parsed {
            Ok(receipt) => ok.push((id, receipt)),
            Err(err) => failed.push(failed_json(&id, &err)),
        }
    }
    let receipts: Vec<Receipt> = ok.iter().map(|(_, r)| *r).collect();
    sqs.store()
        .write(move |txn| {
            for receipt in receipts {
                delete_in(txn, receipt)?;
            }
            Ok::<_, SqsError>(())
        })
        .await?;
    if queue.is_fifo() || sqs.inflight().take_waiting(queue.id) {
        sqs.notifier(queue.id).notify_waiters();
    }
    let successful: Vec<Value> = ok.iter().map(|(id, _)| json!({ "Id": id })).collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// Moves the visibility deadline of an in-flight message, in `txn`.
fn change_in(
    txn: &mut WriteTxn<'_>,
    receipt: Receipt,
    handle: &str,
    timeout: u32,
    now: u64,
) -> Result<()> {
    let key = model::message_key(receipt.queue_id, receipt.seq);
    let mut record = load_message(txn, &key)?
        .filter(|r| r.receive_count == receipt.receive_count)
        .ok_or_else(|| SqsError::message_not_available(handle))?;
    if record.visible_at_ms <= now {
        return Err(SqsError::message_not_inflight());
    }
    // At most 12 hours in flight per receive, counted in whole seconds.
    let elapsed = now.saturating_sub(record.last_receive_ms.unwrap_or(now)) / 1000;
    if elapsed + u64::from(timeout) > MAX_VISIBILITY_TIMEOUT as u64 {
        return Err(SqsError::invalid_parameter_value(format!(
            "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
        )));
    }
    txn.delete(&model::visibility_key(
        receipt.queue_id,
        record.visible_at_ms,
        receipt.seq,
    ));
    record.visible_at_ms = now + u64::from(timeout) * 1000;
    txn.put(&key, &to_json(&record));
    txn.put(
        &model::visibility_key(receipt.queue_id, record.visible_at_ms, receipt.seq),
        &model::visibility_value(&record),
    );
    Ok(())
}

fn required_visibility(entry: &Object) -> Result<u32> {
    let v = request::opt_int(entry, "VisibilityTimeout")?
        .ok_or_else(|| SqsError::missing_parameter("VisibilityTimeout"))?;
    visibility_timeout_param(v)
}

pub async fn change_message_visibility(
    sqs: &Sqs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let handle = request::req_str(req, "ReceiptHandle")?.to_owned();
    let receipt = receipt_for(&queue, &handle)?;
    let timeout = required_visibility(req)?;
    let now = sqs.now_ms();
    sqs.store()
        .write(move |txn| change_in(txn, receipt, &handle, timeout, now))
        .await?;
    sqs.notifier(queue.id).notify_waiters();
    Ok(json!({}))
}

pub async fn change_message_visibility_batch(
    sqs: &Sqs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let entries = request::obj_list(req, "Entries")?;
    check_batch(&entries, "ChangeMessageVisibilityBatchRequestEntry")?;
    let mut planned = Vec::new();
    let mut failed = Vec::new();
    for entry in &entries {
        let id = request::req_str(entry, "Id")?.to_owned();
        let parsed = request::req_str(entry, "ReceiptHandle").and_then(|h| {
            let receipt = receipt_for(&queue, h)?;
            let timeout = required_visibility(entry)?;
            Ok((h.to_owned(), receipt, timeout))
        });
        match parsed {
            Ok((handle, receipt, timeout)) => planned.push((id, handle, receipt, timeout)),
            Err(err) => failed.push(failed_json(&id, &err)),
        }
    }
    let now = sqs.now_ms();
    // Each entry succeeds or fails on its own; one write holds them all.
    let outcomes = sqs
        .store()
        .write(move |txn| {
            let mut outcomes = Vec::new();
            for (id, handle, receipt, timeout) in planned {
                let result = change_in(txn, receipt, &handle, timeout, now);
                outcomes.push((id, result));
            }
            Ok::<_, SqsError>(outcomes)
        })
        .await?;
    let mut successful = Vec::new();
    for (id, result) in outcomes {
        match result {
            Ok(()) => successful.push(json!({ "Id": id })),
            Err(err) => failed.push(failed_json(&id, &err)),
        }
    }
    sqs.notifier(queue.id).notify_waiters();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}
