//! Memory limits through cgroups: one cgroup per execution environment,
//! limited to the function's MemorySize, under a parent cgroup of this
//! nimbus process (`nimbus-lambda-<pid>`, next to nimbus in its own cgroup).
//!
//! Both hierarchies are handled: cgroup v2 (one unified tree whose
//! `cgroup.controllers` lists `memory`) and cgroup v1 (a `memory`
//! controller mounted on its own). v2 is preferred when its memory
//! controller is available to nimbus. `--lambda-cgroup-root` names the
//! cgroup to work under instead (a delegated v2 subtree, say); its
//! hierarchy is told by the file system it is on.
//!
//! A controller belongs to one hierarchy at a time: where a v1 hierarchy
//! holds `memory` (hybrid systems, this project's test machines), the v2
//! tree lists no `memory` in `cgroup.controllers` and cannot limit memory,
//! and the kernel moves the controller to v2 only once that v1 hierarchy
//! has no cgroups left.
//!
//! The environment's process joins its cgroup itself, before it starts the
//! runtime (see `namespaces.rs` and the plain spawn in `mod.rs`), by writing
//! `0` to the cgroup's `tasks` (v1) or `cgroup.procs` (v2): everything the
//! runtime ever allocates is charged to that cgroup, and its children
//! inherit it.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which cgroup hierarchy holds the memory controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn label(self) -> &'static str {
        match self {
            Version::V1 => "cgroup v1",
            Version::V2 => "cgroup v2",
        }
    }
}

/// This nimbus's parent cgroup for environments.
#[derive(Debug)]
pub struct Cgroups {
    version: Version,
    parent: PathBuf,
}

/// The prefix of every parent cgroup nimbus creates.
const PARENT_PREFIX: &str = "nimbus-lambda-";

impl Cgroups {
    /// Finds a memory controller nimbus may use and creates its parent
    /// cgroup (removing the empty ones of nimbus processes that are gone).
    /// The error says why memory cannot be limited with a cgroup.
    pub fn open() -> Result<Cgroups, String> {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let membership = fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let mounts = parse_mounts(&mountinfo);
        let mut reasons = Vec::new();
        for version in [Version::V2, Version::V1] {
            let Some(base) = own_cgroup(&mounts, &membership, version) else {
                continue;
            };
            match Cgroups::under(&base, version) {
                Ok(cgroups) => return Ok(cgroups),
                Err(e) => reasons.push(e),
            }
        }
        if reasons.is_empty() {
            reasons.push("no cgroup memory controller is mounted".into());
        }
        Err(reasons.join("; "))
    }

    /// The memory cgroup `root` (`--lambda-cgroup-root`): the parent of
    /// environments' cgroups is made under it. The error says why it
    /// cannot limit memory.
    pub fn open_at(root: &Path) -> Result<Cgroups, String> {
        let shown = root.display();
        let version = match fs_magic(root) {
            Ok(CGROUP2_SUPER_MAGIC) => Version::V2,
            Ok(CGROUP_SUPER_MAGIC) => Version::V1,
            Ok(_) => return Err(format!("{shown} is not in a cgroup file system")),
            Err(e) => return Err(format!("cannot use {shown} as the cgroup root: {e}")),
        };
        match version {
            Version::V2 => {
                let controllers = fs::read_to_string(root.join("cgroup.controllers"))
                    .map_err(|e| format!("cannot read {shown}/cgroup.controllers: {e}"))?;
                if !controllers.split_whitespace().any(|c| c == "memory") {
                    let held = match v1_memory_hierarchy() {
                        Some(id) => format!(
                            "; the memory controller is attached to cgroup v1 hierarchy {id} (/proc/cgroups)"
                        ),
                        None => String::new(),
                    };
                    return Err(format!(
                        "cgroup v2 at {shown} has no memory controller (cgroup.controllers: \"{}\"){held}",
                        controllers.trim()
                    ));
                }
            }
            Version::V1 => {
                if !root.join("memory.limit_in_bytes").exists() {
                    return Err(format!(
                        "{shown} is a cgroup v1 directory without the memory controller"
                    ));
                }
            }
        }
        Cgroups::under(root, version)
    }

