//! A queue's settable attributes across queue types: which names a queue
//! accepts (FIFO ones only on FIFO queues), applying CreateQueue and
//! SetQueueAttributes changes, and each attribute's text as
//! GetQueueAttributes returns it.

use crate::attributes;
use crate::error::{Result, SqsError};
use crate::fifo::{self, FifoAttributes, FIFO_ONLY};
use crate::model::QueueRecord;
use crate::redrive::{self, RedrivePolicy};
use crate::{policy, sse};

/// Attributes about redrive, which every queue type has (as do the
/// `Policy` and the encryption attributes).
const REDRIVE: [&str; 2] = ["RedrivePolicy", "RedriveAllowPolicy"];

/// The queue type CreateQueue's `FifoQueue` attribute asks for: FIFO for
/// `true`; absent means standard. AWS refuses `false` as an unknown
/// attribute, since only FIFO queues have it.
pub fn requested_fifo(changes: &[(String, String)]) -> Result<bool> {
    match changes.iter().rev().find(|(n, _)| n == "FifoQueue") {
        None => Ok(false),
        Some((_, v)) => match fifo::parse_bool(v) {
            Some(true) => Ok(true),
            Some(false) => Err(SqsError::invalid_attribute_name("FifoQueue")),
            None => Err(SqsError::invalid_attribute_value("FifoQueue")),
        },
    }
}

/// Applies attribute changes in request order. `FifoQueue` is only
/// meaningful at creation (see [`requested_fifo`]); on an existing FIFO
/// queue `true` changes nothing and anything else is refused.
pub fn apply(queue: &mut QueueRecord, changes: &[(String, String)]) -> Result<()> {
    sse::check_request(changes)?;
    for (name, value) in changes {
        match name.as_str() {
            "Policy" => queue.policy = policy::parse_attribute(value)?,
            n if sse::NAMES.contains(&n) => queue.encryption.apply(n, value)?,
            "RedrivePolicy" => queue.redrive_policy = redrive::parse_redrive_policy(value)?,
            "RedriveAllowPolicy" => {
                queue.redrive_allow_policy = redrive::parse_redrive_allow_policy(value)?
            }
            "FifoQueue" => match (&queue.fifo, fifo::parse_bool(value)) {
                (None, _) => return Err(SqsError::invalid_attribute_name(name)),
                (Some(_), Some(true)) => {}
                (Some(_), _) => return Err(SqsError::invalid_attribute_value(name)),
            },
            n if FIFO_ONLY.contains(&n) => match &mut queue.fifo {
                Some(f) => {
                    f.apply(n, value)?;
                }
                None => return Err(SqsError::invalid_attribute_name(n)),
            },
            _ => queue.attributes.apply(&[(name.clone(), value.clone())])?,
        }
    }
    if let Some(f) = &queue.fifo {
        f.check()?;
    }
    Ok(())
}

/// The RedrivePolicy `changes` set (with its text as sent), if any.
pub fn new_redrive_policy(
    queue: &QueueRecord,
    changes: &[(String, String)],
) -> Option<(RedrivePolicy, String)> {
    let (_, raw) = changes.iter().rev().find(|(n, _)| n == "RedrivePolicy")?;
    queue.redrive_policy.clone().map(|p| (p, raw.clone()))
}

/// The text of a settable attribute, `None` if the queue does not have it
/// (an unset policy, or a FIFO attribute of a standard queue).
pub fn text(queue: &QueueRecord, name: &str) -> Option<String> {
    match name {
        "RedrivePolicy" => queue.redrive_policy.as_ref().map(RedrivePolicy::render),
        "RedriveAllowPolicy" => queue.redrive_allow_policy.as_ref().map(|p| p.render()),
        "Policy" => queue.policy.clone(),
        n if sse::NAMES.contains(&n) => queue.encryption.get(n),
        n if FIFO_ONLY.contains(&n) => queue.fifo.as_ref().and_then(|f| f.get(n)),
        n => queue.attributes.get(n).map(|v| v.to_string()),
    }
}

/// Every attribute name this queue answers to, in the order `All` lists
/// them.
pub fn names(queue: &QueueRecord) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = attributes::all_names().collect();
    out.extend(REDRIVE);
    out.push("Policy");
    out.extend(sse::NAMES);
    if queue.is_fifo() {
        out.extend(FIFO_ONLY);
    }
    out
}

/// Whether GetQueueAttributes accepts `name` for this queue.
pub fn is_known(queue: &QueueRecord, name: &str) -> bool {
    name == "All" || names(queue).contains(&name)
}

/// A FIFO queue's attributes when it is created.
pub fn new_fifo() -> FifoAttributes {
    FifoAttributes::default()
}
