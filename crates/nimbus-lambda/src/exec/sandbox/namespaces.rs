//! What runs between fork and exec to put an execution environment in
//! mount and PID namespaces of its own. Everything here runs in a child of
//! a multi-threaded process, so it only makes system calls (no allocation,
//! no locks, no panics): every path and option is prepared beforehand, in
//! the [`Plan`], by the parent.
//!
//! Three processes per environment, all in one process group (so
//! `kill(-pgid)` stops the lot) and in the environment's cgroup:
//!
//! - **A, the supervisor**, is the process nimbus spawned. It joins the
//!   cgroup, unshares the mount and PID namespaces (`unshare` moves only
//!   future children into a new PID namespace, never the caller), forks B,
//!   then waits and exits exactly as the runtime did, so nimbus sees the
//!   runtime's own exit status ("exit status 3", "signal: killed").
//! - **B, the namespace's init (PID 1)**. When it dies the kernel kills
//!   every process left in the namespace, including a grandchild that
//!   called `setsid()` to leave the process group: that is what makes an
//!   environment's kill complete. It forks C and reaps orphans until C
//!   exits, then reports C's wait status to A through a pipe (init cannot
//!   die of a signal it sends itself).
//! - **C, the runtime**, builds the function's view of the file system,
//!   drops every capability, switches to the functions' unprivileged uid
//!   and gid when nimbus runs as root (see [`Plan::identity`]) and returns
//!   to std, which execs the runtime.
//!
//! Once they have forked, A and B exec the nimbus binary afresh in their
//! role (helper.rs) so as not to keep a copy of nimbus's memory; where the
//! binary does not offer the roles they run the same loops as forks.
//!
//! The file system the function sees is a fresh tmpfs root holding bind
//! mounts of the host's top-level directories, except: `/tmp` is a tmpfs of
//! the environment's own, sized to the function's EphemeralStorage (the
//! only writable place), `/var/task` is
//! the code, `/var/runtime` nimbus's bootstraps, `/opt` the layers, `/dev`
//! a handful of harmless devices, `/proc` a new procfs showing only the
//! namespace's processes, and nimbus's data directory is covered by an
//! empty tmpfs. Then every mount is made read-only (but `/tmp`), nosuid and
//! nodev (but `/dev`), in one `mount_setattr` call (Linux 5.12+).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;

use libc::{c_int, c_long, c_void};

/// One file system step, run by C in order before `pivot_root`. Paths are
/// host paths (the new root is not yet the root).
#[derive(Debug)]
pub enum Step {
    Mkdir(CString),
    /// An empty file to bind a file onto.
    Touch(CString),
    Symlink {
        target: CString,
        link: CString,
    },
    Bind {
        source: CString,
        target: CString,
        recursive: bool,
    },
    Tmpfs {
        target: CString,
        options: CString,
    },
    /// A procfs for the new PID namespace, read-only, with these options
    /// (`hidepid=2`: the function cannot see PID 1, B, which is not
    /// dumpable, at all).
    Proc {
        target: CString,
        options: CString,
    },
}

/// Where a set-up failed, sent to nimbus through the report pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Cgroup,
    Unshare,
    UserMaps,
    Pipe,
    Fork,
    Private,
    Step(u32),
    Pivot,
    Hide(u32),
    ReadOnly,
    Capabilities,
    WorkDir,
    Identity,
}

impl Phase {
    pub fn code(self) -> u32 {
        match self {
            Phase::Cgroup => 1,
            Phase::Unshare => 2,
            Phase::UserMaps => 3,
            Phase::Pipe => 4,
            Phase::Fork => 5,
            Phase::Private => 6,
            Phase::Pivot => 7,
            Phase::ReadOnly => 8,
            Phase::Capabilities => 9,
            Phase::WorkDir => 10,
            Phase::Identity => 11,
            Phase::Step(n) => 0x1_0000 + n,
            Phase::Hide(n) => 0x2_0000 + n,
        }
    }

