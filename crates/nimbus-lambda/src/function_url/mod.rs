//! Serving function URLs: an HTTP request becomes a payload format 2.0
//! event, the function's result becomes the HTTP response (a
//! `{"statusCode", "headers", "body", "isBase64Encoded", "cookies"}` object,
//! or any other JSON value as a 200 `application/json` body), with the URL's
//! CORS configuration applied, as AWS's function URLs do. In RESPONSE_STREAM
//! mode a streaming function's output goes out as it is written (see
//! `streamed`).

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

mod streamed;

use crate::binding::Body;
use crate::error::LambdaError;
use crate::exec::{Answer, Execution, InvokeResult, Target};
use crate::model::{FunctionRecord, UrlConfig};
use crate::{Lambda, Reply, Request};

/// Who sent a function URL request, as the event describes it.
pub struct Caller<'a> {
    pub source_ip: &'a str,
    /// The host name the client used (`<id>.lambda-url.<region>.localhost`).
    pub domain: &'a str,
    pub request_id: &'a str,
    /// Whether the request carries a SigV4 signature (AuthType AWS_IAM).
    pub signed: bool,
}

/// Answers one request to the function URL `url_id`; `req.path` is the path
/// under the URL's root.
pub async fn serve(lambda: &Lambda, url_id: &str, req: Request, caller: &Caller<'_>) -> Reply {
    let Some((f, key, url)) = find(lambda, url_id) else {
        return message(404, "Not Found");
    };
    let origin = req.header("origin").map(str::to_owned);
    if req.method == http::Method::OPTIONS && req.header("access-control-request-method").is_some()
    {
        return preflight(url.cors.as_ref(), origin.as_deref());
    }
    if url.auth_type == "AWS_IAM" && !caller.signed {
        return message(403, "Forbidden");
    }
    let qualifier = (!key.is_empty()).then_some(key.as_str());
    let ctx = nimbus_wire::RequestContext::local(&f.region);
    let Ok((version, invoked_arn)) = crate::ops::invoke::resolve(&f, &ctx, qualifier) else {
        return message(404, "Not Found");
    };
    let Some(config) = f.version(&version) else {
        return message(404, "Not Found");
    };
    if req.body.len() > crate::ops::invoke::MAX_SYNC_PAYLOAD {
        return message(413, "Request Entity Too Large");
    }
    let event = event(&req, url_id, &f, caller, lambda.inner().clock.now_ms());
    let target = Target {
        function: &f,
        config,
        invoked_arn,
    };
    let exec = &lambda.inner().exec;
    let payload = Bytes::from(event.to_string());
    // RESPONSE_STREAM invokes as InvokeWithResponseStream does, so what a
    // streaming function writes reaches the client as it is written.
    let answer = if url.invoke_mode == "RESPONSE_STREAM" {
        match exec.start(&target, payload, None, caller.request_id).await {
            Ok(running) => Ok(running.answer().await),
            Err(e) => Err(e),
        }
    } else {
        exec.run(&target, payload, None, caller.request_id)
            .await
            .map(Answer::Whole)
    };
    let mut reply = match answer {
        Ok(Answer::Whole(execution)) => whole(execution),
        Ok(Answer::Stream(stream)) => streamed::reply(stream).await,
        Err(LambdaError::TooManyRequests { .. }) => message(429, "Rate Exceeded."),
        Err(e) => {
            tracing::warn!(
                "lambda: function URL {url_id} could not run {}: {e}",
                f.name
            );
            message(500, "Internal Server Error")
        }
    };
    if let (Some(cors), Some(origin)) = (url.cors.as_ref(), origin.as_deref()) {
        add_cors(&mut reply, cors, origin);
    }
    reply
}

/// The HTTP response for a function's whole result.
fn whole(execution: Execution) -> Reply {
    let body = match execution.result {
        InvokeResult::Success(body) => body,
        InvokeResult::FunctionError(_) => return message(502, "Internal Server Error"),
    };
    match execution.content_type.as_deref() {
        // A streamed response collected whole (a BUFFERED URL): with
        // HttpResponseStream.from, a JSON prelude (status, headers,
        // cookies) and 8 NUL bytes precede the body; otherwise the bytes
        // are the body.
        Some(HTTP_INTEGRATION) => integration_response(&body),
        Some(content_type) => {
            let mut reply = Reply::empty(200);
            reply
                .headers
                .push(("content-type", content_type.to_owned()));
            reply.body = Body::Full(body);
            reply
        }
        None => response(&body),
    }
}

