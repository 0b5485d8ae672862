//! Deployment packages: validated and stored once per content hash, and
//! extracted once per content hash into the task root environments run in.
//!
//! Layout under the service's work directory:
//!   packages/<sha256-hex>.zip   the package as uploaded (durable before the
//!                               function record that names it is written)
//!   tasks/<sha256-hex>/         its extracted tree (LAMBDA_TASK_ROOT)
//! Both are content-addressed, so two functions with the same package share
//! them, and a half-finished extraction (crash) is never visible: a tree is
//! extracted into a temporary directory and renamed into place.
//!
//! Extracted trees are readable by every user (directories 0755, files at
//! least 0444, executable by all if by anyone): functions run as another
//! uid than nimbus's (see `exec/sandbox`), and nothing in a tree is secret
//! from its own function. AWS keeps a package's modes as zipped, so a file
//! without read permission for others fails there; nimbus is lenient.

use std::fs;
use std::io::{self, Cursor, Read, Write};
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{LambdaError, Result};

/// Largest package a function may unzip to (AWS: 250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// Largest zipped package accepted in a request (AWS: 50 MB).
pub const MAX_ZIPPED_BYTES: usize = 52_428_800;

/// Present in the code directory once its trees are extracted readable by
/// all users.
const READABLE_TREES: &str = ".trees-readable";

const UNZIP_FAILED: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// What a stored package is known by.
#[derive(Debug, Clone)]
pub struct CodeInfo {
    /// Hex SHA-256, the package's file name.
    pub id: String,
    /// Base64 SHA-256, as Lambda reports `CodeSha256`.
    pub sha256: String,
    pub size: u64,
}

/// The package and task-root directories.
#[derive(Debug, Clone)]
pub struct CodeStore {
    packages: PathBuf,
    tasks: PathBuf,
    /// Layer combinations merged into one tree, as /opt is on AWS.
    opts: PathBuf,
}

