//! Lambda's errors, by AWS name, each carrying the text AWS sends.

use nimbus_store::StoreError;
use nimbus_wire::AwsError;

pub type Result<T> = std::result::Result<T, LambdaError>;

/// Every way a Lambda operation fails. Converted to the restJson1 error
/// shape (`x-amzn-ErrorType` + `{"Type","message"}`) by [`LambdaError::into_aws`].
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceConflict(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    /// A request member outside its modelled constraint (AWS's
    /// "1 validation error detected: ..." texts).
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    InvalidRequestContent(String),
    #[error("{0}")]
    RequestTooLarge(String),
    /// A request body or package over a size limit outside Invoke.
    #[error("{0}")]
    RequestEntityTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Throttled: `reason` is AWS's `Reason` member
    /// (`ReservedFunctionConcurrentInvocationLimitExceeded`, ...).
    #[error("Rate Exceeded.")]
    TooManyRequests { reason: &'static str },
    #[error("{0}")]
    ResourceNotReady(String),
    #[error("{0}")]
    ProvisionedConcurrencyConfigNotFound(String),
    /// The runtime returned something Lambda cannot deliver.
    #[error("{0}")]
    InvalidRuntime(String),
    #[error("{0}")]
    Service(String),
    #[error("{0}")]
    UnknownOperation(String),
}

impl LambdaError {
    pub fn not_found(message: impl Into<String>) -> Self {
        LambdaError::ResourceNotFound(message.into())
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        LambdaError::InvalidParameterValue(message.into())
    }

    /// AWS's text for one member outside its modelled constraint.
    pub fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> Self {
        LambdaError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// AWS's text for a required member that is missing.
    pub fn null(member: &str) -> Self {
        LambdaError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    /// Checks `value` against a modelled range, with AWS's text.
    pub fn bounded(value: i64, member: &str, min: i64, max: i64) -> Result<u32> {
        if value < min {
            return Err(LambdaError::constraint(
                value,
                member,
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if value > max {
            return Err(LambdaError::constraint(
                value,
                member,
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(value as u32)
    }

    fn parts(&self) -> (u16, &'static str) {
        match self {
            LambdaError::ResourceNotFound(_) => (404, "ResourceNotFoundException"),
            LambdaError::ResourceConflict(_) => (409, "ResourceConflictException"),
            LambdaError::InvalidParameterValue(_) => (400, "InvalidParameterValueException"),
            LambdaError::Validation(_) => (400, "ValidationException"),
            LambdaError::PreconditionFailed(_) => (412, "PreconditionFailedException"),
            LambdaError::InvalidRequestContent(_) => (400, "InvalidRequestContentException"),
            LambdaError::RequestTooLarge(_) => (413, "RequestTooLargeException"),
            LambdaError::RequestEntityTooLarge(_) => (413, "RequestEntityTooLargeException"),
            LambdaError::UnsupportedMediaType(_) => (415, "UnsupportedMediaTypeException"),
            LambdaError::TooManyRequests { .. } => (429, "TooManyRequestsException"),
            LambdaError::ProvisionedConcurrencyConfigNotFound(_) => {
                (404, "ProvisionedConcurrencyConfigNotFoundException")
            }
            LambdaError::ResourceNotReady(_) => (502, "ResourceNotReadyException"),
            LambdaError::InvalidRuntime(_) => (502, "InvalidRuntimeException"),
            LambdaError::Service(_) => (500, "ServiceException"),
            LambdaError::UnknownOperation(_) => (404, "UnknownOperationException"),
        }
    }

    pub fn into_aws(self) -> AwsError {
        let (status, code) = self.parts();
        let err = AwsError::new(status, "", code, self.to_string());
        match self {
            LambdaError::TooManyRequests { reason } => err.with_extra("Reason", reason.into()),
            _ => err,
        }
    }
}

impl From<StoreError> for LambdaError {
    fn from(err: StoreError) -> Self {
        tracing::error!("lambda: storage failed: {err}");
        LambdaError::Service(format!("storage failure: {err}"))
    }
}

impl From<LambdaError> for AwsError {
    fn from(err: LambdaError) -> Self {
        err.into_aws()
    }
}
