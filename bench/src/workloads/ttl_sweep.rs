//! `dynamodb-get-ttl-sweep`: GetItem load while nimbus's TTL sweeper deletes
//! a second table's expired items, for the DynamoDB issue's bar ("TTL
//! sweeping 1 million expired items does not push GetItem p99 above
//! 10 ms").
//!
//! Setup seeds the GetItem table as `dynamodb-get` does, loads the TTL
//! table with BatchWriteItem (items expiring a minute from the server's
//! clock), enables TTL on it, then moves the server's clock two minutes
//! on (`POST /_nimbus/clock/advance`): from that moment every item is
//! expired and the sweeper is deleting them while the warm-up and the
//! measured run go on. After the run, the notes say how many were left.
//! Servers without `/_nimbus/clock` (the peers) report it unsupported.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde_json::{json, Value};

use super::api::Api;
use super::dynamodb::{create_table, delete_table, seed, DynamoRun, GetDriver};
use super::{After, BoxFuture, Prepared, Run, Setup, SetupError};
use crate::client::Endpoint;
use crate::loadgen::Driver;
use crate::sign::Signer;

/// Parallel loaders of the TTL table.
const LOADERS: u64 = 16;
/// BatchWriteItem's limit.
const BATCH: u64 = 25;

pub async fn prepare(
    setup: &Setup<'_>,
    table: &str,
    signer: Arc<Signer>,
) -> Result<Prepared, SetupError> {
    let endpoint = setup.endpoint;
    let now_ms = match internal(endpoint, "GET", "/_nimbus/clock", "").await {
        Ok(v) => v["now"].as_u64().unwrap_or(0),
        Err(e) => {
            return Ok(Prepared::Unsupported {
                error_type: "no /_nimbus/clock".into(),
                message: e,
            })
        }
    };
    let keys: Vec<(String, String)> = (0..setup.sizes.get_items)
        .map(|i| (format!("g{i:08}"), "0".to_owned()))
        .collect();
    seed(endpoint, table, keys.clone()).await?;
    let driver = Arc::new(GetDriver::new(&signer, table, keys)?);

    let ttl_table = format!("{table}-expiring");
    let mut api = Api::dynamodb(endpoint);
    create_table(&mut api, &ttl_table, false).await?;
    api.call(
        "UpdateTimeToLive",
        &json!({
            "TableName": ttl_table,
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}
        }),
    )
    .await?;
    let expires = now_ms / 1000 + 60;
    let items = setup.sizes.ttl_items;
    let started = Instant::now();
    load(endpoint, &ttl_table, items, expires).await?;
    let load_s = started.elapsed().as_secs_f64();
    internal(
        endpoint,
        "POST",
        "/_nimbus/clock/advance",
        r#"{"seconds": 120}"#,
    )
    .await
    .map_err(|e| SetupError(format!("advancing the clock: {e}")))?;
    Ok(Prepared::Ready(Box::new(SweepRun {
        get: DynamoRun {
            driver,
            table: table.to_owned(),
        },
        ttl_table,
        items,
        load_s,
        swept_from: Instant::now(),
    })))
}

/// One unsigned request to nimbus's own API (`/_nimbus/...`): signed, it
/// would be routed to the service it was signed for. Returns the JSON body
/// of a 200 answer.
async fn internal(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    body: &str,
) -> Result<Value, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(endpoint.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        endpoint.host,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if !head.starts_with("HTTP/1.1 200") {
        return Err(head.lines().next().unwrap_or("no answer").to_owned());
    }
    serde_json::from_str(body).map_err(|e| format!("{path}: {e}"))
}

/// Writes `items` small items with `exp` = `expires` (epoch seconds).
async fn load(
    endpoint: &Endpoint,
    table: &str,
    items: u64,
    expires: u64,
) -> Result<(), SetupError> {
    let mut tasks = Vec::new();
    for w in 0..LOADERS {
        let (endpoint, table) = (endpoint.clone(), table.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut api = Api::dynamodb(&endpoint);
            let mut batch = w * BATCH;
            while batch < items {
                let end = (batch + BATCH).min(items);
                let puts: Vec<Value> = (batch..end)
                    .map(|i| {
                        json!({"PutRequest": {"Item": {
                            "pk": {"S": format!("e{i:08}")},
                            "sk": {"S": "0"},
                            "exp": {"N": expires.to_string()}
                        }}})
                    })
                    .collect();
                let body = json!({"RequestItems": {table.as_str(): puts}});
                let out = api
                    .call_raw("BatchWriteItem", Bytes::from(body.to_string()))
                    .await
                    .map_err(|e| SetupError(format!("loading the TTL table: {e}")))?;
                let out: Value = serde_json::from_slice(&out)
                    .map_err(|e| SetupError(format!("BatchWriteItem answer: {e}")))?;
                if out["UnprocessedItems"]
                    .as_object()
                    .is_some_and(|u| !u.is_empty())
                {
                    return Err(SetupError(
                        "BatchWriteItem left items unprocessed while loading".into(),
                    ));
                }
                batch += LOADERS * BATCH;
            }
            Ok::<(), SetupError>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| SetupError(format!("loader panicked: {e}")))??;
    }
    Ok(())
}

struct SweepRun {
    get: DynamoRun,
    ttl_table: String,
    items: u64,
    load_s: f64,
    /// When the clock was moved past every item's expiry.
    swept_from: Instant,
}

impl Run for SweepRun {
    fn driver(&self) -> Arc<dyn Driver> {
        self.get.driver()
    }

    fn after<'a>(&'a self, endpoint: &'a Endpoint, pid: Option<u32>) -> BoxFuture<'a, After> {
        Box::pin(async move {
            let elapsed = self.swept_from.elapsed().as_secs_f64();
            let mut after = self.get.after(endpoint, pid).await;
            let mut api = Api::dynamodb(endpoint);
            let left = api
                .call("DescribeTable", &json!({"TableName": self.ttl_table}))
                .await
                .ok()
                .and_then(|d| d.pointer("/Table/ItemCount").and_then(Value::as_u64));
            after.notes.push(format!(
                "{} expired items loaded in {:.1} s ({:.0} items/s by BatchWriteItem); {} of them deleted by the TTL sweeper during warm-up and run ({elapsed:.1} s)",
                self.items,
                self.load_s,
                self.items as f64 / self.load_s.max(1e-9),
                match left {
                    Some(left) => format!("{}", self.items.saturating_sub(left)),
                    None => "? (DescribeTable failed)".into(),
                },
            ));
            after
        })
    }

    fn teardown<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.get.teardown(endpoint).await;
            delete_table(endpoint, &self.ttl_table).await;
        })
    }
}
