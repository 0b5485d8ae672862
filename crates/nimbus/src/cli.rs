//! The command line: `nimbus serve [options]` and `nimbus --version`.
//! Every option can also come from a `NIMBUS_*` environment variable, so the
//! server is configurable in containers without a wrapper script.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "nimbus",
    version,
    about = "A self-hosted serverless platform that speaks the AWS wire protocols"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: one process, one port, all services.
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed when ready).
    #[arg(long, env = "NIMBUS_BIND", default_value = "127.0.0.1:4566")]
    pub bind: SocketAddr,

    /// Directory holding all state; created if missing. Only one nimbus may
    /// use a directory at a time.
    #[arg(long, env = "NIMBUS_DATA_DIR", default_value = "./.nimbus")]
    pub data_dir: PathBuf,

    /// Keep all state in memory (nothing survives a restart; for tests).
    /// The data directory is not touched.
    #[arg(long, env = "NIMBUS_IN_MEMORY", value_parser = BoolishValueParser::new())]
    pub in_memory: bool,

    /// Region used when a request's credentials name none.
    #[arg(long, env = "NIMBUS_REGION", default_value = "us-east-1", value_parser = parse_region)]
    pub region: String,

    /// Log filter: a level (error, warn, info, debug, trace) or
    /// per-module directives such as `info,nimbus=debug`.
    #[arg(long, env = "NIMBUS_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// `relaxed` accepts any SigV4 signature (identity is still taken from
    /// it); `strict` verifies every signature against `--credentials`.
    #[arg(long, env = "NIMBUS_AUTH", default_value = "relaxed", value_parser = ["relaxed", "strict"])]
    pub auth: String,

    /// Access keys and secrets for `--auth strict`:
    /// `ACCESS_KEY_ID:SECRET_ACCESS_KEY[,...]`. Lambda functions get the
    /// first pair as their credentials.
    #[arg(long, env = "NIMBUS_CREDENTIALS", hide_env_values = true)]
    pub credentials: Option<String>,

    /// Seconds a warm Lambda execution environment may sit idle before it
    /// is stopped.
    #[arg(long, env = "NIMBUS_LAMBDA_IDLE_TIMEOUT", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub lambda_idle_timeout: u64,

    /// The account's Lambda concurrency limit (invocations running at once).
    #[arg(long, env = "NIMBUS_LAMBDA_CONCURRENCY", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(100..=100_000))]
    pub lambda_concurrency: u32,

    /// Seconds a DynamoDB stream shard stays open before the next record
    /// opens a new one (AWS rolls shards over about every four hours).
    #[arg(long, env = "NIMBUS_DYNAMODB_SHARD_ROLLOVER", default_value_t = 14_400, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub dynamodb_shard_rollover: u64,

    /// Items one store write of a global secondary index backfill covers
    /// (UpdateTable creating an index): smaller batches hold the writer
    /// for less time at a time.
    #[arg(long, env = "NIMBUS_DYNAMODB_BACKFILL_BATCH", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub dynamodb_backfill_batch: u32,

    /// For tests only: the most messages a queue may have in flight
    /// (received, not yet deleted), for standard and FIFO queues alike, in
    /// place of AWS's 120,000, so a test reaches the limit cheaply. Leave
    /// it unset to get AWS's limits.
    #[arg(long, env = "NIMBUS_SQS_MAX_INFLIGHT", value_parser = clap::value_parser!(u64).range(1..=120_000))]
    pub sqs_max_inflight: Option<u64>,

    /// How Lambda execution environments are isolated: `auto` gives each
    /// its own mount and PID namespaces and memory cgroup where the
    /// machine allows (the start-up log says what it got); `none` runs
    /// functions as plain child processes.
    #[arg(long, env = "NIMBUS_LAMBDA_ISOLATION", default_value = "auto", value_parser = ["auto", "none"])]
    pub lambda_isolation: String,

    /// The uid and gid (`UID[:GID]`) functions run as when nimbus runs as
    /// root and isolates them; AWS's sbx_user1051 by default. `0` keeps
    /// root. Not root, nimbus runs functions with its own uid.
    #[arg(long, env = "NIMBUS_LAMBDA_USER", default_value = "993:990", value_parser = nimbus_lambda::exec::sandbox::parse_user)]
    pub lambda_user: (u32, u32),

    /// The cgroup (v2, or v1's memory hierarchy) under which each Lambda
    /// execution environment gets its memory cgroup, instead of nimbus's
    /// own cgroup: e.g. a delegated cgroup v2 subtree.
    #[arg(long, env = "NIMBUS_LAMBDA_CGROUP_ROOT")]
    pub lambda_cgroup_root: Option<PathBuf>,
}

/// Accepts region-shaped names (`us-east-1`, `local`): lower-case letters,
/// digits and dashes. The region ends up in ARNs, so anything else would
/// produce ARNs no SDK can parse.
fn parse_region(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 32
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "'{value}' is not a region name (expected something like us-east-1)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["nimbus", "serve"]).unwrap();
        let Command::Serve(args) = cli.command;
        assert_eq!(args.bind, "127.0.0.1:4566".parse().unwrap());
        assert_eq!(args.data_dir, PathBuf::from("./.nimbus"));
        assert!(!args.in_memory);
        assert_eq!(args.region, "us-east-1");
        assert_eq!(args.log_level, "info");
        assert_eq!(args.lambda_idle_timeout, 300);
        assert_eq!(args.lambda_concurrency, 1000);
        assert_eq!(args.dynamodb_shard_rollover, 14_400);
        assert_eq!(args.dynamodb_backfill_batch, 256);
        assert_eq!(args.auth, "relaxed");
        assert!(args.credentials.is_none());
        assert_eq!(args.sqs_max_inflight, None);
        assert_eq!(args.lambda_isolation, "auto");
        assert_eq!(args.lambda_user, (993, 990));
        assert_eq!(args.lambda_cgroup_root, None);
    }

    #[test]
    fn options() {
        let cli = Cli::try_parse_from([
            "nimbus",
            "serve",
            "--bind",
            "0.0.0.0:0",
            "--in-memory",
            "--region",
            "eu-west-1",
            "--data-dir",
            "/tmp/x",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command;
        assert_eq!(args.bind.port(), 0);
        assert!(args.in_memory);
        assert_eq!(args.region, "eu-west-1");
        assert_eq!(args.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Cli::try_parse_from(["nimbus", "serve", "--bind", "nope"]).is_err());
        assert!(Cli::try_parse_from(["nimbus", "serve", "--region", "US East"]).is_err());
        assert!(Cli::try_parse_from(["nimbus", "serve", "--auth", "loose"]).is_err());
        assert!(Cli::try_parse_from(["nimbus", "serve", "--lambda-isolation", "strict"]).is_err());
        let cli = Cli::try_parse_from(["nimbus", "serve", "--lambda-isolation", "none"]).unwrap();
        let Command::Serve(args) = cli.command;
        assert_eq!(args.lambda_isolation, "none");
        for bad in ["", "x", "993:", ":990", "-1", "993:990:1", "4294967295"] {
            assert!(
                Cli::try_parse_from(["nimbus", "serve", "--lambda-user", bad]).is_err(),
                "{bad}"
            );
        }
        let user = |text: &str| {
            let cli = Cli::try_parse_from(["nimbus", "serve", "--lambda-user", text]).unwrap();
            let Command::Serve(args) = cli.command;
            args.lambda_user
        };
        assert_eq!(user("1000"), (1000, 1000));
        assert_eq!(user("0"), (0, 0));
        assert_eq!(user("496:495"), (496, 495));
    }
}
