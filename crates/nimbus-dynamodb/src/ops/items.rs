//! Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.
//!
//! Every write runs its read-check-write inside one store write call, so a
//! condition is evaluated against exactly the item it replaces, and a
//! failed condition or update writes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use nimbus_store::{ReadView, WriteTxn};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::capacity::{self, IndexUnits, Kind, ReturnCapacity};
use crate::catalog::Table;
use crate::codec::{check_table_name, decode, require};
use crate::error::{DynamoError, Result};
use crate::expr::{parse_projection, Condition, Projection, Update};
use crate::keys::{key_from_request, ItemKey};
use crate::layout::{decode_stored, encode_stored};
use crate::legacy::{self, Members};
use crate::model::Item;
use crate::ops::write::{
    check_condition, check_update_keys, item_json, item_value, new_item, parse_expressions,
    replace_item, required, updated_item, Expressions, NewItem,
};
use crate::request::{return_old_on_failure, substitutions, ReturnValues};
use crate::{Caller, DynamoDb, Output};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutItemInput {
    table_name: Option<String>,
    item: Option<Map<String, Value>>,
    condition_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Map<String, Value>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    expected: Option<legacy::Expected>,
    conditional_operator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Value>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    return_consumed_capacity: Option<String>,
    attributes_to_get: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Value>>,
    update_expression: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Map<String, Value>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    attribute_updates: Option<legacy::AttributeUpdates>,
    expected: Option<legacy::Expected>,
    conditional_operator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Value>>,
    condition_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Map<String, Value>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    expected: Option<legacy::Expected>,
    conditional_operator: Option<String>,
}

/// The live table a data-plane request names.
pub(crate) fn table_for(db: &DynamoDb, caller: &Caller, name: Option<&str>) -> Result<Arc<Table>> {
    let name = check_table_name(name)?;
    db.catalog
        .get(&caller.account_id, &caller.region, name)
        .ok_or_else(DynamoError::resource_not_found)
}

/// Parses an item read back from the store (our own canonical JSON).
pub(crate) fn parse_stored(json: &[u8]) -> Result<Item> {
    serde_json::from_slice(json)
        .map_err(|e| DynamoError::Internal(format!("stored item is unreadable: {e}")))
}

/// The condition members of a PutItem or DeleteItem.
struct ConditionMembers {
    expression: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<Map<String, Value>>,
    expected: Option<legacy::Expected>,
    conditional_operator: Option<String>,
}

impl ConditionMembers {
    /// AWS's first checks: the legacy members' enums, then the mixing rule.
    fn check(&self) -> Result<()> {
        legacy::check_write(
            self.expected.as_ref(),
            self.conditional_operator.as_deref(),
            None,
            Members {
                expected: self.expected.is_some(),
                conditional_operator: self.conditional_operator.is_some(),
                condition_expression: self.expression.is_some(),
                ..Members::default()
            },
        )
    }

    /// The condition the members make, parsed and checked.
    fn condition(self) -> Result<Option<Condition>> {
        let parsed = parse_expressions(Expressions {
            update_member: false,
            condition: self.expression,
            update: None,
            names: self.names,
            values: self.values,
        })?;
        write_condition(
            parsed.condition,
            self.expected.as_ref(),
            self.conditional_operator.as_deref(),
        )
    }
}

/// A write's condition: its ConditionExpression, or else what Expected and
/// ConditionalOperator make (the mixing rule allows only one of the two).
fn write_condition(
    expression: Option<Condition>,
    expected: Option<&legacy::Expected>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>> {
    match expression {
        Some(c) => Ok(Some(c)),
        None => legacy::expected(expected, conditional_operator),
    }
}

fn write_response(attributes: Option<Value>, consumed: Option<Value>) -> Output {
    let mut out = Map::new();
    if let Some(a) = attributes {
        out.insert("Attributes".into(), a);
    }
    if let Some(c) = consumed {
        out.insert("ConsumedCapacity".into(), c);
    }
    Output::Json(Value::Object(out))
}

/// What PutItem's write returns: the old item's size, its JSON when asked
/// for, and the index write units.
type PutOutcome = (Option<usize>, Option<Vec<u8>>, Vec<IndexUnits>);

pub async fn put_item(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: PutItemInput = decode(body)?;
    require(&[
        ("tableName", input.table_name.is_some()),
        ("item", input.item.is_some()),
    ])?;
    let table = table_for(db, caller, input.table_name.as_deref())?;
    let condition = ConditionMembers {
        expression: input.condition_expression,
        names: input.expression_attribute_names,
        values: input.expression_attribute_values,
        expected: input.expected,
        conditional_operator: input.conditional_operator,
    };
    condition.check()?;
    let NewItem { key, item, size } = new_item(&table.def, required(&input.item, "item")?)?;
    let condition = condition.condition()?;
    let return_values =
        ReturnValues::parse(input.return_values.as_deref(), &[ReturnValues::AllOld])?;
    let return_old =
        return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    let stored = encode_stored(size, &item_json(&item));
    let storage_key = key.storage_key(table.def.number);
    let t = table.clone();
    let (old_size, old_json, index_units) = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<PutOutcome> {
            if t.is_dropped() {
                return Err(DynamoError::resource_not_found());
            }
            let old = txn.get(&storage_key)?;
            let old_size = old.as_deref().map(|v| decode_stored(v).0);
            if condition.is_some() {
                let old_item = old
                    .as_deref()
                    .map(|v| parse_stored(decode_stored(v).1))
                    .transpose()?;
                check_condition(condition.as_ref(), old_item.as_ref(), return_old)?;
            }
            let index_units = replace_item(txn, &t, &storage_key, old.as_deref(), Some(&stored))?;
            let old_json = match return_values {
                ReturnValues::AllOld => old.map(|v| decode_stored(&v).1.to_vec()),
                _ => None,
            };
            Ok((old_size, old_json, index_units))
        })
        .await?;
    let attributes = old_json
        .map(|j| serde_json::from_slice(&j))
        .transpose()
        .map_err(|e| DynamoError::Internal(e.to_string()))?;
    let units = capacity::write_units(size.max(old_size.unwrap_or(0)));
    Ok(write_response(
        attributes,
        capacity::consumed_write(capacity_mode, &table.def.name, units, &index_units),
    ))
}

