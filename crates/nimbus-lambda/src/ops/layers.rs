//! PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn,
//! ListLayerVersions, ListLayers, DeleteLayerVersion; and resolving the
//! layer version ARNs a function's configuration names.
//!
//! Layer contents live in the same content-addressed code store as function
//! packages. Layer records are read from the store (they are only needed
//! when publishing and when configuring functions) and changed with a
//! read-modify-write inside one store write, which the single writer makes
//! atomic.

use std::collections::BTreeMap;

use base64::Engine;
use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

use super::functions::paginate;
use super::max_items;
use crate::error::{LambdaError, Result};
use crate::model::{self, layer_key, LayerRecord, LayerRef, LayerVersion};
use crate::runtimes;
use crate::{Lambda, Reply, Request};

/// Most layers a function may use.
const MAX_LAYERS: usize = 5;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishInput {
    description: Option<String>,
    content: Option<ContentInput>,
    compatible_runtimes: Option<Vec<String>>,
    compatible_architectures: Option<Vec<String>>,
    license_info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContentInput {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
}

pub async fn publish_layer_version(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    layer: &str,
) -> Result<Reply> {
    let name = layer_name(layer)?;
    let input: PublishInput = req.json()?;
    let description = input.description.unwrap_or_default();
    super::check_description(&description)?;
    let runtimes_list = input.compatible_runtimes.unwrap_or_default();
    if runtimes_list.len() > 15 {
        return Err(LambdaError::constraint(
            format!("[{}]", runtimes_list.join(", ")),
            "compatibleRuntimes",
            "Member must have length less than or equal to 15",
        ));
    }
    for r in &runtimes_list {
        // Deprecated runtimes stay valid as compatibility labels.
        if let Err(LambdaError::Validation(m)) = runtimes::parse(r) {
            return Err(LambdaError::Validation(
                m.replace("'runtime'", "'compatibleRuntimes'"),
            ));
        }
    }
    let architectures = input.compatible_architectures.unwrap_or_default();
    if architectures.len() > 2 || architectures.iter().any(|a| a != "x86_64" && a != "arm64") {
        return Err(LambdaError::constraint(
            format!("[{}]", architectures.join(", ")),
            "compatibleArchitectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
        ));
    }
    let content = input.content.ok_or_else(|| LambdaError::null("content"))?;
    if content.s3_bucket.is_some() {
        return Err(LambdaError::invalid(
            "nimbus does not support Content.S3Bucket yet (there is no S3 service); upload the layer with Content.ZipFile",
        ));
    }
    let zip = base64::engine::general_purpose::STANDARD
        .decode(content.zip_file.as_deref().unwrap_or(""))
        .map_err(|_| {
            LambdaError::invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })?;
    let code = lambda.inner().exec.code().clone();
    let info = tokio::task::spawn_blocking(move || code.add(&zip))
        .await
        .map_err(|e| LambdaError::Service(format!("storing the layer failed: {e}")))??;

    let key = layer_key(&ctx.account_id, &ctx.region, &name);
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    let created = model::timestamp(lambda.inner().clock.now_ms());
    let license_info = input.license_info;
    let (record, version) = lambda
        .inner()
        .store
        .write(move |txn| {
            let mut record = match txn.get(&key)? {
                Some(bytes) => decode(&bytes)?,
                None => LayerRecord {
                    account,
                    region,
                    name,
                    versions: BTreeMap::new(),
                    last_version: 0,
                },
            };
            let n = record.last_version + 1;
            let version = LayerVersion {
                version: n,
                description,
                compatible_runtimes: runtimes_list,
                compatible_architectures: architectures,
                license_info,
                code_id: info.id.clone(),
                code_sha256: info.sha256.clone(),
                code_size: info.size,
                created_date: created,
            };
            record.last_version = n;
            record.versions.insert(n, version.clone());
            txn.put(&key, &encode(&record)?);
            Ok::<_, LambdaError>((record, version))
        })
        .await?;
    Ok(Reply::json(201, &version_json(ctx, &record, &version)))
}

pub fn get_layer_version(
    lambda: &Lambda,
    ctx: &RequestContext,
    layer: &str,
    version: &str,
) -> Result<Reply> {
    let name = layer_name(layer)?;
    let n = version_number(version)?;
    let record = load(lambda, ctx, &name)?;
    let v = record
        .as_ref()
        .and_then(|r| r.versions.get(&n))
        .ok_or_else(version_not_found)?;
    Ok(Reply::json(
        200,
        &version_json(ctx, record.as_ref().unwrap_or_else(|| unreachable!()), v),
    ))
}

/// `GET /2018-10-31/layers?find=LayerVersion&Arn=...`
pub fn get_layer_version_by_arn(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
) -> Result<Reply> {
    let arn = req.query("Arn").unwrap_or_default();
    let (name, n) = parse_version_arn(&arn).ok_or_else(|| {
        LambdaError::constraint(
            &arn,
            "arn",
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)",
        )
    })?;
    get_layer_version(lambda, ctx, &name, &n.to_string())
}

