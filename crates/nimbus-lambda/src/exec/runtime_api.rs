//! The Lambda Runtime API one environment talks to, on a listener of its
//! own (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT`), so official runtime
//! interface clients and custom `bootstrap` executables run unchanged:
//!   GET  /2018-06-01/runtime/invocation/next
//!   POST /2018-06-01/runtime/invocation/{id}/response
//!        (buffered, or `Lambda-Runtime-Function-Response-Mode: streaming`
//!        with a chunked body and errors in trailers)
//!   POST /2018-06-01/runtime/invocation/{id}/error
//!   POST /2018-06-01/runtime/init/error
//! A listener per environment is what makes "one invocation at a time per
//! environment" structural: the only `next` this listener answers hands out
//! the invocations sent to this environment's inbox.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// Largest response or error a function may return (AWS: 6 MB).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Largest streamed response: AWS's default maximum since July 2025
/// ("200 MB", counted as the 6 MB buffered limit is, in MiB; it was 20 MB
/// before). Past it the stream ends with an error.
pub const MAX_STREAMED_RESPONSE_BYTES: usize = 200 * 1024 * 1024;
/// Chunks of a streamed response held between the runtime and the caller.
/// Bounded, so a caller that reads slowly holds the function's writes back
/// (TCP flow control on the runtime's connection) instead of nimbus
/// buffering the whole response.
const STREAM_CHUNKS_IN_FLIGHT: usize = 8;
/// The trailers a streaming runtime reports a mid-stream error in.
const ERROR_TYPE_TRAILER: &str = "lambda-runtime-function-error-type";
const ERROR_BODY_TRAILER: &str = "lambda-runtime-function-error-body";
/// Largest error document accepted from a runtime.
const MAX_ERROR_BYTES: usize = 1024 * 1024;

/// One invocation as the runtime sees it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub invoked_function_arn: String,
    pub trace_id: String,
    /// Decoded client context JSON, if the caller sent one.
    pub client_context: Option<String>,
}

/// An invocation handed to the environment with the channel its outcome
/// goes back on.
pub struct Dispatch {
    pub invocation: Invocation,
    pub reply: oneshot::Sender<RuntimeReply>,
}

/// What the runtime said about one invocation.
#[derive(Debug)]
pub enum RuntimeReply {
    /// `/response`, buffered: the whole body.
    Response { body: Bytes },
    /// `/response` in streaming mode: handed over as soon as the runtime
    /// starts it, while its body is still arriving.
    Streaming(StreamedResponse),
    /// `/error`: the error document and the `Lambda-Runtime-Function-Error-Type`.
    Error {
        body: Bytes,
        error_type: Option<String>,
    },
    /// The response was larger than [`MAX_RESPONSE_BYTES`].
    ResponseTooLarge,
}

/// A streamed response on its way from the runtime.
#[derive(Debug)]
pub struct StreamedResponse {
    /// The Content-Type the runtime gave it (a function URL reads
    /// `application/vnd.awslambda.http-integration-response` as status and
    /// headers before the body).
    pub content_type: Option<String>,
    /// The body, chunk by chunk as the runtime writes it; closed when the
    /// body has ended (or passed [`MAX_STREAMED_RESPONSE_BYTES`]). Dropping
    /// the receiver (the caller went away) lets the function run on, its
    /// output discarded.
    pub chunks: mpsc::Receiver<Bytes>,
    /// How the body ended, once it has. Dropped without a value when the
    /// runtime's connection broke off mid-body: the process exiting or the
    /// deadline then ends the invocation.
    pub end: oneshot::Receiver<StreamEnd>,
}

/// How a streamed response ended.
#[derive(Debug)]
pub enum StreamEnd {
    Complete,
    /// The runtime reported an error in the trailers, after part of the
    /// body (which the caller already has).
    Error {
        body: Bytes,
        error_type: Option<String>,
    },
    /// The body passed [`MAX_STREAMED_RESPONSE_BYTES`]; what came before
    /// the limit was delivered, the rest discarded.
    TooLarge,
}

/// What the runtime said while initialising.
#[derive(Debug)]
pub enum InitReply {
    /// It asked for its first invocation: init is over.
    Ready,
    /// `/init/error`.
    Failed {
        body: Bytes,
        error_type: Option<String>,
    },
}

