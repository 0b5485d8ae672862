//! The load loop: N virtual clients, each with its own keep-alive connection,
//! either closed-loop (send, wait, send again, as fast as the server allows)
//! or open-loop (requests scheduled at a fixed rate, latency measured from
//! the *intended* send time, so a stalled server shows up as latency instead
//! of quietly lowering the offered load).
//!
//! Every loop is bounded twice: by time (warm-up + duration, plus at most one
//! request timeout to drain) and by a maximum request count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::client::{Connection, Endpoint, Outcome};
use crate::sign::SignedRequest;
use crate::stats::{Recorder, Summary};

/// One request of a workload plus what is needed to check its answer.
pub struct Call {
    pub request: SignedRequest,
    /// Workload-defined identity of what was asked for (e.g. the key index),
    /// used by [`Driver::check`].
    pub expect: u64,
    /// Whether this request's time counts in the round's latency. A step
    /// that only prepares the measured one (e.g. the configuration update
    /// that forces a Lambda cold start) is sent but not timed.
    pub timed: bool,
}

impl Call {
    pub fn timed(request: SignedRequest, expect: u64) -> Call {
        Call {
            request,
            expect,
            timed: true,
        }
    }
}

/// A workload as the load loop sees it: produce requests, judge answers.
///
/// One *round* is what the throughput counts and the latency measures: a
/// single request for most workloads, or a short chain (SQS: send, receive,
/// delete) where each answer yields the next request.
pub trait Driver: Send + Sync + 'static {
    /// The first request of the next round for virtual client `worker`;
    /// `seq` counts that client's rounds, so (worker, seq) is unique within
    /// a run. `rng` is the client's own random state.
    fn next_call(&self, worker: usize, seq: u64, rng: &mut Rng) -> Result<Call, String>;
    /// Checks a 200 response. `Ok(None)` ends the round; `Ok(Some(next))`
    /// is the round's next request. An `Err` is counted as a `WrongAnswer`
    /// error and ends the round.
    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String>;
}

#[derive(Clone, Debug, Serialize)]
pub struct LoadConfig {
    pub connections: usize,
    #[serde(serialize_with = "secs")]
    pub warmup: Duration,
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// `Some(r)`: open loop at r requests/s in total. `None`: closed loop.
    pub rate: Option<f64>,
    pub max_requests: u64,
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A tiny xorshift generator: key choice must cost nanoseconds, and
/// reproducibility per worker is all that is needed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n.max(1)
    }
}

/// When each request starts, shared by all workers.
struct Schedule {
    start: Instant,
    measure_start: Instant,
    end: Instant,
    /// Open loop: the interval between scheduled requests.
    period: Option<Duration>,
    issued: AtomicU64,
    max_requests: u64,
    /// Open loop only: how late past `end` a scheduled request may still be
    /// sent. Past it, the rest are counted as `NotSent` rather than sent.
    drain: Duration,
}

enum Slot {
    /// Send now. `intended` decides whether the request falls in the
    /// measured window; latency is measured from `measure_from`.
    Go {
        intended: Instant,
        measure_from: Instant,
    },
    Stop,
}

/// Error type for scheduled open-loop requests that could not even be sent
/// before the run ended: the server (or generator) could not keep up.
pub const NOT_SENT: &str = "NotSent (offered rate not sustained)";
/// Error type for 200 responses whose content was wrong.
pub const WRONG_ANSWER: &str = "WrongAnswer";

