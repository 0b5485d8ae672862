//! DynamoDB workloads: table setup, seeding, the request each virtual client
//! sends, and the check of every answer.
//!
//! Items are about 1 KB by DynamoDB's own size rule (attribute names plus
//! values): `pk`, `sk` and a `data` string padded so the total is 1024 bytes.
//! The `data` content is derived from the key, so a GetItem that returns the
//! wrong item, or a truncated one, is caught.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{means_unsupported, Api};
use super::{After, BoxFuture, Prepared, Run, Setup, SetupError, Workload};
use crate::client::Endpoint;
use crate::loadgen::{Call, Driver, Rng};
use crate::sign::{SignedRequest, Signer};

const ITEM_BYTES: usize = 1024;
const QUERY_PAGE: usize = 100;
/// Items per Query partition: more than one page, so Limit is what stops the
/// page, not the end of the partition.
const QUERY_PARTITION_ITEMS: u64 = 128;
const TARGET_PREFIX: &str = "DynamoDB_20120810";

/// How much data a run seeds before measuring.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Distinct items GetItem picks from.
    pub get_items: u64,
    /// Partitions Query picks from.
    pub query_partitions: u64,
    /// Expired items the TTL sweeper deletes during dynamodb-get-ttl-sweep.
    pub ttl_items: u64,
}

/// A driver that can also check, after the run, that what it wrote is there.
pub trait DynamoDriver: Driver {
    fn as_driver(self: Arc<Self>) -> Arc<dyn Driver>;
    /// Reads back a sample of the items written during the run (one per
    /// virtual client: its last acknowledged write). Returns one line per
    /// mismatch.
    fn read_back<'a>(
        &'a self,
        api: &'a mut Api,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + 'a>>;
}

/// The `data` value for a key: printable, key-dependent, and long enough that
/// the whole item is [`ITEM_BYTES`].
fn payload(pk: &str, sk: &str) -> String {
    let len = ITEM_BYTES - ("pk".len() + pk.len() + "sk".len() + sk.len() + "data".len());
    let seed = pk
        .bytes()
        .chain(sk.bytes())
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let mut s = Vec::with_capacity(len);
    s.extend_from_slice(pk.as_bytes());
    s.push(b'/');
    s.extend_from_slice(sk.as_bytes());
    s.push(b'/');
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut i = seed as usize % alphabet.len();
    while s.len() < len {
        s.push(alphabet[i]);
        // 7 and the alphabet's 62 letters are coprime: the same sequence as
        // stepping an unbounded index by 7, without a division per byte.
        i += 7;
        if i >= alphabet.len() {
            i -= alphabet.len();
        }
    }
    String::from_utf8(s).expect("ASCII")
}

