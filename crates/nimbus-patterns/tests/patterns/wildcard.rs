//! wildcard: `*` for any run of characters, `\*` and `\\` escapes.

use serde_json::json;

use crate::common::check;

#[test]
fn wildcard_example() {
    // "Wildcard matching": EventBusArn under any account.
    check(
        r#"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}"#,
        &[
            (
                json!({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"}),
                true,
            ),
            (
                json!({"EventBusArn": "arn:aws:events:us-east-1::event-bus/"}),
                true,
            ),
            (
                json!({"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/default"}),
                false,
            ),
        ],
    );
    check(
        r#"{"detail": {"FileName": [{"wildcard": "dir/*.png"}]}}"#,
        &[
            (json!({"detail": {"FileName": "dir/a/b.png"}}), true),
            (json!({"detail": {"FileName": "dir/.png"}}), true),
            (json!({"detail": {"FileName": "dir/a.jpg"}}), false),
            (json!({"detail": {"FileName": "other/dir/a.png"}}), false),
        ],
    );
}

#[test]
fn wildcard_shapes() {
    let rows: &[(&str, &str, bool)] = &[
        ("*", "", true),
        ("*", "anything", true),
        ("a*", "a", true),
        ("a*", "ba", false),
        ("*a", "ba", true),
        ("*a", "ab", false),
        ("a*b*c", "abc", true),
        ("a*b*c", "a-b-b-c", true),
        ("a*b*c", "acb", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("ab*ab", "abab", true),
        ("ab*ab", "aba", false),
        ("*ab*ab*", "xabyabz", true),
        ("*ab*ab*", "xabz", false),
        ("exact", "exact", true),
        ("exact", "exactly", false),
        ("*.*.*", "a.b.c", true),
        ("*.*.*", "a.b", false),
        ("é*ü", "éxyzü", true),
    ];
    for (wildcard, value, expected) in rows {
        let pattern = json!({"v": [{"wildcard": wildcard}]}).to_string();
        check(&pattern, &[(json!({"v": value}), *expected)]);
    }
}

#[test]
fn escaped_star_and_backslash_are_literal() {
    check(
        r#"{"v": [{"wildcard": "a\\*b"}]}"#,
        &[
            (json!({"v": "a*b"}), true),
            (json!({"v": "axb"}), false),
            (json!({"v": "a\\*b"}), false),
        ],
    );
    check(
        r#"{"v": [{"wildcard": "a\\\\*"}]}"#,
        &[
            (json!({"v": "a\\"}), true),
            (json!({"v": "a\\xyz"}), true),
            (json!({"v": "ab"}), false),
        ],
    );
}

#[test]
fn wildcard_matches_strings_only() {
    check(
        r#"{"v": [{"wildcard": "*"}]}"#,
        &[
            (json!({"v": 1}), false),
            (json!({"v": null}), false),
            (json!({"v": true}), false),
            (json!({}), false),
            (json!({"v": ""}), true),
        ],
    );
}

#[test]
fn many_stars_over_a_long_value_stay_fast() {
    // A backtracking matcher would take exponential time here.
    let stars = "a*".repeat(40) + "b";
    let value = "a".repeat(5000);
    let pattern = json!({"v": [{"wildcard": stars}]}).to_string();
    let started = std::time::Instant::now();
    check(&pattern, &[(json!({"v": value}), false)]);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
