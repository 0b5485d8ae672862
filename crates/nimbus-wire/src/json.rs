//! awsJson 1.0 / 1.1 framing: content types, the error body shape, and the
//! `x-amz-crc32` checksum DynamoDB clients verify.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::error::AwsError;
use crate::headers;
use crate::route::Protocol;

/// The two awsJson versions. They differ on the wire only in the content type
/// (and in which services use them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonVersion {
    V1_0,
    V1_1,
}

impl JsonVersion {
    pub fn content_type(self) -> &'static str {
        match self {
            JsonVersion::V1_0 => "application/x-amz-json-1.0",
            JsonVersion::V1_1 => "application/x-amz-json-1.1",
        }
    }

    /// The version a request declares in its `Content-Type`, if it is one.
    /// Parameters such as `; charset=utf-8` are ignored.
    pub fn from_content_type(content_type: &str) -> Option<JsonVersion> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case("application/x-amz-json-1.0") {
            Some(JsonVersion::V1_0)
        } else if essence.eq_ignore_ascii_case("application/x-amz-json-1.1") {
            Some(JsonVersion::V1_1)
        } else {
            None
        }
    }

    /// The version a service's protocol uses. REST protocols have no awsJson
    /// version; their JSON errors use 1.1's content type until the restJson
    /// renderer exists.
    pub fn for_protocol(protocol: Protocol) -> JsonVersion {
        match protocol {
            // Query services answer in XML; their JSON-framed errors (from
            // before the service is known) use 1.0 like everything else.
            Protocol::AwsJson1_0 | Protocol::AwsQuery => JsonVersion::V1_0,
            Protocol::AwsJson1_1 | Protocol::RestJson1 => JsonVersion::V1_1,
        }
    }
}

/// Whether a response carries `x-amz-crc32`. DynamoDB sends it and its SDKs
/// verify it when present; other services do not send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crc32 {
    Include,
    Omit,
}

/// The awsJson error body: `{"__type":"ns#Code","message":"...", ...extra}`.
/// `extra` cannot override `__type` or `message`.
pub fn error_body(err: &AwsError) -> Vec<u8> {
    let mut object = serde_json::Map::new();
    object.insert("__type".into(), err.type_name().into());
    if !err.message.is_empty() {
        object.insert("message".into(), err.message.clone().into());
    }
    if let Some(extra) = &err.extra {
        for (key, value) in extra {
            object.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    // Serialising a Map of JSON values cannot fail; the fallback keeps this total.
    serde_json::to_vec(&serde_json::Value::Object(object)).unwrap_or_else(|_| b"{}".to_vec())
}

/// CRC32 (IEEE) of a response body, as DynamoDB sends in `x-amz-crc32`
/// (decimal, unsigned).
pub fn crc32(body: &[u8]) -> u32 {
    crc32fast::hash(body)
}

/// A JSON response with the right content type and, if asked, `x-amz-crc32`.
/// The caller adds `x-amzn-RequestId`, which every response carries.
pub fn response(
    status: StatusCode,
    body: Vec<u8>,
    version: JsonVersion,
    crc: Crc32,
) -> Response<Bytes> {
    let checksum = crc32(&body);
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(version.content_type()),
    );
    if crc == Crc32::Include {
        headers.insert(headers::CRC32, HeaderValue::from(checksum));
    }
    response
}

/// An error rendered in the awsJson shape with its HTTP status. A status
/// outside 400..=599 is a bug in the caller; it becomes 500 rather than
/// reaching the client as a "successful" error.
pub fn error_response(err: &AwsError, version: JsonVersion, crc: Crc32) -> Response<Bytes> {
    let status = StatusCode::from_u16(err.status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = response(status, error_body(err), version, crc);
    if let Some(value) = err
        .query_error()
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        response.headers_mut().insert(headers::QUERY_ERROR, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shape() {
        let err = AwsError::new(
            400,
            "com.amazonaws.dynamodb.v20120810",
            "ResourceNotFoundException",
            "gone",
        )
        .with_extra("Item", serde_json::json!({"pk": {"S": "a"}}))
        .with_extra("__type", serde_json::json!("ignored"));
        let body: serde_json::Value = serde_json::from_slice(&error_body(&err)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                "message": "gone",
                "Item": {"pk": {"S": "a"}},
            })
        );
    }

    #[test]
    fn empty_message_is_omitted() {
        let err = AwsError::serialization("");
        assert_eq!(
            error_body(&err),
            br#"{"__type":"com.amazon.coral.service#SerializationException"}"#
        );
    }

    #[test]
    fn crc32_matches_known_value() {
        // The CRC32 of "{}" as DynamoDB sends for an empty JSON object.
        assert_eq!(crc32(b"{}"), 2745614147);
    }

    #[test]
    fn error_response_headers() {
        let resp = error_response(
            &AwsError::missing_authentication_token(),
            JsonVersion::V1_0,
            Crc32::Include,
        );
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/x-amz-json-1.0");
        let crc = crc32(resp.body()).to_string();
        assert_eq!(resp.headers()[headers::CRC32], crc.as_str());

        let resp = error_response(
            &AwsError::new(200, "", "Weird", "x"),
            JsonVersion::V1_1,
            Crc32::Omit,
        );
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(resp.headers().get(headers::CRC32).is_none());
    }

    #[test]
    fn query_error_header_only_when_set() {
        let err = AwsError::new(400, "com.amazonaws.sqs", "QueueDoesNotExist", "gone")
            .with_query_error("AWS.SimpleQueueService.NonExistentQueue", true);
        let resp = error_response(&err, JsonVersion::V1_0, Crc32::Omit);
        assert_eq!(
            resp.headers()[headers::QUERY_ERROR],
            "AWS.SimpleQueueService.NonExistentQueue;Sender"
        );
        let resp = error_response(
            &AwsError::missing_authentication_token(),
            JsonVersion::V1_0,
            Crc32::Omit,
        );
        assert!(resp.headers().get(headers::QUERY_ERROR).is_none());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            JsonVersion::from_content_type("application/x-amz-json-1.1; charset=utf-8"),
            Some(JsonVersion::V1_1)
        );
        assert_eq!(JsonVersion::from_content_type("application/json"), None);
        assert_eq!(
            JsonVersion::for_protocol(Protocol::AwsJson1_0),
            JsonVersion::V1_0
        );
    }
}
