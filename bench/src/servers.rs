//! Servers the benchmark starts itself (nimbus and its peers), each on its
//! own loopback port: how long each takes to answer its first request, and
//! how much memory it holds idle and under load.
//!
//! A server that cannot be started is kept as a [`Server`] with an
//! `unavailable` reason, so the report says so instead of dropping it.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::client::{Connection, Endpoint, Outcome};
use crate::sign::Signer;
use crate::workloads::{Service, Workload};

/// How to run one server.
#[derive(Clone, Debug)]
pub enum Launch {
    /// `nimbus serve --bind ADDR --data-dir DIR` (durable mode: the default).
    Nimbus { bin: PathBuf },
    /// moto in server mode (in-memory).
    Moto { bin: PathBuf },
    /// dynalite under node (in-memory: no `--path`).
    Dynalite { node: PathBuf, cli: PathBuf },
    /// A server someone else started; startup and memory are not measured.
    External { endpoint: Endpoint },
}

/// Which server a [`Server`] is, for what it can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Nimbus,
    Moto,
    Dynalite,
    /// Started by someone else: every workload is tried.
    External,
}

impl Kind {
    fn of(launch: &Launch) -> Kind {
        match launch {
            Launch::Nimbus { .. } => Kind::Nimbus,
            Launch::Moto { .. } => Kind::Moto,
            Launch::Dynalite { .. } => Kind::Dynalite,
            Launch::External { .. } => Kind::External,
        }
    }

    /// Why this server cannot run `workload` at all, so the report says so
    /// instead of showing a failure or made-up numbers.
    pub fn cannot_run(self, workload: Workload) -> Option<&'static str> {
        match (self, workload.service()) {
            (Kind::Moto, Service::Lambda) => {
                Some("needs Docker (moto runs Lambda functions only in Docker containers)")
            }
            (Kind::Dynalite, Service::Sqs | Service::Lambda) => {
                Some("not applicable (dynalite serves only DynamoDB)")
            }
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Startup {
    /// Spawn to the first HTTP response to a signed DynamoDB ListTables.
    pub ready_ms: Option<f64>,
    /// Spawn to the `listening on` line (nimbus only).
    pub listening_line_ms: Option<f64>,
    /// Resident memory of the process tree right after it became ready.
    pub rss_idle_kib: Option<u64>,
    /// Highest resident memory sampled while a measured run was going on.
    pub rss_peak_load_kib: Option<u64>,
}

pub struct Server {
    pub name: String,
    pub kind: Kind,
    pub endpoint: Option<Endpoint>,
    pub unavailable: Option<String>,
    pub startup: Startup,
    pub pid: Option<u32>,
    child: Option<Child>,
}

const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// Asks the OS for a free loopback port. Another process could take it
/// before the server binds it; on this machine that race is negligible and
/// the startup error would say so.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    pub fn unavailable(name: &str, why: impl Into<String>) -> Server {
        Server {
            name: name.to_owned(),
            kind: Kind::External,
            endpoint: None,
            unavailable: Some(why.into()),
            startup: Startup::default(),
            pid: None,
            child: None,
        }
    }

    /// Starts `launch` and waits, bounded, until it answers. `work_dir` holds
    /// its log and (for nimbus) its data directory.
    pub async fn start(name: &str, launch: &Launch, work_dir: &Path) -> Server {
        match Self::try_start(name, launch, work_dir).await {
            Ok(s) => s,
            Err(why) => Server::unavailable(name, why),
        }
    }

