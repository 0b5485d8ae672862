//! Reading request bodies under a size limit.
//!
//! Two checks, because a body can announce its size or not: a declared
//! `Content-Length` over the limit is refused before a byte is read, and a
//! chunked (or HTTP/2) body is read through a counting limit that stops as
//! soon as it is exceeded. Neither lets a client make the server buffer more
//! than the limit.

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

/// The largest request body nimbus accepts: above every AWS payload limit of
/// the JSON services (DynamoDB batch writes are at most 16 MB), far below
/// anything that strains memory.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug)]
pub enum BodyError {
    /// The body is (or declares itself) larger than the limit.
    TooLarge,
    /// The connection failed mid-body (client gone, malformed chunking).
    Read(String),
}

/// True when the request declares a `Content-Length` above `limit`.
pub fn declared_too_large(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
}

/// Reads the whole body, failing as soon as it exceeds `limit` bytes.
pub async fn collect(body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn content_length_check() {
        let mut headers = HeaderMap::new();
        assert!(!declared_too_large(&headers, 10));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(!declared_too_large(&headers, 10));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("11"));
        assert!(declared_too_large(&headers, 10));
        headers.insert(
            CONTENT_LENGTH,
            HeaderValue::from_static("99999999999999999999999"),
        );
        // Unparseable lengths are left to hyper, which rejects them itself.
        assert!(!declared_too_large(&headers, 10));
    }
}
