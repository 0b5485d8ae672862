//! The error every service returns, rendered per protocol by the wire layer.

/// An AWS error: the HTTP status, the short error name (`ResourceNotFoundException`),
/// the namespace-qualified `__type` prefix used by awsJson protocols, a message,
/// and optional extra top-level JSON fields (for example `Item` on a DynamoDB
/// `ConditionalCheckFailedException` or `CancellationReasons`).
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub status: u16,
    /// Namespace for awsJson `__type`, e.g. `com.amazonaws.dynamodb.v20120810`.
    pub namespace: &'static str,
    /// Short error code, e.g. `ValidationException`.
    pub code: String,
    pub message: String,
    /// Extra members merged into the JSON error body.
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AwsError {
    pub fn new(
        status: u16,
        namespace: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            status,
            namespace,
            code: code.into(),
            message: message.into(),
            extra: None,
        }
    }

    /// The awsJson `__type` value: `namespace#Code`.
    pub fn type_name(&self) -> String {
        if self.namespace.is_empty() {
            self.code.clone()
        } else {
            format!("{}#{}", self.namespace, self.code)
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}
