//! SQS FIFO queues through the official AWS SDK for Rust against a live
//! `nimbus serve`: creation rules and FIFO attributes, MessageGroupId and
//! deduplication (explicit, content-based, per group), sequence numbers,
//! strict order within a group, a group held back while it has a message in
//! flight (also for long polls), batches, deduplication across SIGKILL, and
//! every bad input with its exact error code and message.

mod common;
mod sqs_util;

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName as Sys, SendMessageBatchRequestEntry};
use sqs_util::*;

fn entry(id: &str, body: &str, group: Option<&str>) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .set_message_group_id(group.map(str::to_owned))
        .build()
        .unwrap()
}

/// A CreateQueue that must fail: name, attributes, error code, message.
type BadCreate<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn fifo_queue_creation_rules_and_attributes() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "jobs.fifo", &[]).await;
    assert_eq!(url, format!("{}/{ACCOUNT}/jobs.fifo", n.server.endpoint));
    let a = attrs(c, &url).await;
    assert_eq!(a["FifoQueue"], "true");
    assert_eq!(a["ContentBasedDeduplication"], "false");
    assert_eq!(a["DeduplicationScope"], "messageQueue");
    assert_eq!(a["FifoThroughputLimit"], "perQueue");
    assert_eq!(a["QueueArn"], arn("jobs.fifo"));
    assert!(!a.contains_key("RedrivePolicy"));

    // Same name, same attributes: the same queue; a different one: refused.
    assert_eq!(create_fifo(c, "jobs.fifo", &[]).await, url);
    expect_error(
        c.create_queue()
            .queue_name("jobs.fifo")
            .attributes("FifoQueue".into(), "true")
            .attributes("ContentBasedDeduplication".into(), "true")
            .send()
            .await,
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute ContentBasedDeduplication",
    );

    // High-throughput mode.
    let ht = create_fifo(
        c,
        "fast.fifo",
        &[
            ("DeduplicationScope", "messageGroup"),
            ("FifoThroughputLimit", "perMessageGroupId"),
            ("ContentBasedDeduplication", "true"),
        ],
    )
    .await;
    let a = attrs(c, &ht).await;
    assert_eq!(a["DeduplicationScope"], "messageGroup");
    assert_eq!(a["FifoThroughputLimit"], "perMessageGroupId");
    assert_eq!(a["ContentBasedDeduplication"], "true");

    // The .fifo suffix counts towards the 80 characters.
    create_fifo(c, &format!("{}.fifo", "x".repeat(75)), &[]).await;

    let fifo_name = "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.";
    let std_name =
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length";
    let bad: &[BadCreate] = &[
        ("plain.fifo", &[], "InvalidParameterValue", std_name),
        (
            "plain",
            &[("FifoQueue", "true")],
            "InvalidParameterValue",
            fifo_name,
        ),
        (
            &format!("{}.fifo", "x".repeat(76)),
            &[("FifoQueue", "true")],
            "InvalidParameterValue",
            fifo_name,
        ),
        (
            "a.b.fifo",
            &[("FifoQueue", "true")],
            "InvalidParameterValue",
            fifo_name,
        ),
        (
            "plain",
            &[("FifoQueue", "false")],
            "InvalidAttributeName",
            "Unknown Attribute FifoQueue.",
        ),
        (
            "q.fifo",
            &[("FifoQueue", "maybe")],
            "InvalidAttributeValue",
            "Invalid value for the parameter FifoQueue.",
        ),
        (
            "plain",
            &[("ContentBasedDeduplication", "true")],
            "InvalidAttributeName",
            "Unknown Attribute ContentBasedDeduplication.",
        ),
        (
            "plain",
            &[("DeduplicationScope", "messageGroup")],
            "InvalidAttributeName",
            "Unknown Attribute DeduplicationScope.",
        ),
        (
            "q.fifo",
            &[("FifoQueue", "true"), ("ContentBasedDeduplication", "yes")],
            "InvalidAttributeValue",
            "Invalid value for the parameter ContentBasedDeduplication.",
        ),
        (
            "q.fifo",
            &[("FifoQueue", "true"), ("DeduplicationScope", "queue")],
            "InvalidAttributeValue",
            "Invalid value for the parameter DeduplicationScope.",
        ),
        (
            "q.fifo",
            &[("FifoQueue", "true"), ("FifoThroughputLimit", "perGroup")],
            "InvalidAttributeValue",
            "Invalid value for the parameter FifoThroughputLimit.",
        ),
        (
            "q.fifo",
            &[
                ("FifoQueue", "true"),
                ("FifoThroughputLimit", "perMessageGroupId"),
            ],
            "InvalidAttributeValue",
            "Invalid value for the parameter FifoThroughputLimit.",
        ),
    ];
    for (name, attributes, code, message) in bad {
        let mut req = c.create_queue().queue_name(*name);
        for (k, v) in *attributes {
            req = req.attributes((*k).into(), *v);
        }
        expect_error(req.send().await, code, message);
    }
    let listed = ok(c.list_queues().send().await)
        .queue_urls
        .unwrap_or_default();
    assert_eq!(listed.len(), 3, "{listed:?}");

    // FIFO attributes of a standard queue do not exist.
    let std_url = create(c, "standard", &[]).await;
    expect_error(
        c.get_queue_attributes()
            .queue_url(&std_url)
            .attribute_names("FifoQueue".into())
            .send()
            .await,
        "InvalidAttributeName",
        "Unknown Attribute FifoQueue.",
    );
    assert!(!attrs(c, &std_url).await.contains_key("FifoQueue"));
    expect_error(
        c.set_queue_attributes()
            .queue_url(&std_url)
            .attributes("FifoQueue".into(), "true")
            .send()
            .await,
        "InvalidAttributeName",
        "Unknown Attribute FifoQueue.",
    );

    // SetQueueAttributes on a FIFO queue: the FIFO settings change, the type
    // does not.
    ok(c.set_queue_attributes()
        .queue_url(&url)
        .attributes("ContentBasedDeduplication".into(), "true")
        .attributes("FifoQueue".into(), "true")
        .send()
        .await);
    assert_eq!(attrs(c, &url).await["ContentBasedDeduplication"], "true");
    expect_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes("FifoQueue".into(), "false")
            .send()
            .await,
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoQueue.",
    );
    expect_error(
        c.set_queue_attributes()
            .queue_url(&ht)
            .attributes("DeduplicationScope".into(), "messageQueue")
            .send()
            .await,
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoThroughputLimit.",
    );
    assert_eq!(attrs(c, &ht).await["DeduplicationScope"], "messageGroup");
}

