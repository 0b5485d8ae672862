//! Batch operations: BatchGetItem and BatchWriteItem.
//!
//! Validation runs in AWS's order, and nothing is read or written until all
//! of it has passed:
//!
//! 1. the request framework's constraints (enums, the RequestItems map, its
//!    table names and list lengths, missing members), reported together;
//!    BatchWriteItem reports a bad enum alone, before looking at RequestItems;
//! 2. checks that need no table: each WriteRequest holding exactly one
//!    request, attribute values, item sizes, duplicate keys of a
//!    BatchGetItem, the request totals (100 keys, 25 writes);
//! 3. the tables (ResourceNotFoundException);
//! 4. every key against its table's schema, then duplicate keys of a
//!    BatchWriteItem (which need the schema to find an item's key).
//!
//! AWS is moving these operations to a newer framework wording (`Value at
//! 'RequestItems...'`, no value echoed); the texts here are the ones AWS
//! answers today for each case, so the two wordings mix.
//!
//! A BatchWriteItem commits all its writes in one store write call: it is
//! atomic here, which AWS allows but does not promise. nimbus never
//! throttles, so UnprocessedItems is always empty, and BatchGetItem leaves
//! keys unprocessed only when the items it read would pass 16 MB.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use nimbus_store::{ReadView, WriteTxn};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::capacity::{self, Kind, ReturnCapacity};
use crate::catalog::{Table, TableDef};
use crate::codec::decode;
use crate::error::{DynamoError, Result};
use crate::expr::{parse_projection, Projection};
use crate::keys::key_from_request;
use crate::layout::{decode_stored, encode_stored};
use crate::legacy::{self, Members};
use crate::model::{decode_item, encode_key_component, item_size, Item, MAX_ITEM_SIZE};
use crate::ops::items::{parse_stored, table_for};
use crate::ops::write::replace_item;
use crate::request::substitutions;
use crate::{Caller, DynamoDb, Output};

/// Most keys one BatchGetItem may name, over all its tables.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Most put and delete requests one BatchWriteItem may carry, over all its
/// tables.
pub const MAX_BATCH_WRITE_REQUESTS: usize = 25;
/// BatchGetItem stops reading (and returns the rest as UnprocessedKeys) once
/// the items it has read reach this many bytes.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;

