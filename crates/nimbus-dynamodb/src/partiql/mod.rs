//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and
//! ExecuteTransaction.
//!
//! A statement is parsed here and then run as the operation DynamoDB runs
//! for it: a SELECT as Queries or a Scan, INSERT / UPDATE / DELETE as
//! PutItem / UpdateItem / DeleteItem with conditions, a transaction as one
//! TransactWriteItems or TransactGetItems. Conditions are translated into
//! the expression language and evaluated by the crate's one expression
//! engine, so PartiQL and expression requests cannot disagree about what a
//! condition means.
//!
//! Module map, one job each:
//! - [`lexer`]: source text to tokens with positions.
//! - [`parser`]: tokens to [`ast`], with the reference parser's error texts.
//! - [`values`]: literals and `?` parameters as attribute values.
//! - [`translate`]: WHERE clauses and SET / REMOVE as expressions.
//! - [`keys`]: the item a statement names.
//! - [`plan`]: how a SELECT reads (Queries or a Scan).
//! - [`select`]: running a SELECT, pages and NextToken.
//! - [`write`]: INSERT, UPDATE, DELETE and EXISTS as item writes.
//! - [`statement`], [`batch`], [`transaction`]: the three operations, and
//!   [`members`]: the framework's checks on their members.
//! - [`error`]: DynamoDB's PartiQL error texts.

pub mod ast;
mod batch;
pub mod error;
mod keys;
pub mod lexer;
mod members;
pub mod parser;
mod plan;
mod select;
mod statement;
mod transaction;
mod translate;
mod values;
mod write;

#[cfg(test)]
mod tests;

pub use batch::batch_execute_statement;
pub use statement::execute_statement;
pub use transaction::execute_transaction;

use serde_json::Value;

use crate::error::DynamoError;
use crate::Output;

/// An operation's response as JSON, however it was produced.
fn output_json(out: Output) -> Result<Value, DynamoError> {
    match out {
        Output::Json(v) => Ok(v),
        Output::Bytes(b) => serde_json::from_slice(&b)
            .map_err(|e| DynamoError::Internal(format!("response re-read failed: {e}"))),
    }
}

/// Adds one operation's ConsumedCapacity to a running total: the units add
/// up, member by member (table, indexes, read and write units).
fn merge_capacity(total: &mut Option<Value>, add: &Value) {
    fn merge(into: &mut Value, add: &Value) {
        match (into, add) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    match a.get_mut(k) {
                        Some(existing) => merge(existing, v),
                        None => {
                            a.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            (into @ Value::Number(_), Value::Number(b)) => {
                let sum = into.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0);
                *into = serde_json::json!(sum);
            }
            _ => {}
        }
    }
    match total {
        None => *total = Some(add.clone()),
        Some(t) => merge(t, add),
    }
}

/// The table a statement names.
fn statement_table(s: &ast::Statement) -> &str {
    match s {
        ast::Statement::Select(x) | ast::Statement::Exists(x) => &x.source.table,
        ast::Statement::Insert(x) => &x.table,
        ast::Statement::Update(x) => &x.source.table,
        ast::Statement::Delete(x) => &x.source.table,
    }
}
