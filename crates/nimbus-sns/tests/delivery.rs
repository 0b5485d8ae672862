//! The delivery worker against fake SQS endpoints whose failures the tests
//! script: FIFO groups held in order while their head retries, standard
//! deliveries rescheduled on the clock, client-side failures dead-lettered,
//! and the outbox surviving a store close and reopen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nimbus_clock::Clock;
use nimbus_sns::{DeliveryError, Endpoints, PublishInput, QueueMessage, Sns};
use nimbus_store::{Store, StoreOptions};
use nimbus_wire::RequestContext;

/// What the fake SQS does: fails a queue's next deliveries as scripted
/// (a number of server-side failures, or client-side forever), and records
/// what it accepted.
#[derive(Default)]
struct FakeSqs {
    server_failures: Mutex<HashMap<String, u32>>,
    gone: Mutex<Vec<String>>,
    attempts: Mutex<HashMap<String, u32>>,
    accepted: Mutex<Vec<QueueMessage>>,
}

impl FakeSqs {
    fn endpoints(self: &Arc<Self>) -> Endpoints {
        let fake = Arc::clone(self);
        Endpoints {
            sqs: Arc::new(move |m: QueueMessage| {
                let fake = Arc::clone(&fake);
                Box::pin(async move {
                    *fake
                        .attempts
                        .lock()
                        .unwrap()
                        .entry(m.body.clone())
                        .or_default() += 1;
                    if fake.gone.lock().unwrap().contains(&m.queue_arn) {
                        return Err(DeliveryError::Client("QueueDoesNotExist".into()));
                    }
                    let mut failures = fake.server_failures.lock().unwrap();
                    if let Some(left) = failures.get_mut(&m.body) {
                        if *left > 0 {
                            *left -= 1;
                            return Err(DeliveryError::Server("busy".into()));
                        }
                    }
                    drop(failures);
                    fake.accepted.lock().unwrap().push(m);
                    Ok(())
                })
            }),
            lambda: Arc::new(|_, _| {
                Box::pin(async { Err(DeliveryError::Client("no Lambda here".into())) })
            }),
        }
    }

    fn bodies(&self, queue: &str) -> Vec<String> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.queue_arn == queue)
            .map(|m| m.body.clone())
            .collect()
    }
}

fn ctx() -> RequestContext {
    RequestContext::local("us-east-1")
}

async fn call(sns: &Sns, params: &[(&str, &str)]) -> String {
    let params = nimbus_wire::query::params(params);
    sns.handle_query(&ctx(), &params)
        .await
        .unwrap_or_else(|e| panic!("{params:?}: {e}"))
}

fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:000000000000:{name}")
}

async fn topic_with_queue(sns: &Sns, topic: &str, queue: &str, attrs: &[(&str, &str)]) -> String {
    let mut create = vec![("Action", "CreateTopic"), ("Name", topic)];
    if topic.ends_with(".fifo") {
        create.push(("Attributes.entry.1.key", "FifoTopic"));
        create.push(("Attributes.entry.1.value", "true"));
    }
    call(sns, &create).await;
    let arn = format!("arn:aws:sns:us-east-1:000000000000:{topic}");
    let endpoint = queue_arn(queue);
    let mut subscribe = vec![
        ("Action", "Subscribe"),
        ("TopicArn", arn.as_str()),
        ("Protocol", "sqs"),
        ("Endpoint", endpoint.as_str()),
        ("Attributes.entry.1.key", "RawMessageDelivery"),
        ("Attributes.entry.1.value", "true"),
    ];
    let keys: Vec<String> = (0..attrs.len())
        .map(|i| format!("Attributes.entry.{}.key", i + 2))
        .collect();
    let values: Vec<String> = (0..attrs.len())
        .map(|i| format!("Attributes.entry.{}.value", i + 2))
        .collect();
    for (i, (k, v)) in attrs.iter().enumerate() {
        subscribe.push((keys[i].as_str(), k));
        subscribe.push((values[i].as_str(), v));
    }
    call(sns, &subscribe).await;
    arn
}

fn publish(topic: &str, body: &str, group: Option<&str>) -> PublishInput {
    PublishInput {
        topic_arn: Some(topic.to_owned()),
        message: Some(body.to_owned()),
        message_group_id: group.map(str::to_owned),
        message_deduplication_id: group.map(|_| body.to_owned()),
        ..PublishInput::default()
    }
}

