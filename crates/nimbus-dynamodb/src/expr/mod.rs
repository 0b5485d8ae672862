//! The DynamoDB expression language: condition, filter, key condition, update
//! and projection expressions, with attribute name / value substitution.
//!
//! Every expression of a request is parsed once, up front, into a typed tree
//! whose `#name` and `:value` placeholders are already substituted; the
//! operations then evaluate or apply that tree against items. Parsing errors
//! and runtime errors are both [`ExprError`]s, which the operations return as
//! `ValidationException` with the message unchanged (AWS's own texts).
//!
//! Module map, one job each:
//! - [`lexer`]: source text to tokens with byte spans.
//! - [`parser`]: the shared recursive-descent machinery (paths, operands,
//!   syntax errors with AWS's `token:` / `near:` report, limits).
//! - [`condition`]: condition and filter expressions into [`Condition`].
//! - [`eval`]: evaluating a [`Condition`] against an item.
//! - [`update`]: update expressions, parsed and applied.
//! - [`projection`]: projection expressions, parsed and applied.
//! - [`keycond`]: key condition expressions for Query.
//! - [`legacy`]: the legacy parameters (QueryFilter, Expected,
//!   AttributeUpdates, ...) translated into these same trees.
//! - [`subst`]: `ExpressionAttributeNames` / `ExpressionAttributeValues`.
//! - [`path`]: document paths and the overlap rules between them.
//! - [`reserved`]: DynamoDB's reserved words.

mod condition;
mod eval;
mod keycond;
pub mod legacy;
mod lexer;
mod parser;
mod path;
mod projection;
mod reserved;
mod subst;
mod update;
mod value;

use std::fmt;

pub use condition::{parse_condition, Condition};
pub use keycond::{parse_key_condition, KeyCondition, SortCondition};
pub use path::{Path, PathElement};
pub use projection::{parse_projection, Projection};
pub use subst::Substitutions;
pub use update::{parse_update, Update};

/// Which request parameter an expression came from. DynamoDB names it at the
/// start of every parse-time error ("Invalid FilterExpression: ..."), so the
/// same grammar reports differently depending on where it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl ExprKind {
    /// The request parameter's name, as AWS spells it in messages.
    pub fn parameter(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }
}

/// An invalid expression or a failed update. At the wire level this is always
/// a `ValidationException` carrying `message` verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
}

impl ExprError {
    /// A message used exactly as given (runtime errors, key-schema errors,
    /// unused substitutions: AWS does not prefix these).
    pub(crate) fn bare(message: impl Into<String>) -> Self {
        ExprError {
            message: message.into(),
        }
    }

    /// A parse-time error: "Invalid <Parameter>: <detail>".
    pub(crate) fn invalid(kind: ExprKind, detail: impl fmt::Display) -> Self {
        ExprError {
            message: format!("Invalid {}: {}", kind.parameter(), detail),
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}

/// DynamoDB's documented limits on expressions.
pub mod limits {
    /// Maximum length of any expression string, in bytes (4 KB).
    pub const MAX_EXPRESSION_BYTES: usize = 4096;
    /// Maximum number of operators and functions in one expression.
    pub const MAX_OPERATORS: usize = 300;
    /// Maximum number of values on the right of `IN`.
    pub const MAX_IN_OPERANDS: usize = 100;
    /// Maximum depth of a document path (`a.b[0]` has depth 3).
    pub const MAX_PATH_DEPTH: usize = 32;
    /// Maximum nesting of parentheses, `NOT`s and function calls. DynamoDB
    /// documents no such limit (its 4 KB size limit bounds nesting anyway);
    /// this one exists so the recursive-descent parser and the evaluator have
    /// a bounded stack whatever the input.
    pub const MAX_NESTING: usize = 128;
}

#[cfg(test)]
mod tests;
