//! DynamoDB BatchGetItem and BatchWriteItem through the official AWS SDK for
//! Rust against a live `nimbus serve`: reads and writes across two tables,
//! projections, consistent reads, consumed capacity, the 16 MB response
//! limit, every bad-input path with AWS's exact text, and that a batch with
//! any bad entry writes nothing.
//!
//! Requests the SDK cannot build (a PutRequest without its Item) go as raw
//! awsJson bodies.

mod common;
mod sdk;

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::types::{
    DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity,
    ReturnItemCollectionMetrics, ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const H: &str = "batch-hash";
const R: &str = "batch-range";
const VALIDATION: &str = "ValidationException";
const NOT_FOUND: &str = "ResourceNotFoundException";
const NOT_FOUND_TEXT: &str = "Requested resource not found";
const DUPLICATES: &str = "Provided list of item keys contains duplicates";
const SCHEMA: &str = "The provided key element does not match the schema";

/// A hash table `H` (pk S) and a range table `R` (pk S, sk N).
async fn setup() -> Nimbus {
    let nimbus = start().await;
    hash_table(&nimbus.client, H).await;
    range_table(&nimbus.client, R, ScalarAttributeType::N).await;
    nimbus
}

fn hkey(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn rkey(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", n(sk))])
}

fn put(it: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(it)).build().unwrap())
        .build()
}

fn delete(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(DeleteRequest::builder().set_key(Some(key)).build().unwrap())
        .build()
}

fn keys(keys: Vec<Item>) -> KeysAndAttributes {
    KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .build()
        .unwrap()
}

async fn get(c: &Client, table: &str, key: Item) -> Option<Item> {
    ok(c.get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await)
    .item
}

async fn item_count(c: &Client, table: &str) -> i64 {
    ok(c.describe_table().table_name(table).send().await)
        .table
        .and_then(|t| t.item_count)
        .expect("ItemCount")
}

/// Responses of one table, sorted by pk then sk for comparison.
fn responses(out: &BatchGetItemOutput, table: &str) -> Vec<Item> {
    let mut items = out
        .responses()
        .and_then(|r| r.get(table))
        .unwrap_or_else(|| panic!("Responses has no entry for {table}"))
        .clone();
    let sort_key = |it: &Item| {
        let part = |name: &str| match it.get(name) {
            Some(v) => format!("{v:?}"),
            None => String::new(),
        };
        (part("pk"), part("sk"))
    };
    items.sort_by_key(sort_key);
    items
}

/// An item on `H` of exactly `total` bytes as DynamoDB sizes items.
fn item_of_size(pk: &str, total: usize) -> Item {
    let fixed = "pk".len() + pk.len() + "data".len();
    item(&[("pk", s(pk)), ("data", s("x".repeat(total - fixed)))])
}

// ---------------------------------------------------------------- happy paths

#[tokio::test]
async fn batch_write_puts_and_deletes_across_two_tables() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    ok(c.put_item()
        .table_name(R)
        .set_item(Some(item(&[
            ("pk", s("r")),
            ("sk", n(1)),
            ("old", boolean(true)),
        ])))
        .send()
        .await);
    ok(c.put_item()
        .table_name(H)
        .set_item(Some(item(&[("pk", s("replaced")), ("v", n(0))])))
        .send()
        .await);

    let out = ok(c
        .batch_write_item()
        .request_items(
            H,
            vec![
                put(item(&[
                    ("pk", s("a")),
                    ("v", n(1)),
                    ("tags", ss(&["x", "y"])),
                ])),
                put(item(&[("pk", s("replaced")), ("v", n(2))])),
                delete(hkey("never-existed")),
            ],
        )
        .request_items(
            R,
            vec![
                put(item(&[("pk", s("r")), ("sk", n(2))])),
                delete(rkey("r", "1")),
            ],
        )
        .send()
        .await);
    assert_eq!(
        out.unprocessed_items().map(HashMap::len),
        Some(0),
        "UnprocessedItems is always present, and empty"
    );
    assert!(out.consumed_capacity.is_none());
    assert!(out.item_collection_metrics().is_none());

    assert_item_eq(
        &get(c, H, hkey("a")).await.expect("a written"),
        &item(&[("pk", s("a")), ("v", n(1)), ("tags", ss(&["x", "y"]))]),
    );
    assert_eq!(
        get(c, H, hkey("replaced")).await,
        Some(item(&[("pk", s("replaced")), ("v", n(2))])),
        "a put replaces the whole item"
    );
    assert_eq!(get(c, R, rkey("r", "1")).await, None, "deleted");
    assert_eq!(get(c, R, rkey("r", "2")).await, Some(rkey("r", "2")));
    assert_eq!(item_count(c, H).await, 2);
    assert_eq!(item_count(c, R).await, 1);
}

