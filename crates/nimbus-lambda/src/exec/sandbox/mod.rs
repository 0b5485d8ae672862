//! How execution environments are isolated from nimbus, the host and each
//! other, decided once at start-up by trying it:
//!
//! - **namespaces** (`namespaces.rs`, `view.rs`): each environment gets
//!   mount and PID namespaces of its own, a read-only view of the host with
//!   its code at `/var/task`, a private `/tmp` (a tmpfs of the function's
//!   EphemeralStorage size, the only writable place), nimbus's data
//!   directory hidden, no capabilities; killing its init kills every
//!   process it ever started. Needs root, or user namespaces.
//! - **identity**: when nimbus runs as root, the runtime runs as an
//!   unprivileged uid and gid (`--lambda-user`, AWS's `sbx_user1051`,
//!   993:990, by default), so it reads only what any user may and can
//!   signal no process but its own. Not root, nimbus isolates inside a user
//!   namespace and functions keep nimbus's own uid.
//! - **memory** (`cgroup.rs`): a cgroup per environment limited to the
//!   function's MemorySize; the kernel kills a function that goes over. Needs
//!   a writable cgroup memory controller (v1 or v2); otherwise nimbus samples
//!   the runtime's RSS and kills it, as before.
//!
//! Each is tried once at start-up; what the kernel refuses is left out, and
//! the one start-up log line (also in `/_nimbus/health`) says what is not
//! enforced and why. `--lambda-isolation none` turns them all off:
//! functions then run as plain child processes with nimbus's uid, sharing
//! nimbus's view of the file system, `/tmp` a host directory of unlimited
//! size.

pub mod cgroup;
pub mod helper;
pub mod namespaces;
pub mod view;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use self::cgroup::{Cgroups, EnvCgroup};
use self::namespaces::{Phase, Plan, UserMaps};

/// `--lambda-isolation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Isolate as far as this machine allows.
    #[default]
    Auto,
    /// Plain child processes, as nimbus ran them before isolation existed.
    None,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "auto" => Ok(Mode::Auto),
            "none" => Ok(Mode::None),
            _ => Err(format!("'{s}' is not an isolation mode (auto or none)")),
        }
    }
}

/// The uid and gid of AWS's `sbx_user1051`, which runs handlers on current
/// Lambda runtimes: the default `--lambda-user`.
pub const DEFAULT_USER: (u32, u32) = (993, 990);

/// What the command line says about isolation.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--lambda-isolation`.
    pub mode: Mode,
    /// `--lambda-user`: the uid and gid functions run as when nimbus is
    /// root (`0:0` keeps root).
    pub user: (u32, u32),
    /// `--lambda-cgroup-root`: the cgroup to create environments' cgroups
    /// under instead of nimbus's own.
    pub cgroup_root: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: Mode::Auto,
            user: DEFAULT_USER,
            cgroup_root: None,
        }
    }
}

/// Reads `UID[:GID]` (the gid defaults to the uid).
pub fn parse_user(text: &str) -> Result<(u32, u32), String> {
    let number = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|n| *n != u32::MAX)
            .ok_or_else(|| format!("'{text}' is not UID or UID:GID (numbers)"))
    };
    match text.split_once(':') {
        Some((uid, gid)) => Ok((number(uid)?, number(gid)?)),
        None => number(text).map(|uid| (uid, uid)),
    }
}

/// How environments run on this server.
#[derive(Debug)]
pub struct Sandbox {
    /// `Ok(None)`: namespaces as root; `Ok(Some)`: inside a user namespace
    /// (nimbus is not root); `Err`: why there are none.
    namespaces: Result<Option<(u32, u32)>, String>,
    /// The uid and gid runtimes switch to (nimbus is root and isolates).
    identity: Option<(u32, u32)>,
    /// Why runtimes keep root's uid although nimbus is root and isolates.
    identity_note: Option<String>,
    cgroups: Result<Cgroups, String>,
    /// Canonical paths covered by an empty tmpfs in every environment.
    hide: Vec<PathBuf>,
    /// nimbus's bootstraps, seen as `/var/runtime`.
    runtime_dir: PathBuf,
    /// The nimbus binary (O_PATH), when it runs the helper roles.
    helper: Option<OwnedFd>,
}

