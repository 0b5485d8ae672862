//! PutProvisionedConcurrencyConfig, GetProvisionedConcurrencyConfig,
//! DeleteProvisionedConcurrencyConfig, ListProvisionedConcurrencyConfigs.
//!
//! A config asks for N environments of a version (or of the version an alias
//! points at) to be started before any invocation and kept warm: they are
//! never reaped for idleness. The config is durable; its environments are
//! started again when the server starts. Status is IN_PROGRESS until they
//! are all initialised, then READY (or FAILED with the init error).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

use super::find;
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::model::{self, FunctionRecord, ProvisionedConfig};
use crate::names::{self, LATEST};
use crate::{Lambda, Reply, Request};

/// Warm-up progress per (function ARN, qualifier), in memory.
#[derive(Default)]
pub(crate) struct Progress {
    states: Mutex<HashMap<(String, String), State>>,
}

#[derive(Clone)]
struct State {
    allocated: u32,
    status: &'static str,
    reason: Option<String>,
}

impl Progress {
    fn get(&self, arn: &str, q: &str) -> Option<State> {
        self.lock().get(&(arn.to_owned(), q.to_owned())).cloned()
    }

    fn set(&self, arn: &str, q: &str, state: Option<State>) {
        let key = (arn.to_owned(), q.to_owned());
        match state {
            Some(s) => self.lock().insert(key, s),
            None => self.lock().remove(&key),
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), State>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutInput {
    provisioned_concurrent_executions: Option<i64>,
}

pub async fn put_provisioned_concurrency_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: PutInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = qualifier(&r, req)?;
    let n = input
        .provisioned_concurrent_executions
        .ok_or_else(|| LambdaError::null("provisionedConcurrentExecutions"))?;
    if n < 1 {
        return Err(LambdaError::constraint(
            n,
            "provisionedConcurrentExecutions",
            "Member must have value greater than or equal to 1",
        ));
    }
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    if let Some(reserved) = f.reserved_concurrency {
        if n > reserved {
            return Err(LambdaError::invalid(format!(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function ({reserved})."
            )));
        }
    }
    let limit = lambda.inner().exec.concurrency.unreserved();
    if n > limit.saturating_sub(crate::exec::concurrency::MIN_UNRESERVED)
        && f.reserved_concurrency.is_none()
    {
        return Err(LambdaError::invalid(format!(
            "Requested Provisioned Concurrency exceeds the account's unreserved concurrency ({limit} minus the {} kept unreserved).",
            crate::exec::concurrency::MIN_UNRESERVED
        )));
    }
    let now = lambda.inner().clock.now_ms();
    let ctx_owned = ctx.clone();
    let q = qualifier.clone();
    let record = lambda
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
                version_of(&record, &ctx_owned, &q)?;
                record.provisioned.insert(
                    q,
                    ProvisionedConfig {
                        requested: n,
                        last_modified_ms: now,
                    },
                );
                Ok(Change::Put(Box::new(record.clone()), record))
            },
        )
        .await?;
    // Start over: the function's idle environments go, every config's
    // environments are started again (this one with its new count).
    lambda.inner().exec.retire(&record);
    for q in record.provisioned.keys() {
        start_warming(lambda, &record, q);
    }
    let config = &record.provisioned[&qualifier];
    Ok(Reply::json(
        202,
        &config_json(lambda, &record, &qualifier, config),
    ))
}

pub fn get_provisioned_concurrency_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = qualifier(&r, req)?;
    version_of(&f, ctx, &qualifier)?;
    let config = f.provisioned.get(&qualifier).ok_or_else(not_found)?;
    Ok(Reply::json(
        200,
        &config_json(lambda, &f, &qualifier, config),
    ))
}

pub fn list_provisioned_concurrency_configs(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let limit = super::max_items(req)?.min(50);
    let (f, _) = find(lambda, ctx, name)?;
    let entries = f
        .provisioned
        .iter()
        .map(|(q, c)| {
            let mut v = config_json(lambda, &f, q, c);
            v["FunctionArn"] = names::qualified_arn(&f.region, &f.account, &f.name, q).into();
            (q.clone(), v)
        })
        .collect();
    let (page, next) = super::functions::paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(
        200,
        &super::page_json("ProvisionedConcurrencyConfigs", page, next),
    ))
}

