//! SQS: SendMessage, ReceiveMessage, DeleteMessage (and their batch forms)
//! over awsJson 1.0 (`X-Amz-Target: AmazonSQS.*`), as current SDKs speak it.
//!
//! Every virtual client runs the same round on one shared standard queue:
//! send a message (`sqs-batch-10`: a batch of ten), receive (up to as many),
//! delete what it received. The queue never runs dry (each client sends
//! before it receives), so a receive that comes back empty is a wrong
//! answer. The message received may be another
//! client's: it must still be one this run sent, byte for byte, which the
//! body itself proves (it names its sender and sequence number, and the
//! rest of it is derived from those).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::api::Api;
use super::{decode_step, encode_step, After, BoxFuture, Prepared, Run, Setup, SetupError};
use crate::client::Endpoint;
use crate::loadgen::{Call, Driver, Rng};
use crate::sign::{SignedRequest, Signer};

/// Message body size: a typical small event, not a size test.
const BODY_BYTES: usize = 256;
/// Long-poll briefly: servers may sample a subset of their storage on a
/// short poll (AWS does), and one second is far above a healthy round trip.
const WAIT_SECONDS: u64 = 1;

/// The round's steps, kept in the top bits of [`Call::expect`].
const SEND: u64 = 0;
const RECEIVE: u64 = 1;
const DELETE: u64 = 2;

/// `nimbus-bench w0003 s0000000042 <filler>`: the filler is derived from
/// the header, so a truncated or altered body is caught.
fn message_body(worker: usize, seq: u64) -> String {
    let mut s = format!("nimbus-bench w{worker:04} s{seq:010} ");
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut i = (worker as u64).wrapping_mul(31).wrapping_add(seq) as usize;
    while s.len() < BODY_BYTES {
        s.push(alphabet[i % alphabet.len()] as char);
        i = i.wrapping_add(11);
    }
    s
}

/// The (worker, seq) a body names, if it is exactly a body this run makes.
fn parse_body(body: &str) -> Option<(usize, u64)> {
    let rest = body.strip_prefix("nimbus-bench w")?;
    let worker: usize = rest.get(..4)?.parse().ok()?;
    let seq: u64 = rest.get(4..)?.strip_prefix(" s")?.get(..10)?.parse().ok()?;
    (message_body(worker, seq) == body).then_some((worker, seq))
}

#[derive(Deserialize)]
struct SendOutput {
    #[serde(rename = "MessageId")]
    message_id: Option<String>,
    #[serde(rename = "MD5OfMessageBody")]
    md5_of_body: Option<String>,
}

#[derive(Deserialize)]
struct BatchEntry {
    #[serde(rename = "MessageId")]
    message_id: Option<String>,
    #[serde(rename = "MD5OfMessageBody")]
    md5_of_body: Option<String>,
}

#[derive(Deserialize)]
struct BatchOutput {
    #[serde(rename = "Successful", default)]
    successful: Vec<BatchEntry>,
    #[serde(rename = "Failed", default)]
    failed: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "ReceiptHandle")]
    receipt_handle: Option<String>,
    #[serde(rename = "MD5OfBody")]
    md5_of_body: Option<String>,
    #[serde(rename = "Body")]
    body: Option<String>,
}

#[derive(Deserialize)]
struct ReceiveOutput {
    #[serde(rename = "Messages", default)]
    messages: Vec<Message>,
}

fn is_md5_hex(s: Option<&str>) -> bool {
    s.is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Sets up `sqs-send-receive-delete` (`batch` 1) or `sqs-batch-10`.
pub async fn prepare(setup: &Setup<'_>, batch: usize) -> Result<Prepared, SetupError> {
    let name = format!("nimbus-bench-sqs-{batch}-{}", setup.run_id);
    let mut api = Api::sqs(setup.endpoint);
    let created = api
        .call("CreateQueue", &json!({"QueueName": name}))
        .await
        .map_err(|e| SetupError(format!("CreateQueue: {e}")))?;
    let queue_url = created
        .get("QueueUrl")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            SetupError(format!(
                "CreateQueue answered without a QueueUrl: {created}"
            ))
        })?
        .to_owned();
    let signer = Signer::new("sqs", &setup.endpoint.host);
    // The receive request never changes: sign it once (a run is capped well
    // inside SigV4's 15 minutes of allowed skew).
    let receive = signer
        .sign(
            "AmazonSQS.ReceiveMessage",
            Bytes::from(
                json!({
                    "QueueUrl": queue_url,
                    "MaxNumberOfMessages": batch,
                    "WaitTimeSeconds": WAIT_SECONDS
                })
                .to_string(),
            ),
        )
        .map_err(|e| SetupError(e.to_string()))?;
    let driver = Arc::new(SqsDriver {
        signer,
        queue_url: queue_url.clone(),
        receive,
        batch: batch as u64,
        sent: (0..setup.connections.max(1))
            .map(|_| AtomicU64::new(0))
            .collect(),
    });
    Ok(Prepared::Ready(Box::new(SqsRun {
        driver,
        queue_url,
        batch,
    })))
}

