//! The configuration members CreateFunction and UpdateFunctionConfiguration
//! share, and their validation with AWS's texts.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{LambdaError, Result};
use crate::model::VersionConfig;
use crate::runtimes;

/// Members that configure a function (every one optional on update).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigInput {
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentInput>,
    pub layers: Option<Vec<String>>,
    pub ephemeral_storage: Option<StorageInput>,
    pub tracing_config: Option<TracingInput>,
    pub dead_letter_config: Option<DeadLetterInput>,
    #[serde(rename = "VpcConfig")]
    pub vpc_config: Option<serde_json::Value>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentInput {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StorageInput {
    pub size: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingInput {
    pub mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterInput {
    pub target_arn: Option<String>,
}

/// Variables Lambda sets itself; a function may not set them.
const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// AWS's limit on the serialised size of all variables.
const MAX_ENVIRONMENT_BYTES: usize = 4096;

const ROLE_PATTERN: &str = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";

/// Applies `input` to `config` (a new function's defaults, or the current
/// `$LATEST`), validating each member given.
pub fn apply(config: &mut VersionConfig, input: ConfigInput) -> Result<()> {
    if let Some(runtime) = input.runtime {
        runtimes::parse(&runtime)?;
        config.runtime = runtime;
    }
    if let Some(role) = input.role {
        check_role(&role)?;
        config.role = role;
    }
    if let Some(handler) = input.handler {
        if handler.len() > 128 {
            return Err(LambdaError::constraint(
                &handler,
                "handler",
                "Member must have length less than or equal to 128",
            ));
        }
        if handler.is_empty() || handler.chars().any(char::is_whitespace) {
            return Err(LambdaError::constraint(
                &handler,
                "handler",
                "Member must satisfy regular expression pattern: [^\\s]+",
            ));
        }
        config.handler = handler;
    }
    if let Some(description) = input.description {
        super::check_description(&description)?;
        config.description = description;
    }
    if let Some(timeout) = input.timeout {
        config.timeout = LambdaError::bounded(timeout, "timeout", 1, 900)?;
    }
    if let Some(memory) = input.memory_size {
        config.memory_size = LambdaError::bounded(memory, "memorySize", 128, 10_240)?;
    }
    if let Some(storage) = input.ephemeral_storage {
        config.ephemeral_storage =
            LambdaError::bounded(storage.size, "ephemeralStorage.size", 512, 10_240)?;
    }
    if let Some(environment) = input.environment {
        check_environment(&environment.variables)?;
        config.environment = environment.variables;
        config.has_environment = true;
    }
    // Layers are resolved against the stored layers by the caller (see
    // `ops::layers::resolve`), which needs the service.
    if let Some(tracing) = input.tracing_config {
        match tracing.mode.as_deref() {
            Some(mode @ ("Active" | "PassThrough")) => config.tracing_mode = mode.to_owned(),
            Some(other) => {
                return Err(LambdaError::constraint(
                    other,
                    "tracingConfig.mode",
                    "Member must satisfy enum value set: [Active, PassThrough]",
                ))
            }
            None => {}
        }
    }
    if let Some(dlq) = input.dead_letter_config {
        let target = dlq.target_arn.filter(|t| !t.is_empty());
        if let Some(arn) = &target {
            use crate::destinations::DestinationKind;
            if !matches!(
                crate::destinations::kind_of(arn),
                Ok(DestinationKind::Sqs | DestinationKind::Sns)
            ) {
                return Err(LambdaError::invalid(format!(
                    "The provided target ARN {arn} is not an SQS queue or an SNS topic."
                )));
            }
        }
        config.dead_letter_target = target;
    }
    Ok(())
}

fn check_role(role: &str) -> Result<()> {
    let ok = (|| {
        let rest = role.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(':')?;
        if !partition.starts_with("aws") {
            return None;
        }
        let rest = rest.strip_prefix("iam::")?;
        let (account, rest) = rest.split_once(':')?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let name = rest.strip_prefix("role")?;
        let name = name.strip_prefix('/').unwrap_or(name);
        (!name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b)))
        .then_some(())
    })();
    ok.ok_or_else(|| {
        LambdaError::constraint(
            role,
            "role",
            &format!("Member must satisfy regular expression pattern: {ROLE_PATTERN}"),
        )
    })
}

fn check_environment(vars: &BTreeMap<String, String>) -> Result<()> {
    let reserved: Vec<&str> = vars
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_VARIABLES.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for key in vars.keys() {
        let mut chars = key.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && key.len() >= 2
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(LambdaError::constraint(
                "[PROTECTED]",
                "environment.variables",
                "Member must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
            ));
        }
    }
    let size = serde_json::to_string(vars).map(|s| s.len()).unwrap_or(0);
    if size > MAX_ENVIRONMENT_BYTES {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {}",
            serde_json::to_string(vars).unwrap_or_default()
        )));
    }
    Ok(())
}

/// `Architectures`: exactly one of x86_64 and arm64.
pub fn architectures(input: Option<Vec<String>>) -> Result<Option<Vec<String>>> {
    let Some(list) = input else { return Ok(None) };
    if list.len() != 1 {
        return Err(LambdaError::constraint(
            format!("[{}]", list.join(", ")),
            "architectures",
            "Member must have length less than or equal to 1",
        ));
    }
    if !matches!(list[0].as_str(), "x86_64" | "arm64") {
        return Err(LambdaError::constraint(
            format!("[{}]", list[0]),
            "architectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
        ));
    }
    Ok(Some(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert!(check_role("arn:aws:iam::000000000000:role/lambda-role").is_ok());
        assert!(check_role("arn:aws:iam::000000000000:role/service-role/x").is_ok());
        for bad in [
            "role",
            "arn:aws:iam::1:role/x",
            "arn:aws:iam::000000000000:user/x",
            "arn:aws:iam::000000000000:role/",
        ] {
            assert!(check_role(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn environment_rules() {
        let mut vars = BTreeMap::new();
        vars.insert("AWS_REGION".to_owned(), "x".to_owned());
        assert!(check_environment(&vars)
            .unwrap_err()
            .to_string()
            .ends_with("Reserved keys used in this request: AWS_REGION"));
        let mut vars = BTreeMap::new();
        vars.insert("BIG".to_owned(), "x".repeat(5000));
        assert!(check_environment(&vars)
            .unwrap_err()
            .to_string()
            .contains("exceeded the 4KB limit"));
        let mut vars = BTreeMap::new();
        vars.insert("1BAD".to_owned(), "x".to_owned());
        assert!(check_environment(&vars).is_err());
    }
}
