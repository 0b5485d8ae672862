//! ExecuteStatement: one statement, a read (with pages) or a single-item
//! write.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use xxhash_rust::xxh3::xxh3_128;

use super::ast::Statement;
use super::error::{self, invalid, PartiqlError};
use super::members::{check_length, check_parameters, check_statement};
use super::parser::parse;
use super::values::bind_parameters;
use super::{select, write};
use crate::capacity::ReturnCapacity;
use crate::codec::{decode, Violations};
use crate::request::return_old_on_failure;
use crate::{Caller, DynamoDb, Output};

/// Longest NextToken.
const MAX_NEXT_TOKEN: usize = 32768;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ExecuteStatementInput {
    statement: Option<String>,
    parameters: Option<Vec<Value>>,
    consistent_read: Option<bool>,
    next_token: Option<String>,
    return_consumed_capacity: Option<String>,
    limit: Option<i64>,
    return_values_on_condition_check_failure: Option<String>,
}

/// Identifies a statement with its parameters, for NextToken.
fn fingerprint(statement: &str, parameters: Option<&[Value]>) -> String {
    let mut bytes = statement.as_bytes().to_vec();
    bytes.push(0);
    if let Some(p) = parameters {
        bytes.extend_from_slice(Value::Array(p.to_vec()).to_string().as_bytes());
    }
    format!("{:032x}", xxh3_128(&bytes))
}

pub async fn execute_statement(
    db: &DynamoDb,
    caller: &Caller,
    body: &[u8],
) -> Result<Output, PartiqlError> {
    let input: ExecuteStatementInput = decode(body)?;
    let mut v = Violations::new();
    check_statement(&mut v, input.statement.as_deref(), "statement");
    check_parameters(&mut v, input.parameters.as_deref(), "parameters");
    if let Some(l) = input.limit.filter(|l| *l < 1) {
        v.add(
            &Violations::quoted(&l.to_string()),
            "limit",
            "Member must have value greater than or equal to 1",
        );
    }
    check_length(
        &mut v,
        input.next_token.as_deref(),
        "nextToken",
        MAX_NEXT_TOKEN,
    );
    v.into_result()?;
    ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;
    return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    let text = input.statement.as_deref().unwrap_or_default();

    let parsed = parse(text)?;
    let params = bind_parameters(input.parameters.as_deref(), parsed.parameters)?;
    let capacity = input.return_consumed_capacity.as_deref();
    let out = match &parsed.statement {
        Statement::Select(s) => {
            select::run(
                db,
                caller,
                select::Request {
                    select: s,
                    params: &params,
                    consistent: input.consistent_read,
                    limit: input.limit.map(|l| l as usize),
                    next_token: input.next_token.as_deref(),
                    capacity,
                    fingerprint: fingerprint(text, input.parameters.as_deref()),
                },
            )
            .await?
        }
        Statement::Exists(_) => return Err(invalid(error::EXISTS_OUTSIDE_TRANSACTION)),
        write_statement => {
            let action = write::plan(db, caller, write_statement, &params)?;
            let (items, consumed) = write::run(
                db,
                caller,
                action,
                capacity,
                input.return_values_on_condition_check_failure.as_deref(),
            )
            .await?;
            let mut out = Map::new();
            out.insert("Items".into(), Value::Array(items));
            if let Some(c) = consumed {
                out.insert("ConsumedCapacity".into(), c);
            }
            Value::Object(out)
        }
    };
    Ok(Output::Json(json!(out)))
}
