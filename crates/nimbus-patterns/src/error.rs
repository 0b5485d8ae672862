//! Why a pattern was refused.
//!
//! The texts are EventBridge's own "Reason" strings (EventBridge answers
//! `InvalidEventPatternException: Event pattern is not valid. Reason: <text>`
//! followed by a Jackson source location, which we do not reproduce). A service
//! that needs the full AWS message wraps [`PatternError`] with
//! [`PatternError::eventbridge_message`].

use thiserror::Error;

/// A pattern that EventBridge would refuse, with the reason it would give.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatternError {
    /// The text is not JSON at all (our parser's description of where).
    #[error("{0}")]
    Json(String),
    #[error("Filter is not an object")]
    NotAnObject,
    #[error("Empty objects are not allowed")]
    EmptyObject,
    #[error("Empty arrays are not allowed")]
    EmptyArray,
    /// A field whose value is neither a nested object nor an array of conditions.
    #[error("\"{0}\" must be an object or an array")]
    FieldNotObjectOrArray(String),
    /// A leaf array element that is an array (or anything else non-scalar, non-object).
    #[error("Match value must be String, number, true, false, or null")]
    BadMatchValue,
    #[error("Match expression name not found")]
    MatchExpressionNameNotFound,
    #[error("Only one key allowed in match expression")]
    OnlyOneKey,
    #[error("Unrecognized match type {0}")]
    UnrecognizedMatchType(String),
    /// `prefix`, `suffix`, `equals-ignore-case`, `wildcard` given a non-string
    /// (the operator name is part of the text).
    #[error("{0} match pattern must be a string")]
    MustBeString(&'static str),
    #[error("Prefix expression name not found")]
    PrefixExpressionNameNotFound,
    #[error("Unsupported prefix pattern: {0}")]
    UnsupportedPrefixPattern(String),
    #[error("Suffix expression name not found")]
    SuffixExpressionNameNotFound,
    #[error("Unsupported suffix pattern: {0}")]
    UnsupportedSuffixPattern(String),
    #[error("exists match pattern must be either true or false.")]
    ExistsNotBoolean,
    #[error("Value of numeric must be an array.")]
    NumericNotArray,
    /// The first member of a numeric array is not an operator string; carries
    /// the member's text (`]` for an empty array, as Jackson prints it).
    #[error("Invalid member in numeric match: {0}")]
    NumericInvalidMember(String),
    #[error("Unrecognized numeric range operator: {0}")]
    NumericUnknownOperator(String),
    /// An operator not followed by a number; carries the operator (`equals` for `=`).
    #[error("Value of {0} must be numeric")]
    NumericValueNotNumber(String),
    #[error("Bad value in numeric range: {0}")]
    NumericBadRangeValue(String),
    #[error("Bad numeric range operator: {0}")]
    NumericBadRangeOperator(String),
    #[error("Too many terms in numeric range expression")]
    NumericTooManyTerms,
    /// Also what EventBridge says for a second key next to `numeric` or `anything-but`.
    #[error("Too many elements in numeric expression")]
    TooManyElements,
    #[error("Bottom must be less than top")]
    BottomNotBelowTop,
    #[error("Value must be between -5.0E9 and 5.0E9, inclusive")]
    NumberOutOfRange,
    #[error("Only values upto 6 decimals are supported")]
    TooManyDecimals,
    #[error("Anything-But expression name not found")]
    AnythingButNameNotFound,
    #[error("Unsupported anything-but pattern: {0}")]
    UnsupportedAnythingBut(String),
    #[error("Value of anything-but must be an array or single string/number value.")]
    AnythingButBadValue,
    #[error("Inside anything but list, start|null|boolean is not supported.")]
    AnythingButListBadMember,
    #[error("Inside anything but list, either all values are number or string, mixed type is not supported")]
    AnythingButListMixed,
    #[error(
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
    )]
    AnythingButIgnoreCaseBadMember,
    #[error("prefix/suffix match pattern must be a string")]
    AnythingButPrefixSuffixNotString,
    #[error("Null prefix/suffix not allowed")]
    AnythingButEmptyPrefixSuffix,
    /// `**` in a wildcard; the position counts UTF-8 bytes from the opening
    /// quote of the JSON string, as EventBridge reports it.
    #[error("Consecutive wildcard characters at pos {0}")]
    ConsecutiveWildcards(usize),
    /// A backslash not followed by `*` or `\`; position as above.
    #[error("Invalid escape character at pos {0}")]
    InvalidEscape(usize),
    /// A `cidr` block that is not one (EventBridge's texts: "Malformed CIDR,
    /// one '/' required", "Invalid IP address: x", "IPv4 mask bits must be < 32"...).
    #[error("{0}")]
    Cidr(String),
    #[error("It must be an Array followed with $or.")]
    OrNotArray,
    #[error("Only JSON object is allowed in array of $or relationship.")]
    OrMemberNotObject,
    #[error("There must have at least 2 Objects in $or relationship.")]
    OrTooFewMembers,
    #[error("{0} is Ruler reserved fieldName which cannot be used inside $or.")]
    OrReservedFieldName(String),
    /// Our own bound (EventBridge documents none): objects nested deeper than
    /// [`crate::MAX_NESTING_DEPTH`] are refused so no parser or matcher
    /// recursion can exhaust the stack.
    #[error("Event pattern nesting exceeds the maximum depth of {0}")]
    TooDeep(usize),
}

impl PatternError {
    /// The message EventBridge's PutRule / TestEventPattern put in an
    /// `InvalidEventPatternException` (without Jackson's source location).
    pub fn eventbridge_message(&self) -> String {
        format!("Event pattern is not valid. Reason: {self}")
    }
}
