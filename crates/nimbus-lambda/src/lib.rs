//! Lambda for nimbus: functions, versions and aliases over AWS's restJson1
//! API, and invocations run in execution environments that are native
//! child processes speaking the real Lambda Runtime API (no Docker).
//!
//! Operations are named as AWS names them (`create_function`, `invoke`,
//! `publish_version`, ...) and live in `ops/`; [`binding`] maps REST paths
//! onto them; `exec/` runs invocations. This crate knows nothing of the
//! server's HTTP framing: [`Lambda::handle`] takes a [`Request`] (method,
//! path, query, headers, body) and returns a [`Reply`].

mod async_queue;
pub mod binding;
pub mod catalog;
pub mod code;
pub mod destinations;
pub mod error;
pub mod esm;
pub mod event_stream;
pub mod exec;
pub mod function_url;
pub mod model;
pub mod names;
pub mod ops;
pub mod queues;
pub mod runtimes;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nimbus_store::Store;

pub use binding::{Reply, Request};
pub use error::LambdaError;

use crate::catalog::Catalog;
use crate::code::CodeStore;
use crate::exec::{ExecConfig, Executor};
use crate::runtimes::Launchers;

/// How the service is set up.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// Directory for packages, extracted code, bootstraps and environments.
    pub work_dir: PathBuf,
    /// How long a warm environment may sit idle before it is stopped.
    pub idle_timeout: Duration,
    /// The account's concurrency limit.
    pub account_concurrency: u32,
    /// The server's clock: asynchronous retries, event ages and timestamps
    /// follow it, so tests can advance through them.
    pub clock: nimbus_clock::Clock,
    /// The access key and secret functions get (with `--auth strict`, a
    /// pair nimbus accepts); `None` gives them placeholder credentials.
    pub function_credentials: Option<(String, String)>,
    /// How execution environments are isolated (`--lambda-isolation`,
    /// `--lambda-user`, `--lambda-cgroup-root`).
    pub isolation: exec::sandbox::Options,
    /// Directories no function may see (nimbus's data directory); the work
    /// directory is always hidden.
    pub hide: Vec<PathBuf>,
}

/// The Lambda service: cheap to clone, shared by all connections.
#[derive(Clone)]
pub struct Lambda {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) clock: nimbus_clock::Clock,
    pub(crate) catalog: Catalog,
    pub(crate) exec: Executor,
    pub(crate) queue: async_queue::Queue,
    /// How destinations and dead-letter queues reach SQS (set by the server).
    pub(crate) queues: std::sync::OnceLock<queues::Queues>,
    pub(crate) streams: std::sync::OnceLock<queues::Streams>,
    /// How destinations reach SNS topics (set by the server).
    pub(crate) topics: std::sync::OnceLock<queues::Topics>,
    pub(crate) provisioned: ops::provisioned::Progress,
    pub(crate) pollers: esm::Pollers,
    /// Serialises event source mapping changes (create, update, delete),
    /// so a record and its poller never disagree.
    pub(crate) mapping_changes: tokio::sync::Mutex<()>,
}