#[tokio::test]
async fn fifo_send_bad_input() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "strict.fifo", &[]).await;
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_deduplication_id("d")
            .send()
            .await,
        "MissingParameter",
        "The request must contain the parameter MessageGroupId.",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("g")
            .send()
            .await,
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("g")
            .message_deduplication_id("d")
            .delay_seconds(5)
            .send()
            .await,
        "InvalidParameterValue",
        "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
    );
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("a group")
            .message_deduplication_id("d")
            .send()
            .await,
        "InvalidParameterValue",
        "Value a group for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
    );
    let long = "d".repeat(129);
    expect_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("g")
            .message_deduplication_id(&long)
            .send()
            .await,
        "InvalidParameterValue",
        &format!("Value {long} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length."),
    );
    assert_eq!(depth(c, &url).await, (0, 0, 0));
    // DelaySeconds 0 is no delay, so it is accepted.
    ok(c.send_message()
        .queue_url(&url)
        .message_body("x")
        .message_group_id("g")
        .message_deduplication_id("d")
        .delay_seconds(0)
        .send()
        .await);

    // Standard queues: no deduplication ids; group ids are accepted.
    let std_url = create(c, "plain", &[]).await;
    expect_error(
        c.send_message()
            .queue_url(&std_url)
            .message_body("x")
            .message_deduplication_id("d1")
            .send()
            .await,
        "InvalidParameterValue",
        "Value d1 for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.",
    );
    ok(c.send_message()
        .queue_url(&std_url)
        .message_body("x")
        .message_group_id("tenant-1")
        .send()
        .await);
    let got = receive(c, &std_url, 1, 30).await;
    assert_eq!(
        system_attr(&got[0], Sys::MessageGroupId).as_deref(),
        Some("tenant-1")
    );
    assert_eq!(system_attr(&got[0], Sys::SequenceNumber), None);
}

