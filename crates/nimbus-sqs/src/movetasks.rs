//! Message move tasks (dead-letter queue redrive): StartMessageMoveTask,
//! ListMessageMoveTasks, CancelMessageMoveTask, and the background worker
//! that moves a dead-letter queue's visible messages back to the queues
//! they came from, or to one destination queue.
//!
//! A task is a record in the store (`st` task id -> [`TaskRecord`]). Each
//! worker step is one store write that moves a batch of messages and
//! updates the task's counts and status together, so a crash loses no
//! message and moves none twice. A task still RUNNING (or CANCELLING) when
//! the server stopped is picked up again by the first SQS request after
//! the restart ([`resume_all`]).

use std::ops::Bound;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Result, SqsError};
use crate::groups;
use crate::messages::load_message;
use crate::model::{self, QueueRecord};
use crate::queues::to_json;
use crate::request::{self, Object};
use crate::{load_queue, Sqs};

const NEXT_TASK_ID_KEY: &[u8] = b"sk";
const TASK_PREFIX: &[u8] = b"st";
const HANDLE_MAGIC: &[u8; 4] = b"nMT1";
/// Messages per step when the task sets no rate.
const DEFAULT_BATCH: usize = 100;
const MAX_RATE: i64 = 500;

pub const RUNNING: &str = "RUNNING";
pub const COMPLETED: &str = "COMPLETED";
pub const CANCELLING: &str = "CANCELLING";
pub const CANCELLED: &str = "CANCELLED";
pub const FAILED: &str = "FAILED";

/// One move task, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskRecord {
    pub id: u64,
    pub source_arn: String,
    /// The source queue's id when the task started: a queue re-created
    /// under the same name is not this task's source.
    pub source_queue_id: u64,
    /// `None`: each message goes back to the queue it was dead-lettered from.
    pub destination_arn: Option<String>,
    pub max_per_second: Option<u32>,
    pub status: String,
    pub moved: u64,
    pub to_move: u64,
    pub started_ms: u64,
    pub failure_reason: Option<String>,
}

