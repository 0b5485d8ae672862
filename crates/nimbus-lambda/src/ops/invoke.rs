//! Invoke: RequestResponse (run now, answer with the function's result),
//! Event (queue durably, answer 202; see `async_queue`) and DryRun (check
//! only, answer 204).

use base64::Engine;
use bytes::Bytes;
use nimbus_wire::RequestContext;

use super::find;
use crate::error::{LambdaError, Result};
use crate::exec::{InvokeResult, Target};
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

    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let (version, invoked_arn) = resolve(&f, ctx, qualifier.as_deref())?;

    match invocation_type {
        InvocationType::DryRun => Ok(Reply::empty(204)),
        InvocationType::Event => {
            crate::async_queue::enqueue(lambda, &f, qualifier.as_deref(), payload, &ctx.request_id)
                .await?;
            let mut reply = Reply::empty(202);
            reply
                .headers
                .push(("x-amzn-requestid", ctx.request_id.clone()));
            Ok(reply)
        }
        InvocationType::RequestResponse => {
            let config = f
                .version(&version)
                .ok_or_else(|| super::not_found(ctx, &f.name, Some(&version)))?;
            let target = Target {
                function: &f,
                config,
                invoked_arn,
            };
            let execution = lambda
                .inner()
                .exec
                .run(&target, payload, client_context, &ctx.request_id)
                .await?;
            let mut reply = match execution.result {
                InvokeResult::Success(body) => Reply {
                    status: 200,
                    headers: vec![("content-type", "application/json".into())],
                    extra_headers: Vec::new(),
                    body,
                },
                InvokeResult::FunctionError(body) => Reply {
                    status: 200,
                    headers: vec![
                        ("content-type", "application/json".into()),
                        ("x-amz-function-error", "Unhandled".into()),
                    ],
                    extra_headers: Vec::new(),
                    body,
                },
            };
            reply.headers.push(("x-amz-executed-version", version));
            if tail {
                let log = &execution.log;
                let from = log.len().saturating_sub(TAIL_BYTES);
                reply.headers.push((
                    "x-amz-log-result",
                    base64::engine::general_purpose::STANDARD.encode(&log[from..]),
                ));
            }
            Ok(reply)
        }
    }
}

/// InvokeWithResponseStream. nimbus's runtimes return whole responses, so
/// the stream carries the response as one `PayloadChunk` followed by
/// `InvokeComplete` (with the error and the log tail, if asked for); clients
/// read it exactly as they read a streamed response.
pub async fn invoke_with_response_stream(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    match req.header("x-amz-invocation-type") {
        None | Some("RequestResponse") | Some("DryRun") => {}
        Some(other) => {
            return Err(LambdaError::constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [RequestResponse, DryRun]",
            ))
        }
    }
    let reply = invoke(lambda, ctx, req, name).await?;
    if reply.status == 204 {
        return Ok(reply);
    }
    let header = |n: &str| {
        reply
            .headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    let function_error = header("x-amz-function-error");
    let log = header("x-amz-log-result");
    let mut body = Vec::new();
    if function_error.is_none() && !reply.body.is_empty() {
        body.extend(crate::event_stream::event_message(
            "PayloadChunk",
            Some("application/octet-stream"),
            &reply.body,
        ));
    }
    let mut complete = serde_json::Map::new();
    if let Some(code) = &function_error {
        complete.insert("ErrorCode".into(), code.clone().into());
        complete.insert(
            "ErrorDetails".into(),
            String::from_utf8_lossy(&reply.body).into_owned().into(),
        );
    }
    if let Some(log) = log {
        complete.insert("LogResult".into(), log.into());
    }
    body.extend(crate::event_stream::event_message(
        "InvokeComplete",
        Some("application/json"),
        serde_json::Value::Object(complete).to_string().as_bytes(),
    ));
    let mut headers = vec![(
        "content-type",
        "application/vnd.amazon.eventstream".to_owned(),
    )];
    if let Some(v) = header("x-amz-executed-version") {
        headers.push(("x-amz-executed-version", v));
    }
    Ok(Reply {
        status: 200,
        headers,
        extra_headers: Vec::new(),
        body: Bytes::from(body),
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
