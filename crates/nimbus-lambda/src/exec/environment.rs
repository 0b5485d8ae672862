//! One execution environment: a child process (in its own process group,
//! working directory and tmp dir, and where the machine allows in its own
//! namespaces and memory cgroup: see `sandbox/`) running a runtime that
//! talks to its own Runtime API listener, with its stdout and stderr
//! captured as the function's log.
//!
//! An environment is owned by exactly one party at a time (the pool while
//! idle, an invocation while busy), which is how "one request at a time per
//! environment" holds. Dropping it kills the whole process group (and with
//! it the PID namespace) and removes its directory and cgroup: an
//! environment that timed out or crashed is never reused.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot, watch};

use super::runtime_api::{self, Dispatch, InitReply, Invocation, RuntimeReply, StreamEnd};
use super::sandbox::cgroup::EnvCgroup;
use super::sandbox::{EnvPaths, Sandbox, Started};
use super::spawner::Spawner;
use crate::runtimes::Launch;

/// Longest a runtime may take to initialise (AWS: 10 s).
pub const INIT_LIMIT: Duration = Duration::from_secs(10);
/// How much of one invocation's output is kept.
const MAX_LOG_BYTES: usize = 256 * 1024;
/// How often memory is sampled while an invocation runs.
const MEMORY_SAMPLE: Duration = Duration::from_millis(50);

/// What an environment is started with.
pub struct Spec {
    /// Program and arguments as the function sees them (see `View`).
    pub launch: Launch,
    /// The extracted code and merged layers, on the host.
    pub task_root: PathBuf,
    pub opt: Option<PathBuf>,
    /// The environment's own directory (its tmp lives inside); its name
    /// names its cgroup too.
    pub dir: PathBuf,
    /// Variables the process sees, complete (nimbus's own are not inherited).
    pub env: BTreeMap<String, String>,
    pub memory_mb: u32,
    /// EphemeralStorage: the size of `/tmp`, in MiB (isolated only).
    pub tmp_mb: u32,
    /// Installations the runtime needs (its interpreter's), on the host.
    pub expose: Vec<PathBuf>,
    pub sandbox: Arc<Sandbox>,
}

/// Why an environment did not start.
#[derive(Debug)]
pub enum StartError {
    /// The runtime could not be started (its program is missing, not
    /// executable...): the function's problem.
    Exec(std::io::Error),
    /// nimbus could not isolate it: nimbus's problem.
    Isolation(String),
}

/// Why an environment stopped being usable.
#[derive(Debug, Clone)]
pub enum Exit {
    /// The process exited: "exit status 1" or "signal: killed".
    Exited(String),
    /// nimbus killed it for using more memory than configured.
    OutOfMemory,
}

/// How an invocation ended, before it is turned into an Invoke response.
#[derive(Debug)]
pub enum Outcome {
    Reply(RuntimeReply),
    Timeout,
    Exit(Exit),
}

/// Why an invocation stopped before the runtime said how it ended.
#[derive(Debug)]
pub enum Stopped {
    Timeout,
    Exit(Exit),
}

/// How init ended.
#[derive(Debug)]
pub enum InitOutcome {
    Ready,
    Failed {
        body: Bytes,
        error_type: Option<String>,
    },
    Exit(Exit),
    Timeout,
}

pub struct Environment {
    /// The process nimbus spawned: the runtime itself, or when isolated
    /// its supervisor. Its process group holds the whole environment.
    pid: i32,
    /// The runtime's own process (for its memory).
    runtime_pid: i32,
    /// With a memory cgroup, the kernel enforces the limit.
    cgroup: Option<Arc<EnvCgroup>>,
    inbox: mpsc::Sender<Dispatch>,
    exit: watch::Receiver<Option<Exit>>,
    logs: Logs,
    server: tokio::task::JoinHandle<()>,
    dir: PathBuf,
    memory_limit_kb: u64,
    pub started: Instant,
    /// Set by [`Environment::init`]: how long the runtime took to be ready.
    pub init_duration: Option<Duration>,
    pub last_used: Instant,
    /// Invocations handed to this environment so far.
    pub served: u64,
    /// Started for provisioned concurrency: never reaped for idleness.
    pub provisioned: bool,
    /// The CloudWatch Logs stream this environment writes to.
    pub log_stream: String,
    init: Option<oneshot::Receiver<InitReply>>,
}

