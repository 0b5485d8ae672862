//! DynamoDB Time to Live through the official AWS SDK for Rust against a
//! live `nimbus serve`: UpdateTimeToLive / DescribeTimeToLive and their
//! errors with AWS's texts, and expiry driven by `/_nimbus/clock/advance`:
//! expired items go with their GSI entries, items without a Number TTL stay,
//! AWS's five-year rule, writes after enabling, and TTL across a restart.

mod common;
mod sdk;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, GlobalSecondaryIndex, KeyType, Projection, ProjectionType,
    PutRequest, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const VE: &str = "ValidationException";
const HOUR: u64 = 3600;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn spec(attribute: &str, enabled: bool) -> TimeToLiveSpecification {
    TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(enabled)
        .build()
        .unwrap()
}

async fn update(
    client: &Client,
    table: &str,
    attribute: &str,
    enabled: bool,
) -> Result<
    aws_sdk_dynamodb::operation::update_time_to_live::UpdateTimeToLiveOutput,
    aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_time_to_live::UpdateTimeToLiveError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec(attribute, enabled))
        .send()
        .await
}

/// (status, attribute name) as DescribeTimeToLive reports them.
async fn describe_ttl(client: &Client, table: &str) -> (TimeToLiveStatus, Option<String>) {
    let out = ok(client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await);
    let d = out.time_to_live_description.expect("a description");
    (d.time_to_live_status.expect("a status"), d.attribute_name)
}

/// A table `pk` (S) with a GSI `by_owner` on `owner` (S), TTL on `exp`.
async fn ttl_table(client: &Client, name: &str) {
    ok(client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("owner", ScalarAttributeType::S))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_owner")
                .key_schema(key_element("owner", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await);
    ok(update(client, name, "exp", true).await);
}

async fn put(client: &Client, table: &str, pk: &str, exp: Option<AttributeValue>) {
    let mut req = client
        .put_item()
        .table_name(table)
        .item("pk", s(pk))
        .item("owner", s("ann"));
    if let Some(exp) = exp {
        req = req.item("exp", exp);
    }
    ok(req.send().await);
}

/// The `pk`s of the table's items, sorted (a consistent Scan).
async fn table_keys(client: &Client, table: &str) -> Vec<String> {
    let out = ok(client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await);
    sorted_keys(out.items())
}

/// The `pk`s in the GSI's `ann` partition, sorted.
async fn index_keys(client: &Client, table: &str) -> Vec<String> {
    let out = ok(client
        .query()
        .table_name(table)
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("ann"))
        .send()
        .await);
    sorted_keys(out.items())
}

fn sorted_keys(items: &[Item]) -> Vec<String> {
    let mut keys: Vec<String> = items
        .iter()
        .map(|i| i["pk"].as_s().unwrap().clone())
        .collect();
    keys.sort();
    keys
}