/// What `/_nimbus/health` and the metrics say about isolation.
#[derive(Debug, Clone)]
pub struct Status {
    /// `"mount+pid"` (or `"user+mount+pid"`), or `None` when not isolated.
    pub namespaces: Option<&'static str>,
    /// `"cgroup v1"`, `"cgroup v2"` or `"sampling"`.
    pub memory: &'static str,
    /// The uid and gid runtimes run as, as the host sees them.
    pub uid: u32,
    pub gid: u32,
    /// Whether `/tmp` is limited to the function's EphemeralStorage.
    pub tmp_limited: bool,
    /// The start-up log line.
    pub summary: String,
}

impl Sandbox {
    /// Decides, by trying, what isolation this machine allows, and logs it.
    /// `hide` lists directories functions must not see (nimbus's data
    /// directory); `envs_dir` must exist (the probe runs in it).
    pub fn new(
        options: &Options,
        hide: &[PathBuf],
        runtime_dir: &Path,
        envs_dir: &Path,
    ) -> Sandbox {
        let hide = hide
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .collect();
        let mut sandbox = Sandbox {
            namespaces: Err("--lambda-isolation none".into()),
            identity: None,
            identity_note: None,
            cgroups: Err("--lambda-isolation none".into()),
            hide,
            runtime_dir: runtime_dir.to_path_buf(),
            helper: None,
        };
        // The switch to the configured user was refused (and only it).
        let mut refused = false;
        if options.mode == Mode::Auto {
            sandbox.helper = helper::available().then(own_binary).flatten();
            let cgroups = match &options.cgroup_root {
                Some(root) => Cgroups::open_at(root),
                None => Cgroups::open(),
            };
            sandbox.cgroups = cgroups.and_then(|c| probe_cgroup(&c).map(|()| c));
            let (uid, gid) = own_ids();
            let user = (uid != 0).then_some((uid, gid));
            // As root, runtimes leave root for the configured user, unless
            // that is root too.
            let wanted = (uid == 0 && options.user.0 != 0).then_some(options.user);
            sandbox.namespaces = sandbox
                .probe_namespaces(user, wanted, envs_dir)
                .map(|()| user);
            sandbox.identity = wanted;
            if let (Some((u, g)), Err(why)) = (wanted, &sandbox.namespaces) {
                // Isolating failed as that user: without the switch, so the
                // rest of the isolation stays if only the switch is refused.
                let first = why.clone();
                sandbox.identity = None;
                sandbox.namespaces = sandbox
                    .probe_namespaces(user, None, envs_dir)
                    .map(|()| user);
                if sandbox.namespaces.is_ok() {
                    refused = true;
                    sandbox.identity_note = Some(format!("cannot run as uid {u} gid {g}: {first}"));
                }
            } else if uid == 0 && wanted.is_none() {
                sandbox.identity_note = Some("--lambda-user 0".into());
            }
        }
        let summary = sandbox.status().summary;
        // Also a cgroup root named on the command line that cannot limit
        // memory: the operator asked for it.
        let degraded = sandbox.namespaces.is_err()
            || (options.cgroup_root.is_some() && sandbox.cgroups.is_err())
            || refused;
        if options.mode == Mode::None || !degraded {
            tracing::info!("lambda: {summary}");
        } else {
            tracing::warn!("lambda: {summary}");
        }
        sandbox
    }

    /// No isolation, for `reason`.
    fn unavailable(reason: &str, runtime_dir: PathBuf) -> Sandbox {
        tracing::warn!("lambda: functions not isolated: {reason}");
        Sandbox {
            namespaces: Err(reason.to_owned()),
            identity: None,
            identity_note: None,
            cgroups: Err(reason.to_owned()),
            hide: Vec::new(),
            runtime_dir,
            helper: None,
        }
    }

