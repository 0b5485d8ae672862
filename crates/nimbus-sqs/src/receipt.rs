//! Receipt handles: opaque to clients, but they name the queue, the message
//! and which receive of it they came from, so a handle from an earlier
//! receive is recognised as stale.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// What a receipt handle says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub queue_id: u64,
    pub seq: u64,
    pub receive_count: u32,
}

const MAGIC: &[u8; 4] = b"nRH1";

impl Receipt {
    /// The handle text: base64url of magic | queue id | sequence | receive
    /// count | 16 random bytes (so two handles never look alike).
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(40);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.queue_id.to_be_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(&self.receive_count.to_be_bytes());
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `None` for anything this server did not issue.
    pub fn decode(handle: &str) -> Option<Receipt> {
        let bytes = URL_SAFE_NO_PAD.decode(handle).ok()?;
        if bytes.len() != 40 || &bytes[..4] != MAGIC {
            return None;
        }
        Some(Receipt {
            queue_id: u64::from_be_bytes(bytes[4..12].try_into().ok()?),
            seq: u64::from_be_bytes(bytes[12..20].try_into().ok()?),
            receive_count: u32::from_be_bytes(bytes[20..24].try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let r = Receipt {
            queue_id: 3,
            seq: 99,
            receive_count: 2,
        };
        let handle = r.encode();
        assert_eq!(Receipt::decode(&handle), Some(r));
        assert_ne!(handle, r.encode());
        assert_eq!(Receipt::decode("garbage"), None);
        assert_eq!(Receipt::decode(""), None);
        assert_eq!(Receipt::decode(&handle[..handle.len() - 2]), None);
    }
}