#[tokio::test]
async fn the_same_key_may_appear_once_in_each_table() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let other = "batch-other";
    hash_table(c, other).await;
    ok(c.batch_write_item()
        .request_items(H, vec![put(hkey("same"))])
        .request_items(other, vec![put(hkey("same"))])
        .send()
        .await);
    assert!(get(c, H, hkey("same")).await.is_some());
    assert!(get(c, other, hkey("same")).await.is_some());
}

#[tokio::test]
async fn batch_get_across_two_tables() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let a = item(&[("pk", s("a")), ("n", n(1)), ("m", m(&[("x", s("y"))]))]);
    let b = item(&[("pk", s("b")), ("n", n(2))]);
    let r1 = item(&[("pk", s("p")), ("sk", n(1)), ("d", s("one"))]);
    let r2 = item(&[("pk", s("p")), ("sk", n(2)), ("d", s("two"))]);
    ok(c.batch_write_item()
        .request_items(H, vec![put(a.clone()), put(b.clone())])
        .request_items(R, vec![put(r1.clone()), put(r2.clone())])
        .send()
        .await);

    let out = ok(c
        .batch_get_item()
        .request_items(H, keys(vec![hkey("a"), hkey("b"), hkey("missing")]))
        .request_items(
            R,
            KeysAndAttributes::builder()
                .keys(rkey("p", "1"))
                .keys(rkey("p", "2.0"))
                .consistent_read(true)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(responses(&out, H), vec![a, b]);
    assert_eq!(responses(&out, R), vec![r1, r2]);
    assert_eq!(out.unprocessed_keys().map(HashMap::len), Some(0));
    assert!(out.consumed_capacity.is_none());
}

#[tokio::test]
async fn batch_get_lists_every_table_even_without_hits() {
    let nimbus = setup().await;
    let out = ok(nimbus
        .client
        .batch_get_item()
        .request_items(H, keys(vec![hkey("nothing")]))
        .request_items(R, keys(vec![rkey("nothing", "1")]))
        .send()
        .await);
    assert_eq!(responses(&out, H), Vec::<Item>::new());
    assert_eq!(responses(&out, R), Vec::<Item>::new());
    assert_eq!(out.unprocessed_keys().map(HashMap::len), Some(0));
}

#[tokio::test]
async fn batch_get_projects_each_table_with_its_own_expression() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    ok(c.batch_write_item()
        .request_items(
            H,
            vec![put(item(&[
                ("pk", s("a")),
                ("name", s("Ann")),
                ("m", m(&[("x", n(1)), ("y", n(2))])),
                ("drop", s("no")),
            ]))],
        )
        .request_items(
            R,
            vec![put(item(&[("pk", s("p")), ("sk", n(1)), ("d", s("d"))]))],
        )
        .send()
        .await);

    let out = ok(c
        .batch_get_item()
        .request_items(
            H,
            KeysAndAttributes::builder()
                .keys(hkey("a"))
                .projection_expression("#n, m.y")
                .expression_attribute_names("#n", "name")
                .build()
                .unwrap(),
        )
        .request_items(
            R,
            KeysAndAttributes::builder()
                .keys(rkey("p", "1"))
                .projection_expression("nothing_here")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(
        responses(&out, H),
        vec![item(&[("name", s("Ann")), ("m", m(&[("y", n(2))]))])]
    );
    assert_eq!(
        responses(&out, R),
        vec![Item::new()],
        "an item found with nothing projected is an empty item"
    );
}

#[tokio::test]
async fn consumed_capacity_lists_one_entry_per_table() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    // 1.5 KB and a small item on H, one small item on R.
    let out = ok(c
        .batch_write_item()
        .request_items(H, vec![put(item_of_size("big", 1536)), put(hkey("small"))])
        .request_items(R, vec![put(rkey("p", "1"))])
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .send()
        .await);
    let mut cc: Vec<(String, f64)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap().to_string(),
                c.capacity_units().unwrap(),
            )
        })
        .collect();
    cc.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(cc, vec![(H.to_string(), 3.0), (R.to_string(), 1.0)]);

    // 4.5 KB read strongly costs 2; a miss costs as a 0-byte read.
    ok(c.put_item()
        .table_name(H)
        .set_item(Some(item_of_size("big", 4608)))
        .send()
        .await);
    let read = |mode: ReturnConsumedCapacity, consistent: bool| {
        c.batch_get_item()
            .request_items(
                H,
                KeysAndAttributes::builder()
                    .keys(hkey("big"))
                    .keys(hkey("small"))
                    .keys(hkey("missing"))
                    .consistent_read(consistent)
                    .build()
                    .unwrap(),
            )
            .request_items(R, keys(vec![rkey("p", "1")]))
            .return_consumed_capacity(mode)
            .send()
    };
    let units = |out: &BatchGetItemOutput| {
        let mut cc: Vec<(String, f64)> = out
            .consumed_capacity()
            .iter()
            .map(|c| {
                (
                    c.table_name().unwrap().to_string(),
                    c.capacity_units().unwrap(),
                )
            })
            .collect();
        cc.sort_by(|a, b| a.0.cmp(&b.0));
        cc
    };
    let strong = ok(read(ReturnConsumedCapacity::Total, true).await);
    assert_eq!(
        units(&strong),
        vec![(H.to_string(), 4.0), (R.to_string(), 0.5)]
    );
    let eventual = ok(read(ReturnConsumedCapacity::Total, false).await);
    assert_eq!(
        units(&eventual),
        vec![(H.to_string(), 2.0), (R.to_string(), 0.5)]
    );
    let indexes = ok(read(ReturnConsumedCapacity::Indexes, false).await);
    let h = indexes
        .consumed_capacity()
        .iter()
        .find(|c| c.table_name() == Some(H))
        .unwrap();
    assert_eq!(h.table().and_then(|t| t.capacity_units()), Some(2.0));
    let none = ok(read(ReturnConsumedCapacity::None, false).await);
    assert!(none.consumed_capacity.is_none());

    let deleted = ok(c
        .batch_write_item()
        .request_items(H, vec![delete(hkey("big")), delete(hkey("missing"))])
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(
        deleted.consumed_capacity()[0].capacity_units(),
        Some(6.0),
        "deleting 4.5 KB costs 5, deleting nothing costs 1"
    );
}

