//! SQS (awsJson 1.0) through the official AWS SDK for Rust against a live
//! `nimbus serve`: queues, attributes, sending (MD5s), receiving with long
//! polling and visibility timeouts, deleting, batches, durability across
//! SIGKILL, and every bad input with its exact error code and message.
//!
//! The SDK reports the legacy query code from `x-amzn-query-error` as the
//! error code (`AWS.SimpleQueueService.NonExistentQueue`), as it does
//! against AWS.

mod common;

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

const ACCOUNT: &str = "000000000000";

fn client(endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
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

struct Nimbus {
    server: common::Server,
    client: Client,
}

fn start() -> Nimbus {
    let server = common::Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    Nimbus { server, client }
}

#[track_caller]
fn ok<T, E: ProvideErrorMetadata + Debug>(result: Result<T, SdkError<E, HttpResponse>>) -> T {
    match result {
        Ok(out) => out,
        Err(err) => panic!(
            "request failed: {:?} {:?} ({err:?})",
            err.code(),
            err.message()
        ),
    }
}

#[track_caller]
fn expect_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) {
    match result {
        Ok(out) => panic!("expected {code} ({message}), got success: {out:?}"),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            assert_eq!(
                (err.code(), err.message()),
                (Some(code), Some(message)),
                "wrong error (HTTP {status:?})"
            );
            assert_eq!(status, Some(400));
        }
    }
}

async fn create(client: &Client, name: &str) -> String {
    ok(client.create_queue().queue_name(name).send().await)
        .queue_url
        .expect("QueueUrl")
}

async fn attrs(client: &Client, url: &str) -> HashMap<QueueAttributeName, String> {
    ok(client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await)
    .attributes
    .unwrap_or_default()
}

fn md5_hex_of(text: &str) -> String {
    // Known digests for the bodies the tests send.
    match text {
        "hello" => "5d41402abc4b2a76b9719d911017c592".into(),
        other => panic!("no known MD5 for {other:?}"),
    }
}

