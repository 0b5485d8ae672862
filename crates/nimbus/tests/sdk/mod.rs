//! Helpers for the integration tests that drive a live `nimbus serve` with the
//! official AWS SDK for Rust: a plain-HTTP DynamoDB client, table creation,
//! short constructors for attribute values, and an assertion on the exact
//! error code and message the SDK surfaces.
//!
//! Servers come from `tests/common` (each test binary declares `mod common;`
//! next to `mod sdk;`). Each test binary compiles this module separately and
//! uses a different subset of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableDescription,
};
use aws_sdk_dynamodb::Client;

/// The account nimbus assigns when the access key names none.
pub const ACCOUNT: &str = "000000000000";
pub const REGION: &str = "us-east-1";

/// A DynamoDB client for `endpoint` (`http://127.0.0.1:PORT`): plain HTTP
/// (no TLS stack is built), static test credentials, region us-east-1.
///
/// Retries are off so every response the test sees is the server's first
/// answer (and an UpdateItem ADD is never sent twice behind the test's back);
/// a generous operation timeout turns a hung server into a failure, not a
/// hung test run.
pub fn client(endpoint: &str) -> Client {
    client_with_timeout(endpoint, Duration::from_secs(30))
}

pub fn client_with_timeout(endpoint: &str, timeout: Duration) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_dynamodb::Config::builder()
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
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(timeout)
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// The expected ARN of a table in the default account and region.
pub fn table_arn(name: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
}

/// Creates an on-demand table with the given hash key and optional range key
/// and returns its description.
pub async fn create_table(
    client: &Client,
    name: &str,
    hash: (&str, ScalarAttributeType),
    range: Option<(&str, ScalarAttributeType)>,
) -> TableDescription {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(hash.0, KeyType::Hash))
        .attribute_definitions(attr_def(hash.0, hash.1));
    if let Some((range_name, range_type)) = range {
        req = req
            .key_schema(key_element(range_name, KeyType::Range))
            .attribute_definitions(attr_def(range_name, range_type));
    }
    let out = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTable {name}: {}", describe(&e)));
    out.table_description
        .expect("CreateTable returns a TableDescription")
}

/// A table with a string hash key `pk`.
pub async fn hash_table(client: &Client, name: &str) -> TableDescription {
    create_table(client, name, ("pk", ScalarAttributeType::S), None).await
}

/// A table with a string hash key `pk` and a range key `sk` of `sk_type`.
pub async fn range_table(
    client: &Client,
    name: &str,
    sk_type: ScalarAttributeType,
) -> TableDescription {
    create_table(
        client,
        name,
        ("pk", ScalarAttributeType::S),
        Some(("sk", sk_type)),
    )
    .await
}

pub fn key_element(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .unwrap()
}

pub fn attr_def(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .unwrap()
}

// ------------------------------------------------------------ attribute values

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn b(v: impl Into<Vec<u8>>) -> AttributeValue {
    AttributeValue::B(Blob::new(v))
}

pub fn boolean(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

pub fn null() -> AttributeValue {
    AttributeValue::Null(true)
}

pub fn ss(v: &[&str]) -> AttributeValue {
    AttributeValue::Ss(v.iter().map(|x| x.to_string()).collect())
}

pub fn ns(v: &[&str]) -> AttributeValue {
    AttributeValue::Ns(v.iter().map(|x| x.to_string()).collect())
}

pub fn bs(v: &[&[u8]]) -> AttributeValue {
    AttributeValue::Bs(v.iter().map(|x| Blob::new(x.to_vec())).collect())
}

pub fn l(v: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(v)
}

pub fn m(pairs: &[(&str, AttributeValue)]) -> AttributeValue {
    AttributeValue::M(item(pairs))
}

/// An item (or key, or ExpressionAttributeValues map) from name/value pairs.
pub fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Sets come back in no particular order: sort them (recursively) so items
/// compare by value.
pub fn normalized(value: &AttributeValue) -> AttributeValue {
    match value {
        AttributeValue::Ss(v) => {
            let mut v = v.clone();
            v.sort();
            AttributeValue::Ss(v)
        }
        AttributeValue::Ns(v) => {
            let mut v = v.clone();
            v.sort();
            AttributeValue::Ns(v)
        }
        AttributeValue::Bs(v) => {
            let mut v = v.clone();
            v.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
            AttributeValue::Bs(v)
        }
        AttributeValue::L(v) => AttributeValue::L(v.iter().map(normalized).collect()),
        AttributeValue::M(v) => AttributeValue::M(normalized_item(v)),
        other => other.clone(),
    }
}

pub fn normalized_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), normalized(v)))
        .collect()
}

/// Asserts two items are equal up to the order of set members.
#[track_caller]
pub fn assert_item_eq(actual: &Item, expected: &Item) {
    assert_eq!(normalized_item(actual), normalized_item(expected));
}

// ---------------------------------------------------------------------- errors

/// A one-line account of an SDK error: code and message when the service
/// answered, the full error chain otherwise.
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    match err.code() {
        Some(code) => format!("{code}: {}", err.message().unwrap_or("")),
        None => format!("{err:?}"),
    }
}

/// Asserts `result` failed with exactly this error code and message, and
/// returns the service error for further checks.
#[track_caller]
pub fn expect_error<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) -> E
where
    T: Debug,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(out) => panic!("expected {code} ({message}), got success: {out:?}"),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            assert_eq!(
                (err.code(), err.message()),
                (Some(code), Some(message)),
                "wrong error (HTTP {status:?})"
            );
            match err {
                SdkError::ServiceError(service) => service.into_err(),
                other => panic!("not a service error: {other:?}"),
            }
        }
    }
}

/// Unwraps an SDK result, panicking with the service's code and message.
#[track_caller]
pub fn ok<T, E, R>(result: Result<T, SdkError<E, R>>) -> T
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    match result {
        Ok(out) => out,
        Err(err) => panic!("request failed: {}", describe(&err)),
    }
}

// ------------------------------------------------------------------- servers

/// A running nimbus and a client pointed at it. Dropping it stops the server.
pub struct Nimbus {
    pub server: crate::common::Server,
    pub client: Client,
}

/// Starts an in-memory nimbus on an ephemeral port with a client for it.
pub async fn start() -> Nimbus {
    let server = crate::common::Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    Nimbus { server, client }
}

/// Polls DescribeTable until the table is ACTIVE again with every global
/// secondary index ACTIVE (UpdateTable's index backfills and deletions run
/// in the background), as a waiter would; panics after 60 s.
pub async fn wait_active(client: &Client, table: &str) -> TableDescription {
    use aws_sdk_dynamodb::types::{IndexStatus, TableStatus};
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let desc = ok(client.describe_table().table_name(table).send().await)
            .table
            .expect("a table description");
        let settled = desc.table_status() == Some(&TableStatus::Active)
            && desc
                .global_secondary_indexes()
                .iter()
                .all(|g| g.index_status() == Some(&IndexStatus::Active));
        if settled {
            return desc;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "table {table} never settled: {desc:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
