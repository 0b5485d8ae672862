//! The file system an isolated function sees, as a list of steps (made
//! here, in the parent, where allocating and reading directories is
//! allowed) that the environment's process runs before `pivot_root`.
//!
//! The layout is AWS's where it matters to code: the function's code at
//! `/var/task`, the runtime at `/var/runtime`, layers at `/opt`, and `/tmp`
//! its only writable directory. Everything else is the host's, read-only:
//! the interpreters nimbus found may live anywhere (`/usr`, `/root/.pyenv`,
//! `/nix`), so every top-level directory is bound in as it is, except the
//! ones the environment replaces.
//!
//! When functions run as an unprivileged uid (nimbus is root), a host
//! directory that uid cannot walk through would hide the interpreter nimbus
//! runs it with (pyenv keeps its Pythons under `/root`, mode 0700). Such an
//! interpreter's installation is [`Exposure`]: the closed directory is
//! covered with an empty tmpfs holding just the path down to it, so the
//! function reaches the interpreter and nothing else that directory held.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::namespaces::Step;

/// Where things are inside the environment.
pub const TASK_ROOT: &str = "/var/task";
pub const RUNTIME_DIR: &str = "/var/runtime";
pub const OPT: &str = "/opt";
pub const TMP: &str = "/tmp";

/// Top-level directories the environment makes itself instead of binding
/// the host's.
const REPLACED: &[&str] = &["proc", "dev", "tmp", "var", "opt"];

/// Devices a program may expect; everything else in the host's /dev (disks
/// above all) stays out of reach.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// One directory entry of the host, as the plan needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: OsString,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink(PathBuf),
    /// Sockets, fifos, devices: not carried over.
    Other,
}

/// The entries of `dir` (empty if it cannot be read).
pub fn list(dir: &Path) -> Vec<Entry> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = entries
        .flatten()
        .filter_map(|e| {
            let kind = e.file_type().ok()?;
            let kind = if kind.is_symlink() {
                Kind::Symlink(std::fs::read_link(e.path()).ok()?)
            } else if kind.is_dir() {
                Kind::Dir
            } else if kind.is_file() {
                Kind::File
            } else {
                Kind::Other
            };
            Some(Entry {
                name: e.file_name(),
                kind,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// An installation the function must reach below a directory its uid
/// cannot walk through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The closed directory (a host path, below `/`).
    pub cover: PathBuf,
    /// The installation, below `cover`, bound in at its own path.
    pub path: PathBuf,
}

/// What one environment is built from.
pub struct Layout<'a> {
    /// The (host) mount point of the new root.
    pub new_root: &'a Path,
    /// Listings of the host's `/`, `/var` and `/opt`.
    pub host_root: &'a [Entry],
    pub host_var: &'a [Entry],
    pub host_opt: &'a [Entry],
    pub task_root: &'a Path,
    pub runtime_dir: &'a Path,
    /// The merged layers, and their top-level entries.
    pub layers: Option<(&'a Path, &'a [Entry])>,
    /// The size of `/tmp`, in MiB: the function's EphemeralStorage.
    pub tmp_mb: u32,
    /// Installations to reach through closed directories.
    pub exposures: &'a [Exposure],
    /// Mount options of the environment's /proc.
    pub proc_options: &'a str,
}

/// The steps, each with a description for error messages.
pub fn steps(layout: &Layout) -> io::Result<Vec<(Step, String)>> {
    let mut plan = Plan {
        steps: Vec::new(),
        root: layout.new_root,
    };
    plan.tmpfs(Path::new("/"), "mode=0755,size=1m")?;
    for entry in layout.host_root {
        if REPLACED.iter().any(|r| entry.name == OsStr::new(r)) {
            continue;
        }
        plan.mirror(Path::new("/"), Path::new("/"), entry)?;
    }

    // /var: the host's entries, and the code and the runtime.
    plan.mkdir(Path::new("/var"))?;
    for entry in layout.host_var {
        if entry.name == OsStr::new("task") || entry.name == OsStr::new("runtime") {
            continue;
        }
        plan.mirror(Path::new("/var"), Path::new("/var"), entry)?;
    }
    plan.bind_dir(layout.task_root, Path::new(TASK_ROOT))?;
    plan.bind_dir(layout.runtime_dir, Path::new(RUNTIME_DIR))?;

    // /opt: the layers, and whatever the host has there that no layer
    // replaces (an interpreter may be installed under /opt).
    plan.mkdir(Path::new(OPT))?;
    let layer_entries = layout.layers.map_or(&[][..], |(_, e)| e);
    for entry in layout.host_opt {
        if !layer_entries.iter().any(|l| l.name == entry.name) {
            plan.mirror(Path::new("/opt"), Path::new(OPT), entry)?;
        }
    }
    if let Some((dir, entries)) = layout.layers {
        for entry in entries {
            plan.mirror(dir, Path::new(OPT), entry)?;
        }
    }

    // Closed directories covered, each once, with the installations below
    // them bound back in.
    let mut covered: Vec<&Path> = Vec::new();
    for exposure in layout.exposures {
        let Ok(below) = exposure.path.strip_prefix(&exposure.cover) else {
            continue;
        };
        if !covered.contains(&exposure.cover.as_path()) {
            plan.tmpfs(&exposure.cover, "mode=0755,size=64k")?;
            covered.push(&exposure.cover);
        }
        let mut at = exposure.cover.clone();
        for part in below.components() {
            at.push(part);
            plan.mkdir(&at)?;
        }
        plan.bind(&exposure.path, &exposure.path, true)?;
    }

    // /tmp: a tmpfs of the environment's own, as large as the function's
    // EphemeralStorage, so writing past it fails with ENOSPC as on AWS. It
    // lives as long as the environment's mount namespace: it persists
    // across invocations of one environment and is gone with it.
    //
    // The trade-off: tmpfs pages are memory, charged to the memory cgroup
    // of the process that writes them, which is the environment's. Files
    // in /tmp therefore count against MemorySize here, where AWS backs /tmp
    // with disk: a function that fills /tmp beyond what its MemorySize
    // leaves free is killed as out of memory before it sees ENOSPC. That
    // keeps both limits hard and needs no disk image, loop device or quota
    // support on the host.
    plan.mkdir(Path::new(TMP))?;
    plan.tmpfs(
        Path::new(TMP),
        &format!("mode=1777,size={}m", layout.tmp_mb.max(1)),
    )?;

    // /dev: a tmpfs of its own with the harmless devices bound in.
    plan.mkdir(Path::new("/dev"))?;
    plan.tmpfs(Path::new("/dev"), "mode=0755,size=64k")?;
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        if host.exists() {
            plan.touch(&host)?;
            plan.bind(&host, &host, false)?;
        }
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        plan.symlink(Path::new(target), &Path::new("/dev").join(link))?;
    }

    plan.mkdir(Path::new("/proc"))?;
    let proc = Step::Proc {
        target: plan.inside(Path::new("/proc"))?,
        options: cstring(Path::new(layout.proc_options))?,
    };
    plan.steps.push((proc, "mount a new /proc".into()));
    Ok(plan.steps)
}

struct Plan<'a> {
    steps: Vec<(Step, String)>,
    root: &'a Path,
}

