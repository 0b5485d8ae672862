//! DynamoDB Query and Scan through the official AWS SDK for Rust against a
//! live `nimbus serve`: sort-key conditions, ordering, pagination, filters,
//! counts, the 1 MB page limit and parallel scans.

mod common;
mod sdk;

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const T: &str = "qry";

/// A table with `pk` (S) and `sk` of `sk_type`, holding `items`.
async fn setup(sk_type: ScalarAttributeType, items: Vec<Item>) -> Nimbus {
    let nimbus = start().await;
    range_table(&nimbus.client, T, sk_type).await;
    put_all(&nimbus.client, T, items).await;
    nimbus
}

/// Writes items concurrently (a few at a time).
async fn put_all(c: &Client, table: &str, items: Vec<Item>) {
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in items.chunks(items.len().div_ceil(8).max(1)) {
        let c = c.clone();
        let table = table.to_string();
        let chunk = chunk.to_vec();
        tasks.spawn(async move {
            for it in chunk {
                ok(c.put_item()
                    .table_name(&table)
                    .set_item(Some(it))
                    .send()
                    .await);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

fn sk_of(it: &Item) -> AttributeValue {
    it.get("sk").cloned().expect("sk")
}

/// The sort keys of a page, as the strings the SDK carries.
fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|it| match sk_of(it) {
            AttributeValue::N(v) | AttributeValue::S(v) => v,
            other => panic!("unexpected sk {other:?}"),
        })
        .collect()
}

async fn query_sks(c: &Client, cond: &str, values: &[(&str, AttributeValue)]) -> Vec<String> {
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression(cond)
        .set_expression_attribute_values(Some(item(values)))
        .send()
        .await);
    assert_eq!(out.count() as usize, out.items().len());
    assert_eq!(out.scanned_count(), out.count());
    assert_eq!(out.last_evaluated_key(), None);
    sks(out.items())
}

#[tokio::test]
async fn sort_key_conditions_on_numbers() {
    let numbers = ["10", "-2", "1.5", "0", "-10", "100", "0.25"];
    let mut items: Vec<Item> = numbers
        .iter()
        .map(|v| item(&[("pk", s("p")), ("sk", n(v)), ("v", s(format!("n{v}")))]))
        .collect();
    // Another partition that must never show up.
    items.push(item(&[("pk", s("other")), ("sk", n(1))]));
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;
    let p = [(":p", s("p"))];
    let with = |extra: &[(&'static str, AttributeValue)]| {
        let mut v: Vec<(&str, AttributeValue)> = p.to_vec();
        v.extend(extra.iter().cloned());
        v
    };

    // Numbers order numerically, not as strings.
    assert_eq!(
        query_sks(c, "pk = :p", &p).await,
        ["-10", "-2", "0", "0.25", "1.5", "10", "100"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk = :v", &with(&[(":v", n("1.50"))])).await,
        ["1.5"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk < :v", &with(&[(":v", n(0))])).await,
        ["-10", "-2"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk <= :v", &with(&[(":v", n(0))])).await,
        ["-10", "-2", "0"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk > :v", &with(&[(":v", n("1.5"))])).await,
        ["10", "100"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk >= :v", &with(&[(":v", n("1.5"))])).await,
        ["1.5", "10", "100"]
    );
    assert_eq!(
        query_sks(
            c,
            "pk = :p AND sk BETWEEN :lo AND :hi",
            &with(&[(":lo", n(-2)), (":hi", n(10))])
        )
        .await,
        ["-2", "0", "0.25", "1.5", "10"]
    );
    // Operands may come in either order around the key condition's AND, and
    // names may be aliased.
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("#s > :v AND #p = :p")
        .expression_attribute_names("#s", "sk")
        .expression_attribute_names("#p", "pk")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":v", n(-3))
        .send()
        .await);
    assert_eq!(sks(out.items()), ["-2", "0", "0.25", "1.5", "10", "100"]);

    // Items come back whole.
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p AND sk = :v")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":v", n(-10))
        .send()
        .await);
    assert_eq!(
        out.items(),
        &[item(&[("pk", s("p")), ("sk", n(-10)), ("v", s("n-10"))])]
    );

    // An empty partition.
    assert!(query_sks(c, "pk = :p", &[(":p", s("nobody"))])
        .await
        .is_empty());
}

#[tokio::test]
async fn sort_key_conditions_on_strings() {
    let strings = ["b", "ab", "é", "a", "abc", "B", "ba", "a b"];
    let items = strings
        .iter()
        .map(|v| item(&[("pk", s("p")), ("sk", s(*v))]))
        .collect();
    let nimbus = setup(ScalarAttributeType::S, items).await;
    let c = &nimbus.client;
    let p = || (":p", s("p"));

    // Strings order by their UTF-8 bytes.
    assert_eq!(
        query_sks(c, "pk = :p", &[p()]).await,
        ["B", "a", "a b", "ab", "abc", "b", "ba", "é"]
    );
    assert_eq!(
        query_sks(
            c,
            "pk = :p AND begins_with(sk, :pre)",
            &[p(), (":pre", s("ab"))]
        )
        .await,
        ["ab", "abc"]
    );
    assert_eq!(
        query_sks(
            c,
            "pk = :p AND begins_with ( sk , :pre )",
            &[p(), (":pre", s("a"))]
        )
        .await,
        ["a", "a b", "ab", "abc"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk = :v", &[p(), (":v", s("ab"))]).await,
        ["ab"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk < :v", &[p(), (":v", s("ab"))]).await,
        ["B", "a", "a b"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk <= :v", &[p(), (":v", s("ab"))]).await,
        ["B", "a", "a b", "ab"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk > :v", &[p(), (":v", s("b"))]).await,
        ["ba", "é"]
    );
    assert_eq!(
        query_sks(c, "pk = :p AND sk >= :v", &[p(), (":v", s("b"))]).await,
        ["b", "ba", "é"]
    );
    assert_eq!(
        query_sks(
            c,
            "pk = :p AND sk BETWEEN :lo AND :hi",
            &[p(), (":lo", s("ab")), (":hi", s("b"))]
        )
        .await,
        ["ab", "abc", "b"]
    );
}

#[tokio::test]
async fn scan_index_forward_false_reverses() {
    let items = (0..10)
        .map(|i| item(&[("pk", s("p")), ("sk", n(i * 3 - 10))]))
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p AND sk > :v")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":v", n(-5))
        .scan_index_forward(false)
        .send()
        .await);
    assert_eq!(
        sks(out.items()),
        ["17", "14", "11", "8", "5", "2", "-1", "-4"]
    );

    // Paging backwards: Limit 3 gives the three largest, then resumes below.
    let page = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .scan_index_forward(false)
        .limit(3)
        .send()
        .await);
    assert_eq!(sks(page.items()), ["17", "14", "11"]);
    assert_eq!(
        page.last_evaluated_key(),
        Some(&item(&[("pk", s("p")), ("sk", n(11))]))
    );
    let next = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .scan_index_forward(false)
        .limit(3)
        .set_exclusive_start_key(page.last_evaluated_key)
        .send()
        .await);
    assert_eq!(sks(next.items()), ["8", "5", "2"]);
}

/// Walks a query's pages with `limit`, checking each page, and returns the
/// sort keys in order and the number of pages.
async fn walk_query(c: &Client, limit: i32, forward: bool) -> (Vec<String>, usize) {
    let mut all = Vec::new();
    let mut start: Option<Item> = None;
    let mut pages = 0;
    loop {
        let out = ok(c
            .query()
            .table_name(T)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .limit(limit)
            .scan_index_forward(forward)
            .set_exclusive_start_key(start.take())
            .send()
            .await);
        pages += 1;
        assert!(pages < 100, "pagination does not end");
        assert!(out.items().len() <= limit as usize);
        all.extend(sks(out.items()));
        match out.last_evaluated_key() {
            Some(lek) => {
                // The LastEvaluatedKey is the key of the last item returned.
                let last = out.items().last().expect("a page with a LEK has items");
                assert_eq!(
                    lek,
                    &item(&[("pk", s("p")), ("sk", sk_of(last))]),
                    "LastEvaluatedKey is the last item's key"
                );
                start = Some(lek.clone());
            }
            None => return (all, pages),
        }
    }
}

#[tokio::test]
async fn limit_and_last_evaluated_key_walk_all_pages() {
    let items: Vec<Item> = (0..10)
        .map(|i| {
            item(&[
                ("pk", s("p")),
                ("sk", n(i)),
                ("data", s("x".repeat(i as usize))),
            ])
        })
        .chain([item(&[("pk", s("zz")), ("sk", n(0))])])
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;
    let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();

    let (got, pages) = walk_query(c, 3, true).await;
    assert_eq!(got, expected);
    assert_eq!(pages, 4, "3 + 3 + 3 + 1");

    // When the last page is exactly full, DynamoDB may return a key and then
    // an empty page; either way nothing is lost or repeated.
    let (got, pages) = walk_query(c, 5, true).await;
    assert_eq!(got, expected);
    assert!(pages == 2 || pages == 3, "{pages} pages");

    let (got, _) = walk_query(c, 4, false).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(got, reversed);

    // The SDK's paginator gets the same items.
    let mut stream = c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .limit(3)
        .into_paginator()
        .items()
        .send();
    let mut paged = Vec::new();
    while let Some(it) = stream.next().await {
        paged.push(ok(it));
    }
    assert_eq!(sks(&paged), expected);
}

#[tokio::test]
async fn filter_applies_after_limit() {
    let items = (1..=10)
        .map(|i| {
            item(&[
                ("pk", s("p")),
                ("sk", n(i)),
                ("even", boolean(i % 2 == 0)),
                ("label", s(format!("item{i}"))),
            ])
        })
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;

    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .filter_expression("even = :t")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":t", boolean(true))
        .limit(4)
        .send()
        .await);
    // Limit caps the items read (4); the filter then keeps 2 of them.
    assert_eq!(out.scanned_count(), 4);
    assert_eq!(out.count(), 2);
    assert_eq!(sks(out.items()), ["2", "4"]);
    assert_eq!(
        out.last_evaluated_key(),
        Some(&item(&[("pk", s("p")), ("sk", n(4))]))
    );

    // A page may be empty after filtering and still carry a key.
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p AND sk >= :from")
        .filter_expression("label = :none")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":from", n(5))
        .expression_attribute_values(":none", s("nope"))
        .limit(2)
        .send()
        .await);
    assert_eq!(out.scanned_count(), 2);
    assert_eq!(out.count(), 0);
    assert!(out.items().is_empty());
    assert_eq!(
        out.last_evaluated_key(),
        Some(&item(&[("pk", s("p")), ("sk", n(6))]))
    );

    // Without a limit the whole partition is read and filtered (labels
    // compare as strings: "item10" < "item3" < "item5").
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .filter_expression("even = :f AND label > :three")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":f", boolean(false))
        .expression_attribute_values(":three", s("item3"))
        .send()
        .await);
    assert_eq!(out.scanned_count(), 10);
    assert_eq!(out.count(), 3);
    assert_eq!(sks(out.items()), ["5", "7", "9"]);
    assert_eq!(out.last_evaluated_key(), None);

    // Projection applies to what is returned.
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p AND sk = :one")
        .projection_expression("label")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":one", n(1))
        .send()
        .await);
    assert_eq!(out.items(), &[item(&[("label", s("item1"))])]);
}

