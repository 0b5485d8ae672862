//! What nimbus stores about functions, and the `FunctionConfiguration` JSON
//! AWS returns for them.
//!
//! One record per function holds `$LATEST`, its published versions, aliases,
//! tags, reserved concurrency and resource policy. Control-plane writes are
//! rare, so rewriting the whole record on each change keeps every change one
//! atomic store write without any cross-key bookkeeping.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::names::{self, LATEST};

/// One function, as stored under [`function_key`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub latest: VersionConfig,
    /// Published versions by number.
    #[serde(default)]
    pub versions: BTreeMap<u64, VersionConfig>,
    /// The highest version number ever published (numbers are never reused,
    /// even after a version is deleted).
    #[serde(default)]
    pub last_version: u64,
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasRecord>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// PutFunctionConcurrency's value; `Some(0)` throttles every invoke.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Asynchronous invocation settings by qualifier (`$LATEST`, a version
    /// or an alias).
    #[serde(default)]
    pub event_invoke_configs: BTreeMap<String, EventInvokeConfig>,
    /// Resource-policy statements by qualifier ("" for the unqualified
    /// function), in the order they were added.
    #[serde(default)]
    pub policies: BTreeMap<String, Vec<serde_json::Value>>,
    /// Provisioned concurrency by qualifier (a version or an alias).
    #[serde(default)]
    pub provisioned: BTreeMap<String, ProvisionedConfig>,
    /// Function URLs by qualifier ("" for the unqualified function).
    #[serde(default)]
    pub urls: BTreeMap<String, UrlConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlConfig {
    /// The 32-character id in the URL's host name.
    pub url_id: String,
    pub auth_type: String,
    /// The `Cors` object as given (AllowOrigins, AllowMethods, ...).
    #[serde(default)]
    pub cors: Option<serde_json::Value>,
    pub invoke_mode: String,
    pub created: String,
    pub last_modified: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisionedConfig {
    pub requested: u32,
    pub last_modified_ms: u64,
}

/// PutFunctionEventInvokeConfig's settings for one qualifier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_seconds: Option<u32>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
    pub last_modified_ms: u64,
}

/// The configuration of `$LATEST` or of one published version (immutable
/// once published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionConfig {
    /// `$LATEST` or the version number.
    pub version: String,
    pub runtime: String,
    pub handler: String,
    pub role: String,
    #[serde(default)]
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub ephemeral_storage: u32,
    pub architectures: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Whether the request carried an `Environment` member at all (AWS
    /// omits `Environment` from the configuration until one is set).
    #[serde(default)]
    pub has_environment: bool,
    #[serde(default)]
    /// Layers in order (later ones win where files overlap).
    pub layers: Vec<LayerRef>,
    /// Base64 SHA-256 of the deployment package, as AWS reports it.
    pub code_sha256: String,
    pub code_size: u64,
    /// Hex SHA-256: the name of the stored package and its extracted tree.
    pub code_id: String,
    pub revision_id: String,
    /// `2024-05-01T12:00:00.000+0000`.
    pub last_modified: String,
    #[serde(default = "default_tracing")]
    pub tracing_mode: String,
    #[serde(default)]
    pub dead_letter_target: Option<String>,
}

fn default_tracing() -> String {
    "PassThrough".to_owned()
}

/// A layer version a function uses: enough to run it even after the layer
/// version is deleted (AWS keeps deleted layer versions usable by the
/// functions that reference them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRef {
    pub arn: String,
    pub code_id: String,
    pub code_size: u64,
}

/// One layer and its versions, as stored under [`layer_key`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub versions: BTreeMap<u64, LayerVersion>,
    /// Version numbers are never reused.
    pub last_version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerVersion {
    pub version: u64,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub compatible_runtimes: Vec<String>,
    #[serde(default)]
    pub compatible_architectures: Vec<String>,
    #[serde(default)]
    pub license_info: Option<String>,
    pub code_id: String,
    pub code_sha256: String,
    pub code_size: u64,
    pub created_date: String,
}