struct SqsRun {
    driver: Arc<SqsDriver>,
    queue_url: String,
    batch: usize,
}

impl Run for SqsRun {
    fn driver(&self) -> Arc<dyn Driver> {
        self.driver.clone()
    }
    /// Batches: a receive may return fewer than ten, so say how many
    /// messages were left behind (a backlog that grows means receiving did
    /// not keep pace with sending, and rounds × 10 overstates throughput).
    fn after<'a>(&'a self, endpoint: &'a Endpoint, _pid: Option<u32>) -> BoxFuture<'a, After> {
        Box::pin(async move {
            if self.batch == 1 {
                return After::default();
            }
            let mut api = Api::sqs(endpoint);
            let attrs = api
                .call(
                    "GetQueueAttributes",
                    &json!({
                        "QueueUrl": self.queue_url,
                        "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
                    }),
                )
                .await;
            let note = match attrs {
                Ok(v) => {
                    let get = |k: &str| {
                        v.pointer(&format!("/Attributes/{k}"))
                            .and_then(|x| x.as_str())
                            .unwrap_or("?")
                            .to_owned()
                    };
                    format!(
                        "each round sends {} messages and deletes the (up to {}) it received; messages left in the queue after the run: {} visible, {} in flight",
                        self.batch,
                        self.batch,
                        get("ApproximateNumberOfMessages"),
                        get("ApproximateNumberOfMessagesNotVisible")
                    )
                }
                Err(e) => format!("GetQueueAttributes after the run failed: {e}"),
            };
            After {
                read_back_failures: Vec::new(),
                notes: vec![note],
            }
        })
    }
    fn teardown<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut api = Api::sqs(endpoint);
            let _ = tokio::time::timeout(
                Duration::from_secs(30),
                api.call("DeleteQueue", &json!({"QueueUrl": self.queue_url})),
            )
            .await;
        })
    }
}

struct SqsDriver {
    signer: Signer,
    queue_url: String,
    receive: SignedRequest,
    /// Messages per send (1: SendMessage, more: SendMessageBatch).
    batch: u64,
    /// Per client: the highest sequence number it has started sending, so
    /// a received message must be one that was really sent. (Not the
    /// highest acknowledged: the server may deliver a message to another
    /// client before the sender has read its SendMessage answer.)
    sent: Vec<AtomicU64>,
}

impl SqsDriver {
    fn sign(&self, op: &str, body: serde_json::Value) -> Result<SignedRequest, String> {
        self.signer
            .sign(&format!("AmazonSQS.{op}"), Bytes::from(body.to_string()))
            .map_err(|e| e.to_string())
    }

    fn check_send(body: &[u8]) -> Result<(), String> {
        let out: SendOutput = serde_json::from_slice(body)
            .map_err(|e| format!("unparseable SendMessage response: {e}"))?;
        if out.message_id.as_deref().is_none_or(str::is_empty) {
            return Err("SendMessage: no MessageId".into());
        }
        if !is_md5_hex(out.md5_of_body.as_deref()) {
            return Err(format!(
                "SendMessage: MD5OfMessageBody {:?} is not an MD5 digest",
                out.md5_of_body
            ));
        }
        Ok(())
    }

    fn check_send_batch(body: &[u8], n: usize) -> Result<(), String> {
        let out: BatchOutput = serde_json::from_slice(body)
            .map_err(|e| format!("unparseable SendMessageBatch response: {e}"))?;
        if !out.failed.is_empty() || out.successful.len() != n {
            return Err(format!(
                "SendMessageBatch of {n}: {} successful, {} failed",
                out.successful.len(),
                out.failed.len()
            ));
        }
        for e in &out.successful {
            if e.message_id.as_deref().is_none_or(str::is_empty)
                || !is_md5_hex(e.md5_of_body.as_deref())
            {
                return Err("SendMessageBatch: an entry without MessageId or MD5".into());
            }
        }
        Ok(())
    }

