//! Transactions: TransactWriteItems and TransactGetItems.
//!
//! A write transaction is validated whole before anything runs (each action
//! as its single-item operation validates it, then the same-item rule), and
//! then runs as ONE store write call: every action's current item is read and
//! its condition evaluated, and only when all of them pass are the writes
//! buffered. The store runs write calls one at a time and applies a call's
//! writes all together or not at all, so transactions are serializable with
//! each other and with the single-item writes, and a cancelled transaction
//! leaves nothing behind.
//!
//! A ClientRequestToken is stored in the same write call as the
//! transaction's writes, with a hash of the request, so a retry that arrives
//! after the first attempt committed is recognised even across a restart.
//!
//! A read transaction reads every item from one store snapshot.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use nimbus_store::{ReadView, WriteTxn};
use serde::Deserialize;
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

use crate::capacity::{self, Kind, ReturnCapacity};
use crate::catalog::Table;
use crate::codec::{decode, Violations};
use crate::error::{DynamoError, Result};
use crate::expr::{parse_projection, Condition, Projection, Update};
use crate::keys::key_from_request;
use crate::layout::{self, decode_stored, encode_stored};
use crate::model::Item;
use crate::ops::items::{parse_stored, table_for};
use crate::ops::write::{
    check_condition, check_update_keys, item_json, new_item, parse_expressions, replace_item,
    updated_item, Expressions, NewItem,
};
use crate::request::{return_old_on_failure, substitutions};
use crate::{Caller, DynamoDb, Output};

/// Most actions in one transaction.
pub const MAX_ACTIONS: usize = 100;
/// Largest total size of the items a write transaction puts.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// How long a ClientRequestToken stays bound to its request.
pub const TOKEN_WINDOW_MS: u64 = 10 * 60 * 1000;
/// Longest ClientRequestToken.
const MAX_TOKEN_CHARS: usize = 36;
/// Expired tokens removed per write transaction, so the sweep stays cheap.
const TOKEN_SWEEP: usize = 8;

