//! cidr blocks and IP-address literals.

use serde_json::json;

use crate::common::check;

#[test]
fn cidr_example() {
    // "IP address matching": 10.0.0.0/24.
    check(
        r#"{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}"#,
        &[
            (json!({"detail": {"sourceIPAddress": "10.0.0.0"}}), true),
            (json!({"detail": {"sourceIPAddress": "10.0.0.255"}}), true),
            (json!({"detail": {"sourceIPAddress": "10.0.1.0"}}), false),
            (
                json!({"detail": {"sourceIPAddress": "9.255.255.255"}}),
                false,
            ),
            (json!({"detail": {"sourceIPAddress": "10.0.0"}}), false),
            (json!({"detail": {"sourceIPAddress": "10.0.0.1 "}}), false),
            (
                json!({"detail": {"sourceIPAddress": "::ffff:a00:1"}}),
                false,
            ),
            (json!({"detail": {"sourceIPAddress": 167772161}}), false),
            (
                json!({"detail": {"sourceIPAddress": ["1.1.1.1", "10.0.0.7"]}}),
                true,
            ),
            (json!({"detail": {}}), false),
        ],
    );
}

#[test]
fn cidr_starts_at_the_address_as_written() {
    // EventBridge does not clear host bits: 10.0.0.5/24 is 10.0.0.5-10.0.0.255.
    check(
        r#"{"ip": [{"cidr": "10.0.0.5/24"}]}"#,
        &[
            (json!({"ip": "10.0.0.4"}), false),
            (json!({"ip": "10.0.0.5"}), true),
            (json!({"ip": "10.0.0.255"}), true),
        ],
    );
    check(
        r#"{"ip": [{"cidr": "0.0.0.0/0"}]}"#,
        &[
            (json!({"ip": "255.255.255.255"}), true),
            (json!({"ip": "::1"}), false),
        ],
    );
    check(
        r#"{"ip": [{"cidr": "192.168.1.0/31"}]}"#,
        &[
            (json!({"ip": "192.168.1.1"}), true),
            (json!({"ip": "192.168.1.2"}), false),
        ],
    );
}

#[test]
fn ipv6_blocks() {
    check(
        r#"{"ip": [{"cidr": "2001:db8::/32"}]}"#,
        &[
            (json!({"ip": "2001:db8::1"}), true),
            (
                json!({"ip": "2001:DB8:ffff:ffff:ffff:ffff:ffff:ffff"}),
                true,
            ),
            (json!({"ip": "2001:db9::"}), false),
            (json!({"ip": "10.0.0.1"}), false),
        ],
    );
}

#[test]
fn address_literals_match_any_spelling() {
    check(
        r#"{"ip": ["::1"]}"#,
        &[
            (json!({"ip": "::1"}), true),
            (json!({"ip": "0:0:0:0:0:0:0:1"}), true),
            (json!({"ip": "::2"}), false),
        ],
    );
    check(
        r#"{"ip": ["2001:DB8::1"]}"#,
        &[(json!({"ip": "2001:db8:0:0::1"}), true)],
    );
    check(
        r#"{"ip": ["10.0.0.1"]}"#,
        &[
            (json!({"ip": "10.0.0.1"}), true),
            (json!({"ip": "10.0.0.10"}), false),
        ],
    );
}