#[tokio::test]
async fn queue_lifecycle_and_urls() {
    let n = start();
    let c = &n.client;
    let url = create(c, "jobs").await;
    assert_eq!(url, format!("{}/{ACCOUNT}/jobs", n.server.endpoint));
    let got = ok(c.get_queue_url().queue_name("jobs").send().await);
    assert_eq!(got.queue_url.as_deref(), Some(url.as_str()));
    create(c, "jobs-2").await;
    create(c, "other").await;

    let all = ok(c.list_queues().send().await)
        .queue_urls
        .unwrap_or_default();
    assert_eq!(all.len(), 3);
    let some = ok(c.list_queues().queue_name_prefix("jobs").send().await);
    assert_eq!(
        some.queue_urls.unwrap_or_default(),
        vec![
            url.clone(),
            format!("{}/{ACCOUNT}/jobs-2", n.server.endpoint)
        ]
    );
    // Paging.
    let page = ok(c.list_queues().max_results(2).send().await);
    assert_eq!(page.queue_urls.as_ref().map(Vec::len), Some(2));
    let token = page.next_token.expect("NextToken");
    let rest = ok(c
        .list_queues()
        .max_results(2)
        .next_token(token)
        .send()
        .await);
    assert_eq!(rest.queue_urls.as_ref().map(Vec::len), Some(1));
    assert!(rest.next_token.is_none());
    expect_error(
        c.list_queues().max_results(1001).send().await,
        "InvalidParameterValue",
        "Value 1001 for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.",
    );

    ok(c.delete_queue().queue_url(&url).send().await);
    expect_error(
        c.get_queue_url().queue_name("jobs").send().await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
    expect_error(
        c.delete_queue().queue_url(&url).send().await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .send()
            .await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
    let empty = ok(c.list_queues().queue_name_prefix("zzz").send().await);
    assert!(empty.queue_urls.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn create_queue_is_idempotent_only_with_the_same_attributes() {
    let n = start();
    let c = &n.client;
    let first = ok(c
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await);
    let again = ok(c
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await);
    assert_eq!(first.queue_url, again.queue_url);
    // No attributes given: nothing to disagree with.
    ok(c.create_queue().queue_name("q").send().await);
    expect_error(
        c.create_queue()
            .queue_name("q")
            .attributes(QueueAttributeName::VisibilityTimeout, "61")
            .send()
            .await,
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    );
}

#[tokio::test]
async fn create_queue_rejects_bad_names_and_attributes() {
    let n = start();
    let c = &n.client;
    let name_error =
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length";
    for bad in ["", "has space", "dot.fifo", &"x".repeat(81)] {
        expect_error(
            c.create_queue().queue_name(bad).send().await,
            "InvalidParameterValue",
            name_error,
        );
    }
    ok(c.create_queue().queue_name("x".repeat(80)).send().await);
    for (attr, value) in [
        (QueueAttributeName::DelaySeconds, "901"),
        (QueueAttributeName::DelaySeconds, "-1"),
        (QueueAttributeName::MaximumMessageSize, "1023"),
        (QueueAttributeName::MaximumMessageSize, "1048577"),
        (QueueAttributeName::MessageRetentionPeriod, "59"),
        (QueueAttributeName::MessageRetentionPeriod, "1209601"),
        (QueueAttributeName::ReceiveMessageWaitTimeSeconds, "21"),
        (QueueAttributeName::VisibilityTimeout, "43201"),
        (QueueAttributeName::VisibilityTimeout, "soon"),
    ] {
        let message = format!("Invalid value for the parameter {}.", attr.as_str());
        expect_error(
            c.create_queue()
                .queue_name("bad-attrs")
                .attributes(attr, value)
                .send()
                .await,
            "InvalidAttributeValue",
            &message,
        );
    }
    expect_error(
        c.create_queue()
            .queue_name("bad-attrs")
            .attributes(QueueAttributeName::from("Colour"), "blue")
            .send()
            .await,
        "InvalidAttributeName",
        "Unknown Attribute Colour.",
    );
    // Nothing was created by the failed calls.
    expect_error(
        c.get_queue_url().queue_name("bad-attrs").send().await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
}

#[tokio::test]
async fn queue_attributes_get_and_set() {
    let n = start();
    let c = &n.client;
    let url = create(c, "attrs").await;
    let a = attrs(c, &url).await;
    let get = |k: QueueAttributeName| a.get(&k).cloned().unwrap_or_default();
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), "30");
    assert_eq!(get(QueueAttributeName::DelaySeconds), "0");
    assert_eq!(get(QueueAttributeName::MaximumMessageSize), "1048576");
    assert_eq!(get(QueueAttributeName::MessageRetentionPeriod), "345600");
    assert_eq!(get(QueueAttributeName::ReceiveMessageWaitTimeSeconds), "0");
    assert_eq!(get(QueueAttributeName::ApproximateNumberOfMessages), "0");
    assert_eq!(
        get(QueueAttributeName::QueueArn),
        format!("arn:aws:sqs:us-east-1:{ACCOUNT}:attrs")
    );
    assert!(
        get(QueueAttributeName::CreatedTimestamp)
            .parse::<u64>()
            .unwrap()
            > 1_600_000_000
    );

    ok(c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .attributes(QueueAttributeName::DelaySeconds, "2")
        .send()
        .await);
    let one = ok(c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .send()
        .await)
    .attributes
    .unwrap_or_default();
    assert_eq!(one.len(), 1);
    assert_eq!(one[&QueueAttributeName::VisibilityTimeout], "5");
    assert_eq!(attrs(c, &url).await[&QueueAttributeName::DelaySeconds], "2");

    expect_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::VisibilityTimeout, "43201")
            .send()
            .await,
        "InvalidAttributeValue",
        "Invalid value for the parameter VisibilityTimeout.",
    );
    expect_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::QueueArn, "x")
            .send()
            .await,
        "InvalidAttributeName",
        "Unknown Attribute QueueArn.",
    );
    expect_error(
        c.get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::from("Colour"))
            .send()
            .await,
        "InvalidAttributeName",
        "Unknown Attribute Colour.",
    );
    expect_error(
        c.get_queue_attributes().queue_url("not-a-url").send().await,
        "InvalidAddress",
        "The address not-a-url is not valid for this endpoint.",
    );
}