const DUPLICATE_KEYS: &str = "Provided list of item keys contains duplicates";
const TABLE_NAME_KEYS: &str = "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]";
const WRITE_LIST_LENGTH: &str = "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]";
/// AWS's text for a WriteRequest that holds neither (or both) of
/// PutRequest and DeleteRequest: it reuses the AttributeValue wording.
const NOT_ONE_REQUEST: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchGetItemInput {
    request_items: Option<BTreeMap<String, KeysAndAttributes>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeysAndAttributes {
    keys: Option<Vec<Map<String, Value>>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    attributes_to_get: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchWriteItemInput {
    request_items: Option<BTreeMap<String, Option<Vec<WriteRequest>>>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WriteRequest {
    put_request: Option<PutRequest>,
    delete_request: Option<DeleteRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRequest {
    item: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequest {
    key: Option<Map<String, Value>>,
}

// ------------------------------------------------------------ framework checks

/// Constraint violations of AWS's request framework, reported together
/// ("2 validation errors detected: A; B"). The batch operations mix the
/// framework's two wordings, as AWS answers them today: `Value 'v' at
/// 'member'` echoing the value, and `Value at 'Member'` without it.
#[derive(Default)]
struct Framework(Vec<String>);

impl Framework {
    fn valued(&mut self, value: &str, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value {value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn bare(&mut self, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Adds a violation when `value` is not one of `allowed` (listed in AWS's
    /// order in the message).
    fn check_enum(&mut self, value: Option<&str>, member: &str, allowed: &[&str]) {
        if let Some(value) = value.filter(|v| !allowed.contains(v)) {
            self.valued(
                &format!("'{value}'"),
                member,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    fn into_result(self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(DynamoError::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(DynamoError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.chars().count())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// BatchGetItem echoes its RequestItems as compact JSON in a violation.
fn echo_request_items(body: &[u8]) -> String {
    let items = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|mut v| v.get_mut("RequestItems").map(Value::take))
        .unwrap_or(Value::Null);
    format!("'{items}'")
}

/// An attribute value the way AWS's Java model prints it: its one set
/// member, named in lower case.
fn java_value(value: &Value) -> String {
    match value.as_object().and_then(|m| m.iter().next()) {
        Some((kind, inner)) => {
            let inner = match inner {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("AttributeValue({}={inner})", kind.to_ascii_lowercase())
        }
        None => "AttributeValue()".to_string(),
    }
}

fn java_attributes(map: Option<&Map<String, Value>>) -> String {
    match map {
        None => "null".to_string(),
        Some(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", java_value(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// BatchWriteItem echoes its RequestItems in Java's toString form in a
/// violation (`{t=[WriteRequest(putRequest=PutRequest(item={...}), ...)]}`).
fn echo_write_items(items: &BTreeMap<String, Option<Vec<WriteRequest>>>) -> String {
    let tables: Vec<String> = items
        .iter()
        .map(|(name, requests)| {
            let requests = match requests {
                None => "null".to_string(),
                Some(requests) => {
                    let parts: Vec<String> = requests
                        .iter()
                        .map(|r| {
                            let put = r.put_request.as_ref().map_or("null".to_string(), |p| {
                                format!("PutRequest(item={})", java_attributes(p.item.as_ref()))
                            });
                            let delete =
                                r.delete_request.as_ref().map_or("null".to_string(), |d| {
                                    format!(
                                        "DeleteRequest(key={})",
                                        java_attributes(d.key.as_ref())
                                    )
                                });
                            format!("WriteRequest(putRequest={put}, deleteRequest={delete})")
                        })
                        .collect();
                    format!("[{}]", parts.join(", "))
                }
            };
            format!("{name}={requests}")
        })
        .collect();
    format!("'{{{}}}'", tables.join(", "))
}

/// A key as a byte string equal for equal keys (numbers compare by value),
/// whatever the table's schema.
fn key_signature(key: &Item) -> Vec<u8> {
    let mut sig = Vec::new();
    for (name, value) in key {
        sig.extend_from_slice(&(name.len() as u32).to_be_bytes());
        sig.extend_from_slice(name.as_bytes());
        let mut component = Vec::new();
        if !encode_key_component(value, &mut component) {
            component = serde_json::to_vec(value).expect("values serialize");
        }
        sig.extend_from_slice(&(component.len() as u32).to_be_bytes());
        sig.extend_from_slice(&component);
    }
    sig
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(out, v).expect("json serializes");
}

// ---------------------------------------------------------------- BatchGetItem

/// One table of a BatchGetItem, checked.
struct GetTable {
    name: String,
    keys: Vec<Map<String, Value>>,
    projection: Option<Projection>,
    consistent: bool,
    /// The members echoed in UnprocessedKeys, as given.
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    names: Option<HashMap<String, String>>,
}

pub async fn batch_get_item(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: BatchGetItemInput = decode(body)?;
    // RequestItems first, then the enum: AWS lists them in that order.
    let mut v = Framework::default();
    match &input.request_items {
        None => v.valued("null", "requestItems", "Member must not be null"),
        Some(items) if items.is_empty() => v.bare(
            "RequestItems",
            "Member must have length greater than or equal to 1",
        ),
        Some(items) => {
            if !items.keys().all(|n| valid_table_name(n)) {
                v.valued(&echo_request_items(body), "requestItems", TABLE_NAME_KEYS);
            }
            for (name, t) in items {
                let member = format!("RequestItems.{name}.member.Keys");
                match &t.keys {
                    None => v.bare(&member, "Member must not be null"),
                    Some(k) if k.is_empty() => v.bare(
                        &member,
                        "Member must have length greater than or equal to 1",
                    ),
                    Some(k) if k.len() > MAX_BATCH_GET_KEYS => {
                        v.bare(&member, "Member must have length less than or equal to 100")
                    }
                    Some(_) => {}
                }
                let names = format!("RequestItems.{name}.member.AttributesToGet");
                match t.attributes_to_get.as_ref().map(Vec::len) {
                    Some(0) => v.bare(&names, "Member must have length greater than or equal to 1"),
                    Some(n) if n > 255 => {
                        v.bare(&names, "Member must have length less than or equal to 255")
                    }
                    _ => {}
                }
            }
        }
    }
    v.check_enum(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        &["INDEXES", "TOTAL", "NONE"],
    );
    v.into_result()?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    // Checks that need no table.
    let mut total = 0;
    let mut tables = Vec::new();
    for (name, t) in input.request_items.unwrap_or_default() {
        // Each table's members are checked on their own, as AWS does.
        Members {
            attributes_to_get: t.attributes_to_get.is_some(),
            projection_expression: t.projection_expression.is_some(),
            ..Members::default()
        }
        .check_not_mixed()?;
        let mut subs = substitutions(
            t.expression_attribute_names.clone(),
            None,
            &[("ProjectionExpression", t.projection_expression.is_some())],
        )?;
        let keys = t.keys.unwrap_or_default();
        let mut seen = HashSet::with_capacity(keys.len());
        for key in &keys {
            if !seen.insert(key_signature(&decode_item(key)?)) {
                return Err(DynamoError::validation(DUPLICATE_KEYS));
            }
            total += 1;
            if total > MAX_BATCH_GET_KEYS {
                return Err(DynamoError::validation(
                    "Too many items requested for the BatchGetItem call",
                ));
            }
        }
        let projection = match (&t.projection_expression, &t.attributes_to_get) {
            (Some(p), _) => Some(parse_projection(p, &mut subs)?),
            (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
            (None, None) => None,
        };
        subs.check_all_used()?;
        tables.push(GetTable {
            name,
            keys,
            projection,
            consistent: t.consistent_read.unwrap_or(false),
            consistent_read: t.consistent_read,
            projection_expression: t.projection_expression,
            attributes_to_get: t.attributes_to_get,
            names: t.expression_attribute_names,
        });
    }

    let live: Vec<Arc<Table>> = tables
        .iter()
        .map(|t| table_for(db, caller, Some(&t.name)))
        .collect::<Result<_>>()?;
    let storage_keys: Vec<Vec<Vec<u8>>> = tables
        .iter()
        .zip(&live)
        .map(|(t, table)| {
            t.keys
                .iter()
                .map(|k| Ok(key_from_request(&table.def, k)?.storage_key(table.def.number)))
                .collect::<Result<_>>()
        })
        .collect::<Result<_>>()?;

    // One snapshot serves every key: the batch reads one point in time.
    let snapshot = db.store.snapshot()?;
    let mut read_bytes = 0usize;
    let mut full = false;
    let mut out = Vec::with_capacity(256);
    let mut unprocessed = Map::new();
    let mut consumed = Vec::new();
    out.extend_from_slice(b"{\"Responses\":{");
    for (i, (t, keys)) in tables.iter().zip(&storage_keys).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(&mut out, &t.name);
        out.extend_from_slice(b":[");
        let mut first = true;
        let mut units = 0.0;
        let mut left = Vec::new();
        for (raw, storage_key) in t.keys.iter().zip(keys) {
            if full {
                left.push(Value::Object(raw.clone()));
                continue;
            }
            // Without a projection the stored JSON goes out as it is.
            let found = snapshot
                .get_with(storage_key, |v| {
                    let (size, json) = decode_stored(v);
                    match &t.projection {
                        None => Ok((size, json.to_vec())),
                        Some(p) => parse_stored(json).map(|item| {
                            (
                                size,
                                serde_json::to_vec(&p.apply(&item)).expect("items serialize"),
                            )
                        }),
                    }
                })?
                .transpose()?;
            let size = found.as_ref().map_or(0, |(s, _)| *s);
            if read_bytes + size > MAX_BATCH_GET_BYTES {
                full = true;
                left.push(Value::Object(raw.clone()));
                continue;
            }
            read_bytes += size;
            units += capacity::read_units(size, t.consistent);
            if let Some((_, json)) = found {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(&json);
            }
        }
        out.push(b']');
        if !left.is_empty() {
            let mut entry = Map::new();
            entry.insert("Keys".into(), Value::Array(left));
            if let Some(c) = t.consistent_read {
                entry.insert("ConsistentRead".into(), Value::Bool(c));
            }
            if let Some(p) = &t.projection_expression {
                entry.insert("ProjectionExpression".into(), Value::String(p.clone()));
            }
            if let Some(names) = &t.attributes_to_get {
                entry.insert("AttributesToGet".into(), json!(names));
            }
            if let Some(n) = &t.names {
                entry.insert("ExpressionAttributeNames".into(), json!(n));
            }
            unprocessed.insert(t.name.clone(), Value::Object(entry));
        }
        if let Some(c) = capacity::consumed(capacity_mode, &t.name, units, Kind::Read) {
            consumed.push(c);
        }
    }
    out.extend_from_slice(b"},\"UnprocessedKeys\":");
    write_json(&mut out, &unprocessed);
    if capacity_mode != ReturnCapacity::None {
        out.extend_from_slice(b",\"ConsumedCapacity\":");
        write_json(&mut out, &consumed);
    }
    out.push(b'}');
    Ok(Output::Bytes(out))
}

// -------------------------------------------------------------- BatchWriteItem

/// One checked write request.
enum Write {
    Put {
        raw: Map<String, Value>,
        item: Item,
        size: usize,
    },
    Delete {
        raw: Map<String, Value>,
    },
}

/// A write ready to run inside the store write call.
enum Op {
    Put {
        key: Vec<u8>,
        stored: Vec<u8>,
        size: usize,
    },
    Delete {
        key: Vec<u8>,
    },
}

/// The key of an item a PutRequest writes. Unlike PutItem, BatchWriteItem
/// words a missing or mistyped key attribute as a key that does not match
/// the schema; empty and oversized key values keep their own messages.
fn put_request_key(def: &TableDef, raw: &Map<String, Value>) -> Result<Vec<u8>> {
    let key: Map<String, Value> = def
        .key_attrs()
        .filter_map(|k| raw.get(&k.name).map(|v| (k.name.clone(), v.clone())))
        .collect();
    Ok(key_from_request(def, &key)?.storage_key(def.number))
}

pub async fn batch_write_item(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: BatchWriteItemInput = decode(body)?;
    // A bad enum is reported alone, ahead of anything wrong with
    // RequestItems.
    let mut enums = Framework::default();
    enums.check_enum(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        &["INDEXES", "TOTAL", "NONE"],
    );
    enums.check_enum(
        input.return_item_collection_metrics.as_deref(),
        "returnItemCollectionMetrics",
        &["SIZE", "NONE"],
    );
    enums.into_result()?;
    let mut v = Framework::default();
    let items = match &input.request_items {
        Some(items) if !items.is_empty() => items,
        _ => {
            return Err(DynamoError::validation(
                "The requestItems parameter is required for BatchWriteItem",
            ))
        }
    };
    if !items.keys().all(|n| valid_table_name(n)) {
        v.valued(&echo_write_items(items), "requestItems", TABLE_NAME_KEYS);
    }
    if items
        .values()
        .any(|r| r.as_ref().is_none_or(|r| r.is_empty()))
    {
        v.valued(&echo_write_items(items), "requestItems", WRITE_LIST_LENGTH);
    }
    for (name, requests) in items {
        let requests = requests.as_deref().unwrap_or_default();
        if requests.len() > MAX_BATCH_WRITE_REQUESTS {
            v.bare(
                &format!("RequestItems.{name}.member"),
                "Member must have length less than or equal to 25",
            );
        }
        for (i, r) in requests.iter().enumerate() {
            let member = format!("requestItems.{name}.member.{}.member", i + 1);
            if r.delete_request.as_ref().is_some_and(|d| d.key.is_none()) {
                v.valued(
                    "null",
                    &format!("{member}.deleteRequest.key"),
                    "Member must not be null",
                );
            }
            if r.put_request.as_ref().is_some_and(|p| p.item.is_none()) {
                v.valued(
                    "null",
                    &format!("{member}.putRequest.item"),
                    "Member must not be null",
                );
            }
        }
    }
    v.into_result()?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    // Checks that need no table.
    let mut total = 0;
    let mut requested: Vec<(String, Vec<Write>)> = Vec::new();
    for (name, requests) in input.request_items.unwrap_or_default() {
        let requests = requests.unwrap_or_default();
        if requests
            .iter()
            .any(|r| r.put_request.is_some() == r.delete_request.is_some())
        {
            return Err(DynamoError::validation(NOT_ONE_REQUEST));
        }
        let mut writes = Vec::with_capacity(requests.len());
        for r in requests {
            let write = match (r.put_request, r.delete_request) {
                (Some(PutRequest { item: Some(raw) }), None) => {
                    let item = decode_item(&raw)?;
                    let size = item_size(&item);
                    if size > MAX_ITEM_SIZE {
                        return Err(DynamoError::validation(
                            "Item size has exceeded the maximum allowed size",
                        ));
                    }
                    Write::Put { raw, item, size }
                }
                (None, Some(DeleteRequest { key: Some(raw) })) => {
                    decode_item(&raw)?;
                    Write::Delete { raw }
                }
                _ => unreachable!("framework checks leave exactly one request with its member"),
            };
            writes.push(write);
            total += 1;
            if total > MAX_BATCH_WRITE_REQUESTS {
                return Err(DynamoError::validation(
                    "Too many items requested for the BatchWriteItem call",
                ));
            }
        }
        requested.push((name, writes));
    }

    let live: Vec<Arc<Table>> = requested
        .iter()
        .map(|(name, _)| table_for(db, caller, Some(name)))
        .collect::<Result<_>>()?;

    // Every key against its table's schema, then duplicates per table.
    let mut planned: Vec<(Arc<Table>, Vec<Op>)> = Vec::with_capacity(live.len());
    for ((_, writes), table) in requested.into_iter().zip(live) {
        let def = &table.def;
        let mut seen = HashSet::with_capacity(writes.len());
        let mut ops = Vec::with_capacity(writes.len());
        for w in writes {
            let op = match w {
                Write::Put { raw, item, size } => Op::Put {
                    key: {
                        let key = put_request_key(def, &raw)?;
                        crate::index::check_item(def, &item)?;
                        key
                    },
                    stored: encode_stored(
                        size,
                        &serde_json::to_vec(&item).expect("items serialize"),
                    ),
                    size,
                },
                Write::Delete { raw } => Op::Delete {
                    key: key_from_request(def, &raw)?.storage_key(def.number),
                },
            };
            let key = match &op {
                Op::Put { key, .. } | Op::Delete { key } => key.clone(),
            };
            if !seen.insert(key) {
                return Err(DynamoError::validation(DUPLICATE_KEYS));
            }
            ops.push(op);
        }
        planned.push((table, ops));
    }

    let names: Vec<String> = planned.iter().map(|(t, _)| t.def.name.clone()).collect();
    let units = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<Vec<f64>> {
            if planned.iter().any(|(t, _)| t.is_dropped()) {
                return Err(DynamoError::resource_not_found());
            }
            let mut units = Vec::with_capacity(planned.len());
            for (table, ops) in &planned {
                let mut table_units = 0.0;
                for op in ops {
                    match op {
                        Op::Put { key, stored, size } => {
                            let old = txn.get(key)?;
                            let spent =
                                replace_item(txn, table, key, old.as_deref(), Some(stored))?;
                            let old = old.map(|v| decode_stored(&v).0);
                            table_units += capacity::write_units((*size).max(old.unwrap_or(0)));
                            table_units += spent.iter().map(|i| i.units).sum::<f64>();
                        }
                        Op::Delete { key } => {
                            let old = txn.get(key)?;
                            let spent = replace_item(txn, table, key, old.as_deref(), None)?;
                            let old = old.map(|v| decode_stored(&v).0);
                            table_units += capacity::write_units(old.unwrap_or(0));
                            table_units += spent.iter().map(|i| i.units).sum::<f64>();
                        }
                    }
                }
                units.push(table_units);
            }
            Ok(units)
        })
        .await?;

    let mut out = Map::new();
    out.insert("UnprocessedItems".into(), Value::Object(Map::new()));
    if capacity_mode != ReturnCapacity::None {
        let consumed: Vec<Value> = names
            .iter()
            .zip(units)
            .filter_map(|(name, u)| capacity::consumed(capacity_mode, name, u, Kind::Write))
            .collect();
        out.insert("ConsumedCapacity".into(), Value::Array(consumed));
    }
    Ok(Output::Json(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_the_framework_pattern() {
        assert!(valid_table_name("abc"));
        assert!(valid_table_name("a.b-c_1"));
        assert!(!valid_table_name("ab"));
        assert!(!valid_table_name("aa;"));
        assert!(!valid_table_name(&"a".repeat(256)));
        assert!(valid_table_name(&"a".repeat(255)));
    }

    #[test]
    fn equal_numbers_make_equal_key_signatures() {
        let a = decode_item(json!({"k": {"N": "1"}}).as_object().unwrap()).unwrap();
        let b = decode_item(json!({"k": {"N": "1.0"}}).as_object().unwrap()).unwrap();
        let c = decode_item(json!({"k": {"S": "1"}}).as_object().unwrap()).unwrap();
        assert_eq!(key_signature(&a), key_signature(&b));
        assert_ne!(key_signature(&a), key_signature(&c));
    }

    #[test]
    fn write_requests_echo_in_java_form() {
        let items: BTreeMap<String, Option<Vec<WriteRequest>>> = serde_json::from_value(json!({
            "bad!name": [
                {"PutRequest": {"Item": {"pk": {"S": "x"}, "n": {"N": "1"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "y"}}}}
            ],
            "t2": []
        }))
        .unwrap();
        assert_eq!(
            echo_write_items(&items),
            "'{bad!name=[WriteRequest(putRequest=PutRequest(item={n=AttributeValue(n=1), pk=AttributeValue(s=x)}), deleteRequest=null), WriteRequest(putRequest=null, deleteRequest=DeleteRequest(key={pk=AttributeValue(s=y)}))], t2=[]}'"
        );
    }

    #[test]
    fn framework_violations_count_and_join() {
        let mut v = Framework::default();
        v.check_enum(
            Some("TOTAL"),
            "returnConsumedCapacity",
            &["INDEXES", "TOTAL", "NONE"],
        );
        assert!(v.0.is_empty());
        v.check_enum(
            Some("x"),
            "returnConsumedCapacity",
            &["INDEXES", "TOTAL", "NONE"],
        );
        v.bare(
            "RequestItems",
            "Member must have length greater than or equal to 1",
        );
        let Err(DynamoError::Validation(m)) = v.into_result() else {
            panic!("expected a validation error")
        };
        assert_eq!(
            m,
            "2 validation errors detected: Value 'x' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value at 'RequestItems' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
    }
}
