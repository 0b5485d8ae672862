//! PartiQL's error texts, as DynamoDB words them.
//!
//! Every PartiQL failure is one of the crate's [`DynamoError`]s; this module
//! only holds the messages, so they are written once.

use crate::error::DynamoError;

pub type PartiqlError = DynamoError;

const NOT_WELL_FORMED: &str = "Statement wasn't well formed, can't be processed: ";

/// A statement the parser cannot read. `detail` is the reference PartiQL
/// parser's reason; DynamoDB leaves it empty for text it cannot tokenize.
pub fn malformed(detail: &str) -> DynamoError {
    DynamoError::Validation(format!("{NOT_WELL_FORMED}{detail}"))
}

pub fn invalid(message: impl Into<String>) -> DynamoError {
    DynamoError::Validation(message.into())
}

pub const MISSING_KEY_EQUALITY: &str =
    "Where clause does not contain a mandatory equality on all key attributes";
pub const PARAMETER_COUNT: &str = "Number of parameters in request and statement don't match.";
pub const DUPLICATE_ITEM: &str = "Duplicate primary key exists in table";
pub const EXISTS_OUTSIDE_TRANSACTION: &str =
    "EXISTS can only be used in ExecuteTransaction write requests.";
pub const ALIASING: &str = "Aliasing is not supported";
pub const ON_INDEX: &str = "This operation is not supported on an index";
pub const NO_SUCH_INDEX: &str = "The table does not have the specified index";
pub const CONSISTENT_READ_ON_GSI: &str =
    "Strongly consistent read is not supported on Global Secondary Indexes";
pub const EMPTY_BAG: &str = "Empty bags are not supported";
pub const BAG_TYPES: &str =
    "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags";
pub const MISSING_COMPARED: &str = "MISSING must be compared using IS operator";
pub const IN_OPERANDS: &str = "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member";
pub const IS_OPERAND: &str =
    "The left hand side argument to IS must be a Variable Reference, Literal, or Path";
pub const IS_IN_UPDATE: &str = "IS operator is not supported in update expressions";
pub const WHERE_NOT_BOOLEAN: &str =
    "WHERE clause must contain an expression that resolves to a boolean";
pub const AND_OR_OPERANDS: &str = "The arguments to AND/OR must be Expressions";
pub const NOT_OPERAND: &str = "The argument to NOT must be a Type or Expression";
pub const INVALID_NEXT_TOKEN: &str = "Invalid NextToken";
pub const NEXT_TOKEN_MISMATCH: &str = "NextToken does not match request";
pub const ITEM_FORMAT: &str = "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.";
pub const INSERT_MANY: &str = "Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead";
pub const INSERT_AT: &str = "AT is not supported in insert statements.";
pub const INSERT_RETURNING: &str = "RETURNING is not supported in INSERT";
pub const SINGLE_SOURCE: &str = "Only select from a single table or index is supported.";
pub const FROM_COMPONENTS: &str = "A path may contain at most 2 components in the FROM clause";
pub const EMPTY_COMPONENT: &str = "Path component cannot be an empty string";
pub const TABLE_NAME: &str = "Table name should be within the length [3, 255] and only contain 'a-z', 'A-Z', '0-9', '-', '_', '.'.";
pub const SELECT_VALUE: &str = "Select projection doesn't support value or pivot keywords";
pub const RETURNING_STAR: &str =
    "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause";
pub const RETURNING_MANY: &str =
    "Invalid syntax with multiple returning elements in RETURNING clause";
pub const ORDER_BY_NO_WHERE: &str =
    "Must have WHERE clause in the statement when using ORDER BY clause.";
pub const ORDER_BY_NO_HASH: &str =
    "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.";
pub const ORDER_BY_HASH_NEEDED: &str =
    "Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause.";
pub const UNPIVOT_PATH: &str = "Unpivot path component like a.*.b are not supported";
pub const WILDCARD_PATH: &str = "Wildcard path component like a[*].b are not supported";

/// The message of a validation error (tests read it).
#[cfg(test)]
pub fn text(e: &DynamoError) -> String {
    match e {
        DynamoError::Validation(m)
        | DynamoError::Serialization(m)
        | DynamoError::ResourceNotFound(m) => m.clone(),
        other => format!("{other:?}"),
    }
}

/// DynamoDB runs a PartiQL statement as the expression-based operation it
/// translates to, and reports the expression engine's errors without the
/// "Invalid ConditionExpression: " lead that names a request member the
/// PartiQL caller never wrote.
pub fn without_expression_prefix(e: DynamoError) -> DynamoError {
    match e {
        DynamoError::Validation(m) => {
            for member in [
                "ConditionExpression",
                "FilterExpression",
                "KeyConditionExpression",
                "UpdateExpression",
                "ProjectionExpression",
            ] {
                if let Some(rest) = m.strip_prefix(&format!("Invalid {member}: ")) {
                    return DynamoError::Validation(rest.to_string());
                }
            }
            DynamoError::Validation(m)
        }
        other => other,
    }
}
