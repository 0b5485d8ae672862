//! Bounds: nesting depth, sizes, and hostile shapes that must fail cleanly.

use nimbus_patterns::{Pattern, PatternError, MAX_NESTING_DEPTH};
use serde_json::{json, Map, Value};

fn nested_pattern(depth: usize) -> String {
    // depth objects in total, the innermost holding a leaf.
    let mut text = String::new();
    for _ in 1..depth {
        text.push_str(r#"{"a":"#);
    }
    text.push_str(r#"{"a":["x"]}"#);
    for _ in 1..depth {
        text.push('}');
    }
    text
}

fn nested_event(depth: usize) -> Value {
    let mut event = json!("x");
    for _ in 0..depth {
        event = Value::Object(Map::from_iter([("a".to_string(), event)]));
    }
    event
}

#[test]
fn nesting_up_to_the_limit_parses_and_matches() {
    let pattern = Pattern::parse(&nested_pattern(MAX_NESTING_DEPTH)).unwrap();
    assert!(pattern.matches(&nested_event(MAX_NESTING_DEPTH)));
    assert!(!pattern.matches(&nested_event(MAX_NESTING_DEPTH - 1)));
}

#[test]
fn nesting_beyond_the_limit_is_refused() {
    assert_eq!(
        Pattern::parse(&nested_pattern(MAX_NESTING_DEPTH + 1)).unwrap_err(),
        PatternError::TooDeep(MAX_NESTING_DEPTH)
    );
    assert_eq!(
        Pattern::parse(&nested_pattern(MAX_NESTING_DEPTH + 1))
            .unwrap_err()
            .to_string(),
        format!("Event pattern nesting exceeds the maximum depth of {MAX_NESTING_DEPTH}")
    );
}

#[test]
fn absurdly_deep_text_is_refused_without_overflow() {
    for depth in [200, 10_000, 1_000_000] {
        assert_eq!(
            Pattern::parse(&nested_pattern(depth)).unwrap_err(),
            PatternError::TooDeep(MAX_NESTING_DEPTH)
        );
        let arrays = format!(r#"{{"a": {}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            Pattern::parse(&arrays).unwrap_err(),
            PatternError::TooDeep(MAX_NESTING_DEPTH)
        );
        let ors = format!(
            r#"{}{{"b": [1]}}{}"#,
            r#"{"$or": [{"c": [1]}, "#.repeat(depth),
            "]}".repeat(depth)
        );
        assert_eq!(
            Pattern::parse(&ors).unwrap_err(),
            PatternError::TooDeep(MAX_NESTING_DEPTH)
        );
    }
}

#[test]
fn deeply_nested_or_counts_towards_depth() {
    let depth = MAX_NESTING_DEPTH; // each $or alternative is one more level
    let ors = format!(
        r#"{}{{"b": [1]}}{}"#,
        r#"{"$or": [{"c": [1]}, "#.repeat(depth),
        "]}".repeat(depth)
    );
    assert_eq!(
        Pattern::parse(&ors).unwrap_err(),
        PatternError::TooDeep(MAX_NESTING_DEPTH)
    );
    let shallow = format!(
        r#"{}{{"b": [1]}}{}"#,
        r#"{"$or": [{"c": [1]}, "#.repeat(10),
        "]}".repeat(10)
    );
    let pattern = Pattern::parse(&shallow).unwrap();
    assert!(pattern.matches(&json!({"b": 1})));
    assert!(pattern.matches(&json!({"c": 1})));
    assert!(!pattern.matches(&json!({"d": 1})));
}

#[test]
fn very_deep_event_arrays_do_not_overflow() {
    // Built programmatically (serde_json's parser would stop at 128 levels);
    // the matcher walks arrays with its own stack.
    let depth = 100_000;
    // Built by moving values in: json!([event]) would serialize `event`
    // recursively and overflow before the test begins.
    let mut event = json!(["x"]);
    for _ in 0..depth {
        event = Value::Array(vec![event]);
    }
    let leaf = Pattern::parse(r#"{"a": ["x"]}"#).unwrap();
    let object = Pattern::parse(r#"{"a": {"b": ["x"]}}"#).unwrap();
    let wrapped = Value::Object(Map::from_iter([("a".to_string(), event)]));
    assert!(leaf.matches(&wrapped));
    assert!(!object.matches(&wrapped));
    // Dropping a value this deep recurses inside serde_json; leak it instead
    // so the test exercises the matcher, not serde_json's destructor.
    std::mem::forget(wrapped);
}

#[test]
fn wide_patterns_and_events() {
    let mut fields = serde_json::Map::new();
    for i in 0..2000 {
        fields.insert(format!("f{i}"), json!([i]));
    }
    let pattern = Pattern::parse(&serde_json::Value::Object(fields.clone()).to_string()).unwrap();
    let event: serde_json::Map<_, _> = (0..2000).map(|i| (format!("f{i}"), json!(i))).collect();
    let mut event = serde_json::Value::Object(event);
    assert!(pattern.matches(&event));
    event["f1999"] = json!(0);
    assert!(!pattern.matches(&event));
    let values: Vec<_> = (0..10_000).collect();
    let long_leaf = Pattern::parse(&json!({"v": values}).to_string()).unwrap();
    assert!(long_leaf.matches(&json!({"v": 9999})));
    assert!(!long_leaf.matches(&json!({"v": 10_000})));
}