    fn check_delete_batch(body: &[u8], n: usize) -> Result<(), String> {
        let out: BatchOutput = serde_json::from_slice(body)
            .map_err(|e| format!("unparseable DeleteMessageBatch response: {e}"))?;
        if !out.failed.is_empty() || out.successful.len() != n {
            return Err(format!(
                "DeleteMessageBatch of {n}: {} successful, {} failed",
                out.successful.len(),
                out.failed.len()
            ));
        }
        Ok(())
    }

    /// Message numbers: a round's messages are `seq * 16 + k`, so one
    /// number per message and the round is `number / 16`.
    fn message_seq(seq: u64, k: u64) -> u64 {
        seq * 16 + k
    }

    fn note_sending(&self, worker: usize, seq: u64) {
        if let Some(slot) = self.sent.get(worker) {
            slot.fetch_max(seq, Ordering::Relaxed);
        }
    }

    /// The received messages' receipt handles, once every message is proven
    /// to be one this run sent.
    fn check_receive(&self, body: &[u8]) -> Result<Vec<String>, String> {
        let out: ReceiveOutput = serde_json::from_slice(body)
            .map_err(|e| format!("unparseable ReceiveMessage response: {e}"))?;
        let n = out.messages.len() as u64;
        if n == 0 || n > self.batch {
            return Err(format!(
                "ReceiveMessage returned {n} messages from a queue that holds at least {} (MaxNumberOfMessages {})",
                self.batch, self.batch
            ));
        }
        out.messages.iter().map(|m| self.check_message(m)).collect()
    }

    fn check_message(&self, m: &Message) -> Result<String, String> {
        let text = m.body.as_deref().unwrap_or_default();
        let (w, s) = parse_body(text).ok_or_else(|| {
            format!(
                "ReceiveMessage: a body this run never sent: {:?}",
                text.chars().take(80).collect::<String>()
            )
        })?;
        let sent = self.sent.get(w).map_or(0, |a| a.load(Ordering::Relaxed));
        if s > sent {
            return Err(format!(
                "ReceiveMessage: message w{w} s{s} received before it was sent"
            ));
        }
        if !is_md5_hex(m.md5_of_body.as_deref()) {
            return Err("ReceiveMessage: no MD5OfBody".into());
        }
        m.receipt_handle
            .clone()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| "ReceiveMessage: no ReceiptHandle".into())
    }
}

