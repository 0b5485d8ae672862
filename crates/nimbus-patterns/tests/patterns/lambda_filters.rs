//! Lambda FilterCriteria: up to five patterns, ORed; the SQS body rule.

use nimbus_patterns::{
    sqs_record_for_filtering, FilterCriteria, FilterCriteriaError, PatternError, MAX_FILTERS,
    MAX_FILTER_PATTERN_LENGTH,
};
use serde_json::{json, Value};

fn sqs_record(body: &str) -> Value {
    // The record shape from "Using event filtering with an Amazon SQS event source".
    json!({
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185"
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:my-queue",
        "awsRegion": "us-west-2"
    })
}

#[test]
fn sqs_request_code_example() {
    let filters =
        FilterCriteria::parse(&[r#"{ "body" : { "RequestCode" : [ "BBBB" ] } }"#]).unwrap();
    let aaaa = sqs_record("{\n \"RecordNumber\": 1234,\n \"TimeStamp\": \"yyyy-mm-ddThh:mm:ss\",\n \"RequestCode\": \"AAAA\"\n}");
    let bbbb = sqs_record(
        r#"{"RecordNumber": 1234, "TimeStamp": "yyyy-mm-ddThh:mm:ss", "RequestCode": "BBBB"}"#,
    );
    assert!(!filters.matches_sqs_record(&aaaa));
    assert!(filters.matches_sqs_record(&bbbb));
    // Without the body rule the pattern would see a string and never match.
    assert!(!filters.matches(&bbbb));
}

#[test]
fn sqs_record_number_example() {
    let filters = FilterCriteria::parse(&[
        r#"{ "body" : { "RecordNumber" : [ { "numeric": [ ">", 9999 ] } ] } }"#,
    ])
    .unwrap();
    assert!(!filters.matches_sqs_record(&sqs_record(r#"{"RecordNumber": 1234}"#)));
    assert!(filters.matches_sqs_record(&sqs_record(r#"{"RecordNumber": 10000}"#)));
    assert!(!filters.matches_sqs_record(&sqs_record(r#"{"RecordNumber": "10000"}"#)));
}

#[test]
fn plain_string_bodies() {
    let prefix = FilterCriteria::parse(&[r#"{"body": [{"prefix": "Result: "}]}"#]).unwrap();
    assert!(prefix.matches_sqs_record(&sqs_record("Result: ok")));
    assert!(!prefix.matches_sqs_record(&sqs_record("Error: no")));
    // A JSON body is an object to filters, so a string condition on body misses it.
    assert!(!prefix.matches_sqs_record(&sqs_record(r#"{"Result: ": 1}"#)));
    // Patterns on fields inside body only match JSON bodies.
    let field =
        FilterCriteria::parse(&[r#"{"body": {"RequestCode": [{"exists": true}]}}"#]).unwrap();
    assert!(!field.matches_sqs_record(&sqs_record("RequestCode=BBBB")));
    assert!(!field.matches_sqs_record(&sqs_record("")));
    let absent =
        FilterCriteria::parse(&[r#"{"body": {"RequestCode": [{"exists": false}]}}"#]).unwrap();
    assert!(absent.matches_sqs_record(&sqs_record(r#"{"Other": 1}"#)));
}

#[test]
fn json_scalar_bodies_stay_strings() {
    // Decision: only objects and arrays replace the body text.
    let filters = FilterCriteria::parse(&[r#"{"body": ["123"]}"#]).unwrap();
    assert!(filters.matches_sqs_record(&sqs_record("123")));
    let quoted = sqs_record("\"quoted\"");
    assert_eq!(
        sqs_record_for_filtering(&quoted)["body"],
        json!("\"quoted\"")
    );
    let array = sqs_record("[1, 2]");
    assert_eq!(sqs_record_for_filtering(&array)["body"], json!([1, 2]));
    let no_body = json!({"messageId": "m"});
    assert_eq!(*sqs_record_for_filtering(&no_body), no_body);
}

#[test]
fn json_body_arrays_match_any_element() {
    let filters = FilterCriteria::parse(&[r#"{"body": {"kind": ["order"]}}"#]).unwrap();
    assert!(filters.matches_sqs_record(&sqs_record(r#"[{"kind": "refund"}, {"kind": "order"}]"#)));
    assert!(!filters.matches_sqs_record(&sqs_record(r#"[{"kind": "refund"}]"#)));
}

#[test]
fn metadata_and_body_together() {
    let filters = FilterCriteria::parse(&[
        r#"{"attributes": {"ApproximateReceiveCount": ["1"]}, "body": {"RequestCode": ["BBBB"]}}"#,
    ])
    .unwrap();
    assert!(filters.matches_sqs_record(&sqs_record(r#"{"RequestCode": "BBBB"}"#)));
    let mut retried = sqs_record(r#"{"RequestCode": "BBBB"}"#);
    retried["attributes"]["ApproximateReceiveCount"] = json!("2");
    assert!(!filters.matches_sqs_record(&retried));
}

#[test]
fn filters_are_ored() {
    let filters = FilterCriteria::parse(&[
        r#"{"eventName": ["INSERT"]}"#,
        r#"{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["done"]}}}}"#,
    ])
    .unwrap();
    assert!(filters.matches(&json!({"eventName": "INSERT"})));
    assert!(filters.matches(
        &json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "done"}}}})
    ));
    assert!(!filters.matches(
        &json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "open"}}}})
    ));
    assert!(!filters.matches(&json!({"eventName": "REMOVE"})));
}

#[test]
fn no_filters_let_everything_through() {
    let none: [&str; 0] = [];
    let filters = FilterCriteria::parse(&none).unwrap();
    assert!(filters.is_empty());
    assert!(filters.matches(&json!({})));
    assert!(filters.matches_sqs_record(&sqs_record("anything")));
}

#[test]
fn at_most_five_filters() {
    let five = vec![r#"{"a": [1]}"#; MAX_FILTERS];
    assert!(FilterCriteria::parse(&five).is_ok());
    let six = vec![r#"{"a": [1]}"#; MAX_FILTERS + 1];
    assert_eq!(
        FilterCriteria::parse(&six).unwrap_err(),
        FilterCriteriaError::TooManyFilters { count: 6, max: 5 }
    );
}

#[test]
fn pattern_length_limit() {
    let padding = " ".repeat(MAX_FILTER_PATTERN_LENGTH - r#"{"a": [1]}"#.len());
    let exactly = format!(r#"{{"a": [1]}}{padding}"#);
    assert_eq!(exactly.len(), MAX_FILTER_PATTERN_LENGTH);
    assert!(FilterCriteria::parse(&[exactly.as_str()]).is_ok());
    let over = format!("{exactly} ");
    assert_eq!(
        FilterCriteria::parse(&[r#"{"a": [1]}"#, over.as_str()]).unwrap_err(),
        FilterCriteriaError::PatternTooLong {
            index: 1,
            length: 4097,
            max: 4096
        }
    );
}

#[test]
fn invalid_patterns_name_their_position() {
    let error = FilterCriteria::parse(&[r#"{"a": [1]}"#, r#"{"a": 1}"#]).unwrap_err();
    assert_eq!(
        error,
        FilterCriteriaError::InvalidPattern {
            index: 1,
            reason: PatternError::FieldNotObjectOrArray("a".to_string())
        }
    );
    assert_eq!(error.to_string(), "Invalid filter pattern definition.");
    // The kafka example people get wrong: a bare value instead of an array.
    assert!(FilterCriteria::parse(&[r#"{"eventName": "INSERT"}"#]).is_err());
}
