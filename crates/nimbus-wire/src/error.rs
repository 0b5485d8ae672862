//! The error every service returns, rendered per protocol by the wire layer.

/// Namespace AWS's front end ("coral") uses for errors raised before a request
/// reaches a service: authentication, unknown operations, unreadable bodies.
/// SDKs match on the part after `#`, but user code logging `__type` sees the
/// whole string, so we use the one AWS sends.
pub const CORAL_NAMESPACE: &str = "com.amazon.coral.service";

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
    /// For services whose awsJson protocol is "awsQuery compatible" (SQS):
    /// the legacy query error code, sent with the fault as the
    /// `x-amzn-query-error: Code;Sender` header, which SDKs prefer over
    /// `__type` as the error code. (A static string keeps `AwsError` small.)
    pub query_code: Option<&'static str>,
    /// With `query_code`: whether the sender (client) is at fault, else the
    /// receiver (server).
    pub sender_fault: bool,
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
            query_code: None,
            sender_fault: true,
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

    /// Adds one extra top-level member to the JSON error body.
    pub fn with_extra(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(serde_json::Map::new)
            .insert(key.into(), value);
        self
    }

    /// Sets the `x-amzn-query-error` value: the legacy query `code` and
    /// whether the sender (client) or the receiver (server) is at fault.
    pub fn with_query_error(mut self, code: &'static str, sender_fault: bool) -> Self {
        self.query_code = Some(code);
        self.sender_fault = sender_fault;
        self
    }

    /// The `x-amzn-query-error` header value, if this error has one.
    pub fn query_error(&self) -> Option<String> {
        let fault = if self.sender_fault {
            "Sender"
        } else {
            "Receiver"
        };
        self.query_code.map(|code| format!("{code};{fault}"))
    }

    /// A request that names no operation this server (or AWS) knows.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        AwsError::new(400, CORAL_NAMESPACE, "UnknownOperationException", message)
    }

    /// A request with no SigV4 credentials at all. DynamoDB answers 400 here
    /// (not 403 as API Gateway does), with exactly this message.
    pub fn missing_authentication_token() -> Self {
        AwsError::new(
            400,
            CORAL_NAMESPACE,
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
        )
    }

    /// A SigV4 signature that lacks a required component or is malformed.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        AwsError::new(
            400,
            CORAL_NAMESPACE,
            "IncompleteSignatureException",
            message,
        )
    }

    /// A SigV4 signature that is complete but cannot be valid.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        AwsError::new(400, CORAL_NAMESPACE, "InvalidSignatureException", message)
    }

    /// A request body that is not the JSON (or form) the protocol requires.
    pub fn serialization(message: impl Into<String>) -> Self {
        AwsError::new(400, CORAL_NAMESPACE, "SerializationException", message)
    }

    /// A request body larger than the server accepts (HTTP 413).
    pub fn request_entity_too_large(limit_bytes: usize) -> Self {
        AwsError::new(
            413,
            CORAL_NAMESPACE,
            "RequestEntityTooLargeException",
            format!("Request entity too large: the request body exceeds the limit of {limit_bytes} bytes"),
        )
    }

    /// A failure inside the server, not caused by the request.
    pub fn internal_failure(message: impl Into<String>) -> Self {
        AwsError::new(500, CORAL_NAMESPACE, "InternalFailure", message)
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}
