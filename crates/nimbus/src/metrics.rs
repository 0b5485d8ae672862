//! Request metrics for `/_nimbus/metrics`: per service and operation, how
//! many requests ended in success, client error and server error, and a
//! latency histogram, in the Prometheus text format.
//!
//! Recording is on every request's path, so it takes one shared read lock
//! and a few relaxed atomic adds; the write lock is taken only the first
//! time an operation is seen. Operation names come from requests, so the
//! number of series is capped: past [`MAX_SERIES`], new names are counted
//! under `operation="other"`.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Most (service, operation) series kept apart.
pub const MAX_SERIES: usize = 512;

/// How a request ended, by its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    ClientError,
    ServerError,
}

impl Outcome {
    pub fn of_status(status: u16) -> Outcome {
        match status {
            500.. => Outcome::ServerError,
            400..=499 => Outcome::ClientError,
            _ => Outcome::Ok,
        }
    }
}

#[derive(Default)]
struct Series {
    ok: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    /// Requests at or under each bound of [`BUCKETS`] (not cumulative;
    /// summed when written out). The last slot is over every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// One service's series, by operation name.
type Operations = HashMap<Box<str>, Arc<Series>>;

/// Every request's outcome and latency, by service and operation.
#[derive(Default)]
pub struct RequestMetrics {
    /// Service -> operation -> series (two levels so a lookup borrows the
    /// operation name instead of allocating a key).
    series: RwLock<HashMap<&'static str, Operations>>,
}

impl RequestMetrics {
    pub fn record(&self, service: &'static str, operation: &str, outcome: Outcome, took: Duration) {
        let series = self.series_for(service, operation);
        let counter = match outcome {
            Outcome::Ok => &series.ok,
            Outcome::ClientError => &series.client_errors,
            Outcome::ServerError => &series.server_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|&bound| secs <= bound)
            .unwrap_or(BUCKETS.len());
        series.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        series.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn series_for(&self, service: &'static str, operation: &str) -> Arc<Series> {
        {
            let map = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = map.get(service).and_then(|ops| ops.get(operation)) {
                return s.clone();
            }
        }
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let count: usize = map.values().map(HashMap::len).sum();
        let ops = map.entry(service).or_default();
        let operation = if count >= MAX_SERIES && !ops.contains_key(operation) {
            "other"
        } else {
            operation
        };
        ops.entry(Box::from(operation)).or_default().clone()
    }

    /// The Prometheus text of every series, sorted for stable output.
    pub fn write(&self, out: &mut String) {
        let map = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<((&str, &str), &Arc<Series>)> = map
            .iter()
            .flat_map(|(service, ops)| ops.iter().map(move |(op, s)| ((*service, &**op), s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = writeln!(
            out,
            "# HELP nimbus_requests_total AWS API requests nimbus answered, by service, operation and outcome."
        );
        let _ = writeln!(out, "# TYPE nimbus_requests_total counter");
        for ((service, operation), s) in &all {
            let labels = labels(service, operation);
            for (outcome, counter) in [
                ("ok", &s.ok),
                ("client_error", &s.client_errors),
                ("server_error", &s.server_errors),
            ] {
                let _ = writeln!(
                    out,
                    "nimbus_requests_total{{{labels},outcome=\"{outcome}\"}} {}",
                    counter.load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP nimbus_request_duration_seconds Time from a request's arrival to its answer."
        );
        let _ = writeln!(out, "# TYPE nimbus_request_duration_seconds histogram");
        for ((service, operation), s) in &all {
            let labels = labels(service, operation);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "nimbus_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += s.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "nimbus_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}"
            );
            let sum = s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "nimbus_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(
                out,
                "nimbus_request_duration_seconds_count{{{labels}}} {cumulative}"
            );
        }
    }
}

fn labels(service: &str, operation: &str) -> String {
    format!(
        "service=\"{}\",operation=\"{}\"",
        escape(service),
        escape(operation)
    )
}

/// Prometheus label values escape backslash, double quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outcomes_and_buckets() {
        let m = RequestMetrics::default();
        m.record(
            "dynamodb",
            "PutItem",
            Outcome::Ok,
            Duration::from_micros(300),
        );
        m.record("dynamodb", "PutItem", Outcome::Ok, Duration::from_millis(3));
        m.record(
            "dynamodb",
            "PutItem",
            Outcome::ClientError,
            Duration::from_secs(20),
        );
        m.record(
            "sqs",
            "Send\"Message",
            Outcome::ServerError,
            Duration::from_millis(1),
        );
        let mut out = String::new();
        m.write(&mut out);
        let put = "service=\"dynamodb\",operation=\"PutItem\"";
        assert!(out.contains(&format!(
            "nimbus_requests_total{{{put},outcome=\"ok\"}} 2\n"
        )));
        assert!(out.contains(&format!(
            "nimbus_requests_total{{{put},outcome=\"client_error\"}} 1\n"
        )));
        assert!(out.contains(&format!(
            "nimbus_request_duration_seconds_bucket{{{put},le=\"0.0005\"}} 1\n"
        )));
        assert!(out.contains(&format!(
            "nimbus_request_duration_seconds_bucket{{{put},le=\"0.005\"}} 2\n"
        )));
        assert!(out.contains(&format!(
            "nimbus_request_duration_seconds_bucket{{{put},le=\"10\"}} 2\n"
        )));
        assert!(out.contains(&format!(
            "nimbus_request_duration_seconds_bucket{{{put},le=\"+Inf\"}} 3\n"
        )));
        assert!(out.contains(&format!(
            "nimbus_request_duration_seconds_count{{{put}}} 3\n"
        )));
        assert!(out.contains("operation=\"Send\\\"Message\",outcome=\"server_error\"} 1"));
    }

    #[test]
    fn series_are_capped() {
        let m = RequestMetrics::default();
        for i in 0..MAX_SERIES + 10 {
            m.record("lambda", &format!("op{i}"), Outcome::Ok, Duration::ZERO);
        }
        let mut out = String::new();
        m.write(&mut out);
        assert!(out.contains("operation=\"other\",outcome=\"ok\"} 10\n"));
    }
}
