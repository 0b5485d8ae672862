//! Arrays in events: any element; arrays of objects keep fields together.

use serde_json::json;

use crate::common::check;

#[test]
fn resources_intersection_example() {
    // "Arrays in Amazon EventBridge event patterns": the pattern matches when
    // the two arrays share at least one value.
    let event = json!({
        "resources": [
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
        ]
    });
    check(
        r#"{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}"#,
        &[(event.clone(), true)],
    );
    check(
        r#"{"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}"#,
        &[(event, false)],
    );
}

#[test]
fn nested_scalar_arrays_are_flattened() {
    check(
        r#"{"v": ["x"]}"#,
        &[
            (json!({"v": [["a"], ["b", ["x"]]]}), true),
            (json!({"v": [["a"], []]}), false),
            (json!({"v": [{"w": "x"}]}), false),
        ],
    );
}

#[test]
fn array_of_objects_matches_one_element_as_a_whole() {
    let pattern = r#"{"detail": {"items": {"sku": ["A"], "qty": [{"numeric": [">", 1]}]}}}"#;
    check(
        pattern,
        &[
            (json!({"detail": {"items": [{"sku": "A", "qty": 2}]}}), true),
            (
                json!({"detail": {"items": [{"sku": "B", "qty": 5}, {"sku": "A", "qty": 3}]}}),
                true,
            ),
            // sku from one element and qty from another do not combine.
            (
                json!({"detail": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}]}}),
                false,
            ),
            (json!({"detail": {"items": []}}), false),
            (json!({"detail": {"items": {"sku": "A", "qty": 2}}}), true),
        ],
    );
}

#[test]
fn arrays_at_several_levels() {
    check(
        r#"{"a": {"b": {"c": ["hit"]}}}"#,
        &[
            (
                json!({"a": [{"b": [{"c": "miss"}, {"c": ["x", "hit"]}]}]}),
                true,
            ),
            (json!({"a": [[{"b": {"c": "hit"}}]]}), true),
            (json!({"a": [{"b": [{"c": "miss"}]}]}), false),
        ],
    );
}

#[test]
fn exists_false_inside_array_of_objects_is_per_element() {
    check(
        r#"{"items": {"error": [{"exists": false}]}}"#,
        &[
            (json!({"items": [{"error": "x"}, {"ok": 1}]}), true),
            (json!({"items": [{"error": "x"}]}), false),
            (json!({"items": []}), true),
            (json!({"items": ["scalar"]}), true),
        ],
    );
}

#[test]
fn root_array_event() {
    check(
        r#"{"a": [1]}"#,
        &[
            (json!([{"a": 2}, {"a": 1}]), true),
            (json!([{"a": 2}]), false),
            (json!([]), false),
        ],
    );
}