pub async fn get_item(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: GetItemInput = decode(body)?;
    require(&[
        ("tableName", input.table_name.is_some()),
        ("key", input.key.is_some()),
    ])?;
    let table = table_for(db, caller, input.table_name.as_deref())?;
    let legacy = legacy::read(
        None,
        None,
        None,
        input.attributes_to_get.as_deref(),
        Members {
            attributes_to_get: input.attributes_to_get.is_some(),
            projection_expression: input.projection_expression.is_some(),
            ..Members::default()
        },
    )?;
    let key = key_from_request(&table.def, required(&input.key, "key")?)?;
    let mut subs = substitutions(
        input.expression_attribute_names,
        None,
        &[(
            "ProjectionExpression",
            input.projection_expression.is_some(),
        )],
    )?;
    let projection = match &input.projection_expression {
        Some(p) => Some(parse_projection(p, &mut subs)?),
        None => legacy.projection,
    };
    subs.check_all_used()?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;
    let consistent = input.consistent_read.unwrap_or(false);

    let snapshot = db.store.snapshot()?;
    let storage_key = key.storage_key(table.def.number);
    // Without a projection the stored JSON goes out as it is, unparsed.
    let found = snapshot.get_with(&storage_key, |v| {
        let (size, json) = decode_stored(v);
        match &projection {
            None => Ok((size, json.to_vec())),
            Some(p) => parse_stored(json).map(|item| (size, item_json(&p.apply(&item)))),
        }
    })?;
    let found = found.transpose()?;
    let size = found.as_ref().map_or(0, |(s, _)| *s);
    let consumed = capacity::consumed(
        capacity_mode,
        &table.def.name,
        capacity::read_units(size, consistent),
        Kind::Read,
    );
    let mut out = Vec::with_capacity(found.as_ref().map_or(2, |(_, j)| j.len() + 16));
    out.push(b'{');
    if let Some((_, json)) = &found {
        out.extend_from_slice(b"\"Item\":");
        out.extend_from_slice(json);
    }
    if let Some(c) = consumed {
        if found.is_some() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, &c).expect("json serializes");
    }
    out.push(b'}');
    Ok(Output::Bytes(out))
}

/// Attributes an update touched, as they are in `item` (UPDATED_OLD /
/// UPDATED_NEW).
fn updated_attributes(update: Option<&Update>, item: &Item) -> Option<Value> {
    let update = update?;
    let projection = Projection {
        paths: update.paths().cloned().collect(),
    };
    let projected = projection.apply(item);
    (!projected.is_empty()).then(|| item_value(&projected))
}