    pub fn status(&self) -> Status {
        let namespaces = match &self.namespaces {
            Ok(None) => Some("mount+pid"),
            Ok(Some(_)) => Some("user+mount+pid"),
            Err(_) => None,
        };
        let memory = match &self.cgroups {
            Ok(c) => c.version().label(),
            Err(_) => "sampling",
        };
        let memory_text = match &self.cgroups {
            Ok(c) => format!("cgroup memory ({})", c.version().label()),
            Err(why) if why.starts_with("--lambda-isolation") => {
                "memory limited by sampling".to_owned()
            }
            Err(why) => format!("memory limited by sampling (no cgroup: {why})"),
        };
        let (own_uid, own_gid) = own_ids();
        let (uid, gid) = self.identity.unwrap_or((own_uid, own_gid));
        let user_text = match (&self.identity, &self.identity_note) {
            (Some(_), _) => format!("running as uid {uid} gid {gid}"),
            (None, Some(note)) => format!("running as root ({note})"),
            (None, None) => format!("running as nimbus's uid {uid}"),
        };
        let summary = match (namespaces, &self.namespaces) {
            (Some(kinds), _) => format!(
                "functions isolated: {kinds} namespaces, {memory_text}, {user_text}, /tmp limited to EphemeralStorage"
            ),
            (None, why) => {
                let why = why.as_ref().err().map_or("", String::as_str);
                format!(
                    "functions not isolated: {why}; {memory_text}; {user_text}; /tmp not limited to EphemeralStorage"
                )
            }
        };
        Status {
            namespaces,
            memory,
            uid,
            gid,
            tmp_limited: namespaces.is_some(),
            summary,
        }
    }

    /// Whether environments run in namespaces (and see [`View`] paths).
    pub fn isolated(&self) -> bool {
        self.namespaces.is_ok()
    }

    /// Where a function finds things: AWS's paths when isolated, the host's
    /// otherwise.
    pub fn view(&self, task_root: &Path, opt: Option<&Path>, tmp: &Path) -> View {
        if self.isolated() {
            View {
                task_root: view::TASK_ROOT.into(),
                opt: opt.map(|_| view::OPT.into()),
                runtime_dir: view::RUNTIME_DIR.into(),
                tmp: view::TMP.into(),
                host: vec![
                    (task_root.to_path_buf(), view::TASK_ROOT.into()),
                    (self.runtime_dir.clone(), view::RUNTIME_DIR.into()),
                ],
            }
        } else {
            View {
                task_root: task_root.to_path_buf(),
                opt: opt.map(Path::to_path_buf),
                runtime_dir: self.runtime_dir.clone(),
                tmp: tmp.to_path_buf(),
                host: Vec::new(),
            }
        }
    }

    /// Everything an environment's process needs to isolate itself,
    /// prepared before it is spawned: its cgroup (named `name`) and, with
    /// namespaces, the plan of its file system.
    pub fn prepare(&self, env: &EnvPaths<'_>, name: &str, memory_mb: u32) -> io::Result<Prepared> {
        let cgroup = match &self.cgroups {
            Ok(c) => Some(c.create(name, memory_mb)?),
            Err(_) => None,
        };
        let mut prepared = Prepared {
            plan: None,
            descriptions: Vec::new(),
            cgroup,
            report: None,
        };
        if prepared.cgroup.is_none() && self.namespaces.is_err() {
            return Ok(prepared);
        }
        let (read, write) = report_pipe()?;
        if let Ok(user) = self.namespaces {
            let (plan, descriptions) = self.plan(
                env,
                prepared.cgroup.as_ref(),
                user,
                self.identity,
                &write,
                false,
            )?;
            prepared.plan = Some(Arc::new(plan));
            prepared.descriptions = descriptions;
        }
        prepared.report = Some((read, write));
        Ok(prepared)
    }