struct State {
    inbox: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    in_flight: Mutex<Option<(String, oneshot::Sender<RuntimeReply>)>>,
    init: Mutex<Option<oneshot::Sender<InitReply>>>,
}

/// Serves the Runtime API of one environment until `listener`'s task is
/// aborted. Returns the init signal.
pub fn serve(
    listener: TcpListener,
    inbox: mpsc::Receiver<Dispatch>,
) -> (tokio::task::JoinHandle<()>, oneshot::Receiver<InitReply>) {
    let (init_tx, init_rx) = oneshot::channel();
    let state = Arc::new(State {
        inbox: tokio::sync::Mutex::new(inbox),
        in_flight: Mutex::new(None),
        init: Mutex::new(Some(init_tx)),
    });
    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, typically: back off rather
                    // than spin on a connection that cannot be accepted.
                    tracing::warn!("lambda: runtime API accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let state = state.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(route(&state, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (task, init_rx)
}

async fn route(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    const BASE: &str = "/2018-06-01/runtime/";
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(BASE) else {
        return reply(
            StatusCode::NOT_FOUND,
            "InvalidRequest",
            "unknown Runtime API path",
        );
    };
    let method = req.method().clone();
    match (method, rest) {
        (Method::GET, "invocation/next") => next(state).await,
        (Method::POST, "init/error") => {
            let error_type = header(&req, "lambda-runtime-function-error-type");
            let body = read(req, MAX_ERROR_BYTES).await.unwrap_or_default();
            if let Some(tx) = lock(&state.init).take() {
                let _ = tx.send(InitReply::Failed { body, error_type });
            }
            accepted()
        }
        (Method::POST, rest) => {
            let Some(rest) = rest.strip_prefix("invocation/") else {
                return reply(
                    StatusCode::NOT_FOUND,
                    "InvalidRequest",
                    "unknown Runtime API path",
                );
            };
            if let Some(id) = rest.strip_suffix("/response") {
                let id = id.to_owned();
                let streaming = header(&req, "lambda-runtime-function-response-mode")
                    .is_some_and(|m| m.eq_ignore_ascii_case("streaming"));
                if streaming {
                    return stream(state, &id, req).await;
                }
                match read(req, MAX_RESPONSE_BYTES).await {
                    Some(body) => finish(state, &id, RuntimeReply::Response { body }),
                    None => {
                        finish(state, &id, RuntimeReply::ResponseTooLarge);
                        reply(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "RequestEntityTooLarge",
                            "Response payload size exceeded maximum allowed payload size (6291456 bytes).",
                        )
                    }
                }
            } else if let Some(id) = rest.strip_suffix("/error") {
                let id = id.to_owned();
                let error_type = header(&req, "lambda-runtime-function-error-type");
                let body = read(req, MAX_ERROR_BYTES).await.unwrap_or_default();
                finish(state, &id, RuntimeReply::Error { body, error_type })
            } else {
                reply(
                    StatusCode::NOT_FOUND,
                    "InvalidRequest",
                    "unknown Runtime API path",
                )
            }
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "InvalidRequest",
            "unknown Runtime API path",
        ),
    }
}

/// `next`: the first call ends init; then wait for an invocation.
async fn next(state: &State) -> Response<Full<Bytes>> {
    if let Some(tx) = lock(&state.init).take() {
        let _ = tx.send(InitReply::Ready);
    }
    let dispatch = {
        let mut inbox = state.inbox.lock().await;
        inbox.recv().await
    };
    let Some(Dispatch {
        invocation,
        reply: tx,
    }) = dispatch
    else {
        // The environment is being torn down.
        return reply(
            StatusCode::GONE,
            "EnvironmentShutdown",
            "the environment is shutting down",
        );
    };
    *lock(&state.in_flight) = Some((invocation.request_id.clone(), tx));
    let mut response = Response::new(Full::new(invocation.payload));
    let h = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("content-type", "application/json");
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &invocation.deadline_ms.to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        &invocation.invoked_function_arn,
    );
    set("lambda-runtime-trace-id", &invocation.trace_id);
    if let Some(cc) = &invocation.client_context {
        set("lambda-runtime-client-context", cc);
    }
    response
}