impl Lambda {
    /// Opens the service: loads function records from `store`, prepares the
    /// work directory. Starts no processes.
    pub fn open(store: Store, config: LambdaConfig) -> Result<Lambda, LambdaError> {
        let io = |what: &str, e: std::io::Error| {
            LambdaError::Service(format!(
                "cannot prepare {what} under {}: {e}",
                config.work_dir.display()
            ))
        };
        let code =
            CodeStore::open(&config.work_dir.join("code")).map_err(|e| io("the code store", e))?;
        let runtime_dir = config.work_dir.join("runtimes");
        let launchers =
            Launchers::install(&runtime_dir).map_err(|e| io("the runtime bootstraps", e))?;
        let catalog = Catalog::load(store.clone())?;
        let queue = async_queue::Queue::new(&store)?;
        let exec = Executor::new(
            ExecConfig {
                function_credentials: config.function_credentials.clone(),
                envs_dir: config.work_dir.join("envs"),
                idle_timeout: config.idle_timeout,
                account_concurrency: config.account_concurrency,
                isolation: config.isolation.clone(),
                hide: config
                    .hide
                    .iter()
                    .cloned()
                    .chain([config.work_dir.clone()])
                    .collect(),
                runtime_dir,
            },
            launchers,
            code,
        );
        for f in catalog.all() {
            if let Some(r) = f.reserved_concurrency {
                // Stored reservations were valid when set.
                let _ = exec.concurrency.set_reservation(&f.arn(), Some(r));
            }
        }
        Ok(Lambda {
            inner: Arc::new(Inner {
                store,
                clock: config.clock.clone(),
                catalog,
                exec,
                queue,
                queues: std::sync::OnceLock::new(),
                streams: std::sync::OnceLock::new(),
                topics: std::sync::OnceLock::new(),
                provisioned: Default::default(),
                pollers: Default::default(),
                mapping_changes: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Starts the background work (the asynchronous invocation worker) and
    /// tells functions where nimbus listens (their AWS_ENDPOINT_URL). Call
    /// once the server listens, from inside the async runtime.
    pub fn start(&self, endpoint_url: String) {
        self.inner.exec.set_endpoint(endpoint_url);
        tokio::spawn(async_queue::run_worker(self.clone()));
        ops::provisioned::warm_all(self);
        esm::start_all(self);
    }

    /// Gives Lambda its way into SQS: destinations and dead-letter queues
    /// send through it, SQS event source mappings poll through it.
    pub fn attach_queues(&self, queues: queues::Queues) {
        let _ = self.inner.queues.set(queues);
    }

    /// Gives Lambda its way into DynamoDB Streams (stream event source
    /// mappings poll through it).
    pub fn attach_streams(&self, streams: queues::Streams) {
        let _ = self.inner.streams.set(streams);
    }

    /// Gives Lambda its way into SNS: destinations, dead-letter targets
    /// and stream mappings' OnFailure may name topics once it is attached.
    pub fn attach_topics(&self, topics: queues::Topics) {
        let _ = self.inner.topics.set(topics);
    }

    /// Sends every invocation's log (START, output, END, REPORT) to
    /// CloudWatch Logs, group `/aws/lambda/NAME`, one stream per environment.
    pub fn attach_logs(&self, sink: exec::LogSink) {
        self.inner.exec.set_log_sink(sink);
    }

    /// Stops every idle environment (server shutdown).
    pub fn shutdown(&self) {
        self.inner.pollers.stop_all();
        self.inner.exec.pool().clear();
    }

    /// How execution environments are isolated on this server.
    pub fn isolation(&self) -> exec::sandbox::Status {
        self.inner.exec.isolation()
    }

    /// Warm environments per function version, for introspection.
    pub fn warm_environments(&self) -> Vec<(String, usize)> {
        self.inner.exec.pool().counts()
    }

    /// Prometheus text about Lambda: warm environments, concurrency in use,
    /// and every event source mapping's progress.
    pub fn metrics(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP nimbus_lambda_warm_environments Idle warm execution environments."
        );
        let _ = writeln!(out, "# TYPE nimbus_lambda_warm_environments gauge");
        let warm: usize = self.warm_environments().iter().map(|(_, n)| n).sum();
        let _ = writeln!(out, "nimbus_lambda_warm_environments {warm}");
        let isolation = self.isolation();
        let _ = writeln!(
            out,
            "# HELP nimbus_lambda_isolation How execution environments are isolated (always 1; see the labels)."
        );
        let _ = writeln!(out, "# TYPE nimbus_lambda_isolation gauge");
        let _ = writeln!(
            out,
            "nimbus_lambda_isolation{{namespaces=\"{}\",memory=\"{}\"}} 1",
            isolation.namespaces.unwrap_or("none"),
            isolation.memory
        );
        esm::metrics(self, &mut out);
        out
    }

    /// The stored package with hex id `id`, for GetFunction's Code.Location.
    pub fn package(&self, id: &str) -> Option<PathBuf> {
        self.inner.exec.code().package_file(id)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}