    fn plan(
        &self,
        env: &EnvPaths<'_>,
        cgroup: Option<&EnvCgroup>,
        user: Option<(u32, u32)>,
        identity: Option<(u32, u32)>,
        report: &OwnedFd,
        probe_only: bool,
    ) -> io::Result<(Plan, Vec<String>)> {
        let new_root = env.dir.join("root");
        std::fs::create_dir_all(&new_root)?;
        let layers = env.opt.map(|dir| (dir, view::list(dir)));
        // nimbus's uid reaches whatever it runs; another uid may not.
        let exposures = identity.map_or_else(Vec::new, |ids| exposures(env.expose, ids));
        let layout = view::Layout {
            new_root: &new_root,
            host_root: &view::list(Path::new("/")),
            host_var: &view::list(Path::new("/var")),
            host_opt: &view::list(Path::new("/opt")),
            task_root: env.task_root,
            runtime_dir: &self.runtime_dir,
            layers: layers.as_ref().map(|(d, e)| (*d, e.as_slice())),
            tmp_mb: env.tmp_mb,
            exposures: &exposures,
            proc_options: match user {
                // hidepid exempts the members of its `gid` option, which
                // is group 0 unless set, and functions run in root's group:
                // name a group nobody is in. (In a user namespace only
                // nimbus's own group is mapped; group 0 is not ours there.)
                None => "hidepid=2,gid=2147483646",
                Some(_) => "hidepid=2",
            },
        };
        let (steps, mut descriptions): (Vec<_>, Vec<_>) = view::steps(&layout)?.into_iter().unzip();
        let hide = self
            .hide
            .iter()
            .map(|p| view::cstring(p))
            .collect::<io::Result<Vec<_>>>()?;
        descriptions.extend(self.hide.iter().map(|p| format!("hide {}", p.display())));
        let plan = Plan {
            steps,
            new_root: view::cstring(&new_root)?,
            hide,
            cgroup: cgroup.map(|c| c.procs_file().to_owned()),
            user: user.map(|(uid, gid)| UserMaps {
                uid_map: CString::new(format!("{uid} {uid} 1")).unwrap_or_default(),
                gid_map: CString::new(format!("{gid} {gid} 1")).unwrap_or_default(),
            }),
            identity,
            report: report.as_raw_fd(),
            probe_only,
            helper: self.helper.as_ref().map(AsRawFd::as_raw_fd),
        };
        Ok((plan, descriptions))
    }

    /// Sets up a throw-away environment (no runtime) to learn whether
    /// namespaces work here, and why not.
    fn probe_namespaces(
        &self,
        user: Option<(u32, u32)>,
        identity: Option<(u32, u32)>,
        envs_dir: &Path,
    ) -> Result<(), String> {
        let dir = envs_dir.join(".probe");
        let result = (|| {
            let task = dir.join("task");
            // Walked into by the probe's runtime, as a task root is: one
            // another uid may enter whatever nimbus's umask.
            std::fs::create_dir_all(&task)
                .and_then(|()| {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&task, std::fs::Permissions::from_mode(0o755))
                })
                .map_err(|e| format!("cannot prepare {}: {e}", task.display()))?;
            let paths = EnvPaths {
                dir: &dir,
                task_root: &task,
                opt: None,
                tmp_mb: 1,
                expose: &[],
            };
            let (read, write) = report_pipe().map_err(|e| format!("pipe: {e}"))?;
            let (plan, descriptions) = self
                .plan(&paths, None, user, identity, &write, true)
                .map_err(|e| format!("cannot plan the environment: {e}"))?;
            let prepared = Prepared {
                plan: Some(Arc::new(plan)),
                descriptions,
                cgroup: None,
                report: Some((read, write)),
            };
            let mut cmd = std::process::Command::new("/");
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            prepared.install(&mut cmd);
            let spawned = cmd.spawn();
            let started = prepared.finish(spawned.as_ref().ok().map(|c| c.id()));
            let mut child = spawned.map_err(|e| match &started {
                Err(why) => why.clone(),
                Ok(_) => e.to_string(),
            })?;
            let status = child.wait().map_err(|e| e.to_string())?;
            started?;
            if !status.success() {
                return Err(format!("the probe environment ended with {status}"));
            }
            Ok(())
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result
    }
}

/// A [`Sandbox`] being decided on a thread of its own: the probe forks and
/// mounts, tens of milliseconds nimbus need not wait for before it serves.
/// The first cold start (or health check) waits for it instead.
#[derive(Clone)]
pub struct Probe(Arc<OnceLock<Arc<Sandbox>>>);

impl Probe {
    pub fn start(
        options: Options,
        hide: Vec<PathBuf>,
        runtime_dir: PathBuf,
        envs_dir: PathBuf,
    ) -> Probe {
        let cell = Arc::new(OnceLock::new());
        let set = cell.clone();
        let fallback = runtime_dir.clone();
        let spawned = std::thread::Builder::new()
            .name("nimbus-isolation-probe".into())
            .spawn(move || {
                let probe = std::panic::AssertUnwindSafe(|| {
                    Sandbox::new(&options, &hide, &runtime_dir, &envs_dir)
                });
                let sandbox = std::panic::catch_unwind(probe).unwrap_or_else(|_| {
                    Sandbox::unavailable("the isolation probe failed", runtime_dir.clone())
                });
                let _ = set.set(Arc::new(sandbox));
            });
        if let Err(e) = spawned {
            let why = format!("cannot start the isolation probe: {e}");
            let _ = cell.set(Arc::new(Sandbox::unavailable(&why, fallback)));
        }
        Probe(cell)
    }

