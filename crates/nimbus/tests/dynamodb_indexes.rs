//! DynamoDB global and local secondary indexes through the official AWS SDK
//! for Rust against a live `nimbus serve`: CreateTable validation, sparse
//! and overloaded indexes, projections, index maintenance on every write
//! path, Query/Scan by IndexName with pagination, and DescribeTable.

mod common;
mod sdk;

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, GlobalSecondaryIndex, IndexStatus, KeyType, LocalSecondaryIndex,
    Projection, ProjectionType, ProvisionedThroughput, PutRequest, ScalarAttributeType, Select,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const VE: &str = "ValidationException";
const T: &str = "tasks";

fn projection(kind: ProjectionType, non_key: &[&str]) -> Projection {
    let mut p = Projection::builder().projection_type(kind);
    for n in non_key {
        p = p.non_key_attributes(*n);
    }
    p.build()
}

fn gsi(name: &str, hash: &str, range: Option<&str>, p: Projection) -> GlobalSecondaryIndex {
    let mut g = GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key_element(hash, KeyType::Hash))
        .projection(p);
    if let Some(r) = range {
        g = g.key_schema(key_element(r, KeyType::Range));
    }
    g.build().unwrap()
}

fn lsi(name: &str, hash: &str, range: &str, p: Projection) -> LocalSecondaryIndex {
    LocalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key_element(hash, KeyType::Hash))
        .key_schema(key_element(range, KeyType::Range))
        .projection(p)
        .build()
        .unwrap()
}

fn all() -> Projection {
    projection(ProjectionType::All, &[])
}

/// `tasks`: hash key `taskId`; GSIs `byStatus` (status S, created N, ALL),
/// `byOwner` (owner S, KEYS_ONLY) and `byPriority` (priority N, INCLUDE
/// title).
async fn tasks_table(c: &Client) {
    ok(c.create_table()
        .table_name(T)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("taskId", KeyType::Hash))
        .attribute_definitions(attr_def("taskId", ScalarAttributeType::S))
        .attribute_definitions(attr_def("status", ScalarAttributeType::S))
        .attribute_definitions(attr_def("created", ScalarAttributeType::N))
        .attribute_definitions(attr_def("owner", ScalarAttributeType::S))
        .attribute_definitions(attr_def("priority", ScalarAttributeType::N))
        .global_secondary_indexes(gsi("byStatus", "status", Some("created"), all()))
        .global_secondary_indexes(gsi(
            "byOwner",
            "owner",
            None,
            projection(ProjectionType::KeysOnly, &[]),
        ))
        .global_secondary_indexes(gsi(
            "byPriority",
            "priority",
            None,
            projection(ProjectionType::Include, &["title"]),
        ))
        .send()
        .await);
}

fn task(id: &str, status: Option<&str>, created: i64) -> Item {
    let mut it = item(&[
        ("taskId", s(id)),
        ("created", n(created)),
        ("title", s(format!("task {id}"))),
        ("owner", s("ann")),
        ("priority", n(created % 3)),
        ("body", s("details")),
    ]);
    if let Some(st) = status {
        it.insert("status".into(), s(st));
    }
    it
}

async fn put(c: &Client, table: &str, it: Item) {
    ok(c.put_item()
        .table_name(table)
        .set_item(Some(it))
        .send()
        .await);
}

fn ids(items: &[Item], attr: &str) -> Vec<String> {
    items
        .iter()
        .map(|it| match it.get(attr) {
            Some(AttributeValue::S(v)) | Some(AttributeValue::N(v)) => v.clone(),
            other => panic!("no {attr}: {other:?}"),
        })
        .collect()
}

async fn by_status(c: &Client, status: &str) -> Vec<String> {
    let out = ok(c
        .query()
        .table_name(T)
        .index_name("byStatus")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s(status))
        .send()
        .await);
    ids(out.items(), "taskId")
}