fn finish(state: &State, id: &str, outcome: RuntimeReply) -> Response<Full<Bytes>> {
    if deliver(state, id, outcome) {
        accepted()
    } else {
        invalid_request_id()
    }
}

/// Hands `outcome` to the invocation `id` is waiting for; false when `id`
/// is not the invocation in flight.
fn deliver(state: &State, id: &str, outcome: RuntimeReply) -> bool {
    let mut slot = lock(&state.in_flight);
    match slot.take() {
        Some((current, tx)) if current == id => {
            let _ = tx.send(outcome);
            true
        }
        other => {
            *slot = other;
            false
        }
    }
}

/// A streamed `/response`: handed to the waiting invocation as soon as its
/// headers arrive, then forwarded chunk by chunk as the runtime writes it.
/// The runtime's POST is answered once its body has ended, which is when
/// the invocation ends: the environment stays one invocation at a time.
async fn stream(state: &State, id: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (chunks_tx, chunks) = mpsc::channel(STREAM_CHUNKS_IN_FLIGHT);
    let (end_tx, end) = oneshot::channel();
    let streamed = StreamedResponse {
        content_type: header(&req, "content-type"),
        chunks,
        end,
    };
    if !deliver(state, id, RuntimeReply::Streaming(streamed)) {
        return invalid_request_id();
    }
    let mut body = req.into_body();
    let mut forward = Some(chunks_tx);
    let mut total = 0usize;
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        // A broken connection: `end_tx` is dropped unsent (see `end`).
        let Ok(frame) = frame else {
            return reply(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "the response body was cut off",
            );
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                trailers = frame.into_trailers().ok();
                continue;
            }
        };
        let room = MAX_STREAMED_RESPONSE_BYTES.saturating_sub(total);
        total = total.saturating_add(data.len());
        if data.len() > room {
            // Over the limit: what still fits goes out, then the channel
            // closes. The rest is read and dropped, so the function ends as
            // it would have (its writes do not fail) and the caller gets the
            // error when it does.
            if let Some(tx) = forward.take() {
                if room > 0 {
                    let _ = tx.send(data.slice(..room)).await;
                }
            }
            continue;
        }
        if let Some(tx) = &forward {
            if tx.send(data).await.is_err() {
                // The caller went away: the function still runs to its
                // end, as on AWS, and what it writes is discarded.
                forward = None;
            }
        }
    }
    drop(forward);
    let too_large = total > MAX_STREAMED_RESPONSE_BYTES;
    let end = if too_large {
        StreamEnd::TooLarge
    } else {
        trailer_error(trailers.as_ref()).unwrap_or(StreamEnd::Complete)
    };
    let _ = end_tx.send(end);
    if too_large {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_STREAMED_RESPONSE_BYTES} bytes)."
            ),
        )
    } else {
        accepted()
    }
}