    /// What the phase does, for error messages (steps are described by
    /// the plan's own descriptions).
    pub fn describe(self) -> &'static str {
        match self {
            Phase::Cgroup => "join the environment's cgroup",
            Phase::Unshare => "create the namespaces (unshare)",
            Phase::UserMaps => "map nimbus's uid into the user namespace",
            Phase::Pipe => "create a pipe",
            Phase::Fork => "fork",
            Phase::Private => "make the mounts private",
            Phase::Pivot => "switch to the new root (pivot_root)",
            Phase::ReadOnly => "make the mounts read-only (mount_setattr, Linux 5.12+)",
            Phase::Capabilities => "drop capabilities",
            Phase::WorkDir => "enter /var/task",
            Phase::Identity => {
                "switch to the functions' uid and gid (setgroups, setresgid, setresuid)"
            }
            Phase::Step(_) => "a file system step",
            Phase::Hide(_) => "hide a directory",
        }
    }

    pub fn from_code(code: u32) -> Option<Phase> {
        Some(match code {
            1 => Phase::Cgroup,
            2 => Phase::Unshare,
            3 => Phase::UserMaps,
            4 => Phase::Pipe,
            5 => Phase::Fork,
            6 => Phase::Private,
            7 => Phase::Pivot,
            8 => Phase::ReadOnly,
            9 => Phase::Capabilities,
            10 => Phase::WorkDir,
            11 => Phase::Identity,
            n if (0x1_0000..0x2_0000).contains(&n) => Phase::Step(n - 0x1_0000),
            n if (0x2_0000..0x3_0000).contains(&n) => Phase::Hide(n - 0x2_0000),
            _ => return None,
        })
    }
}

/// Maps for a user namespace (nimbus not running as root): the function
/// keeps nimbus's uid and gid, mapped onto themselves.
#[derive(Debug)]
pub struct UserMaps {
    pub uid_map: CString,
    pub gid_map: CString,
}

/// Everything the three processes need, prepared by the parent.
#[derive(Debug)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The tmpfs that becomes `/` (a host path; its mount is a step).
    pub new_root: CString,
    /// Paths, inside the new root, covered by an empty read-only tmpfs.
    pub hide: Vec<CString>,
    pub cgroup: Option<CString>,
    pub user: Option<UserMaps>,
    /// The uid and gid C switches to once the file system is built, when
    /// nimbus runs as root (`None`: the function keeps nimbus's uid, as in
    /// a user namespace, where nimbus is not root to begin with). Then the
    /// function owns none of nimbus's files, cannot signal any process but
    /// its own (B and A stay root), and reads only what any user may.
    pub identity: Option<(libc::uid_t, libc::gid_t)>,
    /// Write end of the report pipe (close-on-exec).
    pub report: RawFd,
    /// Stop once everything is set up (C exits 0 instead of exec'ing).
    pub probe_only: bool,
    /// An O_PATH descriptor of the nimbus binary, when it runs the helper
    /// roles (helper.rs): A and B exec it instead of staying copies of
    /// nimbus.
    pub helper: Option<RawFd>,
}

/// A record on the report pipe: what happened, two numbers.
pub const RECORD: usize = 12;
pub const REPORT_RUNTIME_PID: u32 = 1;
pub const REPORT_FAILURE: u32 = 2;

const TMP: &CStr = c"/tmp";
const DEV: &CStr = c"/dev";
const ROOT: &CStr = c"/";
const WORKDIR: &CStr = c"/var/task";

#[derive(Debug, Clone, Copy)]
struct Failure {
    phase: Phase,
    errno: c_int,
}

type Res = Result<(), Failure>;