impl TaskRecord {
    fn handle(&self) -> String {
        let mut bytes = HANDLE_MAGIC.to_vec();
        bytes.extend_from_slice(&self.id.to_be_bytes());
        bytes.extend_from_slice(self.source_arn.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn is_active(&self) -> bool {
        self.status == RUNNING || self.status == CANCELLING
    }
}

fn task_key(id: u64) -> Vec<u8> {
    let mut k = TASK_PREFIX.to_vec();
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The task id a handle names, or `None` if it is not one of ours.
fn parse_handle(handle: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(handle).ok()?;
    if bytes.len() < 12 || &bytes[..4] != HANDLE_MAGIC {
        return None;
    }
    Some(u64::from_be_bytes(bytes[4..12].try_into().ok()?))
}

fn load_task(view: &impl ReadView, id: u64) -> Result<Option<TaskRecord>> {
    match view.get(&task_key(id))? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SqsError::internal(format!("move task record is unreadable: {e}"))),
    }
}

fn all_tasks(view: &impl ReadView) -> Result<Vec<TaskRecord>> {
    let end = model::prefix_end(TASK_PREFIX);
    let mut out = Vec::new();
    let mut broken = None;
    view.scan(
        Bound::Included(TASK_PREFIX),
        Bound::Excluded(&end[..]),
        false,
        &mut |_, v| match serde_json::from_slice(v) {
            Ok(t) => {
                out.push(t);
                true
            }
            Err(e) => {
                broken = Some(e);
                false
            }
        },
    )?;
    match broken {
        Some(e) => Err(SqsError::internal(format!(
            "move task record is unreadable: {e}"
        ))),
        None => Ok(out),
    }
}

fn queue_by_arn(view: &impl ReadView, arn: &str) -> Result<Option<QueueRecord>> {
    match model::parse_queue_arn(arn) {
        Some((region, account, name)) => load_queue(view, &model::queue_key(account, region, name)),
        None => Ok(None),
    }
}

fn not_found(parameter: &str) -> SqsError {
    SqsError::resource_not_found(format!(
        "The resource that you specified for the {parameter} parameter doesn't exist."
    ))
}

fn check_arn_format(arn: &str, parameter: &str) -> Result<()> {
    if model::parse_queue_arn(arn).is_some() {
        return Ok(());
    }
    Err(SqsError::invalid_parameter_value(format!(
        "You must use this format to specify the {parameter}: arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
    )))
}

/// Whether any queue of the source's account and region names `arn` as its
/// dead-letter queue.
fn is_dead_letter_queue(view: &impl ReadView, source: &QueueRecord) -> Result<bool> {
    let start = model::queue_key(&source.account, &source.region, "");
    let end = model::prefix_end(&start);
    let arn = source.arn();
    let mut found = false;
    view.scan(
        Bound::Included(&start[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |_, v| {
            if let Ok(q) = serde_json::from_slice::<QueueRecord>(v) {
                found = q
                    .redrive_policy
                    .is_some_and(|p| p.dead_letter_target_arn == arn);
            }
            !found
        },
    )?;
    Ok(found)
}

/// Visible, unexpired messages of a queue now (what a task will move).
fn visible_count(view: &impl ReadView, queue: &QueueRecord, now: u64) -> Result<u64> {
    let prefix = model::visibility_prefix(queue.id);
    let upper = model::visibility_key(queue.id, now, u64::MAX);
    let retention_ms = u64::from(queue.attributes.message_retention_period) * 1000;
    let mut count = 0;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Included(&upper[..]),
        false,
        &mut |_, v| {
            if model::parse_visibility_value(v).is_some_and(|(sent, _)| sent + retention_ms > now) {
                count += 1;
            }
            true
        },
    )?;
    Ok(count)
}

pub async fn start_message_move_task(
    sqs: &Sqs,
    _ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let source_arn = request::req_str(req, "SourceArn")?.to_owned();
    check_arn_format(&source_arn, "SourceArn")?;
    let destination_arn = request::opt_str(req, "DestinationArn")?.map(str::to_owned);
    if let Some(d) = &destination_arn {
        check_arn_format(d, "DestinationArn")?;
    }
    let max_per_second = match request::opt_int(req, "MaxNumberOfMessagesPerSecond")? {
        None => None,
        Some(n) if (1..=MAX_RATE).contains(&n) => Some(n as u32),
        Some(n) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {n} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500."
            )))
        }
    };
    let now = sqs.now_ms();
    let task = sqs
        .store()
        .write(move |txn| {
            let source = queue_by_arn(txn, &source_arn)?.ok_or_else(|| not_found("SourceArn"))?;
            if !is_dead_letter_queue(txn, &source)? {
                return Err(SqsError::invalid_parameter_value(
                    "Source queue must be configured as a Dead Letter Queue.",
                ));
            }
            if let Some(d) = &destination_arn {
                let destination = queue_by_arn(txn, d)?.ok_or_else(|| not_found("DestinationArn"))?;
                if destination.is_fifo() != source.is_fifo() {
                    return Err(SqsError::invalid_parameter_value(
                        "The source queue and the destination queue must be of the same queue type.",
                    ));
                }
            }
            if all_tasks(txn)?
                .iter()
                .any(|t| t.source_arn == source_arn && t.is_active())
            {
                return Err(SqsError::invalid_parameter_value(
                    "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
                ));
            }
            let id = model::read_u64(txn.get(NEXT_TASK_ID_KEY)?) + 1;
            txn.put(NEXT_TASK_ID_KEY, &id.to_be_bytes());
            let task = TaskRecord {
                id,
                to_move: visible_count(txn, &source, now)?,
                source_arn,
                source_queue_id: source.id,
                destination_arn,
                max_per_second,
                status: RUNNING.into(),
                moved: 0,
                started_ms: now,
                failure_reason: None,
            };
            txn.put(&task_key(id), &to_json(&task));
            Ok(task)
        })
        .await?;
    spawn(sqs, task.id);
    Ok(json!({ "TaskHandle": task.handle() }))
}

pub async fn cancel_message_move_task(
    sqs: &Sqs,
    _ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let handle = request::req_str(req, "TaskHandle")?;
    let id = parse_handle(handle).ok_or_else(|| {
        SqsError::invalid_parameter_value("Value for parameter TaskHandle is invalid.")
    })?;
    let moved = sqs
        .store()
        .write(move |txn| {
            let mut task = load_task(txn, id)?
                .ok_or_else(|| SqsError::resource_not_found("Task does not exist."))?;
            if task.status != RUNNING {
                return Err(SqsError::invalid_parameter_value(format!(
                    "Only a task in the RUNNING state can be cancelled. This task is {}.",
                    task.status
                )));
            }
            // The worker finishes the current batch and then stops.
            task.status = CANCELLING.into();
            txn.put(&task_key(id), &to_json(&task));
            Ok(task.moved)
        })
        .await?;
    Ok(json!({ "ApproximateNumberOfMessagesMoved": moved }))
}

