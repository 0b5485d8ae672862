//! Exact matching of strings, numbers, booleans; AND across fields, OR
//! within a leaf array.

use serde_json::json;

use crate::common::check;

#[test]
fn ec2_state_change_example() {
    // EventBridge user guide, "Amazon EventBridge event patterns".
    let event = json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
    });
    let mut running = event.clone();
    running["detail"]["state"] = json!("running");
    let mut other_source = event.clone();
    other_source["source"] = json!("aws.fargate");
    check(
        r#"{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["terminated"]}}"#,
        &[(event, true), (running, false), (other_source, false)],
    );
}

#[test]
fn any_listed_value_matches() {
    // "Match values": source is either aws.ec2 or aws.fargate.
    check(
        r#"{"source": ["aws.ec2", "aws.fargate"]}"#,
        &[
            (json!({"source": "aws.ec2"}), true),
            (json!({"source": "aws.fargate"}), true),
            (json!({"source": "aws.s3"}), false),
            (json!({"source": "AWS.EC2"}), false),
            (json!({"other": "aws.ec2"}), false),
        ],
    );
}

#[test]
fn macie_numbers_example() {
    // "Value matching": risk-score 80 and trigger.risk 8.
    let event = json!({
        "source": "aws.macie", "detail-type": "Macie Alert",
        "detail": {"risk-score": 80, "trigger": {"risk": 8, "alert-type": "basic"}, "tags": ["Custom_Alert", "Insider"]}
    });
    let mut lower = event.clone();
    lower["detail"]["risk-score"] = json!(79);
    check(
        r#"{"source": ["aws.macie"], "detail-type": ["Macie Alert"], "detail": {"risk-score": [80], "trigger": {"risk": [8]}}}"#,
        &[(event, true), (lower, false)],
    );
}

#[test]
fn strings_are_exact_and_case_sensitive() {
    check(
        r#"{"name": ["Alice"]}"#,
        &[
            (json!({"name": "Alice"}), true),
            (json!({"name": "alice"}), false),
            (json!({"name": "Alice "}), false),
            (json!({"name": "Alic"}), false),
            (json!({"name": "Ａlice"}), false),
            (json!({"name": ["Bob", "Alice"]}), true),
            (json!({"name": {"first": "Alice"}}), false),
        ],
    );
}

#[test]
fn strings_never_equal_numbers_or_keywords() {
    check(
        r#"{"n": ["5"]}"#,
        &[(json!({"n": 5}), false), (json!({"n": "5"}), true)],
    );
    check(
        r#"{"n": [5]}"#,
        &[(json!({"n": "5"}), false), (json!({"n": 5}), true)],
    );
    check(
        r#"{"b": ["true"]}"#,
        &[(json!({"b": true}), false), (json!({"b": "true"}), true)],
    );
    check(
        r#"{"b": [true]}"#,
        &[
            (json!({"b": true}), true),
            (json!({"b": false}), false),
            (json!({"b": "true"}), false),
            (json!({"b": 1}), false),
        ],
    );
    check(
        r#"{"b": [false]}"#,
        &[
            (json!({"b": false}), true),
            (json!({"b": null}), false),
            (json!({}), false),
        ],
    );
}

#[test]
fn numbers_compare_by_value() {
    // Bare numbers match numerically (EventBridge adds a numeric-equals
    // matcher for each), so 5, 5.0 and 5e0 are equal; 300, 300.0, 3.0e2 too.
    check(
        r#"{"n": [5]}"#,
        &[
            (json!({"n": 5}), true),
            (json!({"n": 5.0}), true),
            (json!({"n": 5.000001}), false),
            (json!({"n": -5}), false),
        ],
    );
    check(
        r#"{"n": [3.0e2]}"#,
        &[
            (json!({"n": 300}), true),
            (json!({"n": 300.0}), true),
            (json!({"n": 301}), false),
        ],
    );
    check(
        r#"{"n": [0]}"#,
        &[(json!({"n": -0.0}), true), (json!({"n": 0}), true)],
    );
    check(
        r#"{"n": [0.1]}"#,
        &[(json!({"n": 0.1}), true), (json!({"n": 0.10000001}), false)],
    );
}

#[test]
fn numbers_outside_the_numeric_range_match_by_text() {
    // An account id is bigger than 5.0e9: still a valid literal.
    check(
        r#"{"account": [123456789012]}"#,
        &[
            (json!({"account": 123456789012u64}), true),
            (json!({"account": 123456789013u64}), false),
            (json!({"account": "123456789012"}), false),
        ],
    );
    check(
        r#"{"n": [1e300]}"#,
        &[(json!({"n": 1e300}), true), (json!({"n": 1e299}), false)],
    );
}

#[test]
fn all_fields_must_match() {
    check(
        r#"{"Location": ["New York"], "Day": ["Monday"]}"#,
        &[
            (json!({"Location": "New York", "Day": "Monday"}), true),
            (json!({"Location": "New York", "Day": "Tuesday"}), false),
            (json!({"Location": "New York"}), false),
            (json!({"Day": "Monday"}), false),
            (
                json!({"Location": "New York", "Day": "Monday", "Extra": 1}),
                true,
            ),
        ],
    );
}

#[test]
fn empty_string_matches_only_empty_string() {
    check(
        r#"{"LastName": [""]}"#,
        &[
            (json!({"LastName": ""}), true),
            (json!({"LastName": " "}), false),
            (json!({"LastName": null}), false),
            (json!({}), false),
        ],
    );
}

#[test]
fn duplicate_keys_last_one_wins() {
    // "Content filtering": a key given twice is evaluated by its last value.
    check(
        r#"{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}"#,
        &[
            (json!({"detail": {"location": "eu-west"}}), true),
            (json!({"detail": {"location": "us-east"}}), false),
        ],
    );
}

#[test]
fn mixed_conditions_in_one_leaf_are_ored() {
    check(
        r#"{"v": ["a", 7, null, true, {"prefix": "zz"}]}"#,
        &[
            (json!({"v": "a"}), true),
            (json!({"v": 7.0}), true),
            (json!({"v": null}), true),
            (json!({"v": true}), true),
            (json!({"v": "zzz"}), true),
            (json!({"v": "b"}), false),
            (json!({"v": false}), false),
            (json!({}), false),
        ],
    );
}
