//! Lambda response streaming through the official aws-sdk-lambda and raw
//! HTTP against a live server: what a Node.js `awslambda.streamifyResponse`
//! handler writes reaches the caller while the function still runs.
//!
//! The functions prove it by waiting on a [`Gate`] the test opens only once
//! it holds the first chunk: a server that buffered the response until the
//! function finished would never deliver that chunk, and the test would
//! fail on its deadline. (Functions run isolated and cannot see the test's
//! files, so the gate is a loopback socket.)

mod common;
mod lambda_util;
mod sdk;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_sdk_lambda::operation::invoke_with_response_stream::InvokeWithResponseStreamOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    FunctionCode, FunctionUrlAuthType, InvokeMode, InvokeWithResponseStreamCompleteEvent,
    InvokeWithResponseStreamResponseEvent as Event, LogType, Runtime,
};
use aws_sdk_lambda::Client;
use base64::Engine;
use common::Server;
use lambda_util::{client, package, ROLE};
use sdk::ok;
use serde_json::json;
use tokio::sync::watch;

/// How long the test waits for anything the function should already have
/// sent; far below the functions' timeout, so a server that holds chunks
/// back until the end fails here rather than passing late.
const PROMPT: Duration = Duration::from_secs(10);

/// The streamed response is at most 200 MiB (AWS's default since 2025).
const STREAM_LIMIT: usize = 200 * 1024 * 1024;

const STREAMER: &str = r#"
import net from 'node:net';

// Resolves once the test's gate on `port` says go.
const gate = (port) => new Promise((resolve, reject) => {
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.once('data', () => { socket.destroy(); resolve(); });
  socket.once('error', reject);
});

// Writes `total` bytes of 'x' in 1 MiB pieces, waiting whenever the
// stream says to (so nothing is buffered in the function).
async function pour(stream, total) {
  const piece = Buffer.alloc(1 << 20, 'x');
  for (let sent = 0; sent < total; sent += piece.length) {
    const n = Math.min(piece.length, total - sent);
    if (!stream.write(n === piece.length ? piece : piece.subarray(0, n))) {
      await new Promise((resolve) => stream.once('drain', resolve));
    }
  }
}

// How many invocations this environment has run.
let invocations = 0;

export const handler = awslambda.streamifyResponse(async (event, stream) => {
  invocations += 1;
  const mode = event.mode ?? event.rawPath?.slice(1);
  const port = event.gate ?? event.queryStringParameters?.gate;
  if (mode === 'gated') {
    stream.setContentType('text/plain');
    stream.write(`first ${invocations};`);
    await gate(port);
    stream.write('second');
    stream.end();
  } else if (mode === 'fail') {
    stream.write('partial');
    await gate(port);
    throw new RangeError('broke mid-stream');
  } else if (mode === 'flood') {
    stream.write('first;');
    await gate(port);
    await pour(stream, event.bytes);
    stream.end();
  } else if (mode === 'overflow') {
    await pour(stream, event.bytes);
    stream.end();
  } else if (mode === 'http') {
    const http = awslambda.HttpResponseStream.from(stream, {
      statusCode: 201,
      headers: { 'content-type': 'text/csv', 'x-streamed': 'yes' },
    });
    http.write('id,name\n');
    await gate(port);
    http.write('1,ada\n');
    http.end();
  } else {
    stream.end(`invocation ${invocations}`);
  }
});
"#;

/// A loopback listener functions connect to and wait on: each connection
/// gets a byte once the test opens the gate (at once, after that).
struct Gate {
    port: u16,
    open: watch::Sender<bool>,
}

impl Gate {
    async fn new() -> Gate {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, opened) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut opened = opened.clone();
                tokio::spawn(async move {
                    if opened.wait_for(|open| *open).await.is_ok() {
                        use tokio::io::AsyncWriteExt;
                        let _ = conn.write_all(b"go").await;
                    }
                });
            }
        });
        Gate { port, open }
    }

    fn open(&self) {
        self.open.send_replace(true);
    }
}

async fn create_streamer(client: &Client, name: &str, timeout: i32) {
    ok(client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Nodejs20x)
        .handler("index.handler")
        .role(ROLE)
        .timeout(timeout)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(package(&[("index.mjs", STREAMER, 0o644)])))
                .build(),
        )
        .send()
        .await);
}

/// InvokeWithResponseStream, whose answer must start within [`PROMPT`]
/// (while the function may still be running).
async fn stream(client: &Client, name: &str, payload: serde_json::Value) -> EventStream {
    let call = client
        .invoke_with_response_stream()
        .function_name(name)
        .log_type(LogType::Tail)
        .payload(Blob::new(payload.to_string()))
        .send();
    let out = ok(tokio::time::timeout(PROMPT, call)
        .await
        .expect("no answer within the deadline: the stream is not incremental"));
    assert_eq!(out.status_code(), 200);
    EventStream(out)
}

struct EventStream(InvokeWithResponseStreamOutput);

/// What an event stream said after some point.
#[derive(Default)]
struct Rest {
    payload: Vec<u8>,
    chunks: usize,
    complete: Option<InvokeWithResponseStreamCompleteEvent>,
}

