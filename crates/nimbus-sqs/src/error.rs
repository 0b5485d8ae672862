//! SQS errors as AWS sends them over awsJson 1.0: `__type` is
//! `com.amazonaws.sqs#<Shape>`, and the legacy query code (which SDKs use as
//! the error code) goes in `x-amzn-query-error`.

use nimbus_store::StoreError;
use nimbus_wire::AwsError;

/// Namespace of SQS's modelled errors.
pub const NAMESPACE: &str = "com.amazonaws.sqs";

/// An SQS error: the modelled shape name, the query code SDKs see, the
/// message, and who is at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsError {
    pub shape: &'static str,
    pub query_code: &'static str,
    pub message: String,
    pub sender_fault: bool,
    pub status: u16,
}

pub type Result<T> = std::result::Result<T, SqsError>;

impl SqsError {
    fn sender(shape: &'static str, query_code: &'static str, message: impl Into<String>) -> Self {
        SqsError {
            shape,
            query_code,
            message: message.into(),
            sender_fault: true,
            status: 400,
        }
    }

    pub fn queue_does_not_exist() -> Self {
        Self::sender(
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist.",
        )
    }

    pub fn queue_name_exists(attribute: &str) -> Self {
        Self::sender(
            "QueueNameExists",
            "QueueAlreadyExists",
            format!(
                "A queue already exists with the same name and a different value for attribute {attribute}"
            ),
        )
    }

    pub fn invalid_attribute_name(name: &str) -> Self {
        Self::sender(
            "InvalidAttributeName",
            "InvalidAttributeName",
            format!("Unknown Attribute {name}."),
        )
    }

    /// InvalidAttributeName with a message of its own (AWS uses the code
    /// for attribute combinations it refuses, too).
    pub fn invalid_attribute_name_message(message: impl Into<String>) -> Self {
        Self::sender("InvalidAttributeName", "InvalidAttributeName", message)
    }

    pub fn invalid_attribute_value(name: &str) -> Self {
        Self::sender(
            "InvalidAttributeValue",
            "InvalidAttributeValue",
            format!("Invalid value for the parameter {name}."),
        )
    }

    /// A request parameter out of range or malformed.
    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::sender("InvalidParameterValue", "InvalidParameterValue", message)
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::sender(
            "MissingParameter",
            "MissingParameter",
            format!("The request must contain the parameter {name}."),
        )
    }

    pub fn invalid_address(url: &str) -> Self {
        Self::sender(
            "InvalidAddress",
            "InvalidAddress",
            format!("The address {url} is not valid for this endpoint."),
        )
    }

    pub fn receipt_handle_is_invalid(handle: &str) -> Self {
        Self::sender(
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    }

    /// ChangeMessageVisibility with the latest receipt handle of a message
    /// whose visibility timeout has already run out.
    pub fn message_not_inflight() -> Self {
        Self::sender(
            "MessageNotInflight",
            "AWS.SimpleQueueService.MessageNotInflight",
            "The message referred to isn't in flight.",
        )
    }

    /// ChangeMessageVisibility with a receipt handle whose message is gone
    /// or was received again since (a stale handle).
    pub fn message_not_available(handle: &str) -> Self {
        Self::invalid_parameter_value(format!(
            "Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
        ))
    }

    pub fn invalid_message_contents() -> Self {
        Self::sender(
            "InvalidMessageContents",
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )
    }

    pub fn empty_batch_request(entry_shape: &str) -> Self {
        Self::sender(
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            format!("There should be at least one {entry_shape} in the request."),
        )
    }

    pub fn too_many_entries(count: usize) -> Self {
        Self::sender(
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            format!("Maximum number of entries per request are 10. You have sent {count}."),
        )
    }

    pub fn batch_entry_ids_not_distinct(id: &str) -> Self {
        Self::sender(
            "BatchEntryIdsNotDistinct",
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            format!("Id {id} repeated."),
        )
    }

    pub fn invalid_batch_entry_id() -> Self {
        Self::sender(
            "InvalidBatchEntryId",
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        )
    }

    pub fn batch_request_too_long(size: usize) -> Self {
        Self::sender(
            "BatchRequestTooLong",
            "AWS.SimpleQueueService.BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than 1048576 bytes. You have sent {size} bytes."
            ),
        )
    }

    pub fn purge_queue_in_progress(name: &str) -> Self {
        Self::sender(
            "PurgeQueueInProgress",
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
        )
    }

    /// CreateQueue with the name of a queue deleted less than 60 seconds
    /// ago (text as localstack and local-aws, both checked against AWS,
    /// give it).
    pub fn queue_deleted_recently() -> Self {
        Self::sender(
            "QueueDeletedRecently",
            "AWS.SimpleQueueService.QueueDeletedRecently",
            "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
        )
    }

    /// A limit that AWS answers with `OverLimit` and HTTP 403: too many
    /// messages in flight on a short poll, too many actions or statements
    /// in a queue policy.
    pub fn over_limit(message: impl Into<String>) -> Self {
        SqsError {
            status: 403,
            ..Self::sender("OverLimit", "OverLimit", message)
        }
    }

    /// ReceiveMessage (short polling) on a standard queue whose in-flight
    /// messages reached the limit. The text is AWS's, newline included, as
    /// an AWS response captured it.
    pub fn too_many_in_flight() -> Self {
        Self::over_limit(
            "Too many messages have been received without being deleted.\nPlease delete your received messages or let them timeout before receiving more.",
        )
    }

    /// A move task's queue or the task itself does not exist.
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        SqsError {
            status: 404,
            ..Self::sender(
                "ResourceNotFoundException",
                "ResourceNotFoundException",
                message,
            )
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        SqsError {
            shape: "InternalError",
            query_code: "InternalError",
            message: message.into(),
            sender_fault: false,
            status: 500,
        }
    }

    pub fn into_aws(self) -> AwsError {
        AwsError::new(self.status, NAMESPACE, self.shape, self.message)
            .with_query_error(self.query_code, self.sender_fault)
    }
}

impl From<StoreError> for SqsError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        SqsError::internal(format!("Internal server error: {e}"))
    }
}
