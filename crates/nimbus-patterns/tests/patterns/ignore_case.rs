//! equals-ignore-case, and the equals-ignore-case forms of prefix and suffix.

use serde_json::json;

use crate::common::check;

#[test]
fn equals_ignore_case_example() {
    // "Equals-ignore-case matching": detail-type in any case.
    check(
        r#"{"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}"#,
        &[
            (
                json!({"detail-type": "EC2 Instance State-change Notification"}),
                true,
            ),
            (
                json!({"detail-type": "ec2 instance state-change notification"}),
                true,
            ),
            (
                json!({"detail-type": "EC2 Instance State-change Notification!"}),
                false,
            ),
        ],
    );
}

#[test]
fn equals_ignore_case_edges() {
    check(
        r#"{"v": [{"equals-ignore-case": "ÄbC"}]}"#,
        &[
            (json!({"v": "äBc"}), true),
            (json!({"v": "ABC"}), false),
            (json!({"v": ["x", "ÄBC"]}), true),
            (json!({"v": null}), false),
        ],
    );
    check(
        r#"{"v": [{"equals-ignore-case": "true"}]}"#,
        &[(json!({"v": true}), false), (json!({"v": "TRUE"}), true)],
    );
    check(
        r#"{"v": [{"equals-ignore-case": ""}]}"#,
        &[(json!({"v": ""}), true), (json!({"v": " "}), false)],
    );
}

#[test]
fn prefix_equals_ignore_case_example() {
    // "Prefix matching while ignoring case".
    check(
        r#"{"source": [{"prefix": {"equals-ignore-case": "EventBridge"}}]}"#,
        &[
            (json!({"source": "eventbridge.test"}), true),
            (json!({"source": "EVENTBRIDGE"}), true),
            (json!({"source": "event-bridge"}), false),
            (json!({"source": 1}), false),
        ],
    );
}

#[test]
fn suffix_equals_ignore_case_example() {
    // "Suffix matching while ignoring case".
    check(
        r#"{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}"#,
        &[
            (json!({"detail": {"FileName": "image.PNG"}}), true),
            (json!({"detail": {"FileName": "image.png"}}), true),
            (json!({"detail": {"FileName": "image.jpg"}}), false),
        ],
    );
}