#[tokio::test]
async fn select_count() {
    let items = (1..=6)
        .map(|i| item(&[("pk", s("p")), ("sk", n(i)), ("big", boolean(i > 2))]))
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .select(Select::Count)
        .send()
        .await);
    assert_eq!(out.count(), 6);
    assert_eq!(out.scanned_count(), 6);
    assert_eq!(out.items, None, "COUNT returns no items");

    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .filter_expression("big = :t")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":t", boolean(true))
        .select(Select::Count)
        .send()
        .await);
    assert_eq!(out.count(), 4);
    assert_eq!(out.scanned_count(), 6);
    assert_eq!(out.items, None);

    let out = ok(c.scan().table_name(T).select(Select::Count).send().await);
    assert_eq!(out.count(), 6);
    assert_eq!(out.items, None);
}

#[tokio::test]
async fn one_megabyte_page_limit() {
    // 300 items of a little over 4 KB each: about 1.2 MB in one partition.
    let payload = "x".repeat(4096);
    let items: Vec<Item> = (0..300)
        .map(|i| item(&[("pk", s("big")), ("sk", n(i)), ("data", s(payload.clone()))]))
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;
    let item_size = "pk".len() + "big".len() + "sk".len() + "data".len() + 4096; // + number bytes
    let per_mb = (1024 * 1024) / item_size; // about 254

    let first = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("big"))
        .send()
        .await);
    let count = first.count() as usize;
    assert!(
        count + 5 >= per_mb && count <= per_mb + 5,
        "first page holds {count} items; ~{per_mb} fit in 1 MB"
    );
    let lek = first
        .last_evaluated_key()
        .cloned()
        .expect("a page cut by the 1 MB limit has a LastEvaluatedKey");
    assert_eq!(lek.get("sk"), Some(&n(count - 1)));
    let rest = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("big"))
        .set_exclusive_start_key(Some(lek))
        .send()
        .await);
    assert_eq!(count + rest.count() as usize, 300);
    assert_eq!(rest.last_evaluated_key(), None);
    assert_eq!(
        rest.items().first().and_then(|it| it.get("sk")),
        Some(&n(count))
    );

    // Select COUNT is bound by the same 1 MB of data read.
    let counted = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("big"))
        .select(Select::Count)
        .send()
        .await);
    assert_eq!(counted.count() as usize, count);
    assert!(counted.last_evaluated_key().is_some());

    // Scan stops at 1 MB too.
    let scanned = ok(c.scan().table_name(T).send().await);
    let scan_count = scanned.count() as usize;
    assert!(
        scan_count + 5 >= per_mb && scan_count <= per_mb + 5,
        "first scan page holds {scan_count} items"
    );
    assert!(scanned.last_evaluated_key().is_some());
}