#[tokio::test]
async fn send_receive_delete_with_md5s_and_attributes() {
    let n = start();
    let c = &n.client;
    let url = create(c, "msgs").await;
    let sent = ok(c
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .message_attributes(
            "attribName1",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("attribValue 1")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(
        sent.md5_of_message_body.as_deref(),
        Some(md5_hex_of("hello").as_str())
    );
    // The digest AWS documents for this one attribute.
    assert_eq!(
        sent.md5_of_message_attributes.as_deref(),
        Some("19e27d4e946b072f3f58da80d94fd778")
    );
    let a = attrs(c, &url).await;
    assert_eq!(a[&QueueAttributeName::ApproximateNumberOfMessages], "1");

    let got = ok(c
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await);
    let messages = got.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.body.as_deref(), Some("hello"));
    assert_eq!(m.message_id, sent.message_id);
    assert_eq!(m.md5_of_body.as_deref(), Some(md5_hex_of("hello").as_str()));
    assert_eq!(
        m.md5_of_message_attributes.as_deref(),
        Some("19e27d4e946b072f3f58da80d94fd778")
    );
    let user = m.message_attributes.as_ref().unwrap();
    assert_eq!(user["attribName1"].string_value(), Some("attribValue 1"));
    let sys = m.attributes.as_ref().unwrap();
    assert_eq!(
        sys[&MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    assert_eq!(sys[&MessageSystemAttributeName::SenderId], ACCOUNT);
    let sent_at: u64 = sys[&MessageSystemAttributeName::SentTimestamp]
        .parse()
        .unwrap();
    let first: u64 = sys[&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp]
        .parse()
        .unwrap();
    assert!(first >= sent_at && sent_at > 1_600_000_000_000);

    let a = attrs(c, &url).await;
    assert_eq!(a[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1"
    );

    // In flight: nothing more to receive.
    let none = ok(c.receive_message().queue_url(&url).send().await);
    assert!(none.messages.unwrap_or_default().is_empty());

    ok(c.delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle.clone().unwrap())
        .send()
        .await);
    let a = attrs(c, &url).await;
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
    // Deleting again with the same handle succeeds, as in AWS.
    ok(c.delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle.clone().unwrap())
        .send()
        .await);
}

#[tokio::test]
async fn aws_trace_header_system_attribute() {
    use aws_sdk_sqs::types::{MessageSystemAttributeNameForSends, MessageSystemAttributeValue};
    let n = start();
    let c = &n.client;
    let url = create(c, "trace").await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    let sent = ok(c
        .send_message()
        .queue_url(&url)
        .message_body("t")
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(trace)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert!(sent.md5_of_message_attributes.is_none());
    assert_eq!(
        sent.md5_of_message_system_attributes.map(|m| m.len()),
        Some(32)
    );
    let m = ok(c
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await)
    .messages
    .unwrap()
    .remove(0);
    assert_eq!(
        m.attributes.unwrap()[&MessageSystemAttributeName::AwsTraceHeader],
        trace
    );
}

#[tokio::test]
async fn message_attributes_filtering_and_binary_values() {
    let n = start();
    let c = &n.client;
    let url = create(c, "mattrs").await;
    let sent = ok(c
        .send_message()
        .queue_url(&url)
        .message_body("b")
        .message_attributes(
            "binaryAttribute",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(b"Hello binary world!".to_vec()))
                .build()
                .unwrap(),
        )
        .message_attributes(
            "attribName1",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("attribValue 1")
                .build()
                .unwrap(),
        )
        .message_attributes(
            "customNumberTypeAttrib",
            MessageAttributeValue::builder()
                .data_type("Number.float")
                .string_value("4563442423554324324264524243.32543234")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(
        sent.md5_of_message_attributes.as_deref(),
        Some("c932db14a896c663f83c260297d594ff")
    );
    // Only one attribute asked for: the digest covers just that one.
    let got = ok(c
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("binaryAttribute")
        .send()
        .await);
    let m = &got.messages.unwrap()[0];
    let user = m.message_attributes.as_ref().unwrap();
    assert_eq!(user.len(), 1);
    assert_eq!(
        user["binaryAttribute"]
            .binary_value()
            .map(|b| b.as_ref().to_vec()),
        Some(b"Hello binary world!".to_vec())
    );
    assert_eq!(
        m.md5_of_message_attributes.as_deref(),
        Some("31a92b15d92f8db860eda32aceb656c3")
    );
    assert!(m.attributes.is_none());
}

#[tokio::test]
async fn send_message_bad_input() {
    let n = start();
    let c = &n.client;
    let url = create(c, "bad-send").await;
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("")
            .send()
            .await,
        "MissingParameter",
        "The request must contain the parameter MessageBody.",
    );
    expect_error(
        c.send_message().queue_url(&url).message_body("bell \u{7}").send().await,
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x".repeat(1_048_577))
            .send()
            .await,
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
    );
    ok(c.send_message()
        .queue_url(&url)
        .message_body("x".repeat(1_048_576))
        .send()
        .await);
    expect_error(
        c.send_message().queue_url(&url).message_body("x").delay_seconds(901).send().await,
        "InvalidParameterValue",
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.",
    );
    let string_attr = |v: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .unwrap()
    };
    let mut too_many = c.send_message().queue_url(&url).message_body("x");
    for i in 0..11 {
        too_many = too_many.message_attributes(format!("a{i}"), string_attr("v"));
    }
    expect_error(
        too_many.send().await,
        "InvalidParameterValue",
        "Number of message attributes [11] exceeds the allowed maximum [10].",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes(
                "n",
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value("ten")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "InvalidParameterValue",
        "Can't cast the value of message (user) attribute 'n' to a number.",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes(
                "t",
                MessageAttributeValue::builder()
                    .data_type("Date")
                    .string_value("today")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "InvalidParameterValue",
        "The type of message (user) attribute 't' is invalid. You must use only the following supported type prefixes: Binary, Number, String.",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes("s", string_attr(""))
            .send()
            .await,
        "InvalidParameterValue",
        "The message attribute 's' must contain a non-empty message attribute value for message attribute type 'String'.",
    );
    // The small queue limit applies to body plus attributes.
    let small = ok(c
        .create_queue()
        .queue_name("small")
        .attributes(QueueAttributeName::MaximumMessageSize, "1024")
        .send()
        .await)
    .queue_url
    .unwrap();
    expect_error(
        c.send_message()
            .queue_url(&small)
            .message_body("x".repeat(1020))
            .message_attributes("abc", string_attr("de"))
            .send()
            .await,
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    );
}

#[tokio::test]
async fn receive_message_bad_input() {
    let n = start();
    let c = &n.client;
    let url = create(c, "bad-recv").await;
    for bad in [0, 11] {
        expect_error(
            c.receive_message().queue_url(&url).max_number_of_messages(bad).send().await,
            "InvalidParameterValue",
            &format!("Value {bad} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."),
        );
    }
    expect_error(
        c.receive_message().queue_url(&url).wait_time_seconds(21).send().await,
        "InvalidParameterValue",
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.",
    );
    expect_error(
        c.receive_message().queue_url(&url).visibility_timeout(43201).send().await,
        "InvalidParameterValue",
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.",
    );
    expect_error(
        c.receive_message()
            .queue_url(format!("{}/{ACCOUNT}/missing", n.server.endpoint))
            .send()
            .await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
}

#[tokio::test]
async fn long_polling_returns_as_soon_as_a_message_arrives() {
    let n = start();
    let c = n.client.clone();
    let url = create(&c, "poll").await;
    let receiver = {
        let (c, url) = (c.clone(), url.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let out = ok(c
                .receive_message()
                .queue_url(&url)
                .wait_time_seconds(20)
                .send()
                .await);
            (started.elapsed(), out.messages.unwrap_or_default())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    ok(c.send_message()
        .queue_url(&url)
        .message_body("wake")
        .send()
        .await);
    let (elapsed, messages) = receiver.await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body.as_deref(), Some("wake"));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(400), "took {elapsed:?}");

    // An empty queue waits the whole time, then answers with no messages.
    let started = Instant::now();
    let out = ok(c
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(1)
        .send()
        .await);
    assert!(out.messages.unwrap_or_default().is_empty());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "took {elapsed:?}"
    );

    // A delayed message wakes a waiting receiver when its delay ends.
    ok(c.send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(1)
        .send()
        .await);
    let a = attrs(&c, &url).await;
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesDelayed],
        "1"
    );
    let none = ok(c.receive_message().queue_url(&url).send().await);
    assert!(none.messages.unwrap_or_default().is_empty());
    let started = Instant::now();
    let out = ok(c
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(10)
        .send()
        .await);
    assert_eq!(
        out.messages.unwrap_or_default()[0].body.as_deref(),
        Some("later")
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    // The queue's ReceiveMessageWaitTimeSeconds is the default wait.
    ok(c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::ReceiveMessageWaitTimeSeconds, "1")
        .send()
        .await);
    let started = Instant::now();
    ok(c.receive_message().queue_url(&url).send().await);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn visibility_timeout_expiry_and_receipt_handles() {
    let n = start();
    let c = &n.client;
    let url = create(c, "vis").await;
    ok(c.send_message()
        .queue_url(&url)
        .message_body("m")
        .send()
        .await);
    let first = ok(c
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(1)
        .send()
        .await)
    .messages
    .unwrap()
    .remove(0);
    assert!(ok(c.receive_message().queue_url(&url).send().await)
        .messages
        .unwrap_or_default()
        .is_empty());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Its timeout ran out: the (still latest) handle no longer has a
    // message in flight.
    expect_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(first.receipt_handle.clone().unwrap())
            .visibility_timeout(10)
            .send()
            .await,
        "AWS.SimpleQueueService.MessageNotInflight",
        "The message referred to isn't in flight.",
    );
    let second = ok(c
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(30)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await)
    .messages
    .unwrap()
    .remove(0);
    assert_eq!(second.message_id, first.message_id);
    assert_ne!(second.receipt_handle, first.receipt_handle);
    assert_eq!(
        second.attributes.as_ref().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    let stale = first.receipt_handle.unwrap();
    let fresh = second.receipt_handle.unwrap();

    // A stale handle cannot change visibility, and deleting with it succeeds
    // without deleting.
    expect_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&stale)
            .visibility_timeout(0)
            .send()
            .await,
        "InvalidParameterValue",
        &format!("Value {stale} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."),
    );
    ok(c.delete_message()
        .queue_url(&url)
        .receipt_handle(&stale)
        .send()
        .await);
    assert_eq!(
        attrs(c, &url).await[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1"
    );
    // Making it visible at once with the fresh handle.
    ok(c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&fresh)
        .visibility_timeout(0)
        .send()
        .await);
    let third = ok(c.receive_message().queue_url(&url).send().await)
        .messages
        .unwrap()
        .remove(0);
    assert_eq!(third.message_id, first.message_id);
    ok(c.delete_message()
        .queue_url(&url)
        .receipt_handle(third.receipt_handle.unwrap())
        .send()
        .await);
    let a = attrs(c, &url).await;
    assert_eq!(a[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );

    for garbage in ["garbage", "AAAA"] {
        expect_error(
            c.delete_message()
                .queue_url(&url)
                .receipt_handle(garbage)
                .send()
                .await,
            "ReceiptHandleIsInvalid",
            &format!("The input receipt handle \"{garbage}\" is not a valid receipt handle."),
        );
        expect_error(
            c.change_message_visibility()
                .queue_url(&url)
                .receipt_handle(garbage)
                .visibility_timeout(5)
                .send()
                .await,
            "ReceiptHandleIsInvalid",
            &format!("The input receipt handle \"{garbage}\" is not a valid receipt handle."),
        );
    }
    expect_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&fresh)
            .visibility_timeout(43201)
            .send()
            .await,
        "InvalidParameterValue",
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.",
    );
}

