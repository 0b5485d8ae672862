//! Backups and restores driven in process, where a test can stop a restore
//! between batches: what a half-restored table looks like, that a restore
//! resumed on a later snapshot (as after a crash) still lands exactly on
//! the state at its restore time, that PITR history is written by every
//! item write, and what the janitor trims.

use std::ops::Bound;
use std::time::Duration;

use nimbus_clock::Clock;
use nimbus_store::{ReadView, Store};
use nimbus_wire::{AwsError, RequestContext};
use serde_json::{json, Value};

use super::pitr::history_prefix;
use super::restore::{self, Phase, RestoreJob, RestoreSource};
use super::target::{target_definition, Overrides};
use crate::layout;
use crate::{DynamoConfig, DynamoDb};

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

fn open(store: Store, clock: Clock) -> DynamoDb {
    DynamoDb::open(store, DynamoConfig::new(REGION), clock).expect("service opens")
}

async fn call(db: &DynamoDb, op: &str, body: Value) -> Result<Value, AwsError> {
    let ctx = RequestContext::local(REGION);
    let out = db.handle(&ctx, op, body.to_string().as_bytes()).await?;
    Ok(serde_json::from_slice(&out).expect("responses are JSON"))
}

async fn ok(db: &DynamoDb, op: &str, body: Value) -> Value {
    match call(db, op, body).await {
        Ok(v) => v,
        Err(e) => panic!("{op} failed: {}: {}", e.code, e.message),
    }
}

async fn fails(db: &DynamoDb, op: &str, body: Value, code: &str, message: &str) {
    let e = call(db, op, body).await.expect_err(op);
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (code, message),
        "{op}"
    );
}

/// A `pk` (S) table with a GSI on `g` (S).
async fn create_table(db: &DynamoDb, name: &str) {
    ok(
        db,
        "CreateTable",
        json!({
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"}
            ],
            "GlobalSecondaryIndexes": [{
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }]
        }),
    )
    .await;
}

async fn put(db: &DynamoDb, table: &str, pk: &str, v: i64) {
    ok(
        db,
        "PutItem",
        json!({"TableName": table, "Item": {
            "pk": {"S": pk}, "g": {"S": format!("g{}", v % 7)}, "v": {"N": v.to_string()}
        }}),
    )
    .await;
}

