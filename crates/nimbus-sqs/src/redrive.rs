//! Dead-letter queues: RedrivePolicy and RedriveAllowPolicy (parsing,
//! validation against the store, rendering), moving a message that was
//! received too often to its dead-letter queue, and
//! ListDeadLetterSourceQueues.
//!
//! A move is part of the receive's store write: the message leaves the
//! source and enters the dead-letter queue in one atomic write, so a crash
//! can neither lose nor duplicate it.

use std::ops::Bound;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Result, SqsError};
use crate::groups;
use crate::model::{self, MessageRecord, QueueRecord};
use crate::queues::to_json;
use crate::request::{self, Object};
use crate::{load_queue, queue_url, Sqs};

/// A source queue's RedrivePolicy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// The attribute text GetQueueAttributes returns.
    pub fn render(&self) -> String {
        json!({
            "deadLetterTargetArn": self.dead_letter_target_arn,
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }
}

/// A dead-letter queue's RedriveAllowPolicy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RedriveAllowPolicy {
    /// `allowAll`, `denyAll` or `byQueue`.
    pub redrive_permission: String,
    #[serde(default)]
    pub source_queue_arns: Vec<String>,
}

impl RedriveAllowPolicy {
    pub fn render(&self) -> String {
        let mut out = Map::new();
        out.insert("redrivePermission".into(), json!(self.redrive_permission));
        if self.redrive_permission == "byQueue" {
            out.insert("sourceQueueArns".into(), json!(self.source_queue_arns));
        }
        Value::Object(out).to_string()
    }

    fn allows(&self, source_arn: &str) -> bool {
        match self.redrive_permission.as_str() {
            "denyAll" => false,
            "byQueue" => self.source_queue_arns.iter().any(|a| a == source_arn),
            _ => true,
        }
    }
}

const MAX_SOURCE_QUEUE_ARNS: usize = 10;

fn invalid(parameter: &str, raw: &str, reason: &str) -> SqsError {
    SqsError::invalid_parameter_value(format!(
        "Value {raw} for parameter {parameter} is invalid. Reason: {reason}"
    ))
}

/// Parses a RedrivePolicy attribute; the empty string removes the policy.
/// Only the shape is checked here; [`check_target`] checks the queue it
/// names.
pub fn parse_redrive_policy(raw: &str) -> Result<Option<RedrivePolicy>> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| invalid("RedrivePolicy", raw, reason);
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(raw) else {
        return Err(bad("Redrive policy is not a valid JSON map."));
    };
    let arn = match fields.get("deadLetterTargetArn") {
        Some(Value::String(arn)) => arn.clone(),
        Some(_) => return Err(bad("Invalid value for deadLetterTargetArn.")),
        None => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            ))
        }
    };
    let count = match fields.get("maxReceiveCount") {
        None => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ))
        }
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let max_receive_count = count
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            bad(&format!(
                "Invalid value for maxReceiveCount: {count}, valid values are from 1 to 1000 both inclusive."
            ))
        })?;
    if model::parse_queue_arn(&arn).is_none() {
        return Err(bad("Invalid value for deadLetterTargetArn."));
    }
    Ok(Some(RedrivePolicy {
        dead_letter_target_arn: arn,
        max_receive_count,
    }))
}

