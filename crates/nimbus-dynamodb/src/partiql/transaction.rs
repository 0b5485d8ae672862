//! ExecuteTransaction: up to 100 statements, all reads or all writes, run
//! as one TransactGetItems or one TransactWriteItems. The transaction
//! machinery is the operations' own, so atomicity, the one-action-per-item
//! rule, ClientRequestToken idempotency and cancellation behave exactly as
//! they do there.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::ast::Statement;
use super::error::{self, invalid, without_expression_prefix, PartiqlError};
use super::keys::exact_key;
use super::members::{check_length, check_list, check_member};
use super::parser::parse;
use super::select::{project, projected_paths};
use super::values::bind_parameters;
use super::{output_json, write};
use crate::capacity::ReturnCapacity;
use crate::codec::{decode, Violations};
use crate::error::DynamoError;
use crate::model::AttributeValue;
use crate::ops::items::table_for;
use crate::ops::transact::{transact_get_items, transact_write_items, MAX_ACTIONS};
use crate::ops::write::{parse_expressions, Expressions};
use crate::{Caller, DynamoDb, Output};

const MIXED: &str =
    "ExecuteTransaction API does not support both read and write operations in the same request.";
const READ_NOT_BY_KEY: &str =
    "Select statements within ExecuteTransaction must specify the primary key in the where clause.";