#[tokio::test]
async fn batch_get_stops_at_16_mb_and_returns_the_rest_unprocessed() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    // 45 items of 390 KB: 42 fit in 16 MB (16,773,120 bytes), 3 do not.
    let size = 390 * 1024;
    let pks: Vec<String> = (0..45).map(|i| format!("big{i:02}")).collect();
    for chunk in pks.chunks(15) {
        ok(c.batch_write_item()
            .request_items(
                H,
                chunk.iter().map(|pk| put(item_of_size(pk, size))).collect(),
            )
            .send()
            .await);
    }
    let out = ok(c
        .batch_get_item()
        .request_items(
            H,
            KeysAndAttributes::builder()
                .set_keys(Some(pks.iter().map(|pk| hkey(pk)).collect()))
                .consistent_read(true)
                .build()
                .unwrap(),
        )
        .request_items(R, keys(vec![rkey("after", "1")]))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    let got = responses(&out, H);
    assert_eq!(got.len(), 42);
    let unprocessed = out.unprocessed_keys().expect("UnprocessedKeys");
    let left = unprocessed.get(H).expect("H has unprocessed keys");
    assert_eq!(left.keys().len(), 3);
    assert_eq!(left.consistent_read(), Some(true), "the request is echoed");
    assert!(
        unprocessed.contains_key(R),
        "tables after the limit are left unprocessed too"
    );
    let mut seen: Vec<String> = got
        .iter()
        .chain(left.keys())
        .map(|it| match &it["pk"] {
            aws_sdk_dynamodb::types::AttributeValue::S(s) => s.clone(),
            other => panic!("pk {other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(seen, pks, "every key is either returned or unprocessed");
    let h_units = out
        .consumed_capacity()
        .iter()
        .find(|cc| cc.table_name() == Some(H))
        .and_then(|cc| cc.capacity_units());
    assert_eq!(
        h_units,
        Some(42.0 * 98.0),
        "only processed keys are charged"
    );

    // The unprocessed keys go straight back in as the next request.
    let rest = ok(c
        .batch_get_item()
        .set_request_items(Some(unprocessed.clone()))
        .send()
        .await);
    assert_eq!(responses(&rest, H).len(), 3);
    assert_eq!(rest.unprocessed_keys().map(HashMap::len), Some(0));
}

// ---------------------------------------------------- BatchGetItem bad inputs

#[tokio::test]
async fn batch_get_rejects_duplicate_keys() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(vec![hkey("a"), hkey("b"), hkey("a")]))
            .send()
            .await,
        VALIDATION,
        DUPLICATES,
    );
    // Numbers compare by value.
    expect_error(
        c.batch_get_item()
            .request_items(R, keys(vec![rkey("a", "1"), rkey("a", "1.00")]))
            .send()
            .await,
        VALIDATION,
        DUPLICATES,
    );
    // Checked before the table is looked up.
    expect_error(
        c.batch_get_item()
            .request_items("no-such-table", keys(vec![hkey("a"), hkey("a")]))
            .send()
            .await,
        VALIDATION,
        DUPLICATES,
    );
}

