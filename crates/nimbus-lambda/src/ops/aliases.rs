//! CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.
//!
//! An alias points at one published version, optionally splitting traffic
//! with one additional version by weight (RoutingConfig).

use std::collections::BTreeMap;

use nimbus_wire::RequestContext;
use serde::Deserialize;

use super::functions::paginate;
use super::{check_revision, find, max_items};
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::model::{self, alias_json, AliasRecord, FunctionRecord};
use crate::names::{self, LATEST};
use crate::{Lambda, Reply, Request};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasInput {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingInput>,
    revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoutingInput {
    #[serde(default)]
    additional_version_weights: BTreeMap<String, f64>,
}

pub async fn create_alias(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: AliasInput = req.json()?;
    let (f, _) = find(lambda, ctx, name)?;
    let alias_name = input.name.ok_or_else(|| LambdaError::null("name"))?;
    check_alias_name(&alias_name)?;
    let version = input
        .function_version
        .ok_or_else(|| LambdaError::null("functionVersion"))?;
    let description = input.description.unwrap_or_default();
    super::check_description(&description)?;
    let routing = input
        .routing_config
        .map(|r| r.additional_version_weights)
        .unwrap_or_default();
    let ctx_owned = ctx.clone();
    let (record, alias) = lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| gone(&ctx_owned, &f.name))?;
                if record.aliases.contains_key(&alias_name) {
                    return Err(LambdaError::ResourceConflict(format!(
                        "Alias already exists: {}",
                        names::qualified_arn(
                            &record.region,
                            &record.account,
                            &record.name,
                            &alias_name
                        )
                    )));
                }
                check_target(&record, &ctx_owned, &version, &routing)?;
                let alias = AliasRecord {
                    name: alias_name.clone(),
                    function_version: version,
                    description,
                    routing,
                    revision_id: model::new_revision_id(),
                };
                record.aliases.insert(alias_name, alias.clone());
                Ok(Change::Put(Box::new(record.clone()), (record, alias)))
            },
        )
        .await?;
    Ok(Reply::json(201, &alias_json(&record, &alias)))
}

pub fn get_alias(lambda: &Lambda, ctx: &RequestContext, name: &str, alias: &str) -> Result<Reply> {
    let (f, _) = find(lambda, ctx, name)?;
    let a = f
        .aliases
        .get(alias)
        .ok_or_else(|| alias_not_found(&f, alias))?;
    Ok(Reply::json(200, &alias_json(&f, a)))
}

pub async fn update_alias(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
    alias: &str,
) -> Result<Reply> {
    let input: AliasInput = req.json()?;
    let (f, _) = find(lambda, ctx, name)?;
    if let Some(d) = &input.description {
        super::check_description(d)?;
    }
    let alias_name = alias.to_owned();
    let ctx_owned = ctx.clone();
    let (record, updated) = lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| gone(&ctx_owned, &f.name))?;
                let mut a = record
                    .aliases
                    .get(&alias_name)
                    .cloned()
                    .ok_or_else(|| alias_not_found(&record, &alias_name))?;
                check_revision(input.revision_id.as_deref(), &a.revision_id)?;
                if let Some(v) = input.function_version {
                    a.function_version = v;
                }
                if let Some(d) = input.description {
                    a.description = d;
                }
                if let Some(r) = input.routing_config {
                    a.routing = r.additional_version_weights;
                }
                check_target(&record, &ctx_owned, &a.function_version, &a.routing)?;
                a.revision_id = model::new_revision_id();
                record.aliases.insert(alias_name, a.clone());
                Ok(Change::Put(Box::new(record.clone()), (record, a)))
            },
        )
        .await?;
    Ok(Reply::json(200, &alias_json(&record, &updated)))
}

pub async fn delete_alias(
    lambda: &Lambda,
    ctx: &RequestContext,
    name: &str,
    alias: &str,
) -> Result<Reply> {
    let (f, _) = find(lambda, ctx, name)?;
    let alias_name = alias.to_owned();
    let ctx_owned = ctx.clone();
    lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| gone(&ctx_owned, &f.name))?;
                // Deleting an alias that does not exist succeeds on AWS.
                if record.aliases.remove(&alias_name).is_none() {
                    return Ok(Change::Keep(()));
                }
                Ok(Change::Put(Box::new(record), ()))
            },
        )
        .await?;
    Ok(Reply::empty(204))
}

pub fn list_aliases(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let limit = max_items(req)?;
    let (f, _) = find(lambda, ctx, name)?;
    let filter = req.query("FunctionVersion");
    let entries = f
        .aliases
        .values()
        .filter(|a| filter.as_deref().is_none_or(|v| a.function_version == v))
        .map(|a| (a.name.clone(), alias_json(&f, a)))
        .collect();
    let (page, next) = paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(200, &super::page_json("Aliases", page, next)))
}

/// The versions an alias points at must exist; a split needs two distinct
/// published versions and a weight between 0 and 1.
fn check_target(
    f: &FunctionRecord,
    ctx: &RequestContext,
    version: &str,
    routing: &BTreeMap<String, f64>,
) -> Result<()> {
    if f.version(version).is_none() {
        return Err(super::not_found(ctx, &f.name, Some(version)));
    }
    if routing.len() > 1 {
        return Err(LambdaError::invalid(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    for (extra, weight) in routing {
        if !(0.0..=1.0).contains(weight) {
            return Err(LambdaError::constraint(
                weight,
                "routingConfig.additionalVersionWeights",
                "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
            ));
        }
        if version == LATEST || extra == LATEST {
            return Err(LambdaError::invalid(
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ));
        }
        if extra == version {
            return Err(LambdaError::invalid(format!(
                "Invalid function version {extra}. Function version {extra} is already included in routing configuration."
            )));
        }
        if f.version(extra).is_none() {
            return Err(super::not_found(ctx, &f.name, Some(extra)));
        }
    }
    Ok(())
}

fn check_alias_name(name: &str) -> Result<()> {
    if !names::valid_alias_name(name) {
        return Err(LambdaError::constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ));
    }
    Ok(())
}

fn alias_not_found(f: &FunctionRecord, alias: &str) -> LambdaError {
    LambdaError::not_found(format!(
        "Cannot find alias arn: {}",
        names::qualified_arn(&f.region, &f.account, &f.name, alias)
    ))
}

fn gone(ctx: &RequestContext, name: &str) -> LambdaError {
    super::not_found(ctx, name, None)
}
