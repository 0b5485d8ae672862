//! nimbus's own HTTP API under `/_nimbus/`: health and clock control now;
//! reset and introspection as services grow. Routing only sends a request here
//! when it carries no AWS signal (no `X-Amz-Target`, no SigV4 scope), so no
//! AWS API call can reach these endpoints.

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, Response, StatusCode};
use serde_json::json;

use crate::services::{Services, IMPLEMENTED};

mod clock;
mod lambda;

/// The version reported by `/_nimbus/health` and `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Answers one `/_nimbus/...` request (`body`: the whole request body).
pub fn handle(services: &Services, method: &Method, path: &str, body: &[u8]) -> Response<Bytes> {
    let is_get = method == Method::GET || method == Method::HEAD;
    match path {
        "/_nimbus/health" if is_get => health(services),
        "/_nimbus/health" => not_allowed(method, path, "GET, HEAD"),
        "/_nimbus/clock" if is_get => clock::get(&services.clock),
        "/_nimbus/clock" => not_allowed(method, path, "GET, HEAD"),
        "/_nimbus/clock/advance" if method == Method::POST => clock::advance(&services.clock, body),
        "/_nimbus/clock/advance" => not_allowed(method, path, "POST"),
        "/_nimbus/metrics" if is_get => metrics(services),
        "/_nimbus/metrics" => not_allowed(method, path, "GET, HEAD"),
        "/_nimbus/lambda/environments" if is_get => lambda::environments(&services.lambda),
        "/_nimbus/lambda/environments" => not_allowed(method, path, "GET, HEAD"),
        p if p.starts_with(lambda::CODE_PREFIX) && is_get => lambda::code(&services.lambda, p),
        "/_nimbus/sns/outbox" if is_get => sns_outbox(services),
        "/_nimbus/sns/outbox" => not_allowed(method, path, "GET, HEAD"),
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("nimbus has no endpoint at {}", shorten(path)),
        ),
    }
}

fn health(services: &Services) -> Response<Bytes> {
    let names: Vec<&str> = IMPLEMENTED.iter().map(|s| s.name()).collect();
    let isolation = services.lambda.isolation();
    json_response(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": VERSION,
            "services": names,
            "lambdaIsolation": {
                "namespaces": isolation.namespaces,
                "memory": isolation.memory,
                "uid": isolation.uid,
                "gid": isolation.gid,
                "tmpLimited": isolation.tmp_limited,
                "summary": isolation.summary,
            },
        }),
    )
}

/// How many SNS deliveries are waiting in the outbox (published, not yet
/// delivered nor dead-lettered): tests wait for it to drain.
fn sns_outbox(services: &Services) -> Response<Bytes> {
    match services.sns.pending_deliveries() {
        Ok(pending) => json_response(StatusCode::OK, &json!({ "pending": pending })),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.code, e.message),
    }
}

/// Prometheus text exposition (version 0.0.4) of what nimbus measures.
fn metrics(services: &Services) -> Response<Bytes> {
    let mut text = String::new();
    services.requests.write(&mut text);
    text.push_str(&services.lambda.metrics());
    let mut response = Response::new(Bytes::from(text));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

fn not_allowed(method: &Method, path: &str, allow: &'static str) -> Response<Bytes> {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{method} is not allowed on {path}; use {allow}"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

pub(crate) fn error(status: StatusCode, code: &str, message: String) -> Response<Bytes> {
    json_response(status, &json!({"__type": code, "message": message}))
}

pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Bytes> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Bounds how much of a client-chosen path is echoed back.
fn shorten(path: &str) -> String {
    const MAX: usize = 200;
    if path.len() <= MAX {
        path.to_owned()
    } else {
        let cut = (0..=MAX)
            .rev()
            .find(|&i| path.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}...", &path[..cut])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn services() -> Services {
        let store = nimbus_store::Store::in_memory().unwrap();
        Services::open(
            store,
            "us-east-1",
            &crate::services::ServiceOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn metrics_are_prometheus_text() {
        let response = handle(&services(), &Method::GET, "/_nimbus/metrics", b"");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(text.contains("# TYPE nimbus_lambda_warm_environments gauge"));
        assert!(text.contains("nimbus_lambda_warm_environments 0"));
    }

    #[test]
    fn health_reports_services() {
        let response = handle(&services(), &Method::GET, "/_nimbus/health", b"");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], VERSION);
        assert_eq!(
            body["services"],
            json!([
                "dynamodb",
                "dynamodbstreams",
                "sqs",
                "sns",
                "lambda",
                "logs"
            ])
        );
        // Whatever this machine allows, the summary says it in the words
        // of the start-up log.
        let summary = body["lambdaIsolation"]["summary"].as_str().unwrap();
        if body["lambdaIsolation"]["namespaces"].is_null() {
            assert!(summary.starts_with("functions not isolated: "), "{summary}");
        } else {
            assert!(summary.starts_with("functions isolated: "), "{summary}");
        }
        assert!(["cgroup v1", "cgroup v2", "sampling"]
            .contains(&body["lambdaIsolation"]["memory"].as_str().unwrap()));
    }

    #[test]
    fn unknown_paths_and_methods() {
        let services = services();
        assert_eq!(
            handle(&services, &Method::GET, "/_nimbus/nope", b"").status(),
            StatusCode::NOT_FOUND
        );
        let response = handle(&services, &Method::POST, "/_nimbus/health", b"");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "GET, HEAD");
        let response = handle(&services, &Method::GET, "/_nimbus/clock/advance", b"");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "POST");
        let response = handle(&services, &Method::POST, "/_nimbus/clock", b"{}");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let response = handle(&services, &Method::GET, "/_nimbus/sns/outbox", b"");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body, json!({"pending": 0}));
        let long = format!("/_nimbus/{}", "é".repeat(500));
        assert!(handle(&services, &Method::GET, &long, b"").body().len() < 400);
    }
}
