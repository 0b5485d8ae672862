//! DynamoDB Streams through the official AWS SDKs for Rust (aws-sdk-dynamodb
//! for the tables and writes, aws-sdk-dynamodbstreams for the Streams API)
//! against a live `nimbus serve`: StreamSpecification on CreateTable and
//! UpdateTable with AWS's errors, records from every write path in every
//! view type, no record for a write that changes nothing, ListStreams /
//! DescribeStream / GetShardIterator / GetRecords and their errors,
//! iterator expiry and trimming by the injectable clock, TTL deletions with
//! DynamoDB's user identity, and records surviving `kill -9`.

mod common;
mod sdk;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    BillingMode, DeleteRequest, KeyType, Put, PutRequest, ScalarAttributeType, StreamSpecification,
    StreamViewType, TimeToLiveSpecification, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::types::{
    AttributeValue as SAttr, OperationType, Record, ShardIteratorType,
};
use common::Server;
use sdk::*;

type Streams = aws_sdk_dynamodbstreams::Client;

const VE: &str = "ValidationException";

fn streams_client(endpoint: &str) -> Streams {
    use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "AKIDNIMBUSTESTS",
            "nimbus-test-secret",
            None,
            None,
            "nimbus-tests",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_dynamodbstreams::config::retry::RetryConfig::disabled())
        .build();
    Streams::from_conf(config)
}

fn spec(view: Option<StreamViewType>, enabled: bool) -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(enabled)
        .set_stream_view_type(view)
        .build()
        .unwrap()
}

/// A `pk` (S) table, with a stream of `view` when given; returns the
/// latest stream ARN.
async fn stream_table(c: &Client, name: &str, view: Option<StreamViewType>) -> Option<String> {
    let out = ok(c
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .set_stream_specification(view.map(|v| spec(Some(v), true)))
        .send()
        .await);
    out.table_description.unwrap().latest_stream_arn
}

async fn shard_id(s: &Streams, arn: &str) -> String {
    let d = ok(s.describe_stream().stream_arn(arn).send().await);
    d.stream_description.unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_owned()
}

async fn iterator(
    s: &Streams,
    arn: &str,
    kind: ShardIteratorType,
    sequence: Option<&str>,
) -> String {
    let shard = shard_id(s, arn).await;
    shard_iterator(s, arn, &shard, kind, sequence).await
}

/// Every record from TRIM_HORIZON on, following NextShardIterator until a
/// page comes back empty.
async fn all_records(s: &Streams, arn: &str) -> Vec<Record> {
    let mut it = Some(iterator(s, arn, ShardIteratorType::TrimHorizon, None).await);
    let mut out = Vec::new();
    while let Some(i) = it {
        let page = ok(s.get_records().shard_iterator(i).send().await);
        if page.records().is_empty() {
            break;
        }
        out.extend(page.records().iter().cloned());
        it = page.next_shard_iterator;
    }
    out
}

fn event(r: &Record) -> &OperationType {
    r.event_name().unwrap()
}

fn key_of(r: &Record) -> String {
    r.dynamodb().unwrap().keys().unwrap()["pk"]
        .as_s()
        .unwrap()
        .clone()
}

fn image_n(image: Option<&HashMap<String, SAttr>>, attr: &str) -> Option<String> {
    image
        .and_then(|i| i.get(attr))
        .map(|v| v.as_n().unwrap().clone())
}

