//! DynamoDB control plane through the official AWS SDK for Rust against a live
//! `nimbus serve`: CreateTable, DescribeTable, ListTables, DeleteTable,
//! UpdateTable, tags, DescribeLimits and DescribeEndpoints.
//!
//! Every test starts its own in-memory server, so table listings see only
//! the tables the test made.

mod common;
mod sdk;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    BillingMode, KeyType, ProvisionedThroughput, ScalarAttributeType, TableStatus, Tag,
};
use sdk::*;

fn not_found(name: &str) -> String {
    format!("Requested resource not found: Table: {name} not found")
}

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .unwrap()
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn create_hash_only_table_and_describe_it() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let created = hash_table(c, "orders").await;
    assert_eq!(created.table_name(), Some("orders"));
    assert!(
        matches!(
            created.table_status(),
            Some(TableStatus::Creating | TableStatus::Active)
        ),
        "{:?}",
        created.table_status()
    );
    assert_eq!(created.table_arn(), Some(table_arn("orders").as_str()));

    let out = ok(c.describe_table().table_name("orders").send().await);
    let t = out.table().expect("Table");
    assert_eq!(t.table_name(), Some("orders"));
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert_eq!(
        t.table_arn(),
        Some("arn:aws:dynamodb:us-east-1:000000000000:table/orders")
    );
    let id = t.table_id().expect("TableId");
    assert!(is_uuid(id), "TableId {id:?} is not a UUID");
    assert_eq!(created.table_id(), Some(id), "TableId is stable");
    assert_eq!(t.key_schema(), &[key_element("pk", KeyType::Hash)]);
    assert_eq!(
        t.attribute_definitions(),
        &[attr_def("pk", ScalarAttributeType::S)]
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let created_at = t.creation_date_time().expect("CreationDateTime").secs();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - created_at).abs() < 600,
        "CreationDateTime {created_at} is not close to now {now}"
    );
    assert_eq!(t.item_count(), Some(0));
    assert_eq!(t.table_size_bytes(), Some(0));
    let pt = t.provisioned_throughput().expect("ProvisionedThroughput");
    assert_eq!(pt.read_capacity_units(), Some(0));
    assert_eq!(pt.write_capacity_units(), Some(0));

    // A second table gets its own id.
    let other = hash_table(c, "orders2").await;
    assert_ne!(other.table_id(), Some(id));
}

#[tokio::test]
async fn create_tables_with_every_key_type() {
    let nimbus = start().await;
    let c = &nimbus.client;
    use ScalarAttributeType::{B, N, S};
    let cases = [
        ("h-s", S, None),
        ("h-n", N, None),
        ("h-b", B, None),
        ("hr-s-n", S, Some(N)),
        ("hr-n-s", N, Some(S)),
        ("hr-b-b", B, Some(B)),
    ];
    for (name, hash_type, range_type) in cases {
        let range = range_type.clone().map(|t| ("sk", t));
        let desc = create_table(c, name, ("pk", hash_type.clone()), range).await;
        let mut expected_schema = vec![key_element("pk", KeyType::Hash)];
        if range_type.is_some() {
            expected_schema.push(key_element("sk", KeyType::Range));
        }
        assert_eq!(desc.key_schema(), expected_schema.as_slice(), "{name}");

        let described = ok(c.describe_table().table_name(name).send().await);
        let t = described.table().unwrap();
        assert_eq!(t.key_schema(), expected_schema.as_slice(), "{name}");
        let mut defs = t.attribute_definitions().to_vec();
        defs.sort_by(|a, b| a.attribute_name().cmp(b.attribute_name()));
        let mut expected_defs = vec![attr_def("pk", hash_type.clone())];
        if let Some(rt) = &range_type {
            expected_defs.push(attr_def("sk", rt.clone()));
        }
        assert_eq!(defs, expected_defs, "{name}");

        // The key types are usable: write and read back one item.
        let value = |t: &ScalarAttributeType| match t {
            S => s("key"),
            N => n("-1.5"),
            _ => b(vec![0u8, 255]),
        };
        let mut key = item(&[("pk", value(&hash_type))]);
        if let Some(rt) = &range_type {
            key.insert("sk".into(), value(rt));
        }
        let mut full = key.clone();
        full.insert("v".into(), s(name));
        ok(c.put_item()
            .table_name(name)
            .set_item(Some(full.clone()))
            .send()
            .await);
        let got = ok(c
            .get_item()
            .table_name(name)
            .set_key(Some(key))
            .send()
            .await);
        assert_eq!(got.item(), Some(&full), "{name}");
    }
}