#[tokio::test]
async fn batch_get_limits_keys_to_100() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let many = |count: usize, prefix: &str| -> Vec<Item> {
        (0..count).map(|i| hkey(&format!("{prefix}{i}"))).collect()
    };
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(many(101, "k")))
            .send()
            .await,
        VALIDATION,
        &format!(
            "1 validation error detected: Value at 'RequestItems.{H}.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100"
        ),
    );
    let other = "batch-other";
    hash_table(c, other).await;
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(many(60, "k")))
            .request_items(other, keys(many(41, "k")))
            .send()
            .await,
        VALIDATION,
        "Too many items requested for the BatchGetItem call",
    );
    let out = ok(c
        .batch_get_item()
        .request_items(H, keys(many(60, "k")))
        .request_items(other, keys(many(40, "k")))
        .send()
        .await);
    assert_eq!(responses(&out, H).len(), 0, "exactly 100 keys is allowed");
}

#[tokio::test]
async fn batch_get_framework_violations() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    expect_error(
        c.batch_get_item()
            .set_request_items(Some(HashMap::new()))
            .send()
            .await,
        VALIDATION,
        "1 validation error detected: Value at 'RequestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(vec![]))
            .send()
            .await,
        VALIDATION,
        &format!(
            "1 validation error detected: Value at 'RequestItems.{H}.member.Keys' failed to satisfy constraint: Member must have length greater than or equal to 1"
        ),
    );
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(vec![hkey("a")]))
            .return_consumed_capacity(ReturnConsumedCapacity::from("BOGUS"))
            .send()
            .await,
        VALIDATION,
        "1 validation error detected: Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
    );
    // A malformed table name is echoed as JSON, ahead of the enum.
    expect_error(
        c.batch_get_item()
            .request_items("bad!name", keys(vec![item(&[("pk", s("a"))])]))
            .return_consumed_capacity(ReturnConsumedCapacity::from("BOGUS"))
            .send()
            .await,
        VALIDATION,
        "2 validation errors detected: Value '{\"bad!name\":{\"Keys\":[{\"pk\":{\"S\":\"a\"}}]}}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]; Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
    );
}