#[tokio::test]
async fn stream_specification_on_create_and_update_table() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let s = streams_client(&nimbus.server.endpoint);

    let arn = stream_table(c, "orders", Some(StreamViewType::NewAndOldImages))
        .await
        .expect("a stream ARN");
    let prefix = format!("{}/stream/", table_arn("orders"));
    let label = arn.strip_prefix(&prefix).expect("ARN names the table");
    // 2024-05-01T12:00:00.000
    assert_eq!(label.len(), 23, "{label}");
    assert_eq!(&label[10..11], "T");
    assert_eq!(&label[19..20], ".");
    let d = ok(c.describe_table().table_name("orders").send().await)
        .table
        .unwrap();
    let spec_out = d.stream_specification.clone().unwrap();
    assert!(spec_out.stream_enabled);
    assert_eq!(
        spec_out.stream_view_type,
        Some(StreamViewType::NewAndOldImages)
    );
    assert_eq!(d.latest_stream_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(d.latest_stream_label.as_deref(), Some(label));

    // Errors, in AWS's words.
    expect_error(
        c.update_table()
            .table_name("orders")
            .stream_specification(spec(Some(StreamViewType::KeysOnly), true))
            .send()
            .await,
        VE,
        "Table already has an enabled stream: TableName: orders",
    );
    expect_error(
        c.update_table()
            .table_name("orders")
            .stream_specification(spec(Some(StreamViewType::KeysOnly), false))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified",
    );
    // Disable: the specification goes, the latest stream stays named.
    ok(c.update_table()
        .table_name("orders")
        .stream_specification(spec(None, false))
        .send()
        .await);
    let d = ok(c.describe_table().table_name("orders").send().await)
        .table
        .unwrap();
    assert!(d.stream_specification.is_none());
    assert_eq!(d.latest_stream_arn.as_deref(), Some(arn.as_str()));
    expect_error(
        c.update_table()
            .table_name("orders")
            .stream_specification(spec(None, false))
            .send()
            .await,
        VE,
        "Table has no stream to disable: TableName: orders",
    );
    expect_error(
        c.update_table()
            .table_name("orders")
            .stream_specification(spec(None, true))
            .send()
            .await,
        VE,
        "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required",
    );
    // The old stream is DISABLED, its shard closed.
    let old = ok(s.describe_stream().stream_arn(&arn).send().await)
        .stream_description
        .unwrap();
    assert_eq!(old.stream_status().unwrap().as_str(), "DISABLED");
    let range = old.shards()[0].sequence_number_range().unwrap();
    assert!(range.starting_sequence_number().is_some());
    assert!(range.ending_sequence_number().is_some());

    // Re-enabling makes a new stream.
    let out = ok(c
        .update_table()
        .table_name("orders")
        .stream_specification(spec(Some(StreamViewType::KeysOnly), true))
        .send()
        .await);
    let new_arn = out.table_description.unwrap().latest_stream_arn.unwrap();
    assert_ne!(new_arn, arn);
    let new = ok(s.describe_stream().stream_arn(&new_arn).send().await)
        .stream_description
        .unwrap();
    assert_eq!(new.stream_status().unwrap().as_str(), "ENABLED");
    assert_eq!(new.stream_view_type().unwrap().as_str(), "KEYS_ONLY");
    assert!(new.shards()[0]
        .sequence_number_range()
        .unwrap()
        .ending_sequence_number()
        .is_none());

    // CreateTable validates the specification too.
    let bad = c
        .create_table()
        .table_name("bad")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .stream_specification(spec(None, true))
        .send()
        .await;
    expect_error(
        bad,
        VE,
        "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required",
    );
    let bad = c
        .create_table()
        .table_name("bad")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element("pk", KeyType::Hash))
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .stream_specification(spec(Some(StreamViewType::from("EVERYTHING")), true))
        .send()
        .await;
    expect_error(
        bad,
        VE,
        "1 validation error detected: Value 'EVERYTHING' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]",
    );
    // A table without a stream names none.
    assert!(stream_table(c, "plain", None).await.is_none());
    let d = ok(c.describe_table().table_name("plain").send().await)
        .table
        .unwrap();
    assert!(d.latest_stream_arn.is_none() && d.stream_specification.is_none());
}

