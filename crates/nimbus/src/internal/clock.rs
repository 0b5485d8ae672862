//! `/_nimbus/clock`: read the server's clock, and move it forward so TTLs,
//! visibility timeouts and schedules fire without a test sleeping.
//!
//! - `GET /_nimbus/clock` -> `{"now": <epoch ms>, "offsetMs": <ms ahead of real time>}`
//! - `POST /_nimbus/clock/advance` with `{"seconds": N}` (may be fractional)
//!   or `{"milliseconds": N}` (whole) -> the same shape, after the move.
//!
//! The clock never goes back, so there is no way to set it or rewind it;
//! an advance is bounded (100 years) so no request can push the clock to
//! the end of time, where it would stay for the life of the process.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use nimbus_clock::Clock;
use serde_json::{json, Value};

use super::{error, json_response};

/// The largest single advance: 100 years of 365 days, in milliseconds.
const MAX_ADVANCE_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

pub fn get(clock: &Clock) -> Response<Bytes> {
    json_response(StatusCode::OK, &reading(clock))
}

pub fn advance(clock: &Clock, body: &[u8]) -> Response<Bytes> {
    match parse_advance(body) {
        Ok(by) => {
            clock.advance(by);
            tracing::info!("clock advanced by {by:?}; now {} ms", clock.now_ms());
            json_response(StatusCode::OK, &reading(clock))
        }
        Err(message) => error(StatusCode::BAD_REQUEST, "InvalidClockAdvance", message),
    }
}

fn reading(clock: &Clock) -> Value {
    json!({"now": clock.now_ms(), "offsetMs": clock.offset_ms()})
}

/// The amount a request asks to advance by, or why it is refused.
fn parse_advance(body: &[u8]) -> Result<Duration, String> {
    const USAGE: &str = r#"send a JSON object such as {"seconds": 60} or {"milliseconds": 1500}"#;
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not valid JSON ({e}); {USAGE}"))?;
    let Value::Object(fields) = value else {
        return Err(format!("the body must be a JSON object; {USAGE}"));
    };
    if let Some(other) = fields
        .keys()
        .find(|k| *k != "seconds" && *k != "milliseconds")
    {
        return Err(format!("unknown field \"{other}\"; {USAGE}"));
    }
    let ms = match (fields.get("seconds"), fields.get("milliseconds")) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "give either \"seconds\" or \"milliseconds\", not both; {USAGE}"
            ))
        }
        (None, None) => {
            return Err(format!(
                "the body names no amount: \"seconds\" or \"milliseconds\" is required; {USAGE}"
            ))
        }
        (Some(v), None) => {
            let secs = non_negative("seconds", v)?;
            let ms = (secs * 1000.0).round();
            if ms > MAX_ADVANCE_MS as f64 {
                return Err(too_large("seconds", v));
            }
            ms as u64
        }
        (None, Some(v)) => {
            non_negative("milliseconds", v)?;
            let ms = v.as_u64().ok_or_else(|| {
                format!("\"milliseconds\" must be a whole number of milliseconds, got {v}")
            })?;
            if ms > MAX_ADVANCE_MS {
                return Err(too_large("milliseconds", v));
            }
            ms
        }
    };
    Ok(Duration::from_millis(ms))
}

fn non_negative(field: &str, v: &Value) -> Result<f64, String> {
    let n = v
        .as_f64()
        .ok_or_else(|| format!("\"{field}\" must be a number, got {v}"))?;
    if n < 0.0 {
        return Err(format!(
            "\"{field}\" must not be negative (got {v}): the clock only moves forward"
        ));
    }
    Ok(n)
}

fn too_large(field: &str, v: &Value) -> String {
    format!(
        "\"{field}\" is too large (got {v}): one advance may move the clock at most 100 years ({} seconds)",
        MAX_ADVANCE_MS / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> String {
        parse_advance(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn amounts() {
        assert_eq!(
            parse_advance(br#"{"seconds": 601}"#),
            Ok(Duration::from_secs(601))
        );
        assert_eq!(
            parse_advance(br#"{"seconds": 1.5}"#),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_advance(br#"{"milliseconds": 250}"#),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(parse_advance(br#"{"seconds": 0}"#), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_input_is_explained() {
        assert!(
            refused(r#"{"seconds": -1}"#).starts_with("\"seconds\" must not be negative (got -1)")
        );
        assert!(
            refused(r#"{"milliseconds": -5}"#).starts_with("\"milliseconds\" must not be negative")
        );
        assert_eq!(
            refused(r#"{"seconds": "10"}"#),
            "\"seconds\" must be a number, got \"10\""
        );
        assert!(refused(r#"{"milliseconds": 1.5}"#)
            .starts_with("\"milliseconds\" must be a whole number"));
        assert!(refused("{}").starts_with("the body names no amount"));
        assert!(refused("").starts_with("the body is not valid JSON"));
        assert!(refused("[1]").starts_with("the body must be a JSON object"));
        assert!(refused(r#"{"seconds": 1, "milliseconds": 1}"#).starts_with("give either"));
        assert!(refused(r#"{"secs": 1}"#).starts_with("unknown field \"secs\""));
        assert!(refused(r#"{"seconds": 1e300}"#).starts_with("\"seconds\" is too large"));
    }

    #[test]
    fn advance_moves_the_clock_and_reports_it() {
        let clock = Clock::new();
        let before = clock.now_ms();
        let response = advance(&clock, br#"{"seconds": 601}"#);
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["offsetMs"], 601_000);
        assert!(body["now"].as_u64().unwrap() >= before + 601_000);

        let response = advance(&clock, br#"{"seconds": -3}"#);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["__type"], "InvalidClockAdvance");
        assert_eq!(
            clock.offset_ms(),
            601_000,
            "a refused advance moves nothing"
        );

        let body: Value = serde_json::from_slice(get(&clock).body()).unwrap();
        assert_eq!(body["offsetMs"], 601_000);
    }
}
