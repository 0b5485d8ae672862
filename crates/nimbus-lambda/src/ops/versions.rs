//! PublishVersion and ListVersionsByFunction.

use nimbus_wire::RequestContext;
use serde::Deserialize;

use super::functions::{paginate, with_new_version};
use super::{check_revision, find, max_items};
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::model::configuration_json;
use crate::{Lambda, Reply, Request};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishVersionInput {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

pub async fn publish_version(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: PublishVersionInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    if r.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Function name cannot contain a qualifier for this operation.",
        ));
    }
    if let Some(d) = &input.description {
        super::check_description(d)?;
    }
    let record = lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &f.name.clone(), move |current| {
            let record = current
                .cloned()
                .ok_or_else(|| LambdaError::not_found(format!("Function not found: {}", f.arn())))?;
            check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
            if let Some(sha) = input.code_sha256.as_deref() {
                if sha != record.latest.code_sha256 {
                    return Err(LambdaError::invalid(format!(
                        "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try publishing again with the CodeSHA256 in $LATEST.",
                        record.latest.code_sha256
                    )));
                }
            }
            let before = record.last_version;
            let record = with_new_version(record, input.description);
            if record.last_version == before {
                return Ok(Change::Keep(record));
            }
            Ok(Change::Put(Box::new(record.clone()), record))
        })
        .await?;
    let v = record
        .versions
        .values()
        .next_back()
        .ok_or_else(|| LambdaError::Service("published version missing".into()))?;
    Ok(Reply::json(201, &configuration_json(&record, v)))
}

pub fn list_versions_by_function(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let limit = max_items(req)?;
    let (f, _) = find(lambda, ctx, name)?;
    // `$LATEST` first, then versions in numeric order.
    let mut entries = vec![(String::from("0"), configuration_json(&f, &f.latest))];
    for (n, v) in &f.versions {
        entries.push((format!("1{n:020}"), configuration_json(&f, v)));
    }
    let (page, next) = paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(200, &super::page_json("Versions", page, next)))
}