pub fn list_message_move_tasks(sqs: &Sqs, _ctx: &RequestContext, req: &Object) -> Result<Value> {
    let source_arn = request::req_str(req, "SourceArn")?;
    check_arn_format(source_arn, "SourceArn")?;
    let max = match request::opt_int(req, "MaxResults")? {
        None => 1,
        Some(n) if (1..=10).contains(&n) => n as usize,
        Some(n) => {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {n} for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10."
            )))
        }
    };
    let snapshot = sqs.store().snapshot()?;
    queue_by_arn(&snapshot, source_arn)?.ok_or_else(|| not_found("SourceArn"))?;
    let mut tasks: Vec<TaskRecord> = all_tasks(&snapshot)?
        .into_iter()
        .filter(|t| t.source_arn == source_arn)
        .collect();
    // Most recent first; ids only grow.
    tasks.sort_by_key(|t| std::cmp::Reverse(t.id));
    let results: Vec<Value> = tasks.iter().take(max).map(task_json).collect();
    Ok(json!({ "Results": results }))
}

fn task_json(t: &TaskRecord) -> Value {
    let mut out = Map::new();
    if t.status == RUNNING {
        out.insert("TaskHandle".into(), json!(t.handle()));
    }
    out.insert("Status".into(), json!(t.status));
    out.insert("SourceArn".into(), json!(t.source_arn));
    if let Some(d) = &t.destination_arn {
        out.insert("DestinationArn".into(), json!(d));
    }
    if let Some(r) = t.max_per_second {
        out.insert("MaxNumberOfMessagesPerSecond".into(), json!(r));
    }
    out.insert("ApproximateNumberOfMessagesMoved".into(), json!(t.moved));
    out.insert("ApproximateNumberOfMessagesToMove".into(), json!(t.to_move));
    if let Some(reason) = &t.failure_reason {
        out.insert("FailureReason".into(), json!(reason));
    }
    out.insert("StartedTimestamp".into(), json!(t.started_ms));
    Value::Object(out)
}

/// Starts the workers of every task left running when the server stopped.
pub(crate) async fn resume_all(sqs: &Sqs) -> Result<()> {
    let snapshot = sqs.store().snapshot()?;
    for task in all_tasks(&snapshot)? {
        if task.is_active() {
            spawn(sqs, task.id);
        }
    }
    Ok(())
}

fn spawn(sqs: &Sqs, task_id: u64) {
    let sqs = sqs.clone();
    tokio::spawn(async move {
        if let Err(e) = run(&sqs, task_id).await {
            tracing::warn!(task_id, error = %e.message, "message move task stopped");
        }
    });
}

/// What one worker step did.
struct Step {
    finished: bool,
    moved: usize,
    woken: Vec<u64>,
}

async fn run(sqs: &Sqs, task_id: u64) -> Result<()> {
    let snapshot = sqs.store().snapshot()?;
    let Some(task) = load_task(&snapshot, task_id)? else {
        return Ok(());
    };
    drop(snapshot);
    let batch = task
        .max_per_second
        .map_or(DEFAULT_BATCH, |r| (r as usize).min(10));
    loop {
        // On shutdown the task stays RUNNING and resumes after the restart.
        if sqs.stopping() {
            return Ok(());
        }
        let clock = sqs.clock().clone();
        let step = sqs
            .store()
            .write(move |txn| step(txn, task_id, batch, clock.now_ms()))
            .await?;
        for id in step.woken {
            sqs.notifier(id).notify_waiters();
        }
        if step.finished {
            return Ok(());
        }
        match task.max_per_second {
            Some(rate) => {
                let pause = Duration::from_millis(step.moved as u64 * 1000 / u64::from(rate));
                tokio::time::sleep(pause).await;
            }
            None => tokio::task::yield_now().await,
        }
    }
}

fn save(txn: &mut WriteTxn<'_>, task: &TaskRecord) {
    txn.put(&task_key(task.id), &to_json(task));
}

fn finish(
    txn: &mut WriteTxn<'_>,
    task: &mut TaskRecord,
    status: &str,
    reason: Option<&str>,
) -> Step {
    task.status = status.into();
    task.failure_reason = reason.map(str::to_owned);
    save(txn, task);
    Step {
        finished: true,
        moved: 0,
        woken: Vec::new(),
    }
}

