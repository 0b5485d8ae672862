//! The results of a comparison: the JSON document, and the Markdown tables a
//! person reads (absolute numbers, nimbus's ratio to each peer, nimbus's
//! pass/fail against its targets, startup and memory).

use std::fmt::Write as _;

use serde::Serialize;

use crate::loadgen::LoadResult;
use crate::servers::Startup;
use crate::workloads::Workload;

pub const NIMBUS: &str = "nimbus";

#[derive(Serialize)]
pub struct Report {
    pub generated_at: String,
    pub quick: bool,
    pub connections: usize,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// Open-loop rate in requests/s, or null for closed loop.
    pub rate: Option<f64>,
    pub servers: Vec<ServerReport>,
    pub results: Vec<WorkloadResult>,
    pub not_yet_available: Vec<Workload>,
    pub machine: Machine,
}

/// What else the machine was doing: on a shared two-core machine another
/// build running beside the benchmark changes every number.
#[derive(Serialize)]
pub struct Machine {
    pub cores: usize,
    /// 1-minute load average when the run started and when it ended.
    pub load_start: Option<f64>,
    pub load_end: Option<f64>,
}

impl Machine {
    pub fn load_average() -> Option<f64> {
        std::fs::read_to_string("/proc/loadavg")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// A warning when the machine was already busy before the benchmark
    /// started its servers. (The load average at the end includes the
    /// benchmark's own servers, so only the start is judged; the end is kept
    /// in the JSON for reference.)
    fn warning(&self) -> Option<String> {
        let load = self.load_start?;
        (load > self.cores as f64 * 0.5).then(|| {
            format!(
                "**Warning: the machine was busy when the run started (load average {load:.1} on {} cores): other work competed with the servers and the generator, so these numbers understate what the servers can do.**\n",
                self.cores
            )
        })
    }
}

#[derive(Serialize)]
pub struct ServerReport {
    pub name: String,
    pub endpoint: Option<String>,
    pub unavailable: Option<String>,
    pub startup: Startup,
}

#[derive(Serialize)]
pub struct WorkloadResult {
    pub workload: Workload,
    pub server: String,
    pub outcome: RunOutcome,
}

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
// One value per workload and server, a few dozen per run: size is no concern.
#[allow(clippy::large_enum_variant)]
pub enum RunOutcome {
    Measured {
        #[serde(flatten)]
        result: LoadResult,
        /// Items written during the run that could not be read back after it.
        read_back_failures: Vec<String>,
        /// Observations made after the run (memory per Lambda environment,
        /// unloaded Invoke latency), printed under the table.
        notes: Vec<String>,
    },
    Unsupported {
        error_type: String,
        message: String,
    },
    Failed {
        reason: String,
    },
    ServerUnavailable {
        reason: String,
    },
}

impl Report {
    pub fn find(&self, workload: Workload, server: &str) -> Option<&RunOutcome> {
        self.results
            .iter()
            .find(|r| r.workload == workload && r.server == server)
            .map(|r| &r.outcome)
    }

    fn workloads(&self) -> Vec<Workload> {
        let mut w: Vec<Workload> = self.results.iter().map(|r| r.workload).collect();
        w.dedup();
        w
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let mode = match self.rate {
            Some(r) => format!(
                "open loop at {r:.0} req/s over {} connections",
                self.connections
            ),
            None => format!("closed loop, {} connections", self.connections),
        };
        let _ = writeln!(
            md,
            "## nimbus benchmark{}\n\n{mode}; {:.0} s measured after {:.0} s warm-up; generated {}.\n",
            if self.quick {
                " (quick mode: indicative only)"
            } else {
                ""
            },
            self.duration_s,
            self.warmup_s,
            self.generated_at
        );
        if let Some(w) = self.machine.warning() {
            let _ = writeln!(md, "{w}");
        }
        self.throughput_table(&mut md);
        self.ratio_table(&mut md);
        self.startup_table(&mut md);
        if !self.not_yet_available.is_empty() {
            let names: Vec<&str> = self.not_yet_available.iter().map(|w| w.name()).collect();
            let _ = writeln!(
                md,
                "Not yet available (no numbers): {}.\n",
                names.join(", ")
            );
        }
        md
    }

