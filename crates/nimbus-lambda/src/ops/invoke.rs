//! Invoke: RequestResponse (run now, answer with the function's result),
//! Event (queue durably, answer 202; see `async_queue`) and DryRun (check
//! only, answer 204); and InvokeWithResponseStream, which answers in
//! event-stream messages while the function writes its response.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use nimbus_wire::RequestContext;
use tokio::sync::mpsc;

use super::find;
use crate::binding::Body;
use crate::error::{LambdaError, Result};
use crate::exec::{Answer, Execution, InvokeResult, Running, Target};
use crate::model::FunctionRecord;
use crate::names::{self, LATEST};
use crate::{Lambda, Reply, Request};

/// Largest synchronous request payload (AWS: 6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
/// Largest asynchronous (Event) payload (AWS raised it from 256 KB to 1 MB
/// in 2025).
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;
/// Largest decoded client context (AWS: 3,583 bytes).
const MAX_CLIENT_CONTEXT: usize = 3583;
/// How much of the log `X-Amz-Log-Type: Tail` returns.
const TAIL_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

pub async fn invoke(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let invocation_type = match req.header("x-amz-invocation-type") {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(LambdaError::constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            ))
        }
    };
    let call = checked_call(lambda, ctx, req, name, invocation_type)?;
    match invocation_type {
        InvocationType::DryRun => Ok(Reply::empty(204)),
        InvocationType::Event => {
            crate::async_queue::enqueue(
                lambda,
                &call.function,
                call.qualifier.as_deref(),
                call.payload,
                &ctx.request_id,
            )
            .await?;
            let mut reply = Reply::empty(202);
            reply
                .headers
                .push(("x-amzn-requestid", ctx.request_id.clone()));
            Ok(reply)
        }
        InvocationType::RequestResponse => {
            let target = target(&call.function, &call.version, &call.invoked_arn, ctx)?;
            let execution = lambda
                .inner()
                .exec
                .run(&target, call.payload, call.client_context, &ctx.request_id)
                .await?;
            let mut reply = match execution.result {
                InvokeResult::Success(body) => Reply {
                    status: 200,
                    headers: vec![("content-type", "application/json".into())],
                    extra_headers: Vec::new(),
                    body: Body::Full(body),
                },
                InvokeResult::FunctionError(body) => Reply {
                    status: 200,
                    headers: vec![
                        ("content-type", "application/json".into()),
                        ("x-amz-function-error", "Unhandled".into()),
                    ],
                    extra_headers: Vec::new(),
                    body: Body::Full(body),
                },
            };
            reply.headers.push(("x-amz-executed-version", call.version));
            if call.tail {
                reply
                    .headers
                    .push(("x-amz-log-result", log_tail(&execution.log)));
            }
            Ok(reply)
        }
    }
}

/// InvokeWithResponseStream: answers 200 as soon as the function's
/// environment has the invocation, then sends the response as
/// `PayloadChunk` events while the function writes it and ends with
/// `InvokeComplete` (the error, if any, and the log tail if asked for). A
/// function that does not stream answers in one `PayloadChunk`. Errors
/// before the invocation starts (throttling, a missing function) are
/// ordinary error responses.
pub async fn invoke_with_response_stream(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let invocation_type = match req.header("x-amz-invocation-type") {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(LambdaError::constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [RequestResponse, DryRun]",
            ))
        }
    };
    let call = checked_call(lambda, ctx, req, name, invocation_type)?;
    if invocation_type == InvocationType::DryRun {
        return Ok(Reply::empty(204));
    }
    let target = target(&call.function, &call.version, &call.invoked_arn, ctx)?;
    let running = lambda
        .inner()
        .exec
        .start(&target, call.payload, call.client_context, &ctx.request_id)
        .await?;
    let (events, body) = mpsc::channel(EVENTS_IN_FLIGHT);
    tokio::spawn(stream_events(running, call.tail, events));
    Ok(Reply {
        status: 200,
        headers: vec![
            (
                "content-type",
                "application/vnd.amazon.eventstream".to_owned(),
            ),
            ("x-amz-executed-version", call.version),
        ],
        extra_headers: Vec::new(),
        body: Body::Stream(body),
    })
}

/// Event-stream messages held for a caller that reads slowly: past them
/// the function's writes wait (see `exec::runtime_api`).
const EVENTS_IN_FLIGHT: usize = 4;

/// Frames a running invocation's answer as InvokeWithResponseStream
/// events. When the caller goes away it stops; dropping the stream lets
/// the function run to its end with its output discarded.
async fn stream_events(running: Running, tail: bool, events: mpsc::Sender<ResultBytes>) {
    let send = |payload: Vec<u8>| {
        let events = events.clone();
        async move { events.send(Ok(Bytes::from(payload))).await.is_ok() }
    };
    let execution = match running.answer().await {
        Answer::Whole(execution) => {
            if let InvokeResult::Success(body) = &execution.result {
                if !body.is_empty() && !send(payload_chunk(body)).await {
                    return;
                }
            }
            execution
        }
        Answer::Stream(mut stream) => {
            while let Some(chunk) = stream.chunk().await {
                if !send(payload_chunk(&chunk)).await {
                    return;
                }
            }
            stream.finish().await
        }
    };
    send(invoke_complete(&execution, tail)).await;
}

type ResultBytes = std::result::Result<Bytes, crate::binding::Aborted>;