#[tokio::test]
async fn deduplication_within_the_window() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "dedup.fifo", &[]).await;
    let send = |body: &'static str, dedup: &'static str| {
        c.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("g")
            .message_deduplication_id(dedup)
            .send()
    };
    let first = ok(send("one", "id-1").await);
    let seq1 = first.sequence_number().unwrap().to_owned();
    assert_eq!(seq1.len(), 20);
    // A duplicate succeeds and answers with the original's ids, even with a
    // different body.
    let again = ok(send("other body", "id-1").await);
    assert_eq!(again.message_id(), first.message_id());
    assert_eq!(again.sequence_number(), Some(seq1.as_str()));
    let second = ok(send("two", "id-2").await);
    assert!(second.sequence_number().unwrap() > seq1.as_str());
    assert_eq!(depth(c, &url).await, (2, 0, 0));

    let got = receive(c, &url, 10, 30).await;
    assert_eq!(bodies(&got), ["one", "two"]);
    assert_eq!(
        system_attr(&got[0], Sys::MessageDeduplicationId).as_deref(),
        Some("id-1")
    );
    assert_eq!(
        system_attr(&got[0], Sys::MessageGroupId).as_deref(),
        Some("g")
    );
    assert_eq!(
        system_attr(&got[0], Sys::SequenceNumber),
        Some(seq1.clone())
    );
    // Deleted or not, the id stays taken for the window.
    delete(c, &url, &got[0]).await;
    let third = ok(send("one", "id-1").await);
    assert_eq!(third.message_id(), first.message_id());
    assert_eq!(depth(c, &url).await, (0, 1, 0));

    // Content-based: the SHA-256 of the body is the id.
    let cb = create_fifo(c, "content.fifo", &[("ContentBasedDeduplication", "true")]).await;
    let a = ok(c
        .send_message()
        .queue_url(&cb)
        .message_body("hello")
        .message_group_id("g")
        .send()
        .await);
    let b = ok(c
        .send_message()
        .queue_url(&cb)
        .message_body("hello")
        .message_group_id("h")
        .send()
        .await);
    assert_eq!(
        a.message_id(),
        b.message_id(),
        "queue-wide scope ignores the group"
    );
    // An explicit id wins over the body's.
    let d = ok(c
        .send_message()
        .queue_url(&cb)
        .message_body("hello")
        .message_group_id("g")
        .message_deduplication_id("explicit")
        .send()
        .await);
    assert_ne!(d.message_id(), a.message_id());
    let got = receive(c, &cb, 10, 30).await;
    assert_eq!(
        system_attr(&got[0], Sys::MessageDeduplicationId).as_deref(),
        Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    );
    assert_eq!(got.len(), 2);

    // DeduplicationScope messageGroup: the same id in two groups is two messages.
    let pg = create_fifo(
        c,
        "pergroup.fifo",
        &[
            ("DeduplicationScope", "messageGroup"),
            ("FifoThroughputLimit", "perMessageGroupId"),
        ],
    )
    .await;
    let mut ids = Vec::new();
    for group in ["a", "b", "a"] {
        let out = ok(c
            .send_message()
            .queue_url(&pg)
            .message_body(group)
            .message_group_id(group)
            .message_deduplication_id("same")
            .send()
            .await);
        ids.push(out.message_id().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[0], ids[2]);
    assert_eq!(depth(c, &pg).await, (2, 0, 0));
}