impl CodeStore {
    pub fn open(root: &Path) -> io::Result<CodeStore> {
        let store = CodeStore {
            packages: root.join("packages"),
            tasks: root.join("tasks"),
            opts: root.join("opt"),
        };
        fs::create_dir_all(&store.packages)?;
        fs::create_dir_all(&store.tasks)?;
        fs::create_dir_all(&store.opts)?;
        // Trees extracted before they were made readable by all are
        // extracted again (they are caches of the packages).
        let marker = root.join(READABLE_TREES);
        let stale = !marker.exists();
        // Leftovers of extractions a crash interrupted.
        for dir in [&store.tasks, &store.opts] {
            if let Ok(entries) = fs::read_dir(dir) {
                for entry in entries.flatten() {
                    if stale || entry.file_name().to_string_lossy().starts_with(".tmp-") {
                        let _ = fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
        if stale {
            fs::write(&marker, b"")?;
        }
        Ok(store)
    }

    /// Validates a zip package and stores it durably. Blocking: call from
    /// `spawn_blocking`.
    pub fn add(&self, zip: &[u8]) -> Result<CodeInfo> {
        if zip.len() > MAX_ZIPPED_BYTES {
            return Err(LambdaError::RequestEntityTooLarge(format!(
                "Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"
            )));
        }
        check_package(zip)?;
        let digest = Sha256::digest(zip);
        let info = CodeInfo {
            id: hex::encode(digest),
            sha256: base64::engine::general_purpose::STANDARD.encode(digest),
            size: zip.len() as u64,
        };
        let path = self.package_path(&info.id);
        if !path.exists() {
            write_durably(&path, zip).map_err(|e| io_failure("store the deployment package", e))?;
        }
        Ok(info)
    }

    /// The stored package file, if `id` names one.
    pub fn package_file(&self, id: &str) -> Option<PathBuf> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let path = self.package_path(id);
        path.is_file().then_some(path)
    }

    fn package_path(&self, id: &str) -> PathBuf {
        self.packages.join(format!("{id}.zip"))
    }

    /// The extracted tree of package `id`, extracting it first if needed.
    /// Blocking: call from `spawn_blocking`.
    pub fn task_root(&self, id: &str) -> Result<PathBuf> {
        let dir = self.tasks.join(id);
        if dir.is_dir() {
            return Ok(dir);
        }
        let zip = fs::read(self.package_path(id))
            .map_err(|e| io_failure("read the deployment package", e))?;
        let tmp = self
            .tasks
            .join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        extract(&zip, &tmp).inspect_err(|_| {
            let _ = fs::remove_dir_all(&tmp);
        })?;
        if let Err(e) = fs::rename(&tmp, &dir) {
            let _ = fs::remove_dir_all(&tmp);
            // Another environment extracted the same package first.
            if !dir.is_dir() {
                return Err(io_failure("move the extracted package into place", e));
            }
        }
        Ok(dir)
    }
}

impl CodeStore {
    /// The merged tree of layer packages `ids`, in order (a later layer's
    /// file replaces an earlier one's), built once per combination.
    /// Blocking: call from `spawn_blocking`.
    pub fn opt_root(&self, ids: &[String]) -> Result<PathBuf> {
        let mut hasher = Sha256::new();
        for id in ids {
            hasher.update(id.as_bytes());
            hasher.update(b"/");
        }
        let dir = self.opts.join(hex::encode(hasher.finalize()));
        if dir.is_dir() {
            return Ok(dir);
        }
        let tmp = self
            .opts
            .join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let built = (|| {
            for id in ids {
                let zip = fs::read(self.package_path(id))
                    .map_err(|e| io_failure("read a layer package", e))?;
                extract(&zip, &tmp)?;
            }
            fs::create_dir_all(&tmp).map_err(|e| io_failure("create the layer tree", e))
        })();
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if let Err(e) = fs::rename(&tmp, &dir) {
            let _ = fs::remove_dir_all(&tmp);
            if !dir.is_dir() {
                return Err(io_failure("move the layer tree into place", e));
            }
        }
        Ok(dir)
    }
}

/// Checks that a package is a readable zip whose entries stay inside the
/// task root and whose unzipped size is within AWS's limit.
fn check_package(zip: &[u8]) -> Result<()> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| LambdaError::invalid(UNZIP_FAILED))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|_| LambdaError::invalid(UNZIP_FAILED))?;
        if entry.enclosed_name().is_none() {
            return Err(LambdaError::invalid(UNZIP_FAILED));
        }
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(LambdaError::invalid(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )));
    }
    // The sizes above are what the headers claim. Inflate every entry (to
    // nowhere, at most one byte past its claim) so a package whose data
    // expands beyond its headers, or fails its CRC, is refused now rather
    // than filling the disk when an environment extracts it.
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|_| LambdaError::invalid(UNZIP_FAILED))?;
        let declared = entry.size();
        let inflated = io::copy(&mut entry.take(declared + 1), &mut io::sink())
            .map_err(|_| LambdaError::invalid(UNZIP_FAILED))?;
        if inflated != declared {
            return Err(LambdaError::invalid(UNZIP_FAILED));
        }
    }
    Ok(())
}

fn extract(zip: &[u8], into: &Path) -> Result<()> {
    let bad = |_| LambdaError::invalid(UNZIP_FAILED);
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(bad)?;
    fs::create_dir_all(into).map_err(|e| io_failure("create the task root", e))?;
    // Symlinks are made after every file is written, so no write can pass
    // through one; and only links that point down into the tree (relative,
    // no `..`) are made, so no chain of links can lead out of it.
    let mut links = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad)?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(LambdaError::invalid(UNZIP_FAILED));
        };
        let path = into.join(&rel);
        if entry.is_dir() {
            fs::create_dir_all(&path).map_err(|e| io_failure("create a directory", e))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_failure("create a directory", e))?;
        }
        if entry.is_symlink() {
            let mut target = String::new();
            io::Read::read_to_string(&mut entry, &mut target)
                .map_err(|_| LambdaError::invalid(UNZIP_FAILED))?;
            links.push((rel.to_path_buf(), path, target));
            continue;
        }
        // A later layer replaces an earlier layer's file (or link).
        if path.is_symlink() {
            let _ = fs::remove_file(&path);
        }
        let mut out = fs::File::create(&path).map_err(|e| io_failure("write a file", e))?;
        // Never more than the header claims (those claims were checked
        // against the unzipped-size limit): a lying entry stops here.
        let declared = entry.size();
        let written = io::copy(&mut (&mut entry).take(declared + 1), &mut out)
            .map_err(|e| io_failure("write a file", e))?;
        if written > declared {
            return Err(LambdaError::invalid(UNZIP_FAILED));
        }
        fs::set_permissions(&path, file_permissions(entry.unix_mode()))
            .map_err(|e| io_failure("set file permissions", e))?;
    }
    open_directories(into).map_err(|e| io_failure("set directory permissions", e))?;
    for (rel, path, target) in links {
        if !points_down(Path::new(&target)) {
            tracing::warn!(
                "lambda: skipped symlink {rel:?} -> {target:?}: only links into the package's own subdirectories are kept"
            );
            continue;
        }
        if path.exists() && !path.is_symlink() {
            tracing::warn!(
                "lambda: skipped symlink {rel:?}: the package also has a file or directory there"
            );
            continue;
        }
        let _ = fs::remove_file(&path);
        std::os::unix::fs::symlink(&target, &path)
            .map_err(|e| io_failure("create a symlink", e))?;
    }
    Ok(())
}