/// The error a streaming runtime reported in its trailers, after part of
/// the body: `Lambda-Runtime-Function-Error-Type`, and the error document
/// base64-encoded in `Lambda-Runtime-Function-Error-Body`.
fn trailer_error(trailers: Option<&HeaderMap>) -> Option<StreamEnd> {
    let trailer = |name: &str| {
        trailers
            .and_then(|t| t.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let error_type = trailer(ERROR_TYPE_TRAILER)?;
    use base64::Engine;
    let body = trailer(ERROR_BODY_TRAILER)
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .unwrap_or_default();
    Some(StreamEnd::Error {
        body: Bytes::from(body),
        error_type: Some(error_type),
    })
}

async fn read(req: Request<Incoming>, limit: usize) -> Option<Bytes> {
    Limited::new(req.into_body(), limit)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes())
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    reply(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn accepted() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}")));
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

fn reply(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"errorMessage": message, "errorType": error_type});
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use hyper::body::{Body, Frame};

    use super::*;

    /// A request body made of the given frames, sent chunked.
    struct Frames(VecDeque<Frame<Bytes>>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }

    /// A Runtime API with one invocation (`id`) in flight, as after the
    /// runtime's `next`: the address, and where its reply arrives.
    async fn in_flight(id: &str) -> (std::net::SocketAddr, oneshot::Receiver<RuntimeReply>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (inbox, inbox_rx) = mpsc::channel(1);
        let (_server, _init) = serve(listener, inbox_rx);
        let (reply, replied) = oneshot::channel();
        let invocation = Invocation {
            request_id: id.to_owned(),
            payload: Bytes::from_static(b"{}"),
            deadline_ms: 0,
            invoked_function_arn: String::new(),
            trace_id: String::new(),
            client_context: None,
        };
        inbox.send(Dispatch { invocation, reply }).await.unwrap();
        // The listener's own `next`; the inbox sender may go now.
        let (status, _) = call(addr, Method::GET, "invocation/next", Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        (addr, replied)
    }

    /// One request over its own connection; a POST streams `frames`.
    async fn call(
        addr: std::net::SocketAddr,
        method: Method,
        path: &str,
        frames: Vec<Frame<Bytes>>,
    ) -> (StatusCode, Bytes) {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let request = Request::builder()
            .method(method)
            .uri(format!("/2018-06-01/runtime/{path}"))
            .header("host", "runtime")
            .header("lambda-runtime-function-response-mode", "streaming")
            .header("content-type", "text/plain")
            .header(
                "trailer",
                format!("{ERROR_TYPE_TRAILER}, {ERROR_BODY_TRAILER}"),
            )
            .body(Frames(frames.into()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body)
    }

    fn data(text: &'static str) -> Frame<Bytes> {
        Frame::data(Bytes::from_static(text.as_bytes()))
    }

    #[tokio::test]
    async fn streamed_chunks_are_forwarded_and_trailers_end_them() {
        let (addr, replied) = in_flight("r1").await;
        use base64::Engine;
        let mut trailers = HeaderMap::new();
        trailers.insert(ERROR_TYPE_TRAILER, HeaderValue::from_static("Boom"));
        let document = base64::engine::general_purpose::STANDARD
            .encode(r#"{"errorType":"Boom","errorMessage":"late"}"#);
        trailers.insert(
            ERROR_BODY_TRAILER,
            HeaderValue::from_str(&document).unwrap(),
        );
        let frames = vec![data("one "), data("two"), Frame::trailers(trailers)];
        let post = tokio::spawn(call(addr, Method::POST, "invocation/r1/response", frames));

        let Ok(RuntimeReply::Streaming(mut streamed)) = replied.await else {
            panic!("not a streamed reply");
        };
        assert_eq!(streamed.content_type.as_deref(), Some("text/plain"));
        let mut body = Vec::new();
        while let Some(chunk) = streamed.chunks.recv().await {
            body.extend_from_slice(&chunk);
        }
        assert_eq!(body, b"one two");
        match streamed.end.await.unwrap() {
            StreamEnd::Error { body, error_type } => {
                assert_eq!(error_type.as_deref(), Some("Boom"));
                assert_eq!(&body[..], br#"{"errorType":"Boom","errorMessage":"late"}"#);
            }
            other => panic!("unexpected end {other:?}"),
        }
        assert_eq!(post.await.unwrap().0, StatusCode::ACCEPTED);
    }

    #[tokio::test]
    async fn a_stream_nobody_reads_is_drained_to_its_end() {
        let (addr, replied) = in_flight("r2").await;
        // Many more chunks than the channel holds.
        let frames = (0..STREAM_CHUNKS_IN_FLIGHT * 8)
            .map(|_| data("chunk"))
            .collect();
        let post = tokio::spawn(call(addr, Method::POST, "invocation/r2/response", frames));
        let Ok(RuntimeReply::Streaming(streamed)) = replied.await else {
            panic!("not a streamed reply");
        };
        // The caller went away.
        drop(streamed.chunks);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), streamed.end)
            .await
            .expect("the runtime's stream was not read to its end");
        assert!(matches!(ended, Ok(StreamEnd::Complete)));
        assert_eq!(post.await.unwrap().0, StatusCode::ACCEPTED);
    }

    #[tokio::test]
    async fn a_stream_for_another_invocation_is_refused() {
        let (addr, _replied) = in_flight("r3").await;
        let (status, _) = call(
            addr,
            Method::POST,
            "invocation/other/response",
            vec![data("x")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