impl EventStream {
    /// The next event, which must come within [`PROMPT`].
    async fn next(&mut self) -> Option<Event> {
        let event = tokio::time::timeout(PROMPT, self.0.event_stream.recv())
            .await
            .expect("no event within the deadline: the stream is not incremental");
        event.expect("event stream error")
    }

    async fn chunk(&mut self) -> Vec<u8> {
        match self.next().await {
            Some(Event::PayloadChunk(chunk)) => chunk.payload().unwrap().as_ref().to_vec(),
            other => panic!("expected a PayloadChunk, got {other:?}"),
        }
    }

    /// Everything up to and including InvokeComplete.
    async fn rest(&mut self) -> Rest {
        let mut rest = Rest::default();
        while let Some(event) = self.next().await {
            match event {
                Event::PayloadChunk(chunk) => {
                    assert!(rest.complete.is_none(), "a chunk after InvokeComplete");
                    rest.chunks += 1;
                    rest.payload
                        .extend_from_slice(chunk.payload().map_or(&[][..], |b| b.as_ref()));
                }
                Event::InvokeComplete(complete) => rest.complete = Some(complete),
                other => panic!("unexpected event {other:?}"),
            }
        }
        rest
    }
}

impl Rest {
    fn complete(&self) -> &InvokeWithResponseStreamCompleteEvent {
        self.complete.as_ref().expect("no InvokeComplete")
    }

    /// The error document InvokeComplete carries.
    fn error(&self) -> serde_json::Value {
        let complete = self.complete();
        assert_eq!(complete.error_code(), Some("Unhandled"));
        serde_json::from_str(complete.error_details().expect("ErrorDetails")).unwrap()
    }

    fn log(&self) -> String {
        let tail = self.complete().log_result().expect("LogResult");
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(tail)
                .unwrap(),
        )
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_reach_the_caller_while_the_function_runs() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    create_streamer(&client, "streamer", 30).await;
    let gate = Gate::new().await;

    let mut events = stream(
        &client,
        "streamer",
        json!({"mode": "gated", "gate": gate.port}),
    )
    .await;
    assert_eq!(events.chunk().await, b"first 1;");
    // Only now may the function go on.
    gate.open();
    let rest = events.rest().await;
    assert_eq!(rest.payload, b"second");
    assert_eq!(rest.complete().error_code(), None);
    // The invocation ended with the stream: its REPORT is in the tail.
    assert!(rest.log().contains("REPORT RequestId:"), "{}", rest.log());