impl Schedule {
    async fn next(&self, rec: &mut Recorder) -> Slot {
        match self.period {
            None => {
                let now = Instant::now();
                if now >= self.end
                    || self.issued.fetch_add(1, Ordering::Relaxed) >= self.max_requests
                {
                    return Slot::Stop;
                }
                Slot::Go {
                    intended: now,
                    measure_from: now,
                }
            }
            Some(period) => {
                let i = self.issued.fetch_add(1, Ordering::Relaxed);
                let intended = self.start + period.mul_f64(i as f64);
                if intended >= self.end || i >= self.max_requests {
                    return Slot::Stop;
                }
                if Instant::now() > self.end + self.drain {
                    // Claim every remaining scheduled request at once and
                    // count it: dropping them silently would hide overload.
                    let total = ((self.end - self.start).as_secs_f64() / period.as_secs_f64())
                        .ceil() as u64;
                    let prev = self.issued.swap(u64::MAX / 2, Ordering::Relaxed);
                    let skipped = total.min(self.max_requests).saturating_sub(prev.min(i));
                    if skipped > 0 {
                        *rec.errors.entry(NOT_SENT.to_owned()).or_default() += skipped;
                    }
                    return Slot::Stop;
                }
                // A client still busy with its previous request at `intended`
                // is late because of the server: measure from `intended`, so
                // that queueing counts. An idle client woken late by the
                // timer (tokio's timer ticks in whole milliseconds) is late
                // because of the generator: measure from when it woke.
                if Instant::now() < intended {
                    tokio::time::sleep_until(intended).await;
                    Slot::Go {
                        intended,
                        measure_from: Instant::now(),
                    }
                } else {
                    Slot::Go {
                        intended,
                        measure_from: intended,
                    }
                }
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LoadResult {
    pub mode: &'static str,
    pub config: LoadConfig,
    pub summary: Summary,
    /// CPU the generator itself used over the whole run (warm-up included),
    /// in percent of one core. Near 100 with one generator thread means the
    /// generator, not the server, may have been the limit.
    pub generator_cpu_pct: Option<f64>,
}

/// This process's user+system CPU time, from /proc/self/stat (clock ticks
/// are 100 per second on Linux).
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')' the fields start at "state" (field 3): utime is field 14, stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs one workload against one endpoint and returns the measured summary
/// (warm-up excluded).
pub async fn run(endpoint: &Endpoint, driver: Arc<dyn Driver>, cfg: &LoadConfig) -> LoadResult {
    let cpu_before = own_cpu_seconds();
    let start = Instant::now();
    let schedule = Arc::new(Schedule {
        start,
        measure_start: start + cfg.warmup,
        end: start + cfg.warmup + cfg.duration,
        period: cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1e-3))),
        issued: AtomicU64::new(0),
        max_requests: cfg.max_requests,
        drain: Duration::from_secs(1),
    });
    let mut tasks = Vec::with_capacity(cfg.connections);
    for id in 0..cfg.connections {
        let (endpoint, driver, schedule, timeout) = (
            endpoint.clone(),
            driver.clone(),
            schedule.clone(),
            cfg.timeout,
        );
        tasks.push(tokio::spawn(async move {
            worker(id, endpoint, driver, schedule, timeout).await
        }));
    }
    let mut total = Recorder::default();
    let mut last_done = schedule.measure_start;
    for t in tasks {
        let (rec, done) = t.await.expect("load worker panicked");
        total.merge(rec);
        last_done = last_done.max(done);
    }
    let summary = total.summarize(last_done - schedule.measure_start);
    let wall = start.elapsed().as_secs_f64();
    let generator_cpu_pct = match (cpu_before, own_cpu_seconds()) {
        (Some(a), Some(b)) if wall > 0.0 => Some((b - a) / wall * 100.0),
        _ => None,
    };
    LoadResult {
        mode: if cfg.rate.is_some() { "open" } else { "closed" },
        config: cfg.clone(),
        summary,
        generator_cpu_pct,
    }
}

async fn worker(
    id: usize,
    endpoint: Endpoint,
    driver: Arc<dyn Driver>,
    schedule: Arc<Schedule>,
    timeout: Duration,
) -> (Recorder, Instant) {
    let mut rec = Recorder::default();
    let mut rng = Rng::new(id as u64 + 1);
    let mut conn: Option<Connection> = None;
    let mut last_done = schedule.measure_start;
    let mut seq = 0u64;
    while let Slot::Go {
        intended,
        measure_from,
    } = schedule.next(&mut rec).await
    {
        let measured = intended >= schedule.measure_start;
        seq += 1;
        let mut call = match driver.next_call(id, seq, &mut rng) {
            Ok(c) => c,
            Err(e) => {
                rec.record_error("generator: request build failed".into(), || e);
                continue;
            }
        };
        // Time spent on untimed steps of the round, taken out of its latency.
        let mut untimed = Duration::ZERO;
        loop {
            let step_start = Instant::now();
            let outcome = send_step(&mut conn, &endpoint, &call, timeout, measured, &mut rec).await;
            if matches!(outcome, Outcome::Transport("connect failed")) {
                // Back off so a dead server does not turn this into a busy
                // loop; the schedule still ends it on time.
                tokio::time::sleep(Duration::from_millis(10)).await;
                break;
            }
            let done = Instant::now();
            if !call.timed {
                untimed += done - step_start;
            }
            if matches!(outcome, Outcome::Transport(_) | Outcome::ClosedBeforeSend) {
                conn = None;
            }
            if measured {
                last_done = last_done.max(done);
            }
            let next = match outcome {
                Outcome::Ok(body) => match driver.check(&call, &body) {
                    Ok(Some(next)) => Some(next),
                    Ok(None) => {
                        if measured {
                            rec.record_ok((done - measure_from).saturating_sub(untimed));
                        }
                        None
                    }
                    Err(why) => {
                        if measured {
                            rec.record_error(WRONG_ANSWER.into(), || why);
                        }
                        None
                    }
                },
                Outcome::Aws {
                    status,
                    error_type,
                    body,
                } => {
                    if measured {
                        rec.record_error(error_type, || {
                            format!(
                                "HTTP {status}: {}",
                                String::from_utf8_lossy(&body[..body.len().min(300)])
                            )
                        });
                    }
                    None
                }
                Outcome::Transport(kind) => {
                    if measured {
                        rec.record_error(format!("transport: {kind}"), || kind.to_owned());
                    }
                    None
                }
                Outcome::ClosedBeforeSend => {
                    if measured {
                        rec.record_error(
                            "transport: connection closed twice in a row".into(),
                            String::new,
                        );
                    }
                    None
                }
            };
            match next {
                Some(next) => call = next,
                None => break,
            }
        }
    }
    (rec, last_done)
}

/// Sends one request on the client's connection, opening it first when
/// needed. A server that closes idle or used connections costs the client a
/// reconnect, which is part of the measured latency but not an error.
async fn send_step(
    conn: &mut Option<Connection>,
    endpoint: &Endpoint,
    call: &Call,
    timeout: Duration,
    measured: bool,
    rec: &mut Recorder,
) -> Outcome {
    let mut outcome = Outcome::ClosedBeforeSend;
    for _attempt in 0..2 {
        if conn.is_none() {
            match Connection::open(endpoint).await {
                Ok(c) => *conn = Some(c),
                Err(e) => {
                    if measured {
                        rec.record_error("transport: connect failed".into(), || e.to_string());
                    }
                    return Outcome::Transport("connect failed");
                }
            }
        }
        outcome = conn
            .as_mut()
            .expect("connected above")
            .send(&call.request, timeout)
            .await;
        if !matches!(outcome, Outcome::ClosedBeforeSend) {
            break;
        }
        *conn = None;
        if measured {
            rec.reconnects += 1;
        }
    }
    outcome
}
