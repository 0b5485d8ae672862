//! Redo operations: the physical writes of a group, as applied to the `kv`
//! table and as logged in a write-ahead-log record's payload.
//!
//! Invariants:
//! - [`apply`] is the only code that writes user keys into the table, both
//!   live (a call's overlay, via `Overlay::for_each_op`) and in recovery (a
//!   decoded WAL payload), so a replayed group changes the table exactly as
//!   it did when it first ran.
//! - A payload is the ops of a group's successful calls, in call order, each
//!   call's ops in the order the writer applied them. Ops are absolute (set,
//!   remove, remove-range; never read-modify-write), so replaying a payload
//!   on the state it was first applied to reproduces the state after it.
//!
//! Encoding (little-endian): `1 klen:u32 key vlen:u32 value` (put),
//! `2 klen:u32 key` (delete), `3 bound bound` (delete range), where a bound
//! is `0` (unbounded), or `1` (included) / `2` (excluded) then `len:u32 key`.

use std::ops::Bound;

use crate::StoreError;

/// The `kv` table inside a write transaction.
pub(crate) type KvTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

/// One physical write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    Put(&'a [u8], &'a [u8]),
    Delete(&'a [u8]),
    DeleteRange(Bound<&'a [u8]>, Bound<&'a [u8]>),
}

const PUT: u8 = 1;
const DELETE: u8 = 2;
const DELETE_RANGE: u8 = 3;

const UNBOUNDED: u8 = 0;
const INCLUDED: u8 = 1;
const EXCLUDED: u8 = 2;

/// Applies one op to the table. An error leaves the transaction partially
/// written; the caller must abort it.
pub(crate) fn apply(op: &Op<'_>, table: &mut KvTable<'_>) -> Result<(), StoreError> {
    match *op {
        Op::Put(key, value) => {
            table
                .insert(key, value)
                .map_err(|e| StoreError::storage("write a key", e))?;
        }
        Op::Delete(key) => {
            table
                .remove(key)
                .map_err(|e| StoreError::storage("delete a key", e))?;
        }
        Op::DeleteRange(lower, upper) => {
            table
                .retain_in::<&[u8], _>((lower, upper), |_, _| false)
                .map_err(|e| StoreError::storage("delete a key range", e))?;
        }
    }
    Ok(())
}

/// Appends `op` to a payload.
pub(crate) fn encode(op: &Op<'_>, out: &mut Vec<u8>) {
    match *op {
        Op::Put(key, value) => {
            out.push(PUT);
            put_bytes(key, out);
            put_bytes(value, out);
        }
        Op::Delete(key) => {
            out.push(DELETE);
            put_bytes(key, out);
        }
        Op::DeleteRange(lower, upper) => {
            out.push(DELETE_RANGE);
            put_bound(lower, out);
            put_bound(upper, out);
        }
    }
}

fn put_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    // Entries are at most MAX_ENTRY_BYTES (1 GiB), so a u32 length suffices.
    let len = u32::try_from(bytes.len()).expect("entries are under 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

fn put_bound(bound: Bound<&[u8]>, out: &mut Vec<u8>) {
    match bound {
        Bound::Unbounded => out.push(UNBOUNDED),
        Bound::Included(k) => {
            out.push(INCLUDED);
            put_bytes(k, out);
        }
        Bound::Excluded(k) => {
            out.push(EXCLUDED);
            put_bytes(k, out);
        }
    }
}

/// Decodes a whole payload. A payload that passed its record's checksum yet
/// does not decode means a bug or deliberate tampering: `Err` (a message).
pub(crate) fn decode(mut payload: &[u8]) -> Result<Vec<Op<'_>>, &'static str> {
    let mut ops = Vec::new();
    while let Some((&tag, rest)) = payload.split_first() {
        payload = rest;
        let op = match tag {
            PUT => {
                let key = take_bytes(&mut payload)?;
                Op::Put(key, take_bytes(&mut payload)?)
            }
            DELETE => Op::Delete(take_bytes(&mut payload)?),
            DELETE_RANGE => {
                let lower = take_bound(&mut payload)?;
                Op::DeleteRange(lower, take_bound(&mut payload)?)
            }
            _ => return Err("unknown redo op"),
        };
        ops.push(op);
    }
    Ok(ops)
}

fn take_bytes<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], &'static str> {
    let (len, rest) = input.split_first_chunk::<4>().ok_or("truncated redo op")?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err("truncated redo op");
    }
    let (bytes, rest) = rest.split_at(len);
    *input = rest;
    Ok(bytes)
}

fn take_bound<'a>(input: &mut &'a [u8]) -> Result<Bound<&'a [u8]>, &'static str> {
    let (&tag, rest) = input.split_first().ok_or("truncated redo op")?;
    *input = rest;
    match tag {
        UNBOUNDED => Ok(Bound::Unbounded),
        INCLUDED => Ok(Bound::Included(take_bytes(input)?)),
        EXCLUDED => Ok(Bound::Excluded(take_bytes(input)?)),
        _ => Err("unknown bound in redo op"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip() {
        let ops = vec![
            Op::Put(b"k", b"value"),
            Op::Put(b"", b""),
            Op::Delete(b"gone"),
            Op::DeleteRange(Bound::Included(b"a"), Bound::Excluded(b"b")),
            Op::DeleteRange(Bound::Unbounded, Bound::Included(b"z")),
            Op::DeleteRange(Bound::Excluded(b"q"), Bound::Unbounded),
        ];
        let mut payload = Vec::new();
        for op in &ops {
            encode(op, &mut payload);
        }
        assert_eq!(decode(&payload).unwrap(), ops);
        assert_eq!(decode(&[]).unwrap(), vec![]);
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let mut payload = Vec::new();
        encode(&Op::Put(b"key", b"value"), &mut payload);
        for cut in 1..payload.len() {
            assert!(decode(&payload[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[9]).is_err());
        assert!(decode(&[DELETE_RANGE, 7]).is_err());
    }
}
