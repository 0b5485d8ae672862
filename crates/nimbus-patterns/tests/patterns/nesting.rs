//! Field paths into nested objects.

use serde_json::json;

use crate::common::check;

#[test]
fn paths_must_follow_the_event_nesting() {
    check(
        r#"{"detail": {"requestParameters": {"bucketName": ["my-bucket"]}}}"#,
        &[
            (
                json!({"detail": {"requestParameters": {"bucketName": "my-bucket", "key": "k"}}}),
                true,
            ),
            (json!({"detail": {"bucketName": "my-bucket"}}), false),
            (json!({"bucketName": "my-bucket"}), false),
            (json!({"detail": {"requestParameters": "my-bucket"}}), false),
            (
                json!({"detail": {"requestParameters": {"bucketName": {"name": "my-bucket"}}}}),
                false,
            ),
            (json!({"detail": null}), false),
        ],
    );
}

#[test]
fn a_pattern_object_never_matches_a_scalar() {
    check(
        r#"{"detail": {"state": ["x"]}}"#,
        &[
            (json!({"detail": "x"}), false),
            (json!({"detail": ["x"]}), false),
            (json!({"detail": {"state": "x"}}), true),
        ],
    );
}

#[test]
fn dotted_keys_are_literal_keys() {
    // Decision: structural matching; "a.b" names one key.
    check(
        r#"{"a.b": [1]}"#,
        &[(json!({"a.b": 1}), true), (json!({"a": {"b": 1}}), false)],
    );
}

#[test]
fn dynamodb_stream_record_shape() {
    // What a stream-triggered Lambda filters on (Lambda developer guide,
    // "Filtering with DynamoDB").
    let record = json!({
        "eventID": "c9fbe7d0261a5163fcb6940593e41797",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
            "NewImage": {
                "AccountManager": {"S": "Pat Candella"},
                "PaymentTerms": {"S": "60 days"},
                "CustomerName": {"S": "AnyCompany Industries"}
            },
            "StreamViewType": "NEW_IMAGE"
        }
    });
    check(
        r#"{"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}"#,
        &[(record.clone(), true)],
    );
    check(
        r#"{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"prefix": "60"}]}}}}"#,
        &[(record.clone(), true)],
    );
    check(r#"{"eventName": ["REMOVE"]}"#, &[(record.clone(), false)]);
    check(
        r#"{"dynamodb": {"OldImage": [{"exists": false}]}}"#,
        &[(record, true)],
    );
}
