use nimbus_patterns::{Pattern, PatternError};
use serde_json::Value;

/// Runs a table of events against one pattern; every failure names its row.
pub fn check(pattern: &str, cases: &[(Value, bool)]) {
    let compiled = Pattern::parse(pattern)
        .unwrap_or_else(|e| panic!("pattern {pattern} should parse, got: {e}"));
    for (row, (event, expected)) in cases.iter().enumerate() {
        assert_eq!(
            compiled.matches(event),
            *expected,
            "row {row}: pattern {pattern} against event {event} should be {expected}"
        );
    }
}

/// Asserts the pattern is refused with exactly this reason text.
pub fn refused(pattern: &str, reason: &str) {
    match Pattern::parse(pattern) {
        Ok(_) => panic!("pattern {pattern} should be refused with {reason:?}"),
        Err(e) => assert_eq!(e.to_string(), reason, "pattern {pattern}"),
    }
}

/// Asserts the pattern is refused with exactly this error.
pub fn refused_with(pattern: &str, expected: PatternError) {
    assert_eq!(
        Pattern::parse(pattern).err(),
        Some(expected),
        "pattern {pattern}"
    );
}
