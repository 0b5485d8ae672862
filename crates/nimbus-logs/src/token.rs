//! Pagination tokens. Each is opaque to clients but plain to us: a
//! position in a key order, hex-encoded, so a token cannot smuggle bytes
//! that break key construction, and a malformed one is detected.

use crate::error::{LogsError, Result};

/// A name-ordered page's token: the last name returned.
pub fn encode_name(name: &str) -> String {
    hex::encode(name.as_bytes())
}

pub fn decode_name(token: &str) -> Result<String> {
    hex::decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(LogsError::invalid_next_token)
}

/// A key-ordered page's token: the raw key bytes after a fixed prefix.
pub fn encode_bytes(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

pub fn decode_bytes(token: &str, len: usize) -> Result<Vec<u8>> {
    hex::decode(token)
        .ok()
        .filter(|b| b.len() == len)
        .ok_or_else(LogsError::invalid_next_token)
}