const READ_ON_INDEX: &str = "Reads on indices are not supported within transactions.";
const RETURNING: &str = "RETURNING clause is not supported in ExecuteTransaction.";
/// Longest ClientRequestToken.
const MAX_TOKEN: usize = 36;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactionInput {
    transact_statements: Option<Vec<TransactStatement>>,
    client_request_token: Option<String>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactStatement {
    statement: Option<String>,
    parameters: Option<Vec<Value>>,
    return_values_on_condition_check_failure: Option<String>,
}

/// A statement's own validation error, named by its position.
fn at(i: usize, e: DynamoError) -> DynamoError {
    match e {
        DynamoError::Validation(m) => {
            DynamoError::Validation(format!("Validation failed in TransactStatements[{i}]: {m}"))
        }
        other => other,
    }
}

fn check_request(v: &mut Violations, input: &TransactionInput) {
    let statements = input.transact_statements.as_deref();
    check_list(
        v,
        statements.map(<[_]>::len),
        "transactStatements",
        MAX_ACTIONS,
    );
    for (i, s) in statements.into_iter().flatten().enumerate() {
        check_member(
            v,
            &format!("transactStatements.{}.member", i + 1),
            s.statement.as_deref(),
            s.parameters.as_deref(),
            s.return_values_on_condition_check_failure.as_deref(),
        );
    }
    check_length(
        v,
        input.client_request_token.as_deref(),
        "clientRequestToken",
        MAX_TOKEN,
    );
}

pub async fn execute_transaction(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Output, PartiqlError> {
    let input: TransactionInput = decode(body)?;
    let mut v = Violations::new();
    check_request(&mut v, &input);
    v.into_result()?;
    ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;
    let statements = input.transact_statements.unwrap_or_default();

    let mut reads = None;
    let mut parsed = Vec::with_capacity(statements.len());
    for (i, s) in statements.iter().enumerate() {
        let p = parse(s.statement.as_deref().unwrap_or_default()).map_err(|e| at(i, e))?;
        let is_read = p.statement.is_read();
        match reads {
            None => reads = Some(is_read),
            Some(r) if r != is_read => return Err(invalid(MIXED)),
            Some(_) => {}
        }
        let params = bind_parameters(s.parameters.as_deref(), p.parameters)?;
        parsed.push((p.statement, params));
    }
    let capacity = input.return_consumed_capacity.as_deref();
    if reads == Some(true) {
        return read(db, caller, &parsed, capacity).await;
    }
    let mut actions = Vec::with_capacity(parsed.len());
    let mut kinds = Vec::with_capacity(parsed.len());
    for (i, ((statement, params), s)) in parsed.iter().zip(&statements).enumerate() {
        let returning = match statement {
            Statement::Update(u) => u.returning.is_some(),
            Statement::Delete(d) => d.returning.is_some(),
            _ => false,
        };
        if returning {
            return Err(at(i, invalid(RETURNING)));
        }
        let action = match write::plan(db, caller, statement, params) {
            Ok(a) => a,
            Err(DynamoError::Validation(m)) if is_key_error(&m) => {
                return Err(key_cancellation(parsed.len(), i, m))
            }
            Err(e) => return Err(at(i, e)),
        };
        let mut body = action.body;
        // The action's expressions are checked here, so an error names the
        // statement it came from.
        parse_expressions(expressions(&body)).map_err(|e| at(i, without_expression_prefix(e)))?;
        if let Some(r) = &s.return_values_on_condition_check_failure {
            body.insert("ReturnValuesOnConditionCheckFailure".into(), json!(r));
        }
        kinds.push(action.kind);
        actions.push(json!({ action.kind.action(): Value::Object(body) }));
    }
    let mut request = Map::new();
    request.insert("TransactItems".into(), Value::Array(actions));
    if let Some(t) = &input.client_request_token {
        request.insert("ClientRequestToken".into(), json!(t));
    }
    if let Some(c) = capacity {
        request.insert("ReturnConsumedCapacity".into(), json!(c));
    }
    let bytes = serde_json::to_vec(&Value::Object(request)).expect("json serializes");
    let out = transact_write_items(db, caller, &bytes)
        .await
        .map_err(|e| match e {
            DynamoError::TransactionCanceled { reasons } => DynamoError::TransactionCanceled {
                reasons: reasons
                    .into_iter()
                    .zip(&kinds)
                    .map(|(r, kind)| insert_reason(r, *kind))
                    .collect(),
            },
            other => without_expression_prefix(other),
        })?;
    let out = output_json(out)?;
    let mut response = Map::new();
    response.insert("Responses".into(), json!([]));
    if let Some(c) = out.get("ConsumedCapacity") {
        response.insert("ConsumedCapacity".into(), c.clone());
    }
    Ok(Output::Json(Value::Object(response)))
}

/// An INSERT whose condition failed found its key taken.
fn insert_reason(reason: Value, kind: write::Kind) -> Value {
    if kind == write::Kind::Put && reason["Code"] == "ConditionalCheckFailed" {
        return json!({ "Code": "DuplicateItem", "Message": error::DUPLICATE_ITEM });
    }
    reason
}

/// Errors about the key a write statement names, which a transaction
/// reports as that statement's cancellation reason.
fn is_key_error(m: &str) -> bool {
    m == error::MISSING_KEY_EQUALITY
        || m.starts_with("Multiple conditions on same key")
        || m.starts_with("Key attribute should be present in the item")
        || m.starts_with("Key attribute's data type should match")
}

fn key_cancellation(count: usize, at: usize, message: String) -> DynamoError {
    let reasons = (0..count)
        .map(|i| {
            if i == at {
                json!({ "Code": "ValidationError", "Message": message })
            } else {
                json!({ "Code": "None" })
            }
        })
        .collect();
    DynamoError::TransactionCanceled { reasons }
}

/// The expression members of an action body, as the write core takes them.
fn expressions(body: &Map<String, Value>) -> Expressions {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    Expressions {
        update_member: body.contains_key("UpdateExpression"),
        condition: text("ConditionExpression"),
        update: text("UpdateExpression"),
        names: body
            .get("ExpressionAttributeNames")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        values: body
            .get("ExpressionAttributeValues")
            .and_then(|v| v.as_object().cloned()),
    }
}

async fn read(
    db: &DynamoDb,
    caller: &Caller,
    parsed: &[(Statement, Vec<AttributeValue>)],
    capacity: Option<&str>,
) -> Result<Output, PartiqlError> {
    let mut gets = Vec::with_capacity(parsed.len());
    let mut projections = Vec::with_capacity(parsed.len());
    for (i, (statement, params)) in parsed.iter().enumerate() {
        let Statement::Select(select) = statement else {
            return Err(invalid(MIXED));
        };
        projections.push(projected_paths(&select.projection).map_err(|e| at(i, e))?);
        if select.source.index.is_some() {
            return Err(at(i, invalid(READ_ON_INDEX)));
        }
        let table = table_for(db, caller, Some(&select.source.table))?;
        let key = exact_key(&table.def, select.filter.as_ref(), params)
            .map_err(|e| at(i, e))?
            .filter(|_| select.order_by.is_empty())
            .ok_or_else(|| at(i, invalid(READ_NOT_BY_KEY)))?;
        gets.push(json!({ "Get": { "TableName": table.def.name, "Key": key } }));
    }
    let mut request = Map::new();
    request.insert("TransactItems".into(), Value::Array(gets));
    if let Some(c) = capacity {
        request.insert("ReturnConsumedCapacity".into(), json!(c));
    }
    let bytes = serde_json::to_vec(&Value::Object(request)).expect("json serializes");
    let out = output_json(transact_get_items(db, caller, &bytes).await?)?;
    let mut responses = Vec::with_capacity(projections.len());
    for (r, paths) in out["Responses"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(&projections)
    {
        responses.push(match r.get("Item") {
            Some(item) => json!({ "Item": project(item, paths)? }),
            None => json!({}),
        });
    }
    let mut response = Map::new();
    response.insert("Responses".into(), Value::Array(responses));
    if let Some(c) = out.get("ConsumedCapacity") {
        response.insert("ConsumedCapacity".into(), c.clone());
    }
    Ok(Output::Json(Value::Object(response)))
}
