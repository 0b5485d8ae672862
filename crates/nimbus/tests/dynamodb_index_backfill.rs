//! Global secondary indexes that UpdateTable adds to or removes from a
//! table with items, through the official AWS SDK for Rust against a live
//! durable `nimbus serve` whose backfill writes one item at a time
//! (`--dynamodb-backfill-batch 1`), so each backfill lasts long enough to
//! be watched: CREATING with Backfilling while the table is UPDATING,
//! reads of the index refused with AWS's text, writes racing the backfill,
//! a backfill resumed after `kill -9`, and deletion (DELETING, then gone),
//! also of an index still backfilling. Each result is checked against a
//! full scan of the table.

mod common;
mod sdk;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate,
    IndexStatus, KeyType, Projection, ProjectionType, PutRequest, ScalarAttributeType,
    TableDescription, TableStatus, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use common::Server;
use sdk::*;

const VE: &str = "ValidationException";
const BACKFILLING: &str = "Cannot read from backfilling global secondary index: byGk";

/// A durable server whose backfills write one item at a time.
fn slow_backfill_server(data_dir: &str) -> Server {
    Server::start(&["--data-dir", data_dir, "--dynamodb-backfill-batch", "1"])
}

/// Item `i`: every fifth has no `gk`, so the index is sparse.
fn numbered(i: usize) -> Item {
    let mut it = item(&[("pk", s(format!("p{i:05}"))), ("n", n(i))]);
    if !i.is_multiple_of(5) {
        it.insert("gk".into(), s(format!("g{}", i % 7)));
    }
    it
}

async fn load(c: &Client, table: &str, count: usize) {
    let items: Vec<usize> = (0..count).collect();
    for chunk in items.chunks(25) {
        let writes = chunk
            .iter()
            .map(|i| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(numbered(*i)))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        let out = ok(c
            .batch_write_item()
            .request_items(table, writes)
            .send()
            .await);
        assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    }
}

fn create_by_gk() -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .create(
            CreateGlobalSecondaryIndexAction::builder()
                .index_name("byGk")
                .key_schema(key_element("gk", KeyType::Hash))
                .key_schema(key_element("n", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .build()
}

fn delete_by_gk() -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .delete(
            DeleteGlobalSecondaryIndexAction::builder()
                .index_name("byGk")
                .build()
                .unwrap(),
        )
        .build()
}

async fn add_index(c: &Client, table: &str) -> TableDescription {
    ok(c.update_table()
        .table_name(table)
        .attribute_definitions(attr_def("gk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("n", ScalarAttributeType::N))
        .global_secondary_index_updates(create_by_gk())
        .send()
        .await)
    .table_description
    .unwrap()
}

async fn drop_index(c: &Client, table: &str) -> TableDescription {
    ok(c.update_table()
        .table_name(table)
        .global_secondary_index_updates(delete_by_gk())
        .send()
        .await)
    .table_description
    .unwrap()
}

async fn describe(c: &Client, table: &str) -> TableDescription {
    ok(c.describe_table().table_name(table).send().await)
        .table
        .unwrap()
}

fn by_gk(
    desc: &TableDescription,
) -> Option<&aws_sdk_dynamodb::types::GlobalSecondaryIndexDescription> {
    desc.global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some("byGk"))
}

/// Every item of a table or index scan, by `pk`.
async fn scan_all(c: &Client, table: &str, index: Option<&str>) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = ok(c
            .scan()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .set_exclusive_start_key(start.take())
            .send()
            .await);
        for it in page.items() {
            let pk = it["pk"].as_s().unwrap().clone();
            assert!(
                out.insert(pk, it.clone()).is_none(),
                "an item twice in {index:?}"
            );
        }
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return out,
        }
    }
}