#[tokio::test]
async fn batch_get_checks_tables_then_keys() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(vec![hkey("a")]))
            .request_items("no-such-table", keys(vec![hkey("a")]))
            .send()
            .await,
        NOT_FOUND,
        NOT_FOUND_TEXT,
    );
    for bad in [
        item(&[("pk", n(1))]),
        item(&[("other", s("a"))]),
        item(&[("pk", s("a")), ("extra", s("b"))]),
        Item::new(),
    ] {
        expect_error(
            c.batch_get_item()
                .request_items(H, keys(vec![bad]))
                .send()
                .await,
            VALIDATION,
            SCHEMA,
        );
    }
    expect_error(
        c.batch_get_item()
            .request_items(R, keys(vec![hkey("only-the-hash-key")]))
            .send()
            .await,
        VALIDATION,
        SCHEMA,
    );
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(vec![hkey("")]))
            .send()
            .await,
        VALIDATION,
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
    );
}

#[tokio::test]
async fn batch_get_checks_each_tables_expressions() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    expect_error(
        c.batch_get_item()
            .request_items(
                H,
                KeysAndAttributes::builder()
                    .keys(hkey("a"))
                    .projection_expression("pk")
                    .expression_attribute_names("#unused", "x")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        VALIDATION,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
    );
    expect_error(
        c.batch_get_item()
            .request_items(
                H,
                KeysAndAttributes::builder()
                    .keys(hkey("a"))
                    .expression_attribute_names("#n", "x")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        VALIDATION,
        "ExpressionAttributeNames can only be specified when using expressions",
    );
    expect_error(
        c.batch_get_item()
            .request_items(
                H,
                KeysAndAttributes::builder()
                    .keys(hkey("a"))
                    .attributes_to_get("pk")
                    .projection_expression("pk")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        VALIDATION,
        "Can not use both expression and non-expression parameters in the same request: \
         Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
    );
}

// -------------------------------------------------- BatchWriteItem bad inputs

#[tokio::test]
async fn batch_write_limits_requests_to_25() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let puts = |count: usize| -> Vec<WriteRequest> {
        (0..count).map(|i| put(hkey(&format!("k{i}")))).collect()
    };
    expect_error(
        c.batch_write_item()
            .request_items(H, puts(26))
            .send()
            .await,
        VALIDATION,
        &format!(
            "1 validation error detected: Value at 'RequestItems.{H}.member' failed to satisfy constraint: Member must have length less than or equal to 25"
        ),
    );
    let across: Vec<WriteRequest> = (0..6).map(|i| put(rkey("p", &i.to_string()))).collect();
    expect_error(
        c.batch_write_item()
            .request_items(H, puts(20))
            .request_items(R, across.clone())
            .send()
            .await,
        VALIDATION,
        "Too many items requested for the BatchWriteItem call",
    );
    assert_eq!(item_count(c, H).await, 0);
    ok(c.batch_write_item()
        .request_items(H, puts(19))
        .request_items(R, across)
        .send()
        .await);
    assert_eq!(item_count(c, H).await, 19, "exactly 25 requests is allowed");
    assert_eq!(item_count(c, R).await, 6);
}

#[tokio::test]
async fn batch_write_framework_violations() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    expect_error(
        c.batch_write_item()
            .set_request_items(Some(HashMap::new()))
            .send()
            .await,
        VALIDATION,
        "The requestItems parameter is required for BatchWriteItem",
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![])
            .send()
            .await,
        VALIDATION,
        &format!(
            "1 validation error detected: Value '{{{H}=[]}}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
        ),
    );
    let rcc = "Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]";
    let ricm = "Value 'BOGUS2' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]";
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(hkey("enum"))])
            .return_consumed_capacity(ReturnConsumedCapacity::from("BOGUS"))
            .return_item_collection_metrics(ReturnItemCollectionMetrics::from("BOGUS2"))
            .send()
            .await,
        VALIDATION,
        &format!("2 validation errors detected: {rcc}; {ricm}"),
    );
    // A bad enum is reported alone, ahead of a malformed table name.
    expect_error(
        c.batch_write_item()
            .request_items("bad!name", vec![put(hkey("enum"))])
            .return_consumed_capacity(ReturnConsumedCapacity::from("BOGUS"))
            .send()
            .await,
        VALIDATION,
        &format!("1 validation error detected: {rcc}"),
    );
    expect_error(
        c.batch_write_item()
            .request_items("ab", vec![put(hkey("x"))])
            .send()
            .await,
        VALIDATION,
        "1 validation error detected: Value '{ab=[WriteRequest(putRequest=PutRequest(item={pk=AttributeValue(s=x)}), deleteRequest=null)]}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]",
    );
    assert_eq!(get(c, H, hkey("enum")).await, None);
}

