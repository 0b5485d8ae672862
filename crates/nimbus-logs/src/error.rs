//! CloudWatch Logs errors as AWS sends them over awsJson 1.1: `__type` is
//! `com.amazonaws.logs#<Code>`. Request validation failures are
//! `InvalidParameterException` carrying the Coral validation text
//! ("1 validation error detected: Value ... at 'member' failed to satisfy
//! constraint: ..."), which is what the Logs front end answers.

use nimbus_store::StoreError;
use nimbus_wire::error::CORAL_NAMESPACE;
use nimbus_wire::AwsError;

/// Namespace of CloudWatch Logs' modelled errors.
pub const NAMESPACE: &str = "com.amazonaws.logs";

/// One error per AWS error code, each with its message.
#[derive(Debug, Clone, PartialEq)]
pub enum LogsError {
    InvalidParameter(String),
    ResourceNotFound(String),
    ResourceAlreadyExists(String),
    LimitExceeded(String),
    TooManyTags(String),
    /// A member of the wrong JSON type, or a body that is not a JSON object.
    Serialization(String),
    UnknownOperation(String),
    /// A storage failure: the server's fault.
    ServiceUnavailable(String),
}

pub type Result<T> = std::result::Result<T, LogsError>;

impl LogsError {
    /// The Coral validation text for one failed member constraint.
    pub fn validation(value: impl std::fmt::Display, member: &str, constraint: &str) -> Self {
        LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// A required member that is absent.
    pub fn missing(member: &str) -> Self {
        LogsError::InvalidParameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    pub fn group_not_found() -> Self {
        LogsError::ResourceNotFound("The specified log group does not exist.".into())
    }

    pub fn stream_not_found() -> Self {
        LogsError::ResourceNotFound("The specified log stream does not exist.".into())
    }

    pub fn invalid_next_token() -> Self {
        LogsError::InvalidParameter("The specified nextToken is invalid.".into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            LogsError::InvalidParameter(_) => "InvalidParameterException",
            LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
            LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            LogsError::LimitExceeded(_) => "LimitExceededException",
            LogsError::TooManyTags(_) => "TooManyTagsException",
            LogsError::Serialization(_) => "SerializationException",
            LogsError::UnknownOperation(_) => "UnknownOperationException",
            LogsError::ServiceUnavailable(_) => "ServiceUnavailableException",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            LogsError::InvalidParameter(m)
            | LogsError::ResourceNotFound(m)
            | LogsError::ResourceAlreadyExists(m)
            | LogsError::LimitExceeded(m)
            | LogsError::TooManyTags(m)
            | LogsError::Serialization(m)
            | LogsError::UnknownOperation(m)
            | LogsError::ServiceUnavailable(m) => m,
        }
    }

    pub fn into_aws(self) -> AwsError {
        let (status, namespace) = match &self {
            // Raised by the front end before the service sees the request.
            LogsError::Serialization(_) | LogsError::UnknownOperation(_) => (400, CORAL_NAMESPACE),
            LogsError::ServiceUnavailable(_) => (500, NAMESPACE),
            _ => (400, NAMESPACE),
        };
        let code = self.code();
        AwsError::new(status, namespace, code, self.message().to_owned())
    }
}

impl std::fmt::Display for LogsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl From<StoreError> for LogsError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        LogsError::ServiceUnavailable(format!("The service cannot complete the request: {e}"))
    }
}