impl Environment {
    /// Starts the process. The runtime is not ready until [`Environment::init`].
    pub async fn start(spec: Spec, spawner: &Spawner) -> Result<Environment, StartError> {
        let started = Instant::now();
        let log_stream = spec
            .env
            .get("AWS_LAMBDA_LOG_STREAM_NAME")
            .cloned()
            .unwrap_or_default();
        let io = StartError::Exec;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(io)?;
        let port = listener.local_addr().map_err(io)?.port();
        let (inbox_tx, inbox_rx) = mpsc::channel(1);
        let (server, init_rx) = runtime_api::serve(listener, inbox_rx);

        let (log_tx, log_rx) = pipe::pipe().map_err(io)?;
        let log_fd: OwnedFd = log_tx.into_blocking_fd().map_err(io)?;
        let stderr_fd = log_fd.try_clone().map_err(io)?;

        let mut cmd = tokio::process::Command::new(&spec.launch.program);
        cmd.args(&spec.launch.args)
            .env_clear()
            .envs(&spec.env)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_fd))
            .stderr(Stdio::from(stderr_fd))
            .process_group(0)
            .kill_on_drop(true);
        if !spec.sandbox.isolated() {
            // Isolated, the environment enters /var/task itself, once its
            // view of the file system is built.
            cmd.current_dir(&spec.task_root);
        }
        // If nimbus dies (even by SIGKILL), its environments die with it
        // instead of lingering as orphans.
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the forked child before exec and only
        // makes async-signal-safe system calls (prctl, getppid, _exit).
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        // Creating the cgroup and building the isolated process (forks,
        // mounts) takes milliseconds, and spawn() waits for the runtime's
        // exec: not on an async worker's time (see spawner.rs).
        let spawning = spawner.run(move || (spawn(cmd, &spec), spec));
        let (spawned, spec) = match spawning.await {
            Ok(done) => done,
            Err(e) => {
                server.abort();
                return Err(StartError::Isolation(e));
            }
        };
        let (mut child, isolation) = match spawned {
            Ok(spawned) => spawned,
            Err(e) => {
                server.abort();
                return Err(e);
            }
        };
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        let runtime_pid = isolation.runtime_pid.unwrap_or(pid);
        let cgroup = isolation.cgroup.map(Arc::new);

        let (exit_tx, exit_rx) = watch::channel(None);
        let watched = cgroup.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let exit = match status {
                Ok(s) => {
                    let text = describe_status(s);
                    // Killed, and the cgroup's OOM killer did it: the
                    // function went over its memory.
                    let oom = text == "signal: killed"
                        && watched.as_ref().is_some_and(|c| c.oom_killed());
                    if oom {
                        Exit::OutOfMemory
                    } else {
                        Exit::Exited(text)
                    }
                }
                Err(e) => Exit::Exited(format!("wait failed: {e}")),
            };
            // OutOfMemory may have been recorded first by the sampler.
            exit_tx.send_if_modified(|v| {
                if v.is_none() {
                    *v = Some(exit);
                    true
                } else {
                    false
                }
            });
        });

        Ok(Environment {
            pid,
            runtime_pid,
            cgroup,
            inbox: inbox_tx,
            exit: exit_rx,
            logs: Logs::spawn(log_rx),
            server,
            dir: spec.dir,
            memory_limit_kb: u64::from(spec.memory_mb) * 1024,
            started,
            init_duration: None,
            last_used: Instant::now(),
            served: 0,
            provisioned: false,
            log_stream,
            init: Some(init_rx),
        })
    }

    /// Waits for the runtime to ask for its first invocation.
    pub async fn init(&mut self) -> InitOutcome {
        let Some(init) = self.init.take() else {
            return InitOutcome::Ready;
        };
        let mut exit = self.exit.clone();
        let outcome = tokio::select! {
            reply = init => match reply {
                Ok(InitReply::Ready) => InitOutcome::Ready,
                Ok(InitReply::Failed { body, error_type }) => InitOutcome::Failed { body, error_type },
                Err(_) => InitOutcome::Exit(Exit::Exited("runtime API stopped".into())),
            },
            e = wait_exit(&mut exit) => InitOutcome::Exit(e),
            _ = tokio::time::sleep(INIT_LIMIT) => InitOutcome::Timeout,
        };
        self.init_duration = Some(self.started.elapsed());
        outcome
    }

    /// Hands the environment one invocation and waits for the runtime's
    /// reply, the deadline, or the process dying (including being killed
    /// for exceeding its memory). A streamed reply comes back as soon as it
    /// starts: see [`Environment::stream_end`] for the rest.
    pub async fn invoke(
        &mut self,
        invocation: Invocation,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let (tx, rx) = oneshot::channel();
        self.served += 1;
        if let Some(e) = self.exit.borrow().clone() {
            return Outcome::Exit(e);
        }
        if self
            .inbox
            .send(Dispatch {
                invocation,
                reply: tx,
            })
            .await
            .is_err()
        {
            return Outcome::Exit(Exit::Exited("runtime API stopped".into()));
        }
        match self.supervise(rx, deadline).await {
            Ok(reply) => Outcome::Reply(reply),
            Err(Stopped::Timeout) => Outcome::Timeout,
            Err(Stopped::Exit(exit)) => Outcome::Exit(exit),
        }
    }

    /// Waits for a streamed response to end, under the same deadline and
    /// memory limit as the rest of its invocation.
    pub async fn stream_end(
        &mut self,
        end: oneshot::Receiver<StreamEnd>,
        deadline: tokio::time::Instant,
    ) -> Result<StreamEnd, Stopped> {
        self.supervise(end, deadline).await
    }

    /// Waits for `rx` while enforcing the deadline and the memory limit, and
    /// noticing the process's death. A dropped sender means the runtime API
    /// gave up on the invocation (its connection broke): the process exiting
    /// or the deadline decides how it ended.
    async fn supervise<T>(
        &mut self,
        rx: oneshot::Receiver<T>,
        deadline: tokio::time::Instant,
    ) -> Result<T, Stopped> {
        let mut exit = self.exit.clone();
        let mut exit_watch = self.exit.clone();
        let mut sampler = tokio::time::interval(MEMORY_SAMPLE);
        sampler.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let reply = async {
            tokio::select! {
                reply = rx => match reply {
                    Ok(r) => Ok(r),
                    Err(_) => Err(Stopped::Exit(wait_exit(&mut exit).await)),
                },
                e = wait_exit(&mut exit_watch) => Err(Stopped::Exit(e)),
            }
        };
        tokio::pin!(reply);
        loop {
            tokio::select! {
                outcome = &mut reply => {
                    self.last_used = Instant::now();
                    return outcome;
                }
                _ = tokio::time::sleep_until(deadline) => return Err(Stopped::Timeout),
                // Without a cgroup nimbus enforces the limit itself.
                _ = sampler.tick(), if self.cgroup.is_none() => {
                    if rss_kb(self.runtime_pid).is_some_and(|kb| kb > self.memory_limit_kb) {
                        self.kill();
                        return Err(Stopped::Exit(Exit::OutOfMemory));
                    }
                }
            }
        }
    }

    /// Whether the process is still alive.
    pub fn alive(&self) -> bool {
        self.exit.borrow().is_none()
    }

    /// Peak resident memory so far, in MB (`VmHWM`).
    pub fn max_memory_mb(&self) -> u64 {
        proc_status_kb(self.runtime_pid, "VmHWM:").map_or(0, |kb| kb.div_ceil(1024))
    }

    /// Everything the function printed since the last call, once the
    /// runtime's writes made before its last Runtime API call are read.
    pub async fn take_logs(&self) -> Vec<u8> {
        self.logs.take().await
    }

    /// Kills the process group at once (isolated: the supervisor, the
    /// namespace's init, whose death kills every process left in the
    /// namespace, and the runtime).
    pub fn kill(&self) {
        if self.pid > 0 {
            // SAFETY: kill(2) has no memory-safety preconditions; a negative
            // pid names the process group the child leads (process_group(0)).
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
        self.server.abort();
        let dir = std::mem::take(&mut self.dir);
        let cgroup = self.cgroup.take();
        if !dir.as_os_str().is_empty() || cgroup.is_some() {
            // Removing a large /tmp can take a while, and a cgroup can only
            // go once its processes have exited; not on the caller's time.
            std::thread::spawn(move || {
                if !dir.as_os_str().is_empty() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                if let Some(cgroup) = cgroup {
                    cgroup.remove();
                }
            });
        }
    }
}