#[tokio::test]
async fn sparse_gsi_orders_by_index_sort_key_and_describes() {
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    put(c, T, task("t1", Some("open"), 30)).await;
    put(c, T, task("t2", Some("open"), 10)).await;
    put(c, T, task("t3", None, 20)).await;
    put(c, T, task("t4", Some("done"), 5)).await;
    put(c, T, task("t5", Some("open"), 20)).await;

    assert_eq!(by_status(c, "open").await, ["t2", "t5", "t1"]);
    assert_eq!(by_status(c, "done").await, ["t4"]);
    // Items without the index key are not in the index.
    let scan = ok(c.scan().table_name(T).index_name("byStatus").send().await);
    assert_eq!(scan.count(), 4);
    assert!(!ids(scan.items(), "taskId").contains(&"t3".to_string()));

    // Newest first, one at a time.
    let newest = ok(c
        .query()
        .table_name(T)
        .index_name("byStatus")
        .key_condition_expression("#s = :s AND created > :c")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .expression_attribute_values(":c", n(10))
        .scan_index_forward(false)
        .limit(1)
        .send()
        .await);
    assert_eq!(ids(newest.items(), "taskId"), ["t1"]);
    let lek = newest.last_evaluated_key().expect("more may follow");
    assert_eq!(lek.len(), 3, "index keys and table key: {lek:?}");
    assert_eq!(lek.get("taskId"), Some(&s("t1")));
    assert_eq!(lek.get("status"), Some(&s("open")));
    assert_eq!(lek.get("created"), Some(&n(30)));

    let desc = ok(c.describe_table().table_name(T).send().await)
        .table
        .unwrap();
    let gsis = desc.global_secondary_indexes();
    assert_eq!(gsis.len(), 3);
    let g = gsis
        .iter()
        .find(|g| g.index_name() == Some("byStatus"))
        .unwrap();
    assert_eq!(g.index_status(), Some(&IndexStatus::Active));
    assert_eq!(g.item_count(), Some(4));
    assert!(g.index_size_bytes().unwrap() > 0);
    assert_eq!(
        g.index_arn(),
        Some(format!("{}/index/byStatus", table_arn(T)).as_str())
    );
    assert_eq!(g.key_schema().len(), 2);
    assert_eq!(
        g.projection().unwrap().projection_type(),
        Some(&ProjectionType::All)
    );
    let inc = gsis
        .iter()
        .find(|g| g.index_name() == Some("byPriority"))
        .unwrap();
    assert_eq!(inc.projection().unwrap().non_key_attributes(), ["title"]);
    assert_eq!(inc.item_count(), Some(5));
    assert_eq!(desc.attribute_definitions().len(), 5);
}

#[tokio::test]
async fn projections_return_only_projected_attributes() {
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    put(c, T, task("t1", Some("open"), 4)).await;

    let keys_only = ok(c
        .query()
        .table_name(T)
        .index_name("byOwner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("ann"))
        .send()
        .await);
    assert_item_eq(
        &keys_only.items()[0],
        &item(&[("taskId", s("t1")), ("owner", s("ann"))]),
    );
    let include = ok(c
        .query()
        .table_name(T)
        .index_name("byPriority")
        .key_condition_expression("priority = :p")
        .expression_attribute_values(":p", n(1))
        .select(Select::AllProjectedAttributes)
        .send()
        .await);
    assert_item_eq(
        &include.items()[0],
        &item(&[
            ("taskId", s("t1")),
            ("priority", n(1)),
            ("title", s("task t1")),
        ]),
    );
    let all = ok(c
        .query()
        .table_name(T)
        .index_name("byStatus")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .send()
        .await);
    assert_item_eq(&all.items()[0], &task("t1", Some("open"), 4));
    // A projection expression over an index.
    let projected = ok(c
        .query()
        .table_name(T)
        .index_name("byStatus")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .projection_expression("title, created")
        .send()
        .await);
    assert_item_eq(
        &projected.items()[0],
        &item(&[("title", s("task t1")), ("created", n(4))]),
    );
    expect_error(
        c.query()
            .table_name(T)
            .index_name("byOwner")
            .key_condition_expression("#o = :o")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s("ann"))
            .select(Select::AllAttributes)
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byOwner because its projection type is not ALL",
    );
    // A GSI cannot be asked for attributes it does not project.
    expect_error(
        c.query()
            .table_name(T)
            .index_name("byOwner")
            .key_condition_expression("#o = :o")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s("ann"))
            .projection_expression("taskId, body, title")
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Global secondary index byOwner does not project [body, title]",
    );
    expect_error(
        c.scan()
            .table_name(T)
            .index_name("byPriority")
            .filter_expression("body = :b")
            .expression_attribute_values(":b", s("x"))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Secondary index byPriority does not project one or more filter attributes: [body]",
    );
}