fn errno() -> c_int {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(ret: c_long, phase: Phase) -> Res {
    if ret < 0 {
        Err(Failure {
            phase,
            errno: errno(),
        })
    } else {
        Ok(())
    }
}

impl Plan {
    /// Runs in A, the child std forked. Returns only in C, which std then
    /// execs (or, with an error, reports it through std's own pipe and
    /// exits). A and B never return: they supervise and exit.
    ///
    /// # Safety
    /// Only between fork and exec, in the child.
    pub unsafe fn enter(&self) -> io::Result<()> {
        match self.run() {
            Ok(()) => Ok(()),
            Err(f) => {
                self.send(REPORT_FAILURE, f.phase.code(), f.errno);
                Err(io::Error::from_raw_os_error(f.errno))
            }
        }
    }

    unsafe fn run(&self) -> Res {
        // --- A: the supervisor ---
        if let Some(procs) = &self.cgroup {
            // Before anything else, so B, C and all the runtime's children
            // are charged to the environment's cgroup.
            join_cgroup(procs).map_err(|errno| Failure {
                phase: Phase::Cgroup,
                errno,
            })?;
        }
        let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
        if self.user.is_some() {
            // Not root: a user namespace grants the capabilities the
            // mounts need, inside the namespaces only.
            flags |= libc::CLONE_NEWUSER;
        }
        check(libc::unshare(flags) as c_long, Phase::Unshare)?;
        if let Some(maps) = &self.user {
            // Required before an unprivileged process may write gid_map.
            write_file(c"/proc/self/setgroups", b"deny")
                .and_then(|()| write_file(c"/proc/self/uid_map", maps.uid_map.as_bytes()))
                .and_then(|()| write_file(c"/proc/self/gid_map", maps.gid_map.as_bytes()))
                .map_err(|errno| Failure {
                    phase: Phase::UserMaps,
                    errno,
                })?;
        }
        // B -> A: C's wait status. A -> B: nothing; B sees it close if A
        // dies (see below).
        let (status_r, status_w) = pipe()?;
        let (alive_r, alive_w) = pipe()?;
        let b = libc::fork();
        check(b as c_long, Phase::Fork)?;
        if b > 0 {
            supervise(b, status_r, alive_w, self.helper);
        }

        // --- B: PID 1 of the new namespace ---
        libc::close(status_r);
        libc::close(alive_w);
        // If A dies (nimbus died and took A with it), B must too, or the
        // namespace would outlive nimbus. A may already have died before
        // prctl took effect: then the pipe A alone holds open is closed.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        let mut poll = libc::pollfd {
            fd: alive_r,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut poll, 1, 0) > 0 && poll.revents & libc::POLLHUP != 0 {
            libc::_exit(1);
        }
        // Not dumpable: the function (same uid) can neither ptrace B nor
        // read its /proc files, which with hidepid=2 hides it entirely.
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong);
        let c = libc::fork();
        check(c as c_long, Phase::Fork)?;
        if c > 0 {
            init(c, status_w, self.helper);
        }

        // --- C: the runtime ---
        libc::close(status_w);
        libc::close(alive_r);
        self.report_own_pid();
        self.build_root()?;
        drop_privileges(self.identity).map_err(|(phase, errno)| Failure { phase, errno })?;
        check(libc::chdir(WORKDIR.as_ptr()) as c_long, Phase::WorkDir)?;
        if self.probe_only {
            libc::_exit(0);
        }
        Ok(())
    }

    /// C's host pid, for nimbus to read the runtime's memory in /proc: the
    /// host's procfs is still mounted at /proc here and names processes by
    /// their host pid.
    unsafe fn report_own_pid(&self) {
        let mut buf = [0u8; 16];
        let n = libc::readlink(c"/proc/self".as_ptr(), buf.as_mut_ptr().cast(), buf.len());
        if n <= 0 {
            return;
        }
        let mut pid: u32 = 0;
        for &d in &buf[..n as usize] {
            if !d.is_ascii_digit() {
                return;
            }
            pid = pid.saturating_mul(10).saturating_add(u32::from(d - b'0'));
        }
        self.send(REPORT_RUNTIME_PID, pid, 0);
    }

    /// The function's file system, then the switch to it.
    unsafe fn build_root(&self) -> Res {
        // Mounts made here must never propagate to the host (nor the
        // host's to us): make every mount in this namespace private.
        check(
            libc::mount(
                std::ptr::null(),
                ROOT.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) as c_long,
            Phase::Private,
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            step.run().map_err(|errno| Failure {
                phase: Phase::Step(i as u32),
                errno,
            })?;
        }
        // Make the new tmpfs the root and drop the host's root from this
        // namespace entirely (the pivot_root(".", ".") idiom: the old root
        // ends up stacked on "/" and is detached at once).
        let pivot = || -> Result<(), c_int> {
            if libc::chdir(self.new_root.as_ptr()) != 0
                || libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) != 0
                || libc::umount2(c".".as_ptr(), libc::MNT_DETACH) != 0
                || libc::chdir(ROOT.as_ptr()) != 0
            {
                return Err(errno());
            }
            Ok(())
        };
        pivot().map_err(|errno| Failure {
            phase: Phase::Pivot,
            errno,
        })?;
        for (i, path) in self.hide.iter().enumerate() {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::stat(path.as_ptr(), &mut st) != 0 {
                continue; // not visible in the new root anyway
            }
            let ret = libc::mount(
                c"tmpfs".as_ptr(),
                path.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                c"size=4k,mode=0755".as_ptr().cast(),
            );
            check(ret as c_long, Phase::Hide(i as u32))?;
        }
        // Everything read-only, nosuid and nodev; then /tmp writable and
        // /dev's devices usable again.
        let set = |path: &CStr, flags: c_int, set: u64, clear: u64| -> Result<(), c_int> {
            let attr = libc::mount_attr {
                attr_set: set,
                attr_clr: clear,
                propagation: 0,
                userns_fd: 0,
            };
            let ret = libc::syscall(
                libc::SYS_mount_setattr,
                libc::AT_FDCWD as c_long,
                path.as_ptr(),
                flags as c_long,
                &attr as *const libc::mount_attr,
                std::mem::size_of::<libc::mount_attr>(),
            );
            if ret != 0 {
                return Err(errno());
            }
            Ok(())
        };
        set(
            ROOT,
            libc::AT_RECURSIVE,
            libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV,
            0,
        )
        .and_then(|()| set(TMP, 0, 0, libc::MOUNT_ATTR_RDONLY))
        .and_then(|()| set(DEV, libc::AT_RECURSIVE, 0, libc::MOUNT_ATTR_NODEV))
        .map_err(|errno| Failure {
            phase: Phase::ReadOnly,
            errno,
        })
    }

    unsafe fn send(&self, kind: u32, a: u32, b: c_int) {
        report(self.report, kind, a, b);
    }
}