/// Every item of a table, by key, from a consistent scan.
async fn contents(db: &DynamoDb, table: &str) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    let mut start: Option<Value> = None;
    loop {
        let mut req = json!({"TableName": table, "ConsistentRead": true});
        if let Some(k) = start.take() {
            req["ExclusiveStartKey"] = k;
        }
        let page = ok(db, "Scan", req).await;
        for item in page["Items"].as_array().unwrap() {
            out.insert(item["pk"]["S"].as_str().unwrap().to_string(), item.clone());
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn history_count(db: &DynamoDb, table_number: u64) -> usize {
    let prefix = history_prefix(table_number);
    let end = layout::prefix_end(&prefix);
    let mut n = 0;
    db.store
        .snapshot()
        .unwrap()
        .scan(
            Bound::Included(&prefix[..]),
            Bound::Excluded(&end[..]),
            false,
            &mut |_, _| {
                n += 1;
                true
            },
        )
        .unwrap();
    n
}

fn number_of(db: &DynamoDb, table: &str) -> u64 {
    db.catalog.get(ACCOUNT, REGION, table).unwrap().def.number
}

/// Creates `target` as a restore of `source_def`'s data from `source`
/// (restore time `restore_ms`), without running it.
async fn admit_restore(
    db: &DynamoDb,
    source_def: &crate::catalog::TableDef,
    source: RestoreSource,
    restore_ms: u64,
    target: &str,
) -> std::sync::Arc<restore::Restoring> {
    let keep_all = Overrides {
        billing_mode: None,
        throughput: None,
        gsis: None,
        lsis: None,
    };
    let def = target_definition(source_def, keep_all, (ACCOUNT, REGION, target), 0.0).unwrap();
    let job = RestoreJob {
        target: 0,
        source,
        source_table_arn: source_def.arn(),
        restore_ms,
        phase: Phase::Copy { after: None },
    };
    let _admission = db.backups.restores.admission.lock().await;
    restore::admit(db, def, job).await.unwrap()
}

/// Starts a restore of the backup into `target` without running it.
async fn admit_backup_restore(
    db: &DynamoDb,
    arn: &str,
    target: &str,
) -> std::sync::Arc<restore::Restoring> {
    let backup = db.backups.backups.get(arn).unwrap();
    let source = RestoreSource::Backup {
        number: backup.number,
        arn: arn.to_string(),
    };
    admit_restore(db, &backup.table, source, backup.created_ms, target).await
}

/// Starts a point-in-time restore of `table` to `at_ms` into `target`
/// without running it.
async fn admit_pitr_restore(
    db: &DynamoDb,
    table: &str,
    at_ms: u64,
    target: &str,
) -> std::sync::Arc<restore::Restoring> {
    let src = db.catalog.get(ACCOUNT, REGION, table).unwrap();
    let source = RestoreSource::PointInTime {
        table_number: src.def.number,
        at_ms,
        enabled_ms: src.live_pitr().unwrap().state().enabled_ms,
    };
    admit_restore(db, &src.def, source, at_ms, target).await
}

/// Runs a restore to its end on `view` (what the restore thread does).
fn run_to_end(db: &DynamoDb, r: &restore::Restoring, job: &mut RestoreJob, view: &impl ReadView) {
    while restore::step(db, r, job, view).unwrap() {}
    restore::finish(db, r).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restoring_table_is_creating_and_untouchable_until_its_last_batch() {
    let db = open(Store::in_memory().unwrap(), Clock::new());
    create_table(&db, "src").await;
    for i in 0..1200 {
        put(&db, "src", &format!("k{i:04}"), i).await;
    }
    let arn = ok(
        &db,
        "CreateBackup",
        json!({"TableName": "src", "BackupName": "bk1"}),
    )
    .await["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admit_backup_restore(&db, &arn, "dst").await;

    let d = ok(&db, "DescribeTable", json!({"TableName": "dst"})).await["Table"].clone();
    assert_eq!(d["TableStatus"], "CREATING");
    assert_eq!(d["RestoreSummary"]["RestoreInProgress"], true);
    assert_eq!(d["RestoreSummary"]["SourceBackupArn"], arn.as_str());
    assert_eq!(d["GlobalSecondaryIndexes"][0]["IndexName"], "by-g");
    assert!(d["GlobalSecondaryIndexes"][0].get("IndexStatus").is_none());
    let names = ok(&db, "ListTables", json!({})).await["TableNames"].clone();
    assert_eq!(names, json!(["dst", "src"]));

    fails(
        &db,
        "GetItem",
        json!({"TableName": "dst", "Key": {"pk": {"S": "k0001"}}}),
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    .await;
    fails(
        &db,
        "DeleteTable",
        json!({"TableName": "dst"}),
        "ResourceInUseException",
        "Attempt to change a resource which is still in use: Table is being created: dst",
    )
    .await;
    fails(
        &db,
        "CreateTable",
        json!({"TableName": "dst", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
        "ResourceInUseException",
        "Table is being used: dst",
    )
    .await;
    fails(
        &db,
        "UpdateTable",
        json!({"TableName": "dst", "DeletionProtectionEnabled": true}),
        "ResourceNotFoundException",
        "Requested resource not found: Table: dst not found",
    )
    .await;
    fails(
        &db,
        "CreateBackup",
        json!({"TableName": "dst", "BackupName": "bk2"}),
        "TableNotFoundException",
        "Table not found: dst",
    )
    .await;
    fails(
        &db,
        "DescribeContinuousBackups",
        json!({"TableName": "dst"}),
        "TableNotFoundException",
        "Table not found: dst",
    )
    .await;
    fails(
        &db,
        "RestoreTableFromBackup",
        json!({"TargetTableName": "dst", "BackupArn": arn}),
        "TableInUseException",
        &format!("Table: dst is already being restored from backup: {arn}"),
    )
    .await;
    fails(
        &db,
        "RestoreTableFromBackup",
        json!({"TargetTableName": "other", "BackupArn": arn}),
        "BackupInUseException",
        &format!("Backup is being used to restore another table: {arn}"),
    )
    .await;
    fails(
        &db,
        "DeleteBackup",
        json!({"BackupArn": arn}),
        "BackupInUseException",
        &format!("Backup is being used to restore table: {arn}"),
    )
    .await;

    // One batch in: still CREATING, with what is copied so far.
    let mut job = r.job.clone();
    let view = db.store.snapshot().unwrap();
    assert!(restore::step(&db, &r, &mut job, &view).unwrap());
    let d = ok(&db, "DescribeTable", json!({"TableName": "dst"})).await["Table"].clone();
    assert_eq!(
        (d["TableStatus"].as_str(), d["ItemCount"].as_i64()),
        (Some("CREATING"), Some(500))
    );
    fails(
        &db,
        "Scan",
        json!({"TableName": "dst"}),
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    .await;

    run_to_end(&db, &r, &mut job, &view);
    let d = ok(&db, "DescribeTable", json!({"TableName": "dst"})).await["Table"].clone();
    assert_eq!(d["TableStatus"], "ACTIVE");
    assert!(d.get("RestoreSummary").is_none());
    assert_eq!(d["ItemCount"], 1200);
    assert_eq!(d["GlobalSecondaryIndexes"][0]["ItemCount"], 1200);
    assert_eq!(contents(&db, "dst").await, contents(&db, "src").await);
    let q = ok(
        &db,
        "Query",
        json!({"TableName": "dst", "IndexName": "by-g",
        "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "g3"}},
        "Select": "COUNT"}),
    )
    .await;
    assert_eq!(q["Count"], (0..1200).filter(|i| i % 7 == 3).count());
    // The backup is free again.
    ok(&db, "DeleteBackup", json!({"BackupArn": arn})).await;
}

/// Enables PITR on `table` and returns the enable time.
async fn enable_pitr(db: &DynamoDb, table: &str) -> Value {
    ok(
        db,
        "UpdateContinuousBackups",
        json!({"TableName": table,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_point_in_time_restore_lands_on_the_state_at_its_time() {
    let clock = Clock::new();
    let db = open(Store::in_memory().unwrap(), clock.clone());
    create_table(&db, "src").await;
    for i in 0..1100 {
        put(&db, "src", &format!("k{i:04}"), i).await;
    }
    enable_pitr(&db, "src").await;
    clock.advance(Duration::from_secs(10));
    for i in 0..300 {
        put(&db, "src", &format!("k{i:04}"), -i).await;
    }
    for i in 1100..1150 {
        put(&db, "src", &format!("k{i:04}"), i).await;
    }
    clock.advance(Duration::from_secs(10));
    let at_ms = clock.now_ms();
    let expected = contents(&db, "src").await;
    clock.advance(Duration::from_secs(10));
    // After the restore time: updates, deletes (also of items created
    // after it), inserts.
    let mutate = |from: usize, to: usize| {
        let db = db.clone();
        async move {
            for i in from..to {
                let pk = format!("k{i:04}");
                match i % 3 {
                    0 => put(&db, "src", &pk, 10_000 + i as i64).await,
                    1 => {
                        ok(
                            &db,
                            "DeleteItem",
                            json!({"TableName": "src", "Key": {"pk": {"S": pk}}}),
                        )
                        .await;
                    }
                    _ => {
                        ok(
                            &db,
                            "UpdateItem",
                            json!({"TableName": "src", "Key": {"pk": {"S": pk}},
                            "UpdateExpression": "SET v = :n, extra = :x",
                            "ExpressionAttributeValues": {":n": {"N": "7"}, ":x": {"S": "later"}}}),
                        )
                        .await;
                    }
                }
            }
        }
    };
    mutate(0, 400).await;
    mutate(1100, 1200).await;
    let first_view = db.store.snapshot().unwrap();
    let r = admit_pitr_restore(&db, "src", at_ms, "dst").await;
    let mut job = r.job.clone();
    // One batch copied from the first snapshot, then the source changes
    // more and the restore goes on from a later one, as after a restart.
    assert!(restore::step(&db, &r, &mut job, &first_view).unwrap());
    drop(first_view);
    clock.advance(Duration::from_secs(10));
    mutate(0, 1200).await;
    let later_view = db.store.snapshot().unwrap();
    run_to_end(&db, &r, &mut job, &later_view);

    assert_eq!(contents(&db, "dst").await, expected);
    let d = ok(&db, "DescribeTable", json!({"TableName": "dst"})).await["Table"].clone();
    assert_eq!(d["ItemCount"], expected.len());
    assert_eq!(d["GlobalSecondaryIndexes"][0]["ItemCount"], expected.len());
    // The source is as the mutations left it.
    assert_ne!(contents(&db, "src").await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_write_path_records_history_and_no_op_writes_do_not() {
    let db = open(Store::in_memory().unwrap(), Clock::new());
    create_table(&db, "tbl").await;
    put(&db, "tbl", "before", 1).await;
    let n = number_of(&db, "tbl");
    assert_eq!(history_count(&db, n), 0, "nothing before PITR is enabled");
    enable_pitr(&db, "tbl").await;
    put(&db, "tbl", "a", 1).await;
    put(&db, "tbl", "a", 1).await; // the same bytes: no change
    ok(
        &db,
        "UpdateItem",
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}},
        "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}}),
    )
    .await;
    ok(
        &db,
        "DeleteItem",
        json!({"TableName": "tbl", "Key": {"pk": {"S": "missing"}}}),
    )
    .await;
    assert_eq!(history_count(&db, n), 2);
    ok(
        &db,
        "BatchWriteItem",
        json!({"RequestItems": {"tbl": [
            {"PutRequest": {"Item": {"pk": {"S": "b"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}
        ]}}),
    )
    .await;
    ok(
        &db,
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "tbl", "Item": {"pk": {"S": "c"}}}},
            {"Update": {"TableName": "tbl", "Key": {"pk": {"S": "before"}},
                "UpdateExpression": "REMOVE v"}}
        ]}),
    )
    .await;
    assert_eq!(history_count(&db, n), 6);
    // The TTL sweeper's deletions are changes too.
    ok(
        &db,
        "UpdateTimeToLive",
        json!({"TableName": "tbl",
        "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}}),
    )
    .await;
    let expired = (db.clock.now_ms() / 1000 - 10).to_string();
    ok(
        &db,
        "PutItem",
        json!({"TableName": "tbl",
        "Item": {"pk": {"S": "ttl"}, "exp": {"N": expired}}}),
    )
    .await;
    // (The sweeper may already have run: the put and the deletion make 8.)
    db.clock.advance(Duration::from_secs(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while history_count(&db, n) != 8 {
        assert!(
            std::time::Instant::now() < deadline,
            "the TTL deletion left no history"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Disabled: writes stop recording; the janitor drops the history.
    ok(
        &db,
        "UpdateContinuousBackups",
        json!({"TableName": "tbl",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false}}),
    )
    .await;
    put(&db, "tbl", "d", 1).await;
    db.clock.advance(Duration::from_millis(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while history_count(&db, n) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "history was not trimmed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_janitor_trims_history_past_the_recovery_period_but_not_under_a_restore() {
    let clock = Clock::new();
    let db = open(Store::in_memory().unwrap(), clock.clone());
    create_table(&db, "tbl").await;
    ok(&db, "UpdateContinuousBackups", json!({"TableName": "tbl",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 1}})).await;
    let n = number_of(&db, "tbl");
    for i in 0..10 {
        put(&db, "tbl", &format!("old{i}"), i).await;
    }
    clock.advance(Duration::from_secs(3600));
    for i in 0..5 {
        put(&db, "tbl", &format!("new{i}"), i).await;
    }
    assert_eq!(history_count(&db, n), 15);
    // 24 h after the first writes, only they fall out of the window.
    clock.advance(Duration::from_secs(23 * 3600 + 60));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while history_count(&db, n) != 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "old history was not trimmed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = ok(
        &db,
        "DescribeContinuousBackups",
        json!({"TableName": "tbl"}),
    )
    .await;
    let pitr = &d["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"];
    let now = clock.now_ms() as f64 / 1000.0;
    assert_eq!(pitr["RecoveryPeriodInDays"], 1);
    assert!((pitr["EarliestRestorableDateTime"].as_f64().unwrap() - (now - 86_400.0)).abs() < 5.0);
    assert!((pitr["LatestRestorableDateTime"].as_f64().unwrap() - now).abs() < 5.0);
    // A restore (here only registered) pins the history after its time.
    let pinned_at = clock.now_ms() - 86_400_000 + 1000;
    let r = admit_pitr_restore(&db, "tbl", pinned_at, "dst").await;
    clock.advance(Duration::from_secs(2 * 3600));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        history_count(&db, n),
        5,
        "history after a running restore's time stays"
    );
    // Once the restore is over, that history is past the window too.
    restore::finish(&db, &r).unwrap();
    clock.advance(Duration::from_millis(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while history_count(&db, n) != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "unpinned history was not trimmed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_resume_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let (arn, expected) = {
        let store = Store::open(dir.path(), &Default::default()).unwrap();
        let db = open(store.clone(), clock.clone());
        create_table(&db, "src").await;
        for i in 0..1300 {
            put(&db, "src", &format!("k{i:04}"), i).await;
        }
        let arn = ok(
            &db,
            "CreateBackup",
            json!({"TableName": "src", "BackupName": "bkp"}),
        )
        .await["BackupDetails"]["BackupArn"]
            .as_str()
            .unwrap()
            .to_string();
        let r = admit_backup_restore(&db, &arn, "dst").await;
        let mut job = r.job.clone();
        let view = db.store.snapshot().unwrap();
        assert!(restore::step(&db, &r, &mut job, &view).unwrap());
        let expected = contents(&db, "src").await;
        drop(view);
        drop(r);
        drop(db);
        store.close();
        (arn, expected)
    };
    let db = open(Store::open(dir.path(), &Default::default()).unwrap(), clock);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let d = ok(&db, "DescribeTable", json!({"TableName": "dst"})).await["Table"].clone();
        if d["TableStatus"] == "ACTIVE" {
            assert_eq!(d["ItemCount"], 1300);
            break;
        }
        assert_eq!(d["RestoreSummary"]["SourceBackupArn"], arn.as_str());
        assert!(
            std::time::Instant::now() < deadline,
            "the restore did not resume"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(contents(&db, "dst").await, expected);
    // Nothing of the restore's bookkeeping is left.
    let mut jobs = 0;
    db.store
        .snapshot()
        .unwrap()
        .scan(
            Bound::Included(&[restore::RESTORE_JOB_TAG][..]),
            Bound::Excluded(&[restore::RESTORE_JOB_TAG + 1][..]),
            false,
            &mut |_, _| {
                jobs += 1;
                true
            },
        )
        .unwrap();
    assert_eq!(jobs, 0);
}