    /// The sandbox if the probe has finished.
    pub fn ready(&self) -> Option<Arc<Sandbox>> {
        self.0.get().cloned()
    }

    /// The sandbox, waiting (blocking) for the probe if it still runs.
    pub fn wait(&self) -> Arc<Sandbox> {
        self.0.wait().clone()
    }
}

/// Where one environment's files are on the host.
pub struct EnvPaths<'a> {
    /// The environment's own directory (the new root's mount point is
    /// made in it).
    pub dir: &'a Path,
    pub task_root: &'a Path,
    pub opt: Option<&'a Path>,
    /// The size of its `/tmp`, in MiB (EphemeralStorage).
    pub tmp_mb: u32,
    /// Installations its runtime needs (the interpreter's): reached even
    /// below a directory the functions' uid cannot walk through.
    pub expose: &'a [PathBuf],
}

/// Paths as the function sees them.
#[derive(Debug, Clone)]
pub struct View {
    pub task_root: PathBuf,
    pub opt: Option<PathBuf>,
    pub runtime_dir: PathBuf,
    pub tmp: PathBuf,
    /// Host directories and where they appear (empty: not isolated).
    host: Vec<(PathBuf, PathBuf)>,
}

impl View {
    /// Where the host path `path` appears to the function.
    pub fn path(&self, path: &Path) -> PathBuf {
        for (host, seen) in &self.host {
            if let Ok(rel) = path.strip_prefix(host) {
                return if rel.as_os_str().is_empty() {
                    seen.clone()
                } else {
                    seen.join(rel)
                };
            }
        }
        path.to_path_buf()
    }
}

/// One environment's isolation, between `prepare` and its spawn.
pub struct Prepared {
    plan: Option<Arc<Plan>>,
    descriptions: Vec<String>,
    cgroup: Option<EnvCgroup>,
    /// The report pipe: read end, and the write end the child inherits.
    report: Option<(OwnedFd, OwnedFd)>,
}

/// What nimbus knows of a started environment.
#[derive(Debug)]
pub struct Started {
    /// The runtime's pid as nimbus sees it (the spawned process is its
    /// supervisor when isolated).
    pub runtime_pid: Option<i32>,
    pub cgroup: Option<EnvCgroup>,
}

impl Prepared {
    /// Makes `cmd`'s child isolate itself before it execs.
    pub fn install(&self, cmd: &mut std::process::Command) {
        if let Some(plan) = &self.plan {
            let plan = plan.clone();
            // SAFETY: `enter` only makes system calls on data prepared
            // beforehand (see namespaces.rs): safe between fork and exec.
            unsafe {
                cmd.pre_exec(move || plan.enter());
            }
        } else if let (Some(cgroup), Some((_, report))) = (&self.cgroup, &self.report) {
            let procs = cgroup.procs_file().to_owned();
            let report = report.as_raw_fd();
            // SAFETY: open, write and close on a path made beforehand.
            unsafe {
                cmd.pre_exec(move || {
                    namespaces::join_cgroup(&procs).map_err(|errno| {
                        let phase = Phase::Cgroup.code();
                        namespaces::report(report, namespaces::REPORT_FAILURE, phase, errno);
                        io::Error::from_raw_os_error(errno)
                    })
                });
            }
        }
    }

