//! CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig,
//! DeleteFunctionUrlConfig, ListFunctionUrlConfigs. The URLs themselves are
//! served by `function_url` (the HTTP side).

use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

use super::find;
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::model::{self, FunctionRecord, UrlConfig};
use crate::names::{self, LATEST};
use crate::{Lambda, Reply, Request};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UrlInput {
    auth_type: Option<String>,
    cors: Option<Value>,
    invoke_mode: Option<String>,
}

pub async fn create_function_url_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: UrlInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = qualifier(&r, req)?;
    let auth_type = input
        .auth_type
        .ok_or_else(|| LambdaError::null("authType"))?;
    check_auth_type(&auth_type)?;
    let invoke_mode = input.invoke_mode.unwrap_or_else(|| "BUFFERED".into());
    check_invoke_mode(&invoke_mode)?;
    let cors = input.cors.map(check_cors).transpose()?;
    let now = model::timestamp(lambda.inner().clock.now_ms());
    let ctx_owned = ctx.clone();
    let (record, key) = lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &f.name.clone(), move |current| {
            let mut record = current
                .cloned()
                .ok_or_else(|| super::not_found(&ctx_owned, &f.name, None))?;
            check_target(&record, &ctx_owned, qualifier.as_deref())?;
            let key = qualifier.clone().unwrap_or_default();
            if record.urls.contains_key(&key) {
                return Err(LambdaError::ResourceConflict(format!(
                    "Failed to create function url config for [functionArn = {}]. Error message:  FunctionUrlConfig exists for this Lambda function",
                    arn_for(&record, qualifier.as_deref())
                )));
            }
            record.urls.insert(
                key.clone(),
                UrlConfig {
                    url_id: new_url_id(),
                    auth_type,
                    cors,
                    invoke_mode,
                    created: now.clone(),
                    last_modified: now,
                },
            );
            Ok(Change::Put(Box::new(record.clone()), (record, key)))
        })
        .await?;
    let mut out = config_json(ctx, &record, &key);
    if let Some(m) = out.as_object_mut() {
        m.remove("LastModifiedTime");
    }
    Ok(Reply::json(201, &out))
}

pub fn get_function_url_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = qualifier(&r, req)?;
    let key = qualifier.unwrap_or_default();
    if !f.urls.contains_key(&key) {
        return Err(LambdaError::not_found(
            "The resource you requested does not exist.",
        ));
    }
    Ok(Reply::json(200, &config_json(ctx, &f, &key)))
}

pub async fn update_function_url_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: UrlInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = qualifier(&r, req)?;
    if let Some(a) = &input.auth_type {
        check_auth_type(a)?;
    }
    if let Some(m) = &input.invoke_mode {
        check_invoke_mode(m)?;
    }
    let cors = input.cors.map(check_cors).transpose()?;
    let now = model::timestamp(lambda.inner().clock.now_ms());
    let key = qualifier.unwrap_or_default();
    let k = key.clone();
    let record = lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| {
                    LambdaError::not_found("The resource you requested does not exist.")
                })?;
                let url = record.urls.get_mut(&k).ok_or_else(|| {
                    LambdaError::not_found("The resource you requested does not exist.")
                })?;
                if let Some(a) = input.auth_type {
                    url.auth_type = a;
                }
                if let Some(m) = input.invoke_mode {
                    url.invoke_mode = m;
                }
                if cors.is_some() {
                    url.cors = cors;
                }
                url.last_modified = now;
                Ok(Change::Put(Box::new(record.clone()), record))
            },
        )
        .await?;
    Ok(Reply::json(200, &config_json(ctx, &record, &key)))
}

pub async fn delete_function_url_config(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let key = qualifier(&r, req)?.unwrap_or_default();
    lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| {
                    LambdaError::not_found("The resource you requested does not exist.")
                })?;
                if record.urls.remove(&key).is_none() {
                    return Err(LambdaError::not_found(
                        "The resource you requested does not exist.",
                    ));
                }
                Ok(Change::Put(Box::new(record), ()))
            },
        )
        .await?;
    Ok(Reply::empty(204))
}

pub fn list_function_url_configs(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let limit = super::max_items(req)?.min(50);
    let (f, _) = find(lambda, ctx, name)?;
    let entries = f
        .urls
        .keys()
        .map(|k| (k.clone(), config_json(ctx, &f, k)))
        .collect();
    let (page, next) = super::functions::paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(
        200,
        &super::page_json("FunctionUrlConfigs", page, next),
    ))
}

