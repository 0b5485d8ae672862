//! Where DynamoDB's data lives in the ordered key-value store.
//!
//! Keyspaces, each keyed by a one-byte tag so they never interleave:
//!
//! - `T` account `/` region `/` table name -> the table's definition (JSON).
//! - `C` table number (u64 BE) -> the table's item count and size (stats).
//! - `I` table number (u64 BE) | hash (u64 BE) | pk length (u16 BE) | pk | sk
//!   -> stored item.
//! - `G` table number (u64 BE) | index number (u32 BE) | hash (u64 BE) |
//!   index pk length (u16 BE) | index pk | esc(index sk) | esc(table pk) |
//!   table sk -> the item as the index projects it, stored like an item.
//!   `esc` escapes 0x00 as 0x00 0xFF and ends with 0x00 0x01, which keeps
//!   byte order and makes the component self-delimiting, so entries of one
//!   index partition order by index sort key, then by table key, and two
//!   items with equal index keys get distinct entries.
//! - `g` table number (u64 BE) | index number (u32 BE) -> the index's item
//!   count and size (stats, like `C`).
//! - `N` -> the next table number (u64 BE).
//! - `X` account `/` region `/` ClientRequestToken -> a TransactWriteItems
//!   token: expiry (ms since the epoch, u64 BE) then the request's 128-bit
//!   hash.
//! - `x` expiry (u64 BE) | token key -> empty: tokens in expiry order, so
//!   expired ones are swept without scanning live ones.
//!
//! Invariants:
//! - A table number is never reused, so items of a deleted table can never
//!   appear in a table created later under the same name.
//! - Items of one partition are contiguous and ordered by sort key the way
//!   DynamoDB orders them (numbers numerically, strings and binaries by
//!   unsigned bytes), so a Query is one range scan.
//! - Partitions are ordered by a stable 64-bit hash of the partition key, so
//!   a parallel Scan segment is one contiguous range of hashes.
//!
//! A stored item value is `u32 LE item size` followed by the item as
//! DynamoDB JSON; reads that need neither projection nor filtering splice
//! those bytes into the response unparsed.

use std::ops::Bound;

use crate::model::keycodec::encode_key_component;
use crate::model::AttributeValue;

pub const TABLE_TAG: u8 = b'T';
pub const STATS_TAG: u8 = b'C';
pub const ITEM_TAG: u8 = b'I';
pub const NEXT_TABLE_NUMBER_KEY: &[u8] = b"N";
pub const INDEX_TAG: u8 = b'G';
pub const INDEX_STATS_TAG: u8 = b'g';
pub const TOKEN_TAG: u8 = b'X';
pub const TOKEN_EXPIRY_TAG: u8 = b'x';

/// Key of a table definition.
pub fn table_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + account.len() + region.len() + name.len());
    k.push(TABLE_TAG);
    k.extend_from_slice(account.as_bytes());
    k.push(b'/');
    k.extend_from_slice(region.as_bytes());
    k.push(b'/');
    k.extend_from_slice(name.as_bytes());
    k
}

/// Range of table-definition keys of one account and region.
pub fn table_prefix(account: &str, region: &str) -> Vec<u8> {
    let mut k = table_key(account, region, "");
    k.shrink_to_fit();
    k
}

/// `tag` then a number (u64 BE): the shape of every per-table (or
/// per-backup) key and prefix.
pub fn numbered_key(tag: u8, number: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = tag;
    k[1..].copy_from_slice(&number.to_be_bytes());
    k
}

pub fn stats_key(table_number: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = STATS_TAG;
    k[1..].copy_from_slice(&table_number.to_be_bytes());
    k
}

/// Prefix shared by every item of one table.
pub fn items_prefix(table_number: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = ITEM_TAG;
    k[1..].copy_from_slice(&table_number.to_be_bytes());
    k
}

/// Prefix shared by every entry of every index of one table.
pub fn table_indexes_prefix(table_number: u64) -> [u8; 9] {
    let mut k = items_prefix(table_number);
    k[0] = INDEX_TAG;
    k
}