/// Prepares the environment's isolation (its directory, cgroup and view),
/// has `cmd`'s child apply it, and spawns. Blocking.
fn spawn(
    mut cmd: tokio::process::Command,
    spec: &Spec,
) -> Result<(tokio::process::Child, Started), StartError> {
    if spec.sandbox.isolated() {
        // /tmp is a tmpfs inside the environment; its root's mount point
        // is made here.
        std::fs::create_dir_all(&spec.dir).map_err(StartError::Exec)?;
    } else {
        // Not isolated, /tmp is this host directory (TMPDIR), unlimited.
        std::fs::create_dir_all(spec.dir.join("tmp")).map_err(StartError::Exec)?;
    }
    let paths = EnvPaths {
        dir: &spec.dir,
        task_root: &spec.task_root,
        opt: spec.opt.as_deref(),
        tmp_mb: spec.tmp_mb,
        expose: &spec.expose,
    };
    let name = spec
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prepared = spec
        .sandbox
        .prepare(&paths, &name, spec.memory_mb)
        .map_err(|e| StartError::Isolation(format!("cannot prepare the environment: {e}")))?;
    // After nimbus's own closure: the sandbox's runs last, and forks.
    prepared.install(cmd.as_std_mut());
    let spawned = cmd.spawn();
    drop(cmd);
    let isolation = prepared.finish(spawned.as_ref().ok().and_then(|c| c.id()));
    match (spawned, isolation) {
        (Ok(child), Ok(isolation)) => Ok((child, isolation)),
        (_, Err(why)) => Err(StartError::Isolation(why)),
        (Err(e), Ok(_)) => Err(StartError::Exec(e)),
    }
}