/// Every item of a (segment of a) scan, walking pages of `limit`.
async fn scan_all(c: &Client, segment: Option<(i32, i32)>, limit: Option<i32>) -> Vec<Item> {
    let mut all = Vec::new();
    let mut start: Option<Item> = None;
    for _ in 0..1000 {
        let mut req = c
            .scan()
            .table_name(T)
            .set_limit(limit)
            .set_exclusive_start_key(start.take());
        if let Some((seg, total)) = segment {
            req = req.segment(seg).total_segments(total);
        }
        let out = ok(req.send().await);
        assert_eq!(out.count() as usize, out.items().len());
        all.extend(out.items().iter().cloned());
        match out.last_evaluated_key {
            Some(lek) => start = Some(lek),
            None => return all,
        }
    }
    panic!("scan pagination does not end");
}

fn keys_of(items: &[Item]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|it| {
            let pk = it["pk"].as_s().unwrap().clone();
            let sk = it["sk"].as_n().unwrap().clone();
            (pk, sk)
        })
        .collect()
}

#[tokio::test]
async fn scan_and_parallel_scan() {
    let items: Vec<Item> = (0..40)
        .flat_map(|p| {
            (0..5).map(move |i| {
                item(&[
                    ("pk", s(format!("part-{p}"))),
                    ("sk", n(i)),
                    ("odd", boolean(i % 2 == 1)),
                ])
            })
        })
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items.clone()).await;
    let c = &nimbus.client;
    let expected: HashSet<(String, String)> = keys_of(&items).into_iter().collect();
    assert_eq!(expected.len(), 200);

    // A full scan, in one page and in pages of 7.
    let one = scan_all(c, None, None).await;
    assert_eq!(one.len(), 200);
    assert_eq!(keys_of(&one).into_iter().collect::<HashSet<_>>(), expected);
    let paged = scan_all(c, None, Some(7)).await;
    assert_eq!(
        keys_of(&paged),
        keys_of(&one),
        "paging keeps the scan order"
    );

    // Items of one partition come out together and in sort-key order.
    let order = keys_of(&one);
    for w in order.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[0].1.parse::<i32>().unwrap() < w[1].1.parse::<i32>().unwrap());
        }
    }

    // Four segments: disjoint, and together everything.
    let mut union = Vec::new();
    let mut nonempty = 0;
    for seg in 0..4 {
        let part = scan_all(c, Some((seg, 4)), Some(9)).await;
        if !part.is_empty() {
            nonempty += 1;
        }
        union.extend(keys_of(&part));
    }
    let unique: HashSet<_> = union.iter().cloned().collect();
    assert_eq!(
        union.len(),
        unique.len(),
        "an item appeared in two segments"
    );
    assert_eq!(unique, expected);
    assert!(
        nonempty >= 2,
        "40 partitions should spread over the segments"
    );

    // A filtered scan.
    let out = ok(c
        .scan()
        .table_name(T)
        .filter_expression("odd = :t AND begins_with(pk, :pre)")
        .expression_attribute_values(":t", boolean(true))
        .expression_attribute_values(":pre", s("part-1"))
        .send()
        .await);
    // part-1 and part-10..part-19: 11 partitions with 2 odd items each.
    assert_eq!(out.count(), 22);
    assert_eq!(out.scanned_count(), 200);

    expect_error(
        c.scan()
            .table_name(T)
            .segment(4)
            .total_segments(4)
            .send()
            .await,
        "ValidationException",
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: \
         Segment: 4 is not less than TotalSegments: 4",
    );
}

