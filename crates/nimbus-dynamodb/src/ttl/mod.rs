//! Time to Live: each table's TTL setting, and the expiry index that lets
//! the sweeper find due items without scanning tables.
//!
//! Keyspaces (see `layout` for the rest):
//! - `L` table number (u64 BE) -> the table's [`TtlState`] (JSON). Kept
//!   apart from the table definition so UpdateTable and UpdateTimeToLive
//!   never overwrite each other's changes.
//! - `E` table number (u64 BE) | expiry (ms since the epoch, u64 BE) |
//!   item storage key -> empty: the items of a TTL-enabled table whose TTL
//!   attribute holds an expiry time, in expiry order.
//!
//! Invariants:
//! - While TTL is enabled on a table, its `E` entries are exactly the
//!   entries [`expiry_ms`] gives for its items: every item write maintains
//!   them in the same store write ([`update_expiry_index`], called from the
//!   one item-write path, `ops::write::replace_item`), UpdateTimeToLive
//!   builds them for existing items in the write that enables TTL, and
//!   removes them all in the write that disables it; DeleteTable drops
//!   them with the table.
//! - Which attribute item writes index is the table's live TTL attribute
//!   (`Table::live_ttl`), switched inside those same writes, so a write
//!   queued behind UpdateTimeToLive never indexes by a stale setting.
//! - Expired items stay readable until the sweeper deletes them, as on
//!   AWS; the sweeper deletes through `replace_item`, so secondary indexes,
//!   stats and the expiry index change in the one write that removes the
//!   item.

pub mod sweeper;

use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};
use serde::{Deserialize, Serialize};

use crate::error::{DynamoError, Result};
use crate::layout;
use crate::model::{AttributeValue, Item};

pub const TTL_STATE_TAG: u8 = b'L';
pub const EXPIRY_TAG: u8 = b'E';

/// AWS leaves items whose expiry is more than five years in the past alone
/// (values in milliseconds or microseconds by mistake look like that).
pub const MAX_EXPIRED_AGE_MS: u64 = 5 * 365 * 24 * 3600 * 1000;

/// What is stored for a table once UpdateTimeToLive has been called on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlState {
    /// The attribute named by the last successful UpdateTimeToLive.
    pub attribute_name: String,
    pub enabled: bool,
    /// When it succeeded (ms since the epoch, by the server's clock), for
    /// the one-change-an-hour rule.
    pub updated_ms: u64,
}

pub fn state_key(table_number: u64) -> [u8; 9] {
    let mut k = layout::items_prefix(table_number);
    k[0] = TTL_STATE_TAG;
    k
}

/// Prefix of every expiry entry of one table.
pub fn expiry_prefix(table_number: u64) -> [u8; 9] {
    let mut k = layout::items_prefix(table_number);
    k[0] = EXPIRY_TAG;
    k
}

pub fn expiry_key(table_number: u64, expires_ms: u64, item_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(17 + item_key.len());
    k.extend_from_slice(&expiry_prefix(table_number));
    k.extend_from_slice(&expires_ms.to_be_bytes());
    k.extend_from_slice(item_key);
    k
}

/// `(expiry ms, item key)` of an expiry entry of `table_number`.
pub fn parse_expiry_key(table_number: u64, key: &[u8]) -> Option<(u64, &[u8])> {
    let rest = key.strip_prefix(&expiry_prefix(table_number)[..])?;
    let (at, item_key) = rest.split_at_checked(8)?;
    Some((u64::from_be_bytes(at.try_into().ok()?), item_key))
}

/// The expiry time an item's TTL attribute gives it, in ms since the epoch:
/// only a top-level Number holding epoch seconds counts. Other types, a
/// missing attribute, negative values and values beyond any clock reading
/// give none, so such items never expire, as on AWS.
pub fn expiry_ms(item: &Item, attribute: &str) -> Option<u64> {
    let AttributeValue::N(n) = item.get(attribute)? else {
        return None;
    };
    let seconds: f64 = n.to_string().parse().ok()?;
    // An item expires once the clock reaches its second value, so a
    // fractional value rounds up to the next whole millisecond.
    let ms = (seconds * 1000.0).ceil();
    (ms.is_finite() && ms >= 0.0 && ms < u64::MAX as f64).then_some(ms as u64)
}

/// Moves an item's expiry entry from what `old` gave to what `new` gives,
/// inside the item's write. `attribute` is the table's live TTL attribute.
pub fn update_expiry_index(
    txn: &mut WriteTxn<'_>,
    table_number: u64,
    item_key: &[u8],
    attribute: &str,
    old: Option<&Item>,
    new: Option<&Item>,
) {
    let before = old.and_then(|i| expiry_ms(i, attribute));
    let after = new.and_then(|i| expiry_ms(i, attribute));
    if before == after {
        return;
    }
    if let Some(at) = before {
        txn.delete(&expiry_key(table_number, at, item_key));
    }
    if let Some(at) = after {
        txn.put(&expiry_key(table_number, at, item_key), &[]);
    }
}

