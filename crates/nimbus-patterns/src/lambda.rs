//! Lambda event source mapping filters: `FilterCriteria` on
//! CreateEventSourceMapping / UpdateEventSourceMapping.
//!
//! From the AWS Lambda Developer Guide, "Control which events Lambda sends to
//! your function": a mapping holds up to five filters (a quota AWS can raise
//! to ten); filters are ORed, so a record that satisfies one or more goes to
//! the function and a record that satisfies none is discarded (for SQS, the
//! message is deleted). Each `Filter.Pattern` is at most 4096 characters
//! (Lambda API reference, "Filter").
//!
//! The SQS body rule, from "Using event filtering with an Amazon SQS event
//! source": filtering on message content uses the `body` key of the record,
//! and a pattern can address fields inside the body
//! (`{"body": {"RequestCode": ["BBBB"]}}`) when the message is JSON, or the
//! body itself (`{"body": [{"prefix": "Result: "}]}`) when it is a plain
//! string. So before matching, a body that parses as a JSON object or array
//! replaces the string; any other body (plain text, or a bare JSON scalar
//! such as `123` or `"x"`, which we keep as the text the sender wrote) stays
//! a string, against which patterns on `body` fields never match.

use std::borrow::Cow;

use serde_json::Value;
use thiserror::Error;

use crate::{Pattern, PatternError};

/// Filters per event source mapping (AWS's default quota).
pub const MAX_FILTERS: usize = 5;

/// Longest `Filter.Pattern`, in characters.
pub const MAX_FILTER_PATTERN_LENGTH: usize = 4096;

/// Why a mapping's `FilterCriteria` was refused. `index` is the filter's
/// position, from 0.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterCriteriaError {
    /// Lambda answers `InvalidParameterValueException`.
    #[error("The number of filters ({count}) exceeds the limit of {max}.")]
    TooManyFilters { count: usize, max: usize },
    /// Lambda answers `ValidationException` (a length constraint).
    #[error("Filter pattern {index} is {length} characters long; the maximum is {max}.")]
    PatternTooLong {
        index: usize,
        length: usize,
        max: usize,
    },
    /// Lambda answers `InvalidParameterValueException` with exactly this text;
    /// `reason` keeps EventBridge's explanation for logs.
    #[error("Invalid filter pattern definition.")]
    InvalidPattern { index: usize, reason: PatternError },
}

/// A mapping's compiled filters. No filters means every record passes.
#[derive(Debug, Clone, Default)]
pub struct FilterCriteria {
    patterns: Vec<Pattern>,
}

impl FilterCriteria {
    /// Compiles the `Filters[].Pattern` strings of a `FilterCriteria`.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<FilterCriteria, FilterCriteriaError> {
        if patterns.len() > MAX_FILTERS {
            return Err(FilterCriteriaError::TooManyFilters {
                count: patterns.len(),
                max: MAX_FILTERS,
            });
        }
        let mut compiled = Vec::with_capacity(patterns.len());
        for (index, text) in patterns.iter().enumerate() {
            let text = text.as_ref();
            let length = text.chars().count();
            if length > MAX_FILTER_PATTERN_LENGTH {
                return Err(FilterCriteriaError::PatternTooLong {
                    index,
                    length,
                    max: MAX_FILTER_PATTERN_LENGTH,
                });
            }
            compiled.push(
                Pattern::parse(text)
                    .map_err(|reason| FilterCriteriaError::InvalidPattern { index, reason })?,
            );
        }
        Ok(FilterCriteria { patterns: compiled })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether a record (a DynamoDB stream record, or any record already in
    /// the shape patterns address) passes: no filters, or any filter matches.
    pub fn matches(&self, record: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(record))
    }

    /// Whether an SQS record (as Lambda delivers it: `messageId`, `body`,
    /// `attributes`, ...) passes, with the body rule applied.
    pub fn matches_sqs_record(&self, record: &Value) -> bool {
        self.patterns.is_empty() || {
            let view = sqs_record_for_filtering(record);
            self.patterns.iter().any(|p| p.matches(&view))
        }
    }
}

/// The SQS record as filters see it: `body` replaced by its parsed JSON when
/// it is a JSON object or array, untouched otherwise.
pub fn sqs_record_for_filtering(record: &Value) -> Cow<'_, Value> {
    let Some(Value::String(body)) = record.get("body") else {
        return Cow::Borrowed(record);
    };
    match serde_json::from_str::<Value>(body) {
        Ok(parsed @ (Value::Object(_) | Value::Array(_))) => {
            let mut view = record.clone();
            view["body"] = parsed;
            Cow::Owned(view)
        }
        _ => Cow::Borrowed(record),
    }
}