/// Parses a RedriveAllowPolicy attribute; the empty string removes it.
pub fn parse_redrive_allow_policy(raw: &str) -> Result<Option<RedriveAllowPolicy>> {
    if raw.is_empty() {
        return Ok(None);
    }
    // AWS's texts, as local-aws (which matches AWS's texts, including the
    // typographic apostrophe of this one) has them: a malformed policy is
    // not quoted back, a well-formed but inconsistent one is.
    let unsupported = || {
        SqsError::invalid_parameter_value(
            "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the redrive allow policy, as it\u{2019}s in an unsupported format.",
        )
    };
    let refused = |reason: &str| {
        invalid(
            "RedriveAllowPolicy",
            raw,
            &format!("Amazon SQS can't create the redrive allow policy. {reason}"),
        )
    };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(raw) else {
        return Err(unsupported());
    };
    if fields
        .keys()
        .any(|k| k != "redrivePermission" && k != "sourceQueueArns")
    {
        return Err(unsupported());
    }
    let permission = fields
        .get("redrivePermission")
        .and_then(Value::as_str)
        .filter(|p| matches!(*p, "allowAll" | "denyAll" | "byQueue"))
        .ok_or_else(unsupported)?;
    let arns: Vec<String> = match fields.get("sourceQueueArns") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(unsupported))
            .collect::<Result<_>>()?,
        Some(_) => return Err(unsupported()),
    };
    match permission {
        "byQueue" if arns.is_empty() => Err(refused(
            "When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.",
        )),
        "byQueue" if arns.len() > MAX_SOURCE_QUEUE_ARNS => Err(refused(
            "The maximum number of source queue ARNs you can specify is 10.",
        )),
        "allowAll" | "denyAll" if fields.contains_key("sourceQueueArns") => Err(refused(
            "To specify one or more source queue ARNs, you must set redrivePermission to byQueue.",
        )),
        _ => Ok(Some(RedriveAllowPolicy {
            redrive_permission: permission.to_owned(),
            source_queue_arns: arns,
        })),
    }
}

/// Checks that the dead-letter queue `policy` names exists in the source's
/// region and account, is of the same type, and lets `source` redrive into
/// it. `raw` is the attribute text as sent, which AWS's messages quote.
pub fn check_target(
    view: &impl ReadView,
    source: &QueueRecord,
    policy: &RedrivePolicy,
    raw: &str,
) -> Result<()> {
    let bad = |reason: &str| invalid("RedrivePolicy", raw, reason);
    let (region, account, name) = model::parse_queue_arn(&policy.dead_letter_target_arn)
        .ok_or_else(|| bad("Invalid value for deadLetterTargetArn."))?;
    if region != source.region {
        return Err(bad(
            "Dead-letter target must be in same region as the source.",
        ));
    }
    if account != source.account {
        return Err(bad(
            "Dead-letter target owner should be same as the source.",
        ));
    }
    let target = load_queue(view, &model::queue_key(account, region, name))?
        .ok_or_else(|| bad("Dead letter target does not exist."))?;
    if target.is_fifo() != source.is_fifo() {
        // AWS's text ends in two full stops.
        return Err(bad(
            "Dead-letter queue must be same type of queue as the source..",
        ));
    }
    if let Some(allow) = &target.redrive_allow_policy {
        if !allow.allows(&source.arn()) {
            return Err(bad(&format!(
                "Queue {} does not allow {} to use it as a dead-letter queue.",
                target.arn(),
                source.arn()
            )));
        }
    }
    Ok(())
}

/// The dead-letter queue of `source`, if it has a policy and the queue
/// still exists.
pub fn dead_letter_queue(
    view: &impl ReadView,
    source: &QueueRecord,
) -> Result<Option<QueueRecord>> {
    let Some(policy) = &source.redrive_policy else {
        return Ok(None);
    };
    let Some((region, account, name)) = model::parse_queue_arn(&policy.dead_letter_target_arn)
    else {
        return Ok(None);
    };
    load_queue(view, &model::queue_key(account, region, name))
}

/// Moves the message stored under `seq` in `source` (whose visibility entry
/// the caller already removed) into `dlq`, in `txn`. It keeps its id, body
/// and attributes; its receive count starts again. A standard queue keeps
/// the original enqueue time (retention counts from it), a FIFO queue's
/// resets, as AWS documents. The caller has taken it out of the source's
/// group index.
pub fn move_to_dead_letter_queue(
    txn: &mut WriteTxn<'_>,
    source: &QueueRecord,
    dlq: &QueueRecord,
    seq: u64,
    mut record: MessageRecord,
    now: u64,
) -> Result<()> {
    txn.delete(&model::message_key(source.id, seq));
    let new_seq = model::read_u64(txn.get(model::NEXT_SEQUENCE_KEY)?) + 1;
    txn.put(model::NEXT_SEQUENCE_KEY, &new_seq.to_be_bytes());
    if source.is_fifo() {
        record.sent_ms = now;
        record.sequence_number = Some(crate::fifo::sequence_number(new_seq));
    }
    record.receive_count = 0;
    record.first_receive_ms = None;
    record.last_receive_ms = None;
    record.visible_at_ms = now;
    record.dead_letter_source_arn = Some(source.arn());
    groups::add(txn, dlq.id, new_seq, &record)?;
    txn.put(&model::message_key(dlq.id, new_seq), &to_json(&record));
    txn.put(
        &model::visibility_key(dlq.id, record.visible_at_ms, new_seq),
        &model::visibility_value(&record),
    );
    Ok(())
}

