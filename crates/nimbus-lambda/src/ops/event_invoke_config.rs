//! PutFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig,
//! GetFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig,
//! ListFunctionEventInvokeConfigs: retries, maximum event age and
//! destinations of asynchronous invocations, per qualifier.

use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

use super::functions::paginate;
use super::{find, max_items};
use crate::catalog::Change;
use crate::destinations;
use crate::error::{LambdaError, Result};
use crate::model::{self, EventInvokeConfig, FunctionRecord};
use crate::names::{self, LATEST};
use crate::{Lambda, Reply, Request};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigInput {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationInput {
    on_success: Option<TargetInput>,
    on_failure: Option<TargetInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetInput {
    destination: Option<String>,
}

/// PUT replaces the whole configuration; POST (Update) changes only the
/// members given.
pub async fn put_function_event_invoke_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
    replace: bool,
) -> Result<Reply> {
    let input: ConfigInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?
        .unwrap_or_else(|| LATEST.to_owned());
    let retries = input
        .maximum_retry_attempts
        .map(|n| LambdaError::bounded(n, "maximumRetryAttempts", 0, 2))
        .transpose()?;
    let age = input
        .maximum_event_age_in_seconds
        .map(|n| LambdaError::bounded(n, "maximumEventAgeInSeconds", 60, 21_600))
        .transpose()?;
    let (on_success, on_failure) = match input.destination_config {
        Some(d) => (destination(d.on_success)?, destination(d.on_failure)?),
        None => (None, None),
    };
    let ctx_owned = ctx.clone();
    let (record, config) = lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current
                    .cloned()
                    .ok_or_else(|| super::not_found(&ctx_owned, &f.name, None))?;
                check_qualifier(&record, &ctx_owned, &qualifier)?;
                let existing = record.event_invoke_configs.get(&qualifier).cloned();
                let mut config = match (replace, existing) {
                    (true, _) => EventInvokeConfig::default(),
                    (false, Some(existing)) => existing,
                    (false, None) => {
                        return Err(LambdaError::not_found(format!(
                            "The function {} doesn't have an EventInvokeConfig",
                            qualified(&record, &qualifier)
                        )))
                    }
                };
                if replace {
                    config.maximum_retry_attempts = retries;
                    config.maximum_event_age_seconds = age;
                    config.on_success = on_success;
                    config.on_failure = on_failure;
                } else {
                    config.maximum_retry_attempts = retries.or(config.maximum_retry_attempts);
                    config.maximum_event_age_seconds = age.or(config.maximum_event_age_seconds);
                    config.on_success = on_success.or(config.on_success);
                    config.on_failure = on_failure.or(config.on_failure);
                }
                config.last_modified_ms = model::now_ms();
                record
                    .event_invoke_configs
                    .insert(qualifier.clone(), config.clone());
                Ok(Change::Put(
                    Box::new(record.clone()),
                    (record, (qualifier, config)),
                ))
            },
        )
        .await?;
    Ok(Reply::json(
        200,
        &config_json(&record, &config.0, &config.1),
    ))
}

pub fn get_function_event_invoke_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?
        .unwrap_or_else(|| LATEST.to_owned());
    check_qualifier(&f, ctx, &qualifier)?;
    let config = f.event_invoke_configs.get(&qualifier).ok_or_else(|| {
        LambdaError::not_found(format!(
            "The function {} doesn't have an EventInvokeConfig",
            qualified(&f, &qualifier)
        ))
    })?;
    Ok(Reply::json(200, &config_json(&f, &qualifier, config)))
}

pub async fn delete_function_event_invoke_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?
        .unwrap_or_else(|| LATEST.to_owned());
    let ctx_owned = ctx.clone();
    lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current
                    .cloned()
                    .ok_or_else(|| super::not_found(&ctx_owned, &f.name, None))?;
                if record.event_invoke_configs.remove(&qualifier).is_none() {
                    return Err(LambdaError::not_found(format!(
                        "The function {} doesn't have an EventInvokeConfig",
                        qualified(&record, &qualifier)
                    )));
                }
                Ok(Change::Put(Box::new(record), ()))
            },
        )
        .await?;
    Ok(Reply::empty(204))
}

pub fn list_function_event_invoke_configs(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let limit = match req.query("MaxItems") {
        None => 50,
        Some(_) => max_items(req)?.min(50),
    };
    let (f, _) = find(lambda, ctx, name)?;
    let entries = f
        .event_invoke_configs
        .iter()
        .map(|(q, c)| (q.clone(), config_json(&f, q, c)))
        .collect();
    let (page, next) = paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(
        200,
        &super::page_json("FunctionEventInvokeConfigs", page, next),
    ))
}

fn config_json(f: &FunctionRecord, qualifier: &str, c: &EventInvokeConfig) -> Value {
    let mut out = json!({
        "LastModified": c.last_modified_ms as f64 / 1000.0,
        "FunctionArn": qualified(f, qualifier),
        "DestinationConfig": {
            "OnSuccess": c.on_success.as_ref().map(|d| json!({"Destination": d})).unwrap_or_else(|| json!({})),
            "OnFailure": c.on_failure.as_ref().map(|d| json!({"Destination": d})).unwrap_or_else(|| json!({})),
        },
    });
    if let Some(n) = c.maximum_retry_attempts {
        out["MaximumRetryAttempts"] = n.into();
    }
    if let Some(n) = c.maximum_event_age_seconds {
        out["MaximumEventAgeInSeconds"] = n.into();
    }
    out
}

fn qualified(f: &FunctionRecord, qualifier: &str) -> String {
    names::qualified_arn(&f.region, &f.account, &f.name, qualifier)
}

fn check_qualifier(f: &FunctionRecord, ctx: &RequestContext, q: &str) -> Result<()> {
    if f.version(q).is_some() || f.aliases.contains_key(q) {
        Ok(())
    } else {
        Err(super::not_found(ctx, &f.name, Some(q)))
    }
}

fn destination(target: Option<TargetInput>) -> Result<Option<String>> {
    let Some(arn) = target.and_then(|t| t.destination).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    destinations::kind_of(&arn)?;
    Ok(Some(arn))
}