    async fn try_start(name: &str, launch: &Launch, work_dir: &Path) -> Result<Server, String> {
        if let Launch::External { endpoint } = launch {
            return Ok(Server {
                name: name.to_owned(),
                kind: Kind::External,
                endpoint: Some(endpoint.clone()),
                unavailable: None,
                startup: Startup::default(),
                pid: None,
                child: None,
            });
        }
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let bind = addr.to_string();
        let mut cmd = match launch {
            Launch::Nimbus { bin } => {
                let data = work_dir.join(format!("{name}-data"));
                std::fs::create_dir_all(&data).map_err(|e| format!("data dir: {e}"))?;
                let mut c = Command::new(bin);
                c.arg("serve")
                    .arg("--bind")
                    .arg(&bind)
                    .arg("--data-dir")
                    .arg(&data);
                if let Some(path) = path_without_shims() {
                    c.env("PATH", path);
                }
                c
            }
            Launch::Moto { bin } => {
                let mut c = Command::new(bin);
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                c
            }
            Launch::Dynalite { node, cli } => {
                let mut c = Command::new(node);
                c.arg(cli)
                    .args(["--host", "127.0.0.1", "--port", &port.to_string()]);
                c
            }
            Launch::External { .. } => unreachable!("handled above"),
        };
        let log_path = work_dir.join(format!("{name}.log"));
        let log = File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("could not start {:?}: {e}", cmd.as_std().get_program()))?;
        let pid = child.id();
        let endpoint = Endpoint::from_addr(addr);
        let signer = Signer::new("dynamodb", &endpoint.host);
        let watch_line = matches!(launch, Launch::Nimbus { .. });
        let mut startup = Startup::default();
        loop {
            let elapsed = spawned.elapsed();
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "exited during startup ({status}); log: {}",
                    tail(&log_path)
                ));
            }
            if elapsed > STARTUP_LIMIT {
                let _ = child.start_kill();
                return Err(format!(
                    "not ready after {} s; log: {}",
                    STARTUP_LIMIT.as_secs(),
                    tail(&log_path)
                ));
            }
            if watch_line
                && startup.listening_line_ms.is_none()
                && std::fs::read_to_string(&log_path).is_ok_and(|s| s.contains("listening on"))
            {
                startup.listening_line_ms = Some(ms(spawned.elapsed()));
            }
            if probe(&endpoint, &signer).await {
                startup.ready_ms = Some(ms(spawned.elapsed()));
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Give a logger a moment to flush its ready line before reading it.
        if watch_line && startup.listening_line_ms.is_none() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if std::fs::read_to_string(&log_path).is_ok_and(|s| s.contains("listening on")) {
                startup.listening_line_ms = startup.ready_ms;
            }
        }
        startup.rss_idle_kib = pid.and_then(tree_rss_kib);
        Ok(Server {
            name: name.to_owned(),
            kind: Kind::of(launch),
            endpoint: Some(endpoint),
            unavailable: None,
            startup,
            pid,
            child: Some(child),
        })
    }

    /// Why the server is no longer usable, if it has exited since startup.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.as_mut()?.try_wait() {
            Ok(Some(status)) => Some(format!("server exited ({status})")),
            _ => None,
        }
    }

    pub fn note_load_rss(&mut self, kib: u64) {
        let peak = self.startup.rss_peak_load_kib.get_or_insert(0);
        *peak = (*peak).max(kib);
    }

    /// Stops the server (SIGKILL to its own process tree, by pid).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = self.pid {
                for d in descendants(pid) {
                    // std can only signal its own Child, so helper processes
                    // a server forked are ended by pid with kill(1).
                    let _ = std::process::Command::new("kill")
                        .arg("-9")
                        .arg(d.to_string())
                        .stderr(Stdio::null())
                        .status();
                }
            }
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
    }
}

