//! DynamoDB for nimbus: the data model, the expression language, and the
//! operations, named as AWS names them (`put_item`, `query`, ...).
//!
//! This crate knows nothing of HTTP. [`DynamoDb::handle`] takes an operation
//! name and the awsJson request body and returns the response body or an error.

pub mod expr;
pub mod model;