fn payload_chunk(bytes: &[u8]) -> Vec<u8> {
    crate::event_stream::event_message("PayloadChunk", Some("application/octet-stream"), bytes)
}

/// `InvokeComplete`: for a function error its code (`Unhandled`, as Invoke's
/// X-Amz-Function-Error says) and the error document as its details.
fn invoke_complete(execution: &Execution, tail: bool) -> Vec<u8> {
    let mut complete = serde_json::Map::new();
    if let InvokeResult::FunctionError(error) = &execution.result {
        complete.insert("ErrorCode".into(), "Unhandled".into());
        complete.insert(
            "ErrorDetails".into(),
            String::from_utf8_lossy(error).into_owned().into(),
        );
    }
    if tail {
        complete.insert("LogResult".into(), log_tail(&execution.log).into());
    }
    crate::event_stream::event_message(
        "InvokeComplete",
        Some("application/json"),
        serde_json::Value::Object(complete).to_string().as_bytes(),
    )
}

/// The last 4 KB of an invocation's log, base64-encoded.
fn log_tail(log: &[u8]) -> String {
    let from = log.len().saturating_sub(TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&log[from..])
}

/// A synchronous invocation's request, checked, and the function version
/// it runs.
struct Call {
    function: Arc<FunctionRecord>,
    qualifier: Option<String>,
    version: String,
    invoked_arn: String,
    payload: Bytes,
    client_context: Option<String>,
    /// `X-Amz-Log-Type: Tail`
    tail: bool,
}

/// What the executor runs for a version of a function.
fn target<'a>(
    function: &'a FunctionRecord,
    version: &str,
    invoked_arn: &str,
    ctx: &RequestContext,
) -> Result<Target<'a>> {
    let config = function
        .version(version)
        .ok_or_else(|| super::not_found(ctx, &function.name, Some(version)))?;
    Ok(Target {
        function,
        config,
        invoked_arn: invoked_arn.to_owned(),
    })
}

/// Everything Invoke and InvokeWithResponseStream check before running
/// anything: the log type, the payload, the client context, the function
/// and its qualifier.
fn checked_call(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
    invocation_type: InvocationType,
) -> Result<Call> {
    let tail = match req.header("x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(LambdaError::constraint(
                other,
                "logType",
                "Member must satisfy enum value set: [None, Tail]",
            ))
        }
    };
    check_payload_size(invocation_type, req.body.len())?;
    let payload = checked_payload(&req.body)?;
    let client_context = req
        .header("x-amz-client-context")
        .map(decode_client_context)
        .transpose()?;
    let (function, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let (version, invoked_arn) = resolve(&function, ctx, qualifier.as_deref())?;
    Ok(Call {
        function,
        qualifier,
        version,
        invoked_arn,
        payload,
        client_context,
        tail,
    })
}

/// AWS refuses an oversized payload as RequestEntityTooLargeException (the
/// API reference names RequestTooLargeException, but what Lambda sends, and
/// SDK users see, is the former), with a text per invocation type.
fn check_payload_size(invocation_type: InvocationType, len: usize) -> Result<()> {
    if invocation_type == InvocationType::Event {
        if len > MAX_ASYNC_PAYLOAD {
            return Err(LambdaError::RequestEntityTooLarge(format!(
                "{len} byte payload is too large for the Event invocation type (limit {MAX_ASYNC_PAYLOAD} bytes)"
            )));
        }
    } else if len > MAX_SYNC_PAYLOAD {
        return Err(LambdaError::RequestEntityTooLarge(format!(
            "Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
        )));
    }
    Ok(())
}

/// The version a qualifier selects and the ARN the function sees as its
/// invoked ARN. An alias with a routing split picks by weight.
pub(crate) fn resolve(
    f: &FunctionRecord,
    ctx: &RequestContext,
    qualifier: Option<&str>,
) -> Result<(String, String)> {
    let Some(q) = qualifier else {
        return Ok((LATEST.to_owned(), f.arn()));
    };
    let qualified = names::qualified_arn(&f.region, &f.account, &f.name, q);
    if f.version(q).is_some() {
        return Ok((q.to_owned(), qualified));
    }
    if let Some(alias) = f.aliases.get(q) {
        let mut version = alias.function_version.clone();
        if let Some((extra, weight)) = alias.routing.iter().next() {
            if rand_unit() < *weight {
                version = extra.clone();
            }
        }
        return Ok((version, qualified));
    }
    Err(super::not_found(ctx, &f.name, Some(q)))
}

/// A uniform number in [0, 1) for weighted alias routing.
fn rand_unit() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u64_pair().0 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// The payload as the function receives it: JSON, `{}` when empty.
pub(crate) fn checked_payload(body: &Bytes) -> Result<Bytes> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Bytes::from_static(b"{}"));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| {
        LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        ))
    })?;
    Ok(body.clone())
}

fn decode_client_context(b64: &str) -> Result<String> {
    let bad = || LambdaError::invalid("Client context must be a valid Base64-encoded JSON object.");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| bad())?;
    if bytes.len() > MAX_CLIENT_CONTEXT {
        return Err(LambdaError::invalid(format!(
            "Client context must be smaller than {MAX_CLIENT_CONTEXT} bytes."
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if !value.is_object() {
        return Err(bad());
    }
    Ok(value.to_string())
}