#[tokio::test]
async fn each_write_request_holds_exactly_one_request() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let text = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(hkey("a")), WriteRequest::builder().build()])
            .send()
            .await,
        VALIDATION,
        text,
    );
    let both = WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(hkey("a")))
                .build()
                .unwrap(),
        )
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(hkey("b")))
                .build()
                .unwrap(),
        )
        .build();
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![both])
            .send()
            .await,
        VALIDATION,
        text,
    );
    assert_eq!(item_count(c, H).await, 0);
}

#[tokio::test]
async fn missing_request_members_are_framework_violations() {
    let nimbus = setup().await;
    let client = common::http1_client();
    let body =
        format!(r#"{{"RequestItems":{{"{H}":[{{"PutRequest":{{}}}},{{"DeleteRequest":{{}}}}]}}}}"#);
    // nimbus reads the credential scope, not the signature.
    let mut request =
        common::unsigned_dynamodb_request(&nimbus.server.endpoint, "BatchWriteItem", &body);
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
    assert_eq!(parts.status, 400);
    let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        error["message"],
        format!(
            "2 validation errors detected: Value null at 'requestItems.{H}.member.1.member.putRequest.item' failed to satisfy constraint: Member must not be null; Value null at 'requestItems.{H}.member.2.member.deleteRequest.key' failed to satisfy constraint: Member must not be null"
        )
    );
}

#[tokio::test]
async fn batch_write_rejects_duplicate_keys_in_a_table() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(hkey("a")), delete(hkey("a"))])
            .send()
            .await,
        VALIDATION,
        DUPLICATES,
    );
    // Items with the same key but other attributes, numbers by value.
    expect_error(
        c.batch_write_item()
            .request_items(
                R,
                vec![
                    put(item(&[("pk", s("p")), ("sk", n("1")), ("v", n(1))])),
                    put(item(&[("pk", s("p")), ("sk", n("1.0")), ("v", n(2))])),
                ],
            )
            .send()
            .await,
        VALIDATION,
        DUPLICATES,
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![delete(hkey("d")), delete(hkey("d"))])
            .send()
            .await,
        VALIDATION,
        DUPLICATES,
    );
    // The table is looked up first.
    expect_error(
        c.batch_write_item()
            .request_items("no-such-table", vec![put(hkey("a")), delete(hkey("a"))])
            .send()
            .await,
        NOT_FOUND,
        NOT_FOUND_TEXT,
    );
}