/// Polls until the table holds exactly `expected` (the sweeper runs in the
/// background right after an advance); panics after `within`.
async fn wait_for_keys(client: &Client, table: &str, expected: &[&str], within: Duration) {
    let started = Instant::now();
    loop {
        let keys = table_keys(client, table).await;
        if keys == expected {
            return;
        }
        if started.elapsed() > within {
            panic!("table {table} holds {keys:?}, expected {expected:?} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn enable_describe_disable() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let endpoint = &nimbus.server.endpoint;
    hash_table(c, "sessions").await;
    assert_eq!(
        describe_ttl(c, "sessions").await,
        (TimeToLiveStatus::Disabled, None)
    );

    let out = ok(update(c, "sessions", "expires_at", true).await);
    assert_eq!(
        out.time_to_live_specification,
        Some(spec("expires_at", true))
    );
    assert_eq!(
        describe_ttl(c, "sessions").await,
        (TimeToLiveStatus::Enabled, Some("expires_at".into()))
    );

    // A second change within the hour is refused, whatever it asks.
    expect_error(
        update(c, "sessions", "expires_at", false).await,
        VE,
        "Time to live has been modified multiple times within a fixed interval",
    );
    common::advance_clock(endpoint, HOUR).await;
    expect_error(
        update(c, "sessions", "expires_at", true).await,
        VE,
        "TimeToLive is already enabled",
    );
    for enabled in [true, false] {
        expect_error(
            update(c, "sessions", "other", enabled).await,
            VE,
            "TimeToLive is active on a different AttributeName: current AttributeName is expires_at",
        );
    }
    // Refused requests changed nothing and did not restart the hour.
    let out = ok(update(c, "sessions", "expires_at", false).await);
    assert_eq!(
        out.time_to_live_specification,
        Some(spec("expires_at", false))
    );
    assert_eq!(
        describe_ttl(c, "sessions").await,
        (TimeToLiveStatus::Disabled, None)
    );
    common::advance_clock(endpoint, HOUR).await;
    expect_error(
        update(c, "sessions", "expires_at", false).await,
        VE,
        "TimeToLive is already disabled",
    );
    // Re-enabling may name another attribute.
    ok(update(c, "sessions", "ttl", true).await);
    assert_eq!(
        describe_ttl(c, "sessions").await,
        (TimeToLiveStatus::Enabled, Some("ttl".into()))
    );

    // A table that never had TTL cannot have it disabled.
    hash_table(c, "plain").await;
    expect_error(
        update(c, "plain", "ttl", false).await,
        VE,
        "TimeToLive is already disabled",
    );
}

#[tokio::test]
async fn errors_carry_aws_texts() {
    let nimbus = start().await;
    let c = &nimbus.client;
    expect_error(
        update(c, "nope", "ttl", true).await,
        "ResourceNotFoundException",
        "Requested resource not found: Table: nope not found",
    );
    expect_error(
        c.describe_time_to_live().table_name("nope").send().await,
        "ResourceNotFoundException",
        "Requested resource not found: Table: nope not found",
    );
    // Shape errors come before the table lookup.
    expect_error(
        update(c, "nope", "", true).await,
        VE,
        "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    let long = "a".repeat(256);
    expect_error(
        update(c, "nope", &long, true).await,
        VE,
        &format!("1 validation error detected: Value '{long}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255"),
    );
    expect_error(
        update(c, "ab", "ttl", true).await,
        VE,
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
    );
    expect_error(
        c.describe_time_to_live().table_name("ab").send().await,
        VE,
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
    );
    // 255 characters is the longest name, and any characters are allowed.
    hash_table(c, "names").await;
    let longest = format!("é{}", "a".repeat(254));
    ok(update(c, "names", &longest, true).await);
    assert_eq!(describe_ttl(c, "names").await.1, Some(longest));
}

/// Members the SDK will not leave out, sent raw.
#[tokio::test]
async fn missing_members_are_framework_violations() {
    let nimbus = start().await;
    let cases = [
        (
            r#"{"TableName":"nope"}"#,
            "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null",
        ),
        (
            r#"{"TableName":"nope","TimeToLiveSpecification":{"Enabled":true}}"#,
            "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null",
        ),
        (
            r#"{"TableName":"nope","TimeToLiveSpecification":{"AttributeName":"ttl"}}"#,
            "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
        ),
        (
            r#"{"TimeToLiveSpecification":{}}"#,
            "3 validation errors detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null; Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null; Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
        ),
    ];
    let client = common::http1_client();
    for (body, message) in cases {
        let mut request =
            common::unsigned_dynamodb_request(&nimbus.server.endpoint, "UpdateTimeToLive", body);
        let headers = request.headers_mut();
        headers.insert("x-amz-date", "20240101T000000Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDNIMBUSTESTS/20240101/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
                .parse()
                .unwrap(),
        );
        let (parts, bytes) = common::send(&client, request).await;
        assert_eq!(parts.status, 400, "{body}");
        let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            error["__type"],
            "com.amazonaws.dynamodb.v20120810#ValidationException"
        );
        assert_eq!(error["message"], message, "{body}");
    }
}

#[tokio::test]
async fn expired_items_go_with_their_index_entries() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let endpoint = &nimbus.server.endpoint;
    ttl_table(c, "jobs").await;
    let now = now_secs();
    put(c, "jobs", "soon", Some(n(now + 60))).await;
    put(c, "jobs", "later", Some(n(now + 7200))).await;
    put(c, "jobs", "fraction", Some(n(format!("{}.5", now + 60)))).await;
    put(c, "jobs", "no-ttl", None).await;
    put(c, "jobs", "string-ttl", Some(s((now - 10).to_string()))).await;
    put(c, "jobs", "list-ttl", Some(l(vec![n(now - 10)]))).await;
    put(c, "jobs", "set-ttl", Some(ns(&[&(now - 10).to_string()]))).await;
    let all = [
        "fraction",
        "later",
        "list-ttl",
        "no-ttl",
        "set-ttl",
        "soon",
        "string-ttl",
    ];
    assert_eq!(table_keys(c, "jobs").await, all);
    assert_eq!(index_keys(c, "jobs").await, all);

    // Nothing is due yet, so a sweep finds nothing.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(table_keys(c, "jobs").await, all);

    common::advance_clock(endpoint, 120).await;
    let started = Instant::now();
    let kept = ["later", "list-ttl", "no-ttl", "set-ttl", "string-ttl"];
    wait_for_keys(c, "jobs", &kept, Duration::from_secs(2)).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "expiry took {took:?}");
    assert_eq!(index_keys(c, "jobs").await, kept);
    let described = ok(c.describe_table().table_name("jobs").send().await)
        .table
        .unwrap();
    assert_eq!(described.item_count, Some(5));
    assert_eq!(described.global_secondary_indexes()[0].item_count, Some(5));

    common::advance_clock(endpoint, 7200).await;
    let kept = ["list-ttl", "no-ttl", "set-ttl", "string-ttl"];
    wait_for_keys(c, "jobs", &kept, Duration::from_secs(2)).await;
    assert_eq!(index_keys(c, "jobs").await, kept);
}

#[tokio::test]
async fn every_write_path_keeps_the_expiry_index() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let endpoint = &nimbus.server.endpoint;
    ttl_table(c, "paths").await;
    let soon = now_secs() + 60;
    // An item put before TTL changes, then moved later by UpdateItem.
    put(c, "paths", "moved", Some(n(soon))).await;
    ok(c.update_item()
        .table_name("paths")
        .key("pk", s("moved"))
        .update_expression("SET exp = :e")
        .expression_attribute_values(":e", n(soon + 100_000))
        .send()
        .await);
    // TTL removed by UpdateItem: never expires.
    put(c, "paths", "cleared", Some(n(soon))).await;
    ok(c.update_item()
        .table_name("paths")
        .key("pk", s("cleared"))
        .update_expression("REMOVE exp")
        .send()
        .await);
    // TTL added by UpdateItem to an item that had none.
    put(c, "paths", "added", None).await;
    ok(c.update_item()
        .table_name("paths")
        .key("pk", s("added"))
        .update_expression("SET exp = :e")
        .expression_attribute_values(":e", n(soon))
        .send()
        .await);
    // BatchWriteItem and TransactWriteItems.
    let batch_item = item(&[("pk", s("batch")), ("owner", s("ann")), ("exp", n(soon))]);
    ok(c.batch_write_item()
        .request_items(
            "paths",
            vec![WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(batch_item))
                        .build()
                        .unwrap(),
                )
                .build()],
        )
        .send()
        .await);
    ok(c.transact_write_items()
        .transact_items(
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .put(
                    aws_sdk_dynamodb::types::Put::builder()
                        .table_name("paths")
                        .set_item(Some(item(&[
                            ("pk", s("transact")),
                            ("owner", s("ann")),
                            ("exp", n(soon)),
                        ])))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await);
    // Deleted before it expires: its entry goes with it.
    put(c, "paths", "deleted", Some(n(soon))).await;
    ok(c.delete_item()
        .table_name("paths")
        .key("pk", s("deleted"))
        .send()
        .await);
    assert_eq!(
        table_keys(c, "paths").await,
        ["added", "batch", "cleared", "moved", "transact"]
    );

    common::advance_clock(endpoint, 120).await;
    wait_for_keys(c, "paths", &["cleared", "moved"], Duration::from_secs(2)).await;
    assert_eq!(index_keys(c, "paths").await, ["cleared", "moved"]);
}

#[tokio::test]
async fn items_more_than_five_years_expired_are_kept() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let endpoint = &nimbus.server.endpoint;
    ttl_table(c, "old").await;
    let now = now_secs();
    let five_years = 5 * 365 * 24 * 3600;
    // Six years past: AWS ignores it. A millisecond timestamp by mistake
    // lies far in the future, so it never expires either.
    put(
        c,
        "old",
        "ancient",
        Some(n(now - five_years - 365 * 24 * 3600)),
    )
    .await;
    put(c, "old", "millis", Some(n(now * 1000))).await;
    put(c, "old", "recent", Some(n(now - 3600))).await;
    common::advance_clock(endpoint, 1).await;
    wait_for_keys(c, "old", &["ancient", "millis"], Duration::from_secs(2)).await;
    // Still there after more sweeps.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(table_keys(c, "old").await, ["ancient", "millis"]);
    assert_eq!(index_keys(c, "old").await, ["ancient", "millis"]);
}