/// Writes one record on the report pipe `fd`; errors are ignored (nimbus
/// then knows less, nothing more).
///
/// # Safety
/// Async-signal-safe: usable between fork and exec.
pub unsafe fn report(fd: RawFd, kind: u32, a: u32, b: c_int) {
    let mut record = [0u8; RECORD];
    record[..4].copy_from_slice(&kind.to_le_bytes());
    record[4..8].copy_from_slice(&a.to_le_bytes());
    record[8..].copy_from_slice(&b.to_le_bytes());
    libc::write(fd, record.as_ptr().cast(), RECORD);
}

impl Step {
    unsafe fn run(&self) -> Result<(), c_int> {
        let ok = |ret: c_int| if ret == 0 { Ok(()) } else { Err(errno()) };
        match self {
            // A directory made here is ours (in the new root's tmpfs, or a
            // tmpfs covering a directory): 0755 whatever nimbus's umask, so
            // the functions' uid can walk through it. One that exists is a
            // host directory seen through a bind mount: left alone.
            Step::Mkdir(path) => match libc::mkdir(path.as_ptr(), 0o755) {
                0 => ok(libc::chmod(path.as_ptr(), 0o755)),
                _ if errno() == libc::EEXIST => Ok(()),
                _ => Err(errno()),
            },
            Step::Touch(path) => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                if fd < 0 {
                    return Err(errno());
                }
                libc::close(fd);
                Ok(())
            }
            Step::Symlink { target, link } => ok(libc::symlink(target.as_ptr(), link.as_ptr())),
            Step::Bind {
                source,
                target,
                recursive,
            } => {
                let rec = if *recursive { libc::MS_REC } else { 0 };
                ok(libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | rec,
                    std::ptr::null(),
                ))
            }
            Step::Tmpfs { target, options } => ok(libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                options.as_ptr().cast::<c_void>(),
            )),
            Step::Proc { target, options } => ok(libc::mount(
                c"proc".as_ptr(),
                target.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                options.as_ptr().cast::<c_void>(),
            )),
        }
    }
}