#[tokio::test]
async fn batch_write_checks_keys_against_the_schema() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    for bad in [
        put(item(&[("other", s("x"))])),
        put(item(&[("pk", n(5))])),
        put(item(&[("pk", l(vec![s("x")]))])),
        delete(item(&[("other", s("x"))])),
        delete(item(&[("pk", s("x")), ("extra", s("y"))])),
    ] {
        expect_error(
            c.batch_write_item()
                .request_items(H, vec![bad])
                .send()
                .await,
            VALIDATION,
            SCHEMA,
        );
    }
    expect_error(
        c.batch_write_item()
            .request_items(R, vec![put(hkey("no-sort-key"))])
            .send()
            .await,
        VALIDATION,
        SCHEMA,
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(hkey(""))])
            .send()
            .await,
        VALIDATION,
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![delete(hkey(""))])
            .send()
            .await,
        VALIDATION,
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(hkey(&"k".repeat(2049)))])
            .send()
            .await,
        VALIDATION,
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
    );
}

#[tokio::test]
async fn batch_write_checks_items_before_tables() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let too_big = "Item size has exceeded the maximum allowed size";
    let at_limit = item_of_size("limit", 400 * 1024);
    ok(c.batch_write_item()
        .request_items(H, vec![put(at_limit)])
        .send()
        .await);
    assert!(
        get(c, H, hkey("limit")).await.is_some(),
        "exactly 400 KB fits"
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(item_of_size("over", 400 * 1024 + 1))])
            .send()
            .await,
        VALIDATION,
        too_big,
    );
    // The size is checked before the table is looked up.
    expect_error(
        c.batch_write_item()
            .request_items(
                "no-such-table",
                vec![put(item_of_size("over", 400 * 1024 + 1))],
            )
            .send()
            .await,
        VALIDATION,
        too_big,
    );
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(item(&[("pk", s("a")), ("set", ss(&[]))]))])
            .send()
            .await,
        VALIDATION,
        "One or more parameter values were invalid: An string set  may not be empty",
    );
}

#[tokio::test]
async fn a_batch_with_any_bad_entry_writes_nothing() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    ok(c.put_item()
        .table_name(H)
        .set_item(Some(item(&[("pk", s("keep")), ("v", n(1))])))
        .send()
        .await);
    let good = || {
        vec![
            put(item(&[("pk", s("new")), ("v", n(1))])),
            put(item(&[("pk", s("keep")), ("v", n(2))])),
        ]
    };
    let bad_batches = vec![
        // A key that does not match the schema, in the other table.
        c.batch_write_item()
            .request_items(H, good())
            .request_items(R, vec![put(hkey("no-sort-key"))]),
        // A table that does not exist.
        c.batch_write_item()
            .request_items(H, good())
            .request_items("no-such-table", vec![put(hkey("x"))]),
        // A duplicate at the end.
        c.batch_write_item().request_items(H, {
            let mut w = good();
            w.push(delete(hkey("new")));
            w
        }),
        // An item over 400 KB.
        c.batch_write_item().request_items(H, {
            let mut w = good();
            w.push(put(item_of_size("huge", 400 * 1024 + 1)));
            w
        }),
        // An empty request.
        c.batch_write_item().request_items(H, {
            let mut w = good();
            w.push(WriteRequest::builder().build());
            w
        }),
    ];
    for batch in bad_batches {
        let result = batch.send().await;
        assert!(result.is_err(), "the batch must fail");
        assert_eq!(get(c, H, hkey("new")).await, None, "nothing written");
        assert_eq!(
            get(c, H, hkey("keep")).await,
            Some(item(&[("pk", s("keep")), ("v", n(1))])),
            "nothing replaced"
        );
        assert_eq!(item_count(c, H).await, 1);
        assert_eq!(item_count(c, R).await, 0);
    }
}

#[tokio::test]
async fn batches_on_a_deleted_table_fail() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    ok(c.delete_table().table_name(H).send().await);
    expect_error(
        c.batch_write_item()
            .request_items(H, vec![put(hkey("a"))])
            .send()
            .await,
        NOT_FOUND,
        NOT_FOUND_TEXT,
    );
    expect_error(
        c.batch_get_item()
            .request_items(H, keys(vec![hkey("a")]))
            .send()
            .await,
        NOT_FOUND,
        NOT_FOUND_TEXT,
    );
}
