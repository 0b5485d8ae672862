//! How SNS reaches the other services, as plain async functions the server
//! attaches (DESIGN.md: services talk through small in-process interfaces).
//! SNS knows nothing else of SQS or Lambda.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::message_attrs::MessageAttribute;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Why a delivery failed, which decides whether it is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The endpoint is gone or refuses the message (a deleted queue or
    /// function, an invalid message for it): SNS does not retry these and
    /// sends the message to the subscription's dead-letter queue.
    Client(String),
    /// The endpoint could not take it now: retried per the retry policy.
    Server(String),
}

impl DeliveryError {
    pub fn reason(&self) -> &str {
        match self {
            DeliveryError::Client(r) | DeliveryError::Server(r) => r,
        }
    }
}

pub type Delivered = Result<(), DeliveryError>;

/// One message for an SQS queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMessage {
    pub queue_arn: String,
    pub body: String,
    /// Sent as SQS message attributes (raw delivery only).
    pub attributes: BTreeMap<String, MessageAttribute>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

/// Sends one message to an SQS queue.
pub type SendToQueue = Arc<dyn Fn(QueueMessage) -> BoxFuture<Delivered> + Send + Sync>;

/// Invokes a Lambda function asynchronously: (function ARN, event JSON).
pub type InvokeFunction = Arc<dyn Fn(String, String) -> BoxFuture<Delivered> + Send + Sync>;

/// The services SNS delivers to.
#[derive(Clone)]
pub struct Endpoints {
    pub sqs: SendToQueue,
    pub lambda: InvokeFunction,
}
