//! What Lambda needs from SQS, as plain async functions the server attaches
//! (DESIGN.md: services talk through small in-process interfaces): sending
//! (destinations, dead-letter queues), and receiving, deleting and looking
//! up queues (SQS event source mappings). Lambda knows nothing else of SQS.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = std::result::Result<T, String>> + Send>>;

/// One message for a queue: its ARN, body, and string message attributes.
pub struct QueueMessage {
    pub queue_arn: String,
    pub body: String,
    pub attributes: Vec<(String, String)>,
}

/// One message for an SNS topic: its ARN, the message, and string message
/// attributes.
pub struct TopicMessage {
    pub topic_arn: String,
    pub message: String,
    pub attributes: Vec<(String, String)>,
}

/// What Lambda needs from SNS: publishing to a topic (destinations,
/// dead-letter targets, stream mappings' OnFailure).
#[derive(Clone)]
pub struct Topics {
    pub publish: Arc<dyn Fn(TopicMessage) -> BoxFuture<()> + Send + Sync>,
}

/// A received message, in SQS's JSON shape (`MessageId`, `ReceiptHandle`,
/// `Body`, `MD5OfBody`, `Attributes`, `MessageAttributes`, ...).
pub type ReceivedMessage = serde_json::Map<String, Value>;

/// What a mapping needs to know about its queue.
#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub visibility_timeout: u32,
    pub fifo: bool,
}

/// Why a queue operation failed: the queue is gone, or something else.
#[derive(Debug, Clone)]
pub enum QueueError {
    NotFound,
    Other(String),
}

pub type QueueResult<T> = Pin<Box<dyn Future<Output = std::result::Result<T, QueueError>> + Send>>;

/// The SQS operations Lambda uses.
#[derive(Clone)]
pub struct Queues {
    pub send: Arc<dyn Fn(QueueMessage) -> BoxFuture<()> + Send + Sync>,
    /// (queue ARN, at most this many messages (1-10), long-poll seconds)
    pub receive: Arc<dyn Fn(String, u32, u32) -> QueueResult<Vec<ReceivedMessage>> + Send + Sync>,
    /// (queue ARN, receipt handles)
    pub delete: Arc<dyn Fn(String, Vec<String>) -> QueueResult<()> + Send + Sync>,
    pub info: Arc<dyn Fn(String) -> QueueResult<QueueInfo> + Send + Sync>,
}

/// A page of a DynamoDB stream: records in the Streams API's shape, the
/// last sequence number read, and whether the (closed) stream is done.
#[derive(Debug, Clone, Default)]
pub struct StreamPage {
    pub records: Vec<Value>,
    pub last_sequence: Option<String>,
    pub exhausted: bool,
}

/// Reads a stream: (stream ARN, after this sequence number (None: the
/// oldest retained record), at most this many records).
pub type StreamRead = Arc<
    dyn Fn(&str, Option<&str>, usize) -> std::result::Result<StreamPage, QueueError> + Send + Sync,
>;

/// Resolves when a record after the sequence number is readable, or at the
/// timeout.
pub type StreamWait = Arc<
    dyn Fn(
            String,
            Option<String>,
            std::time::Duration,
        ) -> Pin<Box<dyn Future<Output = bool> + Send>>
        + Send
        + Sync,
>;

/// The id of the shard holding a record: (stream ARN, the record's
/// sequence number) -> shard id, `None` when unknown.
pub type StreamShardOf = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// The sequence number of a stream's newest readable record (`None`: it
/// has none), for mappings that start at LATEST.
pub type StreamLast =
    Arc<dyn Fn(&str) -> std::result::Result<Option<String>, QueueError> + Send + Sync>;

/// What Lambda needs from DynamoDB Streams (event source mappings).
#[derive(Clone)]
pub struct Streams {
    pub read: StreamRead,
    pub wait: StreamWait,
    pub shard_of: StreamShardOf,
    pub last_sequence: StreamLast,
}