/// Runs every kind of write against a fresh table with a `view` stream and
/// returns its records.
async fn write_everything(
    c: &Client,
    s: &Streams,
    table: &str,
    view: StreamViewType,
) -> Vec<Record> {
    let arn = stream_table(c, table, Some(view)).await.unwrap();
    let put = |pk: &str, v: i64| {
        c.put_item()
            .table_name(table)
            .item("pk", s_(pk))
            .item("v", n(v))
            .send()
    };
    ok(put("a", 1).await); // INSERT
    ok(put("a", 1).await); // no change: no record
    ok(c.update_item()
        .table_name(table)
        .key("pk", s_("a"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", n(2))
        .send()
        .await); // MODIFY
    ok(c.update_item()
        .table_name(table)
        .key("pk", s_("a"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", n(2))
        .send()
        .await); // no change
    ok(c.delete_item()
        .table_name(table)
        .key("pk", s_("a"))
        .send()
        .await); // REMOVE
    ok(c.delete_item()
        .table_name(table)
        .key("pk", s_("a"))
        .send()
        .await); // nothing there
                 // Batch: two INSERTs, then one REMOVE.
    let put_req = |pk: &str| {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .item("pk", s_(pk))
                    .item("v", n(10))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    ok(c.batch_write_item()
        .request_items(table, vec![put_req("b1"), put_req("b2")])
        .send()
        .await);
    ok(c.batch_write_item()
        .request_items(
            table,
            vec![WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .key("pk", s_("b2"))
                        .build()
                        .unwrap(),
                )
                .build()],
        )
        .send()
        .await);
    // Transaction: INSERT t1, MODIFY b1, one record each.
    ok(c.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .item("pk", s_("t1"))
                        .item("v", n(7))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(table)
                        .key("pk", s_("b1"))
                        .update_expression("SET v = :v")
                        .expression_attribute_values(":v", n(11))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await);
    all_records(s, &arn).await
}

fn s_(v: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    s(v)
}

#[tokio::test]
async fn every_write_path_records_in_every_view_type() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let st = streams_client(&nimbus.server.endpoint);
    for (i, view) in [
        StreamViewType::KeysOnly,
        StreamViewType::NewImage,
        StreamViewType::OldImage,
        StreamViewType::NewAndOldImages,
    ]
    .into_iter()
    .enumerate()
    {
        let table = format!("writes{i}");
        let records = write_everything(c, &st, &table, view.clone()).await;
        let got: Vec<(String, String)> = records
            .iter()
            .map(|r| (event(r).as_str().to_owned(), key_of(r)))
            .collect();
        let want: Vec<(String, String)> = [
            ("INSERT", "a"),
            ("MODIFY", "a"),
            ("REMOVE", "a"),
            ("INSERT", "b1"),
            ("INSERT", "b2"),
            ("REMOVE", "b2"),
            ("INSERT", "t1"),
            ("MODIFY", "b1"),
        ]
        .iter()
        .map(|(e, k)| (e.to_string(), k.to_string()))
        .collect();
        // Batch and transaction members may land in either order.
        assert_eq!(&got[..3], &want[..3], "{view:?}");
        let tail: BTreeSet<_> = got[3..].iter().cloned().collect();
        let want_tail: BTreeSet<_> = want[3..].iter().cloned().collect();
        assert_eq!(tail, want_tail, "{view:?}");
        assert_eq!(got.len(), want.len(), "{view:?}: {got:?}");

        let mut previous = String::new();
        for r in &records {
            assert_eq!(r.event_version(), Some("1.1"));
            assert_eq!(r.event_source(), Some("aws:dynamodb"));
            assert_eq!(r.aws_region(), Some(REGION));
            assert_eq!(r.event_id().map(str::len), Some(32));
            assert!(r.user_identity().is_none());
            let d = r.dynamodb().unwrap();
            let seq = d.sequence_number().unwrap().to_owned();
            assert!(seq.len() >= 21 && seq.bytes().all(|b| b.is_ascii_digit()));
            assert!(seq > previous, "sequence numbers increase");
            previous = seq;
            assert!(d.size_bytes().unwrap() > 0);
            assert!(d.approximate_creation_date_time().is_some());
            assert_eq!(d.stream_view_type().unwrap().as_str(), view.as_str());
            let has_new = d.new_image().is_some();
            let has_old = d.old_image().is_some();
            let name = event(r).as_str();
            let want_new = name != "REMOVE"
                && matches!(
                    view,
                    StreamViewType::NewImage | StreamViewType::NewAndOldImages
                );
            let want_old = name != "INSERT"
                && matches!(
                    view,
                    StreamViewType::OldImage | StreamViewType::NewAndOldImages
                );
            assert_eq!((has_new, has_old), (want_new, want_old), "{view:?} {name}");
        }
        // The MODIFY of `a` carries the images its view type asks for.
        let modify = &records[1].dynamodb().unwrap();
        if view == StreamViewType::NewAndOldImages {
            assert_eq!(image_n(modify.old_image(), "v").as_deref(), Some("1"));
            assert_eq!(image_n(modify.new_image(), "v").as_deref(), Some("2"));
        }
    }
}

#[tokio::test]
async fn list_and_describe_streams() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let s = streams_client(&nimbus.server.endpoint);
    let mut arns = Vec::new();
    for t in ["ls1", "ls2", "ls3"] {
        arns.push(
            stream_table(c, t, Some(StreamViewType::NewImage))
                .await
                .unwrap(),
        );
    }
    stream_table(c, "ls_plain", None).await;
    let all = ok(s.list_streams().send().await);
    let listed: BTreeSet<String> = all
        .streams()
        .iter()
        .map(|x| x.stream_arn().unwrap().to_owned())
        .collect();
    assert_eq!(listed, arns.iter().cloned().collect());
    // Paging with Limit and ExclusiveStartStreamArn.
    let mut seen = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let page = ok(s
            .list_streams()
            .limit(2)
            .set_exclusive_start_stream_arn(start.take())
            .send()
            .await);
        assert!(page.streams().len() <= 2);
        seen.extend(
            page.streams()
                .iter()
                .map(|x| x.stream_arn().unwrap().to_owned()),
        );
        match page.last_evaluated_stream_arn {
            Some(a) => start = Some(a),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    let one = ok(s.list_streams().table_name("ls2").send().await);
    assert_eq!(one.streams().len(), 1);
    assert_eq!(one.streams()[0].table_name(), Some("ls2"));
    assert_eq!(one.streams()[0].stream_arn(), Some(arns[1].as_str()));
    assert!(one.streams()[0].stream_label().is_some());

    let d = ok(s.describe_stream().stream_arn(&arns[0]).send().await)
        .stream_description
        .unwrap();
    assert_eq!(d.stream_arn(), Some(arns[0].as_str()));
    assert_eq!(d.table_name(), Some("ls1"));
    assert_eq!(d.stream_status().unwrap().as_str(), "ENABLED");
    assert_eq!(d.stream_view_type().unwrap().as_str(), "NEW_IMAGE");
    assert!(d.creation_request_date_time().is_some());
    assert_eq!(d.key_schema().len(), 1);
    assert_eq!(d.key_schema()[0].attribute_name(), "pk");
    assert_eq!(d.shards().len(), 1);
    let shard = d.shards()[0].shard_id().unwrap().to_owned();
    assert!(shard.starts_with("shardId-"));
    assert!(d.last_evaluated_shard_id().is_none());
    let after = ok(s
        .describe_stream()
        .stream_arn(&arns[0])
        .exclusive_start_shard_id(&shard)
        .send()
        .await);
    assert!(after.stream_description.unwrap().shards().is_empty());

    // Errors.
    let missing = format!("{}/stream/2020-01-01T00:00:00.000", table_arn("nope"));
    expect_error(
        s.describe_stream().stream_arn(&missing).send().await,
        "ResourceNotFoundException",
        &format!("Requested resource not found: Stream: {missing} not found"),
    );
    expect_error(
        s.list_streams().limit(0).send().await,
        VE,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    expect_error(
        s.describe_stream().stream_arn(&arns[0]).limit(101).send().await,
        VE,
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
    );

    // A deleted table's stream stays, DISABLED.
    ok(c.delete_table().table_name("ls3").send().await);
    let d = ok(s.describe_stream().stream_arn(&arns[2]).send().await)
        .stream_description
        .unwrap();
    assert_eq!(d.stream_status().unwrap().as_str(), "DISABLED");
}

#[tokio::test]
async fn shard_iterator_types_and_get_records_paging() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let s = streams_client(&nimbus.server.endpoint);
    let arn = stream_table(c, "iters", Some(StreamViewType::KeysOnly))
        .await
        .unwrap();
    let latest_before = iterator(&s, &arn, ShardIteratorType::Latest, None).await;
    for i in 0..5 {
        ok(c.put_item()
            .table_name("iters")
            .item("pk", s_(&format!("k{i}")))
            .send()
            .await);
    }
    let records = all_records(&s, &arn).await;
    assert_eq!(records.len(), 5);
    let seqs: Vec<String> = records
        .iter()
        .map(|r| r.dynamodb().unwrap().sequence_number().unwrap().to_owned())
        .collect();

    // LATEST taken before the writes sees all of them; taken now, none.
    let page = ok(s.get_records().shard_iterator(&latest_before).send().await);
    assert_eq!(page.records().len(), 5);
    let latest = iterator(&s, &arn, ShardIteratorType::Latest, None).await;
    let page = ok(s.get_records().shard_iterator(&latest).send().await);
    assert!(page.records().is_empty());
    assert!(page.next_shard_iterator.is_some(), "an open shard goes on");

    // AT and AFTER a sequence number.
    let at = iterator(
        &s,
        &arn,
        ShardIteratorType::AtSequenceNumber,
        Some(&seqs[2]),
    )
    .await;
    let page = ok(s.get_records().shard_iterator(&at).send().await);
    assert_eq!(key_of(&page.records()[0]), "k2");
    assert_eq!(page.records().len(), 3);
    let after = iterator(
        &s,
        &arn,
        ShardIteratorType::AfterSequenceNumber,
        Some(&seqs[2]),
    )
    .await;
    let page = ok(s.get_records().shard_iterator(&after).send().await);
    assert_eq!(key_of(&page.records()[0]), "k3");

    // Limit, then NextShardIterator continues where the page ended.
    let th = iterator(&s, &arn, ShardIteratorType::TrimHorizon, None).await;
    let page = ok(s.get_records().shard_iterator(&th).limit(2).send().await);
    assert_eq!(page.records().len(), 2);
    let page = ok(s
        .get_records()
        .shard_iterator(page.next_shard_iterator.unwrap())
        .limit(2)
        .send()
        .await);
    assert_eq!(key_of(&page.records()[0]), "k2");

    // A closed shard: once read to its end, no NextShardIterator.
    ok(c.update_table()
        .table_name("iters")
        .stream_specification(spec(None, false))
        .send()
        .await);
    let th = iterator(&s, &arn, ShardIteratorType::TrimHorizon, None).await;
    let page = ok(s.get_records().shard_iterator(&th).send().await);
    assert_eq!(page.records().len(), 5);
    assert!(page.next_shard_iterator.is_none());

    // Errors.
    let shard = shard_id(&s, &arn).await;
    expect_error(
        s.get_records().shard_iterator(&th).limit(1001).send().await,
        VE,
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
    expect_error(
        s.get_records().shard_iterator(&th).limit(0).send().await,
        VE,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    expect_error(
        s.get_records()
            .shard_iterator(format!("{arn}|bm90IGFuIGl0ZXJhdG9y"))
            .send()
            .await,
        VE,
        "Invalid ShardIterator",
    );
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::from("SOMEWHERE"))
            .send()
            .await,
        VE,
        "1 validation error detected: Value 'SOMEWHERE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]",
    );
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .send()
            .await,
        VE,
        "Must provide SequenceNumber for ShardIteratorType AT_SEQUENCE_NUMBER",
    );
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number("12ab")
            .send()
            .await,
        VE,
        "Invalid SequenceNumber: 12ab",
    );
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .sequence_number("100000000000000000001")
            .send()
            .await,
        VE,
        "Cannot provide SequenceNumber for ShardIteratorType TRIM_HORIZON",
    );
    expect_error(
        s.get_shard_iterator()
            .stream_arn("arn:aws:dynamodb:short")
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::Latest)
            .send()
            .await,
        VE,
        "1 validation error detected: Value 'arn:aws:dynamodb:short' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37",
    );
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id("shardId-1")
            .shard_iterator_type(ShardIteratorType::Latest)
            .send()
            .await,
        VE,
        "1 validation error detected: Value 'shardId-1' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 28",
    );
    let long = "x".repeat(2049);
    expect_error(
        s.get_records().shard_iterator(&long).send().await,
        VE,
        &format!("1 validation error detected: Value '{long}' at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 2048"),
    );
    let other_shard = "shardId-00000000000000000000-00000000";
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(other_shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found: Shard does not exist",
    );
}

