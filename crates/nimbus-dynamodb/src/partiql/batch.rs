//! BatchExecuteStatement: up to 25 single-item reads, or up to 25 writes,
//! each succeeding or failing on its own. A statement's failure is an
//! `Error` in its response, never a failure of the request.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::ast::Statement;
use super::error::{self, invalid, PartiqlError};
use super::keys::exact_key;
use super::members::{check_list, check_member};
use super::parser::{parse, Parsed};
use super::select::{project, projected_paths};
use super::values::bind_parameters;
use super::{merge_capacity, output_json, statement_table, write};
use crate::capacity::ReturnCapacity;
use crate::codec::{decode, Violations};
use crate::error::DynamoError;
use crate::model::AttributeValue;
use crate::ops::items::{get_item, table_for};
use crate::{Caller, DynamoDb, Output};

/// Most statements in one batch.
pub const MAX_STATEMENTS: usize = 25;

const MIXED: &str = "Read and write requests together in the same batch is not supported.";
const READ_NOT_BY_KEY: &str =
    "Select statements within BatchExecuteStatement must specify the primary key in the where clause.";
const DUPLICATE_KEYS: &str = "Provided list of item keys contains duplicates";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchInput {
    statements: Option<Vec<BatchStatement>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchStatement {
    statement: Option<String>,
    parameters: Option<Vec<Value>>,
    consistent_read: Option<bool>,
    return_values_on_condition_check_failure: Option<String>,
}

/// What one statement will do once every statement is checked.
enum Entry {
    Failed(DynamoError, Option<String>),
    Read {
        table: String,
        key: Map<String, Value>,
        paths: Vec<(crate::expr::Path, String)>,
        consistent: Option<bool>,
    },
    Write(write::WriteAction, Option<String>),
}

fn check_request(v: &mut Violations, input: &BatchInput) {
    let statements = input.statements.as_deref();
    check_list(v, statements.map(<[_]>::len), "statements", MAX_STATEMENTS);
    for (i, s) in statements.into_iter().flatten().enumerate() {
        check_member(
            v,
            &format!("statements.{}.member", i + 1),
            s.statement.as_deref(),
            s.parameters.as_deref(),
            s.return_values_on_condition_check_failure.as_deref(),
        );
    }
}

pub async fn batch_execute_statement(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Output, PartiqlError> {
    let input: BatchInput = decode(body)?;
    let mut v = Violations::new();
    check_request(&mut v, &input);
    v.into_result()?;
    ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;
    let capacity = input.return_consumed_capacity.as_deref();
    let statements = input.statements.unwrap_or_default();

    // Parse every statement; the first that parses says whether the batch
    // reads or writes.
    let mut reads = None;
    let mut parsed: Vec<Result<(Parsed, Vec<AttributeValue>), DynamoError>> = Vec::new();
    for s in &statements {
        let p = match parse(s.statement.as_deref().unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => {
                parsed.push(Err(e));
                continue;
            }
        };
        if matches!(p.statement, Statement::Exists(_)) {
            parsed.push(Err(invalid(error::EXISTS_OUTSIDE_TRANSACTION)));
            continue;
        }
        let is_read = p.statement.is_read();
        match reads {
            None => reads = Some(is_read),
            Some(r) if r != is_read => return Err(invalid(MIXED)),
            Some(_) => {}
        }
        parsed
            .push(bind_parameters(s.parameters.as_deref(), p.parameters).map(|params| (p, params)));
    }

    // Resolve tables and keys before anything runs.
    let mut entries = Vec::with_capacity(statements.len());
    for (s, p) in statements.iter().zip(parsed) {
        let (p, params) = match p {
            Ok(found) => found,
            Err(e) => {
                entries.push(Entry::Failed(e, None));
                continue;
            }
        };
        let table = statement_table(&p.statement).to_string();
        let entry = match &p.statement {
            Statement::Select(select) => read_entry(db, caller, select, &params, s.consistent_read),
            other => write::plan(db, caller, other, &params)
                .map(|a| Entry::Write(a, s.return_values_on_condition_check_failure.clone())),
        };
        entries.push(entry.unwrap_or_else(|e| Entry::Failed(e, Some(table))));
    }
    let mut seen = std::collections::HashSet::new();
    for e in &entries {
        let identity = match e {
            Entry::Read { table, key, .. } => format!("{table}\u{0}{}", Value::Object(key.clone())),
            Entry::Write(a, _) => a.identity.clone(),
            Entry::Failed(..) => continue,
        };
        if !seen.insert(identity) {
            return Err(invalid(DUPLICATE_KEYS));
        }
    }

    let mut responses = Vec::with_capacity(entries.len());
    let mut consumed: Vec<Value> = Vec::new();
    for entry in entries {
        let response = match entry {
            Entry::Failed(e, table) => error_response(e, table.as_deref()),
            Entry::Read {
                table,
                key,
                paths,
                consistent,
            } => {
                let mut body = Map::new();
                body.insert("TableName".into(), json!(table));
                body.insert("Key".into(), Value::Object(key));
                if let Some(c) = consistent {
                    body.insert("ConsistentRead".into(), json!(c));
                }
                if let Some(c) = capacity {
                    body.insert("ReturnConsumedCapacity".into(), json!(c));
                }
                let bytes = serde_json::to_vec(&Value::Object(body)).expect("json serializes");
                match get_item(db, caller, &bytes).await.and_then(output_json) {
                    Ok(out) => {
                        add_capacity(&mut consumed, out.get("ConsumedCapacity"));
                        let mut r = Map::new();
                        r.insert("TableName".into(), json!(table));
                        if let Some(item) = out.get("Item") {
                            r.insert("Item".into(), project(item, &paths)?);
                        }
                        Value::Object(r)
                    }
                    Err(e) => error_response(e, Some(&table)),
                }
            }
            Entry::Write(action, return_old) => {
                let table = action.table.clone();
                match write::run(db, caller, action, capacity, return_old.as_deref()).await {
                    Ok((items, c)) => {
                        add_capacity(&mut consumed, c.as_ref());
                        let mut r = Map::new();
                        r.insert("TableName".into(), json!(table));
                        if let Some(item) = items.into_iter().next() {
                            r.insert("Item".into(), item);
                        }
                        Value::Object(r)
                    }
                    Err(e) => error_response(e, Some(&table)),
                }
            }
        };
        responses.push(response);
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Array(responses));
    if capacity.is_some_and(|c| c != "NONE") {
        out.insert("ConsumedCapacity".into(), Value::Array(consumed));
    }
    Ok(Output::Json(Value::Object(out)))
}

fn read_entry(
    db: &DynamoDb,
    caller: &Caller,
    select: &super::ast::Select,
    params: &[AttributeValue],
    consistent: Option<bool>,
) -> Result<Entry, PartiqlError> {
    let paths = projected_paths(&select.projection)?;
    let table = table_for(db, caller, Some(&select.source.table))?;
    if select.source.index.is_some() || !select.order_by.is_empty() {
        return Err(invalid(READ_NOT_BY_KEY));
    }
    let key = exact_key(&table.def, select.filter.as_ref(), params)?
        .ok_or_else(|| invalid(READ_NOT_BY_KEY))?;
    Ok(Entry::Read {
        table: table.def.name.clone(),
        key,
        paths,
        consistent,
    })
}

/// A statement's failure as its response: AWS's code for the error kind,
/// the message, and the item when a condition failed and it was asked for.
fn error_response(e: DynamoError, table: Option<&str>) -> Value {
    let (code, message, item) = match e {
        DynamoError::ConditionalCheckFailed { item } => (
            "ConditionalCheckFailed",
            "The conditional request failed".to_string(),
            item,
        ),
        DynamoError::DuplicateItem => ("DuplicateItem", error::DUPLICATE_ITEM.to_string(), None),
        DynamoError::ResourceNotFound(m) => ("ResourceNotFound", m, None),
        DynamoError::Validation(m) | DynamoError::Serialization(m) => ("ValidationError", m, None),
        DynamoError::Internal(m) => ("InternalServerError", m, None),
        other => {
            let aws = other.into_aws();
            ("ValidationError", aws.message, None)
        }
    };
    let mut error = Map::new();
    error.insert("Code".into(), json!(code));
    error.insert("Message".into(), json!(message));
    if let Some(item) = item {
        error.insert("Item".into(), item);
    }
    let mut r = Map::new();
    r.insert("Error".into(), Value::Object(error));
    if let Some(t) = table {
        r.insert("TableName".into(), json!(t));
    }
    Value::Object(r)
}

/// Adds one operation's ConsumedCapacity to the per-table list.
fn add_capacity(list: &mut Vec<Value>, c: Option<&Value>) {
    let Some(c) = c else { return };
    match list
        .iter_mut()
        .find(|e| e.get("TableName") == c.get("TableName"))
    {
        Some(existing) => {
            let mut merged = Some(existing.clone());
            merge_capacity(&mut merged, c);
            *existing = merged.unwrap_or_default();
        }
        None => list.push(c.clone()),
    }
}