/// A, once B runs: holds nothing of nimbus's, waits for B, and exits as
/// the runtime did.
unsafe fn supervise(b: libc::pid_t, status_r: RawFd, alive_w: RawFd, helper: Option<RawFd>) -> ! {
    // A never execs the runtime, so it still holds every descriptor nimbus
    // had open when it forked (listening sockets, other environments'
    // pipes, std's exec-error pipe, which would keep nimbus's spawn()
    // waiting).
    close_fds_except(&mut [status_r, alive_w, helper.unwrap_or(-1)]);
    reset_signals();
    // And a copy of nimbus's memory, which it would keep for as long as the
    // environment lives as nimbus's own pages change: exec nimbus afresh
    // in its supervisor role (see helper.rs). `alive_w` stays open in it.
    if let Some(helper) = helper {
        exec_helper(helper, SUPERVISOR, b, status_r, alive_w);
    }
    supervise_loop(b, status_r)
}

/// Waits for B and exits as the runtime did.
///
/// # Safety
/// Async-signal-safe: usable between fork and exec.
pub unsafe fn supervise_loop(b: libc::pid_t, status_r: RawFd) -> ! {
    let mut own = 0;
    while libc::waitpid(b, &mut own, 0) < 0 {
        if errno() != libc::EINTR {
            libc::_exit(1);
        }
    }
    let mut bytes = [0u8; 4];
    let status = if read_exact(status_r, &mut bytes) {
        c_int::from_le_bytes(bytes)
    } else {
        own // B itself was killed (by nimbus, or the OOM killer)
    };
    exit_like(status)
}

/// B, once C runs: reaps every process of the namespace that ends up its
/// child, and when C exits reports how.
unsafe fn init(c: libc::pid_t, status_w: RawFd, helper: Option<RawFd>) -> ! {
    close_fds_except(&mut [status_w, helper.unwrap_or(-1)]);
    reset_signals();
    // B runs no code of the function's, but holds nothing it does not
    // need: no capabilities (before the exec, so the new image gets none),
    // and (exec) no copy of nimbus's memory. It keeps root's uid: the
    // function, another uid, can then neither signal nor trace it.
    let _ = drop_privileges(None);
    if let Some(helper) = helper {
        exec_helper(helper, INIT, c, status_w, -1);
    }
    init_loop(c, status_w)
}

