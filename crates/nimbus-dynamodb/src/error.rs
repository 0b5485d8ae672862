//! DynamoDB's errors, as AWS names them, and their wire form.

use nimbus_store::StoreError;
use nimbus_wire::AwsError;

use crate::expr::ExprError;
use crate::model::value::{ValueError, ValueErrorKind};

const NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";
/// Serialization errors come from the request framework, not from DynamoDB,
/// so AWS gives them the Coral namespace.
const CORAL_NAMESPACE: &str = "com.amazon.coral.validate";

/// Every way a DynamoDB operation can fail.
#[derive(Debug)]
pub enum DynamoError {
    /// Bad parameters: the message is AWS's text.
    Validation(String),
    /// The body is not JSON or a member has the wrong JSON type.
    Serialization(String),
    /// A table (or index) that does not exist.
    ResourceNotFound(String),
    /// A table that exists already or is not in a state that allows the call.
    ResourceInUse(String),
    /// A ConditionExpression evaluated false; carries the old item (as
    /// DynamoDB JSON) when ReturnValuesOnConditionCheckFailure asked for it.
    ConditionalCheckFailed {
        item: Option<serde_json::Value>,
    },
    UnknownOperation(String),
    LimitExceeded(String),
    /// A TransactWriteItems was cancelled: one reason per action, in
    /// request order, each `{"Code": ..., "Message": ..., "Item": ...}`.
    TransactionCanceled {
        reasons: Vec<serde_json::Value>,
    },
    /// A ClientRequestToken reused within its window for a different request.
    IdempotentParameterMismatch(String),
    /// The store failed: not the caller's fault.
    Internal(String),
    /// DynamoDB Streams: a shard iterator older than 15 minutes.
    ExpiredIterator(String),
    /// DynamoDB Streams: a position before the oldest retained record.
    TrimmedDataAccess(String),
    /// Backups and point-in-time recovery: their own exception names.
    Backup(crate::backup::BackupError),
    /// A PartiQL INSERT of a key that already has an item.
    DuplicateItem,
}

pub type Result<T, E = DynamoError> = std::result::Result<T, E>;

impl DynamoError {
    pub fn validation(message: impl Into<String>) -> Self {
        DynamoError::Validation(message.into())
    }

    /// AWS's text when a data-plane call names a table that does not exist.
    pub fn resource_not_found() -> Self {
        DynamoError::ResourceNotFound("Requested resource not found".into())
    }

    /// AWS's text when a control-plane call names a table that does not exist.
    pub fn table_not_found(name: &str) -> Self {
        DynamoError::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }

    pub fn into_aws(self) -> AwsError {
        let (status, ns, code, message, extra) = match self {
            DynamoError::Validation(m) => (400, NAMESPACE, "ValidationException", m, None),
            DynamoError::Serialization(m) => {
                (400, CORAL_NAMESPACE, "SerializationException", m, None)
            }
            DynamoError::ResourceNotFound(m) => {
                (400, NAMESPACE, "ResourceNotFoundException", m, None)
            }
            DynamoError::ResourceInUse(m) => (400, NAMESPACE, "ResourceInUseException", m, None),
            DynamoError::ConditionalCheckFailed { item } => {
                let extra = item.map(|item| {
                    let mut map = serde_json::Map::new();
                    map.insert("Item".into(), item);
                    map
                });
                (
                    400,
                    NAMESPACE,
                    "ConditionalCheckFailedException",
                    "The conditional request failed".to_string(),
                    extra,
                )
            }
            DynamoError::UnknownOperation(op) => (
                400,
                "com.amazon.coral.service",
                "UnknownOperationException",
                format!("Unknown operation: {op}"),
                None,
            ),
            DynamoError::LimitExceeded(m) => (400, NAMESPACE, "LimitExceededException", m, None),
            DynamoError::TransactionCanceled { reasons } => {
                let codes: Vec<&str> = reasons
                    .iter()
                    .map(|r| r.get("Code").and_then(|c| c.as_str()).unwrap_or("None"))
                    .collect();
                let message = format!(
                    "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                    codes.join(", ")
                );
                let mut map = serde_json::Map::new();
                map.insert("CancellationReasons".into(), reasons.into());
                (
                    400,
                    NAMESPACE,
                    "TransactionCanceledException",
                    message,
                    Some(map),
                )
            }
            DynamoError::IdempotentParameterMismatch(m) => (
                400,
                NAMESPACE,
                "IdempotentParameterMismatchException",
                m,
                None,
            ),
            DynamoError::Internal(m) => (500, NAMESPACE, "InternalServerError", m, None),
            DynamoError::ExpiredIterator(m) => {
                (400, NAMESPACE, "ExpiredIteratorException", m, None)
            }
            DynamoError::TrimmedDataAccess(m) => {
                (400, NAMESPACE, "TrimmedDataAccessException", m, None)
            }
            DynamoError::Backup(e) => {
                let (code, m) = e.parts();
                (400, NAMESPACE, code, m, None)
            }
            DynamoError::DuplicateItem => (
                400,
                NAMESPACE,
                "DuplicateItemException",
                "Duplicate primary key exists in table".to_string(),
                None,
            ),
        };
        let mut err = AwsError::new(status, ns, code, message);
        err.extra = extra;
        err
    }
}

impl From<StoreError> for DynamoError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        DynamoError::Internal(format!("Internal server error: {e}"))
    }
}

impl From<crate::backup::BackupError> for DynamoError {
    fn from(e: crate::backup::BackupError) -> Self {
        DynamoError::Backup(e)
    }
}

impl From<ExprError> for DynamoError {
    fn from(e: ExprError) -> Self {
        DynamoError::Validation(e.message)
    }
}

impl From<ValueError> for DynamoError {
    fn from(e: ValueError) -> Self {
        match e.kind {
            ValueErrorKind::Validation => DynamoError::Validation(e.message),
            ValueErrorKind::Serialization => DynamoError::Serialization(e.message),
        }
    }
}