pub fn list_dead_letter_source_queues(
    sqs: &Sqs,
    ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let dlq = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
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
    let arn = dlq.arn();
    // Sources are queues of the same account and region whose policy names
    // this queue: one scan of that account's queues, in name order.
    let start = model::queue_key(&dlq.account, &dlq.region, "");
    let end = model::prefix_end(&start);
    let lower = match &after {
        Some(last) => Bound::Excluded(model::queue_key(&dlq.account, &dlq.region, last)),
        None => Bound::Included(start.clone()),
    };
    let mut names = Vec::new();
    let mut more = false;
    let mut broken = None;
    sqs.store().snapshot()?.scan(
        lower.as_ref().map(Vec::as_slice),
        Bound::Excluded(&end[..]),
        false,
        &mut |_, v| {
            let queue: QueueRecord = match serde_json::from_slice(v) {
                Ok(q) => q,
                Err(e) => {
                    broken = Some(e);
                    return false;
                }
            };
            let points_here = queue
                .redrive_policy
                .as_ref()
                .is_some_and(|p| p.dead_letter_target_arn == arn);
            if !points_here {
                return true;
            }
            if names.len() == limit {
                more = true;
                return false;
            }
            names.push(queue.name);
            true
        },
    )?;
    if let Some(e) = broken {
        return Err(SqsError::internal(format!(
            "queue record is unreadable: {e}"
        )));
    }
    let urls: Vec<String> = names
        .iter()
        .map(|n| queue_url(ctx, &dlq.account, n))
        .collect();
    let mut out = Map::new();
    out.insert("queueUrls".into(), json!(urls));
    if more && max.is_some() {
        if let Some(last) = names.last() {
            out.insert("NextToken".into(), json!(STANDARD.encode(last)));
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_policies_parse() {
        let arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
        let p = parse_redrive_policy(&format!(
            r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"5"}}"#
        ))
        .unwrap()
        .unwrap();
        assert_eq!(p.max_receive_count, 5);
        assert_eq!(
            p.render(),
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":5}}"#)
        );
        assert_eq!(parse_redrive_policy("").unwrap(), None);
        let raw = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":1001}}"#);
        assert_eq!(
            parse_redrive_policy(&raw).unwrap_err().message,
            format!("Value {raw} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive.")
        );
        assert!(parse_redrive_policy("[]").is_err());
        assert!(parse_redrive_policy(r#"{"maxReceiveCount":1}"#).is_err());
        assert!(parse_redrive_policy(&format!(r#"{{"deadLetterTargetArn":"{arn}"}}"#)).is_err());
        assert!(
            parse_redrive_policy(r#"{"deadLetterTargetArn":"x","maxReceiveCount":1}"#).is_err()
        );
    }

    #[test]
    fn allow_policies_parse() {
        let p = parse_redrive_allow_policy(r#"{"redrivePermission":"denyAll"}"#)
            .unwrap()
            .unwrap();
        assert!(!p.allows("a"));
        assert_eq!(p.render(), r#"{"redrivePermission":"denyAll"}"#);
        let p = parse_redrive_allow_policy(
            r#"{"redrivePermission":"byQueue","sourceQueueArns":["a"]}"#,
        )
        .unwrap()
        .unwrap();
        assert!(p.allows("a") && !p.allows("b"));
        assert!(parse_redrive_allow_policy(r#"{"redrivePermission":"byQueue"}"#).is_err());
        assert!(parse_redrive_allow_policy(
            r#"{"redrivePermission":"allowAll","sourceQueueArns":["a"]}"#
        )
        .is_err());
        assert!(parse_redrive_allow_policy(r#"{"redrivePermission":"some"}"#).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("\"a{i}\"")).collect();
        let raw = format!(
            r#"{{"redrivePermission":"byQueue","sourceQueueArns":[{}]}}"#,
            many.join(",")
        );
        assert!(parse_redrive_allow_policy(&raw).is_err());
    }
}
