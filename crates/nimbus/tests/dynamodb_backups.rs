//! DynamoDB backups and point-in-time recovery with the official AWS SDK for
//! Rust against a live nimbus: a backup round trip, a restore to a point in
//! time that undoes later writes, the errors by name and text, and
//! durability: the server is SIGKILLed right after CreateBackup,
//! RestoreTableFromBackup and RestoreTableToPointInTime answer, and after a
//! restart the backup is listed and each restored table is complete.

mod common;
mod sdk;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::primitives::DateTime;
use aws_sdk_dynamodb::types::{
    BackupStatus, PointInTimeRecoverySpecification, PointInTimeRecoveryStatus, PutRequest,
    TableStatus, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use common::Server;
use sdk::*;

/// Writes items `pk = k{from}..k{to}` with `v = tag`, 25 per batch.
async fn fill(c: &Client, table: &str, range: std::ops::Range<usize>, tag: &str) {
    let all: Vec<usize> = range.collect();
    for chunk in all.chunks(25) {
        let writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                let put = PutRequest::builder()
                    .set_item(Some(item(&[
                        ("pk", s(format!("k{i:05}"))),
                        ("v", s(format!("{tag}-{i}"))),
                        ("pad", s("x".repeat(200))),
                    ])))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        ok(c.batch_write_item()
            .request_items(table, writes)
            .send()
            .await);
    }
}

/// Every item of a table by key (consistent scan, all pages).
async fn contents(c: &Client, table: &str) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = ok(c
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await);
        for it in page.items() {
            out.insert(it["pk"].as_s().unwrap().clone(), normalized_item(it));
        }
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return out,
        }
    }
}

