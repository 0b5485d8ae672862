//! Queue tags: TagQueue, UntagQueue, ListQueueTags and the `tags` of
//! CreateQueue, with AWS's limits (50 tags a queue, keys 1 to 128
//! characters, values up to 256). Tags live in the queue record, so they
//! change in the same store write as nothing else and go with the queue.

use std::collections::BTreeMap;

use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{Result, SqsError};
use crate::queues::update_queue;
use crate::request::{self, Object};
use crate::Sqs;

pub const MAX_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

fn check_tag(key: &str, value: &str) -> Result<()> {
    if !(1..=MAX_KEY_CHARS).contains(&key.chars().count()) {
        return Err(SqsError::invalid_parameter_value(
            "Tag keys must be between 1 and 128 characters in length.",
        ));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(SqsError::invalid_parameter_value(
            "Tag values must be between 0 and 256 characters in length.",
        ));
    }
    Ok(())
}

fn too_many(queue_name: &str) -> SqsError {
    SqsError::invalid_parameter_value(format!("Too many tags added for queue {queue_name}."))
}

/// CreateQueue's `tags` member, validated.
pub fn create_queue_tags(req: &Object) -> Result<BTreeMap<String, String>> {
    let tags = request::str_map(req, "tags")?;
    for (k, v) in &tags {
        check_tag(k, v)?;
    }
    if tags.len() > MAX_TAGS {
        let name = request::opt_str(req, "QueueName")?.unwrap_or_default();
        return Err(too_many(name));
    }
    Ok(tags.into_iter().collect())
}

/// Rewrites the tags of the queue at `url` with `change`, in one write,
/// against the queue as it is at write time.
async fn update_tags(
    sqs: &Sqs,
    ctx: &RequestContext,
    url: &str,
    change: impl FnOnce(&mut BTreeMap<String, String>, &str) -> Result<()> + Send + 'static,
) -> Result<()> {
    let queue = sqs.resolve(ctx, url)?;
    update_queue(sqs, &queue, move |_, current, _| {
        change(&mut current.tags, &current.name)
    })
    .await
}

pub async fn tag_queue(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let url = request::req_str(req, "QueueUrl")?;
    let tags = request::str_map(req, "Tags")?;
    if tags.is_empty() {
        return Err(SqsError::missing_parameter("Tags"));
    }
    for (k, v) in &tags {
        check_tag(k, v)?;
    }
    update_tags(sqs, ctx, url, move |current, name| {
        let mut merged = current.clone();
        merged.extend(tags);
        if merged.len() > MAX_TAGS {
            return Err(too_many(name));
        }
        *current = merged;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn untag_queue(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let url = request::req_str(req, "QueueUrl")?;
    let keys = request::str_list(req, "TagKeys")?;
    if keys.is_empty() {
        return Err(SqsError::missing_parameter("TagKeys"));
    }
    for k in &keys {
        check_tag(k, "")?;
    }
    update_tags(sqs, ctx, url, move |current, _| {
        for k in &keys {
            current.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub fn list_queue_tags(sqs: &Sqs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let queue = sqs.resolve(ctx, request::req_str(req, "QueueUrl")?)?;
    if queue.tags.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Tags": queue.tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_limits() {
        assert!(check_tag(&"k".repeat(128), &"v".repeat(256)).is_ok());
        assert!(check_tag("k", "").is_ok());
        assert_eq!(
            check_tag("", "v").unwrap_err().message,
            "Tag keys must be between 1 and 128 characters in length."
        );
        assert!(check_tag(&"k".repeat(129), "v").is_err());
        assert!(check_tag("k", &"v".repeat(257)).is_err());
    }
}