/// Builds the expiry index of every existing item of a table (in the write
/// that enables TTL).
pub fn build_expiry_index(
    txn: &mut WriteTxn<'_>,
    table_number: u64,
    attribute: &str,
) -> Result<u64> {
    let prefix = layout::items_prefix(table_number);
    let end = layout::prefix_end(&prefix);
    let mut entries = Vec::new();
    let mut bad = None;
    txn.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| match crate::ops::items::parse_stored(layout::decode_stored(v).1) {
            Ok(item) => {
                if let Some(at) = expiry_ms(&item, attribute) {
                    entries.push(expiry_key(table_number, at, k));
                }
                true
            }
            Err(e) => {
                bad = Some(e);
                false
            }
        },
    )?;
    if let Some(e) = bad {
        return Err(e);
    }
    for key in &entries {
        txn.put(key, &[]);
    }
    Ok(entries.len() as u64)
}

/// Removes every expiry entry of a table (TTL disabled, table deleted).
pub fn drop_expiry_index(txn: &mut WriteTxn<'_>, table_number: u64) -> Result<()> {
    let prefix = expiry_prefix(table_number);
    let end = layout::prefix_end(&prefix);
    txn.delete_range(Bound::Included(&prefix[..]), Bound::Excluded(&end[..]))?;
    Ok(())
}

/// Everything TTL stores for a table, removed in the write that deletes it.
pub fn drop_table(txn: &mut WriteTxn<'_>, table_number: u64) -> Result<()> {
    txn.delete(&state_key(table_number));
    drop_expiry_index(txn, table_number)
}

pub fn read_state(view: &impl ReadView, table_number: u64) -> Result<Option<TtlState>> {
    match view.get(&state_key(table_number))? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            DynamoError::Internal(format!(
                "the TTL setting of table number {table_number} is unreadable: {e}"
            ))
        }),
    }
}

pub fn write_state(txn: &mut WriteTxn<'_>, table_number: u64, state: &TtlState) {
    txn.put(
        &state_key(table_number),
        &serde_json::to_vec(state).expect("TTL states serialize"),
    );
}

/// Every stored TTL setting, by table number (read once at start-up).
pub fn load_states(view: &impl ReadView) -> Result<Vec<(u64, TtlState)>> {
    let prefix = [TTL_STATE_TAG];
    let end = layout::prefix_end(&prefix);
    let mut out = Vec::new();
    let mut bad = None;
    view.scan(
        Bound::Included(&prefix[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            let number = k
                .get(1..9)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes);
            match (number, serde_json::from_slice::<TtlState>(v)) {
                (Some(n), Ok(state)) => {
                    out.push((n, state));
                    true
                }
                (_, Err(e)) => {
                    bad = Some(format!("a stored TTL setting is unreadable: {e}"));
                    false
                }
                (None, _) => {
                    bad = Some("a stored TTL setting has a malformed key".to_owned());
                    false
                }
            }
        },
    )?;
    match bad {
        Some(msg) => Err(DynamoError::Internal(msg)),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Number;

    fn item_with(v: AttributeValue) -> Item {
        let mut item = Item::new();
        item.insert("exp".into(), v);
        item
    }

    fn num(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn only_numbers_give_an_expiry() {
        assert_eq!(
            expiry_ms(&item_with(num("1700000000")), "exp"),
            Some(1_700_000_000_000)
        );
        assert_eq!(expiry_ms(&item_with(num("1.0005")), "exp"), Some(1001));
        assert_eq!(expiry_ms(&item_with(num("0")), "exp"), Some(0));
        assert_eq!(expiry_ms(&item_with(num("-5")), "exp"), None);
        assert_eq!(expiry_ms(&item_with(num("1E+100")), "exp"), None);
        assert_eq!(
            expiry_ms(&item_with(AttributeValue::S("1700000000".into())), "exp"),
            None
        );
        assert_eq!(expiry_ms(&item_with(num("1")), "other"), None);
    }

    #[test]
    fn expiry_keys_order_by_time_and_round_trip() {
        let a = expiry_key(7, 1000, b"I-item-b");
        let b = expiry_key(7, 2000, b"I-item-a");
        assert!(a < b);
        assert_eq!(parse_expiry_key(7, &a), Some((1000, &b"I-item-b"[..])));
        assert_eq!(parse_expiry_key(8, &a), None);
        assert!(a.starts_with(&expiry_prefix(7)));
    }
}
