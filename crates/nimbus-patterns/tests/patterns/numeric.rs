//! numeric: =, <, <=, >, >=, and ranges, over JSON numbers only.

use serde_json::json;

use crate::common::check;

#[test]
fn content_filtering_numeric_example() {
    // "Numeric matching": all three fields must hold.
    let pattern = r#"{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}"#;
    check(
        pattern,
        &[
            (
                json!({"detail": {"c-count": 5, "d-count": 9.999, "x-limit": 301.8}}),
                true,
            ),
            (
                json!({"detail": {"c-count": 0.000001, "d-count": -3, "x-limit": 301.80}}),
                true,
            ),
            (
                json!({"detail": {"c-count": 0, "d-count": 9, "x-limit": 301.8}}),
                false,
            ),
            (
                json!({"detail": {"c-count": 5.000001, "d-count": 9, "x-limit": 301.8}}),
                false,
            ),
            (
                json!({"detail": {"c-count": 3, "d-count": 10, "x-limit": 301.8}}),
                false,
            ),
            (
                json!({"detail": {"c-count": 3, "d-count": 9, "x-limit": 301.81}}),
                false,
            ),
            (json!({"detail": {"c-count": 3, "d-count": 9}}), false),
        ],
    );
}

#[test]
fn each_operator() {
    let rows = [
        (
            r#"{"n": [{"numeric": ["=", 100]}]}"#,
            [false, true, false, true],
        ),
        (
            r#"{"n": [{"numeric": ["<", 100]}]}"#,
            [true, false, false, false],
        ),
        (
            r#"{"n": [{"numeric": ["<=", 100]}]}"#,
            [true, true, false, true],
        ),
        (
            r#"{"n": [{"numeric": [">", 100]}]}"#,
            [false, false, true, false],
        ),
        (
            r#"{"n": [{"numeric": [">=", 100]}]}"#,
            [false, true, true, true],
        ),
    ];
    for (pattern, expected) in rows {
        check(
            pattern,
            &[
                (json!({"n": 99.999999}), expected[0]),
                (json!({"n": 100}), expected[1]),
                (json!({"n": 100.000001}), expected[2]),
                (json!({"n": 1.0e2}), expected[3]),
            ],
        );
    }
}

#[test]
fn range_bounds_open_and_closed() {
    check(
        r#"{"Price": [{"numeric": [">", 10, "<=", 20]}]}"#,
        &[
            (json!({"Price": 10}), false),
            (json!({"Price": 10.000001}), true),
            (json!({"Price": 20}), true),
            (json!({"Price": 20.0000001}), false),
        ],
    );
    check(
        r#"{"Price": [{"numeric": [">=", -10, "<", -5]}]}"#,
        &[
            (json!({"Price": -10}), true),
            (json!({"Price": -10.0000001}), false),
            (json!({"Price": -5.0000001}), true),
            (json!({"Price": -5}), false),
        ],
    );
}

#[test]
fn only_numbers_match_numerically() {
    check(
        r#"{"n": [{"numeric": [">", 0]}]}"#,
        &[
            (json!({"n": "5"}), false),
            (json!({"n": true}), false),
            (json!({"n": null}), false),
            (json!({"n": {"v": 5}}), false),
            (json!({}), false),
            (json!({"n": ["a", 1]}), true),
            (json!({"n": [-1, -2]}), false),
        ],
    );
}

#[test]
fn event_numbers_beyond_six_decimals_compare_exactly() {
    check(
        r#"{"n": [{"numeric": [">", 1]}]}"#,
        &[(json!({"n": 1.0000000001}), true), (json!({"n": 1}), false)],
    );
    check(
        r#"{"n": [{"numeric": ["<=", 0]}]}"#,
        &[
            (json!({"n": 1e-300}), false),
            (json!({"n": -1e-300}), true),
            (json!({"n": 0}), true),
        ],
    );
    check(
        r#"{"n": [{"numeric": ["=", 0.3]}]}"#,
        &[
            (json!({"n": 0.3}), true),
            (json!({"n": 0.30000000000000004}), false),
        ],
    );
}

#[test]
fn limits_of_the_numeric_range() {
    check(
        r#"{"n": [{"numeric": [">=", -5e9, "<=", 5e9]}]}"#,
        &[
            (json!({"n": 5_000_000_000u64}), true),
            (json!({"n": -5_000_000_000i64}), true),
            // Outside +-5.0e9 an event number cannot be compared at all.
            (json!({"n": 5_000_000_001u64}), false),
            (json!({"n": 1e300}), false),
        ],
    );
    check(
        r#"{"n": [{"numeric": [">", 0]}]}"#,
        &[(json!({"n": 6e9}), false), (json!({"n": u64::MAX}), false)],
    );
    check(
        r#"{"n": [{"numeric": ["=", 0.000001]}]}"#,
        &[(json!({"n": 1e-6}), true)],
    );
}

#[test]
fn numeric_against_arrays_any_element() {
    check(
        r#"{"scores": [{"numeric": [">=", 90]}]}"#,
        &[
            (json!({"scores": [10, 95, 20]}), true),
            (json!({"scores": [10, 20]}), false),
            (json!({"scores": []}), false),
        ],
    );
}