impl Driver for SqsDriver {
    fn next_call(&self, worker: usize, seq: u64, _rng: &mut Rng) -> Result<Call, String> {
        let request = if self.batch == 1 {
            self.note_sending(worker, seq);
            self.sign(
                "SendMessage",
                json!({"QueueUrl": self.queue_url, "MessageBody": message_body(worker, seq)}),
            )?
        } else {
            self.note_sending(worker, Self::message_seq(seq, self.batch - 1));
            let entries: Vec<serde_json::Value> = (0..self.batch)
                .map(|k| {
                    json!({
                        "Id": format!("m{k}"),
                        "MessageBody": message_body(worker, Self::message_seq(seq, k))
                    })
                })
                .collect();
            self.sign(
                "SendMessageBatch",
                json!({"QueueUrl": self.queue_url, "Entries": entries}),
            )?
        };
        Ok(Call::timed(request, encode_step(SEND, worker, seq)))
    }

    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        let (step, worker, seq) = decode_step(call.expect);
        match step {
            SEND => {
                if self.batch == 1 {
                    Self::check_send(body)?;
                } else {
                    Self::check_send_batch(body, self.batch as usize)?;
                }
                Ok(Some(Call::timed(
                    self.receive.clone(),
                    encode_step(RECEIVE, worker, seq),
                )))
            }
            RECEIVE => {
                let handles = self.check_receive(body)?;
                if self.batch == 1 {
                    let request = self.sign(
                        "DeleteMessage",
                        json!({"QueueUrl": self.queue_url, "ReceiptHandle": handles[0]}),
                    )?;
                    return Ok(Some(Call::timed(request, encode_step(DELETE, worker, seq))));
                }
                let entries: Vec<serde_json::Value> = handles
                    .iter()
                    .enumerate()
                    .map(|(k, h)| json!({"Id": format!("d{k}"), "ReceiptHandle": h}))
                    .collect();
                let request = self.sign(
                    "DeleteMessageBatch",
                    json!({"QueueUrl": self.queue_url, "Entries": entries}),
                )?;
                // The delete step's "seq" is how many it deletes.
                Ok(Some(Call::timed(
                    request,
                    encode_step(DELETE, worker, handles.len() as u64),
                )))
            }
            _ if self.batch > 1 => {
                Self::check_delete_batch(body, seq as usize)?;
                Ok(None)
            }
            _ => {
                // DeleteMessage answers an empty JSON object.
                serde_json::from_slice::<serde::de::IgnoredAny>(body)
                    .map_err(|e| format!("unparseable DeleteMessage response: {e}"))?;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_prove_their_origin() {
        let b = message_body(3, 42);
        assert_eq!(b.len(), BODY_BYTES);
        assert_eq!(parse_body(&b), Some((3, 42)));
        let mut altered = b.clone();
        altered.pop();
        altered.push('#');
        assert_eq!(parse_body(&altered), None);
        assert_eq!(parse_body(&b[..100]), None);
        assert_eq!(parse_body("hello"), None);
    }

    fn driver() -> SqsDriver {
        let signer = Signer::new("sqs", "127.0.0.1:1");
        let receive = signer
            .sign("AmazonSQS.ReceiveMessage", Bytes::from_static(b"{}"))
            .unwrap();
        SqsDriver {
            signer,
            queue_url: "http://127.0.0.1:1/000000000000/q".into(),
            receive,
            batch: 1,
            sent: (0..4).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[test]
    fn a_received_message_must_have_been_sent() {
        let d = driver();
        let md5 = "0123456789abcdef0123456789abcdef";
        let receive = |w, s| {
            json!({"Messages": [{"MessageId": "m", "ReceiptHandle": "h", "MD5OfBody": md5, "Body": message_body(w, s)}]})
                .to_string()
        };
        // Not yet sent.
        assert!(d.check_receive(receive(1, 5).as_bytes()).is_err());
        d.note_sending(1, 5);
        assert_eq!(d.check_receive(receive(1, 5).as_bytes()).unwrap(), ["h"]);
        SqsDriver::check_send(
            json!({"MessageId": "m", "MD5OfMessageBody": md5})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        assert!(d.check_receive(br#"{"Messages":[]}"#).is_err());
        assert!(d.check_receive(b"{}").is_err());
        assert!(SqsDriver::check_send(br#"{"MessageId":"m","MD5OfMessageBody":"nope"}"#).is_err());
        assert!(SqsDriver::check_send(
            br#"{"MD5OfMessageBody":"0123456789abcdef0123456789abcdef"}"#
        )
        .is_err());
    }

    #[test]
    fn batches_must_succeed_whole() {
        let md5 = "0123456789abcdef0123456789abcdef";
        let ok = json!({"Successful": [{"Id": "m0", "MessageId": "a", "MD5OfMessageBody": md5}, {"Id": "m1", "MessageId": "b", "MD5OfMessageBody": md5}], "Failed": []}).to_string();
        assert!(SqsDriver::check_send_batch(ok.as_bytes(), 2).is_ok());
        assert!(SqsDriver::check_send_batch(ok.as_bytes(), 3).is_err());
        let failed =
            json!({"Successful": [], "Failed": [{"Id": "m0", "Code": "x", "SenderFault": true}]})
                .to_string();
        assert!(SqsDriver::check_send_batch(failed.as_bytes(), 1).is_err());
        let deleted = json!({"Successful": [{"Id": "d0"}, {"Id": "d1"}]}).to_string();
        assert!(SqsDriver::check_delete_batch(deleted.as_bytes(), 2).is_ok());
        assert!(SqsDriver::check_delete_batch(deleted.as_bytes(), 1).is_err());
    }

    #[test]
    fn a_batch_receive_checks_every_message() {
        let mut d = driver();
        d.batch = 10;
        let md5 = "0123456789abcdef0123456789abcdef";
        let msg = |w, s| json!({"MessageId": "m", "ReceiptHandle": format!("h{s}"), "MD5OfBody": md5, "Body": message_body(w, s)});
        d.note_sending(0, SqsDriver::message_seq(1, 9));
        let two = json!({"Messages": [msg(0, SqsDriver::message_seq(1, 0)), msg(0, SqsDriver::message_seq(1, 9))]}).to_string();
        assert_eq!(d.check_receive(two.as_bytes()).unwrap(), ["h16", "h25"]);
        let unsent = json!({"Messages": [msg(0, SqsDriver::message_seq(1, 0)), msg(0, SqsDriver::message_seq(2, 0))]}).to_string();
        assert!(d.check_receive(unsent.as_bytes()).is_err());
    }
}
