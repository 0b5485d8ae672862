//! Running invocations: finding or starting an environment for a function
//! version, handing it the invocation, enforcing the timeout and memory,
//! and turning what happened into a result plus its log (START / END /
//! REPORT lines around the function's own output, as on AWS).

pub mod concurrency;
pub mod environment;
mod invocation;
pub mod pool;
pub mod runtime_api;
pub mod sandbox;
mod spawner;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;

use self::concurrency::Concurrency;
use self::environment::{Environment, Exit, InitOutcome, Spec, StartError};
pub use self::invocation::{Answer, ResponseStream, Running};
use self::invocation::{Busy, LogTarget};
use self::pool::Pool;
use self::runtime_api::Invocation;
use self::sandbox::View;
use crate::code::CodeStore;
use crate::error::{LambdaError, Result};
use crate::model::{FunctionRecord, VersionConfig};
use crate::runtimes::{self, Launchers};

/// What one invocation runs.
pub struct Target<'a> {
    pub function: &'a FunctionRecord,
    pub config: &'a VersionConfig,
    /// The ARN the caller used (qualified with the alias or version it named).
    pub invoked_arn: String,
}

/// How an invocation ended, as the caller of Invoke sees it.
#[derive(Debug)]
pub enum InvokeResult {
    Success(Bytes),
    /// An error document: `X-Amz-Function-Error: Unhandled`.
    FunctionError(Bytes),
}

/// One finished invocation.
#[derive(Debug)]
pub struct Execution {
    pub result: InvokeResult,
    /// The Content-Type a streaming runtime gave its response, when it was
    /// collected into one piece.
    pub content_type: Option<String>,
    /// START ... REPORT, as written to the function's log stream.
    pub log: Vec<u8>,
    pub duration: Duration,
}

/// Where function logs go: (account, region, log group, log stream, events
/// as (epoch ms, message)). The server attaches CloudWatch Logs here; the
/// call must not wait for storage (it runs on the invoke path).
pub type LogSink = std::sync::Arc<dyn Fn(&str, &str, &str, &str, Vec<(i64, String)>) + Send + Sync>;

/// Tunables of the executor.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// Where environments' directories live.
    pub envs_dir: PathBuf,
    /// How long an environment may sit idle before it is stopped.
    pub idle_timeout: Duration,
    pub account_concurrency: u32,
    pub function_credentials: Option<(String, String)>,
    /// `--lambda-isolation`, `--lambda-user`, `--lambda-cgroup-root`.
    pub isolation: sandbox::Options,
    /// Directories functions must not see (nimbus's data directory).
    pub hide: Vec<PathBuf>,
    /// Where the runtime bootstraps are (`/var/runtime` when isolated).
    pub runtime_dir: PathBuf,
}

pub struct Executor {
    config: ExecConfig,
    launchers: Launchers,
    code: CodeStore,
    sandbox: sandbox::Probe,
    /// Started with the first environment (it needs the async runtime).
    spawner: OnceLock<spawner::Spawner>,
    pool: Arc<Pool>,
    pub concurrency: Arc<Concurrency>,
    /// nimbus's own URL, given to functions as AWS_ENDPOINT_URL.
    endpoint: OnceLock<String>,
    next_env: AtomicU64,
    reaper: OnceLock<()>,
    log_sink: OnceLock<LogSink>,
    /// Bounds how many environments initialise at once: 200 interpreters
    /// starting together on two cores would each take longer than the
    /// 10 s init limit, while a few at a time each start in milliseconds.
    /// Waiting for a permit does not count against the init limit.
    starting: tokio::sync::Semaphore,
}