fn send_entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .build()
        .unwrap()
}

#[tokio::test]
async fn visibility_is_capped_at_12_hours_per_receive() {
    let n = start();
    let c = &n.client;
    let url = create(c, "cap").await;
    ok(c.send_message()
        .queue_url(&url)
        .message_body("m")
        .send()
        .await);
    let handle = ok(c
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(43200)
        .send()
        .await)
    .messages
    .unwrap()
    .remove(0)
    .receipt_handle
    .unwrap();
    // Right after the receive, the whole 12 hours are still available.
    ok(c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(43200)
        .send()
        .await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    expect_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(43200)
            .send()
            .await,
        "InvalidParameterValue",
        "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
    );
    ok(c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(43000)
        .send()
        .await);
}

#[tokio::test]
async fn batches() {
    let n = start();
    let c = &n.client;
    let url = create(c, "batch").await;
    let out = ok(c
        .send_message_batch()
        .queue_url(&url)
        .entries(send_entry("a", "hello"))
        .entries(send_entry("b", "bell \u{7}"))
        .entries(send_entry("c", "hello"))
        .send()
        .await);
    assert_eq!(out.successful.len(), 2);
    assert_eq!(out.successful[0].id, "a");
    assert_eq!(out.successful[0].md5_of_message_body, md5_hex_of("hello"));
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].id, "b");
    assert_eq!(out.failed[0].code, "InvalidMessageContents");
    assert!(out.failed[0].sender_fault);

    expect_error(
        c.send_message_batch()
            .queue_url(&url)
            .set_entries(Some(vec![]))
            .send()
            .await,
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one SendMessageBatchRequestEntry in the request.",
    );
    let eleven: Vec<_> = (0..11).map(|i| send_entry(&format!("e{i}"), "x")).collect();
    expect_error(
        c.send_message_batch()
            .queue_url(&url)
            .set_entries(Some(eleven))
            .send()
            .await,
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10. You have sent 11.",
    );
    expect_error(
        c.send_message_batch()
            .queue_url(&url)
            .entries(send_entry("idA", "x"))
            .entries(send_entry("idA", "y"))
            .send()
            .await,
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "Id idA repeated.",
    );
    expect_error(
        c.send_message_batch()
            .queue_url(&url)
            .entries(send_entry("bad id", "x"))
            .send()
            .await,
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
    );
    let big: Vec<_> = (0..3)
        .map(|i| send_entry(&format!("big{i}"), &"x".repeat(400_000)))
        .collect();
    expect_error(
        c.send_message_batch()
            .queue_url(&url)
            .set_entries(Some(big))
            .send()
            .await,
        "AWS.SimpleQueueService.BatchRequestTooLong",
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes.",
    );

    let got = ok(c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await)
    .messages
    .unwrap();
    assert_eq!(got.len(), 2);
    let vis = ok(c
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("one")
                .receipt_handle(got[0].receipt_handle.clone().unwrap())
                .visibility_timeout(60)
                .build()
                .unwrap(),
        )
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("two")
                .receipt_handle("garbage")
                .visibility_timeout(60)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(vis.successful.len(), 1);
    assert_eq!(vis.failed[0].id, "two");
    assert_eq!(vis.failed[0].code, "ReceiptHandleIsInvalid");

    let del = ok(c
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            got.iter()
                .enumerate()
                .map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("d{i}"))
                        .receipt_handle(m.receipt_handle.clone().unwrap())
                        .build()
                        .unwrap()
                })
                .chain(std::iter::once(
                    DeleteMessageBatchRequestEntry::builder()
                        .id("junk")
                        .receipt_handle("garbage")
                        .build()
                        .unwrap(),
                ))
                .collect(),
        ))
        .send()
        .await);
    assert_eq!(del.successful.len(), 2);
    assert_eq!(del.failed.len(), 1);
    assert_eq!(del.failed[0].code, "ReceiptHandleIsInvalid");
    assert_eq!(
        del.failed[0].message.as_deref(),
        Some("The input receipt handle \"garbage\" is not a valid receipt handle.")
    );
    let a = attrs(c, &url).await;
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
    expect_error(
        c.delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(vec![]))
            .send()
            .await,
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one DeleteMessageBatchRequestEntry in the request.",
    );
}