fn find(lambda: &Lambda, url_id: &str) -> Option<(Arc<FunctionRecord>, String, UrlConfig)> {
    let (f, qualifier) = lambda.inner().catalog.by_url(url_id)?;
    let url = f.urls.get(&qualifier)?.clone();
    Some((f, qualifier, url))
}

/// The payload format 2.0 event for one request.
fn event(
    req: &Request,
    url_id: &str,
    f: &FunctionRecord,
    caller: &Caller<'_>,
    now_ms: u64,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in req.headers.iter() {
        let Ok(value) = value.to_str() else { continue };
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), value.into());
            }
        }
    }
    let raw_query = req.query.clone().unwrap_or_default();
    let mut query = Map::new();
    for (k, v) in nimbus_wire::form::pairs(&raw_query) {
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, v.into());
            }
        }
    }
    let (body, base64) = body_of(req);
    let user_agent = req.header("user-agent").unwrap_or("");
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let clf_time = format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        t.day(),
        months[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": if req.path.is_empty() { "/" } else { req.path.as_str() },
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": caller.domain,
            "domainPrefix": url_id,
            "http": {
                "method": req.method.as_str(),
                "path": if req.path.is_empty() { "/" } else { req.path.as_str() },
                "protocol": "HTTP/1.1",
                "sourceIp": caller.source_ip,
                "userAgent": user_agent,
            },
            "requestId": caller.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": clf_time,
            "timeEpoch": now_ms,
        },
        "isBase64Encoded": base64,
    });
    if caller.signed {
        event["requestContext"]["accountId"] = f.account.clone().into();
    }
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if let Some(body) = body {
        event["body"] = body.into();
    }
    event
}

/// The body as the event carries it: text when it is text, else base64.
fn body_of(req: &Request) -> (Option<String>, bool) {
    if req.body.is_empty() {
        return (None, false);
    }
    let content_type = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let textual = content_type.is_empty()
        || content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml")
        || content_type.contains("x-www-form-urlencoded")
        || content_type.contains("javascript");
    match std::str::from_utf8(&req.body) {
        Ok(text) if textual => (Some(text.to_owned()), false),
        _ => (
            Some(base64::engine::general_purpose::STANDARD.encode(&req.body)),
            true,
        ),
    }
}

/// The Content-Type of a streamed response that starts with a prelude.
const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";
/// What ends the prelude of an HTTP integration response.
const PRELUDE_END: &[u8] = &[0; 8];

/// A streamed HTTP integration response collected whole: prelude JSON, 8
/// NUL bytes, body.
fn integration_response(stream: &[u8]) -> Reply {
    let Some((mut reply, at)) = prelude(stream) else {
        return message(502, "Internal Server Error");
    };
    let body = &stream[at..];
    if !body.is_empty() {
        default_content_type(&mut reply);
    }
    reply.body = Body::Full(Bytes::copy_from_slice(body));
    reply
}

/// The status, headers and cookies a prelude sets, and where the body
/// starts after it; `None` when `stream` holds no complete, valid prelude.
fn prelude(stream: &[u8]) -> Option<(Reply, usize)> {
    let at = stream
        .windows(PRELUDE_END.len())
        .position(|w| w == PRELUDE_END)?;
    let Ok(Value::Object(prelude)) = serde_json::from_slice::<Value>(&stream[..at]) else {
        return None;
    };
    Some((head(&prelude), at + PRELUDE_END.len()))
}

/// A body without a Content-Type of its own is bytes.
fn default_content_type(reply: &mut Reply) {
    if !reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        reply
            .headers
            .push(("content-type", "application/octet-stream".into()));
    }
}

/// Maps a function's (buffered) result onto an HTTP response.
fn response(result: &[u8]) -> Reply {
    let value: Value = serde_json::from_slice(result).unwrap_or(Value::Null);
    let Some(obj) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        // Any other value is the body itself.
        return Reply {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            extra_headers: Vec::new(),
            body: Body::Full(Bytes::copy_from_slice(result)),
        };
    };
    let mut reply = head(obj);
    let has_type = reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let body = match obj.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .unwrap_or_default()
            } else {
                s.clone().into_bytes()
            }
        }
        Some(other) => other.to_string().into_bytes(),
    };
    if !has_type && !body.is_empty() {
        reply
            .headers
            .push(("content-type", "application/json".into()));
    }
    reply.body = Body::Full(Bytes::from(body));
    reply
}

