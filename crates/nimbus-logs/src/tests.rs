//! Service-level tests on an in-memory store with a hand-moved clock:
//! `append` (Lambda's path), retention sweeps, and that deletes leave no
//! event key behind in either index.

use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use nimbus_store::{ReadView, Store};
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::model::DAY_MS;
use crate::{keys, Logs};

const T0: i64 = 1_700_000_000_000;
const ACCOUNT: &str = nimbus_wire::identity::DEFAULT_ACCOUNT_ID;

fn service() -> (Logs, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let clock = Arc::clone(&now);
    let logs = Logs::with_clock(
        Store::in_memory().unwrap(),
        Arc::new(move || clock.load(Ordering::SeqCst)),
    );
    (logs, now)
}

fn ctx() -> RequestContext {
    RequestContext::local("us-east-1")
}

async fn call(logs: &Logs, op: &str, body: Value) -> Value {
    let out = logs
        .handle(&ctx(), op, body.to_string().as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{op}: {} {}", e.code, e.message));
    serde_json::from_slice(&out).unwrap()
}

fn event_keys(logs: &Logs, tag: &[u8]) -> usize {
    let snap = logs.store().snapshot().unwrap();
    let end = keys::prefix_end(tag);
    let mut n = 0;
    snap.scan(
        Bound::Included(tag),
        Bound::Excluded(&end),
        false,
        &mut |_, _| {
            n += 1;
            true
        },
    )
    .unwrap();
    n
}

#[tokio::test]
async fn append_creates_the_group_and_stream_and_sorts() {
    let (logs, _) = service();
    let account = ctx().account_id;
    logs.append(
        &account,
        "us-east-1",
        "/aws/lambda/f",
        "2026/11/23/[$LATEST]abc",
        vec![
            (T0 + 2, "END RequestId: r1".into()),
            (T0, "START RequestId: r1 Version: $LATEST".into()),
            (T0 + 1, "hello".into()),
        ],
    )
    .await
    .unwrap();
    logs.append(
        &account,
        "us-east-1",
        "/aws/lambda/f",
        "2026/11/23/[$LATEST]abc",
        vec![(T0 + 3, "REPORT RequestId: r1".into())],
    )
    .await
    .unwrap();
    let out = call(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/f"}),
    )
    .await;
    let msgs: Vec<&str> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            "START RequestId: r1 Version: $LATEST",
            "hello",
            "END RequestId: r1",
            "REPORT RequestId: r1"
        ]
    );
    let streams = call(
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "/aws/lambda/f"}),
    )
    .await;
    assert_eq!(streams["logStreams"][0]["firstEventTimestamp"], json!(T0));
    assert_eq!(
        streams["logStreams"][0]["lastEventTimestamp"],
        json!(T0 + 3)
    );
    // A detached append lands without the caller waiting on it.
    logs.append_detached(
        &account,
        "us-east-1",
        "/aws/lambda/f",
        "2026/11/23/[$LATEST]abc",
        vec![(T0 + 4, "detached".into())],
    );
    let mut landed = false;
    for _ in 0..200 {
        let out = call(
            &logs,
            "FilterLogEvents",
            json!({"logGroupName": "/aws/lambda/f", "filterPattern": "detached"}),
        )
        .await;
        if out["events"].as_array().unwrap().len() == 1 {
            landed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(landed);
    // An empty append writes nothing, not even the group.
    logs.append(&account, "us-east-1", "/aws/lambda/g", "s", Vec::new())
        .await
        .unwrap();
    let groups = call(&logs, "DescribeLogGroups", json!({})).await;
    assert_eq!(groups["logGroups"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn retention_sweep_deletes_expired_events_from_both_indexes() {
    let (logs, now) = service();
    let account = ctx().account_id;
    let events = (0..5).map(|i| (T0 + i, format!("e{i}"))).collect();
    logs.append(&account, "us-east-1", "g", "s", events)
        .await
        .unwrap();
    call(
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    )
    .await;
    assert_eq!(event_keys(&logs, keys::BY_TIME), 5);
    // A day and 3 ms later, the first three are past retention.
    now.store(T0 + DAY_MS + 3, Ordering::SeqCst);
    assert_eq!(logs.enforce_retention().await.unwrap(), 3);
    assert_eq!(event_keys(&logs, keys::BY_TIME), 2);
    assert_eq!(event_keys(&logs, keys::BY_STREAM), 2);
    let got = call(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
    )
    .await;
    assert_eq!(got["events"].as_array().unwrap().len(), 2);
    let groups = call(&logs, "DescribeLogGroups", json!({})).await;
    assert_eq!(groups["logGroups"][0]["storedBytes"], json!(4));
}

#[tokio::test]
async fn deleting_groups_and_streams_leaves_no_event_keys() {
    let (logs, _) = service();
    let account = ctx().account_id;
    for s in ["a", "b"] {
        logs.append(&account, "us-east-1", "g", s, vec![(T0, format!("in {s}"))])
            .await
            .unwrap();
    }
    call(
        &logs,
        "DeleteLogStream",
        json!({"logGroupName": "g", "logStreamName": "a"}),
    )
    .await;
    assert_eq!(event_keys(&logs, keys::BY_TIME), 1);
    assert_eq!(event_keys(&logs, keys::BY_STREAM), 1);
    call(&logs, "DeleteLogGroup", json!({"logGroupName": "g"})).await;
    for tag in [keys::BY_TIME, keys::BY_STREAM, keys::STREAM, keys::GROUP] {
        assert_eq!(event_keys(&logs, tag), 0);
    }
}

#[tokio::test]
async fn a_rejected_batch_writes_nothing() {
    let (logs, _) = service();
    call(&logs, "CreateLogGroup", json!({"logGroupName": "g"})).await;
    call(
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    )
    .await;
    let err = logs
        .handle(
            &ctx(),
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
                {"timestamp": T0 - DAY_MS, "message": "a"},
                {"timestamp": T0 + 3_600_000, "message": "b"}
            ]})
            .to_string()
            .as_bytes(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    assert_eq!(event_keys(&logs, keys::BY_TIME), 0);
}

/// Not a test: measures Lambda's path (`append` of one invocation's five
/// lines) on a durable store, one caller at a time and 64 at once.
/// `cargo test -p nimbus-logs --release -- --ignored --nocapture append_throughput`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn append_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &nimbus_store::StoreOptions::default()).unwrap();
    let logs = Logs::open(store);
    let lines = |i: usize| {
        let t = T0 + i as i64;
        vec![
            (t, format!("START RequestId: {i:08} Version: $LATEST")),
            (t, "handler output line one".to_owned()),
            (t, "handler output line two".to_owned()),
            (t, format!("END RequestId: {i:08}")),
            (t, format!("REPORT RequestId: {i:08}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB")),
        ]
    };
    let n = 500;
    let started = std::time::Instant::now();
    for i in 0..n {
        logs.append(ACCOUNT, "us-east-1", "/aws/lambda/f", "s", lines(i))
            .await
            .unwrap();
    }
    let serial = started.elapsed();
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|w| {
            let logs = logs.clone();
            tokio::spawn(async move {
                for i in 0..(n * 4 / 64) {
                    let stream = format!("s{w}");
                    logs.append(ACCOUNT, "us-east-1", "/aws/lambda/f", &stream, lines(i))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent = started.elapsed();
    let total = (n * 4 / 64) * 64;
    // A FilterLogEvents that matches nothing reads the whole group.
    let events = (n + total) * 5;
    let started = std::time::Instant::now();
    let out = call(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/f", "filterPattern": "nowhere"}),
    )
    .await;
    assert_eq!(out["events"].as_array().unwrap().len(), 0);
    let scan = started.elapsed();
    println!(
        "FilterLogEvents scanning {events} events: {:.1} ms ({:.1} M events/s)",
        scan.as_secs_f64() * 1000.0,
        events as f64 / scan.as_secs_f64() / 1e6
    );
    println!(
        "append (5 lines, durable): serial {:.0}/s ({:.2} ms each); 64 concurrent {:.0}/s",
        n as f64 / serial.as_secs_f64(),
        serial.as_secs_f64() * 1000.0 / n as f64,
        total as f64 / concurrent.as_secs_f64()
    );
}
