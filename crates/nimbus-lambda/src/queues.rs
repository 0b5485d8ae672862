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
