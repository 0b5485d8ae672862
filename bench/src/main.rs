//! nimbus-bench: drives nimbus and its peers (moto, dynalite) with the same
//! SigV4-signed AWS wire-protocol workloads and reports throughput, latency
//! percentiles, errors, startup time and memory side by side.
//!
//! `bench/compare` is the one-command entry point; this binary is what it runs.

mod chart;
mod client;
mod compare;
mod font;
mod loadgen;
mod report;
mod servers;
mod sign;
mod sqs_scale;
mod stats;
mod workloads;

/// The generator's own CPU is taken from the server it measures on the same
/// cores; mimalloc spends far less of it per request than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use compare::{Entry, Plan};
use loadgen::LoadConfig;
use servers::Launch;
use workloads::dynamodb::Sizes;
use workloads::Workload;

const WORKLOAD_HELP: &str = "Workloads to run (repeatable; default: all of them, \
except lambda-scale-200 with --quick). \
Lambda workloads pick their own connection count unless --connections is given \
(lambda-invoke-warm 8, lambda-cold-start[-node] 1, lambda-scale-200 always 200).";

#[derive(Parser)]
#[command(
    name = "nimbus-bench",
    version,
    about = "Load generator and side-by-side comparison of nimbus with its peers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start nimbus and peers on loopback ports, run the same workloads
    /// against each, write JSON/Markdown/PNG/SVG results and print the table.
    Compare(CompareArgs),
    /// Drive one already-running server (any endpoint on this machine).
    Run(RunArgs),
    /// SQS long-poll latency and 10,000 queues (creation, ListQueues
    /// paging, rounds spread over them, memory, CPU with idle long-pollers),
    /// against nimbus and moto one at a time, or one running endpoint.
    SqsScale(SqsScaleArgs),
}

#[derive(Args)]
struct SqsScaleArgs {
    /// A small version of everything (300 queues, 20 samples, 50 pollers).
    #[arg(long)]
    quick: bool,
    /// The nimbus binary (started durable: `serve --data-dir TMP`).
    #[arg(long)]
    nimbus_bin: Option<PathBuf>,
    /// moto's `moto_server` script.
    #[arg(long)]
    moto_bin: Option<PathBuf>,
    /// A running server instead (loopback only), e.g. http://127.0.0.1:4566.
    #[arg(long, conflicts_with_all = ["nimbus_bin", "moto_bin"])]
    endpoint: Option<String>,
    /// NAME=REASON: a server that could not be installed; reported as such.
    #[arg(long = "unavailable", value_parser = parse_pair)]
    unavailable: Vec<(String, String)>,
    /// Queues to create [default: 10000, quick: 300].
    #[arg(long)]
    queues: Option<usize>,
    /// Idle long-pollers [default: 1000, quick: 50].
    #[arg(long)]
    pollers: Option<usize>,
    /// Directory for results (JSON, Markdown).
    #[arg(long, default_value = "bench/results")]
    out_dir: PathBuf,
}

#[derive(Args)]
struct LoadArgs {
    #[arg(long = "workload", value_enum, help = WORKLOAD_HELP)]
    workloads: Vec<Workload>,
    /// A few seconds per workload, fewer connections, less seeded data.
    #[arg(long)]
    quick: bool,
    /// Virtual clients, one keep-alive connection each [default: 64, quick: 8;
    /// Lambda workloads have their own defaults].
    #[arg(long)]
    connections: Option<usize>,
    /// Measured seconds per workload and server [default: 10, quick: 3].
    #[arg(long)]
    duration: Option<f64>,
    /// Unmeasured warm-up seconds before each measurement [default: 3, quick: 1].
    #[arg(long)]
    warmup: Option<f64>,
    /// Open loop: total requests per second, with latency measured from each
    /// request's scheduled send time. Omit for closed loop (as fast as possible).
    #[arg(long)]
    rate: Option<f64>,
    /// Hard cap on requests per workload run (the time limit applies too).
    #[arg(long, default_value_t = 50_000_000)]
    max_requests: u64,
    /// Per-request timeout in seconds; a timed-out request is an error.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Generator threads. 1 keeps the generator on one core so the server
    /// under test keeps the other.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Directory for results (JSON, Markdown, PNG, SVG).
    #[arg(long, default_value = "bench/results")]
    out_dir: PathBuf,
}

