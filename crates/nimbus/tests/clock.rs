//! `/_nimbus/clock` against a live server: reading and advancing the clock,
//! every refused input with its message, and SQS following an advance
//! (a visibility timeout that ran out by an advance, a long poll woken by
//! one) and DynamoDB timestamps with the official SDKs.

mod common;
mod sdk;

use std::time::{Duration, Instant};

use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::Client;
use http::StatusCode;
use serde_json::json;

fn sqs_client(endpoint: &str) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDNIMBUSTESTS",
            "secret",
            None,
            None,
            "tests",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(40))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

#[tokio::test]
async fn get_and_advance() {
    let server = common::Server::start(&["--in-memory"]);
    let (status, before) = common::clock_call(&server.endpoint, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["offsetMs"], 0);
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(before["now"].as_u64().unwrap().abs_diff(real) < 5_000);

    let after = common::advance_clock(&server.endpoint, 3600).await;
    assert_eq!(after["offsetMs"], 3_600_000);
    assert!(after["now"].as_u64().unwrap() >= before["now"].as_u64().unwrap() + 3_600_000);

    let (status, after) =
        common::clock_call(&server.endpoint, Some(r#"{"milliseconds": 250}"#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["offsetMs"], 3_600_250);
    let (_, read) = common::clock_call(&server.endpoint, None).await;
    assert_eq!(read["offsetMs"], 3_600_250);
}

#[tokio::test]
async fn bad_advances_are_refused_with_a_reason() {
    let server = common::Server::start(&["--in-memory"]);
    let usage = r#"send a JSON object such as {"seconds": 60} or {"milliseconds": 1500}"#;
    let cases = [
        (
            r#"{"seconds": -1}"#,
            "\"seconds\" must not be negative (got -1): the clock only moves forward".to_owned(),
        ),
        (
            r#"{"milliseconds": -10}"#,
            "\"milliseconds\" must not be negative (got -10): the clock only moves forward"
                .to_owned(),
        ),
        (
            r#"{"seconds": "ten"}"#,
            "\"seconds\" must be a number, got \"ten\"".to_owned(),
        ),
        (
            r#"{"seconds": null}"#,
            "\"seconds\" must be a number, got null".to_owned(),
        ),
        (
            r#"{"milliseconds": 2.5}"#,
            "\"milliseconds\" must be a whole number of milliseconds, got 2.5".to_owned(),
        ),
        (
            "{}",
            format!("the body names no amount: \"seconds\" or \"milliseconds\" is required; {usage}"),
        ),
        (
            r#"{"seconds": 1, "milliseconds": 1}"#,
            format!("give either \"seconds\" or \"milliseconds\", not both; {usage}"),
        ),
        (
            r#"{"minutes": 1}"#,
            format!("unknown field \"minutes\"; {usage}"),
        ),
        (
            "60",
            format!("the body must be a JSON object; {usage}"),
        ),
        (
            r#"{"seconds": 4000000000}"#,
            "\"seconds\" is too large (got 4000000000): one advance may move the clock at most 100 years (3153600000 seconds)".to_owned(),
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = common::clock_call(&server.endpoint, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer,
            json!({"__type": "InvalidClockAdvance", "message": message}),
            "{body}"
        );
    }
    // A body that is not JSON at all.
    let (status, answer) = common::clock_call(&server.endpoint, Some("seconds=5")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("the body is not valid JSON ("),
        "{message}"
    );
    assert!(message.ends_with(usage), "{message}");
    // Nothing refused moved the clock.
    let (_, read) = common::clock_call(&server.endpoint, None).await;
    assert_eq!(read["offsetMs"], 0);
}

#[tokio::test]
async fn visibility_timeout_runs_out_by_an_advance() {
    let server = common::Server::start(&["--in-memory"]);
    let client = sqs_client(&server.endpoint);
    let url = client
        .create_queue()
        .queue_name("clocked")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    client
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .send()
        .await
        .unwrap();
    let first = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(600)
        .send()
        .await
        .unwrap();
    let first = &first.messages()[0];
    // In flight: nothing to receive.
    let none = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(none.messages().is_empty());

    common::advance_clock(&server.endpoint, 601).await;
    let started = Instant::now();
    let again = client
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let again = &again.messages()[0];
    assert_eq!(again.message_id(), first.message_id());
    assert_eq!(again.body(), Some("hello"));
    let attrs = again.attributes().unwrap();
    assert_eq!(
        attrs[&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
}

#[tokio::test]
async fn a_long_poll_is_woken_by_an_advance() {
    let server = common::Server::start(&["--in-memory"]);
    let client = sqs_client(&server.endpoint);
    let url = client
        .create_queue()
        .queue_name("polled")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    client
        .send_message()
        .queue_url(&url)
        .message_body("later")
        .send()
        .await
        .unwrap();
    client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(600)
        .send()
        .await
        .unwrap();

    let poll = {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let out = client
                .receive_message()
                .queue_url(&url)
                .wait_time_seconds(20)
                .send()
                .await
                .unwrap();
            (out, started.elapsed())
        })
    };
    // Let the poll find the queue empty and start waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished());
    common::advance_clock(&server.endpoint, 601).await;
    let (out, waited) = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("the advance woke the long poll")
        .unwrap();
    assert_eq!(out.messages().len(), 1);
    assert_eq!(out.messages()[0].body(), Some("later"));
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
}

#[tokio::test]
async fn message_delays_end_by_an_advance() {
    let server = common::Server::start(&["--in-memory"]);
    let client = sqs_client(&server.endpoint);
    let url = client
        .create_queue()
        .queue_name("delayed")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    client
        .send_message()
        .queue_url(&url)
        .message_body("in 15 minutes")
        .delay_seconds(900)
        .send()
        .await
        .unwrap();
    let none = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(none.messages().is_empty());
    common::advance_clock(&server.endpoint, 900).await;
    let out = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.messages().len(), 1);
}

#[tokio::test]
async fn dynamodb_timestamps_follow_the_clock() {
    let server = common::Server::start(&["--in-memory"]);
    let client = sdk::client(&server.endpoint);
    let (_, moved) = common::clock_call(&server.endpoint, Some(r#"{"seconds": 86400}"#)).await;
    let moved_secs = moved["now"].as_u64().unwrap() / 1000;
    let created = sdk::hash_table(&client, "dated").await;
    let at = created.creation_date_time.unwrap().secs() as u64;
    assert!(
        (moved_secs..moved_secs + 60).contains(&at),
        "created at {at}, clock at {moved_secs}"
    );
}