    fn throughput_table(&self, md: &mut String) {
        md.push_str("### Throughput and latency\n\n");
        md.push_str("| workload | server | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | gen CPU % | nimbus target |\n");
        md.push_str("|---|---|--:|--:|--:|--:|--:|--:|---|--:|---|\n");
        for w in self.workloads() {
            // Unavailable servers get one line below the table, not a row per workload.
            for s in self.servers.iter().filter(|s| s.unavailable.is_none()) {
                let Some(outcome) = self.find(w, &s.name) else {
                    continue;
                };
                let target = if s.name == NIMBUS {
                    self.verdict(w, outcome)
                } else {
                    String::new()
                };
                match outcome {
                    RunOutcome::Measured {
                        result,
                        read_back_failures,
                        ..
                    } => {
                        let r = &result.summary;
                        let _ = writeln!(
                            md,
                            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                            self.workload_cell(w, result.config.connections),
                            s.name,
                            r.throughput_rps,
                            r.p50_ms,
                            r.p90_ms,
                            r.p99_ms,
                            r.p999_ms,
                            r.max_ms,
                            errors_cell(r.errors, &r.errors_by_type, read_back_failures.len()),
                            result
                                .generator_cpu_pct
                                .map(|c| format!("{c:.0}"))
                                .unwrap_or_else(|| "-".into()),
                            target
                        );
                    }
                    other => {
                        let _ = writeln!(
                            md,
                            "| {} | {} | {} | | | | | | | | {} |",
                            w.name(),
                            s.name,
                            status_text(other),
                            target
                        );
                    }
                }
            }
        }
        md.push('\n');
        self.notes(md);
        let missing: Vec<String> = self
            .servers
            .iter()
            .filter_map(|s| {
                s.unavailable
                    .as_ref()
                    .map(|why| format!("{} ({})", s.name, why.replace('|', "/")))
            })
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                md,
                "Not measured, server unavailable: {}.\n",
                missing.join("; ")
            );
        }
    }

    /// `lambda-invoke-warm (8 conn)` when a workload ran with a connection
    /// count other than the one in the report's heading.
    fn workload_cell(&self, w: Workload, connections: usize) -> String {
        if connections == self.connections {
            w.name().to_owned()
        } else {
            format!("{} ({connections} conn)", w.name())
        }
    }

    /// Observations made after runs, one line each.
    fn notes(&self, md: &mut String) {
        let mut any = false;
        for r in &self.results {
            if let RunOutcome::Measured { notes, .. } = &r.outcome {
                for n in notes {
                    if !any {
                        md.push_str("Notes:\n\n");
                        any = true;
                    }
                    let _ = writeln!(md, "- {} on {}: {}", r.workload.name(), r.server, n);
                }
            }
        }
        if let Some(line) = self.index_vs_base_note() {
            if !any {
                md.push_str("Notes:\n\n");
                any = true;
            }
            let _ = writeln!(md, "- {line}");
        }
        if any {
            md.push('\n');
        }
    }

    /// The DynamoDB issue's bar for indexes: a GSI Query within 20% of a
    /// base-table Query, both on nimbus in this run.
    fn index_vs_base_note(&self) -> Option<String> {
        let base = measured(self.find(Workload::DynamodbQuery100, NIMBUS))?;
        let gsi = measured(self.find(Workload::DynamodbQueryGsi100, NIMBUS))?;
        if base.throughput_rps <= 0.0 {
            return None;
        }
        let pct = 100.0 * gsi.throughput_rps / base.throughput_rps;
        let verdict = if pct >= 80.0 { "PASS" } else { "FAIL" };
        Some(format!(
            "GSI Query on nimbus: {:.0} req/s, {pct:.0}% of the base-table Query's {:.0} req/s; \
             p99 {:.1} ms vs {:.1} ms (target: within 20%): {verdict}",
            gsi.throughput_rps, base.throughput_rps, gsi.p99_ms, base.p99_ms
        ))
    }

    /// PASS/FAIL of nimbus against the workload's target.
    fn verdict(&self, w: Workload, outcome: &RunOutcome) -> String {
        let Some(t) = w.target() else {
            return "-".into();
        };
        let mut goals = Vec::new();
        if let Some(rps) = t.min_rps {
            goals.push(format!("≥ {rps:.0} req/s"));
        }
        if let Some(p50) = t.max_p50_ms {
            goals.push(format!("p50 < {p50:.0} ms"));
        }
        if let Some(p99) = t.max_p99_ms {
            goals.push(format!("p99 < {p99:.0} ms"));
        }
        if goals.is_empty() {
            goals.push("every request succeeds".into());
        }
        let goal = goals.join(", ");
        let RunOutcome::Measured {
            result,
            read_back_failures,
            ..
        } = outcome
        else {
            return format!("FAIL (no result; {goal})");
        };
        let r = &result.summary;
        let mut misses = Vec::new();
        if t.min_rps.is_some_and(|min| r.throughput_rps < min) {
            misses.push(format!("{:.0} req/s", r.throughput_rps));
        }
        if t.max_p50_ms.is_some_and(|max| r.p50_ms >= max) {
            misses.push(format!("p50 {:.1} ms", r.p50_ms));
        }
        if t.max_p99_ms.is_some_and(|max| r.p99_ms >= max) {
            misses.push(format!("p99 {:.1} ms", r.p99_ms));
        }
        if r.errors > 0 || !read_back_failures.is_empty() {
            misses.push("errors".into());
        }
        if r.ok == 0 {
            misses.push("nothing measured".into());
        }
        let expected = w.target_connections();
        let caveat = if self.quick || result.config.connections != expected || self.rate.is_some() {
            let plural = if expected == 1 { "" } else { "s" };
            format!(" (indicative: targets are for {expected} connection{plural}, closed loop)")
        } else {
            String::new()
        };
        if misses.is_empty() {
            format!("PASS ({goal}){caveat}")
        } else {
            format!("FAIL: {} ({goal}){caveat}", misses.join(", "))
        }
    }

    fn ratio_table(&self, md: &mut String) {
        let peers: Vec<&ServerReport> = self
            .servers
            .iter()
            .filter(|s| s.name != NIMBUS && s.unavailable.is_none())
            .collect();
        if peers.is_empty()
            || !self
                .servers
                .iter()
                .any(|s| s.name == NIMBUS && s.unavailable.is_none())
        {
            return;
        }
        md.push_str("### nimbus compared with each peer\n\n");
        md.push_str("Throughput ×: nimbus req/s ÷ peer req/s. p99 ×: peer p99 ÷ nimbus p99. Above 1 means nimbus is better.\n\n");
        md.push_str("| workload |");
        for p in &peers {
            let _ = write!(md, " vs {0}: throughput × | vs {0}: p99 × |", p.name);
        }
        md.push_str("\n|---|");
        for _ in &peers {
            md.push_str("--:|--:|");
        }
        md.push('\n');
        for w in self.workloads() {
            let _ = write!(md, "| {} |", w.name());
            let nimbus = self.find(w, NIMBUS);
            for p in &peers {
                match (measured(nimbus), measured(self.find(w, &p.name))) {
                    (Some(n), Some(o)) => {
                        let _ = write!(
                            md,
                            " {} | {} |",
                            ratio(n.throughput_rps, o.throughput_rps),
                            ratio(o.p99_ms, n.p99_ms)
                        );
                    }
                    (_, None) => {
                        let why = self.find(w, &p.name).map(short_status).unwrap_or("not run");
                        let _ = write!(md, " {why} | {why} |");
                    }
                    (None, _) => {
                        let why = nimbus.map(short_status).unwrap_or("not run");
                        let _ = write!(md, " nimbus {why} | nimbus {why} |");
                    }
                }
            }
            md.push('\n');
        }
        md.push('\n');
    }

    fn startup_table(&self, md: &mut String) {
        md.push_str("### Startup and memory (servers started by the benchmark)\n\n");
        md.push_str("| server | ready ms | RSS idle MiB | RSS peak under load MiB | notes |\n|---|--:|--:|--:|---|\n");
        for s in &self.servers {
            let st = &s.startup;
            let f = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into());
            let mib = |v: Option<u64>| {
                v.map(|k| format!("{:.1}", k as f64 / 1024.0))
                    .unwrap_or_else(|| "-".into())
            };
            let notes = match (&s.unavailable, &s.endpoint) {
                (Some(why), _) => format!("unavailable: {}", why.replace('|', "/")),
                (None, Some(e)) if st.ready_ms.is_none() => {
                    format!("external server at {e}: not measured")
                }
                _ => match st.listening_line_ms {
                    Some(l) => format!("'listening on' after {l:.0} ms"),
                    None => String::new(),
                },
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                s.name,
                f(st.ready_ms),
                mib(st.rss_idle_kib),
                mib(st.rss_peak_load_kib),
                notes
            );
        }
        md.push('\n');
    }
}