#[tokio::test]
async fn iterators_expire_and_old_records_are_trimmed() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let s = streams_client(&nimbus.server.endpoint);
    let endpoint = nimbus.server.endpoint.clone();
    let arn = stream_table(c, "aging", Some(StreamViewType::KeysOnly))
        .await
        .unwrap();
    ok(c.put_item()
        .table_name("aging")
        .item("pk", s_("old"))
        .send()
        .await);
    let first = all_records(&s, &arn).await[0]
        .dynamodb()
        .unwrap()
        .sequence_number()
        .unwrap()
        .to_owned();
    let it = iterator(&s, &arn, ShardIteratorType::TrimHorizon, None).await;
    common::advance_clock(&endpoint, 16 * 60).await;
    expect_error(
        s.get_records().shard_iterator(&it).send().await,
        "ExpiredIteratorException",
        "Iterator expired. The iterator was created more than 15 minutes ago.",
    );

    // A day later the record is trimmed: asking for it by number fails.
    common::advance_clock(&endpoint, 24 * 3600).await;
    ok(c.put_item()
        .table_name("aging")
        .item("pk", s_("new"))
        .send()
        .await);
    let shard = shard_id(&s, &arn).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = s
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(&first)
            .send()
            .await;
        if r.is_err() {
            expect_error(
                r,
                "TrimmedDataAccessException",
                "The operation attempted to read past the oldest stream record in a shard.",
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old record was never trimmed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = all_records(&s, &arn).await;
    assert_eq!(left.len(), 1);
    assert_eq!(key_of(&left[0]), "new");
}

fn seq_of(r: &Record) -> String {
    r.dynamodb().unwrap().sequence_number().unwrap().to_owned()
}

async fn put_keys(c: &Client, table: &str, keys: &[&str]) {
    for k in keys {
        ok(c.put_item()
            .table_name(table)
            .item("pk", s_(k))
            .send()
            .await);
    }
}

async fn shards_of(s: &Streams, arn: &str) -> Vec<aws_sdk_dynamodbstreams::types::Shard> {
    ok(s.describe_stream().stream_arn(arn).send().await)
        .stream_description
        .unwrap()
        .shards()
        .to_vec()
}

async fn shard_iterator(
    s: &Streams,
    arn: &str,
    shard: &str,
    kind: ShardIteratorType,
    sequence: Option<&str>,
) -> String {
    ok(s.get_shard_iterator()
        .stream_arn(arn)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_sequence_number(sequence.map(str::to_owned))
        .send()
        .await)
    .shard_iterator
    .unwrap()
}

/// Shards roll over by the injectable clock: the first record after the
/// rollover period opens a child shard, the parent closes at the record
/// before, DescribeStream lists them oldest first with lineage and pages
/// through them, iterators work per shard and a closed shard's iterator
/// ends; once its records are trimmed the parent is no longer listed.
#[tokio::test]
async fn shards_roll_over_with_lineage() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let s = streams_client(&nimbus.server.endpoint);
    let endpoint = nimbus.server.endpoint.clone();
    let arn = stream_table(c, "rolling", Some(StreamViewType::KeysOnly))
        .await
        .unwrap();
    put_keys(c, "rolling", &["a", "b"]).await;
    let first = shards_of(&s, &arn).await;
    assert_eq!(first.len(), 1);
    let parent = first[0].shard_id().unwrap().to_owned();
    assert!(first[0].parent_shard_id().is_none());

    // Just short of four hours nothing rolls; past it the next write does.
    common::advance_clock(&endpoint, 4 * 3600 - 60).await;
    put_keys(c, "rolling", &["c"]).await;
    assert_eq!(shards_of(&s, &arn).await.len(), 1);
    // A reader in the open shard, from before the rollover.
    let th = shard_iterator(&s, &arn, &parent, ShardIteratorType::TrimHorizon, None).await;
    let page = ok(s.get_records().shard_iterator(&th).limit(2).send().await);
    assert_eq!(
        page.records().iter().map(key_of).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let waiting = page
        .next_shard_iterator
        .clone()
        .expect("an open shard goes on");
    common::advance_clock(&endpoint, 120).await;
    put_keys(c, "rolling", &["d", "e"]).await;
    let shards = shards_of(&s, &arn).await;
    assert_eq!(shards.len(), 2, "{shards:?}");
    assert_eq!(shards[0].shard_id(), Some(parent.as_str()));
    let child = shards[1].shard_id().unwrap().to_owned();
    assert_eq!(shards[1].parent_shard_id(), Some(parent.as_str()));
    let shape = |id: &str| {
        let rest = id.strip_prefix("shardId-").unwrap();
        let (digits, hex) = rest.split_once('-').unwrap();
        digits.len() == 20
            && digits.bytes().all(|b| b.is_ascii_digit())
            && hex.len() == 8
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    };
    assert!(shape(&parent) && shape(&child), "{parent} {child}");
    let all: Vec<Record> = {
        let th = shard_iterator(&s, &arn, &parent, ShardIteratorType::TrimHorizon, None).await;
        let mut out = ok(s.get_records().shard_iterator(&th).send().await)
            .records()
            .to_vec();
        let th = shard_iterator(&s, &arn, &child, ShardIteratorType::TrimHorizon, None).await;
        out.extend(
            ok(s.get_records().shard_iterator(&th).send().await)
                .records()
                .iter()
                .cloned(),
        );
        out
    };
    assert_eq!(
        all.iter().map(key_of).collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
    );
    let seqs: Vec<String> = all.iter().map(seq_of).collect();
    let range = shards[0].sequence_number_range().unwrap();
    assert_eq!(range.starting_sequence_number(), Some(seqs[0].as_str()));
    assert_eq!(range.ending_sequence_number(), Some(seqs[2].as_str()));
    let range = shards[1].sequence_number_range().unwrap();
    assert_eq!(range.starting_sequence_number(), Some(seqs[3].as_str()));
    assert!(range.ending_sequence_number().is_none());

    // The reader from before the rollover gets the parent's last record,
    // then no next iterator: it moves on to the child.
    let page = ok(s.get_records().shard_iterator(&waiting).send().await);
    assert_eq!(page.records().iter().map(key_of).collect::<Vec<_>>(), ["c"]);
    assert!(page.next_shard_iterator.is_none());
    // LATEST of a closed shard is its end; of the open one, its tip.
    let latest = shard_iterator(&s, &arn, &parent, ShardIteratorType::Latest, None).await;
    let page = ok(s.get_records().shard_iterator(&latest).send().await);
    assert!(page.records().is_empty() && page.next_shard_iterator.is_none());
    let latest = shard_iterator(&s, &arn, &child, ShardIteratorType::Latest, None).await;
    put_keys(c, "rolling", &["f"]).await;
    let page = ok(s.get_records().shard_iterator(&latest).send().await);
    assert_eq!(page.records().iter().map(key_of).collect::<Vec<_>>(), ["f"]);
    assert!(page.next_shard_iterator.is_some());
    // Sequence numbers are per shard: AFTER the parent's last is empty and
    // ended; a child's number is not in the parent.
    let after = shard_iterator(
        &s,
        &arn,
        &parent,
        ShardIteratorType::AfterSequenceNumber,
        Some(&seqs[2]),
    )
    .await;
    let page = ok(s.get_records().shard_iterator(&after).send().await);
    assert!(page.records().is_empty() && page.next_shard_iterator.is_none());
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&parent)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(&seqs[3])
            .send()
            .await,
        VE,
        &format!(
            "Invalid SequenceNumber: {} is not in shard {parent}",
            seqs[3]
        ),
    );

    // Paging: Limit, LastEvaluatedShardId, ExclusiveStartShardId.
    let page = ok(s.describe_stream().stream_arn(&arn).limit(1).send().await)
        .stream_description
        .unwrap();
    assert_eq!(page.shards().len(), 1);
    assert_eq!(page.shards()[0].shard_id(), Some(parent.as_str()));
    assert_eq!(page.last_evaluated_shard_id(), Some(parent.as_str()));
    let page = ok(s
        .describe_stream()
        .stream_arn(&arn)
        .limit(1)
        .exclusive_start_shard_id(&parent)
        .send()
        .await)
    .stream_description
    .unwrap();
    assert_eq!(page.shards().len(), 1);
    assert_eq!(page.shards()[0].shard_id(), Some(child.as_str()));
    assert!(page.last_evaluated_shard_id().is_none());

    // A day after the parent's last record was written (the child's first
    // came two minutes later) the parent is trimmed and disappears; the
    // child keeps its lineage.
    common::advance_clock(&endpoint, 24 * 3600 - 60).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shards = shards_of(&s, &arn).await;
        if shards.len() == 1 {
            assert_eq!(shards[0].shard_id(), Some(child.as_str()));
            assert_eq!(shards[0].parent_shard_id(), Some(parent.as_str()));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the parent shard stayed: {shards:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    expect_error(
        s.get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&parent)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found: Shard does not exist",
    );
    let rest = all_records(&s, &arn).await;
    assert_eq!(rest.iter().map(key_of).collect::<Vec<_>>(), ["d", "e", "f"]);
    // Disabling the stream closes the child at its last record.
    ok(c.update_table()
        .table_name("rolling")
        .stream_specification(spec(None, false))
        .send()
        .await);
    let shards = shards_of(&s, &arn).await;
    let range = shards[0].sequence_number_range().unwrap();
    assert_eq!(
        range.ending_sequence_number(),
        Some(seq_of(&rest[2]).as_str())
    );
}

