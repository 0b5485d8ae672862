//! Secondary indexes: which items an index holds, what it copies of them,
//! and keeping every index in step with each item change.
//!
//! Invariant: an index entry exists exactly for each item that has all of
//! the index's key attributes with the declared types, and it is written in
//! the same store write as the item change that caused it (see
//! [`crate::ops::write::replace_item`], the one function every write path
//! calls).

use nimbus_store::WriteTxn;

use crate::capacity::{write_units, IndexUnits};
use crate::catalog::{IndexDef, IndexProjection, KeyAttr, TableDef};
use crate::error::{DynamoError, Result};
use crate::keys::{key_value_bytes, MAX_HASH_KEY_BYTES, MAX_RANGE_KEY_BYTES};
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
            let max = max_key_bytes(index, attr);
            let size = key_value_bytes(v);
            if size > max {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Size limit exceeded for Index Key {} Actual Size: {size} bytes Max Size: {max} bytes IndexName: {}",
                    attr.name, index.name
                )));
            }
        }
    }
    Ok(())
}

/// The largest value an index key attribute may hold, in bytes.
fn max_key_bytes(index: &IndexDef, attr: &KeyAttr) -> usize {
    if index.hash_key.name == attr.name {
        MAX_HASH_KEY_BYTES
    } else {
        MAX_RANGE_KEY_BYTES
    }
}

/// An item's value of a key attribute, encoded; `None` when it is absent,
/// of the wrong type, empty or too large (such items are not in the index:
/// writes refuse them, but a backfill meets them in old items).
fn component(item: &Item, attr: &KeyAttr, max: usize) -> Option<Vec<u8>> {
    let v = item.get(&attr.name)?;
    if v.type_name() != attr.key_type.as_str() {
        return None;
    }
    let size = key_value_bytes(v);
    if size == 0 && !matches!(v, AttributeValue::N(_)) || size > max {
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
    let ipk = component(item, &index.hash_key, MAX_HASH_KEY_BYTES)?;
    let isk = match &index.range_key {
        Some(r) => Some(component(item, r, MAX_RANGE_KEY_BYTES)?),
        None => None,
    };
    let tpk = component(item, &def.hash_key, MAX_HASH_KEY_BYTES)?;
    let tsk = match &def.range_key {
        Some(r) => Some(component(item, r, MAX_RANGE_KEY_BYTES)?),
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
) -> Result<Vec<IndexUnits>> {
    let mut spent = Vec::new();
    for index in indexes {
        let before = old.and_then(|o| entry(def, index, o));
        let after = new.and_then(|n| entry(def, index, n));
        if before == after {
            continue;
        }
        // AWS's index write cost: putting the new entry, and deleting the
        // old one when the index key changed or the item left the index.
        let moved = match (&before, &after) {
            (Some((old_key, _, _)), Some((new_key, _, _))) => old_key != new_key,
            (Some(_), None) => true,
            _ => false,
        };
        let units = after.as_ref().map_or(0.0, |(_, _, s)| write_units(*s))
            + if moved {
                before.as_ref().map_or(0.0, |(_, _, s)| write_units(*s))
            } else {
                0.0
            };
        spent.push(IndexUnits {
            index: index.name.clone(),
            local: index.local,
            units,
        });
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
    Ok(spent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{KeyType, Throughput};
    use crate::model::Number;

    fn attr(name: &str, key_type: KeyType) -> KeyAttr {
        KeyAttr {
            name: name.into(),
            key_type,
        }
    }

    fn table() -> TableDef {
        let index = IndexDef {
            name: "byStatus".into(),
            number: 0,
            local: false,
            hash_key: attr("status", KeyType::S),
            range_key: Some(attr("created", KeyType::N)),
            projection: IndexProjection::Include(vec!["title".into()]),
            throughput: None,
            backfilled: false,
        };
        TableDef {
            name: "t".into(),
            account: "a".into(),
            region: "r".into(),
            id: "id".into(),
            number: 7,
            hash_key: attr("id", KeyType::S),
            range_key: None,
            attributes: vec![],
            billing_mode: "PAY_PER_REQUEST".into(),
            billing_mode_updated: 0.0,
            throughput: Throughput::default(),
            created: 0.0,
            tags: vec![],
            deletion_protection: false,
            table_class: None,
            indexes: vec![index],
            next_index: 1,
            stream: None,
        }
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(v).unwrap())
    }

    #[test]
    fn items_without_the_index_keys_are_not_indexed() {
        let def = table();
        let index = &def.indexes[0];
        let full = item(&[("id", s("1")), ("status", s("open")), ("created", n("5"))]);
        assert!(entry_key(&def, index, &full).is_some());
        let no_range = item(&[("id", s("1")), ("status", s("open"))]);
        assert!(entry_key(&def, index, &no_range).is_none());
        let wrong_type = item(&[("id", s("1")), ("status", n("1")), ("created", n("5"))]);
        assert!(entry_key(&def, index, &wrong_type).is_none());
        let too_big = item(&[
            ("id", s("1")),
            ("status", s(&"x".repeat(MAX_HASH_KEY_BYTES + 1))),
            ("created", n("5")),
        ]);
        assert!(entry_key(&def, index, &too_big).is_none());
    }

    #[test]
    fn include_projects_keys_and_named_attributes() {
        let def = table();
        let it = item(&[
            ("id", s("1")),
            ("status", s("open")),
            ("created", n("5")),
            ("title", s("t")),
            ("body", s("b")),
        ]);
        let p = project(&def, &def.indexes[0], &it);
        let mut names: Vec<&str> = p.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["created", "id", "status", "title"]);
        assert!(projects(&def, &def.indexes[0], "title"));
        assert!(!projects(&def, &def.indexes[0], "body"));
    }

    #[test]
    fn equal_index_keys_order_by_table_key() {
        let def = table();
        let index = &def.indexes[0];
        let key = |id: &str, created: &str| {
            entry_key(
                &def,
                index,
                &item(&[
                    ("id", s(id)),
                    ("status", s("open")),
                    ("created", n(created)),
                ]),
            )
            .unwrap()
        };
        assert!(key("a", "5") < key("b", "5"));
        assert!(key("b", "5") < key("ab", "6"));
        assert!(key("z", "-1") < key("a", "5"));
    }

    #[test]
    fn write_checks_name_the_index() {
        let def = table();
        match check_item(&def, &item(&[("id", s("1")), ("created", s("x"))])) {
            Err(DynamoError::Validation(m)) => assert_eq!(
                m,
                "One or more parameter values were invalid: Type mismatch for Index Key created Expected: N Actual: S IndexName: byStatus"
            ),
            other => panic!("unexpected {other:?}"),
        }
        assert!(check_item(&def, &item(&[("id", s("1"))])).is_ok());
    }
}