pub async fn update_item(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: UpdateItemInput = decode(body)?;
    require(&[
        ("tableName", input.table_name.is_some()),
        ("key", input.key.is_some()),
    ])?;
    let table = table_for(db, caller, input.table_name.as_deref())?;
    legacy::check_write(
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        input.attribute_updates.as_ref(),
        Members {
            attribute_updates: input.attribute_updates.is_some(),
            expected: input.expected.is_some(),
            conditional_operator: input.conditional_operator.is_some(),
            update_expression: input.update_expression.is_some(),
            condition_expression: input.condition_expression.is_some(),
            ..Members::default()
        },
    )?;
    let key = key_from_request(&table.def, required(&input.key, "key")?)?;
    let parsed = parse_expressions(Expressions {
        update_member: true,
        condition: input.condition_expression,
        update: input.update_expression,
        names: input.expression_attribute_names,
        values: input.expression_attribute_values,
    })?;
    let update = match parsed.update {
        Some(u) => Some(u),
        None => input
            .attribute_updates
            .as_ref()
            .map(legacy::attribute_updates)
            .transpose()?,
    };
    let condition = write_condition(
        parsed.condition,
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
    )?;
    check_update_keys(&table.def, update.as_ref())?;
    let return_values = ReturnValues::parse(
        input.return_values.as_deref(),
        &[
            ReturnValues::AllOld,
            ReturnValues::UpdatedOld,
            ReturnValues::AllNew,
            ReturnValues::UpdatedNew,
        ],
    )?;
    let return_old =
        return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    let storage_key = key.storage_key(table.def.number);
    let t = table.clone();
    let ItemKey {
        attrs: key_attrs, ..
    } = key;
    let (units, index_units, attributes) = db
        .store
        .write(
            move |txn: &mut WriteTxn<'_>| -> Result<(f64, Vec<IndexUnits>, Option<Value>)> {
                if t.is_dropped() {
                    return Err(DynamoError::resource_not_found());
                }
                let old = txn.get(&storage_key)?;
                let (old_size, old_item) = match old.as_deref() {
                    Some(v) => {
                        let (size, json) = decode_stored(v);
                        (Some(size), Some(parse_stored(json)?))
                    }
                    None => (None, None),
                };
                check_condition(condition.as_ref(), old_item.as_ref(), return_old)?;
                let (new_item, new_size) =
                    updated_item(&t.def, update.as_ref(), old_item.as_ref(), &key_attrs)?;
                let index_units = replace_item(
                    txn,
                    &t,
                    &storage_key,
                    old.as_deref(),
                    Some(&encode_stored(new_size, &item_json(&new_item))),
                )?;
                let attributes = match return_values {
                    ReturnValues::None => None,
                    ReturnValues::AllOld => old_item.as_ref().map(item_value),
                    ReturnValues::AllNew => Some(item_value(&new_item)),
                    ReturnValues::UpdatedOld => old_item
                        .as_ref()
                        .and_then(|o| updated_attributes(update.as_ref(), o)),
                    ReturnValues::UpdatedNew => updated_attributes(update.as_ref(), &new_item),
                };
                Ok((
                    capacity::write_units(new_size.max(old_size.unwrap_or(0))),
                    index_units,
                    attributes,
                ))
            },
        )
        .await?;
    Ok(write_response(
        attributes,
        capacity::consumed_write(capacity_mode, &table.def.name, units, &index_units),
    ))
}

pub async fn delete_item(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: DeleteItemInput = decode(body)?;
    require(&[
        ("tableName", input.table_name.is_some()),
        ("key", input.key.is_some()),
    ])?;
    let table = table_for(db, caller, input.table_name.as_deref())?;
    let condition = ConditionMembers {
        expression: input.condition_expression,
        names: input.expression_attribute_names,
        values: input.expression_attribute_values,
        expected: input.expected,
        conditional_operator: input.conditional_operator,
    };
    condition.check()?;
    let key = key_from_request(&table.def, required(&input.key, "key")?)?;
    let condition = condition.condition()?;
    let return_values =
        ReturnValues::parse(input.return_values.as_deref(), &[ReturnValues::AllOld])?;
    let return_old =
        return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;

    let storage_key = key.storage_key(table.def.number);
    let t = table.clone();
    let (old_size, old_item, index_units) = db
        .store
        .write(
            move |txn: &mut WriteTxn<'_>| -> Result<(Option<usize>, Option<Item>, Vec<IndexUnits>)> {
                if t.is_dropped() {
                    return Err(DynamoError::resource_not_found());
                }
                let old = txn.get(&storage_key)?;
                let (old_size, old_item) = match old.as_deref() {
                    Some(v) => {
                        let (size, json) = decode_stored(v);
                        let needs_item =
                            condition.is_some() || return_values == ReturnValues::AllOld;
                        (
                            Some(size),
                            if needs_item {
                                Some(parse_stored(json)?)
                            } else {
                                None
                            },
                        )
                    }
                    None => (None, None),
                };
                check_condition(condition.as_ref(), old_item.as_ref(), return_old)?;
                let index_units = replace_item(txn, &t, &storage_key, old.as_deref(), None)?;
                Ok((old_size, old_item, index_units))
            },
        )
        .await?;
    let attributes = match return_values {
        ReturnValues::AllOld => old_item.as_ref().map(item_value),
        _ => None,
    };
    Ok(write_response(
        attributes,
        capacity::consumed_write(
            capacity_mode,
            &table.def.name,
            capacity::write_units(old_size.unwrap_or(0)),
            &index_units,
        ),
    ))
}