/// Prefix shared by every entry of one index.
pub fn index_prefix(table_number: u64, index: u32) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[..9].copy_from_slice(&table_indexes_prefix(table_number));
    k[9..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Key of one index's stats.
pub fn index_stats_key(table_number: u64, index: u32) -> [u8; 13] {
    let mut k = index_prefix(table_number, index);
    k[0] = INDEX_STATS_TAG;
    k
}

/// Prefix of every index stats key of one table.
pub fn table_index_stats_prefix(table_number: u64) -> [u8; 9] {
    let mut k = items_prefix(table_number);
    k[0] = INDEX_STATS_TAG;
    k
}

/// Prefix of one index partition.
pub fn index_partition_prefix(table_number: u64, index: u32, pk: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(13 + 8 + 2 + pk.len() + 32);
    k.extend_from_slice(&index_prefix(table_number, index));
    k.extend_from_slice(&partition_hash(pk).to_be_bytes());
    k.extend_from_slice(&(pk.len() as u16).to_be_bytes());
    k.extend_from_slice(pk);
    k
}

/// Appends `component` escaped, without the terminator: a prefix of the
/// escaped form of every value that starts with `component`.
pub fn escape_body(component: &[u8], out: &mut Vec<u8>) {
    for &b in component {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
}

/// Appends `component` escaped and terminated.
pub fn escape(component: &[u8], out: &mut Vec<u8>) {
    escape_body(component, out);
    out.extend_from_slice(&[0, 1]);
}

/// Full key of an index entry.
pub fn index_entry_key(
    table_number: u64,
    index: u32,
    index_pk: &[u8],
    index_sk: Option<&[u8]>,
    table_pk: &[u8],
    table_sk: Option<&[u8]>,
) -> Vec<u8> {
    let mut k = index_partition_prefix(table_number, index, index_pk);
    if let Some(sk) = index_sk {
        escape(sk, &mut k);
    }
    escape(table_pk, &mut k);
    if let Some(sk) = table_sk {
        k.extend_from_slice(sk);
    }
    k
}

/// Key of a TransactWriteItems ClientRequestToken.
pub fn token_key(account: &str, region: &str, token: &str) -> Vec<u8> {
    let mut k = table_key(account, region, token);
    k[0] = TOKEN_TAG;
    k
}

/// Entry of the token expiry index.
pub fn token_expiry_key(expires_ms: u64, token_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + token_key.len());
    k.push(TOKEN_EXPIRY_TAG);
    k.extend_from_slice(&expires_ms.to_be_bytes());
    k.extend_from_slice(token_key);
    k
}

/// Stable hash of an encoded partition key: it decides scan order and
/// parallel-scan segments, and is stored on disk, so it must never change.
pub fn partition_hash(pk: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(pk)
}

/// Encodes a key attribute for storage; `None` when its type cannot be a key.
pub fn encode_component(v: &AttributeValue) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    encode_key_component(v, &mut out).then_some(out)
}

/// Prefix of one partition: every item with this partition key.
pub fn partition_prefix(table_number: u64, pk: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + 8 + 2 + pk.len() + 16);
    k.extend_from_slice(&items_prefix(table_number));
    k.extend_from_slice(&partition_hash(pk).to_be_bytes());
    // The partition key is at most 2048 bytes, so u16 always fits.
    k.extend_from_slice(&(pk.len() as u16).to_be_bytes());
    k.extend_from_slice(pk);
    k
}

/// Full storage key of an item.
pub fn item_key(table_number: u64, pk: &[u8], sk: Option<&[u8]>) -> Vec<u8> {
    let mut k = partition_prefix(table_number, pk);
    if let Some(sk) = sk {
        k.extend_from_slice(sk);
    }
    k
}

/// The key range of parallel-scan segment `segment` of `total`: the hashes
/// `[segment * 2^64 / total, (segment + 1) * 2^64 / total)`.
pub fn segment_bounds(table_number: u64, segment: u32, total: u32) -> (Vec<u8>, Bound<Vec<u8>>) {
    segment_bounds_in(&items_prefix(table_number), segment, total)
}