/// Moves up to `batch` visible messages of the task's source in `txn`.
fn step(txn: &mut WriteTxn<'_>, task_id: u64, batch: usize, now: u64) -> Result<Step> {
    let Some(mut task) = load_task(txn, task_id)? else {
        return Ok(Step {
            finished: true,
            moved: 0,
            woken: Vec::new(),
        });
    };
    match task.status.as_str() {
        RUNNING => {}
        CANCELLING => return Ok(finish(txn, &mut task, CANCELLED, None)),
        _ => {
            return Ok(Step {
                finished: true,
                moved: 0,
                woken: Vec::new(),
            })
        }
    }
    let missing_queue = "AWS.SimpleQueueService.NonExistentQueue";
    let Some(source) =
        queue_by_arn(txn, &task.source_arn)?.filter(|q| q.id == task.source_queue_id)
    else {
        return Ok(finish(txn, &mut task, FAILED, Some(missing_queue)));
    };
    let prefix = model::visibility_prefix(source.id);
    let upper = model::visibility_key(source.id, now, u64::MAX);
    let mut due = Vec::new();
    txn.scan(
        Bound::Included(&prefix[..]),
        Bound::Included(&upper[..]),
        false,
        &mut |k, _| {
            if let Some(entry) = model::parse_visibility_key(k) {
                due.push(entry);
            }
            due.len() < batch
        },
    )?;
    if due.is_empty() {
        return Ok(finish(txn, &mut task, COMPLETED, None));
    }
    let retention_ms = u64::from(source.attributes.message_retention_period) * 1000;
    let mut woken = Vec::new();
    let mut moved = 0;
    for (at, seq) in due {
        let key = model::message_key(source.id, seq);
        let Some(mut record) = load_message(txn, &key)? else {
            txn.delete(&model::visibility_key(source.id, at, seq));
            continue;
        };
        if record.sent_ms + retention_ms <= now {
            groups::remove(txn, source.id, seq, &record)?;
            txn.delete(&key);
            txn.delete(&model::visibility_key(source.id, at, seq));
            continue;
        }
        let target_arn = task
            .destination_arn
            .clone()
            .or_else(|| record.dead_letter_source_arn.clone());
        let target = match &target_arn {
            Some(arn) => queue_by_arn(txn, arn)?,
            None => None,
        };
        let Some(target) = target.filter(|t| t.is_fifo() == source.is_fifo()) else {
            // Nowhere to put it: the task fails and the message stays;
            // what this batch moved before it stays moved.
            let mut failed = finish(txn, &mut task, FAILED, Some(missing_queue));
            failed.woken = woken;
            return Ok(failed);
        };
        groups::remove(txn, source.id, seq, &record)?;
        txn.delete(&key);
        txn.delete(&model::visibility_key(source.id, at, seq));
        let new_seq = model::read_u64(txn.get(model::NEXT_SEQUENCE_KEY)?) + 1;
        txn.put(model::NEXT_SEQUENCE_KEY, &new_seq.to_be_bytes());
        if target.is_fifo() {
            record.sequence_number = Some(crate::fifo::sequence_number(new_seq));
        }
        record.receive_count = 0;
        record.first_receive_ms = None;
        record.last_receive_ms = None;
        record.visible_at_ms = now;
        record.dead_letter_source_arn = None;
        groups::add(txn, target.id, new_seq, &record)?;
        txn.put(&model::message_key(target.id, new_seq), &to_json(&record));
        txn.put(
            &model::visibility_key(target.id, now, new_seq),
            &model::visibility_value(&record),
        );
        if !woken.contains(&target.id) {
            woken.push(target.id);
        }
        moved += 1;
        task.moved += 1;
    }
    save(txn, &task);
    Ok(Step {
        finished: false,
        moved,
        woken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip() {
        let task = TaskRecord {
            id: 42,
            source_arn: "arn:aws:sqs:us-east-1:000000000000:dlq".into(),
            source_queue_id: 1,
            destination_arn: None,
            max_per_second: None,
            status: RUNNING.into(),
            moved: 0,
            to_move: 0,
            started_ms: 0,
            failure_reason: None,
        };
        assert_eq!(parse_handle(&task.handle()), Some(42));
        assert_eq!(parse_handle("nope"), None);
        assert_eq!(parse_handle(""), None);
    }
}
