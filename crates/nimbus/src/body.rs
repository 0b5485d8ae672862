//! Reading request bodies under a size limit, and draining the ones we
//! refuse; and the bodies responses carry.
//!
//! Two checks, because a body can announce its size or not: a declared
//! `Content-Length` over the limit is refused before a byte is read, and a
//! chunked (or HTTP/2) body is read frame by frame and refused as soon as it
//! passes the limit. Neither lets a client make the server buffer more than
//! the limit.
//!
//! A refused (or unread) body is then drained in the background, up to a
//! bound, without buffering. Many HTTP/1.1 clients (botocore's among them)
//! send the whole body before reading the response: if the server closed
//! the connection with their bytes unread, they would see a broken pipe or
//! a reset instead of the 413 or the error we answered.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::HeaderMap;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Frame, Incoming};
use nimbus_lambda::binding::Aborted;
use tokio::sync::mpsc;

/// The largest request body nimbus accepts: above every AWS payload limit of
/// the JSON services (DynamoDB batch writes are at most 16 MB), far below
/// anything that strains memory.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Most bytes of an unwanted body read and discarded so the client gets our
/// answer. Beyond this the connection is simply closed.
const DRAIN_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Longest time spent draining one unwanted body (a slow client must not
/// hold a task forever).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A response body: whole (every AWS operation), or a Lambda response
/// streamed while its function writes it. An enum rather than a boxed body,
/// so the whole bodies of the DynamoDB and SQS hot paths cost nothing more.
pub type ResponseBody = Either<Full<Bytes>, Streamed>;

/// A whole response body.
pub fn full(bytes: Bytes) -> ResponseBody {
    Either::Left(Full::new(bytes))
}

/// A body sent as its pieces come off a channel (HTTP/1.1 chunks, HTTP/2
/// DATA frames); an error cuts the response off.
pub struct Streamed(pub mpsc::Receiver<Result<Bytes, Aborted>>);

impl Body for Streamed {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }
}

#[derive(Debug)]
pub enum BodyError {
    /// The body is (or declares itself) larger than the limit.
    TooLarge,
    /// The connection failed mid-body (client gone, malformed chunking).
    Read(String),
}

/// The `Content-Length` a request declares, if any and valid.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// True when the request declares a `Content-Length` above `limit`.
pub fn declared_too_large(headers: &HeaderMap, limit: usize) -> bool {
    declared_length(headers).is_some_and(|len| len > limit as u64)
}

/// Reads the whole body, failing as soon as it exceeds `limit` bytes. The
/// body is borrowed so that, on failure, the caller can still drain it.
pub async fn collect(body: &mut Incoming, limit: usize) -> Result<Bytes, BodyError> {
    // Most requests arrive in one frame: keep it as is, copy only when a
    // second frame arrives.
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing we use
        };
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        match (&mut joined, first.take()) {
            (Some(buf), _) => buf.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(previous)) => {
                let mut buf = BytesMut::with_capacity(previous.len() + data.len());
                buf.extend_from_slice(&previous);
                buf.extend_from_slice(&data);
                joined = Some(buf);
            }
        }
    }
    Ok(match joined {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// Reads and discards what is left of `body` on a background task, up to
/// [`DRAIN_MAX_BYTES`] and [`DRAIN_TIMEOUT`]. Does nothing for a body that is
/// already complete, or one declared too large to be worth draining (the
/// connection is then closed, as it would be anyway).
pub fn drain_in_background(body: Incoming, declared: Option<u64>) {
    if body.is_end_stream() || declared.is_some_and(|len| len > DRAIN_MAX_BYTES) {
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, discard(body)).await;
    });
}

async fn discard(mut body: Incoming) {
    let mut total = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            total += data.len() as u64;
            if total > DRAIN_MAX_BYTES {
                return;
            }
        }
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
        assert_eq!(declared_length(&headers), Some(10));
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