const CONDITION_FAILED_TEXT: &str = "The conditional request failed";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactWriteItemsInput {
    transact_items: Option<Vec<TransactWriteItem>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    client_request_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactWriteItem {
    condition_check: Option<ActionInput>,
    put: Option<ActionInput>,
    update: Option<ActionInput>,
    delete: Option<ActionInput>,
}

/// The members of the four action shapes; which are required, and which
/// are read at all, depends on the action.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ActionInput {
    table_name: Option<String>,
    key: Option<Map<String, Value>>,
    item: Option<Map<String, Value>>,
    condition_expression: Option<String>,
    update_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Map<String, Value>>,
    return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactGetItemsInput {
    transact_items: Option<Vec<TransactGetItem>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactGetItem {
    get: Option<GetInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetInput {
    table_name: Option<String>,
    key: Option<Map<String, Value>>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ActionKind {
    ConditionCheck,
    Put,
    Update,
    Delete,
}

impl ActionKind {
    /// The member name in validation messages.
    fn member(self) -> &'static str {
        match self {
            ActionKind::ConditionCheck => "conditionCheck",
            ActionKind::Put => "put",
            ActionKind::Update => "update",
            ActionKind::Delete => "delete",
        }
    }
}

/// What an action does to its item once every condition has passed.
enum Op {
    Check,
    Put { stored: Vec<u8>, size: usize },
    Update { update: Update, key_attrs: Item },
    Delete,
}

/// One validated action, ready to run inside the write call.
struct Action {
    table: Arc<Table>,
    storage_key: Vec<u8>,
    condition: Option<Condition>,
    return_old: bool,
    op: Op,
}

/// The checks AWS's request framework makes on the list itself.
fn check_list_length(v: &mut Violations, len: Option<usize>) {
    match len {
        None => v.add("null", "transactItems", "Member must not be null"),
        Some(0) => v.add(
            "'[]'",
            "transactItems",
            "Member must have length greater than or equal to 1",
        ),
        // AWS prints the list's Java rendering here; its length is what matters.
        Some(n) if n > MAX_ACTIONS => v.add(
            "'[...]'",
            "transactItems",
            &format!("Member must have length less than or equal to {MAX_ACTIONS}"),
        ),
        Some(_) => {}
    }
}

fn check_present(v: &mut Violations, present: bool, member: &str) {
    if !present {
        v.add("null", member, "Member must not be null");
    }
}

/// The framework-level checks of one write action's members.
fn check_action_members(v: &mut Violations, index: usize, kind: ActionKind, a: &ActionInput) {
    let base = format!("transactItems.{}.member.{}", index + 1, kind.member());
    v.check_name(
        a.table_name.as_deref(),
        &format!("{base}.tableName"),
        3,
        255,
    );
    match kind {
        ActionKind::Put => check_present(v, a.item.is_some(), &format!("{base}.item")),
        _ => check_present(v, a.key.is_some(), &format!("{base}.key")),
    }
    match kind {
        ActionKind::ConditionCheck => check_present(
            v,
            a.condition_expression.is_some(),
            &format!("{base}.conditionExpression"),
        ),
        ActionKind::Update => check_present(
            v,
            a.update_expression.is_some(),
            &format!("{base}.updateExpression"),
        ),
        _ => {}
    }
}

fn check_token(v: &mut Violations, token: Option<&str>) {
    let Some(t) = token else { return };
    let len = t.chars().count();
    if len < 1 {
        v.add(
            &Violations::quoted(t),
            "clientRequestToken",
            "Member must have length greater than or equal to 1",
        );
    }
    if len > MAX_TOKEN_CHARS {
        v.add(
            &Violations::quoted(t),
            "clientRequestToken",
            &format!("Member must have length less than or equal to {MAX_TOKEN_CHARS}"),
        );
    }
}

fn check_item_collection_metrics(v: &mut Violations, value: Option<&str>) {
    if let Some(m) = value {
        if m != "SIZE" && m != "NONE" {
            v.add(
                &Violations::quoted(m),
                "returnItemCollectionMetrics",
                "Member must satisfy enum value set: [SIZE, NONE]",
            );
        }
    }
}

fn duplicate_item() -> DynamoError {
    DynamoError::validation("Transaction request cannot include multiple operations on one item")
}

/// Turns one action's members into an [`Action`], validating them as the
/// matching single-item operation would.
fn prepare(db: &DynamoDb, caller: &Caller, kind: ActionKind, a: ActionInput) -> Result<Action> {
    let table = table_for(db, caller, a.table_name.as_deref())?;
    let def = &table.def;
    let exprs = Expressions {
        update_member: kind == ActionKind::Update,
        condition: a.condition_expression,
        update: a.update_expression,
        names: a.expression_attribute_names,
        values: a.expression_attribute_values,
    };
    let (storage_key, parsed, op) = match kind {
        ActionKind::Put => {
            let raw = a.item.as_ref().expect("checked present");
            let NewItem { key, item, size } = new_item(def, raw)?;
            let parsed = parse_expressions(exprs)?;
            let stored = encode_stored(size, &item_json(&item));
            (
                key.storage_key(def.number),
                parsed,
                Op::Put { stored, size },
            )
        }
        ActionKind::Update => {
            let key = key_from_request(def, a.key.as_ref().expect("checked present"))?;
            let parsed = parse_expressions(exprs)?;
            check_update_keys(def, parsed.update.as_ref())?;
            let mut parsed = parsed;
            let update = parsed.update.take().expect("checked present");
            let storage_key = key.storage_key(def.number);
            let op = Op::Update {
                update,
                key_attrs: key.attrs,
            };
            (storage_key, parsed, op)
        }
        ActionKind::Delete | ActionKind::ConditionCheck => {
            let key = key_from_request(def, a.key.as_ref().expect("checked present"))?;
            let parsed = parse_expressions(exprs)?;
            let op = if kind == ActionKind::Delete {
                Op::Delete
            } else {
                Op::Check
            };
            (key.storage_key(def.number), parsed, op)
        }
    };
    let return_old = return_old_on_failure(a.return_values_on_condition_check_failure.as_deref())?;
    Ok(Action {
        table,
        storage_key,
        condition: parsed.condition,
        return_old,
        op,
    })
}

/// A hash of the request's TransactItems that does not depend on the order
/// of JSON object members, so the same request always hashes the same.
fn request_hash(body: &[u8]) -> Result<[u8; 16]> {
    fn feed(h: &mut Xxh3, v: &Value) {
        fn bytes(h: &mut Xxh3, tag: u8, b: &[u8]) {
            h.update(&[tag]);
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        }
        match v {
            Value::Null => h.update(b"z"),
            Value::Bool(true) => h.update(b"t"),
            Value::Bool(false) => h.update(b"f"),
            Value::Number(n) => bytes(h, b'n', n.to_string().as_bytes()),
            Value::String(s) => bytes(h, b's', s.as_bytes()),
            Value::Array(a) => {
                h.update(b"[");
                h.update(&(a.len() as u64).to_le_bytes());
                a.iter().for_each(|x| feed(h, x));
            }
            Value::Object(m) => {
                h.update(b"{");
                h.update(&(m.len() as u64).to_le_bytes());
                let mut members: Vec<_> = m.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                for (k, x) in members {
                    bytes(h, b'k', k.as_bytes());
                    feed(h, x);
                }
            }
        }
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| DynamoError::Internal(format!("request re-read failed: {e}")))?;
    let mut h = Xxh3::new();
    feed(&mut h, v.get("TransactItems").unwrap_or(&Value::Null));
    Ok(h.digest128().to_le_bytes())
}

/// Removes a few tokens whose window has passed.
fn sweep_tokens(txn: &mut WriteTxn<'_>, now: u64) -> Result<()> {
    let lower = [layout::TOKEN_EXPIRY_TAG];
    let upper = layout::token_expiry_key(now, &[]);
    let mut expired = Vec::new();
    txn.scan(
        Bound::Included(&lower[..]),
        Bound::Included(&upper[..]),
        false,
        &mut |k, _| {
            expired.push(k.to_vec());
            expired.len() < TOKEN_SWEEP
        },
    )?;
    for index_key in expired {
        let token_key = &index_key[9..];
        // The token may have been bound again since; only an expired
        // binding goes.
        let still_expired = txn
            .get_with(token_key, |v| token_expiry(v) <= now)?
            .unwrap_or(false);
        if still_expired {
            txn.delete(token_key);
        }
        txn.delete(&index_key);
    }
    Ok(())
}

fn token_expiry(record: &[u8]) -> u64 {
    record
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn token_record(expires: u64, hash: &[u8; 16]) -> [u8; 24] {
    let mut r = [0u8; 24];
    r[..8].copy_from_slice(&expires.to_be_bytes());
    r[8..].copy_from_slice(hash);
    r
}

/// Units per action, reported per table in the order tables first appear.
fn consumed_per_table(
    mode: ReturnCapacity,
    tables: &[Arc<Table>],
    units: &[f64],
    kind: Kind,
) -> Option<Value> {
    if mode == ReturnCapacity::None {
        return None;
    }
    let mut order: Vec<(&str, f64)> = Vec::new();
    for (t, u) in tables.iter().zip(units) {
        match order.iter_mut().find(|(name, _)| *name == t.def.name) {
            Some((_, total)) => *total += u,
            None => order.push((&t.def.name, *u)),
        }
    }
    Some(Value::Array(
        order
            .into_iter()
            .filter_map(|(name, u)| capacity::consumed(mode, name, u, kind))
            .collect(),
    ))
}

fn cancellation(code: &str, message: Option<String>, item: Option<Value>) -> Value {
    let mut r = Map::new();
    r.insert("Code".into(), Value::String(code.into()));
    if let Some(m) = message {
        r.insert("Message".into(), Value::String(m));
    }
    if let Some(item) = item {
        r.insert("Item".into(), item);
    }
    Value::Object(r)
}

/// What the write call returns.
enum Outcome {
    /// Applied: write units per action.
    Applied(Vec<f64>),
    /// A retry of a request already applied under the same token: read
    /// units per action.
    Replayed(Vec<f64>),
}

/// A write an action will make once every condition has passed.
struct Pending {
    /// This action's entry in the units list.
    unit: usize,
    key: Vec<u8>,
    table: Arc<Table>,
    /// The stored value before the write.
    old: Option<Vec<u8>>,
    /// The new stored value and its item size; `None` deletes.
    new: Option<(Vec<u8>, usize)>,
}

pub async fn transact_write_items(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: TransactWriteItemsInput = decode(body)?;
    let mut v = Violations::new();
    check_list_length(&mut v, input.transact_items.as_ref().map(Vec::len));
    for (i, item) in input.transact_items.iter().flatten().enumerate() {
        for (kind, a) in [
            (ActionKind::ConditionCheck, &item.condition_check),
            (ActionKind::Put, &item.put),
            (ActionKind::Update, &item.update),
            (ActionKind::Delete, &item.delete),
        ] {
            if let Some(a) = a {
                check_action_members(&mut v, i, kind, a);
            }
        }
    }
    check_token(&mut v, input.client_request_token.as_deref());
    check_item_collection_metrics(&mut v, input.return_item_collection_metrics.as_deref());
    v.into_result()?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    let items = input.transact_items.unwrap_or_default();
    let mut actions = Vec::with_capacity(items.len());
    for item in items {
        let mut given = [
            (ActionKind::ConditionCheck, item.condition_check),
            (ActionKind::Put, item.put),
            (ActionKind::Update, item.update),
            (ActionKind::Delete, item.delete),
        ]
        .into_iter()
        .filter_map(|(kind, a)| a.map(|a| (kind, a)));
        let (Some((kind, a)), None) = (given.next(), given.next()) else {
            return Err(DynamoError::validation(
                "TransactItems can only contain one of Check, Put, Update or Delete",
            ));
        };
        actions.push(prepare(db, caller, kind, a)?);
    }
    let mut seen = HashSet::with_capacity(actions.len());
    if !actions
        .iter()
        .all(|a| seen.insert(a.storage_key.as_slice()))
    {
        return Err(duplicate_item());
    }
    let put_bytes: usize = actions
        .iter()
        .map(|a| match a.op {
            Op::Put { size, .. } => size,
            _ => 0,
        })
        .sum();
    if put_bytes > MAX_TRANSACTION_BYTES {
        return Err(DynamoError::validation(
            "Transaction request size has exceeded the maximum allowed size of 4 MB",
        ));
    }

    let token = match &input.client_request_token {
        Some(t) => Some((
            layout::token_key(&caller.account_id, &caller.region, t),
            request_hash(body)?,
        )),
        None => None,
    };
    let tables: Vec<Arc<Table>> = actions.iter().map(|a| a.table.clone()).collect();
    let now = db.clock.now_ms();
    let outcome = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<Outcome> {
            sweep_tokens(txn, now)?;
            if let Some((token_key, hash)) = &token {
                if let Some(record) = txn.get(token_key)? {
                    if token_expiry(&record) > now {
                        if record[8..] != hash[..] {
                            return Err(DynamoError::IdempotentParameterMismatch(
                                "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used."
                                    .into(),
                            ));
                        }
                        let mut units = Vec::with_capacity(actions.len());
                        for a in &actions {
                            let size = txn
                                .get_with(&a.storage_key, |v| decode_stored(v).0)?
                                .unwrap_or(0);
                            units.push(2.0 * capacity::read_units(size, true));
                        }
                        return Ok(Outcome::Replayed(units));
                    }
                }
            }
            run_actions(txn, actions, token.as_ref().map(|(k, h)| (k.as_slice(), h)), now)
        })
        .await?;
    let consumed = match outcome {
        Outcome::Applied(units) => consumed_per_table(capacity_mode, &tables, &units, Kind::Write),
        Outcome::Replayed(units) => consumed_per_table(capacity_mode, &tables, &units, Kind::Read),
    };
    let mut out = Map::new();
    if let Some(c) = consumed {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Output::Json(Value::Object(out)))
}

/// The body of a write transaction inside its store write call: every
/// condition first, then, if all passed, every write.
fn run_actions(
    txn: &mut WriteTxn<'_>,
    actions: Vec<Action>,
    token: Option<(&[u8], &[u8; 16])>,
    now: u64,
) -> Result<Outcome> {
    if actions.iter().any(|a| a.table.is_dropped()) {
        return Err(DynamoError::resource_not_found());
    }
    let mut reasons = Vec::with_capacity(actions.len());
    let mut units = Vec::with_capacity(actions.len());
    let mut cancelled = false;
    let mut pending = Vec::with_capacity(actions.len());
    for a in actions {
        let old = txn.get(&a.storage_key)?;
        let old_size = old.as_deref().map(|v| decode_stored(v).0);
        let needs_item = a.condition.is_some() || matches!(a.op, Op::Update { .. });
        let old_item = match old.as_deref() {
            Some(v) if needs_item => Some(parse_stored(decode_stored(v).1)?),
            _ => None,
        };
        match check_condition(a.condition.as_ref(), old_item.as_ref(), a.return_old) {
            Ok(()) => {}
            Err(DynamoError::ConditionalCheckFailed { item }) => {
                cancelled = true;
                reasons.push(cancellation(
                    "ConditionalCheckFailed",
                    Some(CONDITION_FAILED_TEXT.into()),
                    item,
                ));
                continue;
            }
            Err(e) => return Err(e),
        }
        let new = match a.op {
            Op::Check => {
                reasons.push(cancellation("None", None, None));
                units.push(2.0 * capacity::write_units(old_size.unwrap_or(0)));
                continue;
            }
            Op::Delete => None,
            Op::Put { stored, size } => Some((stored, size)),
            Op::Update { update, key_attrs } => {
                match updated_item(&a.table.def, Some(&update), old_item.as_ref(), &key_attrs) {
                    Ok((item, size)) => Some((encode_stored(size, &item_json(&item)), size)),
                    Err(DynamoError::Validation(message)) => {
                        cancelled = true;
                        reasons.push(cancellation("ValidationError", Some(message), None));
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        reasons.push(cancellation("None", None, None));
        let new_size = new.as_ref().map(|(_, s)| *s);
        units.push(2.0 * capacity::write_units(new_size.unwrap_or(0).max(old_size.unwrap_or(0))));
        pending.push(Pending {
            unit: units.len() - 1,
            key: a.storage_key,
            table: a.table,
            old,
            new,
        });
    }
    if cancelled {
        return Err(DynamoError::TransactionCanceled { reasons });
    }
    for p in pending {
        let new = p.new.as_ref().map(|(stored, _)| stored.as_slice());
        let spent = replace_item(txn, &p.table, &p.key, p.old.as_deref(), new)?;
        // Transactional writes cost double, on the indexes too.
        units[p.unit] += 2.0 * spent.iter().map(|i| i.units).sum::<f64>();
    }
    if let Some((token_key, hash)) = token {
        let expires = now + TOKEN_WINDOW_MS;
        txn.put(token_key, &token_record(expires, hash));
        txn.put(&layout::token_expiry_key(expires, token_key), &[]);
    }
    Ok(Outcome::Applied(units))
}

/// One validated Get.
struct Get {
    table: Arc<Table>,
    storage_key: Vec<u8>,
    projection: Option<Projection>,
}

pub async fn transact_get_items(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: TransactGetItemsInput = decode(body)?;
    let mut v = Violations::new();
    check_list_length(&mut v, input.transact_items.as_ref().map(Vec::len));
    for (i, item) in input.transact_items.iter().flatten().enumerate() {
        let base = format!("transactItems.{}.member.get", i + 1);
        match &item.get {
            None => v.add("null", &base, "Member must not be null"),
            Some(g) => {
                v.check_name(
                    g.table_name.as_deref(),
                    &format!("{base}.tableName"),
                    3,
                    255,
                );
                check_present(&mut v, g.key.is_some(), &format!("{base}.key"));
            }
        }
    }
    v.into_result()?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    let mut gets = Vec::new();
    for item in input.transact_items.unwrap_or_default() {
        let g = item.get.expect("checked present");
        let table = table_for(db, caller, g.table_name.as_deref())?;
        let key = key_from_request(&table.def, g.key.as_ref().expect("checked present"))?;
        let mut subs = substitutions(
            g.expression_attribute_names,
            None,
            &[("ProjectionExpression", g.projection_expression.is_some())],
        )?;
        let projection = g
            .projection_expression
            .as_deref()
            .map(|p| parse_projection(p, &mut subs))
            .transpose()?;
        subs.check_all_used()?;
        let storage_key = key.storage_key(table.def.number);
        gets.push(Get {
            table,
            storage_key,
            projection,
        });
    }
    let mut seen = HashSet::with_capacity(gets.len());
    if !gets.iter().all(|g| seen.insert(g.storage_key.as_slice())) {
        return Err(duplicate_item());
    }

    let snapshot = db.store.snapshot()?;
    if gets.iter().any(|g| g.table.is_dropped()) {
        return Err(DynamoError::resource_not_found());
    }
    let mut out = Vec::with_capacity(64 * gets.len() + 64);
    out.extend_from_slice(b"{\"Responses\":[");
    let mut units = Vec::with_capacity(gets.len());
    for (i, g) in gets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let found = snapshot
            .get_with(&g.storage_key, |v| {
                let (size, json) = decode_stored(v);
                match &g.projection {
                    None => Ok((size, json.to_vec())),
                    Some(p) => parse_stored(json).map(|item| (size, item_json(&p.apply(&item)))),
                }
            })?
            .transpose()?;
        match &found {
            Some((_, json)) => {
                out.extend_from_slice(b"{\"Item\":");
                out.extend_from_slice(json);
                out.push(b'}');
            }
            None => out.extend_from_slice(b"{}"),
        }
        let size = found.as_ref().map_or(0, |(s, _)| *s);
        units.push(2.0 * capacity::read_units(size, true));
    }
    out.push(b']');
    let tables: Vec<Arc<Table>> = gets.iter().map(|g| g.table.clone()).collect();
    if let Some(c) = consumed_per_table(capacity_mode, &tables, &units, Kind::Read) {
        out.extend_from_slice(b",\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, &c).expect("json serializes");
    }
    out.push(b'}');
    Ok(Output::Bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_hash_ignores_member_order() {
        let a = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1"}}}}],"ClientRequestToken":"x"}"#;
        let b = br#"{"ClientRequestToken":"x","TransactItems":[{"Put":{"Item":{"n":{"N":"1"},"pk":{"S":"a"}},"TableName":"t"}}]}"#;
        let c = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"2"}}}}]}"#;
        assert_eq!(request_hash(a).unwrap(), request_hash(b).unwrap());
        assert_ne!(request_hash(a).unwrap(), request_hash(c).unwrap());
    }

    #[test]
    fn cancellation_message_lists_codes_in_order() {
        let err = DynamoError::TransactionCanceled {
            reasons: vec![
                cancellation("None", None, None),
                cancellation(
                    "ConditionalCheckFailed",
                    Some(CONDITION_FAILED_TEXT.into()),
                    Some(json!({"pk": {"S": "a"}})),
                ),
            ],
        }
        .into_aws();
        assert_eq!(err.code, "TransactionCanceledException");
        assert_eq!(
            err.message,
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
        );
        let reasons = &err.extra.unwrap()["CancellationReasons"];
        assert_eq!(reasons[0], json!({"Code": "None"}));
        assert_eq!(reasons[1]["Item"], json!({"pk": {"S": "a"}}));
    }
}