/// The index holds exactly the table's items that have its keys, as they
/// are now, and counts them.
async fn assert_index_matches_table(c: &Client, table: &str) {
    let desc = wait_active(c, table).await;
    let expected: BTreeMap<String, Item> = scan_all(c, table, None)
        .await
        .into_iter()
        .filter(|(_, it)| it.contains_key("gk") && it.contains_key("n"))
        .collect();
    let indexed = scan_all(c, table, Some("byGk")).await;
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !indexed.contains_key(*k))
        .collect();
    let stale: Vec<&String> = indexed
        .iter()
        .filter(|(k, v)| expected.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(missing.is_empty(), "not indexed: {missing:?}");
    assert!(stale.is_empty(), "stale or extra index entries: {stale:?}");
    let g = by_gk(&desc).expect("the index");
    assert_eq!(g.item_count(), Some(expected.len() as i64));
    assert_eq!(g.backfilling(), Some(false));
    // And a query reads one partition in index order.
    let q = ok(c
        .query()
        .table_name(table)
        .index_name("byGk")
        .key_condition_expression("gk = :g")
        .expression_attribute_values(":g", s("g3"))
        .send()
        .await);
    let ns: Vec<i64> = q
        .items()
        .iter()
        .map(|i| i["n"].as_n().unwrap().parse().unwrap())
        .collect();
    let mut sorted = ns.clone();
    sorted.sort();
    assert_eq!(ns, sorted);
    assert_eq!(
        ns.len(),
        expected.values().filter(|i| i["gk"] == s("g3")).count()
    );
}

