//! Secondary indexes: which items an index holds, what it copies of them,
//! and keeping every index in step with each item change.
//!
//! Invariant: an index entry exists exactly for each item that has all of
//! the index's key attributes with the declared types, and it is written in
//! the same store write as the item change that caused it (see
//! [`crate::ops::write::replace_item`], the one function every write path
//! calls).

use nimbus_store::WriteTxn;

use crate::catalog::{IndexDef, IndexProjection, KeyAttr, TableDef};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::model::size::item_size;
use crate::model::{AttributeValue, Item};
use crate::ops::tables::Stats;

/// Rejects an item whose index key attributes have the wrong type or are
/// empty, as AWS does; an item without them is simply not indexed.
pub fn check_item(def: &TableDef, item: &Item) -> Result<()> {
    for index in &def.indexes {
        for attr in index.key_attrs() {
            let Some(v) = item.get(&attr.name) else {
                continue;
            };
            if v.type_name() != attr.key_type.as_str() {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    attr.key_type.as_str(),
                    v.type_name(),
                    index.name
                )));
            }
            let empty = match v {
                AttributeValue::S(s) => s.is_empty().then_some("string"),
                AttributeValue::B(b) => b.is_empty().then_some("binary"),
                _ => None,
            };
            if let Some(kind) = empty {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {}, IndexKey: {}",
                    index.name, attr.name
                )));
            }
        }
    }
    Ok(())
}

fn component(item: &Item, attr: &KeyAttr) -> Option<Vec<u8>> {
    let v = item.get(&attr.name)?;
    if v.type_name() != attr.key_type.as_str() {
        return None;
    }
    layout::encode_component(v)
}

/// The attributes an index copies of `item`: the table's and the index's
/// keys, plus what the projection names.
pub fn project(def: &TableDef, index: &IndexDef, item: &Item) -> Item {
    match &index.projection {
        IndexProjection::All => item.clone(),
        IndexProjection::KeysOnly | IndexProjection::Include(_) => {
            let extra: &[String] = match &index.projection {
                IndexProjection::Include(names) => names,
                _ => &[],
            };
            item.iter()
                .filter(|(name, _)| {
                    def.is_key_attr(name)
                        || index.is_key_attr(name)
                        || extra.iter().any(|n| n == *name)
                })
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect()
        }
    }
}

/// Whether an attribute is in every entry of the index that has it.
pub fn projects(def: &TableDef, index: &IndexDef, name: &str) -> bool {
    def.is_key_attr(name)
        || index.is_key_attr(name)
        || match &index.projection {
            IndexProjection::All => true,
            IndexProjection::KeysOnly => false,
            IndexProjection::Include(names) => names.iter().any(|n| n == name),
        }
}

/// The storage key of `item`'s entry in `index`, or `None` when the item is
/// not in the index (sparse indexes).
pub fn entry_key(def: &TableDef, index: &IndexDef, item: &Item) -> Option<Vec<u8>> {
    let ipk = component(item, &index.hash_key)?;
    let isk = match &index.range_key {
        Some(r) => Some(component(item, r)?),
        None => None,
    };
    let tpk = component(item, &def.hash_key)?;
    let tsk = match &def.range_key {
        Some(r) => Some(component(item, r)?),
        None => None,
    };
    Some(layout::index_entry_key(
        def.number,
        index.number,
        &ipk,
        isk.as_deref(),
        &tpk,
        tsk.as_deref(),
    ))
}

/// An index entry: its key, stored value and size.
fn entry(def: &TableDef, index: &IndexDef, item: &Item) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    let key = entry_key(def, index, item)?;
    let projected = project(def, index, item);
    let size = item_size(&projected);
    let json = serde_json::to_vec(&projected).expect("items serialize");
    Some((key, layout::encode_stored(size, &json), size))
}

/// Writes `index`'s entry for `item`, counting it in the index's stats
/// (backfilling a new index).
pub fn add_entry(
    txn: &mut WriteTxn<'_>,
    def: &TableDef,
    index: &IndexDef,
    item: &Item,
) -> Result<()> {
    if let Some((key, stored, size)) = entry(def, index, item) {
        txn.put(&key, &stored);
        Stats::apply_at(
            txn,
            &layout::index_stats_key(def.number, index.number),
            None,
            Some(size),
        )?;
    }
    Ok(())
}

/// Changes every index in `indexes` (the table's live set) from `old` (the item before the write, if
/// any) to `new` (the item after, if any), inside the item's write.
pub fn update_indexes(
    txn: &mut WriteTxn<'_>,
    def: &TableDef,
    indexes: &[IndexDef],
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<()> {
    for index in indexes {
        let before = old.and_then(|o| entry(def, index, o));
        let after = new.and_then(|n| entry(def, index, n));
        if before == after {
            continue;
        }
        if let Some((key, _, _)) = &before {
            if after.as_ref().is_none_or(|(k, _, _)| k != key) {
                txn.delete(key);
            }
        }
        if let Some((key, stored, _)) = &after {
            txn.put(key, stored);
        }
        Stats::apply_at(
            txn,
            &layout::index_stats_key(def.number, index.number),
            before.map(|(_, _, s)| s),
            after.map(|(_, _, s)| s),
        )?;
    }
    Ok(())
}
