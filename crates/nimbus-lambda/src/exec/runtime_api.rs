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
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// Largest response or error a function may return (AWS: 6 MB).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Largest streamed response (AWS's soft limit for response streaming).
pub const MAX_STREAMED_RESPONSE_BYTES: usize = 20 * 1024 * 1024;
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
    /// `/response`: the body, and its Content-Type when the runtime streamed
    /// it (a function URL reads `application/vnd.awslambda.http-integration-response`
    /// as status and headers before the body).
    Response {
        body: Bytes,
        content_type: Option<String>,
    },
    /// `/error`: the error document and the `Lambda-Runtime-Function-Error-Type`.
    Error {
        body: Bytes,
        error_type: Option<String>,
    },
    /// The response was larger than [`MAX_RESPONSE_BYTES`].
    ResponseTooLarge,
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
                    let content_type = header(&req, "content-type");
                    return match read_streamed(req).await {
                        Some(reply) => finish(state, &id, reply.with_content_type(content_type)),
                        None => {
                            finish(state, &id, RuntimeReply::ResponseTooLarge);
                            reply(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "RequestEntityTooLarge",
                                "Response payload size exceeded maximum allowed payload size (20971520 bytes).",
                            )
                        }
                    };
                }
                match read(req, MAX_RESPONSE_BYTES).await {
                    Some(body) => finish(
                        state,
                        &id,
                        RuntimeReply::Response {
                            body,
                            content_type: None,
                        },
                    ),
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
    let mut slot = lock(&state.in_flight);
    match slot.take() {
        Some((current, tx)) if current == id => {
            let _ = tx.send(outcome);
            drop(slot);
            accepted()
        }
        other => {
            *slot = other;
            reply(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "Invalid request ID",
            )
        }
    }
}

impl RuntimeReply {
    fn with_content_type(self, content_type: Option<String>) -> RuntimeReply {
        match self {
            RuntimeReply::Response { body, .. } => RuntimeReply::Response { body, content_type },
            other => other,
        }
    }
}

/// A streamed `/response`: the whole chunked body (nimbus hands it on in
/// one piece), or the error the runtime reported in the trailers after
/// part of it (the part is dropped, as AWS ends the stream with the error).
/// `None` when it exceeds [`MAX_STREAMED_RESPONSE_BYTES`].
async fn read_streamed(req: Request<Incoming>) -> Option<RuntimeReply> {
    let collected = Limited::new(req.into_body(), MAX_STREAMED_RESPONSE_BYTES)
        .collect()
        .await
        .ok()?;
    let trailer = |name: &str| {
        collected
            .trailers()
            .and_then(|t| t.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(error_type) = trailer(ERROR_TYPE_TRAILER) {
        use base64::Engine;
        let body = trailer(ERROR_BODY_TRAILER)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default();
        return Some(RuntimeReply::Error {
            body: Bytes::from(body),
            error_type: Some(error_type),
        });
    }
    Some(RuntimeReply::Response {
        body: collected.to_bytes(),
        content_type: None,
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