/// Reaps every process of the namespace that ends up B's child; when C
/// exits, reports its wait status and exits (which kills the rest).
///
/// # Safety
/// Async-signal-safe: usable between fork and exec.
pub unsafe fn init_loop(c: libc::pid_t, status_w: RawFd) -> ! {
    loop {
        let mut status = 0;
        let pid = libc::waitpid(-1, &mut status, 0);
        if pid == c {
            let bytes = status.to_le_bytes();
            libc::write(status_w, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
        if pid < 0 && errno() != libc::EINTR {
            libc::_exit(1);
        }
    }
}

/// `argv[0]` of nimbus re-executed as an environment's supervisor or init.
pub const SUPERVISOR: &CStr = c"nimbus-lambda-supervisor";
pub const INIT: &CStr = c"nimbus-lambda-init";

/// Execs the nimbus binary (`helper`, an O_PATH descriptor of it) as
/// `role`, with `pid` and `fd` as its arguments, none of nimbus's
/// environment, and `fd` and `keep` left open. Returns only if the exec
/// failed.
unsafe fn exec_helper(helper: RawFd, role: &CStr, pid: libc::pid_t, fd: RawFd, keep: RawFd) {
    for open in [fd, keep] {
        if open >= 0 && libc::fcntl(open, libc::F_SETFD, 0) != 0 {
            return;
        }
    }
    let mut pid_text = [0u8; 16];
    let mut fd_text = [0u8; 16];
    decimal(pid as i64, &mut pid_text);
    decimal(fd as i64, &mut fd_text);
    let argv = [
        role.as_ptr(),
        pid_text.as_ptr().cast(),
        fd_text.as_ptr().cast(),
        std::ptr::null(),
    ];
    // No environment of nimbus's, but one allocator setting: the nimbus
    // binary allocates with mimalloc, which otherwise commits its first
    // arena at once (4 MiB per helper, two helpers per environment; 0.6
    // MiB without).
    let envp = [c"MIMALLOC_ARENA_EAGER_COMMIT=0".as_ptr(), std::ptr::null()];
    libc::syscall(
        libc::SYS_execveat,
        helper as c_long,
        c"".as_ptr(),
        argv.as_ptr(),
        envp.as_ptr(),
        libc::AT_EMPTY_PATH as c_long,
    );
}

/// `n` in decimal, NUL-terminated, into `out` (16 bytes hold any i64 we
/// pass: pids and descriptors).
fn decimal(mut n: i64, out: &mut [u8; 16]) {
    let mut digits = [0u8; 16];
    let mut len = 0;
    let negative = n < 0;
    loop {
        digits[len] = b'0' + (n % 10).unsigned_abs() as u8;
        len += 1;
        n /= 10;
        if n == 0 || len == digits.len() - 2 {
            break;
        }
    }
    let mut at = 0;
    if negative {
        out[0] = b'-';
        at = 1;
    }
    for i in (0..len).rev() {
        out[at] = digits[i];
        at += 1;
    }
    out[at] = 0;
}

/// Exits with the same status as a process whose wait status is `status`.
unsafe fn exit_like(status: c_int) -> ! {
    if libc::WIFEXITED(status) {
        libc::_exit(libc::WEXITSTATUS(status));
    }
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        // A copy of nimbus must not dump core for the runtime's crash (not
        // dumpable covers core_pattern pipes, which ignore RLIMIT_CORE).
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong);
        libc::signal(signal, libc::SIG_DFL);
        libc::kill(libc::getpid(), signal);
        libc::_exit(128 + signal);
    }
    libc::_exit(1)
}

/// Joins the cgroup whose `tasks` or `cgroup.procs` file is `procs`
/// (writing 0 moves the writer, which has one thread). Also used without
/// namespaces.
///
/// # Safety
/// Only between fork and exec, in the child.
pub unsafe fn join_cgroup(procs: &CStr) -> Result<(), c_int> {
    write_file(procs, b"0")
}

unsafe fn write_file(path: &CStr, bytes: &[u8]) -> Result<(), c_int> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return Err(errno());
    }
    let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    let result = if n == bytes.len() as isize {
        Ok(())
    } else {
        Err(errno())
    };
    libc::close(fd);
    result
}

unsafe fn pipe() -> Result<(RawFd, RawFd), Failure> {
    let mut fds = [0; 2];
    check(
        libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) as c_long,
        Phase::Pipe,
    )?;
    Ok((fds[0], fds[1]))
}

unsafe fn read_exact(fd: RawFd, buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        let n = libc::read(fd, buf[done..].as_mut_ptr().cast(), buf.len() - done);
        if n > 0 {
            done += n as usize;
        } else if n == 0 || errno() != libc::EINTR {
            return false;
        }
    }
    true
}

/// Closes every descriptor from 3 up but those in `keep`.
unsafe fn close_fds_except(keep: &mut [RawFd]) {
    keep.sort_unstable();
    let mut from: u32 = 3;
    for &fd in keep.iter() {
        let Ok(fd) = u32::try_from(fd) else { continue };
        if fd > from {
            close_range(from, fd - 1);
        }
        if fd >= from {
            from = fd + 1;
        }
    }
    close_range(from, u32::MAX);
}

unsafe fn close_range(first: u32, last: u32) {
    if libc::syscall(
        libc::SYS_close_range,
        c_long::from(first),
        c_long::from(last),
        0 as c_long,
    ) == 0
    {
        return;
    }
    // Before Linux 5.9: one by one, up to the descriptor limit.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
        limit.rlim_cur.min(65_536) as u32
    } else {
        1024
    };
    for fd in first..=last.min(max) {
        libc::close(fd as c_int);
    }
}