#[tokio::test]
async fn sdk_waiters() {
    let nimbus = start().await;
    let c = &nimbus.client;
    hash_table(c, "waited").await;
    let waited = c
        .wait_until_table_exists()
        .table_name("waited")
        .wait(Duration::from_secs(20))
        .await
        .expect("table_exists waiter");
    let out = waited.into_result().expect("final DescribeTable");
    assert_eq!(
        out.table().unwrap().table_status(),
        Some(&TableStatus::Active)
    );

    ok(c.delete_table().table_name("waited").send().await);
    c.wait_until_table_not_exists()
        .table_name("waited")
        .wait(Duration::from_secs(20))
        .await
        .expect("table_not_exists waiter");
}

#[tokio::test]
async fn create_provisioned_table() {
    let nimbus = start().await;
    let c = &nimbus.client;
    ok(c.create_table()
        .table_name("prov")
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .provisioned_throughput(throughput(3, 4))
        .send()
        .await);
    let out = ok(c.describe_table().table_name("prov").send().await);
    let t = out.table().unwrap();
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(pt.read_capacity_units(), Some(3));
    assert_eq!(pt.write_capacity_units(), Some(4));
    // AWS omits the summary for tables that were always provisioned; if it is
    // there it must say so.
    if let Some(summary) = t.billing_mode_summary() {
        assert_eq!(summary.billing_mode(), Some(&BillingMode::Provisioned));
    }
}

#[tokio::test]
async fn list_tables_paginates() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let names = ["t-0", "t-1", "t-2", "t-3", "t-4"];
    // Created out of order: the listing is sorted by name.
    for name in ["t-3", "t-0", "t-4", "t-1", "t-2"] {
        hash_table(c, name).await;
    }

    let page1 = ok(c.list_tables().limit(2).send().await);
    assert_eq!(page1.table_names(), &names[0..2]);
    assert_eq!(page1.last_evaluated_table_name(), Some("t-1"));

    let page2 = ok(c
        .list_tables()
        .limit(2)
        .exclusive_start_table_name("t-1")
        .send()
        .await);
    assert_eq!(page2.table_names(), &names[2..4]);
    assert_eq!(page2.last_evaluated_table_name(), Some("t-3"));

    let page3 = ok(c
        .list_tables()
        .limit(2)
        .exclusive_start_table_name("t-3")
        .send()
        .await);
    assert_eq!(page3.table_names(), &names[4..5]);
    assert_eq!(page3.last_evaluated_table_name(), None);

    // The start name need not be a table; listing resumes after it.
    let after = ok(c
        .list_tables()
        .exclusive_start_table_name("t-25")
        .send()
        .await);
    assert_eq!(after.table_names(), &names[3..5]);
    assert_eq!(after.last_evaluated_table_name(), None);

    // Without a limit everything fits on one page.
    let all = ok(c.list_tables().send().await);
    assert_eq!(all.table_names(), &names);
    assert_eq!(all.last_evaluated_table_name(), None);

    // The SDK's paginator walks the same pages.
    let mut paged = Vec::new();
    let mut pages = c.list_tables().limit(2).into_paginator().send();
    while let Some(page) = pages.next().await {
        paged.extend(ok(page).table_names().to_vec());
    }
    assert_eq!(paged, names);
}

#[tokio::test]
async fn list_tables_limit_out_of_range() {
    let nimbus = start().await;
    let c = &nimbus.client;
    expect_error(
        c.list_tables().limit(101).send().await,
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: \
         Member must have value less than or equal to 100",
    );
    expect_error(
        c.list_tables().limit(0).send().await,
        "ValidationException",
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
         Member must have value greater than or equal to 1",
    );
}

