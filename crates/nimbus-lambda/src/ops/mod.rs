//! Lambda's operations, a module per family, each function named after the
//! AWS operation it implements.

pub mod aliases;
pub mod concurrency;
pub mod config;
pub mod event_invoke_config;
pub mod event_source_mappings;
pub mod functions;
pub mod invoke;
pub mod layers;
pub mod policy;
pub mod provisioned;
pub mod tags;
pub mod urls;
pub mod versions;

use std::sync::Arc;

use nimbus_wire::RequestContext;

use crate::error::{LambdaError, Result};
use crate::model::FunctionRecord;
use crate::names::{self, FunctionRef};
use crate::Lambda;

/// The function a request names, with the qualifier written into its name.
pub(crate) fn find(
    lambda: &Lambda,
    ctx: &RequestContext,
    name: &str,
) -> Result<(Arc<FunctionRecord>, FunctionRef)> {
    let r = names::parse_function_ref(name)?;
    let f = lambda
        .inner()
        .catalog
        .get(&ctx.account_id, &ctx.region, &r.name)
        .ok_or_else(|| not_found(ctx, &r.name, None))?;
    Ok((f, r))
}

/// AWS's "Function not found: ARN" text.
pub(crate) fn not_found(ctx: &RequestContext, name: &str, qualifier: Option<&str>) -> LambdaError {
    let arn = match qualifier {
        Some(q) => names::qualified_arn(&ctx.region, &ctx.account_id, name, q),
        None => names::function_arn(&ctx.region, &ctx.account_id, name),
    };
    LambdaError::not_found(format!("Function not found: {arn}"))
}

/// Checks an optional RevisionId against the current one.
pub(crate) fn check_revision(expected: Option<&str>, current: &str) -> Result<()> {
    match expected {
        Some(r) if r != current => Err(LambdaError::PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
        )),
        _ => Ok(()),
    }
}

/// MaxItems: 1 to 10,000, default 50.
pub(crate) fn max_items(req: &crate::Request) -> Result<usize> {
    match req.query("MaxItems") {
        None => Ok(50),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=10_000).contains(&n) => Ok(n as usize),
            Ok(n) if n < 1 => Err(LambdaError::constraint(
                n,
                "maxItems",
                "Member must have value greater than or equal to 1",
            )),
            Ok(n) => Err(LambdaError::constraint(
                n,
                "maxItems",
                "Member must have value less than or equal to 10000",
            )),
            Err(_) => Err(LambdaError::invalid(format!("Invalid MaxItems: {v}"))),
        },
    }
}

/// A list response: `{KEY: [...], "NextMarker": ...}` (the marker only when
/// there is a next page).
pub(crate) fn page_json(
    key: &str,
    page: Vec<serde_json::Value>,
    next: Option<String>,
) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert(key.to_owned(), page.into());
    if let Some(next) = next {
        out.insert("NextMarker".to_owned(), next.into());
    }
    serde_json::Value::Object(out)
}

/// A `Description` member: at most 256 characters.
pub(crate) fn check_description(d: &str) -> Result<()> {
    if d.chars().count() > 256 {
        return Err(LambdaError::constraint(
            d,
            "description",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(())
}
