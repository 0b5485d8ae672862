//! Crash safety: every write nimbus acknowledged survives `kill -9`.
//!
//! A durable nimbus (no `--in-memory`) on a temporary data directory takes
//! PutItems with distinct keys and UpdateItem ADD increments from 16
//! concurrent SDK clients. The test records every acknowledgement, kills the
//! server with SIGKILL mid-stream, restarts it on the same directory, and
//! checks that each acknowledged item reads back exactly (consistent read),
//! that the counter lies between the acknowledged increments and the
//! acknowledged plus unanswered ones, that nothing else (and nothing torn)
//! was stored, and that the table still describes.

mod common;
mod sdk;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{KeyType, ScalarAttributeType, TableStatus};
use aws_sdk_dynamodb::Client;
use common::Server;
use sdk::*;

const WRITERS: usize = 16;
const TABLE: &str = "crash";
/// Kill after this long, or after this many acknowledged writes.
const RUN_FOR: Duration = Duration::from_millis(1500);
const ACK_TARGET: u64 = 4000;

/// What the writers saw before the server died.
#[derive(Default)]
struct Ledger {
    /// Items whose PutItem was acknowledged, with the exact item sent.
    acked: Mutex<HashMap<String, Item>>,
    acked_puts: AtomicU64,
    /// ADD increments answered with success.
    acked_increments: AtomicU64,
    /// ADD increments sent but never answered with success (in flight when
    /// the server died, or failed in transport): each may or may not count.
    unknown_increments: AtomicU64,
}

/// A value that differs per key and in size, so a torn or misplaced write
/// cannot pass for the right one.
fn value_for(writer: usize, seq: u64) -> Item {
    let pk = format!("w{writer:02}-{seq:06}");
    let pad = "abcdefghij".repeat(1 + (seq as usize * 7 + writer) % 40);
    item(&[
        ("pk", s(pk.clone())),
        ("writer", n(writer)),
        ("seq", n(seq)),
        ("body", s(format!("{pk}:{pad}"))),
        (
            "bin",
            b(pk.as_bytes().iter().rev().copied().collect::<Vec<u8>>()),
        ),
        ("tags", ss(&["crash", &pk])),
    ])
}

