//! When a failed delivery is tried again.
//!
//! From the SNS developer guide, "Amazon SNS message delivery retries":
//! - SQS and Lambda endpoints (AWS-managed) get 100,015 retries over 23
//!   days: 3 at once, 2 one second apart, 10 backing off exponentially from
//!   1 to 20 seconds, then 100,000 twenty seconds apart.
//! - HTTP(S) endpoints follow the delivery policy's `healthyRetryPolicy`
//!   (by default 3 retries 20 seconds apart): `numNoDelayRetries` at once,
//!   `numMinDelayRetries` at `minDelayTarget`, then a backoff phase from
//!   `minDelayTarget` to `maxDelayTarget`, and `numMaxDelayRetries` at
//!   `maxDelayTarget`, `numRetries` in all.
//!
//! Client-side failures (the endpoint is gone, or refuses the message) are
//! never retried; that decision belongs to the caller.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Retries of an AWS-managed endpoint, in all.
pub const MANAGED_RETRIES: u32 = 100_015;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind")]
pub enum RetryPolicy {
    /// SQS queues and Lambda functions.
    Managed,
    /// HTTP(S) endpoints: a healthyRetryPolicy, delays in seconds.
    Http(HttpRetry),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HttpRetry {
    pub min_delay: u32,
    pub max_delay: u32,
    pub retries: u32,
    pub no_delay: u32,
    pub min_delay_retries: u32,
    pub max_delay_retries: u32,
    pub backoff: Backoff,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Backoff {
    Linear,
    Arithmetic,
    Geometric,
    Exponential,
}

impl Default for HttpRetry {
    /// SNS's default for HTTP(S): 3 retries, 20 seconds apart.
    fn default() -> Self {
        HttpRetry {
            min_delay: 20,
            max_delay: 20,
            retries: 3,
            no_delay: 0,
            min_delay_retries: 0,
            max_delay_retries: 0,
            backoff: Backoff::Linear,
        }
    }
}

impl HttpRetry {
    /// Reads a `healthyRetryPolicy` object; missing members keep their
    /// defaults.
    pub fn from_json(policy: &Value) -> HttpRetry {
        let mut r = HttpRetry::default();
        let num = |name: &str, slot: &mut u32| {
            if let Some(n) = policy.get(name).and_then(Value::as_u64) {
                *slot = u32::try_from(n).unwrap_or(u32::MAX);
            }
        };
        num("minDelayTarget", &mut r.min_delay);
        num("maxDelayTarget", &mut r.max_delay);
        num("numRetries", &mut r.retries);
        num("numNoDelayRetries", &mut r.no_delay);
        num("numMinDelayRetries", &mut r.min_delay_retries);
        num("numMaxDelayRetries", &mut r.max_delay_retries);
        r.backoff = match policy.get("backoffFunction").and_then(Value::as_str) {
            Some("arithmetic") => Backoff::Arithmetic,
            Some("geometric") => Backoff::Geometric,
            Some("exponential") => Backoff::Exponential,
            _ => Backoff::Linear,
        };
        r
    }
}

impl RetryPolicy {
    /// Milliseconds to wait before retry number `retry` (from 1), or `None`
    /// when the retries are used up.
    pub fn delay_before(&self, retry: u32) -> Option<u64> {
        match self {
            RetryPolicy::Managed => managed_delay(retry),
            RetryPolicy::Http(h) => http_delay(h, retry),
        }
    }
}

fn managed_delay(retry: u32) -> Option<u64> {
    match retry {
        0 => Some(0),
        1..=3 => Some(0),
        4..=5 => Some(1_000),
        // Ten retries from 1 s to 20 s, each the last times 20^(1/9).
        6..=15 => {
            let k = f64::from(retry - 6);
            Some((1_000.0 * 20f64.powf(k / 9.0)).round() as u64)
        }
        r if r <= MANAGED_RETRIES => Some(20_000),
        _ => None,
    }
}

fn http_delay(h: &HttpRetry, retry: u32) -> Option<u64> {
    if retry == 0 {
        return Some(0);
    }
    if retry > h.retries {
        return None;
    }
    let secs = |s: f64| Some((s * 1000.0).round() as u64);
    let min = f64::from(h.min_delay);
    let max = f64::from(h.max_delay.max(h.min_delay));
    if retry <= h.no_delay {
        return Some(0);
    }
    if retry <= h.no_delay + h.min_delay_retries {
        return secs(min);
    }
    let backoff_retries = h
        .retries
        .saturating_sub(h.no_delay + h.min_delay_retries + h.max_delay_retries);
    let step = retry - h.no_delay - h.min_delay_retries;
    if step > backoff_retries {
        return secs(max);
    }
    // Position in the backoff phase, 0 at the first retry, 1 at the last.
    let t = if backoff_retries <= 1 {
        1.0
    } else {
        f64::from(step - 1) / f64::from(backoff_retries - 1)
    };
    let delay = match h.backoff {
        Backoff::Linear | Backoff::Arithmetic => min + (max - min) * t,
        Backoff::Geometric | Backoff::Exponential if min > 0.0 => min * (max / min).powf(t),
        Backoff::Geometric | Backoff::Exponential => max * t,
    };
    secs(delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn managed_schedule() {
        let p = RetryPolicy::Managed;
        assert_eq!(p.delay_before(1), Some(0));
        assert_eq!(p.delay_before(3), Some(0));
        assert_eq!(p.delay_before(4), Some(1_000));
        assert_eq!(p.delay_before(5), Some(1_000));
        assert_eq!(p.delay_before(6), Some(1_000));
        assert_eq!(p.delay_before(15), Some(20_000));
        assert!(p.delay_before(10).unwrap() > p.delay_before(9).unwrap());
        assert_eq!(p.delay_before(16), Some(20_000));
        assert_eq!(p.delay_before(MANAGED_RETRIES), Some(20_000));
        assert_eq!(p.delay_before(MANAGED_RETRIES + 1), None);
        // 100,000 retries 20 s apart: about 23 days in all.
        let total: u64 = (1..=MANAGED_RETRIES)
            .filter_map(|r| p.delay_before(r))
            .sum();
        assert_eq!(total / 86_400_000, 23);
    }

    #[test]
    fn http_schedule() {
        let default = RetryPolicy::Http(HttpRetry::default());
        assert_eq!(default.delay_before(1), Some(20_000));
        assert_eq!(default.delay_before(3), Some(20_000));
        assert_eq!(default.delay_before(4), None);
        let custom = RetryPolicy::Http(HttpRetry::from_json(&json!({
            "minDelayTarget": 1, "maxDelayTarget": 9, "numRetries": 6,
            "numNoDelayRetries": 1, "numMinDelayRetries": 1, "numMaxDelayRetries": 1,
            "backoffFunction": "linear"
        })));
        let delays: Vec<_> = (1..=7).map(|r| custom.delay_before(r)).collect();
        assert_eq!(
            delays,
            vec![
                Some(0),
                Some(1_000),
                Some(1_000),
                Some(5_000),
                Some(9_000),
                Some(9_000),
                None
            ]
        );
    }
}