impl Plan<'_> {
    /// The host path of `path` inside the new root.
    fn inside(&self, path: &Path) -> io::Result<CString> {
        let rel = path.strip_prefix("/").unwrap_or(path);
        cstring(&self.root.join(rel))
    }

    fn mkdir(&mut self, at: &Path) -> io::Result<()> {
        let step = Step::Mkdir(self.inside(at)?);
        self.steps.push((step, format!("create {}", at.display())));
        Ok(())
    }

    fn touch(&mut self, at: &Path) -> io::Result<()> {
        let step = Step::Touch(self.inside(at)?);
        self.steps.push((step, format!("create {}", at.display())));
        Ok(())
    }

    fn symlink(&mut self, target: &Path, at: &Path) -> io::Result<()> {
        let step = Step::Symlink {
            target: cstring(target)?,
            link: self.inside(at)?,
        };
        self.steps.push((
            step,
            format!("link {} to {}", at.display(), target.display()),
        ));
        Ok(())
    }

    fn bind(&mut self, source: &Path, at: &Path, recursive: bool) -> io::Result<()> {
        let step = Step::Bind {
            source: cstring(source)?,
            target: self.inside(at)?,
            recursive,
        };
        self.steps.push((
            step,
            format!("bind {} on {}", source.display(), at.display()),
        ));
        Ok(())
    }

    fn bind_dir(&mut self, source: &Path, at: &Path) -> io::Result<()> {
        self.mkdir(at)?;
        self.bind(source, at, true)
    }

    fn tmpfs(&mut self, at: &Path, options: &str) -> io::Result<()> {
        let step = Step::Tmpfs {
            target: self.inside(at)?,
            options: cstring(Path::new(options))?,
        };
        self.steps
            .push((step, format!("mount a tmpfs on {}", at.display())));
        Ok(())
    }

    /// Carries the host entry `from/entry` over to `to/entry`.
    fn mirror(&mut self, from: &Path, to: &Path, entry: &Entry) -> io::Result<()> {
        let source = from.join(&entry.name);
        let at = to.join(&entry.name);
        match &entry.kind {
            Kind::Dir => self.bind_dir(&source, &at),
            Kind::File => {
                self.touch(&at)?;
                self.bind(&source, &at, false)
            }
            Kind::Symlink(target) => self.symlink(target, &at),
            Kind::Other => Ok(()),
        }
    }
}

