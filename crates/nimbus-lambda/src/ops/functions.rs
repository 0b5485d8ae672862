//! CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
//! UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction.

use std::collections::BTreeMap;

use base64::Engine;
use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

use super::config::{self, ConfigInput};
use super::{check_revision, find, max_items, not_found};
use crate::catalog::Change;
use crate::code::CodeInfo;
use crate::error::{LambdaError, Result};
use crate::model::{self, configuration_json, FunctionRecord, VersionConfig};
use crate::names::{self, LATEST};
use crate::{Lambda, Reply, Request};

/// Largest CreateFunction / UpdateFunctionCode request (a 50 MB package,
/// base64-encoded, in JSON).
pub const MAX_CODE_REQUEST_BYTES: usize = 69_905_067;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFunctionInput {
    function_name: Option<String>,
    code: Option<CodeInput>,
    publish: Option<bool>,
    package_type: Option<String>,
    architectures: Option<Vec<String>>,
    tags: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    config: ConfigInput,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodeInput {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    image_uri: Option<String>,
}

pub async fn create_function(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
) -> Result<Reply> {
    check_code_request_size(req, "CreateFunction")?;
    let mut input: CreateFunctionInput = req.json()?;
    let layer_arns = input.config.layers.take();
    let name_input = input
        .function_name
        .ok_or_else(|| LambdaError::null("functionName"))?;
    let r = names::parse_function_ref(&name_input)?;
    if r.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Function name cannot contain a qualifier when creating a function.",
        ));
    }
    if input.package_type.as_deref() == Some("Image") {
        return Err(not_supported_image());
    }
    if let Some(t) = input.package_type.as_deref().filter(|t| *t != "Zip") {
        return Err(LambdaError::constraint(
            t,
            "packageType",
            "Member must satisfy enum value set: [Zip, Image]",
        ));
    }
    let code = input.code.ok_or_else(|| LambdaError::null("code"))?;
    let zip = zip_bytes(&code)?;
    if input.config.role.is_none() {
        return Err(LambdaError::null("role"));
    }
    if input.config.runtime.is_none() || input.config.handler.is_none() {
        return Err(LambdaError::invalid(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    }
    let architectures =
        config::architectures(input.architectures)?.unwrap_or_else(|| vec!["x86_64".into()]);
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;

    let mut latest = VersionConfig {
        version: LATEST.to_owned(),
        runtime: String::new(),
        handler: String::new(),
        role: String::new(),
        description: String::new(),
        timeout: 3,
        memory_size: 128,
        ephemeral_storage: 512,
        architectures,
        environment: BTreeMap::new(),
        has_environment: false,
        layers: Vec::new(),
        code_sha256: String::new(),
        code_size: 0,
        code_id: String::new(),
        revision_id: model::new_revision_id(),
        last_modified: model::timestamp(model::now_ms()),
        tracing_mode: "PassThrough".into(),
        dead_letter_target: None,
    };
    config::apply(&mut latest, input.config)?;
    if let Some(arns) = layer_arns {
        latest.layers = super::layers::resolve(lambda, ctx, &arns)?;
    }
    if lambda
        .inner()
        .catalog
        .get(&ctx.account_id, &ctx.region, &r.name)
        .is_some()
    {
        return Err(exists(&r.name));
    }
    let info = store_code(lambda, zip).await?;
    set_code(&mut latest, &info);

    let publish = input.publish.unwrap_or(false);
    let record = FunctionRecord {
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        name: r.name.clone(),
        latest,
        versions: BTreeMap::new(),
        last_version: 0,
        aliases: BTreeMap::new(),
        tags,
        reserved_concurrency: None,
        event_invoke_configs: BTreeMap::new(),
        policies: BTreeMap::new(),
        provisioned: BTreeMap::new(),
        urls: BTreeMap::new(),
    };
    let record = if publish {
        with_new_version(record, None)
    } else {
        record
    };
    let name = r.name.clone();
    let created = lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &r.name, move |current| {
            if current.is_some() {
                return Err(exists(&name));
            }
            Ok(Change::Put(Box::new(record.clone()), record))
        })
        .await?;
    let shown = if publish {
        created
            .versions
            .values()
            .next_back()
            .unwrap_or(&created.latest)
    } else {
        &created.latest
    };
    let mut out = configuration_json(&created, shown);
    out["State"] = "Pending".into();
    out["StateReason"] = "The function is being created.".into();
    out["StateReasonCode"] = "Creating".into();
    tracing::info!(
        "lambda: created function {} ({})",
        created.arn(),
        created.latest.runtime
    );
    Ok(Reply::json(201, &out))
}

