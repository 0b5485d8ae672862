//! anything-but: values, lists, and the prefix / suffix / equals-ignore-case
//! / wildcard forms. It only ever matches a field that is present.

use serde_json::json;

use crate::common::check;

#[test]
fn anything_but_string_example() {
    check(
        r#"{"detail": {"state": [{"anything-but": "initializing"}]}}"#,
        &[
            (json!({"detail": {"state": "running"}}), true),
            (json!({"detail": {"state": "initializing"}}), false),
            (json!({"detail": {"state": "Initializing"}}), true),
            (json!({"detail": {}}), false),
            (json!({}), false),
            // Values of another type are not excluded.
            (json!({"detail": {"state": 5}}), true),
            (json!({"detail": {"state": null}}), true),
            (json!({"detail": {"state": {"x": "y"}}}), false),
        ],
    );
}

#[test]
fn anything_but_number_example() {
    check(
        r#"{"detail": {"x-limit": [{"anything-but": 123}]}}"#,
        &[
            (json!({"detail": {"x-limit": 124}}), true),
            (json!({"detail": {"x-limit": 123}}), false),
            (json!({"detail": {"x-limit": 123.0}}), false),
            (json!({"detail": {"x-limit": "123"}}), true),
        ],
    );
}

#[test]
fn anything_but_lists_example() {
    check(
        r#"{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}"#,
        &[
            (json!({"detail": {"state": "running"}}), true),
            (json!({"detail": {"state": "stopped"}}), false),
            (json!({"detail": {"state": "overloaded"}}), false),
        ],
    );
    check(
        r#"{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}"#,
        &[
            (json!({"detail": {"x-limit": 150}}), true),
            (json!({"detail": {"x-limit": 200}}), false),
            (json!({"detail": {"x-limit": 3e2}}), false),
            (json!({"detail": {"x-limit": 300.000001}}), true),
        ],
    );
}

#[test]
fn anything_but_prefix_and_suffix_examples() {
    check(
        r#"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#,
        &[
            (json!({"detail": {"state": "running"}}), true),
            (json!({"detail": {"state": "initializing"}}), false),
            (json!({"detail": {"state": "init"}}), false),
            (json!({"detail": {"state": 12}}), true),
        ],
    );
    check(
        r#"{"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}}"#,
        &[
            (json!({"detail": {"FileName": "a.png"}}), true),
            (json!({"detail": {"FileName": "a.txt"}}), false),
        ],
    );
    check(
        r#"{"v": [{"anything-but": {"prefix": ["a", "b"]}}]}"#,
        &[
            (json!({"v": "apple"}), false),
            (json!({"v": "banana"}), false),
            (json!({"v": "cherry"}), true),
        ],
    );
}

#[test]
fn anything_but_equals_ignore_case_example() {
    check(
        r#"{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}}"#,
        &[
            (json!({"detail": {"state": "STOPPED"}}), false),
            (json!({"detail": {"state": "overloaded"}}), false),
            (json!({"detail": {"state": "running"}}), true),
        ],
    );
}

#[test]
fn anything_but_wildcard_example() {
    check(
        r#"{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}"#,
        &[
            (json!({"detail": {"FilePath": "/usr/lib/x"}}), false),
            (json!({"detail": {"FilePath": "/usr/bin/x"}}), true),
        ],
    );
    check(
        r#"{"v": [{"anything-but": {"wildcard": ["a*", "*z"]}}]}"#,
        &[
            (json!({"v": "abc"}), false),
            (json!({"v": "xyz"}), false),
            (json!({"v": "mmm"}), true),
        ],
    );
}

#[test]
fn anything_but_over_arrays_needs_one_non_excluded_element() {
    check(
        r#"{"v": [{"anything-but": "x"}]}"#,
        &[
            (json!({"v": ["x", "y"]}), true),
            (json!({"v": ["x", "x"]}), false),
            (json!({"v": []}), false),
        ],
    );
}

#[test]
fn weather_not_raining() {
    // The operator summary: Weather is anything but "Raining".
    check(
        r#"{"Weather": [{"anything-but": ["Raining"]}]}"#,
        &[
            (json!({"Weather": "Sunny"}), true),
            (json!({"Weather": "Raining"}), false),
            (json!({}), false),
        ],
    );
}