#[tokio::test]
async fn purge_queue_once_a_minute() {
    let n = start();
    let c = &n.client;
    let url = create(c, "purge").await;
    for i in 0..5 {
        ok(c.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await);
    }
    ok(c.purge_queue().queue_url(&url).send().await);
    assert_eq!(
        attrs(c, &url).await[&QueueAttributeName::ApproximateNumberOfMessages],
        "0"
    );
    expect_error(
        c.purge_queue().queue_url(&url).send().await,
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "Only one PurgeQueue operation on purge is allowed every 60 seconds.",
    );
}

#[tokio::test]
async fn messages_survive_sigkill_and_in_flight_ones_come_back() {
    let (_dir, data) = common::temp_data_dir();
    let data_arg = common::arg(&data).to_owned();
    let mut server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let url = create(&c, "durable").await;
    for i in 0..20 {
        ok(c.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await);
    }
    // Five in flight with a short visibility timeout when the server dies.
    let in_flight = ok(c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(5)
        .visibility_timeout(2)
        .send()
        .await)
    .messages
    .unwrap();
    assert_eq!(in_flight.len(), 5);
    // One deleted for good.
    ok(c.delete_message()
        .queue_url(&url)
        .receipt_handle(in_flight[0].receipt_handle.clone().unwrap())
        .send()
        .await);
    server.kill();

    let server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let url = ok(c.get_queue_url().queue_name("durable").send().await)
        .queue_url
        .unwrap();
    let a = attrs(&c, &url).await;
    let count = |k: QueueAttributeName| a[&k].parse::<u32>().unwrap();
    assert_eq!(
        count(QueueAttributeName::ApproximateNumberOfMessages)
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        19,
        "{a:?}"
    );
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while bodies.len() < 19 && Instant::now() < deadline {
        let got = ok(c
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(3)
            .send()
            .await);
        for m in got.messages.unwrap_or_default() {
            bodies.push(m.body.unwrap());
            ok(c.delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await);
        }
    }
    bodies.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    expected.retain(|b| Some(b.as_str()) != in_flight[0].body.as_deref());
    expected.sort();
    assert_eq!(bodies, expected);
}

