//! Topic tags: TagResource, UntagResource, ListTagsForResource and the
//! `Tags` of CreateTopic. Limits (SNS API reference, Tag): at most 50 tags
//! a topic, keys 1 to 128 characters, values up to 256. Tags live in the
//! topic record, so they change in one store write and go with the topic.

use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::arn::{self, TopicRef};
use crate::catalog::load_topic;
use crate::error::{Result, SnsError};
use crate::model;
use crate::query::Object;
use crate::request;
use crate::Sns;

pub const MAX_TAGS: usize = 50;

/// A `Tags` list member (`[{Key, Value}]`), checked; duplicate keys in one
/// request are refused.
pub fn parse_tags(req: &Object, member: &str) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, tag) in request::obj_list(req, member)?.into_iter().enumerate() {
        let at = format!("tags.{}.member", i + 1);
        let key =
            request::opt_str(tag, "Key")?.ok_or_else(|| SnsError::missing(&format!("{at}.key")))?;
        let value = request::opt_str(tag, "Value")?
            .ok_or_else(|| SnsError::missing(&format!("{at}.value")))?;
        let length = key.chars().count();
        if length == 0 || length > 128 {
            return Err(SnsError::validation(format!(
                "1 validation error detected: Value '{key}' at '{at}.key' failed to satisfy constraint: Member must have length {}",
                if length == 0 { "greater than or equal to 1" } else { "less than or equal to 128" }
            )));
        }
        if value.chars().count() > 256 {
            return Err(SnsError::validation(format!(
                "1 validation error detected: Value '{value}' at '{at}.value' failed to satisfy constraint: Member must have length less than or equal to 256"
            )));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(SnsError::invalid_parameter(
                "Invalid parameter: Duplicated keys are not allowed.",
            ));
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    if out.len() > MAX_TAGS {
        return Err(SnsError::tag_limit_exceeded());
    }
    Ok(out)
}

/// The topic a `ResourceArn` names.
fn resource(arn_text: &str) -> Result<TopicRef> {
    arn::parse_topic("ResourceArn", arn_text).map_err(|e| {
        if e.code == "NotFound" {
            SnsError::resource_not_found()
        } else {
            e
        }
    })
}

async fn update_tags(
    sns: &Sns,
    t: TopicRef,
    change: impl FnOnce(&mut std::collections::BTreeMap<String, String>) -> Result<()> + Send + 'static,
) -> Result<()> {
    let topic_ref = t.clone();
    sns.store()
        .write(move |txn| {
            let mut topic =
                load_topic(txn, &topic_ref)?.ok_or_else(SnsError::resource_not_found)?;
            change(&mut topic.tags)?;
            txn.put(&model::topic_key(&topic_ref), &model::to_json(&topic));
            Ok::<_, SnsError>(())
        })
        .await?;
    sns.catalog().invalidate(&t);
    Ok(())
}

pub async fn tag_resource(sns: &Sns, _ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resource(request::req_str(req, "ResourceArn")?)?;
    if req.get("Tags").is_none() {
        return Err(SnsError::missing("Tags"));
    }
    let tags = parse_tags(req, "Tags")?;
    update_tags(sns, t, move |current| {
        for (k, v) in tags {
            current.insert(k, v);
        }
        if current.len() > MAX_TAGS {
            return Err(SnsError::tag_limit_exceeded());
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn untag_resource(sns: &Sns, _ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resource(request::req_str(req, "ResourceArn")?)?;
    if req.get("TagKeys").is_none() {
        return Err(SnsError::missing("TagKeys"));
    }
    let keys = request::str_list(req, "TagKeys")?;
    update_tags(sns, t, move |current| {
        for k in &keys {
            current.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub fn list_tags_for_resource(sns: &Sns, _ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resource(request::req_str(req, "ResourceArn")?)?;
    let snapshot = sns.store().snapshot()?;
    let topic = load_topic(&snapshot, &t)?.ok_or_else(SnsError::resource_not_found)?;
    let tags: Vec<Value> = topic
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "Tags": tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Object {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn tag_lists_are_checked() {
        let ok = parse_tags(
            &obj(json!({"Tags": [{"Key": "a", "Value": ""}, {"Key": "b", "Value": "2"}]})),
            "Tags",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        let dup = parse_tags(
            &obj(json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})),
            "Tags",
        )
        .unwrap_err();
        assert_eq!(
            dup.message,
            "Invalid parameter: Duplicated keys are not allowed."
        );
        let long = parse_tags(
            &obj(json!({"Tags": [{"Key": "k".repeat(129), "Value": "1"}]})),
            "Tags",
        )
        .unwrap_err();
        assert_eq!(long.code, "ValidationError");
        let many: Vec<Value> = (0..51)
            .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
            .collect();
        assert_eq!(
            parse_tags(&obj(json!({ "Tags": many })), "Tags")
                .unwrap_err()
                .code,
            "TagLimitExceeded"
        );
    }
}
