//! Tumbling windows of a stream event source mapping
//! (TumblingWindowInSeconds): records are grouped into fixed, aligned time
//! windows by the time they entered the stream, and the function carries a
//! `state` from one invocation of a window to the next.
//!
//! AWS's rules, kept here:
//! - A window is `[k * W, (k + 1) * W)` seconds since the epoch; a record
//!   belongs to the window of its ApproximateCreationDateTime. A batch never
//!   spans two windows.
//! - Each invocation's event carries `window {start, end}`, the `state` the
//!   previous invocation of the window returned (`{}` at first), `shardId`,
//!   `eventSourceARN`, `isFinalInvokeForWindow` and
//!   `isWindowTerminatedEarly`. The response must carry `state`; one
//!   without it is a failed invocation.
//! - When the window is over, one more invocation with no records and
//!   `isFinalInvokeForWindow: true` hands the final state to the function;
//!   processing waits until it succeeds. Then the state is dropped.
//! - A state over 1 MB ends the window early: the final invocation says
//!   `isWindowTerminatedEarly: true`, and the same window goes on with a
//!   fresh state.
//!
//! Invariant: the open window (start and state) is stored in the same write
//! as the mapping's checkpoint, so after a crash the state always matches
//! the records already counted in it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A state larger than this (as JSON) ends its window early.
pub const MAX_STATE_BYTES: usize = 1024 * 1024;

/// The window a mapping is filling, as stored next to its checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenWindow {
    /// Seconds since the epoch.
    pub start: u64,
    pub end: u64,
    /// What the last invocation of the window returned as `state`.
    pub state: Value,
}

impl OpenWindow {
    /// The window of length `seconds` that holds `at` (seconds since the
    /// epoch), with a fresh state.
    pub fn holding(at: u64, seconds: u32) -> OpenWindow {
        let w = u64::from(seconds.max(1));
        let start = at - at % w;
        OpenWindow {
            start,
            end: start + w,
            state: Value::Object(Map::new()),
        }
    }

    pub fn contains(&self, at: u64) -> bool {
        at < self.end
    }

    /// Adds the tumbling-window members to an invocation's event.
    pub fn decorate(&self, event: &mut Value, source_arn: &str, shard_id: &str, last: Final) {
        event["window"] = json!({
            "start": iso_seconds(self.start),
            "end": iso_seconds(self.end),
        });
        event["state"] = self.state.clone();
        event["shardId"] = shard_id.into();
        event["eventSourceARN"] = source_arn.into();
        event["isFinalInvokeForWindow"] = (last != Final::No).into();
        event["isWindowTerminatedEarly"] = (last == Final::Early).into();
    }
}

/// Whether an invocation is a window's last, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Final {
    No,
    /// The window's time is over.
    Closed,
    /// The state grew past [`MAX_STATE_BYTES`].
    Early,
}

/// When a stream record entered the stream, in whole seconds.
pub fn record_time(record: &Value) -> Option<u64> {
    record["dynamodb"]["ApproximateCreationDateTime"]
        .as_f64()
        .filter(|t| *t >= 0.0)
        .map(|t| t as u64)
}

/// The `state` a windowed invocation returned: AWS treats a response
/// without one as a failed invocation.
pub fn returned_state(body: &[u8]) -> Option<Value> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value
        .get("state")
        .filter(|s| s.is_object() || s.is_null())
        .map(|s| {
            if s.is_null() {
                Value::Object(Map::new())
            } else {
                s.clone()
            }
        })
}

/// Whether a state is too large to carry on (AWS's 1 MB per shard).
pub fn too_large(state: &Value) -> bool {
    serde_json::to_vec(state).map_or(true, |b| b.len() > MAX_STATE_BYTES)
}

/// `2020-07-30T17:00:00Z`, as AWS writes window bounds.
fn iso_seconds(secs: u64) -> String {
    let mut s = crate::model::timestamp(secs.saturating_mul(1000));
    s.truncate(19);
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_their_length() {
        let w = OpenWindow::holding(1_700_000_007, 5);
        assert_eq!((w.start, w.end), (1_700_000_005, 1_700_000_010));
        assert!(w.contains(1_700_000_009));
        assert!(!w.contains(1_700_000_010));
        let minute = OpenWindow::holding(1_596_128_430, 60);
        assert_eq!(minute.start, 1_596_128_400);
        let mut event = json!({"Records": []});
        minute.decorate(&mut event, "arn:s", "shard-1", Final::No);
        assert_eq!(event["window"]["start"], "2020-07-30T17:00:00Z");
        assert_eq!(event["window"]["end"], "2020-07-30T17:01:00Z");
        assert_eq!(event["state"], json!({}));
        assert_eq!(event["isFinalInvokeForWindow"], false);
        assert_eq!(event["isWindowTerminatedEarly"], false);
        minute.decorate(&mut event, "arn:s", "shard-1", Final::Early);
        assert_eq!(event["isFinalInvokeForWindow"], true);
        assert_eq!(event["isWindowTerminatedEarly"], true);
    }

    #[test]
    fn a_response_must_carry_a_state() {
        assert_eq!(
            returned_state(br#"{"state": {"n": 3}}"#),
            Some(json!({"n": 3}))
        );
        assert_eq!(returned_state(br#"{"state": null}"#), Some(json!({})));
        assert_eq!(returned_state(br#"{"batchItemFailures": []}"#), None);
        assert_eq!(returned_state(b"null"), None);
        assert_eq!(returned_state(br#"{"state": 5}"#), None);
        assert_eq!(returned_state(b"not json"), None);
    }

    #[test]
    fn large_states_end_the_window() {
        assert!(!too_large(&json!({"a": "x".repeat(1000)})));
        assert!(too_large(&json!({"a": "x".repeat(MAX_STATE_BYTES)})));
    }
}