#[tokio::test]
async fn query_validation_errors() {
    let nimbus = setup(
        ScalarAttributeType::N,
        vec![item(&[("pk", s("p")), ("sk", n(1)), ("v", n(1))])],
    )
    .await;
    let c = &nimbus.client;
    let v = "ValidationException";
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("sk = :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await,
        v,
        "Query condition missed key schema element: pk",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("pk = :p AND v = :one")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":one", n(1))
            .send()
            .await,
        v,
        "Query condition missed key schema element: sk",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("pk = :p")
            .filter_expression("sk = :one")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":one", n(1))
            .send()
            .await,
        v,
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .limit(0)
            .send()
            .await,
        v,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
         Member must have value greater than or equal to 1",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .exclusive_start_key("pk", s("p"))
            .send()
            .await,
        v,
        "The provided starting key is invalid: The provided key element does not match the schema",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("pk = :p AND begins_with(sk, :one)")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":one", n(1))
            .send()
            .await,
        v,
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; \
         operator or function: begins_with, operand type: N",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":unused", s("x"))
            .send()
            .await,
        v,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
    );
}

#[tokio::test]
async fn consumed_capacity_sums_item_sizes() {
    // Ten items of about 1,000 bytes: about 10,000 bytes read, which rounds
    // up to three 4 KB units (1.5 when eventually consistent).
    let items = (0..10)
        .map(|i| item(&[("pk", s("p")), ("sk", n(i)), ("data", s("x".repeat(990)))]))
        .collect();
    let nimbus = setup(ScalarAttributeType::N, items).await;
    let c = &nimbus.client;
    for (consistent, units) in [(true, 3.0), (false, 1.5)] {
        let out = ok(c
            .query()
            .table_name(T)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await);
        let cc = out.consumed_capacity().expect("ConsumedCapacity");
        assert_eq!(cc.table_name(), Some(T));
        assert_eq!(cc.capacity_units(), Some(units), "consistent={consistent}");

        let out = ok(c
            .scan()
            .table_name(T)
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await);
        assert_eq!(
            out.consumed_capacity().and_then(|cc| cc.capacity_units()),
            Some(units),
            "scan, consistent={consistent}"
        );
    }
    // Filtering does not reduce what was read.
    let out = ok(c
        .query()
        .table_name(T)
        .key_condition_expression("pk = :p")
        .filter_expression("attribute_not_exists(#d)")
        .expression_attribute_names("#d", "data")
        .expression_attribute_values(":p", s("p"))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(out.count(), 0);
    assert_eq!(
        out.consumed_capacity().and_then(|cc| cc.capacity_units()),
        Some(3.0)
    );
}
