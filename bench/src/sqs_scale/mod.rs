//! `nimbus-bench sqs-scale`: the SQS measurements that are not a closed
//! loop of one request shape, run against nimbus and its peers one server
//! at a time:
//!
//! - long-poll latency ([`long_poll`]): how soon a receiver parked with
//!   `WaitTimeSeconds=20` gets a message after SendMessage returns;
//! - many queues ([`many_queues`]): creating N queues, paging through them
//!   with ListQueues, send / receive / delete rounds spread over all of
//!   them, memory at rest, CPU with idle long-pollers, deleting them.
//!
//! Results go to `bench/results/sqs-scale[-quick].{json,md}`.

pub mod long_poll;
pub mod many_queues;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::compare::Entry;
use crate::report::Machine;
use crate::servers::Server;

use long_poll::LongPollResult;
use many_queues::{ManyQueuesResult, Plan as QueuesPlan};

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub quick: bool,
    pub samples: u64,
    pub queues: usize,
    pub connections: usize,
    pub duration_s: f64,
    pub pollers: usize,
    pub idle_window_s: f64,
}

impl Plan {
    /// Full: 200 samples, 10,000 queues, 16 clients for 10 s, 1,000 idle
    /// pollers watched for 10 s. Quick: a small version of each.
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                samples: 20,
                queues: 300,
                connections: 4,
                duration_s: 2.0,
                pollers: 50,
                idle_window_s: 2.0,
            }
        } else {
            Plan {
                quick,
                samples: 200,
                queues: 10_000,
                connections: 16,
                duration_s: 10.0,
                pollers: 1_000,
                idle_window_s: 10.0,
            }
        }
    }
}

#[derive(Serialize)]
pub struct ServerResult {
    pub name: String,
    pub unavailable: Option<String>,
    pub ready_ms: Option<f64>,
    pub rss_idle_kib: Option<u64>,
    pub long_poll: Option<LongPollResult>,
    pub many_queues: Option<ManyQueuesResult>,
}

#[derive(Serialize)]
pub struct Report {
    pub generated_at: String,
    pub plan: Plan,
    pub machine: Machine,
    pub servers: Vec<ServerResult>,
}

pub async fn run(plan: Plan, entries: Vec<Entry>, work_dir: PathBuf) -> Report {
    let run_id = format!("{}", std::process::id());
    let load_start = Machine::load_average();
    let mut results = Vec::new();
    // One server at a time: each has the machine to itself.
    for entry in entries {
        let mut server = match entry {
            Entry::Launch { name, launch } => {
                eprintln!("starting {name} ...");
                Server::start(&name, &launch, &work_dir).await
            }
            Entry::Unavailable { name, reason } => Server::unavailable(&name, reason),
        };
        let mut result = ServerResult {
            name: server.name.clone(),
            unavailable: server.unavailable.clone(),
            ready_ms: server.startup.ready_ms,
            rss_idle_kib: server.startup.rss_idle_kib,
            long_poll: None,
            many_queues: None,
        };
        if let Some(endpoint) = server.endpoint.clone() {
            eprintln!(
                "  {}: long-poll latency, {} samples",
                server.name, plan.samples
            );
            let lp = long_poll::run(&endpoint, &run_id, plan.samples).await;
            eprintln!(
                "    p50 {:.2} ms, p99 {:.2} ms after SendMessage returned ({} samples, {} errors)",
                lp.after_ack_p50_ms,
                lp.after_ack_p99_ms,
                lp.samples,
                lp.errors.len()
            );
            result.long_poll = Some(lp);
            eprintln!("  {}: {} queues", server.name, plan.queues);
            let mq = many_queues::run(
                &endpoint,
                server.pid,
                &run_id,
                &QueuesPlan {
                    queues: plan.queues,
                    connections: plan.connections,
                    duration: Duration::from_secs_f64(plan.duration_s),
                    pollers: plan.pollers,
                    idle_window: Duration::from_secs_f64(plan.idle_window_s),
                },
            )
            .await;
            eprintln!(
                "    {:.0} creates/s, ListQueues {} pages in {:.0} ms, {:.0} rounds/s, {} errors",
                mq.creates_per_second,
                mq.list_pages,
                mq.list_total_ms,
                mq.rounds_per_second,
                mq.errors.len()
            );
            result.many_queues = Some(mq);
            if let Some(why) = server.exited() {
                result.unavailable = Some(why);
            }
        }
        server.stop().await;
        results.push(result);
    }
    Report {
        generated_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        plan,
        machine: Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_start,
            load_end: Machine::load_average(),
        },
        servers: results,
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0}", k as f64 / 1024.0))
}