#[tokio::test]
async fn enabling_indexes_existing_items_and_disabling_stops_expiry() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let endpoint = &nimbus.server.endpoint;
    ok(c.create_table()
        .table_name("late")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .send()
        .await);
    let past = now_secs() - 10;
    for pk in ["a", "b", "c"] {
        put(c, "late", pk, Some(n(past))).await;
    }
    put(c, "late", "keep", Some(n(past + 100_000))).await;
    // Without TTL nothing expires.
    common::advance_clock(endpoint, 60).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(table_keys(c, "late").await, ["a", "b", "c", "keep"]);

    ok(update(c, "late", "exp", true).await);
    wait_for_keys(c, "late", &["keep"], Duration::from_secs(3)).await;

    // Disabled: due items stay.
    common::advance_clock(endpoint, HOUR).await;
    ok(update(c, "late", "exp", false).await);
    put(c, "late", "after", Some(n(past))).await;
    common::advance_clock(endpoint, 200_000).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(table_keys(c, "late").await, ["after", "keep"]);
}

#[tokio::test]
async fn ttl_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let soon = now_secs() + 60;
    {
        let server = common::Server::start(&["--data-dir", data]);
        let c = client(&server.endpoint);
        ttl_table(&c, "durable").await;
        put(&c, "durable", "expires", Some(n(soon))).await;
        put(&c, "durable", "stays", None).await;
        server.terminate();
        let mut server = server;
        assert!(server.wait_exit(Duration::from_secs(10)).success());
    }
    let server = common::Server::start(&["--data-dir", data]);
    let c = client(&server.endpoint);
    assert_eq!(
        describe_ttl(&c, "durable").await,
        (TimeToLiveStatus::Enabled, Some("exp".into()))
    );
    // The hour-long change window is remembered across the restart.
    expect_error(
        update(&c, "durable", "exp", false).await,
        VE,
        "Time to live has been modified multiple times within a fixed interval",
    );
    // Written after the restart: indexed by the reloaded setting.
    put(&c, "durable", "new", Some(n(soon))).await;
    common::advance_clock(&server.endpoint, 120).await;
    wait_for_keys(&c, "durable", &["stays"], Duration::from_secs(2)).await;
    assert_eq!(index_keys(&c, "durable").await, ["stays"]);
}

#[tokio::test]
async fn deleting_a_table_drops_its_ttl() {
    let nimbus = start().await;
    let c = &nimbus.client;
    ttl_table(c, "gone").await;
    put(c, "gone", "x", Some(n(now_secs() + 60))).await;
    ok(c.delete_table().table_name("gone").send().await);
    // A new table of the same name starts without TTL, and with no item
    // left from the old one.
    ok(c.create_table()
        .table_name("gone")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .send()
        .await);
    assert_eq!(
        describe_ttl(c, "gone").await,
        (TimeToLiveStatus::Disabled, None)
    );
    ok(update(c, "gone", "exp", true).await);
    common::advance_clock(&nimbus.server.endpoint, 120).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(table_keys(c, "gone").await.is_empty());
}
