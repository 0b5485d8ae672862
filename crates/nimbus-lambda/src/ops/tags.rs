//! TagResource, UntagResource, ListTags (on functions, by ARN).

use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

use super::functions::check_tags;
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::names;
use crate::{Lambda, Reply, Request};

/// The function a tagging ARN names (tags live on the unqualified function).
fn function_of(ctx: &RequestContext, arn: &str) -> Result<String> {
    if !arn.starts_with("arn:") {
        return Err(LambdaError::constraint(
            arn,
            "resource",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
        ));
    }
    let r = names::parse_function_ref(arn)?;
    let _ = ctx;
    Ok(r.name)
}

fn not_found(ctx: &RequestContext, name: &str) -> LambdaError {
    super::not_found(ctx, name, None)
}

pub fn list_tags(lambda: &Lambda, ctx: &RequestContext, arn: &str) -> Result<Reply> {
    let name = function_of(ctx, arn)?;
    let f = lambda
        .inner()
        .catalog
        .get(&ctx.account_id, &ctx.region, &name)
        .ok_or_else(|| not_found(ctx, &name))?;
    Ok(Reply::json(200, &json!({ "Tags": f.tags })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

pub async fn tag_resource(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    arn: &str,
) -> Result<Reply> {
    let name = function_of(ctx, arn)?;
    let input: TagInput = req.json()?;
    let ctx_owned = ctx.clone();
    lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &name.clone(),
            move |current| {
                let mut record = current
                    .cloned()
                    .ok_or_else(|| not_found(&ctx_owned, &name))?;
                record.tags.extend(input.tags);
                check_tags(&record.tags)?;
                Ok(Change::Put(Box::new(record), ()))
            },
        )
        .await?;
    Ok(Reply::empty(204))
}

pub async fn untag_resource(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    arn: &str,
) -> Result<Reply> {
    let name = function_of(ctx, arn)?;
    let keys: Vec<String> = req
        .query
        .as_deref()
        .map(|q| {
            nimbus_wire::form::pairs(q)
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| v)
                .collect()
        })
        .unwrap_or_default();
    let ctx_owned = ctx.clone();
    lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &name.clone(),
            move |current| {
                let mut record = current
                    .cloned()
                    .ok_or_else(|| not_found(&ctx_owned, &name))?;
                for k in &keys {
                    record.tags.remove(k);
                }
                Ok(Change::Put(Box::new(record), ()))
            },
        )
        .await?;
    Ok(Reply::empty(204))
}
