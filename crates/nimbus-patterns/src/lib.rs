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
//!   validation messages.
//!
//! - `cidr` blocks and IP-address literals compare addresses, not text.
//!
//! Not implemented: the undocumented `exactly`, and EventBridge's "a.b" key
//! flattening (a pattern key containing a dot only matches an event key with
//! that dot).

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