/// Waits (real time) until `check` holds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn started(store: Store, clock: &Clock, fake: &Arc<FakeSqs>) -> Sns {
    let sns = Sns::open(store, clock.clone()).unwrap();
    sns.attach_endpoints(fake.endpoints());
    sns.start("http://nimbus.test".into());
    sns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_group_waits_for_its_head_to_be_delivered() {
    let clock = Clock::new();
    let fake = Arc::new(FakeSqs::default());
    let sns = started(Store::in_memory().unwrap(), &clock, &fake);
    let topic = topic_with_queue(&sns, "orders.fifo", "orders.fifo", &[]).await;
    // The first message fails four times: three immediate retries, then a
    // one-second wait on the clock.
    fake.server_failures.lock().unwrap().insert("a1".into(), 4);
    for (body, group) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
        sns.publish(publish(&topic, body, Some(group)))
            .await
            .unwrap();
    }
    let q = queue_arn("orders.fifo");
    eventually("group b", || fake.bodies(&q) == ["b1"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // a2 must not overtake a1, which waits out its retry.
    assert_eq!(fake.bodies(&q), ["b1"]);
    assert_eq!(fake.attempts.lock().unwrap()["a1"], 4);
    clock.advance(Duration::from_secs(1));
    eventually("group a in order", || fake.bodies(&q) == ["b1", "a1", "a2"]).await;
    eventually("an empty outbox", || sns.pending_deliveries().unwrap() == 0).await;
    let accepted = fake.accepted.lock().unwrap();
    let a1 = accepted.iter().find(|m| m.body == "a1").unwrap();
    assert_eq!(a1.group_id.as_deref(), Some("a"));
    assert_eq!(a1.dedup_id.as_deref(), Some("a1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_retries_are_rescheduled_on_the_clock() {
    let clock = Clock::new();
    let fake = Arc::new(FakeSqs::default());
    let sns = started(Store::in_memory().unwrap(), &clock, &fake);
    let topic = topic_with_queue(&sns, "jobs", "jobs", &[]).await;
    // Five failures: three immediate retries, then two one second apart.
    fake.server_failures.lock().unwrap().insert("m".into(), 5);
    sns.publish(publish(&topic, "m", None)).await.unwrap();
    eventually("four attempts", || {
        fake.attempts.lock().unwrap().get("m") == Some(&4)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.attempts.lock().unwrap()["m"], 4);
    assert_eq!(sns.pending_deliveries().unwrap(), 1);
    clock.advance(Duration::from_secs(1));
    eventually("five attempts", || {
        fake.attempts.lock().unwrap().get("m") == Some(&5)
    })
    .await;
    clock.advance(Duration::from_secs(1));
    eventually("delivery", || fake.bodies(&queue_arn("jobs")) == ["m"]).await;
    assert_eq!(fake.attempts.lock().unwrap()["m"], 6);
    eventually("an empty outbox", || sns.pending_deliveries().unwrap() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_queue_sends_the_message_to_the_dead_letter_queue() {
    let clock = Clock::new();
    let fake = Arc::new(FakeSqs::default());
    let sns = started(Store::in_memory().unwrap(), &clock, &fake);
    let dlq = queue_arn("dlq");
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq}"}}"#);
    let topic = topic_with_queue(&sns, "alerts", "gone", &[("RedrivePolicy", &redrive)]).await;
    fake.gone.lock().unwrap().push(queue_arn("gone"));
    sns.publish(publish(&topic, "lost", None)).await.unwrap();
    eventually("the dead letter", || fake.bodies(&dlq) == ["lost"]).await;
    // A client-side failure is not retried.
    assert_eq!(fake.attempts.lock().unwrap()["lost"], 2);
    eventually("an empty outbox", || sns.pending_deliveries().unwrap() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let fake = Arc::new(FakeSqs::default());
    {
        let store = Store::open(dir.path(), &StoreOptions::default()).unwrap();
        // Not started: nothing is delivered in this life.
        let sns = Sns::open(store.clone(), clock.clone()).unwrap();
        sns.attach_endpoints(fake.endpoints());
        let topic = topic_with_queue(&sns, "t", "q", &[]).await;
        call(
            &sns,
            &[
                ("Action", "Subscribe"),
                ("TopicArn", topic.as_str()),
                ("Protocol", "sqs"),
                ("Endpoint", queue_arn("q2").as_str()),
            ],
        )
        .await;
        for i in 0..20 {
            sns.publish(publish(&topic, &format!("m{i}"), None))
                .await
                .unwrap();
        }
        assert_eq!(sns.pending_deliveries().unwrap(), 40);
        drop(sns);
        store.close();
    }
    assert!(fake.accepted.lock().unwrap().is_empty());
    let store = Store::open(dir.path(), &StoreOptions::default()).unwrap();
    let sns = started(store, &clock, &fake);
    eventually("every delivery", || {
        fake.accepted.lock().unwrap().len() == 40
    })
    .await;
    let mut raw = fake.bodies(&queue_arn("q"));
    raw.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(raw, want);
    // The second subscription is not raw: it got envelopes.
    assert!(fake
        .bodies(&queue_arn("q2"))
        .iter()
        .all(|b| b.starts_with("{\"Type\":\"Notification\"")));
    eventually("an empty outbox", || sns.pending_deliveries().unwrap() == 0).await;
}
