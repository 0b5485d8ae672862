//! $or: alternatives at one level of the pattern.

use serde_json::json;

use crate::common::check;

#[test]
fn top_level_or_example() {
    // "$or matching": the event matches either alternative.
    check(
        r#"{"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}, {"x-limit": [{"numeric": ["=", 3.018e2]}]}]}"#,
        &[
            (json!({"c-count": 3}), true),
            (json!({"d-count": 2}), true),
            (json!({"x-limit": 301.8}), true),
            (json!({"c-count": 9, "d-count": 20, "x-limit": 1}), false),
            (json!({}), false),
        ],
    );
}

#[test]
fn or_combined_with_fields_example() {
    // source AND (metricName OR (metricType AND namespace) OR scope)
    let pattern = r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]}, {"scope": ["Service"]}]}"#;
    check(
        pattern,
        &[
            (
                json!({"source": "aws.cloudwatch", "metricName": "ReadLatency"}),
                true,
            ),
            (
                json!({"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES"}),
                true,
            ),
            (
                json!({"source": "aws.cloudwatch", "metricType": "MetricType"}),
                false,
            ),
            (
                json!({"source": "aws.cloudwatch", "scope": "Service"}),
                true,
            ),
            (json!({"source": "aws.ec2", "scope": "Service"}), false),
            (json!({"source": "aws.cloudwatch"}), false),
        ],
    );
}

#[test]
fn nested_or_is_relative_to_its_object() {
    check(
        r#"{"detail": {"$or": [{"a": [1]}, {"b": {"c": [2]}}]}}"#,
        &[
            (json!({"detail": {"a": 1}}), true),
            (json!({"detail": {"b": {"c": 2}}}), true),
            (json!({"a": 1}), false),
            (json!({"detail": {"c": 2}}), false),
        ],
    );
}

#[test]
fn or_inside_or() {
    check(
        r#"{"$or": [{"a": ["x"]}, {"$or": [{"b": ["y"]}, {"c": ["z"]}]}]}"#,
        &[
            (json!({"a": "x"}), true),
            (json!({"b": "y"}), true),
            (json!({"c": "z"}), true),
            (json!({"d": "w"}), false),
        ],
    );
}

#[test]
fn or_alternatives_see_the_same_array_element() {
    check(
        r#"{"items": {"kind": ["book"], "$or": [{"price": [{"numeric": ["<", 10]}]}, {"onSale": [true]}]}}"#,
        &[
            (json!({"items": [{"kind": "book", "price": 5}]}), true),
            (
                json!({"items": [{"kind": "book", "price": 50}, {"kind": "pen", "onSale": true}]}),
                false,
            ),
            (
                json!({"items": [{"kind": "pen", "price": 5}, {"kind": "book", "onSale": true}]}),
                true,
            ),
        ],
    );
}

#[test]
fn or_with_exists_false_branch() {
    check(
        r#"{"$or": [{"error": [{"exists": false}]}, {"error": ["retryable"]}]}"#,
        &[
            (json!({}), true),
            (json!({"error": "retryable"}), true),
            (json!({"error": "fatal"}), false),
        ],
    );
}

#[test]
fn or_fields_and_with_the_fields_beside_it() {
    // Decision: a key both beside $or and inside an alternative must satisfy both.
    check(
        r#"{"a": [1], "$or": [{"a": [2]}, {"b": [3]}]}"#,
        &[
            (json!({"a": [1, 2]}), true),
            (json!({"a": 1, "b": 3}), true),
            (json!({"a": 2}), false),
            (json!({"a": 1}), false),
        ],
    );
}