pub fn get_function(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let v = resolve_for_read(&f, ctx, qualifier.as_deref())?;
    let mut out = json!({
        "Configuration": configuration_json(&f, v),
        "Code": {
            "RepositoryType": "S3",
            "Location": code_location(ctx, &v.code_id),
        },
    });
    if !f.tags.is_empty() {
        out["Tags"] = json!(f.tags);
    }
    if let Some(c) = f.reserved_concurrency {
        out["Concurrency"] = json!({ "ReservedConcurrentExecutions": c });
    }
    Ok(Reply::json(200, &out))
}

pub fn get_function_configuration(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let v = resolve_for_read(&f, ctx, qualifier.as_deref())?;
    Ok(Reply::json(200, &configuration_json(&f, v)))
}

/// A version or alias of `f` named for reading its configuration.
fn resolve_for_read<'a>(
    f: &'a FunctionRecord,
    ctx: &RequestContext,
    qualifier: Option<&str>,
) -> Result<&'a VersionConfig> {
    let Some(q) = qualifier else {
        return Ok(&f.latest);
    };
    if let Some(v) = f.version(q) {
        return Ok(v);
    }
    if let Some(alias) = f.aliases.get(q) {
        if let Some(v) = f.version(&alias.function_version) {
            return Ok(v);
        }
    }
    Err(not_found(ctx, &f.name, Some(q)))
}

pub fn list_functions(lambda: &Lambda, ctx: &RequestContext, req: &Request) -> Result<Reply> {
    let limit = max_items(req)?;
    let all_versions = match req.query("FunctionVersion").as_deref() {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(LambdaError::constraint(
                other,
                "functionVersion",
                "Member must satisfy enum value set: [ALL]",
            ))
        }
    };
    let marker = req.query("Marker");
    let mut entries: Vec<(String, Value)> = Vec::new();
    for f in lambda.inner().catalog.list(&ctx.account_id, &ctx.region) {
        entries.push((format!("{}:", f.name), configuration_json(&f, &f.latest)));
        if all_versions {
            for (n, v) in &f.versions {
                entries.push((format!("{}:{n:020}", f.name), configuration_json(&f, v)));
            }
        }
    }
    let (page, next) = paginate(entries, marker.as_deref(), limit)?;
    Ok(Reply::json(200, &super::page_json("Functions", page, next)))
}

/// One page of `entries` (sorted by key) after `marker`, and the marker of
/// the next page.
pub(crate) fn paginate(
    mut entries: Vec<(String, Value)>,
    marker: Option<&str>,
    limit: usize,
) -> Result<(Vec<Value>, Option<String>)> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match marker {
        None | Some("") => 0,
        Some(m) => {
            let after = decode_marker(m)?;
            entries.partition_point(|(k, _)| *k <= after)
        }
    };
    let rest = entries.len() - start.min(entries.len());
    let take = rest.min(limit);
    let page: Vec<(String, Value)> = entries.into_iter().skip(start).take(take).collect();
    let next = (rest > take)
        .then(|| page.last().map(|(k, _)| encode_marker(k)))
        .flatten();
    Ok((page.into_iter().map(|(_, v)| v).collect(), next))
}

