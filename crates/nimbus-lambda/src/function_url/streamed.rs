//! A function URL's response in RESPONSE_STREAM mode while the function
//! still writes it: the status and headers go out once known (at once, or
//! after the prelude `awslambda.HttpResponseStream.from` writes: JSON, then
//! 8 NUL bytes), then each chunk as it arrives. A function that fails after
//! that has its response cut off, the one way left to tell the client.

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::{default_content_type, message, prelude, HTTP_INTEGRATION, PRELUDE_END};
use crate::binding::{Aborted, Body};
use crate::exec::{InvokeResult, ResponseStream};
use crate::Reply;

/// Longest prelude read before giving up on it: far above any real
/// status-and-headers document, and a bound on what is held in memory.
const MAX_PRELUDE_BYTES: usize = 1024 * 1024;
/// Chunks held for a client that reads slowly; past them the function's
/// writes wait.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The reply for a streaming function: its head now, its body streamed.
pub(super) async fn reply(mut stream: ResponseStream) -> Reply {
    let (mut reply, first) = if stream.content_type.as_deref() == Some(HTTP_INTEGRATION) {
        match read_prelude(&mut stream).await {
            Some(head) => head,
            // Dropping the stream lets the function run on, unheard.
            None => return message(502, "Internal Server Error"),
        }
    } else {
        let mut reply = Reply::empty(200);
        if let Some(content_type) = &stream.content_type {
            reply.headers.push(("content-type", content_type.clone()));
        }
        (reply, Bytes::new())
    };
    default_content_type(&mut reply);
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(forward(first, stream, tx));
    reply.body = Body::Stream(rx);
    reply
}

/// Reads the stream up to the end of its prelude: the head it sets, and
/// the bytes of the body that came with it. `None` when the stream ends or
/// fails first, or the prelude is not a JSON object.
async fn read_prelude(stream: &mut ResponseStream) -> Option<(Reply, Bytes)> {
    let mut read = BytesMut::new();
    loop {
        let chunk = stream.chunk().await?;
        // Only the tail of what was read before can start the separator.
        let from = read.len().saturating_sub(PRELUDE_END.len() - 1);
        read.extend_from_slice(&chunk);
        if let Some((head, at)) = prelude_from(&read, from) {
            return head.map(|head| (head, read.split_off(at).freeze()));
        }
        if read.len() > MAX_PRELUDE_BYTES {
            return None;
        }
    }
}

/// [`prelude`] once the separator is in `read` (looked for from `from`
/// on): `Some(None)` for a complete but invalid prelude.
fn prelude_from(read: &[u8], from: usize) -> Option<(Option<Reply>, usize)> {
    read[from..]
        .windows(PRELUDE_END.len())
        .position(|w| w == PRELUDE_END)?;
    match prelude(read) {
        Some((head, at)) => Some((Some(head), at)),
        None => Some((None, 0)),
    }
}

/// Copies the stream into the response body; a function error at the end
/// cuts the response off. A client that went away stops the copy.
async fn forward(
    first: Bytes,
    mut stream: ResponseStream,
    tx: mpsc::Sender<Result<Bytes, Aborted>>,
) {
    if !first.is_empty() && tx.send(Ok(first)).await.is_err() {
        return;
    }
    while let Some(chunk) = stream.chunk().await {
        if tx.send(Ok(chunk)).await.is_err() {
            return;
        }
    }
    if let InvokeResult::FunctionError(error) = stream.finish().await.result {
        let _ = tx
            .send(Err(Aborted(String::from_utf8_lossy(&error).into_owned())))
            .await;
    }
}