#[tokio::test]
async fn every_write_path_maintains_the_index() {
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    put(c, T, task("t1", Some("open"), 1)).await;
    put(c, T, task("t2", Some("open"), 2)).await;
    assert_eq!(by_status(c, "open").await, ["t1", "t2"]);

    // UpdateItem moves the entry; REMOVE drops it.
    ok(c.update_item()
        .table_name(T)
        .key("taskId", s("t1"))
        .update_expression("SET #s = :d")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":d", s("done"))
        .send()
        .await);
    assert_eq!(by_status(c, "open").await, ["t2"]);
    assert_eq!(by_status(c, "done").await, ["t1"]);
    ok(c.update_item()
        .table_name(T)
        .key("taskId", s("t1"))
        .update_expression("REMOVE #s")
        .expression_attribute_names("#s", "status")
        .send()
        .await);
    assert!(by_status(c, "done").await.is_empty());
    // An update that keeps the keys refreshes the projected copy.
    ok(c.update_item()
        .table_name(T)
        .key("taskId", s("t2"))
        .update_expression("SET body = :b")
        .expression_attribute_values(":b", s("new body"))
        .send()
        .await);
    let out = ok(c
        .query()
        .table_name(T)
        .index_name("byStatus")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .send()
        .await);
    assert_eq!(out.items()[0].get("body"), Some(&s("new body")));

    // DeleteItem.
    ok(c.delete_item()
        .table_name(T)
        .key("taskId", s("t2"))
        .send()
        .await);
    assert!(by_status(c, "open").await.is_empty());

    // BatchWriteItem.
    let puts: Vec<WriteRequest> = (10..13)
        .map(|i| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(task(&format!("b{i}"), Some("batch"), i)))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .collect();
    ok(c.batch_write_item().request_items(T, puts).send().await);
    assert_eq!(by_status(c, "batch").await, ["b10", "b11", "b12"]);
    let del = WriteRequest::builder()
        .delete_request(
            aws_sdk_dynamodb::types::DeleteRequest::builder()
                .key("taskId", s("b11"))
                .build()
                .unwrap(),
        )
        .build();
    ok(c.batch_write_item()
        .request_items(T, vec![del])
        .send()
        .await);
    assert_eq!(by_status(c, "batch").await, ["b10", "b12"]);

    // TransactWriteItems.
    ok(c.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(T)
                        .key("taskId", s("b10"))
                        .update_expression("SET #s = :t")
                        .expression_attribute_names("#s", "status")
                        .expression_attribute_values(":t", s("txn"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    aws_sdk_dynamodb::types::Put::builder()
                        .table_name(T)
                        .set_item(Some(task("x1", Some("txn"), 99)))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await);
    assert_eq!(by_status(c, "batch").await, ["b12"]);
    assert_eq!(by_status(c, "txn").await, ["b10", "x1"]);

    // A cancelled transaction leaves the index alone.
    let failed = c
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(T)
                        .key("taskId", s("x1"))
                        .update_expression("SET #s = :t")
                        .condition_expression("attribute_not_exists(taskId)")
                        .expression_attribute_names("#s", "status")
                        .expression_attribute_values(":t", s("never"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert!(failed.is_err());
    assert_eq!(by_status(c, "txn").await, ["b10", "x1"]);

    let desc = ok(c.describe_table().table_name(T).send().await)
        .table
        .unwrap();
    let g = desc
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some("byStatus"))
        .unwrap();
    assert_eq!(g.item_count(), Some(3));

    // DeleteTable drops the entries: a new table of the same name is empty.
    ok(c.delete_table().table_name(T).send().await);
    tasks_table(c).await;
    assert!(by_status(c, "txn").await.is_empty());
}

#[tokio::test]
async fn overloaded_single_table_gsi_and_pagination() {
    let nimbus = start().await;
    let c = &nimbus.client;
    ok(c.create_table()
        .table_name("app")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("PK", KeyType::Hash))
        .key_schema(key_element("SK", KeyType::Range))
        .attribute_definitions(attr_def("PK", ScalarAttributeType::S))
        .attribute_definitions(attr_def("SK", ScalarAttributeType::S))
        .attribute_definitions(attr_def("GSI1PK", ScalarAttributeType::S))
        .attribute_definitions(attr_def("GSI1SK", ScalarAttributeType::S))
        .global_secondary_indexes(gsi("GSI1", "GSI1PK", Some("GSI1SK"), all()))
        .send()
        .await);
    // Users and their orders; orders are also listed by status, and many
    // share one index sort key.
    for u in 0..3 {
        put(
            c,
            "app",
            item(&[
                ("PK", s(format!("USER#{u}"))),
                ("SK", s("PROFILE")),
                ("GSI1PK", s("USERS")),
                ("GSI1SK", s(format!("NAME#{u}"))),
            ]),
        )
        .await;
        for o in 0..7 {
            put(
                c,
                "app",
                item(&[
                    ("PK", s(format!("USER#{u}"))),
                    ("SK", s(format!("ORDER#{o}"))),
                    ("GSI1PK", s("ORDERS#pending")),
                    ("GSI1SK", s(if o % 2 == 0 { "DAY#1" } else { "DAY#2" })),
                ]),
            )
            .await;
        }
    }
    let users = ok(c
        .query()
        .table_name("app")
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :p AND begins_with(GSI1SK, :n)")
        .expression_attribute_values(":p", s("USERS"))
        .expression_attribute_values(":n", s("NAME#"))
        .send()
        .await);
    assert_eq!(ids(users.items(), "PK"), ["USER#0", "USER#1", "USER#2"]);

    // Page through 21 orders 4 at a time: nothing repeats or goes missing,
    // and entries with equal index keys come in table key order.
    let mut seen = Vec::new();
    let mut start = None;
    let mut pages = 0;
    loop {
        let out = ok(c
            .query()
            .table_name("app")
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", s("ORDERS#pending"))
            .limit(4)
            .set_exclusive_start_key(start.take())
            .send()
            .await);
        pages += 1;
        for it in out.items() {
            seen.push((
                ids(std::slice::from_ref(it), "GSI1SK")[0].clone(),
                ids(std::slice::from_ref(it), "PK")[0].clone(),
                ids(std::slice::from_ref(it), "SK")[0].clone(),
            ));
        }
        match out.last_evaluated_key {
            Some(k) => {
                assert_eq!(k.len(), 4);
                start = Some(k);
            }
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen.len(), 21);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    sorted.dedup();
    assert_eq!(sorted.len(), 21);

    // Between on the index sort key, descending.
    let day2 = ok(c
        .query()
        .table_name("app")
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :p AND GSI1SK BETWEEN :a AND :b")
        .expression_attribute_values(":p", s("ORDERS#pending"))
        .expression_attribute_values(":a", s("DAY#2"))
        .expression_attribute_values(":b", s("DAY#2"))
        .scan_index_forward(false)
        .send()
        .await);
    assert_eq!(day2.count(), 9);
    for (op, expected) in [("<", 0), ("<=", 12), (">", 9), (">=", 21)] {
        let out = ok(c
            .query()
            .table_name("app")
            .index_name("GSI1")
            .key_condition_expression(format!("GSI1PK = :p AND GSI1SK {op} :d"))
            .expression_attribute_values(":p", s("ORDERS#pending"))
            .expression_attribute_values(":d", s("DAY#1"))
            .select(Select::Count)
            .send()
            .await);
        assert_eq!(out.count(), expected, "GSI1SK {op} DAY#1");
    }

    // Parallel scan of the index covers every entry once.
    let mut total = 0;
    let mut start_keys = Vec::new();
    for seg in 0..3 {
        let mut start = None;
        loop {
            let out = ok(c
                .scan()
                .table_name("app")
                .index_name("GSI1")
                .segment(seg)
                .total_segments(3)
                .limit(5)
                .set_exclusive_start_key(start.take())
                .send()
                .await);
            total += out.count();
            match out.last_evaluated_key {
                Some(k) => {
                    start_keys.push(k.clone());
                    start = Some(k);
                }
                None => break,
            }
        }
    }
    assert_eq!(total, 24);
    assert!(!start_keys.is_empty());
}

#[tokio::test]
async fn local_secondary_index_orders_within_the_partition() {
    let nimbus = start().await;
    let c = &nimbus.client;
    ok(c.create_table()
        .table_name("scores")
        .key_schema(key_element("player", KeyType::Hash))
        .key_schema(key_element("game", KeyType::Range))
        .attribute_definitions(attr_def("player", ScalarAttributeType::S))
        .attribute_definitions(attr_def("game", ScalarAttributeType::S))
        .attribute_definitions(attr_def("score", ScalarAttributeType::N))
        .local_secondary_indexes(lsi(
            "byScore",
            "player",
            "score",
            projection(ProjectionType::KeysOnly, &[]),
        ))
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    for (game, score) in [("g1", 50), ("g2", -3), ("g3", 1000), ("g4", 50), ("g5", 7)] {
        put(
            c,
            "scores",
            item(&[
                ("player", s("p1")),
                ("game", s(game)),
                ("score", n(score)),
                ("note", s("x")),
            ]),
        )
        .await;
    }
    put(
        c,
        "scores",
        item(&[("player", s("p2")), ("game", s("g1")), ("score", n(1))]),
    )
    .await;
    let out = ok(c
        .query()
        .table_name("scores")
        .index_name("byScore")
        .key_condition_expression("player = :p AND score >= :min")
        .expression_attribute_values(":p", s("p1"))
        .expression_attribute_values(":min", n(0))
        .consistent_read(true)
        .send()
        .await);
    assert_eq!(ids(out.items(), "game"), ["g5", "g1", "g4", "g3"]);
    assert!(out.items().iter().all(|it| !it.contains_key("note")));
    // An LSI fetches what it does not project from the table.
    let fetched = ok(c
        .query()
        .table_name("scores")
        .index_name("byScore")
        .key_condition_expression("player = :p AND score > :min")
        .expression_attribute_values(":p", s("p1"))
        .expression_attribute_values(":min", n(60))
        .select(Select::AllAttributes)
        .send()
        .await);
    assert_item_eq(
        &fetched.items()[0],
        &item(&[
            ("player", s("p1")),
            ("game", s("g3")),
            ("score", n(1000)),
            ("note", s("x")),
        ]),
    );
    let filtered = ok(c
        .scan()
        .table_name("scores")
        .index_name("byScore")
        .filter_expression("note = :x")
        .projection_expression("game, note")
        .expression_attribute_values(":x", s("x"))
        .send()
        .await);
    assert_eq!(filtered.count(), 5);
    assert_eq!(filtered.items()[0].len(), 2);
    let desc = ok(c.describe_table().table_name("scores").send().await)
        .table
        .unwrap();
    let l = &desc.local_secondary_indexes()[0];
    assert_eq!(l.index_name(), Some("byScore"));
    assert_eq!(l.item_count(), Some(6));
    assert_eq!(
        l.index_arn(),
        Some(format!("{}/index/byScore", table_arn("scores")).as_str())
    );
}

#[tokio::test]
async fn index_reads_are_validated() {
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    expect_error(
        c.query()
            .table_name(T)
            .index_name("byStatus")
            .key_condition_expression("#s = :s")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", s("open"))
            .consistent_read(true)
            .send()
            .await,
        VE,
        "Consistent reads are not supported on global secondary indexes",
    );
    expect_error(
        c.scan().table_name(T).index_name("nope").send().await,
        VE,
        "The table does not have the specified index: nope",
    );
    expect_error(
        c.query()
            .table_name(T)
            .index_name("byStatus")
            .key_condition_expression("taskId = :s")
            .expression_attribute_values(":s", s("t1"))
            .send()
            .await,
        VE,
        "Query condition missed key schema element: status",
    );
    expect_error(
        c.query()
            .table_name(T)
            .index_name("byStatus")
            .key_condition_expression("#s = :s")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", n(1))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Condition parameter type does not match schema type",
    );
    expect_error(
        c.query()
            .table_name(T)
            .index_name("byStatus")
            .key_condition_expression("#s = :s")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", s("open"))
            .exclusive_start_key("taskId", s("t1"))
            .send()
            .await,
        VE,
        "The provided starting key is invalid: The provided key element does not match the schema",
    );
    // Index key attributes with the wrong type are refused on every write.
    let wrong = item(&[("taskId", s("w")), ("status", n(1))]);
    let text = "One or more parameter values were invalid: Type mismatch for Index Key status Expected: S Actual: N IndexName: byStatus";
    expect_error(
        c.put_item()
            .table_name(T)
            .set_item(Some(wrong.clone()))
            .send()
            .await,
        VE,
        text,
    );
    expect_error(
        c.update_item()
            .table_name(T)
            .key("taskId", s("w"))
            .update_expression("SET #s = :n")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":n", n(1))
            .send()
            .await,
        VE,
        text,
    );
    expect_error(
        c.batch_write_item()
            .request_items(
                T,
                vec![WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(wrong)).build().unwrap())
                    .build()],
            )
            .send()
            .await,
        VE,
        text,
    );
    expect_error(
        c.put_item()
            .table_name(T)
            .item("taskId", s("big"))
            .item("status", s("x".repeat(2049)))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Size limit exceeded for Index Key status Actual Size: 2049 bytes Max Size: 2048 bytes IndexName: byStatus",
    );
    assert!(ok(c.scan().table_name(T).send().await).items().is_empty());
}