/// `PATH` without version-manager shim directories (pyenv, rbenv, asdf:
/// `.../shims`), or `None` when there are none. nimbus finds `python3.N`
/// and `node` for Lambda environments on `PATH`; a shim is a shell script
/// that execs the real interpreter after asking the manager which one,
/// which adds about 100 ms to every environment start (or fails with exit
/// 127 for a version it does not select). That is the developer's shell,
/// not nimbus: the interpreters behind the shims stay reachable through
/// the system directories.
fn path_without_shims() -> Option<std::ffi::OsString> {
    let path = std::env::var_os("PATH")?;
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let kept: Vec<&PathBuf> = dirs.iter().filter(|d| !d.ends_with("shims")).collect();
    if kept.len() == dirs.len() {
        return None;
    }
    std::env::join_paths(kept).ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn tail(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    let start = lines.len().saturating_sub(5);
    let t = lines[start..].join(" | ");
    if t.is_empty() {
        "(empty)".into()
    } else {
        t
    }
}

/// True once the server gives any complete HTTP answer to a signed
/// ListTables: the listener is up and the request path works, whether or
/// not the server has a table yet.
async fn probe(endpoint: &Endpoint, signer: &Signer) -> bool {
    let Ok(mut conn) = Connection::open(endpoint).await else {
        return false;
    };
    let Ok(req) = signer.sign("DynamoDB_20120810.ListTables", Bytes::from_static(b"{}")) else {
        return false;
    };
    !matches!(
        conn.send(&req, Duration::from_secs(2)).await,
        Outcome::Transport(_)
    )
}

/// Resident memory (VmRSS) of `pid` and all its descendants, in KiB: a
/// launcher script or worker processes must not hide memory.
pub fn tree_rss_kib(pid: u32) -> Option<u64> {
    let own = rss_kib(pid)?;
    Some(
        own + descendants(pid)
            .into_iter()
            .filter_map(rss_kib)
            .sum::<u64>(),
    )
}

/// CPU time (user + system) `pid` and its descendants have used, in
/// seconds, from /proc/PID/stat (fields 14 and 15, in clock ticks).
pub fn tree_cpu_seconds(pid: u32) -> Option<f64> {
    let ticks = clock_ticks_per_second();
    let own = cpu_ticks(pid)?;
    let children: u64 = descendants(pid).into_iter().filter_map(cpu_ticks).sum();
    Some((own + children) as f64 / ticks)
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is
    // field 3, so utime (14) and stime (15) are the 12th and 13th here.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// USER_HZ: 100 on every Linux this runs on; `getconf` says for sure.
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Proportional set size of `pid` in KiB: its resident memory with each
/// shared page divided among the processes sharing it (from
/// /proc/PID/smaps_rollup), so summing it over many copies of one
/// interpreter does not count the interpreter's binary once per copy.
pub fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Every process's (pid, parent pid), from /proc/*/stat.
fn parents() -> Vec<(u32, u32)> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // The command name may contain spaces and parentheses: fields
            // after the last ')' are fixed: state, then ppid.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            if let Some(ppid) = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok())
            {
                parent_of.push((pid, ppid));
            }
        }
    }
    parent_of
}

/// The direct children of `root`.
pub fn children(root: u32) -> Vec<u32> {
    parents()
        .into_iter()
        .filter(|&(_, parent)| parent == root)
        .map(|(child, _)| child)
        .collect()
}

/// All descendants of `root`, from the parent pids in /proc/*/stat.
pub fn descendants(root: u32) -> Vec<u32> {
    let parent_of = parents();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parent_of {
            if parent == p && !out.contains(&child) {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_rss_is_readable() {
        let kib = tree_rss_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib}");
        let pss = pss_kib(std::process::id()).unwrap();
        assert!(pss > 100 && pss <= kib, "{pss} {kib}");
    }

    #[test]
    fn own_cpu_time_is_readable() {
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        let cpu = tree_cpu_seconds(std::process::id()).unwrap();
        assert!(cpu > 0.0, "{cpu}");
    }

    #[test]
    fn peers_say_which_workloads_they_cannot_run() {
        assert_eq!(Kind::Nimbus.cannot_run(Workload::LambdaColdStart), None);
        assert_eq!(
            Kind::Moto.cannot_run(Workload::LambdaInvokeWarm),
            Some("needs Docker (moto runs Lambda functions only in Docker containers)")
        );
        assert_eq!(Kind::Moto.cannot_run(Workload::SqsSendReceiveDelete), None);
        assert!(Kind::Dynalite
            .cannot_run(Workload::SqsSendReceiveDelete)
            .is_some());
        assert_eq!(Kind::Dynalite.cannot_run(Workload::DynamodbGet), None);
    }
}