pub fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other(format!("{} contains a NUL byte", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> Entry {
        Entry {
            name: name.into(),
            kind: Kind::Dir,
        }
    }

    fn descriptions(layout: &Layout) -> Vec<String> {
        steps(layout).unwrap().into_iter().map(|(_, d)| d).collect()
    }

    #[test]
    fn replaces_what_the_function_must_not_share() {
        let host_root = [
            dir("usr"),
            dir("proc"),
            dir("dev"),
            dir("tmp"),
            dir("var"),
            dir("opt"),
            dir("sys"),
            dir("root"),
            Entry {
                name: "bin".into(),
                kind: Kind::Symlink("usr/bin".into()),
            },
            Entry {
                name: "sock".into(),
                kind: Kind::Other,
            },
        ];
        let host_var = [dir("lib"), dir("task")];
        let host_opt = [dir("python"), dir("tool")];
        let layers = [dir("python"), dir("bin")];
        let layout = Layout {
            new_root: Path::new("/e/root"),
            host_root: &host_root,
            host_var: &host_var,
            host_opt: &host_opt,
            task_root: Path::new("/data/tasks/abc"),
            runtime_dir: Path::new("/data/runtimes"),
            layers: Some((Path::new("/data/opt/xyz"), &layers)),
            tmp_mb: 1024,
            exposures: &[Exposure {
                cover: "/root".into(),
                path: "/root/.pyenv/versions/3.12.1".into(),
            }],
            proc_options: "hidepid=2",
        };
        let d = descriptions(&layout);
        let has = |s: &str| d.iter().any(|x| x == s);
        assert_eq!(d[0], "mount a tmpfs on /");
        assert!(has("bind /usr on /usr"));
        assert!(has("bind /sys on /sys"));
        assert!(has("link /bin to usr/bin"));
        // The host's own /proc, /dev, /tmp are never bound in.
        for gone in [
            "bind /proc on /proc",
            "bind /dev on /dev",
            "bind /tmp on /tmp",
        ] {
            assert!(!has(gone), "{gone}");
        }
        assert!(!d.iter().any(|x| x.contains("sock")));
        assert!(has("bind /var/lib on /var/lib"));
        assert!(!has("bind /var/task on /var/task"));
        assert!(has("bind /data/tasks/abc on /var/task"));
        assert!(has("bind /data/runtimes on /var/runtime"));
        // A layer's directory wins over the host's of the same name.
        assert!(has("bind /data/opt/xyz/python on /opt/python"));
        assert!(!has("bind /opt/python on /opt/python"));
        assert!(has("bind /opt/tool on /opt/tool"));
        assert!(has("bind /data/opt/xyz/bin on /opt/bin"));
        // /tmp is the environment's own tmpfs, of its EphemeralStorage size.
        assert!(has("mount a tmpfs on /tmp"));
        let tmp = steps(&layout)
            .unwrap()
            .into_iter()
            .find_map(|(step, _)| match step {
                Step::Tmpfs { target, options } if target.as_bytes() == b"/e/root/tmp" => {
                    Some(options)
                }
                _ => None,
            });
        assert_eq!(tmp.as_deref(), Some(c"mode=1777,size=1024m"));
        // The interpreter below /root: /root covered, the path down to it
        // made, the installation bound in at its own path.
        let at = |s: &str| {
            d.iter()
                .position(|x| x == s)
                .unwrap_or_else(|| panic!("{s}"))
        };
        assert!(at("bind /root on /root") < at("mount a tmpfs on /root"));
        assert!(at("mount a tmpfs on /root") < at("create /root/.pyenv/versions/3.12.1"));
        assert!(
            at("create /root/.pyenv/versions/3.12.1")
                < at("bind /root/.pyenv/versions/3.12.1 on /root/.pyenv/versions/3.12.1")
        );
        assert!(has("mount a tmpfs on /dev"));
        assert!(has("link /dev/fd to /proc/self/fd"));
        assert_eq!(d.last().unwrap(), "mount a new /proc");
        // Every step targets the new root.
        for (step, _) in steps(&layout).unwrap() {
            let target = match &step {
                Step::Mkdir(p) | Step::Touch(p) | Step::Proc { target: p, .. } => p,
                Step::Symlink { link, .. } => link,
                Step::Bind { target, .. } | Step::Tmpfs { target, .. } => target,
            };
            assert!(target.to_bytes().starts_with(b"/e/root"), "{step:?}");
        }
    }
}
