//! Runs the same workloads against every server in one process and collects
//! the results into a [`Report`]: servers first (startup and idle memory),
//! then each workload against each server in turn, never two at once (they
//! share the machine's two cores with the generator).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::loadgen::{self, LoadConfig};
use crate::report::{Report, RunOutcome, ServerReport, WorkloadResult};
use crate::servers::{tree_rss_kib, Launch, Server};
use crate::workloads::dynamodb::Sizes;
use crate::workloads::{self, Prepared, Setup, Workload};

/// A server to include: a name for the report and how to reach it, or why
/// it is not there.
pub enum Entry {
    Launch { name: String, launch: Launch },
    Unavailable { name: String, reason: String },
}

pub struct Plan {
    pub entries: Vec<Entry>,
    pub workloads: Vec<Workload>,
    pub load: LoadConfig,
    /// `--connections` was given: it overrides workloads' own defaults.
    pub connections_explicit: bool,
    pub sizes: Sizes,
    pub quick: bool,
}

/// Setup (table creation and seeding, function creation and warm-up) is
/// bounded separately from the load: moto seeds at a few hundred items per
/// second.
const SETUP_LIMIT: Duration = Duration::from_secs(180);

pub async fn run(plan: Plan, work_dir: PathBuf) -> Report {
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp()
    );
    let load_start = crate::report::Machine::load_average();
    let mut servers = Vec::new();
    for e in &plan.entries {
        let server = match e {
            Entry::Launch { name, launch } => {
                eprintln!("starting {name} ...");
                let s = Server::start(name, launch, &work_dir).await;
                match (&s.unavailable, s.startup.ready_ms) {
                    (Some(why), _) => eprintln!("  {name} unavailable: {why}"),
                    (None, Some(ms)) => eprintln!(
                        "  {name} ready in {ms:.0} ms at {}",
                        s.endpoint.as_ref().map(|e| e.url()).unwrap_or_default()
                    ),
                    (None, None) => eprintln!("  {name}: external"),
                }
                s
            }
            Entry::Unavailable { name, reason } => {
                eprintln!("{name} unavailable: {reason}");
                Server::unavailable(name, reason.clone())
            }
        };
        servers.push(server);
    }

    let mut results = Vec::new();
    for &workload in plan.workloads.iter().filter(|w| w.available()) {
        for server in servers.iter_mut() {
            let outcome = run_one(workload, server, &plan, &run_id).await;
            if let RunOutcome::Measured { result, .. } = &outcome {
                let s = &result.summary;
                eprintln!(
                    "  {} {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors, generator CPU {:.0}%",
                    workload.name(),
                    server.name,
                    s.throughput_rps,
                    s.p50_ms,
                    s.p99_ms,
                    s.errors,
                    result.generator_cpu_pct.unwrap_or(f64::NAN)
                );
            }
            results.push(WorkloadResult {
                workload,
                server: server.name.clone(),
                outcome,
            });
        }
    }
    for s in servers.iter_mut() {
        s.stop().await;
    }
    Report {
        generated_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        quick: plan.quick,
        connections: plan.load.connections,
        warmup_s: plan.load.warmup.as_secs_f64(),
        duration_s: plan.load.duration.as_secs_f64(),
        rate: plan.load.rate,
        servers: servers
            .iter()
            .map(|s| ServerReport {
                name: s.name.clone(),
                endpoint: s.endpoint.as_ref().map(|e| e.url()),
                unavailable: s.unavailable.clone(),
                startup: s.startup.clone(),
            })
            .collect(),
        results,
        not_yet_available: plan
            .workloads
            .iter()
            .copied()
            .filter(|w| !w.available())
            .collect(),
        machine: crate::report::Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_start,
            load_end: crate::report::Machine::load_average(),
        },
    }
}

async fn run_one(workload: Workload, server: &mut Server, plan: &Plan, run_id: &str) -> RunOutcome {
    if let Some(reason) = &server.unavailable {
        return RunOutcome::ServerUnavailable {
            reason: reason.clone(),
        };
    }
    if let Some(reason) = server.kind.cannot_run(workload) {
        eprintln!("[{}] {}: {reason}", workload.name(), server.name);
        return RunOutcome::ServerUnavailable {
            reason: reason.to_owned(),
        };
    }
    if let Some(reason) = server.exited() {
        return RunOutcome::Failed { reason };
    }
    let endpoint = server
        .endpoint
        .clone()
        .expect("available servers have an endpoint");
    let load = workload.load(&plan.load, plan.connections_explicit);
    eprintln!("[{}] {}: setting up", workload.name(), server.name);
    let setup = Setup {
        endpoint: &endpoint,
        sizes: plan.sizes,
        run_id,
        connections: load.connections,
    };
    let prepared =
        match tokio::time::timeout(SETUP_LIMIT, workloads::prepare(workload, &setup)).await {
            Err(_) => {
                return RunOutcome::Failed {
                    reason: format!("setup took longer than {} s", SETUP_LIMIT.as_secs()),
                }
            }
            Ok(Err(e)) => {
                return RunOutcome::Failed {
                    reason: format!("setup: {}", e.0),
                }
            }
            Ok(Ok(Prepared::Unsupported {
                error_type,
                message,
            })) => {
                eprintln!(
                    "[{}] {}: unsupported ({error_type})",
                    workload.name(),
                    server.name
                );
                return RunOutcome::Unsupported {
                    error_type,
                    message,
                };
            }
            Ok(Ok(Prepared::Ready(run))) => run,
        };
    eprintln!(
        "[{}] {}: measuring ({} connections)",
        workload.name(),
        server.name,
        load.connections
    );

    // Sample the server's memory while the load runs, bounded by the run's
    // own length plus one request timeout.
    let running = Arc::new(AtomicBool::new(true));
    let sampler = server.pid.map(|pid| {
        let running = running.clone();
        let limit = load.warmup + load.duration + load.timeout + Duration::from_secs(1);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + limit;
            let mut peak = 0;
            while running.load(Ordering::Relaxed) && tokio::time::Instant::now() < deadline {
                peak = peak.max(tree_rss_kib(pid).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            peak
        })
    });
    let result = loadgen::run(&endpoint, prepared.driver(), &load).await;
    running.store(false, Ordering::Relaxed);
    if let Some(task) = sampler {
        if let Ok(peak) = task.await {
            server.note_load_rss(peak);
        }
    }
    let after = tokio::time::timeout(SETUP_LIMIT, prepared.after(&endpoint, server.pid))
        .await
        .unwrap_or_else(|_| workloads::After {
            read_back_failures: vec!["read-back timed out".into()],
            notes: Vec::new(),
        });
    for f in after.read_back_failures.iter().take(3) {
        eprintln!("  read-back failure: {f}");
    }
    for n in &after.notes {
        eprintln!("  note: {n}");
    }
    for (t, example) in &result.summary.error_examples {
        eprintln!(
            "  error {t}: {}",
            example.chars().take(200).collect::<String>()
        );
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), prepared.teardown(&endpoint)).await;
    RunOutcome::Measured {
        result,
        read_back_failures: after.read_back_failures,
        notes: after.notes,
    }
}