    /// After the spawn (`spawned`: the child's pid, if it started): the
    /// runtime's pid, or why isolating failed. A spawn that failed for
    /// another reason (the program does not exist) is the caller's to
    /// report.
    pub fn finish(mut self, spawned: Option<u32>) -> Result<Started, String> {
        // Isolated, the spawned process is the runtime's supervisor: the
        // runtime reports its own pid.
        let mut runtime_pid = match self.plan {
            Some(_) => None,
            None => spawned.map(|p| p as i32),
        };
        if let Some((read, write)) = self.report.take() {
            // The child holds its own copy until it execs; ours must go
            // for the pipe to end.
            drop(write);
            for (kind, a, b) in read_records(&read) {
                if kind == namespaces::REPORT_RUNTIME_PID {
                    runtime_pid = Some(a as i32);
                } else if kind == namespaces::REPORT_FAILURE {
                    return Err(format!(
                        "isolating the environment failed: cannot {}: {}",
                        self.describe(a),
                        io::Error::from_raw_os_error(b)
                    ));
                }
            }
        }
        Ok(Started {
            runtime_pid,
            cgroup: self.cgroup.take(),
        })
    }

    fn describe(&self, code: u32) -> String {
        let steps = self.plan.as_ref().map_or(0, |p| p.steps.len());
        let step = match Phase::from_code(code) {
            Some(Phase::Step(n)) => self.descriptions.get(n as usize),
            Some(Phase::Hide(n)) => self.descriptions.get(steps + n as usize),
            _ => None,
        };
        match (step, Phase::from_code(code)) {
            (Some(text), _) => text.clone(),
            (None, Some(phase)) => phase.describe().to_owned(),
            (None, None) => format!("complete step {code}"),
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(cgroup) = self.cgroup.take() {
            cgroup.remove();
        }
    }
}

/// nimbus's effective uid and gid.
fn own_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// The installations in `wanted` that `uid` and `gid` cannot reach on the
/// host, each with the first directory above it they cannot walk through.
/// The host's `/tmp`, `/proc` and `/dev` are never part of the function's
/// view, and the environment makes `/var` and `/opt` itself (0755): none of
/// those is covered.
fn exposures(wanted: &[PathBuf], (uid, gid): (u32, u32)) -> Vec<view::Exposure> {
    let mut out = Vec::new();
    for path in wanted {
        let Ok(path) = std::fs::canonicalize(path) else {
            continue;
        };
        let top = path.components().nth(1).map(|c| c.as_os_str().to_owned());
        if top.is_some_and(|t| ["tmp", "proc", "dev"].iter().any(|r| t == *r)) {
            continue;
        }
        let mut above: Vec<&Path> = path.ancestors().skip(1).collect();
        above.reverse(); // from "/" down
        let closed = above
            .into_iter()
            .filter(|dir| !matches!(dir.to_str(), Some("/" | "/var" | "/opt")))
            .find(|dir| !searchable(dir, uid, gid));
        if let Some(cover) = closed {
            let exposure = view::Exposure {
                cover: cover.to_path_buf(),
                path: path.clone(),
            };
            if !out.contains(&exposure) {
                out.push(exposure);
            }
        }
    }
    out
}

/// Whether `uid` (in group `gid` and no other) may walk through `dir`, by
/// its mode bits.
fn searchable(dir: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return true; // nothing to cover
    };
    let bit = if meta.uid() == uid {
        0o100
    } else if meta.gid() == gid {
        0o010
    } else {
        0o001
    };
    meta.mode() & bit != 0
}