/// Keeps changing items while it runs: moves them between index
/// partitions, takes their index key away, deletes them, adds new ones.
async fn churn(c: Client, table: &'static str, writer: usize, rounds: usize) -> usize {
    let mut done = 0;
    for r in 0..rounds {
        // Spread over the whole key range, ahead of and behind the cursor.
        let i = (r * 97 + writer * 389) % 1500;
        let key = s(format!("p{i:05}"));
        let succeeded = match r % 4 {
            0 => c
                .update_item()
                .table_name(table)
                .key("pk", key)
                .update_expression("SET gk = :g, n = :n")
                .expression_attribute_values(":g", s(format!("g{}", (r + writer) % 7)))
                .expression_attribute_values(":n", n(100_000 + r))
                .send()
                .await
                .is_ok(),
            1 => c
                .update_item()
                .table_name(table)
                .key("pk", key)
                .update_expression("REMOVE gk")
                .send()
                .await
                .is_ok(),
            2 => c
                .delete_item()
                .table_name(table)
                .key("pk", key)
                .send()
                .await
                .is_ok(),
            _ => c
                .put_item()
                .table_name(table)
                .set_item(Some(item(&[
                    ("pk", s(format!("new-{writer}-{r}"))),
                    ("gk", s("g3")),
                    ("n", n(r)),
                ])))
                .send()
                .await
                .is_ok(),
        };
        if !succeeded {
            // The server was killed under us.
            return done;
        }
        done += 1;
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backfill_under_concurrent_writes_matches_a_full_scan() {
    let (_dir, data_dir) = common::temp_data_dir();
    let server = slow_backfill_server(common::arg(&data_dir));
    let c = client(&server.endpoint);
    hash_table(&c, "fill").await;
    load(&c, "fill", 1500).await;

    let started = Instant::now();
    let desc = add_index(&c, "fill").await;
    assert_eq!(desc.table_status(), Some(&TableStatus::Updating));
    let g = by_gk(&desc).unwrap();
    assert_eq!(g.index_status(), Some(&IndexStatus::Creating));
    assert_eq!(g.backfilling(), Some(true));
    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(churn(c.clone(), "fill", w, 150)))
        .collect();

    // While it fills: CREATING, Backfilling, the table UPDATING, reads of
    // the index refused (Query and Scan alike).
    let desc = describe(&c, "fill").await;
    assert_eq!(desc.table_status(), Some(&TableStatus::Updating));
    let g = by_gk(&desc).unwrap();
    assert_eq!(g.index_status(), Some(&IndexStatus::Creating));
    assert_eq!(g.backfilling(), Some(true));
    expect_error(
        c.query()
            .table_name("fill")
            .index_name("byGk")
            .key_condition_expression("gk = :g")
            .expression_attribute_values(":g", s("g1"))
            .send()
            .await,
        VE,
        BACKFILLING,
    );
    expect_error(
        c.scan().table_name("fill").index_name("byGk").send().await,
        VE,
        BACKFILLING,
    );
    // Writes that break the new index's key types are refused meanwhile.
    expect_error(
        c.put_item()
            .table_name("fill")
            .item("pk", s("bad"))
            .item("gk", n(1))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Type mismatch for Index Key gk Expected: S Actual: N IndexName: byGk",
    );

    let mut writes = 0;
    for w in writers {
        writes += w.await.unwrap();
    }
    assert_eq!(writes, 600);
    let still_creating =
        by_gk(&describe(&c, "fill").await).unwrap().index_status() == Some(&IndexStatus::Creating);
    assert_index_matches_table(&c, "fill").await;
    eprintln!(
        "backfill of 1500 items one per write with 600 racing writes: {:?} (writes done while still creating: {still_creating})",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backfill_resumes_after_sigkill() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);
    let mut server = slow_backfill_server(data_arg);
    let c = client_with_timeout(&server.endpoint, Duration::from_secs(5));
    hash_table(&c, "crash").await;
    // Enough items that, one per backfill write, the fill is still running
    // well after the 300th entry on a fast, idle machine.
    load(&c, "crash", 8000).await;
    add_index(&c, "crash").await;
    let writer = tokio::spawn(churn(c.clone(), "crash", 1, 1_000_000));
    // Half way through, with writes racing it, stop the writes, note what
    // is filled, and kill the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = by_gk(&describe(&c, "crash").await).unwrap().clone();
        if g.item_count().unwrap() >= 300 {
            break;
        }
        assert!(Instant::now() < deadline, "the backfill made no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    writer.abort();
    let _ = writer.await;
    let g = by_gk(&describe(&c, "crash").await).unwrap().clone();
    assert_eq!(
        g.index_status(),
        Some(&IndexStatus::Creating),
        "the backfill ended before the kill"
    );
    let before = g.item_count().unwrap();
    server.kill();

    let server = slow_backfill_server(data_arg);
    let c = client(&server.endpoint);
    let desc = describe(&c, "crash").await;
    let g = by_gk(&desc).unwrap();
    // Resumed, not restarted: what was filled before the kill is kept.
    assert!(g.item_count().unwrap() >= before, "{g:?}");
    assert_index_matches_table(&c, "crash").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_index_runs_in_the_background() {
    let (_dir, data_dir) = common::temp_data_dir();
    let server = slow_backfill_server(common::arg(&data_dir));
    let c = client(&server.endpoint);
    hash_table(&c, "drop").await;
    load(&c, "drop", 800).await;
    add_index(&c, "drop").await;
    wait_active(&c, "drop").await;

    let out = drop_index(&c, "drop").await;
    assert_eq!(out.table_status(), Some(&TableStatus::Updating));
    assert_eq!(
        by_gk(&out).unwrap().index_status(),
        Some(&IndexStatus::Deleting)
    );
    let desc = describe(&c, "drop").await;
    assert_eq!(desc.table_status(), Some(&TableStatus::Updating));
    let g = by_gk(&desc).expect("listed while its entries go");
    assert_eq!(g.index_status(), Some(&IndexStatus::Deleting));
    expect_error(
        c.scan().table_name("drop").index_name("byGk").send().await,
        VE,
        "The table does not have the specified index: byGk",
    );
    expect_error(
        c.update_table()
            .table_name("drop")
            .global_secondary_index_updates(delete_by_gk())
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found: Index: byGk not found",
    );
    let desc = wait_active(&c, "drop").await;
    assert!(by_gk(&desc).is_none());

    // An index deleted while it is still backfilling stops and goes; one
    // created again under the same name starts from nothing.
    let desc = add_index(&c, "drop").await;
    assert_eq!(
        by_gk(&desc).unwrap().index_status(),
        Some(&IndexStatus::Creating)
    );
    let out = drop_index(&c, "drop").await;
    assert_eq!(
        by_gk(&out).unwrap().index_status(),
        Some(&IndexStatus::Deleting)
    );
    let desc = wait_active(&c, "drop").await;
    assert!(by_gk(&desc).is_none());
    add_index(&c, "drop").await;
    assert_index_matches_table(&c, "drop").await;
}