    /// The parent cgroup for environments under `base`, a cgroup of the
    /// `version` hierarchy with the memory controller.
    fn under(base: &Path, version: Version) -> Result<Cgroups, String> {
        let parent = match version {
            Version::V2 => prepare_v2(base)?,
            Version::V1 => prepare_parent(base)?,
        };
        Ok(Cgroups { version, parent })
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// A new cgroup named `name` limited to `memory_mb` MiB, without swap.
    pub fn create(&self, name: &str, memory_mb: u32) -> io::Result<EnvCgroup> {
        let dir = self.parent.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            // Left by an environment whose cleanup has not finished.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        // How a process joins: writing 0 moves the writer. v1's `tasks`
        // moves one thread, which for a process that has just forked (one
        // thread) is the whole process, and for the writer itself needs no
        // global lock; `cgroup.procs` moves a thread group under a lock
        // whose every write waits for an RCU grace period (about 10 ms,
        // measured on every cold start). v2 moves processes only.
        let join = match self.version {
            Version::V1 => "tasks",
            Version::V2 => "cgroup.procs",
        };
        let cgroup = EnvCgroup {
            version: self.version,
            procs: CString::new(dir.join(join).as_os_str().as_bytes())
                .map_err(|_| io::Error::other("cgroup path contains a NUL byte"))?,
            dir,
        };
        let bytes = u64::from(memory_mb) * 1024 * 1024;
        match self.version {
            Version::V2 => {
                write(&cgroup.dir, "memory.max", &bytes.to_string())?;
                // No swap: a function over its memory is killed, as on AWS,
                // not slowed down by swapping. Absent without swap accounting.
                write_optional(&cgroup.dir, "memory.swap.max", "0")?;
                // Kill the whole environment, not only its largest process.
                write_optional(&cgroup.dir, "memory.oom.group", "1")?;
            }
            Version::V1 => {
                write(&cgroup.dir, "memory.limit_in_bytes", &bytes.to_string())?;
                // memory+swap may not be below memory: set after it.
                write_optional(
                    &cgroup.dir,
                    "memory.memsw.limit_in_bytes",
                    &bytes.to_string(),
                )?;
            }
        }
        Ok(cgroup)
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        // Fails while environments are still being cleaned up; the next
        // nimbus removes what is left (see `remove_stale`).
        let _ = fs::remove_dir(&self.parent);
    }
}

/// One environment's cgroup.
#[derive(Debug)]
pub struct EnvCgroup {
    version: Version,
    dir: PathBuf,
    procs: CString,
}

impl EnvCgroup {
    /// The file a process (with one thread) writes `0` to in order to
    /// join.
    pub fn procs_file(&self) -> &std::ffi::CStr {
        &self.procs
    }

    /// Whether the kernel's OOM killer killed a process of this cgroup for
    /// reaching the limit.
    pub fn oom_killed(&self) -> bool {
        let (file, key) = match self.version {
            Version::V2 => ("memory.events", "oom_kill"),
            Version::V1 => ("memory.oom_control", "oom_kill"),
        };
        let counter = fs::read_to_string(self.dir.join(file))
            .ok()
            .and_then(|text| keyed_value(&text, key));
        match counter {
            Some(n) => n > 0,
            // Kernels before 4.13 have no oom_kill counter in v1: hitting
            // the limit at all is the best sign left.
            None => fs::read_to_string(self.dir.join("memory.failcnt"))
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .is_some_and(|n| n > 0),
        }
    }

    /// Removes the cgroup once its processes are gone (they may still be
    /// exiting after a kill). Blocking: at most about two seconds.
    pub fn remove(&self) {
        for _ in 0..100 {
            match fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return,
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        tracing::debug!(
            "lambda: cgroup {} still busy; left for the next start",
            self.dir.display()
        );
    }
}

/// A mount from `/proc/self/mountinfo`: where, which file system type,
/// which super options (v1 controllers are named there).
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    point: PathBuf,
    fs_type: String,
    super_options: String,
}

/// Mount point, type and super options of each line of a mountinfo file.
fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            // `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER`
            let (head, tail) = line.split_once(" - ")?;
            let point = head.split(' ').nth(4)?;
            let mut tail = tail.split(' ');
            let fs_type = tail.next()?.to_owned();
            let _source = tail.next();
            let super_options = tail.next().unwrap_or("").to_owned();
            Some(Mount {
                point: PathBuf::from(unescape_mount_path(point)),
                fs_type,
                super_options,
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mount_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)) && d[0] <= b'3');
        if let (b'\\', Some(d)) = (bytes[i], octal) {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The directory of nimbus's own cgroup in the hierarchy that has the
/// memory controller, if that hierarchy is mounted.
fn own_cgroup(mounts: &[Mount], membership: &str, version: Version) -> Option<PathBuf> {
    let mount = mounts.iter().find(|m| match version {
        Version::V2 => m.fs_type == "cgroup2",
        Version::V1 => m.fs_type == "cgroup" && m.super_options.split(',').any(|o| o == "memory"),
    })?;
    // `/proc/self/cgroup`: `ID:CONTROLLERS:PATH`; v2 is `0::PATH`.
    let path = membership.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        let matches = match version {
            Version::V2 => id == "0" && controllers.is_empty(),
            Version::V1 => controllers.split(',').any(|c| c == "memory"),
        };
        matches.then_some(path)
    })?;
    let dir = mount.point.join(path.trim_start_matches('/'));
    if version == Version::V2 {
        // A hybrid system mounts v2 with no controllers in it.
        let controllers = fs::read_to_string(dir.join("cgroup.controllers")).ok()?;
        if !controllers.split_whitespace().any(|c| c == "memory") {
            return None;
        }
    }
    Some(dir)
}