/// A file's mode in an extracted tree: readable by all; executable by all
/// when the package makes it executable at all (a provided runtime's
/// `bootstrap`); never writable by others, setuid or sticky.
fn file_permissions(zipped: Option<u32>) -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    let zipped = zipped.unwrap_or(0o644) & 0o755;
    let exec = if zipped & 0o111 != 0 { 0o111 } else { 0 };
    fs::Permissions::from_mode(zipped | 0o444 | exec)
}

/// Makes `dir` and every directory below it 0755, whatever nimbus's umask
/// was when they were made (links are not followed).
fn open_directories(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            open_directories(&entry.path())?;
        }
    }
    Ok(())
}

/// Whether a link target only descends from the link's directory
/// (relative, no `..`): such links cannot leave the tree, however they
/// chain.
fn points_down(target: &Path) -> bool {
    !target.as_os_str().is_empty()
        && target
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn io_failure(what: &str, err: io::Error) -> LambdaError {
    tracing::error!("lambda: could not {what}: {err}");
    LambdaError::Service(format!("nimbus could not {what}: {err}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A zip of (name, contents, unix mode) entries.
    pub fn zip_of(files: &[(&str, &str, u32)]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, body, mode) in files {
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(*name, opts).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    /// `zip` with the uncompressed size of entry `name` rewritten to
    /// `claimed` in its local header and central directory record.
    fn understate(mut zip: Vec<u8>, name: &str, claimed: u32) -> Vec<u8> {
        let patch = |zip: &mut Vec<u8>,
                     signature: &[u8],
                     name_len_at: usize,
                     name_at: usize,
                     size_at: usize| {
            let mut i = 0;
            while let Some(found) = zip[i..].windows(4).position(|w| w == signature) {
                let at = i + found;
                let len =
                    u16::from_le_bytes([zip[at + name_len_at], zip[at + name_len_at + 1]]) as usize;
                if zip.get(at + name_at..at + name_at + len) == Some(name.as_bytes()) {
                    zip[at + size_at..at + size_at + 4].copy_from_slice(&claimed.to_le_bytes());
                }
                i = at + 4;
            }
        };
        patch(&mut zip, b"PK\x03\x04", 26, 30, 22);
        patch(&mut zip, b"PK\x01\x02", 28, 46, 24);
        zip
    }

    #[test]
    fn refuses_entries_larger_than_their_headers_claim() {
        let big = "x".repeat(1 << 20);
        let honest = zip_of(&[("index.py", "x = 1\n", 0o644), ("big.txt", &big, 0o644)]);
        let lying = understate(honest.clone(), "big.txt", 10);
        assert_ne!(lying, honest, "the test zip was not patched");
        let dir = tempfile::tempdir().unwrap();
        let store = CodeStore::open(dir.path()).unwrap();
        let err = store.add(&lying).unwrap_err();
        assert_eq!(err.to_string(), UNZIP_FAILED);
        assert!(store.add(&honest).is_ok());
        // Extraction stops at the claimed size too (a package stored before
        // the upload check existed).
        let into = dir.path().join("tree");
        let err = extract(&lying, &into).unwrap_err();
        assert_eq!(err.to_string(), UNZIP_FAILED);
        let written = fs::metadata(into.join("big.txt"))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(written <= 11, "{written} bytes written for a 10-byte claim");
    }

    #[test]
    fn stores_and_extracts_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = CodeStore::open(dir.path()).unwrap();
        let zip = zip_of(&[
            ("index.py", "x = 1\n", 0o644),
            ("bootstrap", "#!/bin/sh\n", 0o755),
        ]);
        let info = store.add(&zip).unwrap();
        assert_eq!(info.size, zip.len() as u64);
        assert_eq!(info.id.len(), 64);
        let root = store.task_root(&info.id).unwrap();
        assert_eq!(
            fs::read_to_string(root.join("index.py")).unwrap(),
            "x = 1\n"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(root.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(store.task_root(&info.id).unwrap(), root);
    }

    #[test]
    fn trees_are_readable_by_every_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = CodeStore::open(dir.path()).unwrap();
        // As Python's zipfile.writestr makes them: owner-only.
        let zip = zip_of(&[
            ("pkg/mod.py", "x = 1\n", 0o600),
            ("bootstrap", "#!/bin/sh\n", 0o700),
            ("odd", "", 0o4777),
        ]);
        let root = store.task_root(&store.add(&zip).unwrap().id).unwrap();
        let mode = |p: &str| fs::metadata(root.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("pkg/mod.py"), 0o644);
        assert_eq!(mode("bootstrap"), 0o755);
        assert_eq!(mode("odd"), 0o755);
        assert_eq!(mode("pkg"), 0o755);
        assert_eq!(mode(""), 0o755);

        // A tree extracted before trees were made readable is dropped
        // when the store opens again, and extracted anew on demand.
        let old = dir.path().join("tasks").join("f".repeat(64));
        fs::create_dir_all(&old).unwrap();
        CodeStore::open(dir.path()).unwrap();
        assert!(old.exists(), "trees already readable are kept");
        fs::remove_file(dir.path().join(READABLE_TREES)).unwrap();
        CodeStore::open(dir.path()).unwrap();
        assert!(!old.exists() && !root.exists());
        assert!(dir.path().join(READABLE_TREES).exists());
    }

    #[test]
    fn refuses_what_is_not_a_zip() {
        let dir = tempfile::tempdir().unwrap();
        let store = CodeStore::open(dir.path()).unwrap();
        let err = store.add(b"not a zip").unwrap_err();
        assert_eq!(err.to_string(), UNZIP_FAILED);
        let evil = zip_of(&[("../evil.py", "x", 0o644)]);
        assert_eq!(store.add(&evil).unwrap_err().to_string(), UNZIP_FAILED);
    }

    #[test]
    fn zip_symlink_tricks_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        w.add_symlink("b", ".", opts).unwrap();
        w.add_symlink("b/b/b/l", "../../../x", opts).unwrap();
        w.add_symlink("lib", "real/lib", opts).unwrap();
        w.start_file("real/lib/mod.py", opts).unwrap();
        w.write_all(b"x = 1").unwrap();
        w.start_file("l/evil", opts).unwrap();
        w.write_all(b"evil").unwrap();
        w.finish().unwrap();
        extract(&buf.into_inner(), &root).unwrap();
        // The upward link was not made; the file landed inside the tree.
        assert!(!root.join("b/b/b/l").is_symlink());
        assert_eq!(fs::read_to_string(root.join("l/evil")).unwrap(), "evil");
        assert!(!dir.path().join("x").exists());
        // A link into the package works.
        assert_eq!(
            fs::read_to_string(root.join("lib/mod.py")).unwrap(),
            "x = 1"
        );
    }

    #[test]
    fn only_downward_symlinks_are_kept() {
        assert!(!points_down(Path::new("../../x")));
        assert!(!points_down(Path::new("/etc/passwd")));
        assert!(!points_down(Path::new("../b")));
        assert!(!points_down(Path::new("")));
        assert!(points_down(Path::new("lib/x.so.1")));
        assert!(points_down(Path::new("./b")));
    }
}