#[derive(Args)]
struct CompareArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// The nimbus binary (started as `serve --bind 127.0.0.1:PORT --data-dir TMP`).
    #[arg(long)]
    nimbus_bin: Option<PathBuf>,
    /// moto's `moto_server` script.
    #[arg(long)]
    moto_bin: Option<PathBuf>,
    /// dynalite's cli.js, run with --node.
    #[arg(long)]
    dynalite_cli: Option<PathBuf>,
    #[arg(long, default_value = "node")]
    node: PathBuf,
    /// NAME=REASON: a server that could not be installed; reported as such.
    #[arg(long = "unavailable", value_parser = parse_pair)]
    unavailable: Vec<(String, String)>,
    /// Exit non-zero when nimbus fails a workload or answers with errors
    /// (an 'unsupported' operation is not a failure).
    #[arg(long)]
    fail_on_error: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// The server, e.g. http://127.0.0.1:4566 (loopback only).
    #[arg(long)]
    endpoint: String,
    /// Name for the server in the report.
    #[arg(long, default_value = "target")]
    name: String,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

/// Pre-signed requests carry the time they were signed; AWS accepts 15
/// minutes of skew, so one run must stay well inside that.
const MAX_RUN_SECONDS: f64 = 600.0;

fn load_config(a: &LoadArgs) -> Result<(LoadConfig, Sizes), String> {
    let (conns, dur, warm) = if a.quick {
        (8, 3.0, 1.0)
    } else {
        (64, 10.0, 3.0)
    };
    let cfg = LoadConfig {
        connections: a.connections.unwrap_or(conns),
        warmup: Duration::from_secs_f64(a.warmup.unwrap_or(warm)),
        duration: Duration::from_secs_f64(a.duration.unwrap_or(dur)),
        rate: a.rate,
        max_requests: a.max_requests,
        timeout: Duration::from_secs_f64(a.timeout),
    };
    if cfg.connections == 0 || cfg.connections > 1024 {
        return Err("--connections must be between 1 and 1024".into());
    }
    if (cfg.warmup + cfg.duration).as_secs_f64() > MAX_RUN_SECONDS {
        return Err(format!(
            "warm-up + duration must be at most {MAX_RUN_SECONDS} s"
        ));
    }
    if cfg.duration.is_zero() {
        return Err("--duration must be positive".into());
    }
    if a.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
        return Err("--rate must be positive".into());
    }
    let sizes = if a.quick {
        Sizes {
            get_items: 200,
            query_partitions: 2,
            ttl_items: 20_000,
        }
    } else {
        Sizes {
            get_items: 2000,
            query_partitions: 8,
            ttl_items: 1_000_000,
        }
    };
    Ok((cfg, sizes))
}

fn main() {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Command::Compare(c) => c.load.threads,
        Command::Run(r) => r.load.threads,
        Command::SqsScale(_) => 1,
    };
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    let code = runtime.block_on(async_main(cli));
    std::process::exit(code);
}

/// The servers to run, in order: each one with a launch, or a row saying
/// why it is unavailable (`--unavailable NAME=REASON` wins, and reasons for
/// names not listed are kept too).
fn server_entries(
    servers: Vec<(&str, Option<Launch>)>,
    mut unavailable: Vec<(String, String)>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (name, launch) in servers {
        if let Some(i) = unavailable.iter().position(|(n, _)| n == name) {
            let (name, reason) = unavailable.remove(i);
            entries.push(Entry::Unavailable { name, reason });
        } else if let Some(launch) = launch {
            entries.push(Entry::Launch {
                name: name.to_owned(),
                launch,
            });
        }
    }
    for (name, reason) in unavailable {
        entries.push(Entry::Unavailable { name, reason });
    }
    entries
}