/// JSON of one item in DynamoDB's attribute-value form. Keys and payloads are
/// plain ASCII without quotes or backslashes, so no escaping is needed.
fn item_json(out: &mut String, pk: &str, sk: &str) {
    out.push_str(r#"{"pk":{"S":""#);
    out.push_str(pk);
    out.push_str(r#""},"sk":{"S":""#);
    out.push_str(sk);
    out.push_str(r#""},"data":{"S":""#);
    out.push_str(&payload(pk, sk));
    out.push_str(r#""}}"#);
}

fn put_body(table: &str, pk: &str, sk: &str) -> Bytes {
    let mut b = String::with_capacity(ITEM_BYTES + 128);
    b.push_str(r#"{"TableName":""#);
    b.push_str(table);
    b.push_str(r#"","Item":"#);
    item_json(&mut b, pk, sk);
    b.push('}');
    Bytes::from(b)
}

fn get_body(table: &str, pk: &str, sk: &str) -> Bytes {
    Bytes::from(json!({"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}}).to_string())
}

fn target(op: &str) -> String {
    format!("{TARGET_PREFIX}.{op}")
}

fn sign_err(e: crate::sign::SignError) -> String {
    e.to_string()
}

// ---- answers, parsed borrowing from the response body ----

#[derive(Deserialize)]
struct S<'a> {
    #[serde(rename = "S", borrow)]
    s: Cow<'a, str>,
}

#[derive(Deserialize)]
struct FullItem<'a> {
    #[serde(borrow)]
    pk: S<'a>,
    #[serde(borrow)]
    sk: S<'a>,
    #[serde(borrow)]
    data: S<'a>,
}

#[derive(Deserialize)]
struct GetOutput<'a> {
    #[serde(rename = "Item", borrow)]
    item: Option<FullItem<'a>>,
}

/// Query items are checked for partition and order; their payloads are
/// skipped (serde ignores unknown fields) to keep the check cheap at 100
/// items per response.
#[derive(Deserialize)]
struct KeyItem<'a> {
    #[serde(borrow)]
    pk: S<'a>,
    #[serde(borrow)]
    sk: S<'a>,
}

#[derive(Deserialize)]
struct QueryOutput<'a> {
    #[serde(rename = "Count")]
    count: Option<u64>,
    #[serde(rename = "Items", borrow, default)]
    items: Vec<KeyItem<'a>>,
}

fn check_item(body: &[u8], pk: &str, sk: &str) -> Result<(), String> {
    let out: GetOutput =
        serde_json::from_slice(body).map_err(|e| format!("unparseable GetItem response: {e}"))?;
    let item = out
        .item
        .ok_or_else(|| format!("GetItem {pk}/{sk}: no Item in response"))?;
    if item.pk.s != pk || item.sk.s != sk {
        return Err(format!(
            "GetItem {pk}/{sk}: got item {}/{}",
            item.pk.s, item.sk.s
        ));
    }
    if item.data.s != payload(pk, sk) {
        return Err(format!(
            "GetItem {pk}/{sk}: data differs ({} bytes)",
            item.data.s.len()
        ));
    }
    Ok(())
}

// ---- setup ----

/// The index of `dynamodb-query-gsi-100`: the table's own key attributes,
/// every attribute projected, so it holds every item.
const GSI_NAME: &str = "by-pk-sk";

pub(super) async fn create_table(
    api: &mut Api,
    table: &str,
    with_gsi: bool,
) -> Result<(), SetupError> {
    let mut req = json!({
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"}
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"}
        ],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if with_gsi {
        req["GlobalSecondaryIndexes"] = json!([{
            "IndexName": GSI_NAME,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"}
            ],
            "Projection": {"ProjectionType": "ALL"}
        }]);
    }
    match api.call("CreateTable", &req).await {
        Ok(_) => {}
        Err(e) if e.error_type == "ResourceInUseException" => {}
        Err(e) => return Err(SetupError(format!("CreateTable: {e}"))),
    }
    // Tables may start CREATING (dynalite keeps them so for a while); poll,
    // bounded, until ACTIVE.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let d = api
            .call("DescribeTable", &json!({"TableName": table}))
            .await?;
        let status = d
            .pointer("/Table/TableStatus")
            .and_then(Value::as_str)
            .unwrap_or("");
        if status == "ACTIVE" {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(SetupError(format!(
                "table {table} not ACTIVE after 60 s (status {status:?})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) async fn delete_table(endpoint: &Endpoint, table: &str) {
    let mut api = Api::dynamodb(endpoint);
    // Best effort: the server is stopped right after anyway.
    let _ = api.call("DeleteTable", &json!({"TableName": table})).await;
}

/// Writes `keys` with PutItem from a few parallel connections.
pub(super) async fn seed(
    endpoint: &Endpoint,
    table: &str,
    keys: Vec<(String, String)>,
) -> Result<(), SetupError> {
    const SEEDERS: usize = 8;
    let keys = Arc::new(keys);
    let mut tasks = Vec::new();
    for w in 0..SEEDERS {
        let (endpoint, table, keys) = (endpoint.clone(), table.to_owned(), keys.clone());
        tasks.push(tokio::spawn(async move {
            let mut api = Api::dynamodb(&endpoint);
            for (pk, sk) in keys.iter().skip(w).step_by(SEEDERS) {
                api.call_raw("PutItem", put_body(&table, pk, sk))
                    .await
                    .map_err(|e| SetupError(format!("seeding PutItem: {e}")))?;
            }
            Ok::<(), SetupError>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| SetupError(format!("seeder panicked: {e}")))??;
    }
    Ok(())
}

/// Creates the table for `workload`, seeds it, checks the server supports
/// the operation, and returns the driver for the load loop.
pub async fn prepare(workload: Workload, setup: &Setup<'_>) -> Result<Prepared, SetupError> {
    let (endpoint, sizes) = (setup.endpoint, setup.sizes);
    let table = format!("nimbus-bench-{}-{}", workload.name(), setup.run_id);
    let mut api = Api::dynamodb(endpoint);
    create_table(&mut api, &table, workload == Workload::DynamodbQueryGsi100).await?;
    let signer = Arc::new(Signer::new("dynamodb", &endpoint.host));
    let driver: Arc<dyn DynamoDriver> = match workload {
        Workload::DynamodbPut => Arc::new(PutDriver::new(signer, table.clone())),
        Workload::DynamodbTransact10 => {
            let driver = Arc::new(TransactDriver::new(signer, table.clone()));
            // Probe once: an unimplemented operation is a result to report,
            // not a flood of errors to measure.
            let mut rng = Rng::new(0);
            let probe = driver
                .next_call(usize::MAX / 2, 0, &mut rng)
                .map_err(SetupError)?;
            if let Err(e) = api
                .call_raw("TransactWriteItems", probe.request.body.clone())
                .await
            {
                if means_unsupported(&e.error_type) {
                    return Ok(Prepared::Unsupported {
                        error_type: e.error_type,
                        message: e.message,
                    });
                }
                return Err(SetupError(format!("TransactWriteItems probe: {e}")));
            }
            driver
        }
        Workload::DynamodbGet => {
            let keys: Vec<(String, String)> = (0..sizes.get_items)
                .map(|i| (format!("g{i:08}"), "0".to_owned()))
                .collect();
            seed(endpoint, &table, keys.clone()).await?;
            Arc::new(GetDriver::new(&signer, &table, keys)?)
        }
        Workload::DynamodbGetTtlSweep => {
            return super::ttl_sweep::prepare(setup, &table, signer).await;
        }
        Workload::DynamodbQuery100 | Workload::DynamodbQueryGsi100 => {
            let partitions: Vec<String> = (0..sizes.query_partitions)
                .map(|p| format!("q{p:04}"))
                .collect();
            let keys = partitions
                .iter()
                .flat_map(|pk| {
                    (0..QUERY_PARTITION_ITEMS).map(move |j| (pk.clone(), format!("{j:06}")))
                })
                .collect();
            seed(endpoint, &table, keys).await?;
            let index = (workload == Workload::DynamodbQueryGsi100).then_some(GSI_NAME);
            Arc::new(QueryDriver::new(&signer, &table, index, partitions)?)
        }
        other => {
            return Err(SetupError(format!(
                "{} is not a DynamoDB workload",
                other.name()
            )))
        }
    };
    Ok(Prepared::Ready(Box::new(DynamoRun { driver, table })))
}

/// A prepared DynamoDB workload: its table, and the driver that reads back
/// what it wrote.
pub(super) struct DynamoRun {
    pub(super) driver: Arc<dyn DynamoDriver>,
    pub(super) table: String,
}

impl Run for DynamoRun {
    fn driver(&self) -> Arc<dyn Driver> {
        self.driver.clone().as_driver()
    }
    fn after<'a>(&'a self, endpoint: &'a Endpoint, _pid: Option<u32>) -> BoxFuture<'a, After> {
        Box::pin(async move {
            let mut api = Api::dynamodb(endpoint);
            After {
                read_back_failures: self.driver.read_back(&mut api).await,
                notes: Vec::new(),
            }
        })
    }
    fn teardown<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, ()> {
        Box::pin(delete_table(endpoint, &self.table))
    }
}

// ---- PutItem ----

/// Remembers each virtual client's last acknowledged write, for read-back.
struct LastWrites(Vec<AtomicU64>);

impl LastWrites {
    const CLIENTS: usize = 1024;
    fn new() -> Self {
        LastWrites((0..Self::CLIENTS).map(|_| AtomicU64::new(0)).collect())
    }
    fn note(&self, worker: usize, seq: u64) {
        if let Some(slot) = self.0.get(worker) {
            slot.fetch_max(seq, Ordering::Relaxed);
        }
    }
    fn sample(&self) -> Vec<(usize, u64)> {
        self.0
            .iter()
            .enumerate()
            .map(|(w, s)| (w, s.load(Ordering::Relaxed)))
            .filter(|(_, s)| *s > 0)
            .collect()
    }
}

fn encode_call(worker: usize, seq: u64) -> u64 {
    ((worker as u64) << 40) | seq
}

fn decode_call(expect: u64) -> (usize, u64) {
    ((expect >> 40) as usize, expect & ((1 << 40) - 1))
}

/// Every PutItem writes a new key, signed on the fly: bodies differ, so
/// there is nothing to pre-sign.
struct PutDriver {
    signer: Arc<Signer>,
    table: String,
    target: String,
    written: LastWrites,
}

impl PutDriver {
    fn new(signer: Arc<Signer>, table: String) -> Self {
        PutDriver {
            signer,
            table,
            target: target("PutItem"),
            written: LastWrites::new(),
        }
    }
    fn key(worker: usize, seq: u64) -> String {
        format!("p{worker:04}-{seq:010}")
    }
}

impl Driver for PutDriver {
    fn next_call(&self, worker: usize, seq: u64, _rng: &mut Rng) -> Result<Call, String> {
        let body = put_body(&self.table, &Self::key(worker, seq), "0");
        Ok(Call::timed(
            self.signer.sign(&self.target, body).map_err(sign_err)?,
            encode_call(worker, seq),
        ))
    }
    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        // PutItem answers `{}` (no ReturnValues requested): anything that is
        // not a JSON object is wrong.
        serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .map_err(|e| format!("unparseable PutItem response: {e}"))?;
        let (w, s) = decode_call(call.expect);
        self.written.note(w, s);
        Ok(None)
    }
}

impl DynamoDriver for PutDriver {
    fn as_driver(self: Arc<Self>) -> Arc<dyn Driver> {
        self
    }
    fn read_back<'a>(
        &'a self,
        api: &'a mut Api,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + 'a>> {
        Box::pin(async move {
            let keys = self
                .written
                .sample()
                .into_iter()
                .map(|(w, s)| (Self::key(w, s), "0".to_owned()))
                .collect();
            read_back_keys(api, &self.table, keys).await
        })
    }
}

async fn read_back_keys(api: &mut Api, table: &str, keys: Vec<(String, String)>) -> Vec<String> {
    let mut failures = Vec::new();
    for (pk, sk) in keys {
        match api.call_raw("GetItem", get_body(table, &pk, &sk)).await {
            Ok(body) => {
                if let Err(e) = check_item(&body, &pk, &sk) {
                    failures.push(format!("read-back: {e}"));
                }
            }
            Err(e) => failures.push(format!("read-back GetItem {pk}: {e}")),
        }
    }
    failures
}

// ---- GetItem ----

/// GetItem requests for every seeded key, signed once before the run: the
/// bodies repeat, and SigV4 signatures stay valid for minutes (AWS allows 15
/// minutes of clock skew; runs are capped well below that).
pub(super) struct GetDriver {
    requests: Vec<SignedRequest>,
    keys: Vec<(String, String)>,
    payloads: Vec<String>,
}

impl GetDriver {
    pub(super) fn new(
        signer: &Signer,
        table: &str,
        keys: Vec<(String, String)>,
    ) -> Result<Self, SetupError> {
        let t = target("GetItem");
        let requests = keys
            .iter()
            .map(|(pk, sk)| {
                signer
                    .sign(&t, get_body(table, pk, sk))
                    .map_err(|e| SetupError(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let payloads = keys.iter().map(|(pk, sk)| payload(pk, sk)).collect();
        Ok(GetDriver {
            requests,
            keys,
            payloads,
        })
    }
}

impl Driver for GetDriver {
    fn next_call(&self, _worker: usize, _seq: u64, rng: &mut Rng) -> Result<Call, String> {
        let i = rng.below(self.requests.len() as u64);
        Ok(Call::timed(self.requests[i as usize].clone(), i))
    }
    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        let (pk, sk) = &self.keys[call.expect as usize];
        let out: GetOutput = serde_json::from_slice(body)
            .map_err(|e| format!("unparseable GetItem response: {e}"))?;
        let item = out
            .item
            .ok_or_else(|| format!("GetItem {pk}/{sk}: no Item in response"))?;
        if item.pk.s != *pk || item.sk.s != *sk {
            return Err(format!(
                "GetItem {pk}/{sk}: got item {}/{}",
                item.pk.s, item.sk.s
            ));
        }
        if item.data.s != self.payloads[call.expect as usize] {
            return Err(format!(
                "GetItem {pk}/{sk}: data differs ({} bytes)",
                item.data.s.len()
            ));
        }
        Ok(None)
    }
}

impl DynamoDriver for GetDriver {
    fn as_driver(self: Arc<Self>) -> Arc<dyn Driver> {
        self
    }
    fn read_back<'a>(
        &'a self,
        _api: &'a mut Api,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + 'a>> {
        Box::pin(async { Vec::new() })
    }
}

// ---- Query ----

/// Query requests, one per partition, pre-signed like GetItem.
struct QueryDriver {
    requests: Vec<SignedRequest>,
    partitions: Vec<String>,
}

impl QueryDriver {
    fn new(
        signer: &Signer,
        table: &str,
        index: Option<&str>,
        partitions: Vec<String>,
    ) -> Result<Self, SetupError> {
        let t = target("Query");
        let requests = partitions
            .iter()
            .map(|pk| {
                let mut body = json!({
                    "TableName": table,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": pk}},
                    "Limit": QUERY_PAGE
                });
                if let Some(index) = index {
                    body["IndexName"] = index.into();
                }
                signer
                    .sign(&t, Bytes::from(body.to_string()))
                    .map_err(|e| SetupError(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(QueryDriver {
            requests,
            partitions,
        })
    }
}

impl Driver for QueryDriver {
    fn next_call(&self, _worker: usize, _seq: u64, rng: &mut Rng) -> Result<Call, String> {
        let i = rng.below(self.requests.len() as u64);
        Ok(Call::timed(self.requests[i as usize].clone(), i))
    }
    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        let pk = &self.partitions[call.expect as usize];
        let out: QueryOutput =
            serde_json::from_slice(body).map_err(|e| format!("unparseable Query response: {e}"))?;
        if out.items.len() != QUERY_PAGE || out.count != Some(QUERY_PAGE as u64) {
            return Err(format!(
                "Query {pk}: {} items, Count {:?}; expected {QUERY_PAGE}",
                out.items.len(),
                out.count
            ));
        }
        // The first page of a partition, ascending: sort keys 000000..000099.
        for (j, item) in out.items.iter().enumerate() {
            if item.pk.s != *pk {
                return Err(format!(
                    "Query {pk}: item {j} is from partition {}",
                    item.pk.s
                ));
            }
            if item.sk.s != format!("{j:06}") {
                return Err(format!("Query {pk}: item {j} has sort key {}", item.sk.s));
            }
        }
        Ok(None)
    }
}

impl DynamoDriver for QueryDriver {
    fn as_driver(self: Arc<Self>) -> Arc<dyn Driver> {
        self
    }
    fn read_back<'a>(
        &'a self,
        _api: &'a mut Api,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + 'a>> {
        Box::pin(async { Vec::new() })
    }
}

// ---- TransactWriteItems ----

const TRANSACT_PUTS: usize = 10;

struct TransactDriver {
    signer: Arc<Signer>,
    table: String,
    target: String,
    written: LastWrites,
}

impl TransactDriver {
    fn new(signer: Arc<Signer>, table: String) -> Self {
        TransactDriver {
            signer,
            table,
            target: target("TransactWriteItems"),
            written: LastWrites::new(),
        }
    }
    fn key(worker: usize, seq: u64, k: usize) -> String {
        format!("t{worker:04}-{seq:010}-{k:02}")
    }
}

impl Driver for TransactDriver {
    fn next_call(&self, worker: usize, seq: u64, _rng: &mut Rng) -> Result<Call, String> {
        let mut b = String::with_capacity(TRANSACT_PUTS * (ITEM_BYTES + 96) + 32);
        b.push_str(r#"{"TransactItems":["#);
        for k in 0..TRANSACT_PUTS {
            if k > 0 {
                b.push(',');
            }
            b.push_str(r#"{"Put":{"TableName":""#);
            b.push_str(&self.table);
            b.push_str(r#"","Item":"#);
            item_json(&mut b, &Self::key(worker, seq, k), "0");
            b.push_str("}}");
        }
        b.push_str("]}");
        Ok(Call::timed(
            self.signer
                .sign(&self.target, Bytes::from(b))
                .map_err(sign_err)?,
            encode_call(worker, seq),
        ))
    }
    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .map_err(|e| format!("unparseable TransactWriteItems response: {e}"))?;
        let (w, s) = decode_call(call.expect);
        self.written.note(w, s);
        Ok(None)
    }
}

impl DynamoDriver for TransactDriver {
    fn as_driver(self: Arc<Self>) -> Arc<dyn Driver> {
        self
    }
    fn read_back<'a>(
        &'a self,
        api: &'a mut Api,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + 'a>> {
        Box::pin(async move {
            // All ten items of each client's last transaction must be there.
            let keys = self
                .written
                .sample()
                .into_iter()
                .flat_map(|(w, s)| {
                    (0..TRANSACT_PUTS).map(move |k| (Self::key(w, s, k), "0".to_owned()))
                })
                .collect();
            read_back_keys(api, &self.table, keys).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_one_kilobyte_by_dynamodb_size_rules() {
        for (pk, sk) in [
            ("g00000001", "0"),
            ("q0003", "000042"),
            ("t0001-0000000001-09", "0"),
        ] {
            let size = "pk".len()
                + pk.len()
                + "sk".len()
                + sk.len()
                + "data".len()
                + payload(pk, sk).len();
            assert_eq!(size, ITEM_BYTES);
        }
    }

    #[test]
    fn put_body_is_valid_json_with_the_item() {
        let body = put_body("t", "p1", "0");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Item"]["pk"]["S"], "p1");
        assert_eq!(v["Item"]["data"]["S"].as_str().unwrap(), payload("p1", "0"));
    }

    #[test]
    fn get_check_rejects_a_wrong_item() {
        let mut ok = String::from(r#"{"Item":"#);
        item_json(&mut ok, "g1", "0");
        ok.push('}');
        assert!(check_item(ok.as_bytes(), "g1", "0").is_ok());
        assert!(check_item(ok.as_bytes(), "g2", "0").is_err());
        assert!(check_item(b"{}", "g1", "0").is_err());
    }

    #[test]
    fn call_identity_round_trips() {
        assert_eq!(decode_call(encode_call(63, 123_456)), (63, 123_456));
    }
}