#[tokio::test]
async fn delete_table_then_not_found() {
    let nimbus = start().await;
    let c = &nimbus.client;
    hash_table(c, "doomed").await;
    ok(c.put_item()
        .table_name("doomed")
        .set_item(Some(item(&[("pk", s("a"))])))
        .send()
        .await);

    let out = ok(c.delete_table().table_name("doomed").send().await);
    let desc = out.table_description().expect("TableDescription");
    assert_eq!(desc.table_name(), Some("doomed"));
    assert_eq!(desc.table_status(), Some(&TableStatus::Deleting));
    assert_eq!(desc.table_arn(), Some(table_arn("doomed").as_str()));

    // nimbus deletes at once; allow a short DELETING phase all the same.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match c.describe_table().table_name("doomed").send().await {
            Ok(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            result => {
                expect_error(result, "ResourceNotFoundException", &not_found("doomed"));
                break;
            }
        }
    }
    expect_error(
        c.delete_table().table_name("doomed").send().await,
        "ResourceNotFoundException",
        &not_found("doomed"),
    );
    expect_error(
        c.get_item()
            .table_name("doomed")
            .set_key(Some(item(&[("pk", s("a"))])))
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found",
    );
    expect_error(
        c.put_item()
            .table_name("doomed")
            .set_item(Some(item(&[("pk", s("a"))])))
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found",
    );
    let listed = ok(c.list_tables().send().await);
    assert!(listed.table_names().is_empty(), "{listed:?}");

    // The name can be reused, and the new table starts empty.
    hash_table(c, "doomed").await;
    let got = ok(c
        .get_item()
        .table_name("doomed")
        .set_key(Some(item(&[("pk", s("a"))])))
        .send()
        .await);
    assert_eq!(got.item(), None);
}

#[tokio::test]
async fn missing_table_errors() {
    let nimbus = start().await;
    let c = &nimbus.client;
    expect_error(
        c.describe_table().table_name("nope").send().await,
        "ResourceNotFoundException",
        &not_found("nope"),
    );
    expect_error(
        c.update_table()
            .table_name("nope")
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
        "ResourceNotFoundException",
        &not_found("nope"),
    );
    expect_error(
        c.query()
            .table_name("nope")
            .key_condition_expression("pk = :v")
            .expression_attribute_values(":v", s("x"))
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found",
    );
    expect_error(
        c.scan().table_name("nope").send().await,
        "ResourceNotFoundException",
        "Requested resource not found",
    );
}

#[tokio::test]
async fn duplicate_table_is_in_use() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let first = hash_table(c, "dup").await;
    let result = c
        .create_table()
        .table_name("dup")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("id", KeyType::Hash))
        .attribute_definitions(attr_def("id", ScalarAttributeType::N))
        .send()
        .await;
    expect_error(
        result,
        "ResourceInUseException",
        "Table already exists: dup",
    );
    // The original table is untouched.
    let out = ok(c.describe_table().table_name("dup").send().await);
    let t = out.table().unwrap();
    assert_eq!(t.table_id(), first.table_id());
    assert_eq!(t.key_schema(), &[key_element("pk", KeyType::Hash)]);
}

#[tokio::test]
async fn key_schema_and_definitions_must_match() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let base = || {
        c.create_table()
            .table_name("bad")
            .billing_mode(BillingMode::PayPerRequest)
    };

    // A key attribute with no definition.
    expect_error(
        base()
            .key_schema(key_element("pk", KeyType::Hash))
            .key_schema(key_element("sk", KeyType::Range))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .send()
            .await,
        "ValidationException",
        "Invalid KeySchema: Some index key attribute have no definition",
    );
    // A definition no key uses.
    expect_error(
        base()
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .attribute_definitions(attr_def("other", ScalarAttributeType::N))
            .send()
            .await,
        "ValidationException",
        "One or more parameter values were invalid: Number of attributes in KeySchema does not \
         exactly match number of attributes defined in AttributeDefinitions",
    );
    // Same count, different names.
    expect_error(
        base()
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("other", ScalarAttributeType::S))
            .send()
            .await,
        "ValidationException",
        "One or more parameter values were invalid: Some index key attributes are not defined in \
         AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]",
    );
    // The range key first.
    expect_error(
        base()
            .key_schema(key_element("sk", KeyType::Range))
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .attribute_definitions(attr_def("sk", ScalarAttributeType::S))
            .send()
            .await,
        "ValidationException",
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
    );
    // On-demand with throughput, provisioned without.
    expect_error(
        base()
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .provisioned_throughput(throughput(1, 1))
            .send()
            .await,
        "ValidationException",
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor \
         WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
    );
    expect_error(
        c.create_table()
            .table_name("bad")
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .send()
            .await,
        "ValidationException",
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits \
         must both be specified when BillingMode is PROVISIONED",
    );
    // An invalid name.
    expect_error(
        c.create_table()
            .table_name("bad name!")
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key_element("pk", KeyType::Hash))
            .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value 'bad name!' at 'tableName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    );
    // None of the failures created anything.
    let listed = ok(c.list_tables().send().await);
    assert!(listed.table_names().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn update_billing_mode_and_throughput() {
    let nimbus = start().await;
    let c = &nimbus.client;
    ok(c.create_table()
        .table_name("upd")
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .provisioned_throughput(throughput(5, 5))
        .send()
        .await);
    ok(c.put_item()
        .table_name("upd")
        .set_item(Some(item(&[("pk", s("keep")), ("v", n(1))])))
        .send()
        .await);

    let out = ok(c
        .update_table()
        .table_name("upd")
        .provisioned_throughput(throughput(10, 7))
        .send()
        .await);
    assert_eq!(
        out.table_description().and_then(|d| d.table_name()),
        Some("upd")
    );
    let desc = ok(c.describe_table().table_name("upd").send().await);
    let t = desc.table().unwrap();
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(pt.read_capacity_units(), Some(10));
    assert_eq!(pt.write_capacity_units(), Some(7));

    ok(c.update_table()
        .table_name("upd")
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await);
    let desc = ok(c.describe_table().table_name("upd").send().await);
    let t = desc.table().unwrap();
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert!(
        t.billing_mode_summary()
            .and_then(|b| b.last_update_to_pay_per_request_date_time())
            .is_some(),
        "switching to on-demand records when: {t:?}"
    );

    ok(c.update_table()
        .table_name("upd")
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(2, 3))
        .send()
        .await);
    let desc = ok(c.describe_table().table_name("upd").send().await);
    let t = desc.table().unwrap();
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::Provisioned)
    );
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(pt.read_capacity_units(), Some(2));
    assert_eq!(pt.write_capacity_units(), Some(3));

    // Items survive table updates.
    let got = ok(c
        .get_item()
        .table_name("upd")
        .set_key(Some(item(&[("pk", s("keep"))])))
        .consistent_read(true)
        .send()
        .await);
    assert_eq!(got.item(), Some(&item(&[("pk", s("keep")), ("v", n(1))])));
}

