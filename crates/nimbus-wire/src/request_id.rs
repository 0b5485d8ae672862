//! Request ids for `x-amzn-RequestId`.
//!
//! Every response carries one, so generation must be cheap: instead of asking
//! the OS for randomness per request, one random seed is drawn at start-up and
//! mixed with a counter. Ids are unique within a process (the mixer is a
//! bijection of the counter) and unpredictable enough for correlation ids,
//! which is all they are.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Generator {
    seed: [u64; 2],
    counter: AtomicU64,
}

fn generator() -> &'static Generator {
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    GENERATOR.get_or_init(|| {
        let (hi, lo) = uuid::Uuid::new_v4().as_u64_pair();
        Generator {
            seed: [hi, lo],
            counter: AtomicU64::new(0),
        }
    })
}

/// A fresh request id, formatted as a UUID (v4 layout), as most AWS services
/// send them.
pub fn next() -> String {
    let g = generator();
    let n = g.counter.fetch_add(1, Ordering::Relaxed);
    let hi = splitmix64(g.seed[0].wrapping_add(n));
    let lo = splitmix64(g.seed[1] ^ n.rotate_left(32));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// The SplitMix64 finaliser: a fast bijective mixer of 64-bit values.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_uuids() {
        let ids: HashSet<String> = (0..10_000).map(|_| next()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(10) {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
        }
    }
}