/// Sends a signed-looking (the default auth mode checks only the shape)
/// awsJson 1.0 SQS request and returns status, query-error header and body.
async fn raw_sqs(endpoint: &str, operation: &str, body: &str) -> (u16, String, serde_json::Value) {
    let client = common::http1_client();
    let request = http::Request::post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AmazonSQS.{operation}"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDNIMBUSTESTS/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00",
        )
        .header("x-amz-date", "20250101T000000Z")
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_owned())))
        .unwrap();
    let (parts, body) = common::send(&client, request).await;
    assert_eq!(parts.headers["content-type"], "application/x-amz-json-1.0");
    let query_error = parts
        .headers
        .get("x-amzn-query-error")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (parts.status.as_u16(), query_error, body)
}

#[tokio::test]
async fn requests_the_sdk_would_not_send() {
    let n = start();
    let e = &n.server.endpoint;
    let (status, header, body) = raw_sqs(e, "SendMessage", r#"{"MessageBody":"x"}"#).await;
    assert_eq!(status, 400);
    assert_eq!(header, "MissingParameter;Sender");
    assert_eq!(body["__type"], "com.amazonaws.sqs#MissingParameter");
    assert_eq!(
        body["message"],
        "The request must contain the parameter QueueUrl."
    );

    let (status, _, body) = raw_sqs(e, "CreateQueue", "{}").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "The request must contain the parameter QueueName."
    );

    let (status, _, body) = raw_sqs(e, "CreateQueue", "[1,2").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazonaws.sqs#SerializationException");

    let (status, header, body) = raw_sqs(e, "AddPermission", "{}").await;
    assert_eq!(status, 400);
    assert_eq!(header, "MissingParameter;Sender");
    assert_eq!(
        body["message"],
        "The request must contain the parameter QueueUrl."
    );

    let (status, _, body) = raw_sqs(
        e,
        "CreateQueue",
        r#"{"QueueName":"q","Attributes":{"DelaySeconds":5}}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazonaws.sqs#InvalidParameterValue");
}

#[tokio::test]
async fn raw_awsjson_responses_and_error_shape() {
    let n = start();
    let e = &n.server.endpoint;
    let (status, header, body) = raw_sqs(e, "ListQueues", "{}").await;
    assert_eq!((status, header.as_str()), (200, ""));
    assert_eq!(body, serde_json::json!({}));
    let (status, header, body) = raw_sqs(e, "GetQueueUrl", r#"{"QueueName":"nope"}"#).await;
    assert_eq!(status, 400);
    assert_eq!(header, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    assert_eq!(
        body,
        serde_json::json!({
            "__type": "com.amazonaws.sqs#QueueDoesNotExist",
            "message": "The specified queue does not exist.",
        })
    );
}

#[tokio::test]
async fn graceful_shutdown_ends_long_polls_at_once() {
    let mut server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    let url = create(&c, "stop").await;
    let receiver = tokio::spawn(async move {
        let out = c
            .receive_message()
            .queue_url(&url)
            .wait_time_seconds(20)
            .send()
            .await;
        out.map(|o| o.messages.unwrap_or_default().len())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let received = receiver.await.unwrap();
    assert_eq!(received.ok(), Some(0));
}

#[tokio::test]
async fn concurrent_receivers_never_share_a_message() {
    let n = start();
    let url = create(&n.client, "shared").await;
    for chunk in 0..10 {
        let entries: Vec<_> = (0..10)
            .map(|i| send_entry(&format!("e{i}"), &format!("m{}", chunk * 10 + i)))
            .collect();
        let out = ok(n
            .client
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries))
            .send()
            .await);
        assert_eq!(out.successful.len(), 10);
    }
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, url) = (n.client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut bodies = Vec::new();
            loop {
                let got = ok(c
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(3)
                    .visibility_timeout(60)
                    .send()
                    .await)
                .messages
                .unwrap_or_default();
                if got.is_empty() {
                    return bodies;
                }
                bodies.extend(got.into_iter().map(|m| m.body.unwrap()));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let mut expected: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    expected.sort();
    assert_eq!(all, expected);
}
