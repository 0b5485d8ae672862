//! INSERT, UPDATE and DELETE (and EXISTS, in transactions) as the item
//! writes they are: PutItem, UpdateItem, DeleteItem and ConditionCheck
//! requests, built once and run either alone (ExecuteStatement,
//! BatchExecuteStatement) or as actions of one TransactWriteItems.
//!
//! The item semantics DynamoDB gives the statements become conditions:
//! INSERT writes only a new key (`attribute_not_exists`), UPDATE only an
//! existing item (`attribute_exists`, so updating a missing item fails its
//! condition), and DELETE of a missing item succeeds, so its extra
//! conditions apply only when the item exists.

use serde_json::{json, Map, Value};

use super::ast::{Delete, Expr, ExprKind, Insert, Returning, Select, Statement, Update};
use super::error::{self, invalid, without_expression_prefix, PartiqlError};
use super::keys::{fits, schema_mismatch, write_key};
use super::output_json;
use super::translate::{and_all, condition, or_all, update_expression, Cond, Writer};
use super::values::{constant, is_missing};
use crate::catalog::TableDef;
use crate::error::DynamoError;
use crate::model::{AttributeValue, Item};
use crate::ops::items::{delete_item, put_item, table_for, update_item};
use crate::{Caller, DynamoDb};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Put,
    Update,
    Delete,
    Check,
}

impl Kind {
    /// The TransactWriteItems action member.
    pub fn action(self) -> &'static str {
        match self {
            Kind::Put => "Put",
            Kind::Update => "Update",
            Kind::Delete => "Delete",
            Kind::Check => "ConditionCheck",
        }
    }
}

/// A write statement as a request.
pub struct WriteAction {
    pub kind: Kind,
    pub table: String,
    /// The members an item write and a transaction action share.
    pub body: Map<String, Value>,
    pub returning: Option<Returning>,
    /// The table and key, to find two statements on one item.
    pub identity: String,
}

/// Builds the request for a write statement (or EXISTS).
pub fn plan(
    db: &DynamoDb,
    caller: &Caller,
    statement: &Statement,
    params: &[AttributeValue],
) -> Result<WriteAction, PartiqlError> {
    match statement {
        Statement::Insert(i) => insert(db, caller, i, params),
        Statement::Update(u) => update(db, caller, u, params),
        Statement::Delete(d) => delete(db, caller, d, params),
        Statement::Exists(s) => exists(db, caller, s, params),
        Statement::Select(_) => Err(invalid("Unsupported operation: Select")),
    }
}

fn def_for(
    db: &DynamoDb,
    caller: &Caller,
    table: &str,
) -> Result<std::sync::Arc<crate::catalog::Table>, PartiqlError> {
    table_for(db, caller, Some(table))
}

fn identity(table: &str, key: &Map<String, Value>) -> String {
    format!("{table}\u{0}{}", Value::Object(key.clone()))
}

fn insert(
    db: &DynamoDb,
    caller: &Caller,
    i: &Insert,
    params: &[AttributeValue],
) -> Result<WriteAction, PartiqlError> {
    let ExprKind::Tuple(members) = &i.value.kind else {
        return Err(invalid(error::ITEM_FORMAT));
    };
    let Some(item) = super::values::item(members, params)? else {
        return Err(unsupported_member(members, params)?);
    };
    let table = def_for(db, caller, &i.table)?;
    let def = &table.def;
    let key = item_key(def, &item)?;
    let mut w = Writer::new();
    let hash = w.name(&def.hash_key.name);
    let mut body = Map::new();
    body.insert("TableName".into(), json!(def.name));
    body.insert(
        "Item".into(),
        serde_json::to_value(&item).expect("items serialize"),
    );
    body.insert(
        "ConditionExpression".into(),
        json!(format!("attribute_not_exists({hash})")),
    );
    w.attach(&mut body);
    Ok(WriteAction {
        kind: Kind::Put,
        table: def.name.clone(),
        body,
        returning: None,
        identity: identity(&def.name, &key),
    })
}

/// The message for an INSERT value that is not all literals and
/// parameters: the first member that is not.
fn unsupported_member(
    members: &[(Expr, Expr)],
    params: &[AttributeValue],
) -> Result<PartiqlError, PartiqlError> {
    for (key, value) in members {
        for e in [key, value] {
            if is_missing(e) || constant(e, params)?.is_some() {
                continue;
            }
            let what = match &e.kind {
                ExprKind::Call(name, _) => name.clone(),
                ExprKind::Path(steps) => match steps.first() {
                    Some(super::ast::Step::Name(n)) => n.clone(),
                    _ => "path".into(),
                },
                _ => "expression".into(),
            };
            return Ok(invalid(format!(
                "Unsupported data type: {what} under key root{}",
                e.pos.at()
            )));
        }
    }
    Ok(invalid(error::ITEM_FORMAT))
}

/// An inserted item's key, checked against the table's key schema.
fn item_key(def: &TableDef, item: &Item) -> Result<Map<String, Value>, PartiqlError> {
    let mut key = Map::new();
    for attr in def.key_attrs() {
        let Some(v) = item.get(&attr.name) else {
            return Err(invalid(format!(
                "Key attribute should be present in the item: Key {}",
                attr.name
            )));
        };
        if !fits(attr, v) {
            return Err(schema_mismatch(&attr.name));
        }
        key.insert(
            attr.name.clone(),
            serde_json::to_value(v).expect("values serialize"),
        );
    }
    Ok(key)
}

/// The start of a request on one item: its table and key.
fn key_body(def: &TableDef, key: &Map<String, Value>) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("TableName".into(), json!(def.name));
    body.insert("Key".into(), Value::Object(key.clone()));
    body
}