/// A CreateTable request for `bad` with one GSI/LSI shape.
async fn create_err(
    c: &Client,
    defs: &[&str],
    gsis: Vec<GlobalSecondaryIndex>,
    lsis: Vec<LocalSecondaryIndex>,
    range: bool,
) -> String {
    let mut req = c
        .create_table()
        .table_name("bad")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis))
        .set_local_secondary_indexes((!lsis.is_empty()).then_some(lsis));
    if range {
        req = req.key_schema(key_element("sk", KeyType::Range));
    }
    for d in defs {
        req = req.attribute_definitions(attr_def(d, ScalarAttributeType::S));
    }
    match req.send().await {
        Ok(_) => panic!("CreateTable succeeded"),
        Err(e) => {
            use aws_sdk_dynamodb::error::ProvideErrorMetadata;
            assert_eq!(e.code(), Some(VE));
            e.message().unwrap_or_default().to_string()
        }
    }
}

#[tokio::test]
async fn create_table_index_validation() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let pre = "One or more parameter values were invalid: ";
    assert_eq!(
        create_err(
            c,
            &["pk"],
            vec![gsi("idx1", "gk", None, all())],
            vec![],
            false
        )
        .await,
        "Invalid KeySchema: Some index key attribute have no definition"
    );
    assert_eq!(
        create_err(c, &["pk", "other"], vec![gsi("idx1", "gk", None, all())], vec![], false).await,
        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, gk], AttributeDefinitions: [pk, other]"
    );
    assert_eq!(
        create_err(c, &["pk", "gk", "extra"], vec![gsi("idx1", "gk", None, all())], vec![], false)
            .await,
        format!("{pre}Some AttributeDefinitions are not used. AttributeDefinitions: [pk, gk, extra], keys used: [pk, gk]")
    );
    assert_eq!(
        create_err(
            c,
            &["pk", "gk"],
            vec![gsi(
                "idx1",
                "gk",
                None,
                projection(ProjectionType::Include, &[])
            )],
            vec![],
            false
        )
        .await,
        format!("{pre}ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    );
    assert_eq!(
        create_err(
            c,
            &["pk", "gk"],
            vec![gsi(
                "idx1",
                "gk",
                None,
                projection(ProjectionType::KeysOnly, &["a"])
            )],
            vec![],
            false
        )
        .await,
        format!("{pre}ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified")
    );
    assert_eq!(
        create_err(
            c,
            &["pk", "gk"],
            vec![
                gsi("idx1", "gk", None, all()),
                gsi("idx1", "gk", None, all())
            ],
            vec![],
            false
        )
        .await,
        format!("{pre}Duplicate index name: idx1")
    );
    assert_eq!(
        create_err(c, &["pk", "lk"], vec![], vec![lsi("lidx1", "pk", "lk", all())], false).await,
        format!("{pre}Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
    );
    assert_eq!(
        create_err(
            c,
            &["pk", "sk", "lk", "other"],
            vec![],
            vec![lsi("lidx1", "other", "lk", all())],
            true
        )
        .await,
        format!("{pre}Index KeySchema does not have the same leading hash key as table KeySchema for index: lidx1. index hash key: other, table hash key: pk")
    );
    let many: Vec<GlobalSecondaryIndex> = (0..21)
        .map(|i| gsi(&format!("gsi{i:02}"), "gk", None, all()))
        .collect();
    assert_eq!(
        create_err(c, &["pk", "gk"], many, vec![], false).await,
        format!("{pre}GlobalSecondaryIndex count exceeds the per-table limit of 20")
    );
    let many: Vec<LocalSecondaryIndex> = (0..6)
        .map(|i| lsi(&format!("lsi{i:02}"), "pk", "lk", all()))
        .collect();
    assert_eq!(
        create_err(c, &["pk", "sk", "lk"], vec![], many, true).await,
        format!("{pre}Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    );
    // PROVISIONED tables need each GSI's throughput.
    let err = c
        .create_table()
        .table_name("bad")
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("gk", ScalarAttributeType::S))
        .global_secondary_indexes(gsi("idx1", "gk", None, all()))
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(1)
                .write_capacity_units(1)
                .build()
                .unwrap(),
        )
        .send()
        .await;
    expect_error(
        err,
        VE,
        &format!("{pre}ProvisionedThroughput is not specified for index: idx1"),
    );
    assert_eq!(
        create_err(
            c,
            &["pk", "gk"],
            vec![gsi(
                "idx1",
                "gk",
                None,
                projection(ProjectionType::Include, &["a", "b", "a"])
            )],
            vec![],
            false
        )
        .await,
        format!("{pre}Duplicate element in NonKeyAttributes: a")
    );
    expect_error(
        c.create_table()
            .table_name("bad")
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .set_global_secondary_indexes(Some(vec![]))
            .send()
            .await,
        VE,
        &format!("{pre}List of GlobalSecondaryIndexes is empty"),
    );
    let names = ok(c.list_tables().send().await);
    assert!(names.table_names().is_empty());

    // UpdateTable's index updates.
    use aws_sdk_dynamodb::types::{
        CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
        GlobalSecondaryIndexUpdate,
    };
    ok(c.create_table()
        .table_name("withlsi")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .key_schema(key_element("sk", KeyType::Range))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("sk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("lk", ScalarAttributeType::S))
        .local_secondary_indexes(lsi("byLk", "pk", "lk", all()))
        .send()
        .await);
    expect_error(
        c.update_table()
            .table_name("withlsi")
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .delete(
                        DeleteGlobalSecondaryIndexAction::builder()
                            .index_name("byLk")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await,
        VE,
        "Cannot delete an index that is not a GlobalSecondaryIndex: byLk",
    );
    expect_error(
        c.update_table()
            .table_name("withlsi")
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(
                        CreateGlobalSecondaryIndexAction::builder()
                            .index_name("byLk2")
                            .key_schema(key_element("lk", KeyType::Hash))
                            .projection(all())
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await,
        VE,
        &format!("{pre}AttributeDefinitions is not specified for index: byLk2"),
    );
}

#[tokio::test]
async fn update_table_creates_backfilled_and_deletes_gsis() {
    use aws_sdk_dynamodb::types::{
        CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
        GlobalSecondaryIndexUpdate,
    };
    let nimbus = start().await;
    let c = &nimbus.client;
    hash_table(c, "late").await;
    for i in 0..5 {
        let mut it = item(&[("pk", s(format!("p{i}"))), ("n", n(i))]);
        if i % 2 == 0 {
            it.insert("gk".into(), s("even"));
        }
        put(c, "late", it).await;
    }
    // A wrong-typed value is not indexed when the index is created later.
    put(c, "late", item(&[("pk", s("odd-type")), ("gk", n(1))])).await;
    let create = GlobalSecondaryIndexUpdate::builder()
        .create(
            CreateGlobalSecondaryIndexAction::builder()
                .index_name("byGk")
                .key_schema(key_element("gk", KeyType::Hash))
                .key_schema(key_element("n", KeyType::Range))
                .projection(projection(ProjectionType::KeysOnly, &[]))
                .build()
                .unwrap(),
        )
        .build();
    let out = ok(c
        .update_table()
        .table_name("late")
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("gk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("n", ScalarAttributeType::N))
        .global_secondary_index_updates(create.clone())
        .send()
        .await);
    let desc = out.table_description.unwrap();
    assert_eq!(
        desc.table_status(),
        Some(&aws_sdk_dynamodb::types::TableStatus::Updating)
    );
    assert_eq!(
        desc.global_secondary_indexes()[0].index_status(),
        Some(&IndexStatus::Creating)
    );
    assert_eq!(desc.global_secondary_indexes()[0].backfilling(), Some(true));
    // The backfill runs in the background; a waiter sees it end.
    let desc = wait_active(c, "late").await;
    let g = &desc.global_secondary_indexes()[0];
    assert_eq!(g.backfilling(), Some(false));
    assert_eq!(g.index_status(), Some(&IndexStatus::Active));
    assert_eq!(g.item_count(), Some(3));
    assert_eq!(desc.attribute_definitions().len(), 3);

    let query = || {
        c.query()
            .table_name("late")
            .index_name("byGk")
            .key_condition_expression("gk = :g")
            .expression_attribute_values(":g", s("even"))
            .send()
    };
    assert_eq!(ids(ok(query().await).items(), "pk"), ["p0", "p2", "p4"]);
    // Writes after the backfill maintain it; the wrong type is now refused.
    put(
        c,
        "late",
        item(&[("pk", s("p9")), ("n", n(-1)), ("gk", s("even"))]),
    )
    .await;
    assert_eq!(
        ids(ok(query().await).items(), "pk"),
        ["p9", "p0", "p2", "p4"]
    );
    expect_error(
        c.put_item()
            .table_name("late")
            .item("pk", s("x"))
            .item("gk", n(1))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: Type mismatch for Index Key gk Expected: S Actual: N IndexName: byGk",
    );
    expect_error(
        c.update_table()
            .table_name("late")
            .attribute_definitions(attr_def("gk", ScalarAttributeType::S))
            .attribute_definitions(attr_def("n", ScalarAttributeType::N))
            .global_secondary_index_updates(create)
            .send()
            .await,
        VE,
        "Attempting to create an index which already exists",
    );

    let out = ok(c
        .update_table()
        .table_name("late")
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(
                    DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("byGk")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await);
    let desc = out.table_description.unwrap();
    let g = &desc.global_secondary_indexes()[0];
    assert_eq!(g.index_name(), Some("byGk"));
    assert_eq!(g.index_status(), Some(&IndexStatus::Deleting));
    let desc = wait_active(c, "late").await;
    assert!(desc.global_secondary_indexes().is_empty());
    assert_eq!(desc.attribute_definitions().len(), 1);
    expect_error(
        query().await,
        VE,
        "The table does not have the specified index: byGk",
    );
    // Items are untouched, and writes no longer need the old index's types.
    put(c, "late", item(&[("pk", s("x")), ("gk", n(1))])).await;
    assert_eq!(ok(c.scan().table_name("late").send().await).count(), 8);
}

#[tokio::test]
async fn indexes_survive_a_restart() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);
    {
        let mut server = common::Server::start(&["--data-dir", data_arg]);
        let c = client(&server.endpoint);
        tasks_table(&c).await;
        put(&c, T, task("t1", Some("open"), 1)).await;
        put(&c, T, task("t2", Some("open"), 2)).await;
        server.terminate();
        server.wait_exit(std::time::Duration::from_secs(30));
    }
    let server = common::Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);
    assert_eq!(by_status(&c, "open").await, ["t1", "t2"]);
    ok(c.delete_item()
        .table_name(T)
        .key("taskId", s("t1"))
        .send()
        .await);
    assert_eq!(by_status(&c, "open").await, ["t2"]);
    let desc = ok(c.describe_table().table_name(T).send().await)
        .table
        .unwrap();
    assert_eq!(desc.global_secondary_indexes().len(), 3);
}

/// Writers racing an index creation: every write queued behind the
/// backfill maintains the new index, so the index ends up holding exactly
/// the items that have its key.
#[tokio::test]
async fn index_created_under_concurrent_writes_is_complete() {
    use aws_sdk_dynamodb::types::{CreateGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate};
    let nimbus = start().await;
    let c = nimbus.client.clone();
    hash_table(&c, "race").await;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let c = c.clone();
        writers.spawn(async move {
            for i in 0..60 {
                let pk = format!("w{w}-{}", i % 20);
                // Items move between index partitions, gain and lose the key.
                let mut it = item(&[("pk", s(pk)), ("i", n(i))]);
                if i % 3 != 0 {
                    it.insert("gk".into(), s(format!("g{}", i % 4)));
                }
                put(&c, "race", it).await;
            }
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    ok(c.update_table()
        .table_name("race")
        .attribute_definitions(attr_def("gk", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("byGk")
                        .key_schema(key_element("gk", KeyType::Hash))
                        .projection(all())
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await);
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    wait_active(&c, "race").await;
    let mut expected: Vec<Item> = ok(c.scan().table_name("race").send().await)
        .items()
        .iter()
        .filter(|it| it.contains_key("gk"))
        .cloned()
        .collect();
    let mut indexed: Vec<Item> = ok(c.scan().table_name("race").index_name("byGk").send().await)
        .items()
        .to_vec();
    let by_pk =
        |a: &Item, b: &Item| format!("{:?}", a.get("pk")).cmp(&format!("{:?}", b.get("pk")));
    expected.sort_by(by_pk);
    indexed.sort_by(by_pk);
    assert_eq!(indexed, expected);
    let desc = ok(c.describe_table().table_name("race").send().await)
        .table
        .unwrap();
    assert_eq!(
        desc.global_secondary_indexes()[0].item_count(),
        Some(expected.len() as i64)
    );
}

#[tokio::test]
async fn gsi_throughput_follows_billing_mode_switches() {
    use aws_sdk_dynamodb::types::{GlobalSecondaryIndexUpdate, UpdateGlobalSecondaryIndexAction};
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    let throughput = |r: i64, w: i64| {
        ProvisionedThroughput::builder()
            .read_capacity_units(r)
            .write_capacity_units(w)
            .build()
            .unwrap()
    };
    expect_error(
        c.update_table()
            .table_name(T)
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(5, 5))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: byStatus,byOwner,byPriority",
    );
    let mut req = c
        .update_table()
        .table_name(T)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(5, 5));
    for (name, r) in [("byStatus", 3), ("byOwner", 2), ("byPriority", 1)] {
        req = req.global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .update(
                    UpdateGlobalSecondaryIndexAction::builder()
                        .index_name(name)
                        .provisioned_throughput(throughput(r, 4))
                        .build()
                        .unwrap(),
                )
                .build(),
        );
    }
    ok(req.send().await);
    let desc = ok(c.describe_table().table_name(T).send().await)
        .table
        .unwrap();
    let g = desc
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some("byStatus"))
        .unwrap();
    let t = g.provisioned_throughput().unwrap();
    assert_eq!(
        (t.read_capacity_units(), t.write_capacity_units()),
        (Some(3), Some(4))
    );
    ok(c.update_table()
        .table_name(T)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await);
    let desc = ok(c.describe_table().table_name(T).send().await)
        .table
        .unwrap();
    let t = desc.global_secondary_indexes()[0]
        .provisioned_throughput()
        .unwrap();
    assert_eq!(t.read_capacity_units(), Some(0));
}

#[tokio::test]
async fn index_writes_count_in_consumed_capacity() {
    use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    // A new item enters all three indexes.
    let out = ok(c
        .put_item()
        .table_name(T)
        .set_item(Some(task("t1", Some("open"), 1)))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await);
    let cc = out.consumed_capacity.unwrap();
    assert_eq!(cc.capacity_units(), Some(4.0));
    assert_eq!(cc.table().unwrap().capacity_units(), Some(1.0));
    let gsis = cc.global_secondary_indexes().unwrap();
    assert_eq!(gsis.len(), 3);
    assert_eq!(gsis["byStatus"].capacity_units(), Some(1.0));
    // Moving the byStatus key costs a delete and a put there; the other
    // indexes' copies do not change.
    let out = ok(c
        .update_item()
        .table_name(T)
        .key("taskId", s("t1"))
        .update_expression("SET #s = :d")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":d", s("done"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await);
    let cc = out.consumed_capacity.unwrap();
    assert_eq!(cc.capacity_units(), Some(3.0));
    let gsis = cc.global_secondary_indexes().unwrap();
    assert_eq!(gsis.len(), 1);
    assert_eq!(gsis["byStatus"].capacity_units(), Some(2.0));
    // A non-key attribute only the ALL index copies.
    let out = ok(c
        .update_item()
        .table_name(T)
        .key("taskId", s("t1"))
        .update_expression("SET body = :b")
        .expression_attribute_values(":b", s("x"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(out.consumed_capacity.unwrap().capacity_units(), Some(2.0));
    let out = ok(c
        .delete_item()
        .table_name(T)
        .key("taskId", s("t1"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(out.consumed_capacity.unwrap().capacity_units(), Some(4.0));
    // Transactions pay double, on the indexes too.
    let out = ok(c
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    aws_sdk_dynamodb::types::Put::builder()
                        .table_name(T)
                        .set_item(Some(task("t2", None, 1)))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    // Table 2 + byOwner 2 + byPriority 2; not in the sparse byStatus.
    assert_eq!(out.consumed_capacity()[0].capacity_units(), Some(6.0));
}

#[tokio::test]
async fn index_reads_report_capacity_per_index() {
    use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
    let nimbus = start().await;
    let c = &nimbus.client;
    tasks_table(c).await;
    put(c, T, task("t1", Some("open"), 1)).await;
    let out = ok(c
        .query()
        .table_name(T)
        .index_name("byStatus")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await);
    let cc = out.consumed_capacity.unwrap();
    assert_eq!(cc.table_name(), Some(T));
    assert_eq!(cc.capacity_units(), Some(0.5));
    assert_eq!(cc.table().unwrap().capacity_units(), Some(0.0));
    assert_eq!(
        cc.global_secondary_indexes().unwrap()["byStatus"].capacity_units(),
        Some(0.5)
    );
    let out = ok(c
        .scan()
        .table_name(T)
        .index_name("byOwner")
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(out.consumed_capacity.unwrap().capacity_units(), Some(0.5));
}