fn encode_marker(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_marker(m: &str) -> Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(m)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| LambdaError::invalid(format!("Invalid Marker: {m}")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeInput {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    image_uri: Option<String>,
    publish: Option<bool>,
    dry_run: Option<bool>,
    revision_id: Option<String>,
    architectures: Option<Vec<String>>,
}

pub async fn update_function_code(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    check_code_request_size(req, "UpdateFunctionCode")?;
    let input: UpdateCodeInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    no_qualifier(&r)?;
    let code = CodeInput {
        zip_file: input.zip_file,
        s3_bucket: input.s3_bucket,
        image_uri: input.image_uri,
    };
    let zip = zip_bytes(&code)?;
    let architectures = config::architectures(input.architectures)?;
    check_revision(input.revision_id.as_deref(), &f.latest.revision_id)?;
    let info = store_code(lambda, zip).await?;
    if input.dry_run.unwrap_or(false) {
        let mut preview = f.latest.clone();
        set_code(&mut preview, &info);
        return Ok(Reply::json(200, &configuration_json(&f, &preview)));
    }
    let publish = input.publish.unwrap_or(false);
    let expected = input.revision_id;
    let (record, shown) = lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| not_found_in(&f))?;
                check_revision(expected.as_deref(), &record.latest.revision_id)?;
                set_code(&mut record.latest, &info);
                if let Some(a) = architectures {
                    record.latest.architectures = a;
                }
                touch(&mut record.latest);
                let record = if publish {
                    with_new_version(record, None)
                } else {
                    record
                };
                let shown = if publish {
                    record.versions.values().next_back().cloned()
                } else {
                    None
                }
                .unwrap_or_else(|| record.latest.clone());
                Ok(Change::Put(Box::new(record.clone()), (record, shown)))
            },
        )
        .await?;
    lambda.inner().exec.retire_latest(&record);
    let mut out = configuration_json(&record, &shown);
    out["LastUpdateStatus"] = "InProgress".into();
    out["LastUpdateStatusReason"] = "The function is being created.".into();
    out["LastUpdateStatusReasonCode"] = "Creating".into();
    Ok(Reply::json(200, &out))
}

pub async fn update_function_configuration(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let mut input: ConfigInput = req.json()?;
    let layer_arns = input.layers.take();
    let (f, r) = find(lambda, ctx, name)?;
    no_qualifier(&r)?;
    // Validate against a copy first so a bad member fails before anything
    // is written.
    let expected = input.revision_id.clone();
    check_revision(expected.as_deref(), &f.latest.revision_id)?;
    let mut preview = f.latest.clone();
    config::apply(&mut preview, input)?;
    if let Some(arns) = layer_arns {
        preview.layers = super::layers::resolve(lambda, ctx, &arns)?;
    }
    let record = lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current.cloned().ok_or_else(|| not_found_in(&f))?;
                check_revision(expected.as_deref(), &record.latest.revision_id)?;
                let code = (
                    record.latest.code_id.clone(),
                    record.latest.code_sha256.clone(),
                    record.latest.code_size,
                    record.latest.architectures.clone(),
                );
                record.latest = preview;
                (
                    record.latest.code_id,
                    record.latest.code_sha256,
                    record.latest.code_size,
                    record.latest.architectures,
                ) = code;
                touch(&mut record.latest);
                Ok(Change::Put(Box::new(record.clone()), record))
            },
        )
        .await?;
    lambda.inner().exec.retire_latest(&record);
    let mut out = configuration_json(&record, &record.latest);
    out["LastUpdateStatus"] = "InProgress".into();
    out["LastUpdateStatusReason"] = "The function is being created.".into();
    out["LastUpdateStatusReasonCode"] = "Creating".into();
    Ok(Reply::json(200, &out))
}

pub async fn delete_function(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let whole_function = qualifier.is_none();
    let ctx_owned = ctx.clone();
    let deleted = lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &f.name.clone(), move |current| {
            let Some(current) = current else {
                return Err(not_found(&ctx_owned, &f.name, None));
            };
            match qualifier.as_deref() {
                None => Ok(Change::Delete(current.clone())),
                Some(LATEST) => Err(LambdaError::invalid(
                    "$LATEST version cannot be deleted without deleting the function.",
                )),
                Some(q) => {
                    let n: u64 = q
                        .parse()
                        .map_err(|_| LambdaError::invalid("Deletion of aliases is not supported. Please use DeleteAlias instead."))?;
                    if !current.versions.contains_key(&n) {
                        return Err(not_found(&ctx_owned, &current.name, Some(q)));
                    }
                    let users: Vec<&str> = current
                        .aliases
                        .values()
                        .filter(|a| a.function_version == q || a.routing.contains_key(q))
                        .map(|a| a.name.as_str())
                        .collect();
                    if !users.is_empty() {
                        return Err(LambdaError::ResourceConflict(format!(
                            "Unable to delete version because the following aliases reference it: [{}]",
                            users.join(", ")
                        )));
                    }
                    let mut record = current.clone();
                    record.versions.remove(&n);
                    Ok(Change::Put(Box::new(record.clone()), record))
                }
            }
        })
        .await?;
    lambda.inner().exec.retire(&deleted);
    if whole_function {
        // The reservation goes with the function: it must neither keep
        // holding account concurrency nor throttle a new function that is
        // later created under the same name.
        lambda
            .inner()
            .exec
            .concurrency
            .set_reservation(&deleted.arn(), None)?;
    }
    Ok(Reply::empty(204))
}