/// Status, headers and cookies of a response object (payload format 2.0)
/// or a streamed response's prelude; the body is left empty.
fn head(obj: &serde_json::Map<String, Value>) -> Reply {
    let status = obj
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .unwrap_or(500);
    let mut reply = Reply::empty(status);
    if let Some(headers) = obj.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(name) = static_header(k) {
                reply.headers.push((name, value));
            } else {
                reply.extra_headers.push((k.to_ascii_lowercase(), value));
            }
        }
    }
    if let Some(cookies) = obj.get("cookies").and_then(Value::as_array) {
        for c in cookies.iter().filter_map(Value::as_str) {
            reply
                .extra_headers
                .push(("set-cookie".into(), c.to_owned()));
        }
    }
    reply
}

fn preflight(cors: Option<&Value>, origin: Option<&str>) -> Reply {
    let mut reply = Reply::empty(200);
    if let (Some(cors), Some(origin)) = (cors, origin) {
        add_cors(&mut reply, cors, origin);
        if reply
            .extra_headers
            .iter()
            .any(|(k, _)| k == "access-control-allow-origin")
        {
            let list = |key: &str| cors_list(cors, key);
            if let Some(m) = list("AllowMethods") {
                reply
                    .extra_headers
                    .push(("access-control-allow-methods".into(), m));
            }
            if let Some(h) = list("AllowHeaders") {
                reply
                    .extra_headers
                    .push(("access-control-allow-headers".into(), h));
            }
            if let Some(age) = cors.get("MaxAge").and_then(Value::as_i64) {
                reply
                    .extra_headers
                    .push(("access-control-max-age".into(), age.to_string()));
            }
        }
    }
    reply
}

/// Adds the CORS response headers when `origin` is allowed.
fn add_cors(reply: &mut Reply, cors: &Value, origin: &str) {
    let origins: Vec<&str> = cors
        .get("AllowOrigins")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let allowed = if origins.contains(&"*") {
        "*"
    } else if origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        origin
    } else {
        return;
    };
    reply
        .extra_headers
        .push(("access-control-allow-origin".into(), allowed.to_owned()));
    if cors.get("AllowCredentials").and_then(Value::as_bool) == Some(true) {
        reply
            .extra_headers
            .push(("access-control-allow-credentials".into(), "true".into()));
    }
    if let Some(expose) = cors_list(cors, "ExposeHeaders") {
        reply
            .extra_headers
            .push(("access-control-expose-headers".into(), expose));
    }
}

/// A CORS setting's list as a header value (`a,b`); `None` when empty.
fn cors_list(cors: &Value, key: &str) -> Option<String> {
    cors.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|s| !s.is_empty())
}

fn static_header(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "content-type" => Some("content-type"),
        _ => None,
    }
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({ "Message": text }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_json_bodies() {
        let r = response(br#"{"a":1}"#);
        assert_eq!(r.status, 200);
        assert_eq!(r.body.bytes().map(|b| &b[..]), Some(&br#"{"a":1}"#[..]));
    }

    #[test]
    fn status_objects_map_onto_http() {
        let r = response(
            br#"{"statusCode":201,"headers":{"X-Id":"7","Content-Type":"text/plain"},"body":"aGk=","isBase64Encoded":true,"cookies":["a=1"]}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.body.bytes().map(|b| &b[..]), Some(&b"hi"[..]));
        assert!(r.headers.contains(&("content-type", "text/plain".into())));
        assert!(r.extra_headers.contains(&("x-id".into(), "7".into())));
        assert!(r
            .extra_headers
            .contains(&("set-cookie".into(), "a=1".into())));
    }

    #[test]
    fn cors_only_for_allowed_origins() {
        let cors = json!({"AllowOrigins": ["https://a.example"], "AllowCredentials": true});
        let mut r = Reply::empty(200);
        add_cors(&mut r, &cors, "https://b.example");
        assert!(r.extra_headers.is_empty());
        add_cors(&mut r, &cors, "https://a.example");
        assert_eq!(
            r.extra_headers[0],
            (
                "access-control-allow-origin".into(),
                "https://a.example".into()
            )
        );
    }
}