pub fn list_layer_versions(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    layer: &str,
) -> Result<Reply> {
    let name = layer_name(layer)?;
    let limit = max_items(req)?;
    let runtime = req.query("CompatibleRuntime");
    let architecture = req.query("CompatibleArchitecture");
    let record = load(lambda, ctx, &name)?;
    let mut entries = Vec::new();
    if let Some(record) = &record {
        // Newest first, as AWS lists them.
        for v in record.versions.values().rev() {
            if matches(v, runtime.as_deref(), architecture.as_deref()) {
                entries.push((
                    format!("{:020}", u64::MAX - v.version),
                    version_json(ctx, record, v),
                ));
            }
        }
    }
    for (_, v) in entries.iter_mut() {
        if let Some(m) = v.as_object_mut() {
            m.remove("Content");
            m.remove("LayerArn");
        }
    }
    let (page, next) = paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(
        200,
        &super::page_json("LayerVersions", page, next),
    ))
}

pub fn list_layers(lambda: &Lambda, ctx: &RequestContext, req: &Request) -> Result<Reply> {
    let limit = max_items(req)?;
    let runtime = req.query("CompatibleRuntime");
    let architecture = req.query("CompatibleArchitecture");
    let prefix = layer_key(&ctx.account_id, &ctx.region, "");
    let end = model::prefix_end(&prefix);
    let snapshot = lambda.inner().store.snapshot()?;
    let mut records = Vec::new();
    snapshot.scan(
        std::ops::Bound::Included(prefix.as_slice()),
        std::ops::Bound::Excluded(end.as_slice()),
        false,
        &mut |_, value| {
            if let Ok(r) = decode(value) {
                records.push(r);
            }
            true
        },
    )?;
    let mut entries = Vec::new();
    for r in &records {
        let latest = r
            .versions
            .values()
            .rev()
            .find(|v| matches(v, runtime.as_deref(), architecture.as_deref()));
        if let Some(v) = latest {
            let mut version = version_json(ctx, r, v);
            if let Some(m) = version.as_object_mut() {
                m.remove("Content");
                m.remove("LayerArn");
            }
            entries.push((
                r.name.clone(),
                json!({
                    "LayerName": r.name,
                    "LayerArn": layer_arn(ctx, &r.name),
                    "LatestMatchingVersion": version,
                }),
            ));
        }
    }
    let (page, next) = paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(200, &super::page_json("Layers", page, next)))
}

pub async fn delete_layer_version(
    lambda: &Lambda,
    ctx: &RequestContext,
    layer: &str,
    version: &str,
) -> Result<Reply> {
    let name = layer_name(layer)?;
    let n = version_number(version)?;
    let key = layer_key(&ctx.account_id, &ctx.region, &name);
    lambda
        .inner()
        .store
        .write(move |txn| {
            // Deleting a version that does not exist succeeds, as on AWS.
            if let Some(bytes) = txn.get(&key)? {
                let mut record = decode(&bytes)?;
                if record.versions.remove(&n).is_some() {
                    txn.put(&key, &encode(&record)?);
                }
            }
            Ok::<_, LambdaError>(())
        })
        .await?;
    Ok(Reply::empty(204))
}

