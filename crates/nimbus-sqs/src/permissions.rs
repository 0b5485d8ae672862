//! AddPermission and RemovePermission: labelled statements in the queue's
//! `Policy` (see [`crate::policy`]), with AWS's checks and texts.
//!
//! Texts: "Already exists", "can't find label on existing policy", the
//! PrincipalId text, the 7-action OverLimit and the owner-only action text
//! are moto's (its tests assert them as AWS sends them); the text for a
//! name that is no action at all and the label rule are Eucalyptus's
//! (an AWS-compatible implementation of the query API), also used by
//! local-aws; the 20-statement OverLimit text is local-aws's.

use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{Result, SqsError};
use crate::policy::{self, Document, MAX_ACTIONS, MAX_STATEMENTS};
use crate::queues::update_queue;
use crate::request::{self, Object};
use crate::Sqs;

/// Actions a queue owner may grant to other accounts (`*` is all of them).
/// SendMessage, DeleteMessage and ChangeMessageVisibility cover their
/// batch forms.
const GRANTABLE: [&str; 9] = [
    "*",
    "ChangeMessageVisibility",
    "DeleteMessage",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "SendMessage",
];

/// SQS actions only the owner may call, so they cannot be granted.
const OWNER_ONLY: [&str; 12] = [
    "AddPermission",
    "CancelMessageMoveTask",
    "CreateQueue",
    "DeleteQueue",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "RemovePermission",
    "SetQueueAttributes",
    "StartMessageMoveTask",
    "TagQueue",
    "UntagQueue",
];

fn check_action(action: &str) -> Result<()> {
    if GRANTABLE.contains(&action) {
        return Ok(());
    }
    let reason = if OWNER_ONLY.contains(&action) {
        "Only the queue owner is allowed to invoke this action."
    } else {
        "Please refer to the appropriate WSDL for a list of valid actions."
    };
    Err(SqsError::invalid_parameter_value(format!(
        "Value SQS:{action} for parameter ActionName is invalid. Reason: {reason}"
    )))
}

/// Labels follow the queue name rule: 1 to 80 of [A-Za-z0-9_-].
fn check_label(label: &str) -> Result<()> {
    let ok = (1..=80).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SqsError::invalid_parameter_value(
            "Label can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ))
    }
}

/// A required Label; empty counts as missing.
fn label(req: &Object) -> Result<String> {
    match request::opt_str(req, "Label")? {
        Some(l) if !l.is_empty() => Ok(l.to_owned()),
        _ => Err(SqsError::missing_parameter("Label")),
    }
}

/// AWS verifies that each account exists; nimbus can only check that it
/// is one (twelve digits), and refuses the list as AWS does when not.
fn check_accounts(accounts: &[String]) -> Result<()> {
    let valid = |a: &String| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    if accounts.is_empty() || !accounts.iter().all(valid) {
        return Err(SqsError::invalid_parameter_value(format!(
            "Value [{}] for parameter PrincipalId is invalid. Reason: Unable to verify.",
            accounts.join(", ")
        )));
    }
    Ok(())
}

pub async fn add_permission(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let label = label(req)?;
    let actions = request::str_list(req, "Actions")?;
    if actions.is_empty() {
        return Err(SqsError::missing_parameter("Actions"));
    }
    let accounts = request::str_list(req, "AWSAccountIds")?;
    check_accounts(&accounts)?;
    if actions.len() > MAX_ACTIONS {
        return Err(SqsError::over_limit(format!(
            "{} Actions were found, maximum allowed is {MAX_ACTIONS}.",
            actions.len()
        )));
    }
    for action in &actions {
        check_action(action)?;
    }
    check_label(&label)?;
    let arn = queue.arn();
    let statement = policy::permission_statement(&label, &accounts, &actions, &arn);
    update_queue(sqs, &queue, move |_, current, now| {
        let mut document = current_document(current.policy.as_deref())?
            .unwrap_or_else(|| Document::new_for_queue(&arn));
        document.add(&label, statement)?;
        if document.len() > MAX_STATEMENTS {
            return Err(SqsError::over_limit(format!(
                "{} Statements were found, maximum allowed is {MAX_STATEMENTS}.",
                document.len()
            )));
        }
        current.policy = Some(document.render());
        current.last_modified = now;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn remove_permission(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    let label = label(req)?;
    update_queue(sqs, &queue, move |_, current, now| {
        let not_found = || {
            SqsError::invalid_parameter_value(format!(
                "Value {label} for parameter Label is invalid. Reason: can't find label on existing policy."
            ))
        };
        let mut document = current_document(current.policy.as_deref())?.ok_or_else(not_found)?;
        if !document.remove(&label) {
            return Err(not_found());
        }
        // A policy left without statements is removed, not kept empty.
        current.policy = (!document.is_empty()).then(|| document.render());
        current.last_modified = now;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// The queue's policy as a document; every stored policy was validated
/// when it was set, so one that does not parse is damage, not input.
fn current_document(text: Option<&str>) -> Result<Option<Document>> {
    text.map(|t| {
        Document::parse(t)
            .ok_or_else(|| SqsError::internal("the queue's stored policy is unreadable"))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_labels() {
        assert!(check_action("SendMessage").is_ok());
        assert!(check_action("*").is_ok());
        assert_eq!(
            check_action("DeleteQueue").unwrap_err().message,
            "Value SQS:DeleteQueue for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action."
        );
        assert_eq!(
            check_action("SendMessageBatch").unwrap_err().message,
            "Value SQS:SendMessageBatch for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions."
        );
        assert!(check_label("a-b_C9").is_ok());
        assert!(check_label(&"x".repeat(80)).is_ok());
        assert!(check_label(&"x".repeat(81)).is_err());
        assert!(check_label("a b").is_err());
        assert!(check_accounts(&["123456789012".into()]).is_ok());
        assert_eq!(
            check_accounts(&[]).unwrap_err().message,
            "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify."
        );
        assert_eq!(
            check_accounts(&["123456789012".into(), "nope".into()])
                .unwrap_err()
                .message,
            "Value [123456789012, nope] for parameter PrincipalId is invalid. Reason: Unable to verify."
        );
    }
}
