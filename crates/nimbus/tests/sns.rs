//! SNS through the official AWS SDK for Rust (which speaks SNS's awsQuery
//! protocol) against a live `nimbus serve`: topics, subscriptions with a
//! filter policy, Publish and PublishBatch delivered to SQS queues read with
//! the SQS SDK, tags, exact errors; and durability: every Publish nimbus
//! acknowledged reaches every subscribed queue after a SIGKILL and restart.

mod common;
mod sqs_util;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sns::config::retry::RetryConfig;
use aws_sdk_sns::config::timeout::TimeoutConfig;
use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sns::primitives::Blob;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry, Tag};
use aws_sdk_sns::Client;
use common::Server;
use sqs_util::{expect_error, expect_error_status, ok};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "000000000000";

fn credentials() -> Credentials {
    Credentials::new(
        "AKIDNIMBUSTESTS",
        "nimbus-test-secret",
        None,
        None,
        "nimbus-tests",
    )
}

/// Retries off: every answer is the server's first.
fn sns_client(endpoint: &str) -> Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(credentials())
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = ok(sqs.create_queue().queue_name(name).send().await)
        .queue_url
        .expect("queue url");
    let arn = ok(sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await)
    .attributes
    .and_then(|a| {
        a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .cloned()
    })
    .expect("queue arn");
    (url, arn)
}

/// Receives (and deletes) messages until `want` arrived or `wait` passed.
async fn receive(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    want: usize,
    wait: Duration,
) -> Vec<aws_sdk_sqs::types::Message> {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        let out = ok(sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await);
        for m in out.messages.unwrap_or_default() {
            ok(sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await);
            got.push(m);
        }
    }
    got
}