impl Report {
    pub fn markdown(&self) -> String {
        let p = &self.plan;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "## SQS scale{}\n\nGenerated {}; {} cores, load average {} at the start.\n",
            if p.quick {
                " (quick mode: indicative only)"
            } else {
                ""
            },
            self.generated_at,
            self.machine.cores,
            self.machine
                .load_start
                .map_or("n/a".into(), |l| format!("{l:.1}"))
        );
        let _ = writeln!(
            md,
            "### Long-poll latency\n\nA receiver parked in ReceiveMessage (WaitTimeSeconds=20) on an empty queue; {} times, one message sent. Latency from SendMessage's answer (and from its request) to ReceiveMessage's answer.\n",
            p.samples
        );
        let _ = writeln!(
            md,
            "| server | samples | p50 ms | p99 ms | max ms | from send p50 ms | from send p99 ms | received before the send's answer | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|---|"
        );
        for s in &self.servers {
            match (&s.unavailable, &s.long_poll) {
                (_, Some(lp)) => {
                    let _ = writeln!(
                        md,
                        "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
                        s.name,
                        lp.samples,
                        lp.after_ack_p50_ms,
                        lp.after_ack_p99_ms,
                        lp.after_ack_max_ms,
                        lp.after_send_p50_ms,
                        lp.after_send_p99_ms,
                        lp.received_before_ack,
                        errors(&lp.errors)
                    );
                }
                (Some(why), None) => {
                    let _ = writeln!(md, "| {} | unavailable: {why} |||||||||", s.name);
                }
                (None, None) => {}
            }
        }
        let _ = writeln!(
            md,
            "\n### {} queues\n\nCreated by {} clients; ListQueues with MaxResults 1000 and NextToken; then {} clients for {} s, each round SendMessage, ReceiveMessage (WaitTimeSeconds 1), DeleteMessage on the next of its own queues; memory 2 s after; then {} idle long-pollers (WaitTimeSeconds 20, one connection each) on empty queues, server CPU over {} s.\n",
            p.queues, p.connections, p.connections, p.duration_s, p.pollers, p.idle_window_s
        );
        let _ = writeln!(
            md,
            "| server | creates/s | ListQueues pages | ListQueues total ms | page p50 ms | rounds/s | round p50 ms | round p99 ms | RSS idle at start MiB | RSS after MiB | CPU % with pollers | RSS with pollers MiB | deletes s | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
        );
        for s in &self.servers {
            if let Some(m) = &s.many_queues {
                let _ = writeln!(
                    md,
                    "| {} | {:.0} | {} | {:.0} | {:.1} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} | {:.1} | {} |",
                    s.name,
                    m.creates_per_second,
                    m.list_pages,
                    m.list_total_ms,
                    m.list_page_p50_ms,
                    m.rounds_per_second,
                    m.round_p50_ms,
                    m.round_p99_ms,
                    mib(s.rss_idle_kib),
                    mib(m.rss_after_kib),
                    m.idle_pollers_cpu_percent
                        .map_or("n/a".into(), |c| format!("{c:.1}")),
                    mib(m.rss_with_pollers_kib),
                    m.delete_seconds,
                    errors(&m.errors),
                );
            }
        }
        md
    }
}

fn errors(list: &[String]) -> String {
    match list.first() {
        None => "0".into(),
        Some(first) => format!(
            "{} (first: {})",
            list.len(),
            first
                .chars()
                .take(120)
                .collect::<String>()
                .replace('|', "/")
        ),
    }
}

/// Writes `sqs-scale[-quick].{json,md}`, replacing that mode's last run.
pub fn write_results(report: &Report, md: &str, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let stem = if report.plan.quick {
        "sqs-scale-quick"
    } else {
        "sqs-scale"
    };
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{stem}.json")), json + "\n")?;
    std::fs::write(dir.join(format!("{stem}.md")), md)?;
    eprintln!("results written to {}/{stem}.{{json,md}}", dir.display());
    Ok(())
}
