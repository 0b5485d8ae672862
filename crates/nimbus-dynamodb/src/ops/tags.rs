//! TagResource, UntagResource, ListTagsOfResource.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::catalog::Table;
use crate::codec::decode;
use crate::error::{DynamoError, Result};
use crate::ops::tables::{parse_tags, save_definition, Tag};
use crate::{Caller, DynamoDb};

const MAX_TAGS: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceInput {
    resource_arn: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceInput {
    resource_arn: Option<String>,
    #[serde(default)]
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    resource_arn: Option<String>,
    next_token: Option<String>,
}

/// The table a table ARN names: `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`.
fn table_by_arn(db: &DynamoDb, arn: Option<&str>) -> Result<Arc<Table>> {
    let arn = arn.ok_or_else(|| {
        DynamoError::validation(
            "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let invalid = || {
        DynamoError::validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _partition, "dynamodb", region, account, resource] = parts.as_slice() else {
        return Err(invalid());
    };
    let name = resource.strip_prefix("table/").ok_or_else(invalid)?;
    if name.contains('/') {
        // Index and stream ARNs are not taggable.
        return Err(invalid());
    }
    // "ResourcArn" is AWS's own spelling in this message.
    db.catalog.get(account, region, name).ok_or_else(|| {
        DynamoError::ResourceNotFound(format!(
            "Requested resource not found: ResourcArn: {arn} not found"
        ))
    })
}

pub async fn tag_resource(db: &DynamoDb, _caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: TagResourceInput = decode(body)?;
    let table = table_by_arn(db, input.resource_arn.as_deref())?;
    let tags = parse_tags(&input.tags, "tags")?;
    let mut def = table.def.clone();
    for (k, v) in tags {
        match def.tags.iter_mut().find(|(key, _)| *key == k) {
            Some(existing) => existing.1 = v,
            None => def.tags.push((k, v)),
        }
    }
    if def.tags.len() > MAX_TAGS {
        return Err(DynamoError::LimitExceeded(format!(
            "The number of tags for the resource exceeds the limit of {MAX_TAGS}"
        )));
    }
    save_definition(db, &table, def).await?;
    Ok(json!({}))
}

pub async fn untag_resource(db: &DynamoDb, _caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: UntagResourceInput = decode(body)?;
    let table = table_by_arn(db, input.resource_arn.as_deref())?;
    let mut def = table.def.clone();
    def.tags.retain(|(k, _)| !input.tag_keys.contains(k));
    save_definition(db, &table, def).await?;
    Ok(json!({}))
}

pub async fn list_tags_of_resource(db: &DynamoDb, _caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: ListTagsInput = decode(body)?;
    let table = table_by_arn(db, input.resource_arn.as_deref())?;
    // All tags fit one page (at most 50), so NextToken is never returned.
    let _ = input.next_token;
    let tags: Vec<Value> = table
        .def
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "Tags": tags }))
}
