//! Long-poll latency: a receiver is parked in `ReceiveMessage` with
//! `WaitTimeSeconds=20` on an empty queue; a sender sends one message. The
//! measurement is from the moment the sender has read SendMessage's answer
//! to the moment the receiver has read ReceiveMessage's, which is what
//! "a long-polling receiver gets a new message p50 < 5 ms after SendMessage
//! returns" means. The receive can complete before the send's answer is
//! read (the server wakes the receiver before answering the sender); such
//! samples count as 0 and are reported separately.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;
use tokio::time::Instant;

use crate::client::Endpoint;
use crate::workloads::api::Api;

/// How long the receiver is given to park before the send.
const PARK: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Default, Serialize)]
pub struct LongPollResult {
    pub samples: u64,
    /// From SendMessage answered to ReceiveMessage answered.
    pub after_ack_p50_ms: f64,
    pub after_ack_p99_ms: f64,
    pub after_ack_max_ms: f64,
    /// From SendMessage sent to ReceiveMessage answered.
    pub after_send_p50_ms: f64,
    pub after_send_p99_ms: f64,
    /// Samples whose receive finished before the send's answer was read.
    pub received_before_ack: u64,
    pub errors: Vec<String>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

pub async fn run(endpoint: &Endpoint, run_id: &str, samples: u64) -> LongPollResult {
    let mut out = LongPollResult::default();
    let mut setup = Api::sqs(endpoint);
    let name = format!("lp-{run_id}");
    let url = match setup
        .call("CreateQueue", &json!({"QueueName": name}))
        .await
        .map(|v| v["QueueUrl"].as_str().map(str::to_owned))
    {
        Ok(Some(url)) => url,
        other => {
            out.errors.push(format!("CreateQueue: {other:?}"));
            return out;
        }
    };
    let (mut after_ack, mut after_send) = (histogram(), histogram());
    let mut sender = Api::sqs(endpoint);
    let mut receiver = Api::sqs(endpoint);
    for i in 0..samples {
        let body = format!("long-poll sample {i}");
        let receive_body =
            json!({"QueueUrl": url, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 1});
        let receive = async {
            let r = receiver.call("ReceiveMessage", &receive_body).await;
            (r, Instant::now())
        };
        let send = async {
            tokio::time::sleep(PARK).await;
            let sent = Instant::now();
            let r = sender
                .call(
                    "SendMessage",
                    &json!({"QueueUrl": url, "MessageBody": body}),
                )
                .await;
            (r, sent, Instant::now())
        };
        let ((received, received_at), (acked, sent_at, acked_at)) = tokio::join!(receive, send);
        if let Err(e) = acked {
            out.errors.push(format!("SendMessage: {e}"));
            continue;
        }
        let message = match received {
            Ok(v) => v["Messages"][0].clone(),
            Err(e) => {
                out.errors.push(format!("ReceiveMessage: {e}"));
                continue;
            }
        };
        if message["Body"] != body.as_str() {
            out.errors
                .push(format!("ReceiveMessage answered {message} for sample {i}"));
            continue;
        }
        let micros = |d: Duration| (d.as_micros() as u64).max(1);
        if received_at < acked_at {
            out.received_before_ack += 1;
        }
        let _ = after_ack.record(micros(received_at.saturating_duration_since(acked_at)));
        let _ = after_send.record(micros(received_at.saturating_duration_since(sent_at)));
        out.samples += 1;
        if let Some(handle) = message["ReceiptHandle"].as_str() {
            let _ = setup
                .call(
                    "DeleteMessage",
                    &json!({"QueueUrl": url, "ReceiptHandle": handle}),
                )
                .await;
        }
    }
    let _ = setup.call("DeleteQueue", &json!({"QueueUrl": url})).await;
    if out.samples > 0 {
        out.after_ack_p50_ms = ms(&after_ack, 0.5);
        out.after_ack_p99_ms = ms(&after_ack, 0.99);
        out.after_ack_max_ms = after_ack.max() as f64 / 1000.0;
        out.after_send_p50_ms = ms(&after_send, 0.5);
        out.after_send_p99_ms = ms(&after_send, 0.99);
    }
    out
}