/// Waits until `table` is ACTIVE; returns how often it was seen CREATING.
async fn wait_active(c: &Client, table: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut creating = 0;
    loop {
        let t = ok(c.describe_table().table_name(table).send().await)
            .table
            .unwrap();
        match t.table_status() {
            Some(TableStatus::Active) => {
                assert!(t.restore_summary().is_none(), "RestoreSummary after ACTIVE");
                return creating;
            }
            Some(TableStatus::Creating) => {
                let summary = t
                    .restore_summary()
                    .expect("a restoring table has a RestoreSummary");
                assert!(summary.restore_in_progress());
                creating += 1;
            }
            other => panic!("{table} is {other:?}"),
        }
        assert!(Instant::now() < deadline, "{table} never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Turns PITR on for `table` (with a recovery period, if given).
async fn enable_pitr(
    c: &Client,
    table: &str,
    days: Option<i32>,
) -> aws_sdk_dynamodb::types::PointInTimeRecoveryDescription {
    let spec = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(true)
        .set_recovery_period_in_days(days)
        .build()
        .unwrap();
    ok(c.update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(spec)
        .send()
        .await)
    .continuous_backups_description
    .unwrap()
    .point_in_time_recovery_description
    .unwrap()
}

async fn server_now_ms(endpoint: &str) -> i64 {
    common::clock_call(endpoint, None).await.1["now"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn backup_and_restore_round_trip() {
    let n = start().await;
    let c = &n.client;
    let source = hash_table(c, "orders").await;
    fill(c, "orders", 0..120, "v1").await;
    let expected = contents(c, "orders").await;

    let details = ok(c
        .create_backup()
        .table_name("orders")
        .backup_name("nightly")
        .send()
        .await)
    .backup_details
    .unwrap();
    let arn = details.backup_arn().to_string();
    assert!(
        arn.starts_with(&format!("{}/backup/", table_arn("orders"))),
        "{arn}"
    );
    assert_eq!(details.backup_status(), &BackupStatus::Available);
    assert_eq!(details.backup_name(), "nightly");

    let desc = ok(c.describe_backup().backup_arn(&arn).send().await)
        .backup_description
        .unwrap();
    let source_details = desc.source_table_details().unwrap();
    assert_eq!(source_details.item_count(), Some(120));
    assert_eq!(source_details.table_id(), source.table_id().unwrap());
    let listed = ok(c.list_backups().table_name("orders").send().await);
    assert_eq!(
        listed.backup_summaries()[0].backup_arn(),
        Some(arn.as_str())
    );

    // Later writes are not in the backup; the source is never touched.
    fill(c, "orders", 100..140, "v2").await;
    let source_after = contents(c, "orders").await;
    let restore = ok(c
        .restore_table_from_backup()
        .target_table_name("orders-copy")
        .backup_arn(&arn)
        .send()
        .await)
    .table_description
    .unwrap();
    assert_eq!(restore.table_status(), Some(&TableStatus::Creating));
    assert_eq!(
        restore.restore_summary().unwrap().source_backup_arn(),
        Some(arn.as_str())
    );
    wait_active(c, "orders-copy").await;
    assert_eq!(contents(c, "orders-copy").await, expected);
    assert_eq!(contents(c, "orders").await, source_after);

    // Backups outlive their table.
    ok(c.delete_table().table_name("orders").send().await);
    let again = ok(c.describe_backup().backup_arn(&arn).send().await);
    assert_eq!(
        again
            .backup_description
            .unwrap()
            .backup_details
            .unwrap()
            .backup_status(),
        &BackupStatus::Available
    );
    ok(c.delete_backup().backup_arn(&arn).send().await);
    expect_error(
        c.describe_backup().backup_arn(&arn).send().await,
        "BackupNotFoundException",
        &format!("Backup not found: {arn}"),
    );
}

#[tokio::test]
async fn point_in_time_restore_undoes_later_writes() {
    let n = start().await;
    let c = &n.client;
    hash_table(c, "ledger").await;
    fill(c, "ledger", 0..200, "v1").await;
    let pitr = enable_pitr(c, "ledger", Some(3)).await;
    assert_eq!(
        pitr.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Enabled)
    );
    assert_eq!(pitr.recovery_period_in_days(), Some(3));
    common::advance_clock(&n.server.endpoint, 5).await;
    fill(c, "ledger", 150..250, "v2").await;
    common::advance_clock(&n.server.endpoint, 5).await;
    let at = server_now_ms(&n.server.endpoint).await;
    let expected = contents(c, "ledger").await;
    common::advance_clock(&n.server.endpoint, 5).await;
    fill(c, "ledger", 0..50, "v3").await;
    for i in 50..90 {
        ok(c.delete_item()
            .table_name("ledger")
            .key("pk", s(format!("k{i:05}")))
            .send()
            .await);
    }
    ok(c.update_item()
        .table_name("ledger")
        .key("pk", s("k00100"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", s("changed"))
        .send()
        .await);
    let current = contents(c, "ledger").await;

    ok(c.restore_table_to_point_in_time()
        .source_table_name("ledger")
        .target_table_name("ledger-then")
        .restore_date_time(DateTime::from_millis(at))
        .send()
        .await);
    wait_active(c, "ledger-then").await;
    assert_eq!(contents(c, "ledger-then").await, expected);
    assert_eq!(contents(c, "ledger").await, current);

    // Errors by name and text.
    hash_table(c, "plain").await;
    expect_error(
        c.restore_table_to_point_in_time()
            .source_table_name("plain")
            .target_table_name("plain-then")
            .use_latest_restorable_time(true)
            .send()
            .await,
        "PointInTimeRecoveryUnavailableException",
        "Point in time recovery is not enabled for table 'plain'",
    );
    expect_error(
        c.restore_table_to_point_in_time()
            .source_table_name("ledger")
            .target_table_name("plain")
            .use_latest_restorable_time(true)
            .send()
            .await,
        "TableAlreadyExistsException",
        "Table already exists: plain",
    );
    expect_error(
        c.create_backup()
            .table_name("missing")
            .backup_name("nightly")
            .send()
            .await,
        "TableNotFoundException",
        "Table not found: missing",
    );
    expect_error(
        c.describe_continuous_backups()
            .table_name("missing")
            .send()
            .await,
        "TableNotFoundException",
        "Table not found: missing",
    );
    let err = c
        .restore_table_to_point_in_time()
        .source_table_name("ledger")
        .target_table_name("too-late")
        .restore_date_time(DateTime::from_millis(at + 3_600_000))
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_invalid_restore_time_exception(), "{err:?}");
    assert!(
        err.meta()
            .message()
            .unwrap()
            .contains("must be within EarliestRestorableDateTime"),
        "{err:?}"
    );
}

/// SIGKILL right after each backup or restore call answers: what was
/// acknowledged is there after a restart, and each restore completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_restores_survive_sigkill() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);
    const ITEMS: usize = 3000;

    // A backup acknowledged, then the kill.
    let mut server = Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);
    hash_table(&c, "big").await;
    fill(&c, "big", 0..ITEMS, "v1").await;
    let expected = contents(&c, "big").await;
    let arn = ok(c
        .create_backup()
        .table_name("big")
        .backup_name("before-kill")
        .send()
        .await)
    .backup_details
    .unwrap()
    .backup_arn
    .clone();
    server.kill();

    // It is listed after the restart; a restore from it, then the kill.
    let mut server = Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);
    let listed = ok(c.list_backups().table_name("big").send().await);
    assert_eq!(listed.backup_summaries().len(), 1);
    assert_eq!(
        listed.backup_summaries()[0].backup_arn(),
        Some(arn.as_str())
    );
    assert_eq!(
        listed.backup_summaries()[0].backup_status(),
        Some(&BackupStatus::Available)
    );
    ok(c.restore_table_from_backup()
        .target_table_name("big-copy")
        .backup_arn(&arn)
        .send()
        .await);
    server.kill();

    // The restore finishes after the restart, complete.
    let mut server = Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);
    let creating = wait_active(&c, "big-copy").await;
    eprintln!("after the first kill the restore was seen CREATING {creating} times");
    let copy = ok(c.describe_table().table_name("big-copy").send().await)
        .table
        .unwrap();
    assert_eq!(copy.item_count(), Some(ITEMS as i64));
    assert_eq!(contents(&c, "big-copy").await, expected);

    // A point-in-time restore, then the kill.
    enable_pitr(&c, "big", None).await;
    common::advance_clock(&server.endpoint, 5).await;
    fill(&c, "big", 0..600, "v2").await;
    common::advance_clock(&server.endpoint, 5).await;
    let at = server_now_ms(&server.endpoint).await;
    let then = contents(&c, "big").await;
    common::advance_clock(&server.endpoint, 5).await;
    fill(&c, "big", 300..1200, "v3").await;
    ok(c.restore_table_to_point_in_time()
        .source_table_name("big")
        .target_table_name("big-then")
        .restore_date_time(DateTime::from_millis(at))
        .send()
        .await);
    server.kill();

    let server = Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);
    let creating = wait_active(&c, "big-then").await;
    eprintln!("after the second kill the restore was seen CREATING {creating} times");
    assert_eq!(contents(&c, "big-then").await, then);
    // PITR is still on for the source after the restarts.
    let pitr = ok(c
        .describe_continuous_backups()
        .table_name("big")
        .send()
        .await)
    .continuous_backups_description
    .unwrap()
    .point_in_time_recovery_description
    .unwrap();
    assert_eq!(
        pitr.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Enabled)
    );
}
