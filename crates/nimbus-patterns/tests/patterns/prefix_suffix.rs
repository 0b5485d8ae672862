//! prefix and suffix, on strings only.

use serde_json::json;

use crate::common::check;

#[test]
fn prefix_time_example() {
    // "Prefix matching".
    check(
        r#"{"time": [{"prefix": "2017-10-02"}]}"#,
        &[
            (json!({"time": "2017-10-02T18:43:48Z"}), true),
            (json!({"time": "2017-10-02"}), true),
            (json!({"time": "2017-10-03T18:43:48Z"}), false),
            (json!({"time": " 2017-10-02"}), false),
        ],
    );
}

#[test]
fn suffix_filename_example() {
    // "Suffix matching": FileName ends with .png.
    check(
        r#"{"source": ["aws.s3"], "detail": {"object": {"key": [{"suffix": ".png"}]}}}"#,
        &[
            (
                json!({"source": "aws.s3", "detail": {"object": {"key": "photos/cat.png"}}}),
                true,
            ),
            (
                json!({"source": "aws.s3", "detail": {"object": {"key": "photos/cat.PNG"}}}),
                false,
            ),
            (
                json!({"source": "aws.s3", "detail": {"object": {"key": "png"}}}),
                false,
            ),
        ],
    );
}

#[test]
fn prefix_and_suffix_only_match_strings() {
    check(
        r#"{"v": [{"prefix": "1"}]}"#,
        &[
            (json!({"v": 123}), false),
            (json!({"v": "123"}), true),
            (json!({"v": true}), false),
            (json!({"v": null}), false),
        ],
    );
    check(
        r#"{"v": [{"suffix": "e"}]}"#,
        &[
            (json!({"v": true}), false),
            (json!({"v": "true"}), true),
            (json!({"v": false}), false),
        ],
    );
}

#[test]
fn empty_prefix_and_suffix_match_any_string() {
    check(
        r#"{"v": [{"prefix": ""}]}"#,
        &[
            (json!({"v": ""}), true),
            (json!({"v": "x"}), true),
            (json!({"v": 1}), false),
            (json!({}), false),
        ],
    );
    check(
        r#"{"v": [{"suffix": ""}]}"#,
        &[(json!({"v": "x"}), true), (json!({"v": null}), false)],
    );
}

#[test]
fn prefix_is_by_characters_not_bytes() {
    check(
        r#"{"v": [{"prefix": "é"}]}"#,
        &[
            (json!({"v": "été"}), true),
            (json!({"v": "e\u{301}t"}), false),
        ],
    );
    check(
        r#"{"v": [{"suffix": "🦀"}]}"#,
        &[
            (json!({"v": "rust🦀"}), true),
            (json!({"v": "🦀rust"}), false),
        ],
    );
}

#[test]
fn prefix_over_arrays() {
    check(
        r#"{"resources": [{"prefix": "arn:aws:ec2:"}]}"#,
        &[
            (
                json!({"resources": ["arn:aws:s3:::b", "arn:aws:ec2:us-east-1:1:instance/i-1"]}),
                true,
            ),
            (json!({"resources": ["arn:aws:s3:::b"]}), false),
        ],
    );
}
