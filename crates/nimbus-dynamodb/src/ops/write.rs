//! The item-write core shared by the single-item writes (PutItem,
//! UpdateItem, DeleteItem) and the actions of TransactWriteItems: checking
//! the item or key and the expressions before anything runs, and the pieces
//! of the read-check-write that run inside a store write call.
//!
//! Keeping one copy means a Put inside a transaction validates, reports and
//! applies exactly as PutItem does.

use std::collections::HashMap;

use nimbus_store::WriteTxn;
use serde_json::{Map, Value};

use crate::capacity::IndexUnits;
use crate::catalog::{Table, TableDef};
use crate::error::{DynamoError, Result};
use crate::expr::{parse_condition, parse_update, Condition, ExprKind, Update};
use crate::index;
use crate::keys::{key_of_item, ItemKey};
use crate::layout::decode_stored;
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::value::decode_item;
use crate::model::Item;
use crate::ops::items::parse_stored;
use crate::ops::tables::Stats;
use crate::request::substitutions;
use crate::streams::{self, Origin};
use crate::ttl;

/// The expression members of one write (a request, or one transaction
/// action, which has its own names and values).
pub(crate) struct Expressions {
    /// Whether the operation has an UpdateExpression member (UpdateItem,
    /// a transaction's Update), which AWS's messages then name.
    pub update_member: bool,
    pub condition: Option<String>,
    pub update: Option<String>,
    pub names: Option<HashMap<String, String>>,
    pub values: Option<Map<String, Value>>,
}

/// The parsed expressions, placeholders substituted.
pub(crate) struct Parsed {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
}

/// Parses a write's update and condition expressions with its substitutions,
/// and rejects names or values no expression used.
pub(crate) fn parse_expressions(e: Expressions) -> Result<Parsed> {
    let update = ("UpdateExpression", e.update.is_some());
    let condition = ("ConditionExpression", e.condition.is_some());
    let members: &[(&str, bool)] = if e.update_member {
        &[update, condition]
    } else {
        &[condition]
    };
    let mut subs = substitutions(e.names, e.values, members)?;
    let update = e
        .update
        .as_deref()
        .map(|u| parse_update(u, &mut subs))
        .transpose()?;
    let condition = e
        .condition
        .as_deref()
        .map(|c| parse_condition(c, ExprKind::Condition, &mut subs))
        .transpose()?;
    subs.check_all_used()?;
    Ok(Parsed { condition, update })
}

/// An item about to be written whole (PutItem, transaction Put).
pub(crate) struct NewItem {
    pub key: ItemKey,
    pub item: Item,
    pub size: usize,
}

/// Decodes and checks an `Item` member: its values, its key attributes and
/// its size.
pub(crate) fn new_item(def: &TableDef, raw: &Map<String, Value>) -> Result<NewItem> {
    let item = decode_item(raw)?;
    let key = key_of_item(def, &item)?;
    index::check_item(def, &item)?;
    let size = item_size(&item);
    if size > MAX_ITEM_SIZE {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(NewItem { key, item, size })
}

/// An update expression may not touch the table's key attributes.
pub(crate) fn check_update_keys(def: &TableDef, update: Option<&Update>) -> Result<()> {
    if let Some(update) = update {
        if let Some(k) = update
            .top_level_attributes()
            .into_iter()
            .find(|a| def.is_key_attr(a))
        {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {k}. This attribute is part of the key"
            )));
        }
    }
    Ok(())
}

/// The item an update produces from `old` (or from the bare key when there
/// is no item yet), and its size.
pub(crate) fn updated_item(
    def: &TableDef,
    update: Option<&Update>,
    old: Option<&Item>,
    key_attrs: &Item,
) -> Result<(Item, usize)> {
    let mut new_item = old.cloned().unwrap_or_else(|| key_attrs.clone());
    if let Some(update) = update {
        update.apply(&mut new_item)?;
    }
    let size = item_size(&new_item);
    if size > MAX_ITEM_SIZE {
        return Err(DynamoError::validation(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    index::check_item(def, &new_item)?;
    Ok((new_item, size))
}

/// A required member that is absent, in AWS's words.
pub(crate) fn required<'a, T>(v: &'a Option<T>, member: &str) -> Result<&'a T> {
    v.as_ref().ok_or_else(|| {
        DynamoError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

pub(crate) fn item_json(item: &Item) -> Vec<u8> {
    serde_json::to_vec(item).expect("items serialize")
}

pub(crate) fn item_value(item: &Item) -> Value {
    serde_json::to_value(item).expect("items serialize")
}

/// Evaluates an optional condition against the current item (absent items
/// are empty), producing ConditionalCheckFailedException with the old item
/// when asked.
pub(crate) fn check_condition(
    condition: Option<&Condition>,
    old: Option<&Item>,
    return_old: bool,
) -> Result<()> {
    let Some(condition) = condition else {
        return Ok(());
    };
    let empty = Item::new();
    if condition.evaluate(old.unwrap_or(&empty)) {
        return Ok(());
    }
    Err(DynamoError::ConditionalCheckFailed {
        item: if return_old {
            old.map(item_value)
        } else {
            None
        },
    })
}

/// Replaces the item stored at `key` (`old`, `new`: stored values, `None`
/// for no item) inside a store write, with the table's stats, every
/// secondary index, the TTL expiry index, the table's stream record and
/// its point-in-time recovery history.
/// Every write path changes items only through this, so none can leave an
/// index or a stream record behind. Returns the write units each index
/// spent.
pub(crate) fn replace_item(
    txn: &mut WriteTxn<'_>,
    table: &Table,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<Vec<IndexUnits>> {
    replace_item_by(txn, table, key, old, new, Origin::Caller)
}

/// [`replace_item`], saying who made the change: the stream record of a
/// TTL deletion names DynamoDB as its user identity.
pub(crate) fn replace_item_by(
    txn: &mut WriteTxn<'_>,
    table: &Table,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
    origin: Origin,
) -> Result<Vec<IndexUnits>> {
    match new {
        Some(v) => txn.put(key, v),
        None if old.is_some() => txn.delete(key),
        None => return Ok(Vec::new()),
    }
    let def = &table.def;
    let size = |v: &[u8]| decode_stored(v).0;
    Stats::apply(txn, def.number, old.map(size), new.map(size))?;
    if let Some(log) = table.live_pitr() {
        crate::backup::pitr::record(txn, &log, def.number, key, old, new);
    }
    let indexes = table.live_indexes();
    let ttl_attribute = table.live_ttl();
    let stream = table.live_stream();
    // Tables without indexes, TTL or a stream never parse the items.
    if indexes.is_empty() && ttl_attribute.is_none() && stream.is_none() {
        return Ok(Vec::new());
    }
    let parse = |v: &[u8]| parse_stored(decode_stored(v).1);
    let old_item = old.map(parse).transpose()?;
    let new_item = new.map(parse).transpose()?;
    if let Some(stream) = &stream {
        streams::record_change(
            txn,
            stream,
            def,
            old.map(|v| decode_stored(v).1),
            new.map(|v| decode_stored(v).1),
            old_item.as_ref(),
            new_item.as_ref(),
            origin,
        )?;
    }
    if let Some(attribute) = &ttl_attribute {
        ttl::update_expiry_index(
            txn,
            def.number,
            key,
            attribute,
            old_item.as_ref(),
            new_item.as_ref(),
        );
    }
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    // An index still backfilling is left alone past the backfill's cursor:
    // the backfill indexes those items when it gets there.
    let indexes = crate::backfill::maintained(table, &indexes, key);
    index::update_indexes(txn, def, &indexes, old_item.as_ref(), new_item.as_ref())
}