/// Shard boundaries are stored with the record that opens the shard: after
/// `kill -9` the lineage is the same and records stay in their shards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_boundaries_survive_sigkill() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);
    let mut server = Server::start(&["--data-dir", data_arg, "--dynamodb-shard-rollover", "60"]);
    let c = client(&server.endpoint);
    let s = streams_client(&server.endpoint);
    let arn = stream_table(&c, "durable", Some(StreamViewType::KeysOnly))
        .await
        .unwrap();
    put_keys(&c, "durable", &["a"]).await;
    common::advance_clock(&server.endpoint, 61).await;
    put_keys(&c, "durable", &["b"]).await;
    common::advance_clock(&server.endpoint, 61).await;
    put_keys(&c, "durable", &["c"]).await;
    let before = shards_of(&s, &arn).await;
    assert_eq!(before.len(), 3);
    server.kill();

    let server = Server::start(&["--data-dir", data_arg]);
    let s = streams_client(&server.endpoint);
    let after = shards_of(&s, &arn).await;
    assert_eq!(after, before);
    for (shard, key) in after.iter().zip(["a", "b", "c"]) {
        let th = shard_iterator(
            &s,
            &arn,
            shard.shard_id().unwrap(),
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let page = ok(s.get_records().shard_iterator(&th).send().await);
        assert_eq!(page.records().iter().map(key_of).collect::<Vec<_>>(), [key]);
    }
}