pub async fn delete_provisioned_concurrency_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = qualifier(&r, req)?;
    let ctx_owned = ctx.clone();
    let q = qualifier.clone();
    let record = lambda
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
                version_of(&record, &ctx_owned, &q)?;
                if record.provisioned.remove(&q).is_none() {
                    return Err(not_found());
                }
                Ok(Change::Put(Box::new(record.clone()), record))
            },
        )
        .await?;
    lambda
        .inner()
        .provisioned
        .set(&record.arn(), &qualifier, None);
    // Its environments stop being special; the simplest honest way is to
    // stop the function's idle ones (invocations start fresh ones).
    lambda.inner().exec.retire(&record);
    for (q, _) in record.provisioned.iter() {
        start_warming(lambda, &record, q);
    }
    Ok(Reply::empty(204))
}

/// Starts every stored config's environments (server start).
pub(crate) fn warm_all(lambda: &Lambda) {
    for f in lambda.inner().catalog.all() {
        for q in f.provisioned.keys() {
            start_warming(lambda, &f, q);
        }
    }
}

fn start_warming(lambda: &Lambda, f: &FunctionRecord, qualifier: &str) {
    let Some(config) = f.provisioned.get(qualifier) else {
        return;
    };
    let ctx = RequestContext::local(&f.region);
    let Ok(version) = version_of(f, &ctx, qualifier) else {
        return;
    };
    let arn = f.arn();
    let progress = &lambda.inner().provisioned;
    progress.set(
        &arn,
        qualifier,
        Some(State {
            allocated: 0,
            status: "IN_PROGRESS",
            reason: None,
        }),
    );
    let lambda = lambda.clone();
    let f = f.clone();
    let qualifier = qualifier.to_owned();
    let count = config.requested;
    tokio::spawn(async move {
        let Some(v) = f.version(&version) else { return };
        let state = match lambda.inner().exec.prewarm(&f, v, count).await {
            Ok(ready) => State {
                allocated: ready,
                status: "READY",
                reason: None,
            },
            Err(reason) => {
                tracing::warn!(
                    "lambda: provisioned concurrency for {}:{qualifier} failed: {reason}",
                    f.name
                );
                State {
                    allocated: 0,
                    status: "FAILED",
                    reason: Some(reason),
                }
            }
        };
        lambda
            .inner()
            .provisioned
            .set(&f.arn(), &qualifier, Some(state));
    });
}

fn config_json(
    lambda: &Lambda,
    f: &FunctionRecord,
    qualifier: &str,
    c: &ProvisionedConfig,
) -> Value {
    let state = lambda
        .inner()
        .provisioned
        .get(&f.arn(), qualifier)
        .unwrap_or(State {
            allocated: 0,
            status: "IN_PROGRESS",
            reason: None,
        });
    let mut out = json!({
        "RequestedProvisionedConcurrentExecutions": c.requested,
        "AvailableProvisionedConcurrentExecutions": state.allocated,
        "AllocatedProvisionedConcurrentExecutions": state.allocated,
        "Status": state.status,
        "LastModified": model::timestamp(c.last_modified_ms),
    });
    if let Some(reason) = state.reason {
        out["StatusReason"] = reason.into();
    }
    out
}

/// The required Qualifier: a published version or an alias.
fn qualifier(r: &names::FunctionRef, req: &Request) -> Result<String> {
    let q = names::merge_qualifier(r, req.query("Qualifier").as_deref())?
        .ok_or_else(|| LambdaError::null("qualifier"))?;
    if q == LATEST {
        return Err(LambdaError::invalid(
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        ));
    }
    Ok(q)
}

/// The version a qualifier stands for.
fn version_of(f: &FunctionRecord, ctx: &RequestContext, q: &str) -> Result<String> {
    if f.version(q).is_some() {
        return Ok(q.to_owned());
    }
    match f.aliases.get(q) {
        Some(a) => Ok(a.function_version.clone()),
        None => Err(super::not_found(ctx, &f.name, Some(q))),
    }
}

fn not_found() -> LambdaError {
    LambdaError::ProvisionedConcurrencyConfigNotFound(
        "No Provisioned Concurrency Config found for this function".into(),
    )
}