#[tokio::test]
async fn groups_are_delivered_in_order_and_held_while_in_flight() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "order.fifo", &[("ContentBasedDeduplication", "true")]).await;
    let mut last_seq = String::new();
    for (body, group) in [
        ("a1", "A"),
        ("a2", "A"),
        ("b1", "B"),
        ("a3", "A"),
        ("b2", "B"),
    ] {
        let out = ok(c
            .send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id(group)
            .send()
            .await);
        let seq = out.sequence_number().unwrap().to_owned();
        assert!(seq > last_seq, "{seq} after {last_seq}");
        last_seq = seq;
    }
    let first = receive(c, &url, 2, 30).await;
    assert_eq!(bodies(&first), ["a1", "a2"]);
    // Group A has messages in flight: a3 waits although it is visible.
    let second = receive(c, &url, 10, 30).await;
    assert_eq!(bodies(&second), ["b1", "b2"]);
    assert!(receive(c, &url, 10, 30).await.is_empty());
    assert_eq!(depth(c, &url).await, (1, 4, 0));
    delete(c, &url, &first[0]).await;
    assert!(
        receive(c, &url, 10, 30).await.is_empty(),
        "a2 still in flight"
    );
    delete(c, &url, &first[1]).await;
    let third = receive(c, &url, 10, 1).await;
    assert_eq!(bodies(&third), ["a3"]);
    // Not deleted: it comes back first when its visibility timeout ends.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let again = receive(c, &url, 10, 30).await;
    assert_eq!(bodies(&again), ["a3"]);
    assert_eq!(
        system_attr(&again[0], Sys::ApproximateReceiveCount).as_deref(),
        Some("2")
    );

    // Making a group's in-flight messages visible again releases it.
    for m in &second {
        ok(c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(m.receipt_handle().unwrap())
            .visibility_timeout(0)
            .send()
            .await);
    }
    assert_eq!(bodies(&receive(c, &url, 10, 30).await), ["b1", "b2"]);
}

#[tokio::test]
async fn long_poll_wakes_when_a_held_group_is_released() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "wake.fifo", &[("ContentBasedDeduplication", "true")]).await;
    for body in ["first", "second"] {
        ok(c.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("g")
            .send()
            .await);
    }
    let held = receive(c, &url, 1, 60).await;
    assert_eq!(bodies(&held), ["first"]);
    let (c2, url2) = (c.clone(), url.clone());
    let poller = tokio::spawn(async move {
        let started = Instant::now();
        let out = ok(c2
            .receive_message()
            .queue_url(&url2)
            .wait_time_seconds(10)
            .send()
            .await);
        (started.elapsed(), out.messages.unwrap_or_default())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    delete(c, &url, &held[0]).await;
    let (waited, got) = poller.await.unwrap();
    assert_eq!(bodies(&got), ["second"]);
    // It waited for the delete, and not much longer.
    assert!(waited >= Duration::from_millis(400), "waited {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
}

#[tokio::test]
async fn send_message_batch_on_fifo() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "batch.fifo", &[("ContentBasedDeduplication", "true")]).await;
    let out = ok(c
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("e1", "x", Some("g")))
        .entries(entry("e2", "y", Some("g")))
        .entries(entry("e3", "x", Some("g")))
        .entries(entry("e4", "z", None))
        .send()
        .await);
    let ok_ids: Vec<&str> = out.successful().iter().map(|s| s.id()).collect();
    assert_eq!(ok_ids, ["e1", "e2", "e3"]);
    let s = out.successful();
    assert_eq!(
        s[2].message_id(),
        s[0].message_id(),
        "duplicate within the batch"
    );
    assert_eq!(s[2].sequence_number(), s[0].sequence_number());
    assert!(s[1].sequence_number().unwrap() > s[0].sequence_number().unwrap());
    let failed = out.failed();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id(), "e4");
    assert_eq!(failed[0].code(), "MissingParameter");
    assert_eq!(
        failed[0].message(),
        Some("The request must contain the parameter MessageGroupId.")
    );
    assert!(failed[0].sender_fault());
    assert_eq!(bodies(&receive(c, &url, 10, 30).await), ["x", "y"]);
}

