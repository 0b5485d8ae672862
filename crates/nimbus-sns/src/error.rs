//! SNS errors as the awsQuery protocol carries them: an error code (the
//! `<Code>` of the `<ErrorResponse>`, which SDKs map to their modelled
//! exceptions: `NotFound` -> `NotFoundException`, `InvalidParameter` ->
//! `InvalidParameterException`, ...), the HTTP status, the message and who
//! is at fault. Codes and statuses are those of the SNS service model.

use nimbus_store::StoreError;
use nimbus_wire::AwsError;

/// Namespace of SNS's modelled errors (only shown where an error is
/// rendered as JSON, which SNS itself never does).
pub const NAMESPACE: &str = "com.amazonaws.sns";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    pub sender_fault: bool,
}

pub type Result<T> = std::result::Result<T, SnsError>;

impl SnsError {
    fn sender(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        SnsError {
            code,
            status,
            message: message.into(),
            sender_fault: true,
        }
    }

    /// `InvalidParameter` (400): the error SNS gives for almost every bad
    /// input, its message starting "Invalid parameter: ...".
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::sender("InvalidParameter", 400, message)
    }

    /// `ParameterValueInvalid` (400): bad message attributes.
    pub fn parameter_value_invalid(message: impl Into<String>) -> Self {
        Self::sender("ParameterValueInvalid", 400, message)
    }

    pub fn topic_not_found() -> Self {
        Self::sender("NotFound", 404, "Topic does not exist")
    }

    pub fn subscription_not_found() -> Self {
        Self::sender("NotFound", 404, "Subscription does not exist")
    }

    /// The tagging operations' answer for a resource that does not exist.
    pub fn resource_not_found() -> Self {
        Self::sender("ResourceNotFound", 404, "Resource does not exist")
    }

    /// A required member that is absent, as AWS's request validation words
    /// it (`member` in the model's lowerCamel form).
    pub fn missing(member: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_camel(member)
        ))
    }

    /// `ValidationError` (400): the request does not fit the model.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::sender("ValidationError", 400, message)
    }

    pub fn tag_limit_exceeded() -> Self {
        Self::sender(
            "TagLimitExceeded",
            400,
            "Could not complete request: tag quota of per resource exceeded",
        )
    }

    pub fn too_many_entries() -> Self {
        Self::sender(
            "TooManyEntriesInBatchRequest",
            400,
            "The batch request contains more entries than permissible.",
        )
    }

    pub fn batch_entry_ids_not_distinct() -> Self {
        Self::sender(
            "BatchEntryIdsNotDistinct",
            400,
            "Two or more batch entries in the request have the same Id.",
        )
    }

    pub fn empty_batch_request() -> Self {
        Self::sender(
            "EmptyBatchRequest",
            400,
            "The batch request doesn't contain any entries.",
        )
    }

    pub fn invalid_batch_entry_id(message: impl Into<String>) -> Self {
        Self::sender("InvalidBatchEntryId", 400, message)
    }

    pub fn batch_request_too_long() -> Self {
        Self::sender(
            "BatchRequestTooLong",
            400,
            "The length of all the messages put together is more than the limit.",
        )
    }

    /// A name that is no SNS action.
    pub fn invalid_action(action: &str) -> Self {
        Self::sender(
            "InvalidAction",
            400,
            format!("The action {action} is not valid for this endpoint."),
        )
    }

    pub fn missing_action() -> Self {
        Self::sender(
            "MissingAction",
            400,
            "The request must contain the parameter Action.",
        )
    }

    /// An SNS action nimbus does not implement (mobile push, SMS, data
    /// protection): refused plainly instead of pretending.
    pub fn unsupported_operation(action: &str) -> Self {
        Self::sender(
            "UnsupportedOperation",
            400,
            format!("nimbus does not implement the SNS operation {action}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        SnsError {
            code: "InternalError",
            status: 500,
            message: message.into(),
            sender_fault: false,
        }
    }

    pub fn into_aws(self) -> AwsError {
        AwsError::new(self.status, NAMESPACE, self.code, self.message)
            .with_query_error(self.code, self.sender_fault)
    }
}

impl std::fmt::Display for SnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<StoreError> for SnsError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        SnsError::internal(format!("Internal server error: {e}"))
    }
}

/// `TopicArn` -> `topicArn`, as AWS names members in validation messages.
fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_members_name_the_lower_camel_member() {
        assert_eq!(
            SnsError::missing("TopicArn").message,
            "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn aws_errors_carry_the_query_code() {
        let aws = SnsError::topic_not_found().into_aws();
        assert_eq!(aws.status, 404);
        assert_eq!(aws.query_error().as_deref(), Some("NotFound;Sender"));
        let internal = SnsError::internal("x").into_aws();
        assert_eq!(
            internal.query_error().as_deref(),
            Some("InternalError;Receiver")
        );
    }
}