/// The URL clients use: `http://HOST:PORT/_nimbus/lambda-url/<id>/`, which
/// every HTTP client can reach. AWS's form,
/// `https://<id>.lambda-url.<region>.on.aws/`, is mirrored too: requests to
/// `http://<id>.lambda-url.<region>.localhost:PORT/` reach the same function
/// (browsers and curl resolve `*.localhost` to the loopback address; many
/// language runtimes do not, hence the path form as the one returned).
pub(crate) fn function_url(ctx: &RequestContext, _region: &str, url_id: &str) -> String {
    let host = ctx.host.as_deref().unwrap_or("127.0.0.1:4566");
    format!("http://{host}/_nimbus/lambda-url/{url_id}/")
}

fn config_json(ctx: &RequestContext, f: &FunctionRecord, key: &str) -> Value {
    let u = &f.urls[key];
    let qualifier = (!key.is_empty()).then_some(key);
    let mut out = json!({
        "FunctionUrl": function_url(ctx, &f.region, &u.url_id),
        "FunctionArn": arn_for(f, qualifier),
        "AuthType": u.auth_type,
        "CreationTime": u.created,
        "LastModifiedTime": u.last_modified,
        "InvokeMode": u.invoke_mode,
    });
    if let Some(cors) = &u.cors {
        out["Cors"] = cors.clone();
    }
    out
}

fn arn_for(f: &FunctionRecord, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => names::qualified_arn(&f.region, &f.account, &f.name, q),
        None => f.arn(),
    }
}

/// Function URLs attach to the function ($LATEST) or an alias, never to a
/// numbered version.
fn qualifier(r: &names::FunctionRef, req: &Request) -> Result<Option<String>> {
    let q = names::merge_qualifier(r, req.query("Qualifier").as_deref())?;
    Ok(q.filter(|q| q != LATEST))
}

fn check_target(f: &FunctionRecord, ctx: &RequestContext, qualifier: Option<&str>) -> Result<()> {
    match qualifier {
        None => Ok(()),
        Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => Err(LambdaError::invalid(
            "Function URL cannot be attached to a function version. Use an alias instead.",
        )),
        Some(q) if f.aliases.contains_key(q) => Ok(()),
        Some(q) => Err(super::not_found(ctx, &f.name, Some(q))),
    }
}

fn check_auth_type(a: &str) -> Result<()> {
    if a == "NONE" || a == "AWS_IAM" {
        Ok(())
    } else {
        Err(LambdaError::constraint(
            a,
            "authType",
            "Member must satisfy enum value set: [AWS_IAM, NONE]",
        ))
    }
}

fn check_invoke_mode(m: &str) -> Result<()> {
    match m {
        // RESPONSE_STREAM: nimbus sends a streamed response once the
        // function has ended its stream (see function_url.rs).
        "BUFFERED" | "RESPONSE_STREAM" => Ok(()),
        other => Err(LambdaError::constraint(
            other,
            "invokeMode",
            "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
        )),
    }
}

/// The CORS object: the members AWS knows, with its limits.
fn check_cors(cors: Value) -> Result<Value> {
    let Some(obj) = cors.as_object() else {
        return Err(LambdaError::invalid("Cors must be an object"));
    };
    for (k, v) in obj {
        match k.as_str() {
            "AllowCredentials" if v.is_boolean() => {}
            "MaxAge" if v.as_i64().is_some_and(|n| (0..=86_400).contains(&n)) => {}
            "AllowHeaders" | "AllowMethods" | "AllowOrigins" | "ExposeHeaders"
                if v.as_array()
                    .is_some_and(|a| a.len() <= 100 && a.iter().all(Value::is_string)) => {}
            "MaxAge" => {
                return Err(LambdaError::constraint(
                    v,
                    "cors.maxAge",
                    "Member must have value less than or equal to 86400",
                ))
            }
            _ => return Err(LambdaError::invalid(format!("Invalid Cors member: {k}"))),
        }
    }
    Ok(cors)
}

fn new_url_id() -> String {
    // 32 lowercase letters and digits, as AWS's ids look.
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let a = uuid::Uuid::new_v4().as_u128();
    let b = uuid::Uuid::new_v4().as_u128();
    (0..32)
        .map(|i| {
            let bits = if i < 16 {
                a >> (i * 7)
            } else {
                b >> ((i - 16) * 7)
            };
            ALPHABET[(bits % ALPHABET.len() as u128) as usize] as char
        })
        .collect()
}
