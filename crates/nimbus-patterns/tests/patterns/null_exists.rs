//! null values, empty strings, and exists matching.

use serde_json::json;

use crate::common::check;

#[test]
fn autoscaling_null_example() {
    // "Field matching": responseElements is null.
    let event = json!({
        "source": "aws.autoscaling", "detail-type": "EC2 Instance Launch Successful",
        "detail": {"eventVersion": "", "responseElements": null}
    });
    check(
        r#"{"source": ["aws.autoscaling"], "detail-type": ["EC2 Instance Launch Successful"], "detail": {"responseElements": [null]}}"#,
        &[
            (event.clone(), true),
            (
                json!({"source": "aws.autoscaling", "detail-type": "EC2 Instance Launch Successful", "detail": {}}),
                false,
            ),
        ],
    );
    check(r#"{"detail": {"eventVersion": [""]}}"#, &[(event, true)]);
}

#[test]
fn null_matches_null_but_not_missing() {
    check(
        r#"{"UserID": [null]}"#,
        &[
            (json!({"UserID": null}), true),
            (json!({}), false),
            (json!({"UserID": "null"}), false),
            (json!({"UserID": ""}), false),
            (json!({"UserID": 0}), false),
            (json!({"UserID": [null, 1]}), true),
            (json!({"UserID": []}), false),
        ],
    );
}

#[test]
fn exists_true_example() {
    // "Exists matching": detail.state present.
    let with_state = json!({
        "detail-type": "EC2 Instance State-change Notification",
        "detail": {"instance-id": "i-abcd1111", "state": "pending"}
    });
    let without = json!({
        "detail-type": "EC2 Instance State-change Notification",
        "detail": {"c-count": {"c1": 100}}
    });
    check(
        r#"{"detail": {"state": [{"exists": true}]}}"#,
        &[(with_state, true), (without, false)],
    );
}

#[test]
fn exists_true_needs_a_leaf_value() {
    check(
        r#"{"f": [{"exists": true}]}"#,
        &[
            (json!({"f": "x"}), true),
            (json!({"f": ""}), true),
            (json!({"f": null}), true),
            (json!({"f": 0}), true),
            (json!({"f": false}), true),
            (json!({"f": [1]}), true),
            // Exists works on leaves only: an object, an empty array or an
            // array of objects is not a leaf value at this path.
            (json!({"f": {"g": 1}}), false),
            (json!({"f": []}), false),
            (json!({"f": [{"g": 1}]}), false),
            (json!({"f": [[]]}), false),
            (json!({}), false),
        ],
    );
}

#[test]
fn exists_false_matches_absence() {
    check(
        r#"{"detail": {"state": [{"exists": false}]}}"#,
        &[
            (json!({"detail": {}}), true),
            (json!({"detail": {"other": 1}}), true),
            (json!({}), true),
            (json!({"detail": "scalar"}), true),
            (json!({"detail": {"state": {"nested": 1}}}), true),
            (json!({"detail": {"state": []}}), true),
            (json!({"detail": {"state": "x"}}), false),
            (json!({"detail": {"state": null}}), false),
            (json!({"detail": {"state": ["x"]}}), false),
        ],
    );
}

#[test]
fn exists_false_with_other_fields() {
    check(
        r#"{"source": ["s"], "detail": {"err": [{"exists": false}]}}"#,
        &[
            (json!({"source": "s", "detail": {}}), true),
            (json!({"source": "s"}), true),
            (json!({"source": "t"}), false),
            (json!({"source": "s", "detail": {"err": "boom"}}), false),
        ],
    );
}

#[test]
fn exists_ored_with_values() {
    check(
        r#"{"f": [{"exists": false}, "x"]}"#,
        &[
            (json!({}), true),
            (json!({"f": "x"}), true),
            (json!({"f": "y"}), false),
        ],
    );
}
