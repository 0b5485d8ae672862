//! restJson1 framing shared by the REST services (Lambda today; API Gateway
//! and Scheduler later): how an [`AwsError`] travels. The error name goes in
//! the `x-amzn-ErrorType` header, which every SDK reads first; the body is a
//! JSON object with `Type` (User or Service fault) and `message`, plus any
//! extra members the error carries (Lambda's `Reason` on throttles).

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::error::AwsError;

/// Header naming the error on restJson1 responses.
pub const ERROR_TYPE: &str = "x-amzn-errortype";

/// The JSON body of a restJson1 error.
pub fn error_body(err: &AwsError) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    if let Some(extra) = &err.extra {
        body.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let fault = if err.status >= 500 { "Service" } else { "User" };
    body.insert("Type".into(), fault.into());
    body.insert("message".into(), err.message.clone().into());
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A complete restJson1 error response.
pub fn error_response(err: &AwsError) -> Response<Bytes> {
    let status = StatusCode::from_u16(err.status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Bytes::from(error_body(err)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(code) = HeaderValue::from_str(&err.code) {
        headers.insert(ERROR_TYPE, code);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shape() {
        let err = AwsError::new(
            404,
            "",
            "ResourceNotFoundException",
            "Function not found: f",
        )
        .with_extra("Reason", serde_json::json!("x"));
        let response = error_response(&err);
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()[ERROR_TYPE], "ResourceNotFoundException");
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"Type": "User", "message": "Function not found: f", "Reason": "x"})
        );
        let err = AwsError::new(500, "", "ServiceException", "boom");
        let body: serde_json::Value = serde_json::from_slice(error_response(&err).body()).unwrap();
        assert_eq!(body["Type"], "Service");
    }
}
