//! Helpers shared by the SQS integration tests that drive a live
//! `nimbus serve` with the official AWS SDK for Rust (`sqs_fifo.rs`,
//! `sqs_dlq.rs`): a plain-HTTP client without retries, success and exact
//! error assertions, queue creation and attribute reads.
//!
//! Each test binary declares `mod common;` next to `mod sqs_util;` and uses a
//! different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use aws_sdk_sqs::Client;

use crate::common;

pub const ACCOUNT: &str = "000000000000";
pub const REGION: &str = "us-east-1";

/// Retries are off so the test sees the server's first answer, and a send
/// is never repeated behind its back.
pub fn client(endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "AKIDNIMBUSTESTS",
            "nimbus-test-secret",
            None,
            None,
            "nimbus-tests",
        ))
        .endpoint_url(endpoint)
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(40))
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

pub struct Nimbus {
    pub server: common::Server,
    pub client: Client,
}

pub fn start() -> Nimbus {
    let server = common::Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    Nimbus { server, client }
}

pub fn arn(name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
}

#[track_caller]
pub fn ok<T, E: ProvideErrorMetadata + Debug>(result: Result<T, SdkError<E, HttpResponse>>) -> T {
    match result {
        Ok(out) => out,
        Err(err) => panic!(
            "request failed: {:?} {:?} ({err:?})",
            err.code(),
            err.message()
        ),
    }
}

/// The SDK reports the legacy query code (`x-amzn-query-error`) as the code.
#[track_caller]
pub fn expect_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) {
    expect_error_status(result, code, message, 400);
}

#[track_caller]
pub fn expect_error_status<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
    status: u16,
) {
    match result {
        Ok(out) => panic!("expected {code} ({message}), got success: {out:?}"),
        Err(err) => {
            let got = err.raw_response().map(|r| r.status().as_u16());
            assert_eq!(
                (err.code(), err.message()),
                (Some(code), Some(message)),
                "wrong error (HTTP {got:?})"
            );
            assert_eq!(got, Some(status));
        }
    }
}

/// Creates a queue with `attributes` and returns its URL.
pub async fn create(client: &Client, name: &str, attributes: &[(&str, &str)]) -> String {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attributes {
        req = req.attributes(QueueAttributeName::from(*k), *v);
    }
    ok(req.send().await).queue_url.expect("QueueUrl")
}

pub async fn create_fifo(client: &Client, name: &str, attributes: &[(&str, &str)]) -> String {
    let mut all = vec![("FifoQueue", "true")];
    all.extend_from_slice(attributes);
    create(client, name, &all).await
}

pub async fn attrs(client: &Client, url: &str) -> HashMap<String, String> {
    ok(client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await)
    .attributes
    .unwrap_or_default()
    .into_iter()
    .map(|(k, v)| (k.as_str().to_owned(), v))
    .collect()
}

/// ApproximateNumberOfMessages + NotVisible + Delayed.
pub async fn depth(client: &Client, url: &str) -> (u64, u64, u64) {
    let a = attrs(client, url).await;
    let n = |k: &str| a[k].parse::<u64>().unwrap();
    (
        n("ApproximateNumberOfMessages"),
        n("ApproximateNumberOfMessagesNotVisible"),
        n("ApproximateNumberOfMessagesDelayed"),
    )
}

/// Receives up to `max` messages (no waiting) with every system attribute.
pub async fn receive(client: &Client, url: &str, max: i32, visibility: i32) -> Vec<Message> {
    ok(client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .visibility_timeout(visibility)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await)
    .messages
    .unwrap_or_default()
}

pub fn bodies(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.body().unwrap()).collect()
}

pub fn system_attr(m: &Message, name: MessageSystemAttributeName) -> Option<String> {
    m.attributes().and_then(|a| a.get(&name)).cloned()
}

pub async fn delete(client: &Client, url: &str, m: &Message) {
    ok(client
        .delete_message()
        .queue_url(url)
        .receipt_handle(m.receipt_handle().unwrap())
        .send()
        .await);
}