impl Executor {
    pub fn new(config: ExecConfig, launchers: Launchers, code: CodeStore) -> Executor {
        let _ = std::fs::remove_dir_all(&config.envs_dir);
        if let Err(e) = std::fs::create_dir_all(&config.envs_dir) {
            tracing::error!("lambda: cannot create {}: {e}", config.envs_dir.display());
        }
        let sandbox = sandbox::Probe::start(
            config.isolation.clone(),
            config.hide.clone(),
            config.runtime_dir.clone(),
            config.envs_dir.clone(),
        );
        let concurrency = Concurrency::new(config.account_concurrency);
        Executor {
            config,
            launchers,
            code,
            sandbox,
            spawner: OnceLock::new(),
            pool: Arc::new(Pool::default()),
            concurrency,
            endpoint: OnceLock::new(),
            next_env: AtomicU64::new(1),
            reaper: OnceLock::new(),
            log_sink: OnceLock::new(),
            starting: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()) * 2,
            ),
        }
    }

    pub fn set_endpoint(&self, url: String) {
        let _ = self.endpoint.set(url);
    }

    pub fn set_log_sink(&self, sink: LogSink) {
        let _ = self.log_sink.set(sink);
    }

    pub fn code(&self) -> &CodeStore {
        &self.code
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// How environments are isolated on this server (waits for the
    /// start-up probe).
    pub fn isolation(&self) -> sandbox::Status {
        self.sandbox.wait().status()
    }

    /// Stops every idle environment of a function (after it is deleted).
    pub fn retire(&self, f: &FunctionRecord) {
        self.pool.retire(&function_prefix(f));
    }

    /// Stops the idle environments of `$LATEST` (after its code or
    /// configuration changed; published versions never change).
    pub fn retire_latest(&self, f: &FunctionRecord) {
        self.pool
            .retire(&format!("{}{}/", function_prefix(f), crate::names::LATEST));
    }

    /// Runs one invocation and returns its whole result (a streamed
    /// response is collected, within the buffered limit). Errors are
    /// nimbus's own (throttling, a missing interpreter); everything the
    /// function does wrong is a `FunctionError`.
    pub async fn run(
        &self,
        target: &Target<'_>,
        payload: Bytes,
        client_context: Option<String>,
        request_id: &str,
    ) -> Result<Execution> {
        let (busy, invocation) = match self
            .begin(target, payload, client_context, request_id)
            .await?
        {
            Begun::Done(execution) => return Ok(execution),
            Begun::Busy(busy, invocation) => (busy, invocation),
        };
        Ok(match answer(*busy, invocation).await {
            Answer::Whole(execution) => execution,
            Answer::Stream(stream) => stream.collect().await,
        })
    }

    /// Starts one invocation for a caller that takes its answer in pieces
    /// (InvokeWithResponseStream, function URLs in RESPONSE_STREAM mode).
    /// Returns once the environment has the invocation, so the caller can
    /// answer its client before the function does; the errors are those of
    /// [`Executor::run`]. The invocation runs to its end even if the
    /// returned [`Running`] (or the stream it yields) is dropped.
    pub async fn start(
        &self,
        target: &Target<'_>,
        payload: Bytes,
        client_context: Option<String>,
        request_id: &str,
    ) -> Result<Running> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        match self
            .begin(target, payload, client_context, request_id)
            .await?
        {
            Begun::Done(execution) => {
                let _ = tx.send(Answer::Whole(execution));
            }
            Begun::Busy(busy, invocation) => {
                tokio::spawn(async move {
                    let _ = tx.send(answer(*busy, invocation).await);
                });
            }
        }
        Ok(Running(rx))
    }

    /// Claims a concurrency slot and an environment (warm, or started now)
    /// for one invocation. An environment that fails to start is the
    /// function's error, and already the invocation's end.
    async fn begin(
        &self,
        target: &Target<'_>,
        payload: Bytes,
        client_context: Option<String>,
        request_id: &str,
    ) -> Result<Begun> {
        self.start_reaper();
        let f = target.function;
        let v = target.config;
        let slot = self.concurrency.acquire(&f.arn())?;
        let key = pool_key(f, v);
        let started = Instant::now();
        let mut log =
            format!("START RequestId: {request_id} Version: {}\n", v.version).into_bytes();
        let log_target = LogTarget {
            account: f.account.clone(),
            region: f.region.clone(),
            group: format!("/aws/lambda/{}", f.name),
        };

        let env = match self.pool.take(&key) {
            Some(env) => env,
            None => match self.cold_start(f, v, request_id, &mut log, false).await? {
                Ok(env) => env,
                Err(error) => {
                    let error = InvokeResult::FunctionError(error);
                    let execution =
                        invocation::report(log, request_id, v.memory_size, started, None, 0, error);
                    invocation::publish_log(
                        self.log_sink.get(),
                        &log_target,
                        &log_stream_name(&v.version, 0),
                        &execution.log,
                    );
                    return Ok(Begun::Done(execution));
                }
            },
        };
        // Only an environment's first invocation reports its init.
        let init_duration = if env.served == 0 {
            env.init_duration
        } else {
            None
        };

        let timeout = Duration::from_secs(u64::from(v.timeout));
        let deadline_ms = crate::model::now_ms() + timeout.as_millis() as u64;
        let invocation = Invocation {
            request_id: request_id.to_owned(),
            payload,
            deadline_ms,
            invoked_function_arn: target.invoked_arn.clone(),
            trace_id: trace_id(),
            client_context,
        };
        let busy = Busy {
            env,
            key,
            log,
            request_id: request_id.to_owned(),
            started,
            init_duration,
            timeout,
            deadline: tokio::time::Instant::now() + timeout,
            memory_size: v.memory_size,
            log_target,
            pool: self.pool.clone(),
            log_sink: self.log_sink.get().cloned(),
            slot,
        };
        Ok(Begun::Busy(Box::new(busy), invocation))
    }

    /// Starts `count` environments of a version ahead of any invocation
    /// (provisioned concurrency) and parks them warm; returns how many are
    /// ready. Failures are logged: AWS reports them as the config's FAILED
    /// status.
    pub async fn prewarm(
        &self,
        f: &FunctionRecord,
        v: &VersionConfig,
        count: u32,
    ) -> std::result::Result<u32, String> {
        self.start_reaper();
        let key = pool_key(f, v);
        let mut ready = 0;
        let mut starts = Vec::new();
        for _ in 0..count {
            starts.push(async {
                let mut log = Vec::new();
                self.cold_start(f, v, "provisioned-concurrency", &mut log, true)
                    .await
            });
        }
        let mut failure = None;
        for outcome in futures_util::future::join_all(starts).await {
            match outcome {
                Ok(Ok(mut env)) => {
                    env.provisioned = true;
                    self.pool.put(key.clone(), env);
                    ready += 1;
                }
                Ok(Err(error)) => failure = Some(String::from_utf8_lossy(&error).into_owned()),
                Err(e) => failure = Some(e.to_string()),
            }
        }
        match failure {
            Some(reason) if ready < count => Err(reason),
            _ => Ok(ready),
        }
    }

    /// Starts and initialises a new environment. The outer error is
    /// nimbus's; the inner one is the function's (an init failure), already
    /// an error document.
    async fn cold_start(
        &self,
        f: &FunctionRecord,
        v: &VersionConfig,
        request_id: &str,
        log: &mut Vec<u8>,
        provisioned: bool,
    ) -> Result<std::result::Result<Environment, Bytes>> {
        let kind = runtimes::parse(&v.runtime)?;
        let code = self.code.clone();
        let code_id = v.code_id.clone();
        let task_root = tokio::task::spawn_blocking(move || code.task_root(&code_id))
            .await
            .map_err(|e| LambdaError::Service(format!("package extraction failed: {e}")))??;
        let opt = if v.layers.is_empty() {
            None
        } else {
            let code = self.code.clone();
            let ids: Vec<String> = v.layers.iter().map(|l| l.code_id.clone()).collect();
            Some(
                tokio::task::spawn_blocking(move || code.opt_root(&ids))
                    .await
                    .map_err(|e| LambdaError::Service(format!("layer extraction failed: {e}")))??,
            )
        };
        let sandbox = match self.sandbox.ready() {
            Some(sandbox) => sandbox,
            None => {
                let probe = self.sandbox.clone();
                tokio::task::spawn_blocking(move || probe.wait())
                    .await
                    .map_err(|e| LambdaError::Service(format!("isolation probe failed: {e}")))?
            }
        };
        let n = self.next_env.fetch_add(1, Ordering::Relaxed);
        let dir = self.config.envs_dir.join(format!("{}-{n}", f.name));
        let view = sandbox.view(&task_root, opt.as_deref(), &dir.join("tmp"));
        let launch = self.launchers.launch(kind, &task_root).await?;
        // The interpreter nimbus runs the function with must be reachable
        // by the function's uid wherever it is installed (a provided
        // runtime brings its own, in the task root).
        let expose = match kind {
            runtimes::RuntimeKind::Provided => Vec::new(),
            _ => runtimes::installations(&launch.program),
        };
        // The function sees its files where the view puts them.
        let launch = runtimes::Launch {
            program: view.path(&launch.program),
            args: launch.args.iter().map(|a| view.path(a)).collect(),
        };
        let program = launch.program.clone();
        let spec = Spec {
            launch,
            env: {
                let mut env = self.variables(f, v, &view, n);
                if provisioned {
                    env.insert(
                        "AWS_LAMBDA_INITIALIZATION_TYPE".into(),
                        "provisioned-concurrency".into(),
                    );
                }
                env
            },
            task_root,
            opt,
            dir,
            memory_mb: v.memory_size,
            tmp_mb: v.ephemeral_storage,
            expose,
            sandbox,
        };
        let spawner = match self.spawner.get() {
            Some(spawner) => spawner,
            None => {
                let started = spawner::Spawner::start().map_err(|e| {
                    LambdaError::Service(format!("cannot start the spawner thread: {e}"))
                })?;
                // Another cold start may have won: its spawner is used.
                let _ = self.spawner.set(started);
                self.spawner
                    .get()
                    .ok_or_else(|| LambdaError::Service("the spawner thread is missing".into()))?
            }
        };
        let _permit = self.starting.acquire().await;
        let mut env = match Environment::start(spec, spawner).await {
            Ok(env) => env,
            Err(StartError::Isolation(why)) => {
                tracing::error!("lambda: {}: {why}", f.name);
                return Err(LambdaError::Service(why));
            }
            Err(StartError::Exec(e)) => {
                let detail = format!("fork/exec {}: {}", program.display(), describe_io(&e));
                log.extend_from_slice(
                    format!("RequestId: {request_id} Error: {detail}\nRuntime.InvalidEntrypoint\n")
                        .as_bytes(),
                );
                return Ok(Err(doc(
                    "Runtime.InvalidEntrypoint",
                    &format!("RequestId: {request_id} Error: {detail}"),
                )));
            }
        };
        let outcome = env.init().await;
        let output = env.take_logs().await;
        // Init output precedes START on AWS; keep it first.
        let mut with_init = output;
        with_init.extend_from_slice(log);
        *log = with_init;
        match outcome {
            InitOutcome::Ready => Ok(Ok(env)),
            InitOutcome::Failed { body, error_type } => Ok(Err(error_document(body, error_type))),
            InitOutcome::Exit(exit) => Ok(Err(exit_error(&exit, request_id, log))),
            InitOutcome::Timeout => Ok(Err(doc(
                "Sandbox.Timedout",
                &format!(
                    "RequestId: {request_id} Error: Init phase did not complete within {:.2} seconds",
                    environment::INIT_LIMIT.as_secs_f64()
                ),
            ))),
        }
    }

    /// The variables an environment sees: AWS's reserved ones, then the
    /// function's own.
    fn variables(
        &self,
        f: &FunctionRecord,
        v: &VersionConfig,
        view: &View,
        n: u64,
    ) -> BTreeMap<String, String> {
        let task_root = view.task_root.as_path();
        let opt = view.opt.as_deref();
        let mut env = BTreeMap::new();
        let mut set = |k: &str, val: String| {
            env.insert(k.to_owned(), val);
        };
        set("AWS_LAMBDA_FUNCTION_NAME", f.name.clone());
        set("AWS_LAMBDA_FUNCTION_VERSION", v.version.clone());
        set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", v.memory_size.to_string());
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
        set("AWS_REGION", f.region.clone());
        set("AWS_DEFAULT_REGION", f.region.clone());
        set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", v.runtime));
        set("_HANDLER", v.handler.clone());
        set("LAMBDA_TASK_ROOT", task_root.display().to_string());
        set("LAMBDA_RUNTIME_DIR", view.runtime_dir.display().to_string());
        set("TMPDIR", view.tmp.display().to_string());
        set("HOME", view.tmp.display().to_string());
        set(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", f.name),
        );
        set("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name(&v.version, n));
        let (key, secret) = self
            .config
            .function_credentials
            .clone()
            .unwrap_or_else(|| ("nimbus".into(), "nimbus".into()));
        set("AWS_ACCESS_KEY_ID", key);
        set("AWS_SECRET_ACCESS_KEY", secret);
        set("AWS_SESSION_TOKEN", "nimbus".into());
        if let Some(url) = self.endpoint.get() {
            set("AWS_ENDPOINT_URL", url.clone());
        }
        set("TZ", ":UTC".into());
        set("LANG", "en_US.UTF-8".into());
        // The interpreters nimbus found must be found by the function too
        // (a function may start `python3` itself); layers' bin/ comes first.
        let mut dirs: Vec<PathBuf> = opt.map(|o| o.join("bin")).into_iter().collect();
        dirs.extend([
            PathBuf::from("/usr/local/bin"),
            "/usr/bin".into(),
            "/bin".into(),
        ]);
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        set("PATH", join_paths(dirs));
        // Layers are merged into one tree that stands in for /opt: its
        // conventional directories go where AWS's runtimes look for them.
        let mut python_path = vec![task_root.to_path_buf()];
        let mut node_path = vec![task_root.join("node_modules")];
        if let Some(opt) = opt {
            python_path.push(opt.join("python"));
            if let Ok(runtimes::RuntimeKind::Python { minor }) = runtimes::parse(&v.runtime) {
                python_path.push(opt.join(format!("python/lib/python3.{minor}/site-packages")));
            }
            let major = v
                .runtime
                .trim_start_matches("nodejs")
                .trim_end_matches(".x");
            node_path = vec![
                opt.join(format!("nodejs/node{major}/node_modules")),
                opt.join("nodejs/node_modules"),
                task_root.join("node_modules"),
            ];
            set("LD_LIBRARY_PATH", opt.join("lib").display().to_string());
            set("NIMBUS_LAMBDA_OPT", opt.display().to_string());
        }
        set("PYTHONPATH", join_paths(python_path));
        set("NODE_PATH", join_paths(node_path));
        for (k, val) in &v.environment {
            let val = match k.as_str() {
                // AWS's own PYTHONPATH is only the runtime directory; its
                // runtime puts the task root and the layers' directories on
                // sys.path whatever PYTHONPATH says. Here those directories
                // travel in PYTHONPATH, so a function's own value goes first
                // and they stay after it.
                "PYTHONPATH" => match env.get("PYTHONPATH") {
                    Some(ours) => format!("{val}:{ours}"),
                    None => val.clone(),
                },
                _ => val.clone(),
            };
            env.insert(k.clone(), val);
        }
        env
    }

    fn start_reaper(&self) {
        self.reaper.get_or_init(|| {
            let pool = Arc::downgrade(&self.pool);
            let idle = self.config.idle_timeout;
            tokio::spawn(async move {
                let period = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(10));
                loop {
                    tokio::time::sleep(period).await;
                    let Some(pool) = pool.upgrade() else { return };
                    let n = pool.reap(idle);
                    if n > 0 {
                        tracing::debug!("lambda: stopped {n} idle environment(s)");
                    }
                }
            });
        });
    }
}

