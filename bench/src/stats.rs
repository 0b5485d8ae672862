//! Latency histograms and error counts, per worker while running and merged
//! into one [`Summary`] at the end (so workers never contend on a lock).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, from 1 µs to 60 s, with three
/// significant digits: p99.9 of a sub-millisecond server is still exact to
/// about a microsecond, and the per-request timeout is well below 60 s.
const MAX_LATENCY_US: u64 = 60_000_000;

pub struct Recorder {
    hist: Histogram<u64>,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    /// First example message for each error type, so a report can say *why*
    /// (e.g. which check a wrong answer failed) without storing every one.
    pub error_examples: BTreeMap<String, String>,
    /// Requests that found their connection closed by the server and had
    /// to reconnect first (not errors; the reconnect is in the latency).
    pub reconnects: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            hist: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("static histogram bounds are valid"),
            ok: 0,
            errors: BTreeMap::new(),
            error_examples: BTreeMap::new(),
            reconnects: 0,
        }
    }
}

impl Recorder {
    pub fn record_ok(&mut self, latency: Duration) {
        self.ok += 1;
        let us = (latency.as_micros() as u64).clamp(1, MAX_LATENCY_US);
        self.hist
            .record(us)
            .expect("value clamped into histogram range");
    }

    pub fn record_error(&mut self, error_type: String, example: impl FnOnce() -> String) {
        if !self.error_examples.contains_key(&error_type) {
            self.error_examples.insert(error_type.clone(), example());
        }
        *self.errors.entry(error_type).or_default() += 1;
    }

    pub fn merge(&mut self, other: Recorder) {
        self.hist.add(&other.hist).expect("histograms share bounds");
        self.ok += other.ok;
        self.reconnects += other.reconnects;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in other.error_examples {
            self.error_examples.entry(k).or_insert(v);
        }
    }

    pub fn summarize(&self, elapsed: Duration) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        let q = |p: f64| ms(self.hist.value_at_quantile(p));
        let secs = elapsed.as_secs_f64().max(1e-9);
        Summary {
            ok: self.ok,
            errors: self.errors.values().sum(),
            errors_by_type: self.errors.clone(),
            error_examples: self.error_examples.clone(),
            reconnects: self.reconnects,
            elapsed_s: elapsed.as_secs_f64(),
            throughput_rps: self.ok as f64 / secs,
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: ms(self.hist.max()),
        }
    }
}

/// The measured part of one run against one server. Throughput counts only
/// correct responses; latencies are of correct responses only, so a server
/// that fails fast cannot look fast.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub ok: u64,
    pub errors: u64,
    pub errors_by_type: BTreeMap<String, u64>,
    pub error_examples: BTreeMap<String, String>,
    pub reconnects: u64,
    pub elapsed_s: f64,
    pub throughput_rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_and_latencies() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 1..=100 {
            a.record_ok(Duration::from_micros(i * 10));
        }
        b.record_ok(Duration::from_millis(50));
        b.record_error("ThrottlingException".into(), || "slow down".into());
        a.merge(b);
        let s = a.summarize(Duration::from_secs(1));
        assert_eq!(s.ok, 101);
        assert_eq!(s.errors, 1);
        assert!((s.throughput_rps - 101.0).abs() < 1e-9);
        assert!((s.p50_ms - 0.51).abs() < 0.01, "{}", s.p50_ms);
        assert!((s.max_ms - 50.0).abs() < 0.1, "{}", s.max_ms);
    }
}
