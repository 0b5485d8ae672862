//! The `application/vnd.amazon.eventstream` framing InvokeWithResponseStream
//! answers in: each message is a prelude (total length, headers length, CRC
//! of those eight bytes), string headers, a payload, and a CRC of everything
//! before it. SDKs check both CRCs.

/// One event-stream message with the standard event headers.
pub fn event_message(event_type: &str, content_type: Option<&str>, payload: &[u8]) -> Vec<u8> {
    let mut headers = Vec::new();
    push_header(&mut headers, ":event-type", event_type);
    push_header(&mut headers, ":message-type", "event");
    if let Some(ct) = content_type {
        push_header(&mut headers, ":content-type", ct);
    }
    let total = 12 + headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// A string header: name length (u8), name, type 7, value length (u16), value.
fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(7);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_check_out() {
        let m = event_message("PayloadChunk", Some("application/octet-stream"), b"hello");
        let total = u32::from_be_bytes(m[0..4].try_into().unwrap()) as usize;
        assert_eq!(total, m.len());
        let headers_len = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        assert_eq!(
            u32::from_be_bytes(m[8..12].try_into().unwrap()),
            crc32fast::hash(&m[0..8])
        );
        assert_eq!(&m[12 + headers_len..total - 4], b"hello");
        assert_eq!(
            u32::from_be_bytes(m[total - 4..].try_into().unwrap()),
            crc32fast::hash(&m[..total - 4])
        );
        assert_eq!(m[12] as usize, ":event-type".len());
    }
}