/// The layer versions a function configuration names, in order.
pub(crate) fn resolve(
    lambda: &Lambda,
    ctx: &RequestContext,
    arns: &[String],
) -> Result<Vec<LayerRef>> {
    if arns.len() > MAX_LAYERS {
        return Err(LambdaError::invalid("Cannot reference more than 5 layers."));
    }
    let mut out: Vec<LayerRef> = Vec::with_capacity(arns.len());
    for arn in arns {
        let (name, n) = parse_version_arn(arn).ok_or_else(|| {
            LambdaError::constraint(
                format!("[{}]", arns.join(", ")),
                "layers",
                "Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]",
            )
        })?;
        let owner: Vec<&str> = arn.split(':').collect();
        let (region, account) = (owner[3], owner[4]);
        let record = lambda
            .inner()
            .store
            .snapshot()?
            .get(&layer_key(account, region, &name))?
            .map(|b| decode(&b))
            .transpose()?;
        let v = record
            .as_ref()
            .and_then(|r| r.versions.get(&n))
            .ok_or_else(|| LambdaError::invalid(format!("Layer version {arn} does not exist.")))?;
        if out
            .iter()
            .any(|l| l.arn.rsplit_once(':').map(|p| p.0) == arn.rsplit_once(':').map(|p| p.0))
        {
            return Err(LambdaError::invalid(
                "Two different versions of the same layer are not allowed to be referenced in the same function.",
            ));
        }
        out.push(LayerRef {
            arn: arn.clone(),
            code_id: v.code_id.clone(),
            code_size: v.code_size,
        });
    }
    let _ = ctx;
    Ok(out)
}

fn load(lambda: &Lambda, ctx: &RequestContext, name: &str) -> Result<Option<LayerRecord>> {
    lambda
        .inner()
        .store
        .snapshot()?
        .get(&layer_key(&ctx.account_id, &ctx.region, name))?
        .map(|b| decode(&b))
        .transpose()
}

fn matches(v: &LayerVersion, runtime: Option<&str>, architecture: Option<&str>) -> bool {
    runtime.is_none_or(|r| v.compatible_runtimes.iter().any(|c| c == r))
        && architecture.is_none_or(|a| v.compatible_architectures.iter().any(|c| c == a))
}

fn version_json(ctx: &RequestContext, r: &LayerRecord, v: &LayerVersion) -> Value {
    let arn = layer_arn(ctx, &r.name);
    let mut out = json!({
        "Content": {
            "Location": format!(
                "http://{}/_nimbus/lambda/code/{}.zip",
                ctx.host.as_deref().unwrap_or("127.0.0.1:4566"),
                v.code_id
            ),
            "CodeSha256": v.code_sha256,
            "CodeSize": v.code_size,
        },
        "LayerArn": arn,
        "LayerVersionArn": format!("{arn}:{}", v.version),
        "Description": v.description,
        "CreatedDate": v.created_date,
        "Version": v.version,
        "CompatibleRuntimes": v.compatible_runtimes,
        "CompatibleArchitectures": v.compatible_architectures,
    });
    if let Some(l) = &v.license_info {
        out["LicenseInfo"] = l.clone().into();
    }
    out
}

fn layer_arn(ctx: &RequestContext, name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:layer:{name}",
        ctx.region, ctx.account_id
    )
}

/// A `LayerName` path member: a name or a layer ARN.
fn layer_name(input: &str) -> Result<String> {
    let name = match input.strip_prefix("arn:") {
        Some(_) => {
            let parts: Vec<&str> = input.split(':').collect();
            match parts.as_slice() {
                ["arn", _, "lambda", _, _, "layer", name] => *name,
                _ => "",
            }
        }
        None => input,
    };
    if name.is_empty()
        || name.len() > 140
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(LambdaError::constraint(
            input,
            "layerName",
            "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
        ));
    }
    Ok(name.to_owned())
}

fn version_number(v: &str) -> Result<u64> {
    v.parse()
        .map_err(|_| LambdaError::invalid(format!("Invalid layer version number: {v}")))
}

/// `(name, version)` of `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:N`.
fn parse_version_arn(arn: &str) -> Option<(String, u64)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", p, "lambda", region, account, "layer", name, n]
            if p.starts_with("aws") && !region.is_empty() && account.len() == 12 =>
        {
            Some((layer_name(name).ok()?, n.parse().ok()?))
        }
        _ => None,
    }
}

fn version_not_found() -> LambdaError {
    LambdaError::not_found("The resource you requested does not exist.")
}

fn decode(bytes: &[u8]) -> Result<LayerRecord> {
    serde_json::from_slice(bytes)
        .map_err(|e| LambdaError::Service(format!("a stored layer record is unreadable: {e}")))
}

fn encode(record: &LayerRecord) -> Result<Vec<u8>> {
    serde_json::to_vec(record)
        .map_err(|e| LambdaError::Service(format!("encode a layer record: {e}")))
}
