//! nimbus's own HTTP API under `/_nimbus/`: health now; clock control, reset
//! and introspection as services grow. Routing only sends a request here
//! when it carries no AWS signal (no `X-Amz-Target`, no SigV4 scope), so no
//! AWS API call can reach these endpoints.

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, Response, StatusCode};
use serde_json::json;

use crate::services::IMPLEMENTED;

/// The version reported by `/_nimbus/health` and `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Answers one `/_nimbus/...` request.
pub fn handle(method: &Method, path: &str) -> Response<Bytes> {
    match path {
        "/_nimbus/health" => {
            if method == Method::GET || method == Method::HEAD {
                health()
            } else {
                let mut response = error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    format!("{method} is not allowed on {path}; use GET"),
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("nimbus has no endpoint at {}", shorten(path)),
        ),
    }
}

fn health() -> Response<Bytes> {
    let services: Vec<&str> = IMPLEMENTED.iter().map(|s| s.name()).collect();
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "version": VERSION, "services": services}),
    )
}

fn error(status: StatusCode, code: &str, message: String) -> Response<Bytes> {
    json_response(status, &json!({"__type": code, "message": message}))
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Bytes> {
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

    #[test]
    fn health_reports_services() {
        let response = handle(&Method::GET, "/_nimbus/health");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], VERSION);
        assert_eq!(body["services"], json!(["dynamodb", "sqs"]));
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(
            handle(&Method::GET, "/_nimbus/nope").status(),
            StatusCode::NOT_FOUND
        );
        let response = handle(&Method::POST, "/_nimbus/health");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "GET, HEAD");
        let long = format!("/_nimbus/{}", "é".repeat(500));
        assert!(handle(&Method::GET, &long).body().len() < 400);
    }
}