fn no_index(source: &super::ast::Source) -> Result<(), PartiqlError> {
    match source.index {
        Some(_) => Err(invalid(error::ON_INDEX)),
        None => Ok(()),
    }
}

fn rest_condition(
    rest: &[&Expr],
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<Cond, PartiqlError> {
    Ok(and_all(
        rest.iter()
            .map(|e| condition(e, params, w))
            .collect::<Result<_, _>>()?,
    ))
}

fn update(
    db: &DynamoDb,
    caller: &Caller,
    u: &Update,
    params: &[AttributeValue],
) -> Result<WriteAction, PartiqlError> {
    no_index(&u.source)?;
    let table = def_for(db, caller, &u.source.table)?;
    let def = &table.def;
    let (key, rest) = write_key(def, u.filter.as_ref(), params)?;
    let mut w = Writer::new();
    let update = update_expression(&u.actions, params, &mut w)?;
    let hash = w.name(&def.hash_key.name);
    let cond = and_all(vec![
        Cond::text(format!("attribute_exists({hash})")),
        rest_condition(&rest, params, &mut w)?,
    ]);
    let mut body = key_body(def, &key);
    body.insert("UpdateExpression".into(), json!(update));
    if let Some(c) = cond.render(&mut w) {
        body.insert("ConditionExpression".into(), json!(c));
    }
    w.attach(&mut body);
    Ok(WriteAction {
        kind: Kind::Update,
        table: def.name.clone(),
        body,
        returning: u.returning,
        identity: identity(&def.name, &key),
    })
}

fn delete(
    db: &DynamoDb,
    caller: &Caller,
    d: &Delete,
    params: &[AttributeValue],
) -> Result<WriteAction, PartiqlError> {
    if let Some(r) = d.returning.filter(|r| *r != Returning::AllOld) {
        return Err(invalid(format!(
            "Invalid returning clause: RETURNING {}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
            r.text()
        )));
    }
    no_index(&d.source)?;
    let table = def_for(db, caller, &d.source.table)?;
    let def = &table.def;
    let (key, rest) = write_key(def, d.filter.as_ref(), params)?;
    let mut w = Writer::new();
    let mut body = key_body(def, &key);
    let extra = rest_condition(&rest, params, &mut w)?;
    if extra != Cond::constant(true) {
        let hash = w.name(&def.hash_key.name);
        let cond = or_all(vec![
            Cond::text(format!("attribute_not_exists({hash})")),
            extra,
        ]);
        if let Some(c) = cond.render(&mut w) {
            body.insert("ConditionExpression".into(), json!(c));
        }
    }
    w.attach(&mut body);
    Ok(WriteAction {
        kind: Kind::Delete,
        table: def.name.clone(),
        body,
        returning: d.returning,
        identity: identity(&def.name, &key),
    })
}

const EXISTS_SHAPE: &str = "EXISTS() must contain a single item read with additional condition";

fn exists(
    db: &DynamoDb,
    caller: &Caller,
    s: &Select,
    params: &[AttributeValue],
) -> Result<WriteAction, PartiqlError> {
    if s.source.index.is_some() {
        return Err(invalid(
            "Operations on indices are not supported in transactions",
        ));
    }
    let table = def_for(db, caller, &s.source.table)?;
    let def = &table.def;
    let (key, rest) = match write_key(def, s.filter.as_ref(), params) {
        Ok(found) => found,
        Err(DynamoError::Validation(m)) if m == error::MISSING_KEY_EQUALITY => {
            return Err(invalid(EXISTS_SHAPE))
        }
        Err(e) => return Err(e),
    };
    if rest.is_empty() {
        return Err(invalid(EXISTS_SHAPE));
    }
    let mut w = Writer::new();
    let hash = w.name(&def.hash_key.name);
    // The item must exist, and then meet the condition.
    let cond = and_all(vec![
        Cond::text(format!("attribute_exists({hash})")),
        rest_condition(&rest, params, &mut w)?,
    ]);
    let mut body = key_body(def, &key);
    let c = cond.render(&mut w).unwrap_or_default();
    body.insert("ConditionExpression".into(), json!(c));
    w.attach(&mut body);
    Ok(WriteAction {
        kind: Kind::Check,
        table: def.name.clone(),
        body,
        returning: None,
        identity: identity(&def.name, &key),
    })
}

/// Runs one write as its own operation. Returns the items the statement
/// returns (RETURNING) and the consumed capacity.
pub async fn run(
    db: &DynamoDb,
    caller: &Caller,
    action: WriteAction,
    capacity: Option<&str>,
    return_old: Option<&str>,
) -> Result<(Vec<Value>, Option<Value>), PartiqlError> {
    let mut body = action.body;
    if let Some(c) = capacity {
        body.insert("ReturnConsumedCapacity".into(), json!(c));
    }
    if let Some(r) = return_old {
        body.insert("ReturnValuesOnConditionCheckFailure".into(), json!(r));
    }
    if let Some(r) = action.returning {
        body.insert("ReturnValues".into(), json!(r.return_values()));
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).expect("json serializes");
    let out = match action.kind {
        Kind::Put => put_item(db, caller, &bytes).await.map_err(|e| match e {
            // The key exists: INSERT's own error.
            DynamoError::ConditionalCheckFailed { .. } => DynamoError::DuplicateItem,
            other => other,
        }),
        Kind::Update => update_item(db, caller, &bytes).await,
        Kind::Delete => delete_item(db, caller, &bytes).await,
        Kind::Check => return Err(invalid(error::EXISTS_OUTSIDE_TRANSACTION)),
    }
    .map_err(without_expression_prefix)?;
    let out = output_json(out)?;
    let items = out
        .get("Attributes")
        .map(|a| vec![a.clone()])
        .unwrap_or_default();
    Ok((items, out.get("ConsumedCapacity").cloned()))
}
