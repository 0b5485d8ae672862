//! SQS dead-letter queues through the official AWS SDK for Rust against a
//! live `nimbus serve`: RedrivePolicy and RedriveAllowPolicy validation with
//! exact errors, messages moving to the dead-letter queue after
//! maxReceiveCount receives (standard and FIFO, what they keep, durable
//! across SIGKILL, waking the DLQ's long polls), ListDeadLetterSourceQueues
//! with pagination, and message move tasks (redrive to the sources or a
//! destination, at a rate, cancelled, resumed after SIGKILL).

mod common;
mod sqs_util;

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName as Sys};
use aws_sdk_sqs::Client;
use sqs_util::*;

fn redrive(dlq: &str, count: impl std::fmt::Display) -> String {
    format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":{count}}}"#,
        arn(dlq)
    )
}

async fn set_attr(c: &Client, url: &str, name: &str, value: &str) -> Result<(), String> {
    c.set_queue_attributes()
        .queue_url(url)
        .attributes(name.into(), value)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            use aws_sdk_sqs::error::ProvideErrorMetadata;
            format!("{} | {}", e.code().unwrap_or(""), e.message().unwrap_or(""))
        })
}

#[tokio::test]
async fn redrive_policy_validation() {
    let n = start();
    let c = &n.client;
    create(c, "dlq", &[]).await;
    create_fifo(c, "dlq.fifo", &[]).await;
    let src = create(c, "src", &[]).await;
    let fifo_src = create_fifo(c, "src.fifo", &[]).await;

    let invalid = |raw: &str, reason: &str| {
        format!("InvalidParameterValue | Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}")
    };
    let other_account =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:dlq","maxReceiveCount":3}"#;
    let other_region =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:000000000000:dlq","maxReceiveCount":3}"#;
    let cases: Vec<(String, String)> = vec![
        (redrive("missing", 3), "Dead letter target does not exist.".into()),
        (redrive("dlq.fifo", 3), "Dead-letter queue must be same type of queue as the source..".into()),
        (
            redrive("dlq", 0),
            "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive.".into(),
        ),
        (
            redrive("dlq", 1001),
            "Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive.".into(),
        ),
        (
            redrive("dlq", "\"many\""),
            "Invalid value for maxReceiveCount: many, valid values are from 1 to 1000 both inclusive.".into(),
        ),
        (
            format!(r#"{{"deadLetterTargetArn":"{}"}}"#, arn("dlq")),
            "Redrive policy does not contain mandatory attribute: maxReceiveCount.".into(),
        ),
        (
            r#"{"maxReceiveCount":3}"#.into(),
            "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.".into(),
        ),
        (
            r#"{"deadLetterTargetArn":"not-an-arn","maxReceiveCount":3}"#.into(),
            "Invalid value for deadLetterTargetArn.".into(),
        ),
        ("[3]".into(), "Redrive policy is not a valid JSON map.".into()),
        (other_account.into(), "Dead-letter target owner should be same as the source.".into()),
        (other_region.into(), "Dead-letter target must be in same region as the source.".into()),
    ];
    for (raw, reason) in &cases {
        assert_eq!(
            set_attr(c, &src, "RedrivePolicy", raw).await,
            Err(invalid(raw, reason)),
            "{raw}"
        );
    }
    // The other type mismatch, and CreateQueue checks the same way.
    let raw = redrive("dlq", 3);
    assert_eq!(
        set_attr(c, &fifo_src, "RedrivePolicy", &raw).await,
        Err(invalid(
            &raw,
            "Dead-letter queue must be same type of queue as the source.."
        ))
    );
    let raw = redrive("missing", 2);
    expect_error(
        c.create_queue()
            .queue_name("new-src")
            .attributes("RedrivePolicy".into(), &raw)
            .send()
            .await,
        "InvalidParameterValue",
        &format!("Value {raw} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."),
    );
    assert!(
        ok(c.list_queues().queue_name_prefix("new-src").send().await)
            .queue_urls
            .is_none()
    );
    assert!(!attrs(c, &src).await.contains_key("RedrivePolicy"));

    // Valid: stored and returned in AWS's form (maxReceiveCount a number).
    let sent = format!(
        r#"{{"maxReceiveCount":"5", "deadLetterTargetArn":"{}"}}"#,
        arn("dlq")
    );
    set_attr(c, &src, "RedrivePolicy", &sent).await.unwrap();
    assert_eq!(attrs(c, &src).await["RedrivePolicy"], redrive("dlq", 5));
    set_attr(c, &fifo_src, "RedrivePolicy", &redrive("dlq.fifo", 1000))
        .await
        .unwrap();
    let with = create(c, "created-with", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    assert_eq!(attrs(c, &with).await["RedrivePolicy"], redrive("dlq", 1));
    // Re-creating with the same policy, written differently, is the same queue.
    assert_eq!(
        create(
            c,
            "created-with",
            &[("RedrivePolicy", &redrive("dlq", "\"1\""))]
        )
        .await,
        with
    );
    expect_error(
        c.create_queue()
            .queue_name("created-with")
            .attributes("RedrivePolicy".into(), redrive("dlq", 2))
            .send()
            .await,
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute RedrivePolicy",
    );
    // The empty string removes it.
    set_attr(c, &src, "RedrivePolicy", "").await.unwrap();
    assert!(!attrs(c, &src).await.contains_key("RedrivePolicy"));
}

#[tokio::test]
async fn redrive_allow_policy_is_enforced() {
    let n = start();
    let c = &n.client;
    let dlq = create(c, "dlq", &[]).await;
    let src = create(c, "src", &[]).await;
    let other = create(c, "other", &[]).await;

    let unsupported = Err("InvalidParameterValue | Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the redrive allow policy, as it\u{2019}s in an unsupported format.".to_owned());
    for raw in [
        "nope",
        r#"{"redrivePermission":"sometimes"}"#,
        r#"{"redrivePermission":"byQueue","sourceQueueArns":"x"}"#,
        r#"{"redrivePermission":"allowAll","extra":1}"#,
        r#"{"sourceQueueArns":["x"]}"#,
    ] {
        assert_eq!(
            set_attr(c, &dlq, "RedriveAllowPolicy", raw).await,
            unsupported,
            "{raw}"
        );
    }
    let refused = |raw: &str, reason: &str| {
        Err(format!("InvalidParameterValue | Value {raw} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy. {reason}"))
    };
    for raw in [
        r#"{"redrivePermission":"byQueue"}"#,
        r#"{"redrivePermission":"byQueue","sourceQueueArns":[]}"#,
    ] {
        assert_eq!(
            set_attr(c, &dlq, "RedriveAllowPolicy", raw).await,
            refused(raw, "When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.")
        );
    }
    let raw = r#"{"redrivePermission":"denyAll","sourceQueueArns":["x"]}"#;
    assert_eq!(
        set_attr(c, &dlq, "RedriveAllowPolicy", raw).await,
        refused(
            raw,
            "To specify one or more source queue ARNs, you must set redrivePermission to byQueue."
        )
    );
    let arns: Vec<String> = (0..11)
        .map(|i| format!("\"{}\"", arn(&format!("q{i}"))))
        .collect();
    let raw = format!(
        r#"{{"redrivePermission":"byQueue","sourceQueueArns":[{}]}}"#,
        arns.join(",")
    );
    assert_eq!(
        set_attr(c, &dlq, "RedriveAllowPolicy", &raw).await,
        Err(format!("InvalidParameterValue | Value {raw} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy. The maximum number of source queue ARNs you can specify is 10."))
    );

    let denied = |source: &str| {
        let raw = redrive("dlq", 3);
        Err(format!(
            "InvalidParameterValue | Value {raw} for parameter RedrivePolicy is invalid. Reason: Queue {} does not allow {} to use it as a dead-letter queue.",
            arn("dlq"),
            arn(source)
        ))
    };
    set_attr(
        c,
        &dlq,
        "RedriveAllowPolicy",
        r#"{"redrivePermission":"denyAll"}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        attrs(c, &dlq).await["RedriveAllowPolicy"],
        r#"{"redrivePermission":"denyAll"}"#
    );
    assert_eq!(
        set_attr(c, &src, "RedrivePolicy", &redrive("dlq", 3)).await,
        denied("src")
    );

    let by_queue = format!(
        r#"{{"redrivePermission":"byQueue","sourceQueueArns":["{}"]}}"#,
        arn("src")
    );
    set_attr(c, &dlq, "RedriveAllowPolicy", &by_queue)
        .await
        .unwrap();
    assert_eq!(attrs(c, &dlq).await["RedriveAllowPolicy"], by_queue);
    set_attr(c, &src, "RedrivePolicy", &redrive("dlq", 3))
        .await
        .unwrap();
    assert_eq!(
        set_attr(c, &other, "RedrivePolicy", &redrive("dlq", 3)).await,
        denied("other")
    );

    set_attr(
        c,
        &dlq,
        "RedriveAllowPolicy",
        r#"{"redrivePermission":"allowAll"}"#,
    )
    .await
    .unwrap();
    set_attr(c, &other, "RedrivePolicy", &redrive("dlq", 3))
        .await
        .unwrap();
    set_attr(c, &dlq, "RedriveAllowPolicy", "").await.unwrap();
    assert!(!attrs(c, &dlq).await.contains_key("RedriveAllowPolicy"));
}

#[tokio::test]
async fn messages_move_to_the_dead_letter_queue_after_max_receives() {
    let n = start();
    let c = &n.client;
    let dlq = create(c, "dlq", &[]).await;
    let src = create(c, "src", &[("RedrivePolicy", &redrive("dlq", 2))]).await;
    let sent = ok(c
        .send_message()
        .queue_url(&src)
        .message_body("poison")
        .message_attributes(
            "kind",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("bad")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    let mut sent_at = None;
    // Two receives are allowed; both leave it visible at once.
    for i in 1..=2 {
        let got = receive(c, &src, 10, 0).await;
        let poison = got.iter().find(|m| m.body() == Some("poison")).unwrap();
        assert_eq!(
            system_attr(poison, Sys::ApproximateReceiveCount),
            Some(i.to_string())
        );
        sent_at = system_attr(poison, Sys::SentTimestamp);
    }
    ok(c.send_message()
        .queue_url(&src)
        .message_body("fine")
        .send()
        .await);
    // The third attempt moves it, in the same write, and returns the rest.
    let got = receive(c, &src, 10, 30).await;
    assert_eq!(bodies(&got), ["fine"]);
    assert_eq!(depth(c, &src).await, (0, 1, 0));
    assert_eq!(depth(c, &dlq).await, (1, 0, 0));

    let moved = ok(c
        .receive_message()
        .queue_url(&dlq)
        .message_system_attribute_names(Sys::All)
        .message_attribute_names("All")
        .send()
        .await)
    .messages
    .unwrap();
    let m = &moved[0];
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.body(), Some("poison"));
    assert_eq!(m.md5_of_body(), sent.md5_of_message_body());
    assert_eq!(
        m.md5_of_message_attributes(),
        sent.md5_of_message_attributes()
    );
    assert_eq!(
        m.message_attributes().unwrap()["kind"].string_value(),
        Some("bad")
    );
    // A standard queue keeps the original enqueue time.
    assert_eq!(system_attr(m, Sys::SentTimestamp), sent_at);
    assert_eq!(
        system_attr(m, Sys::ApproximateReceiveCount).as_deref(),
        Some("1")
    );
    assert_eq!(
        system_attr(m, Sys::DeadLetterQueueSourceArn),
        Some(arn("src"))
    );
}

#[tokio::test]
async fn fifo_dead_letter_queue_keeps_groups_and_releases_the_source_group() {
    let n = start();
    let c = &n.client;
    let dlq = create_fifo(c, "dlq.fifo", &[]).await;
    let src = create_fifo(
        c,
        "src.fifo",
        &[
            ("ContentBasedDeduplication", "true"),
            ("RedrivePolicy", &redrive("dlq.fifo", 1)),
        ],
    )
    .await;
    for body in ["p1", "p2"] {
        ok(c.send_message()
            .queue_url(&src)
            .message_body(body)
            .message_group_id("g")
            .send()
            .await);
    }
    let first = receive(c, &src, 1, 0).await;
    assert_eq!(bodies(&first), ["p1"]);
    let before_move = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // p1 was received once: it moves, and p2 (same group) is delivered.
    let next = receive(c, &src, 1, 30).await;
    assert_eq!(bodies(&next), ["p2"]);
    let moved = receive(c, &dlq, 10, 30).await;
    assert_eq!(bodies(&moved), ["p1"]);
    let m = &moved[0];
    assert_eq!(m.message_id(), first[0].message_id());
    assert_eq!(system_attr(m, Sys::MessageGroupId).as_deref(), Some("g"));
    assert_eq!(
        system_attr(m, Sys::MessageDeduplicationId),
        system_attr(&first[0], Sys::MessageDeduplicationId)
    );
    // A FIFO queue's enqueue time restarts in the dead-letter queue.
    let sent: u64 = system_attr(m, Sys::SentTimestamp).unwrap().parse().unwrap();
    assert!(sent >= before_move, "{sent} < {before_move}");
    assert!(
        system_attr(m, Sys::SequenceNumber).unwrap()
            > system_attr(&next[0], Sys::SequenceNumber).unwrap()
    );
}

#[tokio::test]
async fn long_poll_on_the_dead_letter_queue_wakes_on_a_move() {
    let n = start();
    let c = &n.client;
    let dlq = create(c, "dlq", &[]).await;
    let src = create(c, "src", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    ok(c.send_message()
        .queue_url(&src)
        .message_body("m")
        .send()
        .await);
    assert_eq!(receive(c, &src, 1, 0).await.len(), 1);
    let (c2, dlq2) = (c.clone(), dlq.clone());
    let poller = tokio::spawn(async move {
        let started = Instant::now();
        let got = ok(c2
            .receive_message()
            .queue_url(&dlq2)
            .wait_time_seconds(10)
            .send()
            .await);
        (started.elapsed(), got.messages.unwrap_or_default())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(receive(c, &src, 1, 30).await.is_empty());
    let (waited, got) = poller.await.unwrap();
    assert_eq!(bodies(&got), ["m"]);
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn a_move_is_durable_across_sigkill() {
    let (_dir, data) = common::temp_data_dir();
    let data_arg = common::arg(&data).to_owned();
    let mut server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    create(&c, "dlq", &[]).await;
    let src = create(&c, "src", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    for i in 0..5 {
        ok(c.send_message()
            .queue_url(&src)
            .message_body(format!("m{i}"))
            .send()
            .await);
    }
    assert_eq!(receive(&c, &src, 10, 0).await.len(), 5);
    // This receive moves all five and returns none.
    assert!(receive(&c, &src, 10, 30).await.is_empty());
    server.kill();

    let server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let src = format!("{}/{ACCOUNT}/src", server.endpoint);
    let dlq = format!("{}/{ACCOUNT}/dlq", server.endpoint);
    assert_eq!(depth(&c, &src).await, (0, 0, 0));
    assert_eq!(depth(&c, &dlq).await, (5, 0, 0));
    let mut got = bodies(&receive(&c, &dlq, 10, 30).await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    got.sort();
    assert_eq!(got, ["m0", "m1", "m2", "m3", "m4"]);
}

#[tokio::test]
async fn list_dead_letter_source_queues_pages() {
    let n = start();
    let c = &n.client;
    let dlq = create(c, "dlq", &[]).await;
    create(c, "other-dlq", &[]).await;
    let mut sources = Vec::new();
    for name in ["c-src", "a-src", "b-src"] {
        sources.push(create(c, name, &[("RedrivePolicy", &redrive("dlq", 3))]).await);
    }
    create(
        c,
        "elsewhere",
        &[("RedrivePolicy", &redrive("other-dlq", 3))],
    )
    .await;
    create(c, "no-policy", &[]).await;
    sources.sort();

    let all = ok(c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await);
    assert_eq!(all.queue_urls(), sources.as_slice());
    assert_eq!(all.next_token(), None);

    let first = ok(c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .max_results(2)
        .send()
        .await);
    assert_eq!(first.queue_urls(), &sources[..2]);
    let token = first.next_token().unwrap().to_owned();
    let second = ok(c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .max_results(2)
        .next_token(token)
        .send()
        .await);
    assert_eq!(second.queue_urls(), &sources[2..]);
    assert_eq!(second.next_token(), None);

    let none = ok(c
        .list_dead_letter_source_queues()
        .queue_url(&sources[0])
        .send()
        .await);
    assert!(none.queue_urls().is_empty());
    expect_error(
        c.list_dead_letter_source_queues().queue_url(&dlq).max_results(0).send().await,
        "InvalidParameterValue",
        "Value 0 for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.",
    );
    expect_error(
        c.list_dead_letter_source_queues()
            .queue_url(format!("{}/{ACCOUNT}/missing", n.server.endpoint))
            .send()
            .await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
}

/// Sends `n` messages to `src` and lets each be received once with no
/// visibility timeout, so the next receive dead-letters them all.
async fn dead_letter(c: &Client, src: &str, prefix: &str, n: usize) {
    for i in 0..n {
        ok(c.send_message()
            .queue_url(src)
            .message_body(format!("{prefix}{i}"))
            .send()
            .await);
    }
    let mut seen = 0;
    while seen < n {
        seen += receive(c, src, 10, 0).await.len();
    }
    assert!(receive(c, src, 10, 30).await.is_empty());
}

async fn task_status(c: &Client, dlq: &str) -> aws_sdk_sqs::types::ListMessageMoveTasksResultEntry {
    ok(c.list_message_move_tasks()
        .source_arn(arn(dlq))
        .send()
        .await)
    .results()
    .first()
    .cloned()
    .expect("a task")
}

async fn wait_for_status(
    c: &Client,
    dlq: &str,
    status: &str,
) -> aws_sdk_sqs::types::ListMessageMoveTasksResultEntry {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let t = task_status(c, dlq).await;
        if t.status() == Some(status) || Instant::now() > deadline {
            assert_eq!(t.status(), Some(status), "{t:?}");
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sorted_bodies(c: &Client, url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    loop {
        let got = receive(c, url, 10, 60).await;
        if got.is_empty() {
            out.sort();
            return out;
        }
        out.extend(got.iter().map(|m| m.body().unwrap().to_owned()));
    }
}

#[tokio::test]
async fn move_task_redrives_to_the_original_sources() {
    let n = start();
    let c = &n.client;
    let dlq = create(c, "dlq", &[]).await;
    let a = create(c, "a", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    let b = create(c, "b", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    dead_letter(c, &a, "a", 3).await;
    dead_letter(c, &b, "b", 2).await;
    assert_eq!(depth(c, &dlq).await, (5, 0, 0));

    let handle = ok(c
        .start_message_move_task()
        .source_arn(arn("dlq"))
        .send()
        .await)
    .task_handle
    .unwrap();
    assert!(!handle.is_empty());
    let done = wait_for_status(c, "dlq", "COMPLETED").await;
    assert_eq!(done.approximate_number_of_messages_moved(), 5);
    assert_eq!(done.approximate_number_of_messages_to_move(), Some(5));
    assert_eq!(done.source_arn(), Some(arn("dlq").as_str()));
    assert_eq!(done.destination_arn(), None);
    assert_eq!(done.task_handle(), None, "only running tasks show a handle");
    assert!(done.started_timestamp() > 1_600_000_000_000);
    assert_eq!(depth(c, &dlq).await, (0, 0, 0));
    assert_eq!(sorted_bodies(c, &a).await, ["a0", "a1", "a2"]);
    assert_eq!(sorted_bodies(c, &b).await, ["b0", "b1"]);
    // Cancelling a finished task is refused; an unknown handle is invalid.
    expect_error(
        c.cancel_message_move_task()
            .task_handle(&handle)
            .send()
            .await,
        "InvalidParameterValue",
        "Only a task in the RUNNING state can be cancelled. This task is COMPLETED.",
    );
    expect_error(
        c.cancel_message_move_task()
            .task_handle("garbage")
            .send()
            .await,
        "InvalidParameterValue",
        "Value for parameter TaskHandle is invalid.",
    );
}

#[tokio::test]
async fn move_task_to_a_destination_at_a_rate_and_cancelled() {
    let n = start();
    let c = &n.client;
    let dlq = create(c, "dlq", &[]).await;
    let src = create(c, "src", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    let dest = create(c, "dest", &[]).await;
    dead_letter(c, &src, "m", 8).await;

    let started = Instant::now();
    let handle = ok(c
        .start_message_move_task()
        .source_arn(arn("dlq"))
        .destination_arn(arn("dest"))
        .max_number_of_messages_per_second(2)
        .send()
        .await)
    .task_handle
    .unwrap();
    let running = task_status(c, "dlq").await;
    assert_eq!(running.status(), Some("RUNNING"));
    assert_eq!(running.task_handle(), Some(handle.as_str()));
    assert_eq!(running.max_number_of_messages_per_second(), Some(2));
    assert_eq!(running.destination_arn(), Some(arn("dest").as_str()));
    // One task per source at a time.
    expect_error(
        c.start_message_move_task().source_arn(arn("dlq")).send().await,
        "InvalidParameterValue",
        "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let cancelled = ok(c
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await);
    let moved = cancelled.approximate_number_of_messages_moved();
    // At 2 a second, about 1.3 s moves 2 to 4, never all 8.
    assert!(
        (2..=4).contains(&moved),
        "moved {moved} in {:?}",
        started.elapsed()
    );
    let t = wait_for_status(c, "dlq", "CANCELLED").await;
    let moved = t.approximate_number_of_messages_moved();
    let (left, _, _) = depth(c, &dlq).await;
    assert_eq!(left, 8 - moved as u64);
    assert_eq!(sorted_bodies(c, &dest).await.len() as i64, moved);
    assert_eq!(depth(c, &src).await, (0, 0, 0));
}

#[tokio::test]
async fn move_task_bad_input() {
    let n = start();
    let c = &n.client;
    create(c, "dlq", &[]).await;
    create(c, "plain", &[]).await;
    create_fifo(c, "f.fifo", &[]).await;
    create(c, "src", &[("RedrivePolicy", &redrive("dlq", 1))]).await;

    let missing = "ResourceNotFoundException";
    expect_error_status(
        c.start_message_move_task()
            .source_arn(arn("missing"))
            .send()
            .await,
        missing,
        "The resource that you specified for the SourceArn parameter doesn't exist.",
        404,
    );
    expect_error_status(
        c.start_message_move_task()
            .source_arn(arn("dlq"))
            .destination_arn(arn("missing"))
            .send()
            .await,
        missing,
        "The resource that you specified for the DestinationArn parameter doesn't exist.",
        404,
    );
    expect_error(
        c.start_message_move_task()
            .source_arn(arn("plain"))
            .send()
            .await,
        "InvalidParameterValue",
        "Source queue must be configured as a Dead Letter Queue.",
    );
    expect_error(
        c.start_message_move_task()
            .source_arn(arn("dlq"))
            .destination_arn(arn("f.fifo"))
            .send()
            .await,
        "InvalidParameterValue",
        "The source queue and the destination queue must be of the same queue type.",
    );
    expect_error(
        c.start_message_move_task().source_arn("dlq").send().await,
        "InvalidParameterValue",
        "You must use this format to specify the SourceArn: arn:<partition>:<service>:<region>:<account-id>:<resource-id>",
    );
    for rate in [0, 501] {
        expect_error(
            c.start_message_move_task()
                .source_arn(arn("dlq"))
                .max_number_of_messages_per_second(rate)
                .send()
                .await,
            "InvalidParameterValue",
            &format!("Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500."),
        );
    }
    expect_error(
        c.list_message_move_tasks().source_arn(arn("dlq")).max_results(11).send().await,
        "InvalidParameterValue",
        "Value 11 for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10.",
    );
    expect_error_status(
        c.list_message_move_tasks()
            .source_arn(arn("missing"))
            .send()
            .await,
        missing,
        "The resource that you specified for the SourceArn parameter doesn't exist.",
        404,
    );
    assert!(ok(c
        .list_message_move_tasks()
        .source_arn(arn("dlq"))
        .send()
        .await)
    .results()
    .is_empty());
}

#[tokio::test]
async fn a_running_move_task_resumes_after_sigkill() {
    let (_dir, data) = common::temp_data_dir();
    let data_arg = common::arg(&data).to_owned();
    let mut server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let dlq = create(&c, "dlq", &[]).await;
    let src = create(&c, "src", &[("RedrivePolicy", &redrive("dlq", 1))]).await;
    dead_letter(&c, &src, "m", 6).await;
    assert_eq!(depth(&c, &dlq).await, (6, 0, 0));
    ok(c.start_message_move_task()
        .source_arn(arn("dlq"))
        .max_number_of_messages_per_second(3)
        .send()
        .await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.kill();

    let server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let src = format!("{}/{ACCOUNT}/src", server.endpoint);
    let dlq = format!("{}/{ACCOUNT}/dlq", server.endpoint);
    // The first request restarts the task; it finishes the rest.
    let t = wait_for_status(&c, "dlq", "COMPLETED").await;
    assert_eq!(t.approximate_number_of_messages_moved(), 6);
    assert_eq!(depth(&c, &dlq).await, (0, 0, 0));
    assert_eq!(
        sorted_bodies(&c, &src).await,
        ["m0", "m1", "m2", "m3", "m4", "m5"]
    );
}

#[tokio::test]
async fn move_task_redrives_a_fifo_dead_letter_queue_in_group_order() {
    let n = start();
    let c = &n.client;
    let dlq = create_fifo(c, "dlq.fifo", &[]).await;
    let src = create_fifo(
        c,
        "src.fifo",
        &[
            ("ContentBasedDeduplication", "true"),
            ("RedrivePolicy", &redrive("dlq.fifo", 1)),
        ],
    )
    .await;
    for (body, group) in [("a1", "A"), ("b1", "B"), ("a2", "A")] {
        ok(c.send_message()
            .queue_url(&src)
            .message_body(body)
            .message_group_id(group)
            .send()
            .await);
    }
    // Each is received once with no visibility timeout, then moved.
    let mut seen = 0;
    while seen < 3 {
        seen += receive(c, &src, 10, 0).await.len();
    }
    assert!(receive(c, &src, 10, 30).await.is_empty());
    assert_eq!(depth(c, &dlq).await, (3, 0, 0));
    ok(c.start_message_move_task()
        .source_arn(arn("dlq.fifo"))
        .send()
        .await);
    wait_for_status(c, "dlq.fifo", "COMPLETED").await;
    let back = receive(c, &src, 10, 30).await;
    let mut a: Vec<&str> = Vec::new();
    for m in &back {
        assert!(system_attr(m, Sys::SequenceNumber).is_some());
        if system_attr(m, Sys::MessageGroupId).as_deref() == Some("A") {
            a.push(m.body().unwrap());
        }
    }
    assert_eq!(a, ["a1", "a2"]);
    assert_eq!(back.len(), 3);
    assert_eq!(depth(c, &dlq).await, (0, 0, 0));
}