/// Copies `$LATEST` into a new published version, unless nothing changed
/// since the last one (AWS then returns that version).
pub(crate) fn with_new_version(
    mut record: FunctionRecord,
    description: Option<String>,
) -> FunctionRecord {
    if let Some((_, last)) = record.versions.iter().next_back() {
        if same_content(last, &record.latest) && description.is_none() {
            return record;
        }
    }
    let n = record.last_version + 1;
    let mut v = record.latest.clone();
    v.version = n.to_string();
    v.revision_id = model::new_revision_id();
    v.last_modified = model::timestamp(model::now_ms());
    if let Some(d) = description {
        v.description = d;
    }
    record.last_version = n;
    record.versions.insert(n, v);
    record
}

/// Whether a published version has the same code and configuration as
/// `$LATEST` (ignoring what differs between any two versions).
pub(crate) fn same_content(published: &VersionConfig, latest: &VersionConfig) -> bool {
    let mut a = published.clone();
    let mut b = latest.clone();
    for v in [&mut a, &mut b] {
        v.version.clear();
        v.revision_id.clear();
        v.last_modified.clear();
        v.description.clear();
    }
    a == b
}

fn touch(v: &mut VersionConfig) {
    v.revision_id = model::new_revision_id();
    v.last_modified = model::timestamp(model::now_ms());
}

fn set_code(v: &mut VersionConfig, info: &CodeInfo) {
    v.code_id = info.id.clone();
    v.code_sha256 = info.sha256.clone();
    v.code_size = info.size;
}

async fn store_code(lambda: &Lambda, zip: Vec<u8>) -> Result<CodeInfo> {
    let code = lambda.inner().exec.code().clone();
    tokio::task::spawn_blocking(move || code.add(&zip))
        .await
        .map_err(|e| LambdaError::Service(format!("storing the package failed: {e}")))?
}

fn zip_bytes(code: &CodeInput) -> Result<Vec<u8>> {
    if code.image_uri.is_some() {
        return Err(not_supported_image());
    }
    if code.s3_bucket.is_some() {
        return Err(LambdaError::invalid(
            "nimbus does not support Code.S3Bucket yet (there is no S3 service); upload the package with Code.ZipFile",
        ));
    }
    let Some(b64) = code.zip_file.as_deref() else {
        return Err(LambdaError::invalid(
            "Please provide a source for function code.",
        ));
    };
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            LambdaError::invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })
}

fn check_code_request_size(req: &Request, operation: &str) -> Result<()> {
    if req.body.len() > MAX_CODE_REQUEST_BYTES {
        return Err(LambdaError::RequestEntityTooLarge(format!(
            "Request must be smaller than {MAX_CODE_REQUEST_BYTES} bytes for the {operation} operation"
        )));
    }
    Ok(())
}

pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > 50 {
        return Err(LambdaError::invalid(
            "Number of tags exceeds resource tag limit.",
        ));
    }
    for (k, v) in tags {
        if k.is_empty()
            || k.chars().count() > 128
            || v.chars().count() > 256
            || k.starts_with("aws:")
        {
            return Err(LambdaError::invalid(format!(
                "Tag key or value is invalid: {k}"
            )));
        }
    }
    Ok(())
}

fn no_qualifier(r: &names::FunctionRef) -> Result<()> {
    if r.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Function name cannot contain a qualifier for this operation.",
        ));
    }
    Ok(())
}

fn not_found_in(f: &FunctionRecord) -> LambdaError {
    LambdaError::not_found(format!("Function not found: {}", f.arn()))
}

fn exists(name: &str) -> LambdaError {
    LambdaError::ResourceConflict(format!("Function already exist: {name}"))
}

fn not_supported_image() -> LambdaError {
    LambdaError::invalid(
        "nimbus does not support container image functions (PackageType Image) yet; deploy a .zip package",
    )
}

/// Where GetFunction says the package can be downloaded: nimbus serves it.
fn code_location(ctx: &RequestContext, code_id: &str) -> String {
    let host = ctx.host.as_deref().unwrap_or("127.0.0.1:4566");
    format!("http://{host}/_nimbus/lambda/code/{code_id}.zip")
}