#[tokio::test]
async fn concurrent_receivers_keep_each_group_in_order() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "many.fifo", &[("ContentBasedDeduplication", "true")]).await;
    for i in 0..30 {
        let group = format!("g{}", i % 3);
        ok(c.send_message()
            .queue_url(&url)
            .message_body(format!("{group}-{:02}", i / 3))
            .message_group_id(group)
            .send()
            .await);
    }
    // Four workers that receive, then delete what they got before the next
    // receive: every group must come out in order, each message once.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (c, url, log) = (c.clone(), url.clone(), log.clone());
        tasks.push(tokio::spawn(async move {
            let mut empty = 0;
            while empty < 3 {
                let got = receive(&c, &url, 3, 30).await;
                if got.is_empty() {
                    empty += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                empty = 0;
                // Record before deleting: the group is held until then.
                log.lock()
                    .unwrap()
                    .extend(got.iter().map(|m| m.body().unwrap().to_owned()));
                for m in &got {
                    delete(&c, &url, m).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 30, "{log:?}");
    for g in 0..3 {
        let prefix = format!("g{g}-");
        let seen: Vec<&String> = log.iter().filter(|b| b.starts_with(&prefix)).collect();
        let expected: Vec<String> = (0..10).map(|i| format!("{prefix}{i:02}")).collect();
        assert_eq!(seen, expected.iter().collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn deduplication_and_order_survive_sigkill() {
    let (_dir, data) = common::temp_data_dir();
    let data_arg = common::arg(&data).to_owned();
    let mut server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let url = create_fifo(&c, "durable.fifo", &[]).await;
    let mut firsts = Vec::new();
    for i in 0..5 {
        let out = ok(c
            .send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .message_group_id("g")
            .message_deduplication_id(format!("d{i}"))
            .send()
            .await);
        firsts.push(out.message_id().unwrap().to_owned());
    }
    let in_flight = receive(&c, &url, 1, 2).await;
    assert_eq!(bodies(&in_flight), ["m0"]);
    server.kill();

    let server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let url = format!("{}/{ACCOUNT}/durable.fifo", server.endpoint);
    // The group is still held by m0 until its timeout ends.
    assert!(receive(&c, &url, 10, 30).await.is_empty());
    let again = ok(c
        .send_message()
        .queue_url(&url)
        .message_body("m3 again")
        .message_group_id("g")
        .message_deduplication_id("d3")
        .send()
        .await);
    assert_eq!(again.message_id(), Some(firsts[3].as_str()));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let got = receive(&c, &url, 10, 30).await;
    assert_eq!(bodies(&got), ["m0", "m1", "m2", "m3", "m4"]);
}

#[tokio::test]
async fn receive_request_attempt_id_replays_a_lost_receive() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "attempt.fifo", &[("ContentBasedDeduplication", "true")]).await;
    for body in ["m1", "m2", "m3"] {
        ok(c.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("g")
            .send()
            .await);
    }
    let attempt = |id: &str| {
        c.receive_message()
            .queue_url(&url)
            .max_number_of_messages(2)
            .receive_request_attempt_id(id)
            .send()
    };
    let first = ok(attempt("try-1").await).messages.unwrap();
    assert_eq!(bodies(&first), ["m1", "m2"]);
    // The response was "lost": the retry gets the same messages and handles.
    let retry = ok(attempt("try-1").await).messages.unwrap();
    assert_eq!(bodies(&retry), ["m1", "m2"]);
    for (a, b) in first.iter().zip(&retry) {
        assert_eq!(a.receipt_handle(), b.receipt_handle());
        assert_eq!(a.message_id(), b.message_id());
    }
    // Another attempt id is a new receive: the group is held.
    assert!(ok(attempt("try-2").await).messages.is_none());
    // Deleted messages are not replayed; the rest are.
    delete(c, &url, &retry[0]).await;
    assert_eq!(
        bodies(&ok(attempt("try-1").await).messages.unwrap()),
        ["m2"]
    );
    delete(c, &url, &first[1]).await;
    // Nothing left of that attempt: it receives afresh.
    assert_eq!(
        bodies(&ok(attempt("try-1").await).messages.unwrap()),
        ["m3"]
    );

    expect_error(
        attempt("has space").await,
        "InvalidParameterValue",
        "Value has space for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
    );
    // Standard queues ignore it.
    let std_url = create(c, "std", &[]).await;
    ok(c.receive_message()
        .queue_url(&std_url)
        .receive_request_attempt_id("has space")
        .send()
        .await);
}

#[tokio::test]
async fn a_group_is_held_while_any_of_its_messages_is_in_flight() {
    let n = start();
    let c = &n.client;
    let url = create_fifo(c, "held.fifo", &[("ContentBasedDeduplication", "true")]).await;
    for body in ["m1", "m2", "m3"] {
        ok(c.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("g")
            .send()
            .await);
    }
    let got = receive(c, &url, 2, 60).await;
    assert_eq!(bodies(&got), ["m1", "m2"]);
    // m1 is visible again, but m2 is still in flight: the group stays held.
    ok(c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(got[0].receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await);
    assert!(receive(c, &url, 10, 60).await.is_empty());
    delete(c, &url, &got[1]).await;
    assert_eq!(bodies(&receive(c, &url, 10, 60).await), ["m1", "m3"]);
}
