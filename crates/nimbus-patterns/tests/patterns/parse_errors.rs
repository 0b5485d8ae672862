//! Every refusal, with EventBridge's reason text.

use nimbus_patterns::{Pattern, PatternError};

use crate::common::{refused, refused_with};

#[test]
fn structure() {
    let rows: &[(&str, &str)] = &[
        ("[]", "Filter is not an object"),
        ("\"source\"", "Filter is not an object"),
        ("null", "Filter is not an object"),
        ("{}", "Empty objects are not allowed"),
        (r#"{"detail": {}}"#, "Empty objects are not allowed"),
        (r#"{"source": []}"#, "Empty arrays are not allowed"),
        (
            r#"{"slug": "some-pipeline"}"#,
            "\"slug\" must be an object or an array",
        ),
        (r#"{"n": 5}"#, "\"n\" must be an object or an array"),
        (r#"{"n": null}"#, "\"n\" must be an object or an array"),
        (r#"{"n": true}"#, "\"n\" must be an object or an array"),
        (
            r#"{"source": [["aws.ec2"]]}"#,
            "Match value must be String, number, true, false, or null",
        ),
        (r#"{"source": [{}]}"#, "Match expression name not found"),
        (
            r#"{"source": [{"regex": "a.*"}]}"#,
            "Unrecognized match type regex",
        ),
    ];
    for (pattern, reason) in rows {
        refused(pattern, reason);
    }
}

#[test]
fn not_json() {
    for text in ["", "{", r#"{"a": [1,]}"#, "{'a': [1]}", r#"{"a": [1]} x"#] {
        match Pattern::parse(text) {
            Err(PatternError::Json(message)) => assert!(!message.is_empty(), "{text}"),
            other => panic!("{text:?} should be a JSON error, got {other:?}"),
        }
    }
}

#[test]
fn string_operators() {
    let rows: &[(&str, &str)] = &[
        (
            r#"{"a": [{"prefix": 1}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"prefix": null}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"prefix": ["x"]}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"suffix": true}]}"#,
            "suffix match pattern must be a string",
        ),
        (
            r#"{"a": [{"equals-ignore-case": 1}]}"#,
            "equals-ignore-case match pattern must be a string",
        ),
        (
            r#"{"a": [{"wildcard": 1}]}"#,
            "wildcard match pattern must be a string",
        ),
        (
            r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
            "Only one key allowed in match expression",
        ),
        (
            r#"{"a": [{"equals-ignore-case": "x", "prefix": "y"}]}"#,
            "Only one key allowed in match expression",
        ),
        (
            r#"{"a": [{"prefix": {}}]}"#,
            "Prefix expression name not found",
        ),
        (
            r#"{"a": [{"prefix": {"wildcard": "x"}}]}"#,
            "Unsupported prefix pattern: wildcard",
        ),
        (
            r#"{"a": [{"prefix": {"equals-ignore-case": 3}}]}"#,
            "equals-ignore-case match pattern must be a string",
        ),
        (
            r#"{"a": [{"prefix": {"equals-ignore-case": "x", "other": 1}}]}"#,
            "Only one key allowed in match expression",
        ),
        (
            r#"{"a": [{"suffix": {}}]}"#,
            "Suffix expression name not found",
        ),
        (
            r#"{"a": [{"suffix": {"prefix": "x"}}]}"#,
            "Unsupported suffix pattern: prefix",
        ),
        (
            r#"{"a": [{"suffix": {"equals-ignore-case": null}}]}"#,
            "equals-ignore-case match pattern must be a string",
        ),
        (
            r#"{"a": [{"exists": "true"}]}"#,
            "exists match pattern must be either true or false.",
        ),
        (
            r#"{"a": [{"exists": 1}]}"#,
            "exists match pattern must be either true or false.",
        ),
        (
            r#"{"a": [{"exists": true, "prefix": "x"}]}"#,
            "Only one key allowed in match expression",
        ),
    ];
    for (pattern, reason) in rows {
        refused(pattern, reason);
    }
}

#[test]
fn wildcard_syntax() {
    // Positions count bytes from the JSON string's opening quote.
    refused_with(
        r#"{"a": [{"wildcard": "a**b"}]}"#,
        PatternError::ConsecutiveWildcards(2),
    );
    refused(
        r#"{"a": [{"wildcard": "**"}]}"#,
        "Consecutive wildcard characters at pos 1",
    );
    refused(
        r#"{"a": [{"wildcard": "a\\b"}]}"#,
        "Invalid escape character at pos 2",
    );
    refused(
        r#"{"a": [{"wildcard": "ab\\"}]}"#,
        "Invalid escape character at pos 3",
    );
    refused(
        r#"{"a": [{"wildcard": "é\\n"}]}"#,
        "Invalid escape character at pos 3",
    );
    refused(
        r#"{"a": [{"anything-but": {"wildcard": "x**"}}]}"#,
        "Consecutive wildcard characters at pos 2",
    );
    refused(
        r#"{"a": [{"anything-but": {"wildcard": ["ok*", "\\q"]}}]}"#,
        "Invalid escape character at pos 1",
    );
    // An escaped star next to a wildcard is not two wildcards.
    assert!(Pattern::parse(r#"{"a": [{"wildcard": "\\**"}]}"#).is_ok());
}

#[test]
fn numeric() {
    let rows: &[(&str, &str)] = &[
        (
            r#"{"a": [{"numeric": 5}]}"#,
            "Value of numeric must be an array.",
        ),
        (
            r#"{"a": [{"numeric": {">": 5}}]}"#,
            "Value of numeric must be an array.",
        ),
        (
            r#"{"a": [{"numeric": []}]}"#,
            "Invalid member in numeric match: ]",
        ),
        (
            r#"{"a": [{"numeric": [5, ">"]}]}"#,
            "Invalid member in numeric match: 5",
        ),
        (
            r#"{"a": [{"numeric": [null]}]}"#,
            "Invalid member in numeric match: null",
        ),
        (
            r#"{"a": [{"numeric": [["<", 1]]}]}"#,
            "Invalid member in numeric match: [",
        ),
        (
            r#"{"a": [{"numeric": ["!=", 5]}]}"#,
            "Unrecognized numeric range operator: !=",
        ),
        (
            r#"{"a": [{"numeric": ["≤", 5]}]}"#,
            "Unrecognized numeric range operator: ≤",
        ),
        (
            r#"{"a": [{"numeric": ["="]}]}"#,
            "Value of equals must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["=", "5"]}]}"#,
            "Value of equals must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">", "5"]}]}"#,
            "Value of > must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">="]}]}"#,
            "Value of >= must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["<", null]}]}"#,
            "Value of < must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["<=", true]}]}"#,
            "Value of <= must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["=", 5, "<", 6]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": ["<", 5, ">", 1]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": ["<=", 5, 6]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, 5]}]}"#,
            "Bad value in numeric range: 5",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, ">", 5]}]}"#,
            "Bad numeric range operator: >",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, "=", 5]}]}"#,
            "Bad numeric range operator: =",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, "<"]}]}"#,
            "Value of < must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, "<=", "5"]}]}"#,
            "Value of <= must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, "<", 5, "x"]}]}"#,
            "Too many terms in numeric range expression",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, "<", 5]}]}"#,
            "Bottom must be less than top",
        ),
        (
            r#"{"a": [{"numeric": [">=", 6, "<=", 5]}]}"#,
            "Bottom must be less than top",
        ),
        (
            r#"{"a": [{"numeric": [">", 0], "prefix": "x"}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": ["=", 5000000000.000001]}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"numeric": [">", -5000000001]}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"numeric": ["<", 1e10]}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"numeric": [">", 0, "<", 6e9]}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"numeric": ["=", 0.0000001]}]}"#,
            "Only values upto 6 decimals are supported",
        ),
        (
            r#"{"a": [{"numeric": [">", 1.1234567]}]}"#,
            "Only values upto 6 decimals are supported",
        ),
    ];
    for (pattern, reason) in rows {
        refused(pattern, reason);
    }
    // Trailing zeros are not decimals that count.
    assert!(Pattern::parse(r#"{"a": [{"numeric": ["=", 1.50000000]}]}"#).is_ok());
    assert!(Pattern::parse(r#"{"a": [{"numeric": [">=", -5e9, "<=", 5e9]}]}"#).is_ok());
}

#[test]
fn anything_but() {
    let rows: &[(&str, &str)] = &[
        (r#"{"a": [{"anything-but": null}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"a": [{"anything-but": true}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"a": [{"anything-but": [null]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": ["a", false]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": [["a"]]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": [{"prefix": "a"}]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": ["a", 1]}]}"#, "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (r#"{"a": [{"anything-but": []}]}"#, "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (r#"{"a": [{"anything-but": 1e10}]}"#, "Value must be between -5.0E9 and 5.0E9, inclusive"),
        (r#"{"a": [{"anything-but": [1, 0.0000001]}]}"#, "Only values upto 6 decimals are supported"),
        (r#"{"a": [{"anything-but": {}}]}"#, "Anything-But expression name not found"),
        (r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#, "Unsupported anything-but pattern: numeric"),
        (r#"{"a": [{"anything-but": {"exists": true}}]}"#, "Unsupported anything-but pattern: exists"),
        (r#"{"a": [{"anything-but": {"prefix": true}}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"a": [{"anything-but": {"prefix": {"equals-ignore-case": "x"}}}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"a": [{"anything-but": {"prefix": 1}}]}"#, "prefix/suffix match pattern must be a string"),
        (r#"{"a": [{"anything-but": {"suffix": [1]}}]}"#, "prefix/suffix match pattern must be a string"),
        (r#"{"a": [{"anything-but": {"prefix": ""}}]}"#, "Null prefix/suffix not allowed"),
        (r#"{"a": [{"anything-but": {"suffix": ["ok", ""]}}]}"#, "Null prefix/suffix not allowed"),
        (r#"{"a": [{"anything-but": {"equals-ignore-case": 1}}]}"#, "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": {"equals-ignore-case": ["a", null]}}]}"#, "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": {"wildcard": 1}}]}"#, "wildcard match pattern must be a string"),
        (r#"{"a": [{"anything-but": {"wildcard": [true]}}]}"#, "wildcard match pattern must be a string"),
        (r#"{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}"#, "Too many elements in numeric expression"),
        (r#"{"a": [{"anything-but": "x", "prefix": "y"}]}"#, "Too many elements in numeric expression"),
    ];
    for (pattern, reason) in rows {
        refused(pattern, reason);
    }
}

#[test]
fn cidr() {
    let rows: &[(&str, &str)] = &[
        (
            r#"{"ip": [{"cidr": 10}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0"}]}"#,
            "Malformed CIDR, one '/' required",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/"}]}"#,
            "Malformed CIDR, one '/' required",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/8/8"}]}"#,
            "Malformed CIDR, one '/' required",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/x"}]}"#,
            "Malformed CIDR, mask bits must be an integer",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/99999999999"}]}"#,
            "Malformed CIDR, mask bits must be an integer",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/-1"}]}"#,
            "Malformed CIDR, mask bits must not be negative",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/32"}]}"#,
            "IPv4 mask bits must be < 32",
        ),
        (
            r#"{"ip": [{"cidr": "::/128"}]}"#,
            "IPv6 mask bits must be < 128",
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.256/8"}]}"#,
            "Invalid IP address: 10.0.0.256",
        ),
        (
            r#"{"ip": [{"cidr": "1:2:3/64"}]}"#,
            "Invalid IP address: 1:2:3",
        ),
        (
            r#"{"ip": [{"cidr": "example.com/8"}]}"#,
            "Nonstandard IP address: example.com",
        ),
        (r#"{"ip": [{"cidr": "/8"}]}"#, "Nonstandard IP address: "),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/8", "prefix": "1"}]}"#,
            "Only one key allowed in match expression",
        ),
    ];
    for (pattern, reason) in rows {
        refused(pattern, reason);
    }
}

#[test]
fn or() {
    let rows: &[(&str, &str)] = &[
        (
            r#"{"$or": {"a": [1]}}"#,
            "It must be an Array followed with $or.",
        ),
        (r#"{"$or": "a"}"#, "It must be an Array followed with $or."),
        (
            r#"{"$or": []}"#,
            "There must have at least 2 Objects in $or relationship.",
        ),
        (
            r#"{"$or": [{"a": [1]}]}"#,
            "There must have at least 2 Objects in $or relationship.",
        ),
        (
            r#"{"$or": [{"a": [1]}, "b"]}"#,
            "Only JSON object is allowed in array of $or relationship.",
        ),
        (
            r#"{"$or": [{"a": [1]}, [{"b": [1]}]]}"#,
            "Only JSON object is allowed in array of $or relationship.",
        ),
        (
            r#"{"$or": [{"a": [1]}, {}]}"#,
            "Empty objects are not allowed",
        ),
        (
            r#"{"$or": [{"a": [1]}, {"b": []}]}"#,
            "Empty arrays are not allowed",
        ),
        (
            r#"{"$or": [{"a": [1]}, {"numeric": [1]}]}"#,
            "numeric is Ruler reserved fieldName which cannot be used inside $or.",
        ),
        (
            r#"{"$or": [{"a": [1]}, {"b": {"prefix": ["x"]}}]}"#,
            "prefix is Ruler reserved fieldName which cannot be used inside $or.",
        ),
        (
            r#"{"$or": [{"a": [1]}, {"anything-but": ["x"]}]}"#,
            "anything-but is Ruler reserved fieldName which cannot be used inside $or.",
        ),
        (
            r#"{"$or": [{"a": [1]}, {"<=": [1]}]}"#,
            "<= is Ruler reserved fieldName which cannot be used inside $or.",
        ),
    ];
    for (pattern, reason) in rows {
        refused(pattern, reason);
    }
    // Outside $or an operator name is an ordinary field name.
    assert!(Pattern::parse(r#"{"prefix": ["x"], "numeric": {"exists": [1]}}"#).is_ok());
}

#[test]
fn aws_wraps_the_reason() {
    let error = Pattern::parse(r#"{"slug": "x"}"#).unwrap_err();
    assert_eq!(
        error.eventbridge_message(),
        "Event pattern is not valid. Reason: \"slug\" must be an object or an array"
    );
}