async fn tags_of(c: &aws_sdk_dynamodb::Client, arn: &str) -> Vec<(String, String)> {
    let mut tags = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ok(c
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.clone())
            .send()
            .await);
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    tags.sort();
    tags
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn tags_round_trip() {
    let nimbus = start().await;
    let c = &nimbus.client;
    ok(c.create_table()
        .table_name("tagged")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .tags(tag("team", "core"))
        .send()
        .await);
    let arn = table_arn("tagged");
    assert_eq!(tags_of(c, &arn).await, pairs(&[("team", "core")]));

    ok(c.tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "test"))
        .tags(tag("team", "platform"))
        .send()
        .await);
    assert_eq!(
        tags_of(c, &arn).await,
        pairs(&[("env", "test"), ("team", "platform")])
    );

    ok(c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .tag_keys("not-there")
        .send()
        .await);
    assert_eq!(tags_of(c, &arn).await, pairs(&[("env", "test")]));

    ok(c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await);
    assert_eq!(tags_of(c, &arn).await, vec![]);

    let missing = table_arn("missing");
    let text = format!("Requested resource not found: ResourcArn: {missing} not found");
    expect_error(
        c.tag_resource()
            .resource_arn(&missing)
            .tags(tag("k", "v"))
            .send()
            .await,
        "ResourceNotFoundException",
        &text,
    );
    expect_error(
        c.list_tags_of_resource()
            .resource_arn(&missing)
            .send()
            .await,
        "ResourceNotFoundException",
        &text,
    );
}

#[tokio::test]
async fn describe_limits_and_endpoints() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let limits = ok(c.describe_limits().send().await);
    let account_read = limits.account_max_read_capacity_units().unwrap_or(0);
    let account_write = limits.account_max_write_capacity_units().unwrap_or(0);
    let table_read = limits.table_max_read_capacity_units().unwrap_or(0);
    let table_write = limits.table_max_write_capacity_units().unwrap_or(0);
    assert!(table_read > 0 && table_write > 0, "{limits:?}");
    assert!(
        table_read <= account_read && table_write <= account_write,
        "{limits:?}"
    );

    let endpoints = ok(c.describe_endpoints().send().await);
    let first = endpoints.endpoints().first().expect("one endpoint");
    assert!(!first.address().is_empty());
    assert!(
        !first.address().starts_with("http"),
        "Address is a host name, not a URL: {}",
        first.address()
    );
    assert!(first.cache_period_in_minutes() > 0);
    // The address is nimbus's own, so endpoint discovery never leads to AWS.
    assert_eq!(first.address(), nimbus.server.addr.to_string());
}
