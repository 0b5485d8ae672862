//! Store key layout. Every key starts with `logs/`.
//!
//! - `logs/g/ACCOUNT\0REGION\0NAME` -> [`GroupRecord`](crate::model::GroupRecord)
//!   JSON. Group names cannot hold `\0`, so groups of one account and region
//!   sort by name and a name prefix is a key prefix.
//! - `logs/s/GID NAME` -> [`StreamRecord`](crate::model::StreamRecord) JSON
//!   (GID: the group's id, 8 bytes big-endian), streams by name.
//! - `logs/t/GID TS SID SEQ` -> event: ingestion time (8 bytes) + message.
//!   The group-wide time index: FilterLogEvents scans a time range of a
//!   whole group in timestamp order, interleaving streams, in one range read.
//! - `logs/e/GID SID TS SEQ` -> empty: the per-stream time index, for
//!   GetLogEvents; each entry names its `logs/t/` key.
//! - `logs/next-id` -> the next group/stream id (8 bytes big-endian).
//!
//! TS is the event timestamp with its sign bit flipped, so negative times
//! sort first; SEQ is the stream's event counter, so events with equal
//! timestamps keep their arrival order and never collide.

pub const GROUP: &[u8] = b"logs/g/";
pub const STREAM: &[u8] = b"logs/s/";
pub const BY_TIME: &[u8] = b"logs/t/";
pub const BY_STREAM: &[u8] = b"logs/e/";
pub const NEXT_ID: &[u8] = b"logs/next-id";

/// Length of an event key after its 7-byte tag: four u64s.
pub const EVENT_KEY_LEN: usize = 7 + 32;

pub fn ts_bytes(ts: i64) -> [u8; 8] {
    ((ts as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn ts_from(bytes: &[u8]) -> i64 {
    (u64_from(bytes) ^ (1 << 63)) as i64
}

pub fn u64_from(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(b)
}

/// Prefix of every group of one account and region.
pub fn groups_prefix(account: &str, region: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(GROUP.len() + account.len() + region.len() + 2);
    k.extend_from_slice(GROUP);
    k.extend_from_slice(account.as_bytes());
    k.push(0);
    k.extend_from_slice(region.as_bytes());
    k.push(0);
    k
}

pub fn group(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = groups_prefix(account, region);
    k.extend_from_slice(name.as_bytes());
    k
}

pub fn streams_prefix(gid: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(STREAM.len() + 8 + 32);
    k.extend_from_slice(STREAM);
    k.extend_from_slice(&gid.to_be_bytes());
    k
}

pub fn stream(gid: u64, name: &str) -> Vec<u8> {
    let mut k = streams_prefix(gid);
    k.extend_from_slice(name.as_bytes());
    k
}

/// `logs/t/GID` followed by `rest` (any prefix of TS SID SEQ).
pub fn by_time(gid: u64, rest: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(EVENT_KEY_LEN);
    k.extend_from_slice(BY_TIME);
    k.extend_from_slice(&gid.to_be_bytes());
    for part in rest {
        k.extend_from_slice(part);
    }
    k
}

/// `logs/e/GID` followed by `rest` (any prefix of SID TS SEQ).
pub fn by_stream(gid: u64, rest: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(EVENT_KEY_LEN);
    k.extend_from_slice(BY_STREAM);
    k.extend_from_slice(&gid.to_be_bytes());
    for part in rest {
        k.extend_from_slice(part);
    }
    k
}

/// Writes both event keys into reusable buffers (no allocation once they
/// have grown to size): the time-index key and the stream-index key.
pub fn event_keys(
    gid: u64,
    sid: u64,
    ts: i64,
    seq: u64,
    time_key: &mut Vec<u8>,
    stream_key: &mut Vec<u8>,
) {
    let (g, s, t, q) = (
        gid.to_be_bytes(),
        sid.to_be_bytes(),
        ts_bytes(ts),
        seq.to_be_bytes(),
    );
    time_key.clear();
    time_key.extend_from_slice(BY_TIME);
    for part in [g, t, s, q] {
        time_key.extend_from_slice(&part);
    }
    stream_key.clear();
    stream_key.extend_from_slice(BY_STREAM);
    for part in [g, s, t, q] {
        stream_key.extend_from_slice(&part);
    }
}

/// The parts of a `logs/t/` key: (ts, sid, seq).
pub fn parse_time_key(key: &[u8]) -> Option<(i64, u64, u64)> {
    (key.len() == EVENT_KEY_LEN).then(|| {
        (
            ts_from(&key[15..23]),
            u64_from(&key[23..31]),
            u64_from(&key[31..39]),
        )
    })
}

/// The parts of a `logs/e/` key: (sid, ts, seq).
pub fn parse_stream_key(key: &[u8]) -> Option<(u64, i64, u64)> {
    (key.len() == EVENT_KEY_LEN).then(|| {
        (
            u64_from(&key[15..23]),
            ts_from(&key[23..31]),
            u64_from(&key[31..39]),
        )
    })
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // All 0xff: no upper bound short of the end of the keyspace.
    vec![0xff; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_numbers() {
        let ts = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in ts.windows(2) {
            assert!(ts_bytes(pair[0]) < ts_bytes(pair[1]));
            assert_eq!(ts_from(&ts_bytes(pair[0])), pair[0]);
        }
    }

    #[test]
    fn event_keys_round_trip() {
        let (mut t, mut s) = (Vec::new(), Vec::new());
        event_keys(7, 9, -3, 11, &mut t, &mut s);
        assert_eq!(parse_time_key(&t), Some((-3, 9, 11)));
        assert_eq!(parse_stream_key(&s), Some((9, -3, 11)));
        assert!(t.starts_with(&by_time(7, &[])));
        assert!(s.starts_with(&by_stream(7, &[&9u64.to_be_bytes()])));
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"ab"), b"ac".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
    }
}