/// cgroup v2 only lets a cgroup's children use a controller its parent
/// enables in `cgroup.subtree_control`, and a cgroup with processes in it
/// cannot enable one (the "no internal processes" rule). nimbus's own
/// cgroup usually holds nimbus: when it holds nothing else, nimbus moves
/// into a leaf of its own (`nimbus-server`) and enables memory for its
/// siblings, as a service with a delegated cgroup is expected to.
fn prepare_v2(base: &Path) -> Result<PathBuf, String> {
    let enabled = |dir: &Path| {
        fs::read_to_string(dir.join("cgroup.subtree_control"))
            .is_ok_and(|t| t.split_whitespace().any(|c| c == "memory"))
    };
    if !enabled(base) {
        let enable = || write(base, "cgroup.subtree_control", "+memory");
        if enable().is_err() {
            let procs = fs::read_to_string(base.join("cgroup.procs")).unwrap_or_default();
            let me = std::process::id().to_string();
            let alone = procs.lines().all(|p| p.trim() == me);
            if !alone {
                return Err(format!(
                    "cgroup v2: {} holds other processes, so its memory controller cannot be enabled for nimbus's environments (run nimbus in a cgroup of its own, e.g. a systemd service with Delegate=yes)",
                    base.display()
                ));
            }
            let leaf = base.join("nimbus-server");
            let moved = fs::create_dir_all(&leaf)
                .and_then(|()| write(&leaf, "cgroup.procs", &me))
                .and_then(|()| enable());
            moved.map_err(|e| {
                format!(
                    "cgroup v2: cannot enable the memory controller under {}: {e}",
                    base.display()
                )
            })?;
        }
    }
    let parent = prepare_parent(base)?;
    if !enabled(&parent) {
        write(&parent, "cgroup.subtree_control", "+memory").map_err(|e| {
            format!(
                "cgroup v2: cannot enable memory under {}: {e}",
                parent.display()
            )
        })?;
    }
    Ok(parent)
}

/// Creates `base/nimbus-lambda-<pid>` after removing those of nimbus
/// processes that no longer run.
fn prepare_parent(base: &Path) -> Result<PathBuf, String> {
    remove_stale(base);
    let parent = base.join(format!("{PARENT_PREFIX}{}", std::process::id()));
    match fs::create_dir(&parent) {
        Ok(()) => Ok(parent),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(parent),
        Err(e) => Err(format!(
            "cannot create a cgroup under {}: {e}",
            base.display()
        )),
    }
}

/// Empty parent cgroups (and their empty children) whose nimbus is gone.
fn remove_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PARENT_PREFIX))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks that the process exists.
        let alive = pid > 0
            && (unsafe { libc::kill(pid, 0) } == 0
                || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM));
        if alive {
            continue;
        }
        if let Ok(children) = fs::read_dir(entry.path()) {
            for child in children.flatten() {
                if child.file_type().is_ok_and(|t| t.is_dir()) {
                    let _ = fs::remove_dir(child.path());
                }
            }
        }
        let _ = fs::remove_dir(entry.path());
    }
}

/// `statfs` magic numbers (`<linux/magic.h>`).
const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// The type of the file system `path` is on.
fn fs_magic(path: &Path) -> io::Result<i64> {
    let path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("the path contains a NUL byte"))?;
    // SAFETY: statfs fills the zeroed struct we own from a NUL-terminated
    // path.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        if libc::statfs(path.as_ptr(), &mut st) != 0 {
            return Err(io::Error::last_os_error());
        }
        #[allow(clippy::unnecessary_cast)] // f_type's type differs by target
        Ok(st.f_type as i64)
    }
}