fn measured(o: Option<&RunOutcome>) -> Option<&crate::stats::Summary> {
    match o {
        Some(RunOutcome::Measured { result, .. }) => Some(&result.summary),
        _ => None,
    }
}

fn ratio(num: f64, den: f64) -> String {
    if den > 0.0 && num > 0.0 {
        format!("{:.1}×", num / den)
    } else {
        "-".into()
    }
}

fn short_status(o: &RunOutcome) -> &'static str {
    match o {
        RunOutcome::Measured { .. } => "measured",
        RunOutcome::Unsupported { .. } => "unsupported",
        RunOutcome::Failed { .. } => "failed",
        RunOutcome::ServerUnavailable { .. } => "unavailable",
    }
}

fn status_text(o: &RunOutcome) -> String {
    let clean = |s: &str| s.replace('|', "/").replace('\n', " ");
    match o {
        RunOutcome::Measured { .. } => "measured".into(),
        RunOutcome::Unsupported { error_type, .. } => format!("unsupported ({error_type})"),
        RunOutcome::Failed { reason } => format!("failed: {}", clean(reason)),
        RunOutcome::ServerUnavailable { reason } => {
            format!("server unavailable: {}", clean(reason))
        }
    }
}

fn errors_cell(
    total: u64,
    by_type: &std::collections::BTreeMap<String, u64>,
    read_back: usize,
) -> String {
    let mut parts: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
    if read_back > 0 {
        parts.push(format!("read-back {read_back}"));
    }
    if parts.is_empty() {
        format!("{total}")
    } else {
        format!("{} ({})", total + read_back as u64, parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::LoadConfig;
    use crate::stats::Recorder;
    use std::time::Duration;

    fn measured(rps: u64, p99_ms: u64) -> RunOutcome {
        let mut rec = Recorder::default();
        for _ in 0..rps {
            rec.record_ok(Duration::from_millis(p99_ms));
        }
        let config = LoadConfig {
            connections: 64,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(1),
            rate: None,
            max_requests: 1_000_000,
            timeout: Duration::from_secs(10),
        };
        let result = LoadResult {
            mode: "closed",
            config,
            summary: rec.summarize(Duration::from_secs(1)),
            generator_cpu_pct: Some(10.0),
        };
        RunOutcome::Measured {
            result,
            read_back_failures: vec![],
            notes: vec![],
        }
    }

    fn server(name: &str, unavailable: Option<&str>) -> ServerReport {
        ServerReport {
            name: name.into(),
            endpoint: None,
            unavailable: unavailable.map(Into::into),
            startup: Startup::default(),
        }
    }

    #[test]
    fn table_shows_verdicts_ratios_unsupported_and_missing_servers() {
        let report = Report {
            generated_at: "now".into(),
            quick: false,
            connections: 64,
            warmup_s: 1.0,
            duration_s: 1.0,
            rate: None,
            servers: vec![
                server(NIMBUS, None),
                server("moto", None),
                server("dynalite", Some("could not be installed: npm")),
            ],
            results: vec![
                WorkloadResult {
                    workload: Workload::DynamodbGet,
                    server: NIMBUS.into(),
                    outcome: measured(25_000, 2),
                },
                WorkloadResult {
                    workload: Workload::DynamodbGet,
                    server: "moto".into(),
                    outcome: measured(500, 40),
                },
                WorkloadResult {
                    workload: Workload::DynamodbGet,
                    server: "dynalite".into(),
                    outcome: RunOutcome::ServerUnavailable {
                        reason: "could not be installed: npm".into(),
                    },
                },
                WorkloadResult {
                    workload: Workload::DynamodbTransact10,
                    server: NIMBUS.into(),
                    outcome: RunOutcome::Unsupported {
                        error_type: "UnknownOperationException".into(),
                        message: String::new(),
                    },
                },
            ],
            not_yet_available: vec![Workload::LambdaColdStart],
            machine: Machine {
                cores: 2,
                load_start: Some(0.5),
                load_end: Some(1.5),
            },
        };
        let md = report.markdown();
        assert!(md.contains("| dynamodb-get | nimbus | 25000 |"), "{md}");
        assert!(md.contains("PASS (≥ 20000 req/s, p99 < 10 ms) |"), "{md}");
        assert!(md.contains("| dynamodb-get | 50.0× | 20.0× |"), "{md}");
        assert!(
            md.contains("unsupported (UnknownOperationException)"),
            "{md}"
        );
        assert!(
            md.contains("Not measured, server unavailable: dynalite (could not be installed: npm)"),
            "{md}"
        );
        assert!(
            md.contains("Not yet available (no numbers): lambda-cold-start."),
            "{md}"
        );
        assert!(!md.contains("vs dynalite"), "{md}");
        assert!(!md.contains("Warning"), "{md}");
    }

    #[test]
    fn lambda_rows_judge_p50_show_notes_and_say_why_a_peer_cannot_run() {
        let mut cold = measured(10, 200);
        if let RunOutcome::Measured { result, .. } = &mut cold {
            result.config.connections = 1;
        }
        let mut warm = measured(3_000, 1);
        if let RunOutcome::Measured { result, notes, .. } = &mut warm {
            result.config.connections = 8;
            notes.push("unloaded p50 0.30 ms".into());
        }
        let report = Report {
            generated_at: "now".into(),
            quick: false,
            connections: 64,
            warmup_s: 1.0,
            duration_s: 1.0,
            rate: None,
            servers: vec![server(NIMBUS, None), server("moto", None)],
            results: vec![
                WorkloadResult {
                    workload: Workload::LambdaColdStart,
                    server: NIMBUS.into(),
                    outcome: cold,
                },
                WorkloadResult {
                    workload: Workload::LambdaColdStart,
                    server: "moto".into(),
                    outcome: RunOutcome::ServerUnavailable {
                        reason: "needs Docker".into(),
                    },
                },
                WorkloadResult {
                    workload: Workload::LambdaInvokeWarm,
                    server: NIMBUS.into(),
                    outcome: warm,
                },
            ],
            not_yet_available: vec![],
            machine: Machine {
                cores: 2,
                load_start: None,
                load_end: None,
            },
        };
        let md = report.markdown();
        assert!(
            md.contains("| lambda-cold-start (1 conn) | nimbus | 10 | 200.0"),
            "{md}"
        );
        assert!(md.contains("FAIL: p50 200.1 ms (p50 < 150 ms) |"), "{md}");
        assert!(
            md.contains("| lambda-cold-start | moto | server unavailable: needs Docker |"),
            "{md}"
        );
        assert!(md.contains("PASS (≥ 2000 req/s) |"), "{md}");
        assert!(
            md.contains("- lambda-invoke-warm on nimbus: unloaded p50 0.30 ms"),
            "{md}"
        );
        assert!(
            md.contains("| lambda-cold-start | unavailable | unavailable |"),
            "{md}"
        );
    }
}