async fn writer(c: Client, id: usize, ledger: Arc<Ledger>, stop: Arc<AtomicBool>) {
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        if seq.is_multiple_of(4) {
            let result = c
                .update_item()
                .table_name(TABLE)
                .key("pk", s("counter"))
                .update_expression("ADD hits :one")
                .expression_attribute_values(":one", n(1))
                .send()
                .await;
            match result {
                Ok(_) => {
                    ledger.acked_increments.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => {
                    ledger.unknown_increments.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
        } else {
            let it = value_for(id, seq);
            let pk = it["pk"].as_s().unwrap().clone();
            match c
                .put_item()
                .table_name(TABLE)
                .set_item(Some(it.clone()))
                .send()
                .await
            {
                Ok(_) => {
                    ledger.acked.lock().unwrap().insert(pk, it);
                    ledger.acked_puts.fetch_add(1, Ordering::SeqCst);
                }
                // The server is gone (or going): this write's fate is unknown.
                Err(_) => return,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let started = Instant::now();
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);

    // ---- first life: write until killed.
    let mut server = Server::start(&["--data-dir", data_arg]);
    let c = client_with_timeout(&server.endpoint, Duration::from_secs(5));
    let created = hash_table(&c, TABLE).await;
    ok(c.put_item()
        .table_name(TABLE)
        .set_item(Some(item(&[("pk", s("counter")), ("hits", n(0))])))
        .send()
        .await);

    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..WRITERS {
        tasks.spawn(writer(c.clone(), id, ledger.clone(), stop.clone()));
    }
    let deadline = Instant::now() + RUN_FOR;
    while Instant::now() < deadline
        && ledger.acked_puts.load(Ordering::SeqCst) + ledger.acked_increments.load(Ordering::SeqCst)
            < ACK_TARGET
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL while the writers are still going.
    server.kill();
    stop.store(true, Ordering::SeqCst);
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let acked = std::mem::take(&mut *ledger.acked.lock().unwrap());
    let acked_increments = ledger.acked_increments.load(Ordering::SeqCst);
    let unknown_increments = ledger.unknown_increments.load(Ordering::SeqCst);
    eprintln!(
        "killed after {:?}: {} puts and {acked_increments} increments acknowledged, \
         {unknown_increments} increments unanswered",
        started.elapsed(),
        acked.len()
    );
    assert!(
        acked.len() >= 50,
        "too few writes were acknowledged ({}) for the test to mean anything",
        acked.len()
    );

    // ---- second life: everything acknowledged is there.
    let server = Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);

    let out = ok(c.describe_table().table_name(TABLE).send().await);
    let t = out.table().expect("table survives");
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert_eq!(t.table_id(), created.table_id());
    assert_eq!(t.table_arn(), Some(table_arn(TABLE).as_str()));
    assert_eq!(t.key_schema(), &[key_element("pk", KeyType::Hash)]);
    assert_eq!(
        t.attribute_definitions(),
        &[attr_def("pk", ScalarAttributeType::S)]
    );
    assert_eq!(ok(c.list_tables().send().await).table_names(), &[TABLE]);

    // Read every acknowledged item back, 16 at a time.
    let expected: Vec<(String, Item)> = acked.into_iter().collect();
    let missing = Arc::new(Mutex::new(Vec::new()));
    let mut readers = tokio::task::JoinSet::new();
    for chunk in expected.chunks(expected.len().div_ceil(WRITERS)) {
        let c = c.clone();
        let chunk = chunk.to_vec();
        let missing = missing.clone();
        readers.spawn(async move {
            for (pk, want) in chunk {
                let got = ok(c
                    .get_item()
                    .table_name(TABLE)
                    .key("pk", s(pk.clone()))
                    .consistent_read(true)
                    .send()
                    .await);
                match got.item {
                    Some(got) if normalized_item(&got) == normalized_item(&want) => {}
                    other => missing.lock().unwrap().push((pk, other)),
                }
            }
        });
    }
    while let Some(done) = readers.join_next().await {
        done.unwrap();
    }
    let missing = std::mem::take(&mut *missing.lock().unwrap());
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged items lost or wrong after kill -9; first: {:?}",
        missing.len(),
        expected.len(),
        missing.first()
    );

    // Nothing appears that was not sent, and what was in flight when the
    // server died is either absent or whole: every stored item is exactly the
    // value its key was written with.
    let mut start: Option<Item> = None;
    let mut stored = 0usize;
    loop {
        let page = ok(c
            .scan()
            .table_name(TABLE)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await);
        for it in page.items() {
            let pk = it["pk"].as_s().unwrap();
            if pk == "counter" {
                continue;
            }
            stored += 1;
            let (w, seq) = pk[1..].split_once('-').expect("a writer's key");
            let want = value_for(w.parse().unwrap(), seq.parse().unwrap());
            assert_eq!(normalized_item(it), normalized_item(&want), "item {pk}");
        }
        match page.last_evaluated_key {
            Some(lek) => start = Some(lek),
            None => break,
        }
    }
    assert!(
        stored >= expected.len() && stored <= expected.len() + WRITERS,
        "{stored} items stored, {} acknowledged, at most {WRITERS} in flight",
        expected.len()
    );

    // The counter holds every acknowledged increment, and no more than were sent.
    let got = ok(c
        .get_item()
        .table_name(TABLE)
        .key("pk", s("counter"))
        .consistent_read(true)
        .send()
        .await);
    let hits: u64 = got
        .item()
        .and_then(|it| it.get("hits"))
        .and_then(|v| v.as_n().ok())
        .expect("counter item")
        .parse()
        .unwrap();
    assert!(
        hits >= acked_increments && hits <= acked_increments + unknown_increments,
        "counter {hits} outside [{acked_increments}, {}]",
        acked_increments + unknown_increments
    );

    // The restarted server takes writes again.
    ok(c.update_item()
        .table_name(TABLE)
        .key("pk", s("counter"))
        .update_expression("ADD hits :one")
        .expression_attribute_values(":one", n(1))
        .send()
        .await);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "crash test took {:?}",
        started.elapsed()
    );
}