async fn wait_exit(exit: &mut watch::Receiver<Option<Exit>>) -> Exit {
    loop {
        if let Some(e) = exit.borrow_and_update().clone() {
            return e;
        }
        if exit.changed().await.is_err() {
            return Exit::Exited("unknown".into());
        }
    }
}

/// Go-style wording AWS uses: "exit status 1", "signal: killed".
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(libc::SIGKILL) => "signal: killed".into(),
        Some(libc::SIGSEGV) => "signal: segmentation fault".into(),
        Some(libc::SIGABRT) => "signal: aborted".into(),
        Some(libc::SIGTERM) => "signal: terminated".into(),
        Some(n) => format!("signal: {n}"),
        None => "exited".into(),
    }
}

fn rss_kb(pid: i32) -> Option<u64> {
    proc_status_kb(pid, "VmRSS:")
}

fn proc_status_kb(pid: i32, field: &str) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The environment's output, read by a task of its own.
struct Logs {
    buffer: Arc<Mutex<Vec<u8>>>,
    sync: mpsc::Sender<oneshot::Sender<()>>,
}

impl Logs {
    fn spawn(mut rx: pipe::Receiver) -> Logs {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (sync_tx, mut sync_rx) = mpsc::channel::<oneshot::Sender<()>>(4);
        let sink = buffer.clone();
        tokio::spawn(async move {
            let mut chunk = vec![0u8; 16 * 1024];
            let mut open = true;
            loop {
                tokio::select! {
                    ready = rx.readable(), if open => {
                        if ready.is_err() {
                            open = false;
                            continue;
                        }
                        open = drain(&mut rx, &mut chunk, &sink);
                    }
                    ack = sync_rx.recv() => {
                        let Some(ack) = ack else { break };
                        if open {
                            open = drain(&mut rx, &mut chunk, &sink);
                        }
                        let _ = ack.send(());
                    }
                }
            }
        });
        Logs {
            buffer,
            sync: sync_tx,
        }
    }

    async fn take(&self) -> Vec<u8> {
        let (tx, rx) = oneshot::channel();
        if self.sync.send(tx).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_millis(200), rx).await;
        }
        std::mem::take(&mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Reads everything available now; false once the pipe is closed.
fn drain(rx: &mut pipe::Receiver, chunk: &mut [u8], sink: &Mutex<Vec<u8>>) -> bool {
    loop {
        match rx.try_read(chunk) {
            Ok(0) => return false,
            Ok(n) => {
                let mut buf = sink.lock().unwrap_or_else(PoisonError::into_inner);
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > MAX_LOG_BYTES {
                    let cut = buf.len() - MAX_LOG_BYTES;
                    buf.drain(..cut);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}
