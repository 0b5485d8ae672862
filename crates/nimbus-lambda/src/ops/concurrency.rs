//! PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency,
//! GetAccountSettings.

use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::json;

use super::find;
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::{Lambda, Reply, Request};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutConcurrencyInput {
    reserved_concurrent_executions: Option<i64>,
}

pub async fn put_function_concurrency(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: PutConcurrencyInput = req.json()?;
    let (f, _) = find(lambda, ctx, name)?;
    let n = input
        .reserved_concurrent_executions
        .ok_or_else(|| LambdaError::null("reservedConcurrentExecutions"))?;
    if n < 0 {
        return Err(LambdaError::constraint(
            n,
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        ));
    }
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    let concurrency = lambda.inner().exec.concurrency.clone();
    let arn = f.arn();
    let mut previous = None;
    // The in-memory reservation changes under the catalog's lock, in the
    // same order as the stored records, so the two never disagree.
    let result = lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &f.name.clone(), |current| {
            let mut record = current.cloned().ok_or_else(|| {
                LambdaError::not_found(format!("Function not found: {}", f.arn()))
            })?;
            previous = record.reserved_concurrency;
            concurrency.set_reservation(&arn, Some(n))?;
            record.reserved_concurrency = Some(n);
            Ok(Change::Put(Box::new(record), ()))
        })
        .await;
    if let Err(e) = result {
        if !matches!(
            e,
            LambdaError::InvalidParameterValue(_) | LambdaError::ResourceNotFound(_)
        ) {
            // The record was not written: undo the reservation.
            let _ = concurrency.set_reservation(&arn, previous);
        }
        return Err(e);
    }
    Ok(Reply::json(
        200,
        &json!({ "ReservedConcurrentExecutions": n }),
    ))
}

pub fn get_function_concurrency(
    lambda: &Lambda,
    ctx: &RequestContext,
    name: &str,
) -> Result<Reply> {
    let (f, _) = find(lambda, ctx, name)?;
    let out = match f.reserved_concurrency {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    };
    Ok(Reply::json(200, &out))
}

pub async fn delete_function_concurrency(
    lambda: &Lambda,
    ctx: &RequestContext,
    name: &str,
) -> Result<Reply> {
    let (f, _) = find(lambda, ctx, name)?;
    let arn = f.arn();
    let concurrency = lambda.inner().exec.concurrency.clone();
    lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &f.name.clone(), |current| {
            let mut record = current.cloned().ok_or_else(|| {
                LambdaError::not_found(format!("Function not found: {}", f.arn()))
            })?;
            concurrency.set_reservation(&arn, None)?;
            record.reserved_concurrency = None;
            Ok(Change::Put(Box::new(record), ()))
        })
        .await?;
    Ok(Reply::empty(204))
}

pub fn get_account_settings(lambda: &Lambda, ctx: &RequestContext) -> Result<Reply> {
    let functions = lambda.inner().catalog.list(&ctx.account_id, &ctx.region);
    let code_size: u64 = functions
        .iter()
        .map(|f| f.latest.code_size + f.versions.values().map(|v| v.code_size).sum::<u64>())
        .sum();
    let c = &lambda.inner().exec.concurrency;
    Ok(Reply::json(
        200,
        &json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": 262_144_000u64,
                "CodeSizeZipped": 52_428_800u64,
                "ConcurrentExecutions": c.limit(),
                "UnreservedConcurrentExecutions": c.unreserved(),
            },
            "AccountUsage": {
                "TotalCodeSize": code_size,
                "FunctionCount": functions.len(),
            },
        }),
    ))
}