async fn sqs_scale_main(a: SqsScaleArgs) -> i32 {
    let mut plan = sqs_scale::Plan::new(a.quick);
    if let Some(q) = a.queues {
        plan.queues = q.max(1);
    }
    if let Some(p) = a.pollers {
        plan.pollers = p;
    }
    let mut entries = Vec::new();
    if let Some(url) = &a.endpoint {
        match client::Endpoint::parse(url) {
            Ok(endpoint) => entries.push(Entry::Launch {
                name: "target".into(),
                launch: Launch::External { endpoint },
            }),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    entries.extend(server_entries(
        vec![
            (
                report::NIMBUS,
                a.nimbus_bin.map(|bin| Launch::Nimbus { bin }),
            ),
            ("moto", a.moto_bin.map(|bin| Launch::Moto { bin })),
        ],
        a.unavailable,
    ));
    if entries.is_empty() {
        eprintln!("error: give --nimbus-bin (and --moto-bin) or --endpoint");
        return 2;
    }
    let work_dir = match tempfile::Builder::new().prefix("nimbus-bench-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: temp dir: {e}");
            return 1;
        }
    };
    let report = sqs_scale::run(plan, entries, work_dir.path().to_owned()).await;
    let md = report.markdown();
    println!("{md}");
    if let Err(e) = sqs_scale::write_results(&report, &md, &a.out_dir) {
        eprintln!("error: writing results to {}: {e}", a.out_dir.display());
        return 1;
    }
    0
}

async fn async_main(cli: Cli) -> i32 {
    let (load, entries, fail_on_error) = match cli.command {
        Command::SqsScale(a) => return sqs_scale_main(a).await,
        Command::Compare(c) => {
            let node = c.node;
            let entries = server_entries(
                vec![
                    (
                        report::NIMBUS,
                        c.nimbus_bin.map(|bin| Launch::Nimbus { bin }),
                    ),
                    ("moto", c.moto_bin.map(|bin| Launch::Moto { bin })),
                    (
                        "dynalite",
                        c.dynalite_cli.map(|cli| Launch::Dynalite { node, cli }),
                    ),
                ],
                c.unavailable,
            );
            (c.load, entries, c.fail_on_error)
        }
        Command::Run(r) => {
            let endpoint = match client::Endpoint::parse(&r.endpoint) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            (
                r.load,
                vec![Entry::Launch {
                    name: r.name,
                    launch: Launch::External { endpoint },
                }],
                false,
            )
        }
    };
    let (cfg, sizes) = match load_config(&load) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let workloads = if load.workloads.is_empty() && load.quick {
        Workload::QUICK_DEFAULT.to_vec()
    } else if load.workloads.is_empty() {
        Workload::DEFAULT.to_vec()
    } else {
        load.workloads.clone()
    };
    for w in workloads.iter().filter(|w| !w.available()) {
        eprintln!(
            "{}: not yet available (no numbers will be reported)",
            w.name()
        );
    }
    let work_dir = match tempfile::Builder::new().prefix("nimbus-bench-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: temp dir: {e}");
            return 1;
        }
    };
    let plan = Plan {
        entries,
        workloads,
        load: cfg,
        connections_explicit: load.connections.is_some(),
        sizes,
        quick: load.quick,
    };
    let report = compare::run(plan, work_dir.path().to_owned()).await;
    let md = report.markdown();
    println!("{md}");
    if let Err(e) = write_results(&report, &md, &load.out_dir) {
        eprintln!("error: writing results to {}: {e}", load.out_dir.display());
        return 1;
    }
    if fail_on_error && nimbus_failed(&report) {
        eprintln!("nimbus failed a workload or answered with errors (--fail-on-error)");
        return 1;
    }
    0
}

fn nimbus_failed(report: &report::Report) -> bool {
    use report::RunOutcome::*;
    report
        .results
        .iter()
        .filter(|r| r.server == report::NIMBUS)
        .any(|r| match &r.outcome {
            Measured {
                result,
                read_back_failures,
                ..
            } => result.summary.errors > 0 || !read_back_failures.is_empty(),
            Unsupported { .. } => false,
            Failed { .. } | ServerUnavailable { .. } => true,
        })
}

/// Writes `compare[-quick].{json,md,svg,png}`, overwriting the previous run
/// of the same mode, so results/ holds the latest numbers, not a pile.
fn write_results(report: &report::Report, md: &str, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let stem = if report.quick {
        "compare-quick"
    } else {
        "compare"
    };
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{stem}.json")), json + "\n")?;
    std::fs::write(dir.join(format!("{stem}.md")), md)?;
    chart::write_svg(report, &dir.join(format!("{stem}.svg")))?;
    chart::write_png(report, &dir.join(format!("{stem}.png")))?;
    eprintln!(
        "results written to {}/{stem}.{{json,md,svg,png}}",
        dir.display()
    );
    Ok(())
}
