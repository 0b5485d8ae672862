//! `nimbus serve`: open the store and services, listen, report readiness,
//! serve until asked to stop, then close the store so every acknowledged
//! write is on disk before the process exits.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nimbus_store::{Store, StoreError, StoreOptions};
use nimbus_wire::signature::Credentials;
use tokio::net::TcpListener;

use crate::body::MAX_BODY_BYTES;
use crate::cli::ServeArgs;
use crate::dispatch::App;
use crate::internal::VERSION;
use crate::services::{ServiceOptions, Services, IMPLEMENTED};
use crate::shutdown::Signals;
use crate::{logging, server};

/// How long tasks still running after the server stopped may take before the
/// runtime drops them (the store's writes are atomic, so dropping the wait
/// for one loses nothing that was acknowledged).
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the command; the exit code is non-zero when start-up fails.
pub fn run(args: ServeArgs) -> ExitCode {
    let started = Instant::now();
    if let Err(message) = logging::init(&args.log_level) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }

    // The store first: a data directory in use by another nimbus is the most
    // likely start-up failure, and it must fail before we bind a port.
    let store = match open_store(&args) {
        Ok(store) => store,
        Err(e) => return fail(&e),
    };
    let result = serve(&args, store.clone(), started);
    // Flush and release the data directory whether serving succeeded or not.
    store.close();
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

fn open_store(args: &ServeArgs) -> Result<Store, StoreError> {
    if args.in_memory {
        Store::in_memory()
    } else {
        Store::open(&args.data_dir, &StoreOptions::default())
    }
}

fn serve(args: &ServeArgs, store: Store, started: Instant) -> Result<(), String> {
    let credentials = auth_credentials(args)?;
    let options = ServiceOptions {
        data_dir: (!args.in_memory).then(|| args.data_dir.clone()),
        lambda_idle_timeout: Duration::from_secs(args.lambda_idle_timeout),
        lambda_concurrency: args.lambda_concurrency,
        function_credentials: credentials.as_ref().and_then(|c| c.first()),
        dynamodb_shard_rollover: Duration::from_secs(args.dynamodb_shard_rollover),
        dynamodb_backfill_batch: args.dynamodb_backfill_batch as usize,
        sqs_max_inflight: args.sqs_max_inflight,
        lambda_isolation: nimbus_lambda::exec::sandbox::Options {
            mode: args.lambda_isolation.parse()?,
            user: args.lambda_user,
            cgroup_root: args.lambda_cgroup_root.clone(),
        },
    };
    let services = Services::open(store, &args.region, &options)
        .map_err(|e| format!("cannot start the services: {e}"))?;
    let app = Arc::new(App {
        services,
        default_region: args.region.clone(),
        max_body_bytes: MAX_BODY_BYTES,
        credentials,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nimbus-worker")
        // The parsers (expressions, PartiQL, patterns) bound their nesting,
        // but a debug build's frames are large: 8 MiB keeps the bound, not
        // the stack, the limit. Stack is reserved, not resident.
        .thread_stack_size(8 * 1024 * 1024)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;

    let result = runtime.block_on(async {
        let signals =
            Signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
        let listener = TcpListener::bind(args.bind).await.map_err(|e| {
            format!(
                "cannot listen on {}: {e} (is another server using the port? choose another with --bind)",
                args.bind
            )
        })?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        // The one line tools parse to find the server (port 0 picks the port),
        // on stdout whatever the log level.
        println!(
            "nimbus listening on http://{address} (data: {})",
            data_label(args)
        );
        app.services.lambda.start(format!("http://{address}"));
        app.services.sns.start(format!("http://{address}"));
        app.services.logs.spawn_retention_sweeper();
        let names: Vec<&str> = IMPLEMENTED.iter().map(|s| s.name()).collect();
        tracing::info!(
            "nimbus {VERSION} ready in {:.1?}; services: {}; default region {}",
            started.elapsed(),
            names.join(", "),
            args.region
        );
        server::run(listener, app, signals).await;
        Ok(())
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
    result
}

/// `Some(secrets)` with `--auth strict` (which needs at least one pair).
fn auth_credentials(args: &ServeArgs) -> Result<Option<Credentials>, String> {
    let parsed = match &args.credentials {
        Some(spec) => Some(Credentials::parse(spec).map_err(|e| format!("--credentials: {e}"))?),
        None => None,
    };
    if args.auth != "strict" {
        return Ok(None);
    }
    match parsed {
        Some(c) if !c.is_empty() => {
            tracing::info!("auth: strict (SigV4 signatures are verified)");
            Ok(Some(c))
        }
        _ => Err("--auth strict needs --credentials ACCESS_KEY_ID:SECRET_ACCESS_KEY (or NIMBUS_CREDENTIALS)".into()),
    }
}

fn data_label(args: &ServeArgs) -> String {
    if args.in_memory {
        "in memory".to_owned()
    } else {
        args.data_dir.display().to_string()
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