/// Store key of a layer record: `ll` account `/` region `/` name.
pub fn layer_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = LAYER_PREFIX.to_vec();
    k.extend_from_slice(account.as_bytes());
    k.push(b'/');
    k.extend_from_slice(region.as_bytes());
    k.push(b'/');
    k.extend_from_slice(name.as_bytes());
    k
}

pub const LAYER_PREFIX: &[u8] = b"ll";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    pub name: String,
    pub function_version: String,
    #[serde(default)]
    pub description: String,
    /// Additional version and its weight (0.0 to 1.0), if traffic is split.
    #[serde(default)]
    pub routing: BTreeMap<String, f64>,
    pub revision_id: String,
}

impl FunctionRecord {
    pub fn arn(&self) -> String {
        names::function_arn(&self.region, &self.account, &self.name)
    }

    /// The configuration a qualifier names directly: `$LATEST` or a version
    /// number (aliases are resolved by the caller).
    pub fn version(&self, version: &str) -> Option<&VersionConfig> {
        if version == LATEST {
            return Some(&self.latest);
        }
        let n: u64 = version.parse().ok()?;
        self.versions.get(&n)
    }
}

/// Store key of a function record: `lf` account `/` region `/` name.
pub fn function_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + account.len() + region.len() + name.len());
    k.extend_from_slice(FUNCTION_PREFIX);
    k.extend_from_slice(account.as_bytes());
    k.push(b'/');
    k.extend_from_slice(region.as_bytes());
    k.push(b'/');
    k.extend_from_slice(name.as_bytes());
    k
}

/// Every function record key starts with this.
pub const FUNCTION_PREFIX: &[u8] = b"lf";

/// The `FunctionConfiguration` object of one version.
pub fn configuration_json(f: &FunctionRecord, v: &VersionConfig) -> Value {
    let arn = if v.version == LATEST {
        f.arn()
    } else {
        names::qualified_arn(&f.region, &f.account, &f.name, &v.version)
    };
    let mut out = json!({
        "FunctionName": f.name,
        "FunctionArn": arn,
        "Runtime": v.runtime,
        "Role": v.role,
        "Handler": v.handler,
        "CodeSize": v.code_size,
        "Description": v.description,
        "Timeout": v.timeout,
        "MemorySize": v.memory_size,
        "LastModified": v.last_modified,
        "CodeSha256": v.code_sha256,
        "Version": v.version,
        "TracingConfig": {"Mode": v.tracing_mode},
        "RevisionId": v.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": v.architectures,
        "EphemeralStorage": {"Size": v.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {
            "LogFormat": "Text",
            "LogGroup": format!("/aws/lambda/{}", f.name),
        },
    });
    if v.has_environment {
        out["Environment"] = json!({ "Variables": v.environment });
    }
    if !v.layers.is_empty() {
        out["Layers"] = v
            .layers
            .iter()
            .map(|l| json!({"Arn": l.arn, "CodeSize": l.code_size}))
            .collect();
    }
    if let Some(target) = &v.dead_letter_target {
        out["DeadLetterConfig"] = json!({ "TargetArn": target });
    }
    out
}

/// The `AliasConfiguration` object.
pub fn alias_json(f: &FunctionRecord, a: &AliasRecord) -> Value {
    let mut out = json!({
        "AliasArn": names::qualified_arn(&f.region, &f.account, &f.name, &a.name),
        "Name": a.name,
        "FunctionVersion": a.function_version,
        "Description": a.description,
        "RevisionId": a.revision_id,
    });
    if !a.routing.is_empty() {
        out["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.routing });
    }
    out
}

/// Lambda's timestamp format: `2024-05-01T12:00:00.000+0000`.
pub fn timestamp(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub use nimbus_store::prefix_end;

/// The timestamp at the start of runtime log lines: `2024-05-01T12:00:00.123Z`.
pub fn log_timestamp(ms: u64) -> String {
    let mut s = timestamp(ms);
    s.truncate(s.len() - 5);
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_lambdas() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(timestamp(1_714_564_800_123), "2024-05-01T12:00:00.123+0000");
    }
}
