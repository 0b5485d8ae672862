//! SQS: SendMessage, ReceiveMessage, DeleteMessage over awsJson 1.0
//! (`X-Amz-Target: AmazonSQS.*`), as current SDKs speak it.
//!
//! Every virtual client runs the same round on one shared standard queue:
//! send a message, receive one, delete what it received. The queue never
//! runs dry (each client sends before it receives), so a receive that comes
//! back empty is a wrong answer. The message received may be another
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

pub async fn prepare(setup: &Setup<'_>) -> Result<Prepared, SetupError> {
    let name = format!("nimbus-bench-sqs-{}", setup.run_id);
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
                    "MaxNumberOfMessages": 1,
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
        sent: (0..setup.connections.max(1))
            .map(|_| AtomicU64::new(0))
            .collect(),
    });
    Ok(Prepared::Ready(Box::new(SqsRun { driver, queue_url })))
}

struct SqsRun {
    driver: Arc<SqsDriver>,
    queue_url: String,
}

impl Run for SqsRun {
    fn driver(&self) -> Arc<dyn Driver> {
        self.driver.clone()
    }
    fn after<'a>(&'a self, _endpoint: &'a Endpoint, _pid: Option<u32>) -> BoxFuture<'a, After> {
        Box::pin(async { After::default() })
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

    fn note_sending(&self, worker: usize, seq: u64) {
        if let Some(slot) = self.sent.get(worker) {
            slot.fetch_max(seq, Ordering::Relaxed);
        }
    }

    /// The received message's receipt handle, once the message is proven to
    /// be one this run sent.
    fn check_receive(&self, body: &[u8]) -> Result<String, String> {
        let out: ReceiveOutput = serde_json::from_slice(body)
            .map_err(|e| format!("unparseable ReceiveMessage response: {e}"))?;
        let [m] = out.messages.as_slice() else {
            return Err(format!(
                "ReceiveMessage returned {} messages from a queue that holds at least one (MaxNumberOfMessages 1)",
                out.messages.len()
            ));
        };
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
        self.note_sending(worker, seq);
        let request = self.sign(
            "SendMessage",
            json!({"QueueUrl": self.queue_url, "MessageBody": message_body(worker, seq)}),
        )?;
        Ok(Call::timed(request, encode_step(SEND, worker, seq)))
    }

    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        let (step, worker, seq) = decode_step(call.expect);
        match step {
            SEND => {
                Self::check_send(body)?;
                Ok(Some(Call::timed(
                    self.receive.clone(),
                    encode_step(RECEIVE, worker, seq),
                )))
            }
            RECEIVE => {
                let handle = self.check_receive(body)?;
                let request = self.sign(
                    "DeleteMessage",
                    json!({"QueueUrl": self.queue_url, "ReceiptHandle": handle}),
                )?;
                Ok(Some(Call::timed(request, encode_step(DELETE, worker, seq))))
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
        assert_eq!(d.check_receive(receive(1, 5).as_bytes()).unwrap(), "h");
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
}
