//! The service driven in-process through `DynamoDb::handle`, without HTTP:
//! fast checks of operation wiring, storage layout and response framing.

use nimbus_dynamodb::{DynamoConfig, DynamoDb};
use nimbus_store::Store;
use nimbus_wire::{AwsError, RequestContext};
use serde_json::{json, Value};

fn service() -> DynamoDb {
    let store = Store::in_memory().expect("in-memory store");
    DynamoDb::open(
        store,
        DynamoConfig::new("us-east-1"),
        nimbus_clock::Clock::new(),
    )
    .expect("service opens")
}

async fn call(db: &DynamoDb, op: &str, body: Value) -> Result<Value, AwsError> {
    let ctx = RequestContext::local("us-east-1");
    let out = db.handle(&ctx, op, body.to_string().as_bytes()).await?;
    Ok(serde_json::from_slice(&out).expect("responses are JSON"))
}

async fn create(db: &DynamoDb, name: &str, sk_type: Option<&str>) {
    let mut schema = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
    let mut defs = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
    if let Some(t) = sk_type {
        schema.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        defs.push(json!({"AttributeName": "sk", "AttributeType": t}));
    }
    call(
        db,
        "CreateTable",
        json!({"TableName": name, "KeySchema": schema, "AttributeDefinitions": defs,
               "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await
    .expect("table created");
}

#[tokio::test]
async fn put_get_round_trip_and_condition() {
    let db = service();
    create(&db, "tbl1", None).await;
    let item =
        json!({"pk": {"S": "a"}, "n": {"N": "1.50"}, "l": {"L": [{"S": "x"}, {"NULL": true}]}});
    call(&db, "PutItem", json!({"TableName": "tbl1", "Item": item}))
        .await
        .unwrap();
    let got = call(
        &db,
        "GetItem",
        json!({"TableName": "tbl1", "Key": {"pk": {"S": "a"}}}),
    )
    .await
    .unwrap();
    assert_eq!(got["Item"]["n"], json!({"N": "1.5"}));
    assert_eq!(got["Item"]["l"]["L"][1], json!({"NULL": true}));

    let err = call(
        &db,
        "PutItem",
        json!({"TableName": "tbl1", "Item": {"pk": {"S": "a"}},
               "ConditionExpression": "attribute_not_exists(pk)",
               "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "ConditionalCheckFailedException");
    assert_eq!(err.extra.unwrap()["Item"]["n"], json!({"N": "1.5"}));

    let desc = call(&db, "DescribeTable", json!({"TableName": "tbl1"}))
        .await
        .unwrap();
    assert_eq!(desc["Table"]["ItemCount"], json!(1));
}

#[tokio::test]
async fn update_then_query_in_numeric_order() {
    let db = service();
    create(&db, "tbl2", Some("N")).await;
    for sk in ["10", "-2", "1.5", "0", "-10"] {
        call(
            &db,
            "UpdateItem",
            json!({"TableName": "tbl2", "Key": {"pk": {"S": "p"}, "sk": {"N": sk}},
                   "UpdateExpression": "SET v = :v ADD c :one",
                   "ExpressionAttributeValues": {":v": {"S": sk}, ":one": {"N": "1"}}}),
        )
        .await
        .unwrap();
    }
    let q = call(
        &db,
        "Query",
        json!({"TableName": "tbl2", "KeyConditionExpression": "pk = :p AND sk >= :lo",
               "ExpressionAttributeValues": {":p": {"S": "p"}, ":lo": {"N": "-2"}}}),
    )
    .await
    .unwrap();
    let order: Vec<&str> = q["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"]["N"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["-2", "0", "1.5", "10"]);
    assert_eq!(q["Count"], json!(4));

    let page = call(
        &db,
        "Query",
        json!({"TableName": "tbl2", "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"S": "p"}}, "Limit": 2,
               "ScanIndexForward": false}),
    )
    .await
    .unwrap();
    assert_eq!(page["Items"][0]["sk"], json!({"N": "10"}));
    assert_eq!(
        page["LastEvaluatedKey"],
        json!({"pk": {"S": "p"}, "sk": {"N": "1.5"}})
    );
}

#[tokio::test]
async fn parallel_scan_covers_each_item_once() {
    let db = service();
    create(&db, "tbl3", None).await;
    for i in 0..200 {
        call(
            &db,
            "PutItem",
            json!({"TableName": "tbl3", "Item": {"pk": {"S": format!("k{i}")}}}),
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    for segment in 0..3 {
        let mut start: Option<Value> = None;
        loop {
            let mut req =
                json!({"TableName": "tbl3", "Segment": segment, "TotalSegments": 3, "Limit": 17});
            if let Some(s) = start.take() {
                req["ExclusiveStartKey"] = s;
            }
            let page = call(&db, "Scan", req).await.unwrap();
            for item in page["Items"].as_array().unwrap() {
                seen.push(item["pk"]["S"].as_str().unwrap().to_string());
            }
            match page.get("LastEvaluatedKey") {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
    }
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(before, 200);
    assert_eq!(seen.len(), 200);
}

#[tokio::test]
async fn missing_table_and_bad_key() {
    let db = service();
    let err = call(
        &db,
        "GetItem",
        json!({"TableName": "nope", "Key": {"pk": {"S": "a"}}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("ResourceNotFoundException", "Requested resource not found")
    );
    create(&db, "tbl4", None).await;
    let err = call(
        &db,
        "GetItem",
        json!({"TableName": "tbl4", "Key": {"pk": {"N": "1"}}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "The provided key element does not match the schema"
    );
}

#[tokio::test]
async fn exclusive_start_key_never_widens_the_key_condition() {
    let db = service();
    create(&db, "tbl5", Some("N")).await;
    for sk in 1..=10 {
        call(
            &db,
            "PutItem",
            json!({"TableName": "tbl5", "Item": {"pk": {"S": "a"}, "sk": {"N": sk.to_string()}}}),
        )
        .await
        .unwrap();
    }
    // A start key below the condition's range is outside its boundaries.
    let err = call(
        &db,
        "Query",
        json!({"TableName": "tbl5", "KeyConditionExpression": "pk = :p AND sk > :v",
               "ExpressionAttributeValues": {":p": {"S": "a"}, ":v": {"N": "5"}},
               "ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        "The provided starting key is outside query boundaries based on provided conditions"
    );
    // Pages of a bounded query, in both directions, stay inside the bound.
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut start: Option<Value> = None;
        loop {
            let mut req = json!({"TableName": "tbl5",
                "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {":p": {"S": "a"}, ":lo": {"N": "3"}, ":hi": {"N": "7"}},
                "Limit": 2, "ScanIndexForward": forward});
            if let Some(s) = start.take() {
                req["ExclusiveStartKey"] = s;
            }
            let page = call(&db, "Query", req).await.unwrap();
            for item in page["Items"].as_array().unwrap() {
                seen.push(item["sk"]["N"].as_str().unwrap().parse::<i32>().unwrap());
            }
            match page.get("LastEvaluatedKey") {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        let mut expected = vec![3, 4, 5, 6, 7];
        if !forward {
            expected.reverse();
        }
        assert_eq!(seen, expected);
    }
}