/// Where [`Executor::begin`] left an invocation.
enum Begun {
    /// Over before it started (the environment failed to start).
    Done(Execution),
    /// Its environment is ready for it.
    Busy(Box<Busy>, Invocation),
}

/// Hands the invocation to its environment and turns the reply into the
/// caller's answer.
async fn answer(mut busy: Busy, invocation: Invocation) -> Answer {
    let deadline = busy.deadline;
    let outcome = busy.env.invoke(invocation, deadline).await;
    busy.answer(outcome).await
}

fn join_paths(paths: Vec<PathBuf>) -> String {
    std::env::join_paths(paths)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The error document for an environment that died.
fn exit_error(exit: &Exit, request_id: &str, log: &mut Vec<u8>) -> Bytes {
    let (error_type, detail) = match exit {
        Exit::Exited(detail) => ("Runtime.ExitError", detail.as_str()),
        Exit::OutOfMemory => ("Runtime.OutOfMemory", "signal: killed"),
    };
    let message = format!("RequestId: {request_id} Error: Runtime exited with error: {detail}");
    log.extend_from_slice(format!("{message}\n{error_type}\n").as_bytes());
    doc(error_type, &message)
}

/// A runtime's error document, or one made from its error type if it sent
/// nothing usable.
fn error_document(body: Bytes, error_type: Option<String>) -> Bytes {
    if serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| v.is_object()) {
        return body;
    }
    let error_type = error_type.unwrap_or_else(|| "Unhandled".into());
    doc(&error_type, &String::from_utf8_lossy(&body))
}

fn doc(error_type: &str, message: &str) -> Bytes {
    Bytes::from(json!({"errorType": error_type, "errorMessage": message}).to_string())
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `account/region/name/` — every pool key of a function starts with it.
fn function_prefix(f: &FunctionRecord) -> String {
    format!("{}/{}/{}/", f.account, f.region, f.name)
}

fn pool_key(f: &FunctionRecord, v: &VersionConfig) -> String {
    format!("{}{}/{}", function_prefix(f), v.version, v.revision_id)
}

fn log_stream_name(version: &str, n: u64) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}/{:02}/{:02}/[{version}]{:016x}{:016x}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        n,
        uuid::Uuid::new_v4().as_u64_pair().0
    )
}

/// An X-Ray style trace header for one invocation.
fn trace_id() -> String {
    let now = crate::model::now_ms() / 1000;
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{now:08x}-{};Parent={};Sampled=0",
        &id[..24],
        &id[16..32]
    )
}
