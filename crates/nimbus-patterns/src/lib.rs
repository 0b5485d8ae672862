//! The EventBridge event pattern language, as one small library shared by
//! Lambda filter criteria (now), EventBridge rules and SNS filter policies
//! (later).
//!
//! ```
//! use nimbus_patterns::Pattern;
//! use serde_json::json;
//!
//! let pattern = Pattern::parse(r#"{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}"#).unwrap();
//! assert!(pattern.matches(&json!({"detail": {"c-count": 5.0}})));
//! assert!(!pattern.matches(&json!({"detail": {"c-count": "5"}})));
//! ```
//!
//! Semantics, in short (each module says more):
//! - every field of the pattern must match (AND); a leaf array matches when
//!   any of its conditions does (OR); `$or` picks between sub-patterns;
//! - an event array matches when any element does;
//! - `[null]` matches a null value, never a missing field; `{"exists": false}`
//!   matches a missing field (and one holding only an object or `[]`);
//! - strings never equal numbers; numbers compare by value (5 == 5.0) within
//!   +-5.0e9 and six decimals;
//! - prefix, suffix, equals-ignore-case (and the prefix/suffix ignore-case
//!   forms), wildcard and anything-but (value, list, prefix, suffix,
//!   equals-ignore-case, wildcard) follow EventBridge, including its
//!   validation messages;
//! - `cidr` blocks and IP-address literals compare addresses, not text.
//!
//! Decisions where AWS documents nothing (each has a test):
//! - `{"exists": false}` and array consistency are judged per array element
//!   (`{"items": {"error": [{"exists": false}]}}` matches when one element of
//!   `items` lacks `error`);
//! - `anything-but` only excludes values of its own type: anything-but a
//!   string matches numbers, booleans and null; anything-but a number
//!   matches strings;
//! - event numbers beyond +-5.0e9 never match `numeric` conditions;
//! - `$or` fields AND with the fields beside it, even for the same key;
//! - objects nested deeper than [`MAX_NESTING_DEPTH`] are refused.
//!
//! Not implemented: the undocumented `exactly`, and EventBridge's "a.b" key
//! flattening (a pattern key containing a dot only matches an event key with
//! that dot). Size limits belong to each API (Lambda: [`MAX_FILTERS`],
//! [`MAX_FILTER_PATTERN_LENGTH`], enforced by [`FilterCriteria`]; EventBridge
//! rules: 2048 characters by default, a quota its service layer enforces).

mod cidr;
mod error;
mod lambda;
mod matcher;
mod model;
mod number;
mod parse;
mod wildcard;

pub use error::PatternError;
pub use lambda::{
    sqs_record_for_filtering, FilterCriteria, FilterCriteriaError, MAX_FILTERS,
    MAX_FILTER_PATTERN_LENGTH,
};
pub use parse::MAX_NESTING_DEPTH;

use serde_json::Value;

/// A validated event pattern, ready to match events.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: model::ObjectPattern,
}

impl Pattern {
    /// Parses and validates pattern text exactly as EventBridge does; the
    /// error carries EventBridge's reason text.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        parse::parse(text).map(|root| Pattern { root })
    }

    /// Whether `event` matches. Never panics, whatever the event holds.
    pub fn matches(&self, event: &Value) -> bool {
        matcher::object_matches(&self.root, Some(event))
    }
}