/// [`segment_bounds`] of any keyspace whose keys are `prefix` then a
/// partition hash: a table's items or one index's entries.
pub fn segment_bounds_in(prefix: &[u8], segment: u32, total: u32) -> (Vec<u8>, Bound<Vec<u8>>) {
    let span = 1u128 << 64;
    let lo = (segment as u128 * span / total as u128) as u64;
    let hi = (segment as u128 + 1) * span / total as u128;
    let mut start = prefix.to_vec();
    start.extend_from_slice(&lo.to_be_bytes());
    let end = if hi >= span {
        Bound::Excluded(prefix_end(prefix))
    } else {
        let mut e = prefix.to_vec();
        e.extend_from_slice(&(hi as u64).to_be_bytes());
        Bound::Excluded(e)
    };
    (start, end)
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
    // All 0xff: no finite upper bound; callers use an unbounded range then.
    vec![0xff; prefix.len() + 1]
}

/// Stored value: `u32 LE size` then JSON.
pub fn encode_stored(size: usize, json: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + json.len());
    v.extend_from_slice(&(size as u32).to_le_bytes());
    v.extend_from_slice(json);
    v
}

/// Splits a stored value into its item size and JSON.
pub fn decode_stored(value: &[u8]) -> (usize, &[u8]) {
    if value.len() < 4 {
        return (0, value);
    }
    let size = u32::from_le_bytes([value[0], value[1], value[2], value[3]]) as usize;
    (size, &value[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key space of the crate starts with its own tag byte: two
    /// features sharing one would read each other's keys.
    #[test]
    fn key_tags_are_distinct() {
        let tags = [
            ("table", TABLE_TAG),
            ("stats", STATS_TAG),
            ("item", ITEM_TAG),
            ("next table number", NEXT_TABLE_NUMBER_KEY[0]),
            ("index", INDEX_TAG),
            ("index stats", INDEX_STATS_TAG),
            ("token", TOKEN_TAG),
            ("token expiry", TOKEN_EXPIRY_TAG),
            ("ttl state", crate::ttl::TTL_STATE_TAG),
            ("expiry", crate::ttl::EXPIRY_TAG),
            ("stream", crate::streams::STREAM_TAG),
            ("stream record", crate::streams::RECORD_TAG),
            ("stream shard", crate::streams::shards::SHARD_TAG),
            ("index job", crate::backfill::JOB_TAG),
            ("pitr state", crate::backup::pitr::PITR_STATE_TAG),
            ("pitr history", crate::backup::pitr::HISTORY_TAG),
            ("restore job", crate::backup::restore::RESTORE_JOB_TAG),
            ("backup", crate::backup::meta::BACKUP_TAG),
            ("backup item", crate::backup::meta::BACKUP_ITEM_TAG),
        ];
        for (i, (a, ta)) in tags.iter().enumerate() {
            for (b, tb) in &tags[i + 1..] {
                assert_ne!(ta, tb, "{a} and {b} share the key tag {}", *ta as char);
            }
        }
    }

    #[test]
    fn segments_tile_the_hash_space() {
        let total = 7;
        let mut prev_end: Option<Vec<u8>> = None;
        for s in 0..total {
            let (start, end) = segment_bounds(3, s, total);
            if let Some(p) = prev_end {
                assert_eq!(p, start, "segment {s} starts where the previous ended");
            } else {
                let mut first = items_prefix(3).to_vec();
                first.extend_from_slice(&0u64.to_be_bytes());
                assert_eq!(start, first);
            }
            match end {
                Bound::Excluded(e) => prev_end = Some(e),
                _ => unreachable!(),
            }
        }
        assert_eq!(prev_end.unwrap(), prefix_end(&items_prefix(3)));
    }

    #[test]
    fn escaping_keeps_order_and_delimits() {
        let sorted: [&[u8]; 7] = [
            b"",
            b"\x00",
            b"\x00\x00",
            b"\x00\x01",
            b"a",
            b"a\x00",
            b"ab",
        ];
        let esc = |c: &[u8]| {
            let mut out = Vec::new();
            escape(c, &mut out);
            out
        };
        for pair in sorted.windows(2) {
            assert!(esc(pair[0]) < esc(pair[1]), "{:?} < {:?}", pair[0], pair[1]);
            // Whatever follows a component cannot reorder it.
            let mut a = esc(pair[0]);
            a.extend_from_slice(&[0xff; 4]);
            assert!(a < esc(pair[1]));
        }
    }

    #[test]
    fn prefix_end_carries() {
        assert_eq!(prefix_end(&[1, 2, 0xff]), vec![1, 3]);
        assert_eq!(prefix_end(&[1]), vec![2]);
    }
}