    // The environment is reused, one invocation at a time.
    let mut events = stream(
        &client,
        "streamer",
        json!({"mode": "gated", "gate": gate.port}),
    )
    .await;
    assert_eq!(events.chunk().await, b"first 2;");
    assert_eq!(events.rest().await.payload, b"second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_after_the_first_chunk_ends_the_stream_with_invoke_complete() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    create_streamer(&client, "failing", 30).await;
    let gate = Gate::new().await;

    let mut events = stream(
        &client,
        "failing",
        json!({"mode": "fail", "gate": gate.port}),
    )
    .await;
    assert_eq!(events.chunk().await, b"partial");
    gate.open();
    let rest = events.rest().await;
    assert!(rest.payload.is_empty());
    let error = rest.error();
    assert_eq!(error["errorType"], "RangeError");
    assert_eq!(error["errorMessage"], "broke mid-stream");
    // A failed stream leaves the environment usable.
    let mut events = stream(&client, "failing", json!({})).await;
    assert_eq!(events.rest().await.payload, b"invocation 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_past_the_timeout_is_cut_off() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    create_streamer(&client, "slow", 2).await;
    let gate = Gate::new().await;

    let started = Instant::now();
    let mut events = stream(&client, "slow", json!({"mode": "gated", "gate": gate.port})).await;
    assert_eq!(events.chunk().await, b"first 1;");
    // The gate stays shut: the function waits past its 2 s timeout.
    let rest = events.rest().await;
    assert!(started.elapsed() >= Duration::from_secs(2));
    let error = rest.error();
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 2.00 seconds"),
        "{error}"
    );
    assert!(rest.log().contains("Task timed out after 2.00 seconds"));
    // The timed-out environment is gone; a new one answers.
    let mut events = stream(&client, "slow", json!({})).await;
    assert_eq!(events.rest().await.payload, b"invocation 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_over_the_limit_ends_with_an_error() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    create_streamer(&client, "big", 120).await;

    let bytes = STREAM_LIMIT + 1024 * 1024;
    let mut events = stream(&client, "big", json!({"mode": "overflow", "bytes": bytes})).await;
    let rest = events.rest().await;
    // Exactly the limit arrives, not a byte more.
    assert_eq!(rest.payload.len(), STREAM_LIMIT);
    assert!(rest.payload.iter().all(|b| *b == b'x'));
    assert!(rest.chunks > 1, "the response came in one piece");
    let error = rest.error();
    assert_eq!(error["errorType"], "Function.ResponseSizeTooLarge");
    assert_eq!(
        error["errorMessage"],
        "Response payload size exceeded maximum allowed payload size (209715200 bytes)."
    );
    // The function ran to its end; its environment serves the next call.
    let mut events = stream(&client, "big", json!({})).await;
    assert_eq!(events.rest().await.payload, b"invocation 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_goes_away_does_not_hold_the_environment() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    create_streamer(&client, "flood", 30).await;
    // One environment at most: until the abandoned invocation has ended,
    // the next one is throttled.
    ok(client
        .put_function_concurrency()
        .function_name("flood")
        .reserved_concurrent_executions(1)
        .send()
        .await);
    let gate = Gate::new().await;

    // After the first chunk the function writes far more than the channels
    // between it and the caller hold. The caller is a raw connection, so
    // that closing it is certain to close it (an SDK might drain the body).
    let payload = json!({"mode": "flood", "gate": gate.port, "bytes": 64 << 20}).to_string();
    let request = format!(
        "POST /2021-11-15/functions/flood/response-streaming-invocations HTTP/1.1\r\n\
         Host: {}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIDNIMBUSTESTS/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00\r\n\
         X-Amz-Date: 20260101T000000Z\r\n\
         Content-Length: {}\r\n\r\n{payload}",
        server.addr,
        payload.len()
    );
    let head = raw_until(server.addr, request, "first;").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    gate.open();

    // Well before the 30 s timeout would free it, the environment is back
    // and runs the next invocation (its second).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = client
            .invoke_with_response_stream()
            .function_name("flood")
            .payload(Blob::new("{}"))
            .send()
            .await;
        match answer {
            Ok(out) => {
                let rest = EventStream(out).rest().await;
                assert_eq!(rest.payload, b"invocation 2");
                break;
            }
            Err(e) => {
                let throttled = e
                    .as_service_error()
                    .is_some_and(|e| e.is_too_many_requests_exception());
                assert!(throttled, "unexpected error: {e:?}");
                assert!(
                    Instant::now() < deadline,
                    "the abandoned invocation still holds its environment"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Sends `request` over a new connection, reads until `until` has arrived
/// (within [`PROMPT`]), closes the connection and returns what was read.
async fn raw_until(addr: std::net::SocketAddr, request: String, until: &str) -> String {
    let until = until.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(PROMPT)).unwrap();
        conn.write_all(request.as_bytes()).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(&until) {
            let n = conn
                .read(&mut buf)
                .expect("nothing within the deadline: the response is not streamed");
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_that_does_not_stream_answers_in_one_chunk() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    ok(client
        .create_function()
        .function_name("buffered")
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(package(&[(
                    "index.py",
                    "def handler(event, context):\n    return {'echo': event}\n",
                    0o644,
                )])))
                .build(),
        )
        .send()
        .await);
    let mut events = stream(&client, "buffered", json!({"a": 1})).await;
    let rest = events.rest().await;
    assert_eq!(rest.chunks, 1);
    assert_eq!(rest.payload, br#"{"echo": {"a": 1}}"#);
    assert_eq!(rest.complete().error_code(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_stream_function_url_sends_its_body_as_written() {
    let server = Server::start(&["--in-memory"]);
    let client = client(&server.endpoint);
    create_streamer(&client, "web", 30).await;
    let url = ok(client
        .create_function_url_config()
        .function_name("web")
        .auth_type(FunctionUrlAuthType::None)
        .invoke_mode(InvokeMode::ResponseStream)
        .send()
        .await)
    .function_url()
    .to_owned();
    // http://HOST:PORT/_nimbus/lambda-url/<id>/
    let (host, base) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(host, path)| (host.to_owned(), format!("/{path}")))
        .unwrap();
    let gate = Gate::new().await;

    let addr = server.addr;
    let request = format!(
        "GET {base}http?gate={} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        gate.port
    );
    let mut conn = tokio::task::spawn_blocking(move || {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(PROMPT)).unwrap();
        conn.write_all(request.as_bytes()).unwrap();
        conn
    })
    .await
    .unwrap();

    // The head and the first chunk arrive while the function waits.
    let (conn_back, head) = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("id,name\n") {
            let n = conn
                .read(&mut buf)
                .expect("no first chunk within the deadline: the body is not streamed");
            assert!(
                n > 0,
                "connection closed early: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
        (conn, String::from_utf8(seen).unwrap())
    })
    .await
    .unwrap();
    conn = conn_back;
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    assert!(lower.contains("transfer-encoding: chunked"), "{head}");
    assert!(lower.contains("content-type: text/csv"), "{head}");
    assert!(lower.contains("x-streamed: yes"), "{head}");
    assert!(!head.contains("1,ada"), "{head}");

    gate.open();
    let rest = tokio::task::spawn_blocking(move || {
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).unwrap();
        String::from_utf8(rest).unwrap()
    })
    .await
    .unwrap();
    assert!(rest.contains("1,ada\n"), "{rest}");
    // The body ends properly: the last chunk, then the zero-length one.
    assert!(rest.ends_with("0\r\n\r\n"), "{rest:?}");
}
