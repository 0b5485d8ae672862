//! Log group tags: TagResource / UntagResource / ListTagsForResource (by
//! ARN) and the older TagLogGroup / UntagLogGroup / ListTagsLogGroup (by
//! name). Both families edit the same tags.

use std::collections::BTreeMap;

use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{LogsError, Result};
use crate::request::{self, Object};
use crate::{arn, groups, model, Logs};

pub const MAX_TAGS: usize = 50;
const KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$";
const VALUE_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";

fn tag_char_ok(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

fn check_key(key: &str, member: &str) -> Result<()> {
    let n = key.chars().count();
    if n < 1 {
        return Err(LogsError::validation(
            key,
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if n > 128 {
        return Err(LogsError::validation(
            key,
            member,
            "Member must have length less than or equal to 128",
        ));
    }
    if !key.chars().all(tag_char_ok) {
        return Err(LogsError::validation(
            key,
            member,
            &format!("Member must satisfy regular expression pattern: {KEY_PATTERN}"),
        ));
    }
    Ok(())
}

fn check_value(value: &str, member: &str) -> Result<()> {
    if value.chars().count() > 256 {
        return Err(LogsError::validation(
            value,
            member,
            "Member must have length less than or equal to 256",
        ));
    }
    if !value.chars().all(tag_char_ok) {
        return Err(LogsError::validation(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {VALUE_PATTERN}"),
        ));
    }
    Ok(())
}

/// Checks a request's tag map (1 to 50 entries, keys and values per the
/// model).
pub fn validate_new(tags: Vec<(String, String)>, member: &str) -> Result<BTreeMap<String, String>> {
    if tags.is_empty() {
        return Err(LogsError::validation(
            "{}",
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if tags.len() > MAX_TAGS {
        return Err(LogsError::validation(
            format!("map of {} tags", tags.len()),
            member,
            "Member must have length less than or equal to 50",
        ));
    }
    for (k, v) in &tags {
        check_key(k, &format!("{member}.{k}.member.key"))?;
        check_value(v, &format!("{member}.{k}.member.value"))?;
    }
    Ok(tags.into_iter().collect())
}

fn tag_keys(req: &Object, member: &str) -> Result<Vec<String>> {
    let keys = request::opt_str_list(req, member)?.ok_or_else(|| LogsError::missing(member))?;
    if keys.is_empty() {
        return Err(LogsError::validation(
            "[]",
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if keys.len() > MAX_TAGS {
        return Err(LogsError::validation(
            format!("list of {} keys", keys.len()),
            member,
            "Member must have length less than or equal to 50",
        ));
    }
    for k in &keys {
        check_key(k, member)?;
    }
    Ok(keys)
}

/// The log group a `resourceArn` names, in the caller's account and
/// region (log groups are the only taggable Logs resource nimbus has).
fn group_of_arn(ctx: &RequestContext, req: &Object) -> Result<String> {
    let arn_text =
        request::opt_str(req, "resourceArn")?.ok_or_else(|| LogsError::missing("resourceArn"))?;
    let Some((region, account, name)) = arn::parse_group_arn(arn_text) else {
        return Err(LogsError::InvalidParameter(format!(
            "Invalid ARN: {arn_text}"
        )));
    };
    if region != ctx.region || account != ctx.account_id {
        return Err(LogsError::group_not_found());
    }
    request::check_group_name(name, "resourceArn")?;
    Ok(name.to_owned())
}

async fn edit_tags(
    logs: &Logs,
    ctx: &RequestContext,
    name: String,
    add: BTreeMap<String, String>,
    remove: Vec<String>,
) -> Result<()> {
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    logs.store()
        .write(move |txn| {
            let mut group = model::require_group(txn, &account, &region, &name)?;
            for k in &remove {
                group.tags.remove(k);
            }
            group.tags.extend(add);
            if group.tags.len() > MAX_TAGS {
                return Err(LogsError::TooManyTags(format!(
                    "A resource can have no more than {MAX_TAGS} tags."
                )));
            }
            groups::put_group(txn, &account, &region, &group);
            Ok(())
        })
        .await
}

fn read_tags(logs: &Logs, ctx: &RequestContext, name: &str) -> Result<BTreeMap<String, String>> {
    let snapshot = logs.store().snapshot()?;
    Ok(model::require_group(&snapshot, &ctx.account_id, &ctx.region, name)?.tags)
}

fn required_tags(req: &Object) -> Result<BTreeMap<String, String>> {
    let tags = request::opt_str_map(req, "tags")?.ok_or_else(|| LogsError::missing("tags"))?;
    validate_new(tags, "tags")
}

pub async fn tag_resource(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = group_of_arn(ctx, req)?;
    let tags = required_tags(req)?;
    edit_tags(logs, ctx, name, tags, Vec::new()).await?;
    Ok(json!({}))
}

pub async fn untag_resource(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = group_of_arn(ctx, req)?;
    let keys = tag_keys(req, "tagKeys")?;
    edit_tags(logs, ctx, name, BTreeMap::new(), keys).await?;
    Ok(json!({}))
}

pub fn list_tags_for_resource(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = group_of_arn(ctx, req)?;
    Ok(json!({ "tags": read_tags(logs, ctx, &name)? }))
}

pub async fn tag_log_group(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::group_name(req)?.to_owned();
    let tags = required_tags(req)?;
    edit_tags(logs, ctx, name, tags, Vec::new()).await?;
    Ok(json!({}))
}

pub async fn untag_log_group(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::group_name(req)?.to_owned();
    let keys = tag_keys(req, "tags")?;
    edit_tags(logs, ctx, name, BTreeMap::new(), keys).await?;
    Ok(json!({}))
}

pub fn list_tags_log_group(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::group_name(req)?;
    Ok(json!({ "tags": read_tags(logs, ctx, name)? }))
}