/// The running binary, opened once (O_PATH, close-on-exec) so that its
/// forks can exec it whatever happens to its path or their mounts.
fn own_binary() -> Option<OwnedFd> {
    // SAFETY: open returns a new descriptor we then own, or -1.
    unsafe {
        let fd = libc::open(c"/proc/self/exe".as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
        (fd >= 0).then(|| OwnedFd::from_raw_fd(fd))
    }
}

/// A non-blocking, close-on-exec pipe for the child's reports.
fn report_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`, which we then own.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// The records waiting on the report pipe.
fn read_records(read: &OwnedFd) -> Vec<(u32, u32, i32)> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        // SAFETY: reading into a buffer we own, of its length.
        let n = unsafe { libc::read(read.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        if n > 0 {
            bytes.extend_from_slice(&chunk[..n as usize]);
            continue;
        }
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break; // end of pipe, or nothing more now (EAGAIN)
    }
    bytes
        .chunks_exact(namespaces::RECORD)
        .map(|r| {
            let word = |i: usize| [r[i], r[i + 1], r[i + 2], r[i + 3]];
            (
                u32::from_le_bytes(word(0)),
                u32::from_le_bytes(word(4)),
                i32::from_le_bytes(word(8)),
            )
        })
        .collect()
}

/// Creates a cgroup and moves a throw-away child into it: creating a
/// cgroup can succeed where joining it does not (delegation rules).
fn probe_cgroup(cgroups: &Cgroups) -> Result<(), String> {
    let cgroup = cgroups
        .create("probe", 64)
        .map_err(|e| format!("cannot create a cgroup with a memory limit: {e}"))?;
    let procs = cgroup.procs_file().to_owned();
    let mut cmd = std::process::Command::new("/");
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: open, write, close and _exit only.
    unsafe {
        cmd.pre_exec(move || match namespaces::join_cgroup(&procs) {
            Ok(()) => libc::_exit(0),
            Err(errno) => Err(io::Error::from_raw_os_error(errno)),
        });
    }
    let result = match cmd.spawn() {
        Ok(mut child) => match child.wait() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("the cgroup probe ended with {s}")),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(format!("cannot join a cgroup: {e}")),
    };
    cgroup.remove();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lambda_user() {
        assert_eq!(parse_user("993:990"), Ok((993, 990)));
        assert_eq!(parse_user("1000"), Ok((1000, 1000)));
        for bad in ["", "a", "1:", ":1", "1:2:3", "-1", "4294967295"] {
            assert!(parse_user(bad).is_err(), "{bad}");
        }
    }

    /// Only what the functions' uid cannot reach is covered, at the first
    /// closed directory down from `/`.
    #[test]
    fn covers_only_closed_directories() {
        use std::os::unix::fs::PermissionsExt;
        // Not under /tmp: the host's /tmp is never part of a view, so
        // nothing there is ever exposed.
        let Ok(dir) = tempfile::tempdir_in("/var/tmp") else {
            eprintln!("no /var/tmp to make the directories in");
            return;
        };
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let home = base.join("home");
        let install = home.join(".pyenv/versions/3.12.1");
        let open = base.join("usr-local/python");
        for d in [&install, &open] {
            std::fs::create_dir_all(d).unwrap();
        }
        let mode = |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
        mode(&home, 0o700).unwrap();
        // The temp dir's own ancestors are open to all (/var/tmp is 1777).
        mode(&base, 0o755).unwrap();
        let sandbox_user = (993, 990);
        let (uid, _) = own_ids();
        let got = exposures(&[install.clone(), open.clone()], sandbox_user);
        if uid == 993 {
            return; // the sandbox user itself owns the files: nothing closed
        }
        assert_eq!(
            got,
            vec![view::Exposure {
                cover: home.clone(),
                path: install.clone(),
            }]
        );
        // The owner walks through its own 0700 directory.
        let owner = (uid, 12345);
        assert!(exposures(std::slice::from_ref(&install), owner).is_empty());
        // So does a member of the group, when the group may.
        mode(&home, 0o710).unwrap();
        let (_, gid) = own_ids();
        assert!(exposures(&[install], (4242, gid)).is_empty());
        // Missing paths expose nothing, nor does anything in /tmp.
        assert!(exposures(&[base.join("nowhere")], sandbox_user).is_empty());
        let tmp = tempfile::tempdir().unwrap();
        let closed = tmp.path().join("closed");
        std::fs::create_dir_all(closed.join("python")).unwrap();
        mode(&closed, 0o700).unwrap();
        assert!(exposures(&[closed.join("python")], sandbox_user).is_empty());
    }

    /// One test, not several: sandboxes of one process share its parent
    /// cgroup. The test binary does not offer the helper roles, so this
    /// runs the supervisor and init as plain forks (the server's re-executed
    /// helpers are tested through the compat suite).
    #[test]
    fn probes_and_runs_a_command_isolated() {
        let dir = tempfile::tempdir().unwrap();
        let (runtime, envs, task) = (
            dir.path().join("runtimes"),
            dir.path().join("envs"),
            dir.path().join("task"),
        );
        for d in [&runtime, &envs, &task] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(task.join("code.txt"), "code\n").unwrap();

        let none = Options {
            mode: Mode::None,
            ..Options::default()
        };
        let off = Sandbox::new(&none, &[], &runtime, &envs);
        assert!(!off.isolated());
        let (uid, gid) = own_ids();
        assert_eq!(
            off.status().summary,
            format!("functions not isolated: --lambda-isolation none; memory limited by sampling; running as nimbus's uid {uid}; /tmp not limited to EphemeralStorage")
        );
        assert_eq!((off.status().uid, off.status().gid), (uid, gid));
        assert!(!off.status().tmp_limited);

        let sandbox = Sandbox::new(
            &Options::default(),
            &[dir.path().to_path_buf()],
            &runtime,
            &envs,
        );
        let status = sandbox.status();
        assert_eq!(status.namespaces.is_some(), sandbox.isolated());
        assert!(
            !envs.join(".probe").exists(),
            "the probe left its directory"
        );
        if !sandbox.isolated() {
            // This machine cannot isolate: the summary says why.
            assert!(status.summary.starts_with("functions not isolated: "));
            return;
        }
        assert!(status.summary.starts_with("functions isolated: "));
        assert!(status
            .summary
            .ends_with(", /tmp limited to EphemeralStorage"));
        assert!(status.tmp_limited);
        // As root, the runtime leaves root for AWS's sandbox user.
        let expected_ids = if uid == 0 { DEFAULT_USER } else { (uid, gid) };
        assert_eq!((status.uid, status.gid), expected_ids, "{}", status.summary);

        let env_dir = envs.join("t-1");
        std::fs::create_dir_all(&env_dir).unwrap();
        let paths = EnvPaths {
            dir: &env_dir,
            task_root: &task,
            opt: None,
            tmp_mb: 3,
            expose: &[],
        };
        let prepared = sandbox.prepare(&paths, "t-1", 64).unwrap();
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.args([
            "-c",
            "echo $$; cat code.txt; touch /var/task/new 2>/dev/null && echo writable || echo read-only; \
             ls -A /tmp; ls -A /proc | grep -c '^[0-9]'; id -u; id -g; \
             stat -f -c '%b %S' /tmp; \
             head -c 4194304 /dev/zero > /tmp/big 2>/dev/null && echo fits || echo full; \
             exit 3",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
        prepared.install(&mut cmd);
        let child = cmd.spawn().unwrap();
        let child_pid = child.id();
        let started = prepared.finish(Some(child_pid)).unwrap();
        let out = child.wait_with_output().unwrap();
        // The spawned supervisor ends as the runtime did.
        assert_eq!(out.status.code(), Some(3));
        // PID 2 under an init nobody sees; the code read-only in the cwd;
        // an empty /tmp; its own processes only (sh, and ls, grep); the
        // sandbox's uid and gid; a 3 MiB /tmp, which 4 MiB do not fit in.
        let (tmp_blocks, tmp_block_size) = (3 * 1024 * 1024 / 4096, 4096);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "2\ncode\nread-only\n3\n{}\n{}\n{tmp_blocks} {tmp_block_size}\nfull\n",
                expected_ids.0, expected_ids.1
            )
        );
        assert!(started.runtime_pid.is_some_and(|p| p != child_pid as i32));
        if let Some(cgroup) = started.cgroup {
            cgroup.remove();
        }
    }
}