/// Default dispositions for every signal: A and B are copies of nimbus
/// and still carry its handlers (a SIGTERM must stop A, not run nimbus's
/// shutdown handler in it).
unsafe fn reset_signals() {
    for signal in 1..=64 {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
}

/// The highest capability number any kernel knows today is 40; the
/// bounding set is dropped up to 63 so newer ones go too.
const LAST_CAPABILITY: libc::c_ulong = 63;
/// From `<linux/prctl.h>` (not in the libc crate).
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Gives up every capability for good: the bounding set (so no exec can
/// regain one, not even of a setuid-root file), the ambient set, the
/// effective, permitted and inheritable sets, and sets no_new_privs.
/// Without CAP_SYS_ADMIN the function can undo none of the mounts, and
/// without CAP_DAC_OVERRIDE or CAP_SYS_PTRACE it reaches only what its uid
/// itself may.
///
/// With `identity`, it also becomes that uid and gid, with no supplementary
/// groups, between dropping the bounding set (which needs CAP_SETPCAP) and
/// clearing the other sets. Leaving uid 0 for another makes the kernel
/// clear the permitted and effective sets anyway; the explicit capset
/// below covers the case where the uid is 0 after all (`--lambda-user 0`).
/// The error names the phase that failed.
unsafe fn drop_privileges(
    identity: Option<(libc::uid_t, libc::gid_t)>,
) -> Result<(), (Phase, c_int)> {
    let caps = |errno| (Phase::Capabilities, errno);
    for cap in 0..=LAST_CAPABILITY {
        if libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong) != 0 && errno() != libc::EINVAL
        {
            return Err(caps(errno()));
        }
    }
    // EINVAL: a kernel without ambient capabilities (before 4.3).
    if libc::prctl(
        libc::PR_CAP_AMBIENT,
        PR_CAP_AMBIENT_CLEAR_ALL,
        0 as libc::c_ulong,
        0 as libc::c_ulong,
        0 as libc::c_ulong,
    ) != 0
        && errno() != libc::EINVAL
    {
        return Err(caps(errno()));
    }
    if let Some((uid, gid)) = identity {
        // Groups first: once the uid is not 0, they can no longer change.
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(gid, gid, gid) != 0
            || libc::setresuid(uid, uid, uid) != 0
        {
            return Err((Phase::Identity, errno()));
        }
    }
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let none = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    if libc::syscall(libc::SYS_capset, &header as *const CapHeader, none.as_ptr()) != 0 {
        return Err(caps(errno()));
    }
    if libc::prctl(
        libc::PR_SET_NO_NEW_PRIVS,
        1 as libc::c_ulong,
        0 as libc::c_ulong,
        0 as libc::c_ulong,
        0 as libc::c_ulong,
    ) != 0
    {
        return Err(caps(errno()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_without_allocating() {
        let text = |n| {
            let mut out = [0xffu8; 16];
            decimal(n, &mut out);
            CStr::from_bytes_until_nul(&out)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(text(0), "0");
        assert_eq!(text(7), "7");
        assert_eq!(text(4_194_304), "4194304");
        assert_eq!(text(-1), "-1");
    }

    #[test]
    fn phases_survive_the_pipe() {
        for phase in [
            Phase::Cgroup,
            Phase::Unshare,
            Phase::UserMaps,
            Phase::Pipe,
            Phase::Fork,
            Phase::Private,
            Phase::Step(0),
            Phase::Step(41),
            Phase::Pivot,
            Phase::Hide(2),
            Phase::ReadOnly,
            Phase::Capabilities,
            Phase::WorkDir,
            Phase::Identity,
        ] {
            assert_eq!(Phase::from_code(phase.code()), Some(phase));
        }
        assert_eq!(Phase::from_code(0), None);
        assert_eq!(Phase::from_code(0x9_0000), None);
    }
}