/// The v1 hierarchy holding the memory controller, per `/proc/cgroups`
/// (`None`: it is free for v2, or disabled, or unknown).
fn v1_memory_hierarchy() -> Option<u32> {
    let text = fs::read_to_string("/proc/cgroups").ok()?;
    memory_hierarchy(&text)
}

/// `/proc/cgroups`: `subsys_name hierarchy num_cgroups enabled` per line;
/// hierarchy 0 is v2 (or none).
fn memory_hierarchy(text: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        (fields.next()? == "memory")
            .then(|| fields.next()?.parse::<u32>().ok())
            .flatten()
            .filter(|h| *h != 0)
    })
}

fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    fs::write(dir.join(file), value)
}

/// Writes a control file that only some kernels or configurations have.
fn write_optional(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    match fs::write(dir.join(file), value) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The number after `key` in a `key value` per line file.
fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 0:40 / /mnt/with\\040space rw shared:4 - tmpfs tmpfs rw
";

    #[test]
    fn reads_mountinfo() {
        let mounts = parse_mounts(MOUNTINFO);
        assert_eq!(mounts.len(), 6);
        assert_eq!(mounts[2].point, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(mounts[2].fs_type, "cgroup");
        assert_eq!(mounts[2].super_options, "rw,memory");
        assert_eq!(mounts[5].point, PathBuf::from("/mnt/with space"));
        assert_eq!(mounts[5].fs_type, "tmpfs");
    }

    #[test]
    fn finds_the_v1_memory_cgroup() {
        let mounts = parse_mounts(MOUNTINFO);
        let membership = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
        assert_eq!(
            own_cgroup(&mounts, membership, Version::V1),
            Some(PathBuf::from("/sys/fs/cgroup/memory/process_api/abc"))
        );
        // Controllers listed together (`cpu,memory`) count too.
        let joint = "4:cpu,memory:/x\n";
        assert_eq!(
            own_cgroup(&mounts, joint, Version::V1),
            Some(PathBuf::from("/sys/fs/cgroup/memory/x"))
        );
        assert_eq!(own_cgroup(&mounts, "1:cpu:/\n", Version::V1), None);
    }

    #[test]
    fn reads_counters() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(keyed_value(v1, "oom_kill"), Some(2));
        let v2 = "low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed_value(v2, "oom_kill"), Some(1));
        assert_eq!(keyed_value(v2, "oom"), Some(1));
        assert_eq!(keyed_value("oom 3\n", "oom_kill"), None);
    }

    #[test]
    fn reads_which_hierarchy_holds_memory() {
        let hybrid = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nmemory\t4\t18\t1\nhugetlb\t0\t1\t1\n";
        assert_eq!(memory_hierarchy(hybrid), Some(4));
        let unified = "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t40\t1\n";
        assert_eq!(memory_hierarchy(unified), None);
    }

    /// The v2 files nimbus writes and reads, in a directory laid out as a
    /// delegated v2 cgroup (a fixture: on this project's machines the v2
    /// tree has no memory controller; see `open_at`).
    #[test]
    fn writes_and_reads_the_v2_files() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let me = std::process::id();
        fs::write(base.join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
        fs::write(base.join("cgroup.subtree_control"), "").unwrap();
        fs::write(base.join("cgroup.procs"), format!("{me}\n")).unwrap();

        let cgroups = Cgroups::under(base, Version::V2).unwrap();
        assert_eq!(cgroups.version(), Version::V2);
        // Memory enabled for nimbus's parent and, in it, for environments.
        let parent = base.join(format!("{PARENT_PREFIX}{me}"));
        let read = |p: &Path| fs::read_to_string(p).unwrap();
        assert_eq!(read(&base.join("cgroup.subtree_control")), "+memory");
        assert_eq!(read(&parent.join("cgroup.subtree_control")), "+memory");

        let env = cgroups.create("f-1", 128).unwrap();
        let env_dir = parent.join("f-1");
        assert_eq!(read(&env_dir.join("memory.max")), "134217728");
        assert_eq!(read(&env_dir.join("memory.swap.max")), "0");
        assert_eq!(read(&env_dir.join("memory.oom.group")), "1");
        assert_eq!(
            env.procs_file().to_bytes(),
            env_dir.join("cgroup.procs").as_os_str().as_bytes()
        );
        // memory.events: `oom` counts limit hits, `oom_kill` kills.
        fs::write(
            env_dir.join("memory.events"),
            "low 0\nhigh 0\nmax 9\noom 1\noom_kill 0\noom_group_kill 0\n",
        )
        .unwrap();
        assert!(!env.oom_killed());
        fs::write(
            env_dir.join("memory.events"),
            "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 1\n",
        )
        .unwrap();
        assert!(env.oom_killed());
        // A cgroup directory's files go with it; here they are plain files.
        for entry in fs::read_dir(&env_dir).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        env.remove();
        assert!(!env_dir.exists());
    }

    /// The "no internal processes" rule: a v2 cgroup holding processes
    /// cannot enable a controller for its children; nimbus moves itself
    /// out only when it is alone there, and otherwise says what to do.
    #[test]
    fn says_why_a_busy_v2_cgroup_cannot_delegate() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        fs::write(base.join("cgroup.controllers"), "memory\n").unwrap();
        // Writing fails (as the kernel refuses with EBUSY).
        fs::create_dir(base.join("cgroup.subtree_control")).unwrap();
        fs::write(
            base.join("cgroup.procs"),
            format!("1\n{}\n", std::process::id()),
        )
        .unwrap();
        let why = Cgroups::under(base, Version::V2).unwrap_err();
        assert!(why.contains("holds other processes"), "{why}");
        assert!(why.contains("Delegate=yes"), "{why}");
    }

    #[test]
    fn a_cgroup_root_must_be_a_memory_cgroup() {
        let dir = tempfile::tempdir().unwrap();
        let why = Cgroups::open_at(dir.path()).unwrap_err();
        assert!(why.ends_with("is not in a cgroup file system"), "{why}");
        let why = Cgroups::open_at(&dir.path().join("missing")).unwrap_err();
        assert!(why.starts_with("cannot use "), "{why}");
        // This machine's v2 tree, if it has no memory controller: the
        // reason names what it has, and who holds memory.
        let mounts = parse_mounts(&fs::read_to_string("/proc/self/mountinfo").unwrap());
        let Some(v2) = mounts.iter().find(|m| m.fs_type == "cgroup2") else {
            return;
        };
        let controllers = fs::read_to_string(v2.point.join("cgroup.controllers")).unwrap();
        if controllers.split_whitespace().any(|c| c == "memory") {
            return; // v2 can limit memory here: covered by the compat suite
        }
        let why = Cgroups::open_at(&v2.point).unwrap_err();
        assert!(why.contains("has no memory controller"), "{why}");
        assert!(
            why.contains(&format!("(cgroup.controllers: \"{}\")", controllers.trim())),
            "{why}"
        );
        if let Some(h) = v1_memory_hierarchy() {
            assert!(
                why.ends_with(&format!("cgroup v1 hierarchy {h} (/proc/cgroups)")),
                "{why}"
            );
        }
    }

    /// Joining by writing 0 to `cgroup.procs`, as an environment's process
    /// does between fork and exec, on this machine's real v2 tree (where it
    /// is mounted and nimbus may create cgroups in it: as root), and
    /// removing the cgroup once the process is gone.
    #[test]
    fn joins_and_leaves_a_real_v2_cgroup() {
        use std::os::unix::process::CommandExt;
        let mounts = parse_mounts(&fs::read_to_string("/proc/self/mountinfo").unwrap());
        let Some(v2) = mounts.iter().find(|m| m.fs_type == "cgroup2") else {
            eprintln!("no cgroup v2 mounted: nothing to join");
            return;
        };
        let name = format!("nimbus-test-join-{}", std::process::id());
        let dir = v2.point.join(&name);
        if let Err(e) = fs::create_dir(&dir) {
            eprintln!("cannot create a cgroup in {}: {e}", v2.point.display());
            return;
        }
        let cgroup = EnvCgroup {
            version: Version::V2,
            procs: CString::new(dir.join("cgroup.procs").as_os_str().as_bytes()).unwrap(),
            dir: dir.clone(),
        };
        let procs = cgroup.procs_file().to_owned();
        let mut cmd = std::process::Command::new("cat");
        cmd.arg("/proc/self/cgroup");
        // SAFETY: open, write and close on a path made beforehand.
        unsafe {
            cmd.pre_exec(move || {
                super::super::namespaces::join_cgroup(&procs).map_err(io::Error::from_raw_os_error)
            });
        }
        let out = cmd.output();
        let membership = out
            .as_ref()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        cgroup.remove();
        let removed = !dir.exists();
        let membership = membership.unwrap();
        assert!(
            membership.lines().any(|l| l == format!("0::/{name}")),
            "{membership}"
        );
        assert!(removed, "the cgroup outlived its process");
    }
}