fn string_attr(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("attribute")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_subscriptions_and_delivery_through_the_sdk() {
    let server = Server::start(&["--in-memory"]);
    let sns = sns_client(&server.endpoint);
    let sqs = sqs_util::client(&server.endpoint);

    let topic = ok(sns
        .create_topic()
        .name("orders")
        .attributes("DisplayName", "Orders")
        .tags(Tag::builder().key("team").value("shop").build().unwrap())
        .send()
        .await)
    .topic_arn
    .expect("topic arn");
    assert_eq!(topic, format!("arn:aws:sns:{REGION}:{ACCOUNT}:orders"));
    let attrs = ok(sns.get_topic_attributes().topic_arn(&topic).send().await)
        .attributes
        .expect("attributes");
    assert_eq!(attrs["DisplayName"], "Orders");
    assert_eq!(attrs["Owner"], ACCOUNT);
    assert_eq!(attrs["SubscriptionsConfirmed"], "0");
    let tags = ok(sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await);
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "team");
    let listed = ok(sns.list_topics().send().await);
    assert!(listed
        .topics()
        .iter()
        .any(|t| t.topic_arn() == Some(topic.as_str())));

    let (all_url, all_arn) = queue(&sqs, "all").await;
    let (red_url, red_arn) = queue(&sqs, "red").await;
    ok(sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&all_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await);
    let red_sub = ok(sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&red_arn)
        .attributes(
            "FilterPolicy",
            r#"{"color":["red"],"size":[{"numeric":[">=",10]}]}"#,
        )
        .return_subscription_arn(true)
        .send()
        .await)
    .subscription_arn
    .expect("subscription arn");
    let sub_attrs = ok(sns
        .get_subscription_attributes()
        .subscription_arn(&red_sub)
        .send()
        .await)
    .attributes
    .expect("attributes");
    assert_eq!(sub_attrs["FilterPolicyScope"], "MessageAttributes");
    assert_eq!(sub_attrs["Endpoint"], red_arn);

    let red = ok(sns
        .publish()
        .topic_arn(&topic)
        .message("a red one")
        .subject("colours")
        .message_attributes("color", string_attr("red"))
        .message_attributes(
            "size",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("12")
                .build()
                .unwrap(),
        )
        .message_attributes(
            "blob",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 255]))
                .build()
                .unwrap(),
        )
        .send()
        .await)
    .message_id
    .expect("message id");
    ok(sns
        .publish()
        .topic_arn(&topic)
        .message("a blue one")
        .message_attributes("color", string_attr("blue"))
        .send()
        .await);
    let batch = ok(sns
        .publish_batch()
        .topic_arn(&topic)
        .publish_batch_request_entries(
            PublishBatchRequestEntry::builder()
                .id("b1")
                .message("batched one")
                .build()
                .unwrap(),
        )
        .publish_batch_request_entries(
            PublishBatchRequestEntry::builder()
                .id("b2")
                .message("")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(batch.successful().len(), 1);
    assert_eq!(batch.successful()[0].id(), Some("b1"));
    assert_eq!(batch.failed().len(), 1);
    assert_eq!(batch.failed()[0].id(), "b2");
    assert_eq!(batch.failed()[0].code(), "InvalidParameter");
    assert!(batch.failed()[0].sender_fault());

    // Raw delivery: the message itself, attributes as SQS attributes.
    let all = receive(&sqs, &all_url, 3, Duration::from_secs(10)).await;
    let mut bodies: Vec<&str> = all.iter().filter_map(|m| m.body()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["a blue one", "a red one", "batched one"]);
    let red_raw = all.iter().find(|m| m.body() == Some("a red one")).unwrap();
    let blob = &red_raw.message_attributes().unwrap()["blob"];
    assert_eq!(blob.data_type(), "Binary");
    assert_eq!(
        blob.binary_value().map(|b| b.as_ref()),
        Some(&[0u8, 1, 255][..])
    );

    // The filtered subscription got the red one only, in the envelope.
    let filtered = receive(&sqs, &red_url, 2, Duration::from_secs(3)).await;
    assert_eq!(filtered.len(), 1);
    let envelope: serde_json::Value =
        serde_json::from_str(filtered[0].body().unwrap()).expect("JSON envelope");
    assert_eq!(envelope["MessageId"], red.as_str());
    assert_eq!(envelope["Subject"], "colours");
    assert_eq!(envelope["MessageAttributes"]["blob"]["Value"], "AAH/");
    assert_eq!(envelope["MessageAttributes"]["size"]["Type"], "Number");

    // Exact errors through the SDK.
    expect_error_status(
        sns.get_topic_attributes()
            .topic_arn(format!("{topic}-gone"))
            .send()
            .await,
        "NotFound",
        "Topic does not exist",
        404,
    );
    expect_error(
        sns.publish().topic_arn(&topic).message("").send().await,
        "InvalidParameter",
        "Invalid parameter: Empty message",
    );
    expect_error(
        sns.subscribe()
            .topic_arn(&topic)
            .protocol("carrier-pigeon")
            .endpoint("x")
            .send()
            .await,
        "InvalidParameter",
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon",
    );
    expect_error(
        sns.get_topic_attributes().topic_arn("orders").send().await,
        "InvalidParameter",
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
    );

    ok(sns.unsubscribe().subscription_arn(&red_sub).send().await);
    ok(sns.delete_topic().topic_arn(&topic).send().await);
    expect_error_status(
        sns.list_subscriptions_by_topic()
            .topic_arn(&topic)
            .send()
            .await,
        "NotFound",
        "Topic does not exist",
        404,
    );
}

const PUBLISHERS: usize = 8;
const QUEUES: usize = 5;
const RUN_FOR: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_publishes_reach_every_queue_after_sigkill() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);

    // ---- first life: publish to a topic with several queues until killed.
    let mut server = Server::start(&["--data-dir", data_arg]);
    let sns = sns_client(&server.endpoint);
    let sqs = sqs_util::client(&server.endpoint);
    let topic = ok(sns.create_topic().name("fanout").send().await)
        .topic_arn
        .expect("topic arn");
    let mut queue_urls = Vec::new();
    for i in 0..QUEUES {
        let (url, arn) = queue(&sqs, &format!("sink{i}")).await;
        ok(sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(&arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await);
        queue_urls.push(url);
    }

    let acked = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut publishers = tokio::task::JoinSet::new();
    for p in 0..PUBLISHERS {
        let (sns, topic, acked, stop) = (sns.clone(), topic.clone(), acked.clone(), stop.clone());
        publishers.spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = format!("p{p}-{n}");
                match sns.publish().topic_arn(&topic).message(&body).send().await {
                    Ok(_) => {
                        acked.lock().unwrap().insert(body);
                    }
                    // The server is gone: this publish's fate is unknown.
                    Err(_) => return,
                }
            }
        });
    }
    tokio::time::sleep(RUN_FOR).await;
    server.kill();
    stop.store(true, Ordering::SeqCst);
    while let Some(done) = publishers.join_next().await {
        done.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.len() >= 50,
        "too few publishes were acknowledged ({}) for the test to mean anything",
        acked.len()
    );

    // ---- second life: every acknowledged message reaches every queue.
    let server = Server::start(&["--data-dir", data_arg]);
    let http = common::http1_client();
    let (_, pending) = common::send(
        &http,
        http::Request::get(format!("{}/_nimbus/sns/outbox", server.endpoint))
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap(),
    )
    .await;
    eprintln!(
        "killed with {} publishes acknowledged; outbox at restart: {}",
        acked.len(),
        String::from_utf8_lossy(&pending)
    );
    let sqs = sqs_util::client(&server.endpoint);
    let mut missing: HashMap<usize, usize> = HashMap::new();
    for (i, url) in queue_urls.iter().enumerate() {
        let mut seen = HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !acked.is_subset(&seen) && Instant::now() < deadline {
            for m in receive(&sqs, url, 10, Duration::from_secs(2)).await {
                let body = m.body().unwrap_or_default().to_owned();
                // Nothing that was not published: each body is a
                // publisher's message.
                let (p, n) = body[1..].split_once('-').expect("a publisher's message");
                assert!(p.parse::<usize>().unwrap() < PUBLISHERS && n.parse::<u64>().is_ok());
                seen.insert(body);
            }
        }
        let lost = acked.difference(&seen).count();
        if lost > 0 {
            missing.insert(i, lost);
        }
    }
    assert!(
        missing.is_empty(),
        "acknowledged publishes lost after kill -9 (queue -> count): {missing:?}"
    );
}
