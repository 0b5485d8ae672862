//! The runtimes nimbus runs, and how each starts: Python and Node.js through
//! nimbus's own bootstraps (embedded in the binary, written next to the
//! packages at start-up) with the interpreter found on the machine; the
//! `provided` runtimes through the package's own `bootstrap` executable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{LambdaError, Result};

/// How an environment of a runtime is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `python3.N`: the minor version selects `python3.N` when installed.
    Python {
        minor: u8,
    },
    Node,
    /// `provided.al2` / `provided.al2023`: the package's `bootstrap`.
    Provided,
}

/// Runtimes nimbus runs.
pub const SUPPORTED: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "provided.al2",
    "provided.al2023",
];

/// Runtimes AWS accepts today that nimbus does not run yet.
const NOT_YET: &[&str] = &[
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "dotnet8",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
];

/// Runtimes AWS no longer accepts for new or updated functions.
const DEPRECATED: &[&str] = &[
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "ruby2.5",
    "ruby2.7",
    "go1.x",
    "provided",
];

/// Checks a `Runtime` member and says how its environments start.
pub fn parse(runtime: &str) -> Result<RuntimeKind> {
    if let Some(minor) = runtime.strip_prefix("python3.") {
        if SUPPORTED.contains(&runtime) {
            let minor = minor.parse().unwrap_or(0);
            return Ok(RuntimeKind::Python { minor });
        }
    }
    if SUPPORTED.contains(&runtime) {
        return Ok(if runtime.starts_with("nodejs") {
            RuntimeKind::Node
        } else {
            RuntimeKind::Provided
        });
    }
    if DEPRECATED.contains(&runtime) {
        return Err(LambdaError::invalid(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    if NOT_YET.contains(&runtime) {
        return Err(LambdaError::invalid(format!(
            "nimbus does not run the {runtime} runtime yet; it runs: {}",
            SUPPORTED.join(", ")
        )));
    }
    let mut all: Vec<&str> = SUPPORTED
        .iter()
        .chain(NOT_YET)
        .chain(DEPRECATED)
        .copied()
        .collect();
    all.sort_unstable();
    Err(LambdaError::constraint(
        runtime,
        "runtime",
        &format!(
            "Member must satisfy enum value set: [{}] or be a valid ARN",
            all.join(", ")
        ),
    ))
}

const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.mjs");

/// Where the bootstraps were written, and the interpreters found so far.
#[derive(Debug)]
pub struct Launchers {
    python_bootstrap: PathBuf,
    node_bootstrap: PathBuf,
    /// Resolved interpreter per program name (`python3.12`, `node`); `None`
    /// when the name is not on PATH or does not run.
    found: Mutex<HashMap<String, Option<PathBuf>>>,
}

/// The program and arguments that start an environment.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<PathBuf>,
}

impl Launchers {
    /// Writes the bootstraps under `dir` (every start, so an upgraded binary
    /// brings its own). Interpreters are looked up on first use, so start-up
    /// stays fast.
    pub fn install(dir: &Path) -> std::io::Result<Launchers> {
        let python_dir = dir.join("python");
        let node_dir = dir.join("node");
        std::fs::create_dir_all(&python_dir)?;
        std::fs::create_dir_all(&node_dir)?;
        let launchers = Launchers {
            python_bootstrap: python_dir.join("bootstrap.py"),
            node_bootstrap: node_dir.join("bootstrap.mjs"),
            found: Mutex::new(HashMap::new()),
        };
        std::fs::write(&launchers.python_bootstrap, PYTHON_BOOTSTRAP)?;
        std::fs::write(&launchers.node_bootstrap, NODE_BOOTSTRAP)?;
        // Read by functions running as another uid (`/var/runtime`),
        // whatever nimbus's umask.
        use std::os::unix::fs::PermissionsExt;
        for (path, mode) in [
            (dir, 0o755),
            (&python_dir, 0o755),
            (&node_dir, 0o755),
            (&launchers.python_bootstrap, 0o644),
            (&launchers.node_bootstrap, 0o644),
        ] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
        Ok(launchers)
    }

    /// How to start an environment of `kind` whose code is in `task_root`.
    pub async fn launch(&self, kind: RuntimeKind, task_root: &Path) -> Result<Launch> {
        match kind {
            RuntimeKind::Python { minor } => {
                const PROBE: &[&str] = &["-c", "import sys; sys.stdout.write(sys.executable)"];
                let exact = format!("python3.{minor}");
                let program = match self.find(&exact, PROBE).await {
                    Some(p) => p,
                    None => self
                        .find("python3", PROBE)
                        .await
                        .ok_or_else(|| missing("python3"))?,
                };
                Ok(Launch {
                    program,
                    args: vec!["-u".into(), self.python_bootstrap.clone()],
                })
            }
            RuntimeKind::Node => {
                const PROBE: &[&str] = &["-e", "process.stdout.write(process.execPath)"];
                Ok(Launch {
                    program: self
                        .find("node", PROBE)
                        .await
                        .ok_or_else(|| missing("node"))?,
                    args: vec![self.node_bootstrap.clone()],
                })
            }
            RuntimeKind::Provided => Ok(Launch {
                program: task_root.join("bootstrap"),
                args: Vec::new(),
            }),
        }
    }

    /// The real interpreter behind `name`: it must run with the same bare
    /// environment functions get, and report its own path (which skips
    /// wrapper scripts such as pyenv shims, and their start-up cost).
    async fn find(&self, name: &str, probe: &[&str]) -> Option<PathBuf> {
        if let Some(known) = self.lock().get(name) {
            return known.clone();
        }
        let mut found = None;
        if let Some(candidate) = find_program(name) {
            let output = tokio::process::Command::new(&candidate)
                .args(probe)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output();
            if let Ok(Ok(out)) =
                tokio::time::timeout(std::time::Duration::from_secs(10), output).await
            {
                let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                if out.status.success() && path.is_absolute() {
                    found = Some(path);
                }
            }
        }
        match &found {
            Some(path) => tracing::info!("lambda: {name} runtimes run with {}", path.display()),
            None => tracing::info!("lambda: no working {name} on PATH"),
        }
        self.lock().insert(name.to_owned(), found.clone());
        found
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<PathBuf>>> {
        self.found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn missing(program: &str) -> LambdaError {
    LambdaError::InvalidRuntime(format!(
        "nimbus found no {program} on this machine's PATH to run the function with"
    ))
}

/// Where the interpreter `program` is installed, as far as its runtime
/// needs it: the directory above its `bin` (where Python finds its standard
/// library and pyenv's or nvm's builds their shared libraries), or its own
/// directory; for the path as given and, when a symlink (a virtualenv's
/// python) leads elsewhere, for where it really is.
pub fn installations(program: &Path) -> Vec<PathBuf> {
    let of = |program: &Path| {
        let dir = program.parent()?;
        if dir.file_name().is_some_and(|n| n == "bin") {
            dir.parent().map(Path::to_path_buf)
        } else {
            Some(dir.to_path_buf())
        }
    };
    let mut out: Vec<PathBuf> = of(program).into_iter().collect();
    if let Some(real) = std::fs::canonicalize(program).ok().as_deref().and_then(of) {
        if !out.contains(&real) {
            out.push(real);
        }
    }
    // A directory right under `/` would cover a whole top-level tree
    // (`/usr/bin/python3` is installed in `/usr`): those are bound in as
    // they are anyway.
    out.retain(|p| p.parent().is_some_and(|parent| parent != Path::new("/")));
    out
}

/// The first executable named `name` on nimbus's own PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            candidate
                .metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names() {
        assert_eq!(
            parse("python3.12").unwrap(),
            RuntimeKind::Python { minor: 12 }
        );
        assert_eq!(parse("nodejs20.x").unwrap(), RuntimeKind::Node);
        assert_eq!(parse("provided.al2023").unwrap(), RuntimeKind::Provided);
        assert!(matches!(
            parse("python3.8"),
            Err(LambdaError::InvalidParameterValue(_))
        ));
        assert!(matches!(
            parse("java21"),
            Err(LambdaError::InvalidParameterValue(_))
        ));
        let err = parse("cobol").unwrap_err();
        assert!(matches!(err, LambdaError::Validation(_)));
        assert!(err.to_string().starts_with(
            "1 validation error detected: Value 'cobol' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ["
        ));
    }

    #[test]
    fn interpreters_are_installed_above_their_bin() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("versions/3.12.1/bin");
        let venv = dir.path().join("venv/bin");
        std::fs::create_dir_all(&real).unwrap();
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(real.join("python3.12"), "").unwrap();
        std::os::unix::fs::symlink(real.join("python3.12"), venv.join("python3")).unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            installations(&dir.join("versions/3.12.1/bin/python3.12")),
            vec![dir.join("versions/3.12.1")]
        );
        // A virtualenv needs its own directory and the base installation.
        assert_eq!(
            installations(&dir.join("venv/bin/python3")),
            vec![dir.join("venv"), dir.join("versions/3.12.1")]
        );
        // Not in a bin directory: the program's own directory.
        std::fs::write(dir.join("versions/node"), "").unwrap();
        assert_eq!(
            installations(&dir.join("versions/node")),
            vec![dir.join("versions")]
        );
        // Whole top-level trees are in every environment already.
        assert!(installations(Path::new("/usr/bin/node")).is_empty());
    }
}