#[tokio::test]
async fn ttl_deletions_are_removes_by_dynamodb() {
    let nimbus = start().await;
    let c = &nimbus.client;
    let s = streams_client(&nimbus.server.endpoint);
    let arn = stream_table(c, "ttl", Some(StreamViewType::OldImage))
        .await
        .unwrap();
    ok(c.update_time_to_live()
        .table_name("ttl")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("exp")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await);
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    ok(c.put_item()
        .table_name("ttl")
        .item("pk", s_("session"))
        .item("exp", n(soon))
        .send()
        .await);
    ok(c.delete_item()
        .table_name("ttl")
        .key("pk", s_("none"))
        .send()
        .await);
    common::advance_clock(&nimbus.server.endpoint, 120).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let records = loop {
        let r = all_records(&s, &arn).await;
        if r.len() >= 2 || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(records.len(), 2, "INSERT then the TTL REMOVE");
    assert!(records[0].user_identity().is_none());
    let remove = &records[1];
    assert_eq!(event(remove).as_str(), "REMOVE");
    let who = remove.user_identity().expect("a user identity");
    assert_eq!(who.r#type(), Some("Service"));
    assert_eq!(who.principal_id(), Some("dynamodb.amazonaws.com"));
    assert_eq!(
        image_n(remove.dynamodb().unwrap().old_image(), "exp"),
        Some(soon.to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_have_their_records_after_sigkill() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);
    let mut server = Server::start(&["--data-dir", data_arg]);
    let c = client_with_timeout(&server.endpoint, Duration::from_secs(5));
    let arn = stream_table(&c, "crash", Some(StreamViewType::NewImage))
        .await
        .unwrap();

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8 {
        let c = c.clone();
        let acked = acked.clone();
        tasks.spawn(async move {
            for i in 0.. {
                let pk = format!("w{w}-{i}");
                let r = c
                    .put_item()
                    .table_name("crash")
                    .item("pk", s(&pk))
                    .send()
                    .await;
                if r.is_err() {
                    return;
                }
                acked.lock().unwrap().insert(pk);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 400 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    while tasks.join_next().await.is_some() {}
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.len() >= 100,
        "only {} writes acknowledged",
        acked.len()
    );

    let server = Server::start(&["--data-dir", data_arg]);
    let c = client(&server.endpoint);
    let st = streams_client(&server.endpoint);
    let records = all_records(&st, &arn).await;
    let recorded: BTreeSet<String> = records.iter().map(key_of).collect();
    assert_eq!(recorded.len(), records.len(), "one record per item");
    let missing: Vec<_> = acked.difference(&recorded).collect();
    assert!(
        missing.is_empty(),
        "acknowledged without a record: {missing:?}"
    );
    // And no record without its item: every recorded key is stored.
    let mut stored = BTreeSet::new();
    let mut start = None;
    loop {
        let page = ok(c
            .scan()
            .table_name("crash")
            .set_exclusive_start_key(start.take())
            .send()
            .await);
        stored.extend(page.items().iter().map(|i| i["pk"].as_s().unwrap().clone()));
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(stored, recorded, "records and items agree");
    // The stream goes on after the restart, numbers still increasing.
    let last = records
        .iter()
        .map(|r| r.dynamodb().unwrap().sequence_number().unwrap().to_owned())
        .max()
        .unwrap();
    ok(c.put_item()
        .table_name("crash")
        .item("pk", s("after"))
        .send()
        .await);
    let again = all_records(&st, &arn).await;
    let newest = again.last().unwrap();
    assert_eq!(key_of(newest), "after");
    assert!(newest.dynamodb().unwrap().sequence_number().unwrap() > last.as_str());
}
