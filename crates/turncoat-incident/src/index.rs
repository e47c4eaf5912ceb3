//! `turncoat index add`: read every lockfile of git repositories (all local branches, or the
//! refs asked for) and plain directories into the store.
//!
//! Git objects are read with gix (no checkout, no `git` subprocess, no user or system git
//! configuration). Incremental at two levels: a ref whose commit is the one indexed is not
//! read at all, and a lockfile whose blob id is unchanged is not parsed again. A lockfile
//! that does not parse is reported and skipped; the rest of the repository is indexed.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::prelude::FindExt;
use serde::Serialize;
use sha2::Digest;
use turncoat_lockfile::{Lockfile, ParseOptions};
use turncoat_store::{IndexedLockfile, Store};

use crate::Error;
use crate::deppath::dep_paths;

/// Files read as lockfiles anywhere in a tree.
pub const LOCKFILE_NAMES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
];

/// Folders never descended into (installed trees, VCS metadata).
const SKIP_DIRS: &[&str] = &["node_modules", ".git", ".yarn"];

/// The ref name recorded for a plain directory.
pub const WORKTREE_REF: &str = "(files)";

/// Deepest folder searched for lockfiles in a plain directory.
const MAX_DIR_DEPTH: usize = 12;

/// What indexing one path did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathReport {
    pub repo: String,
    pub refs_indexed: usize,
    pub refs_unchanged: usize,
    pub refs_removed: usize,
    pub lockfiles_written: usize,
    pub lockfiles_kept: usize,
    pub packages_written: usize,
    /// Lockfiles that could not be read, with the reason.
    pub skipped: Vec<String>,
}

/// Options of one `index add`.
pub struct AddOptions<'a> {
    /// Refs to index (`main`, `refs/heads/x`); empty: every local branch.
    pub refs: &'a [String],
    pub now: i64,
    pub progress: &'a dyn Fn(&str),
}

/// The name a repository or directory is recorded under: its absolute path.
pub fn repo_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Index one path: a git repository if it is one, else a directory tree.
pub fn add(store: &mut Store, path: &Path, opts: &AddOptions) -> Result<PathReport, Error> {
    if !path.exists() {
        return Err(Error::Invalid(format!(
            "{}: no such file or directory",
            path.display()
        )));
    }
    let is_git =
        path.join(".git").exists() || path.join("HEAD").is_file() && path.join("objects").is_dir();
    if is_git {
        add_git(store, path, opts)
    } else if path.is_dir() {
        add_dir(store, path, opts)
    } else {
        Err(Error::Invalid(format!(
            "{}: not a directory (give a repository or a folder)",
            path.display()
        )))
    }
}

fn git_err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Git(format!("{}: {what}: {e}", path.display()))
}

/// Open without reading the user's or the system's git configuration.
pub fn open_repo(path: &Path) -> Result<gix::Repository, Error> {
    let mut repo = gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| git_err(path, "not a git repository", e))?;
    repo.object_cache_size(0);
    Ok(repo)
}

/// The refs to index with their commits: the ones asked for, else every local branch.
fn refs_of(
    repo: &gix::Repository,
    path: &Path,
    asked: &[String],
) -> Result<Vec<(String, ObjectId)>, Error> {
    let mut out = Vec::new();
    if asked.is_empty() {
        let platform = repo.references().map_err(|e| git_err(path, "refs", e))?;
        let iter = platform
            .local_branches()
            .map_err(|e| git_err(path, "refs", e))?;
        for r in iter {
            let mut r = r.map_err(|e| git_err(path, "refs", e))?;
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            let name = name
                .strip_prefix("refs/heads/")
                .unwrap_or(&name)
                .to_string();
            match r.peel_to_id() {
                Ok(id) => out.push((name, id.detach())),
                Err(e) => return Err(git_err(path, &format!("ref {name}"), e)),
            }
        }
    } else {
        for name in asked {
            let mut r = repo
                .find_reference(name.as_str())
                .map_err(|e| git_err(path, &format!("ref {name}"), e))?;
            let id = r
                .peel_to_id()
                .map_err(|e| git_err(path, &format!("ref {name}"), e))?;
            out.push((name.clone(), id.detach()));
        }
    }
    out.sort();
    Ok(out)
}

/// Every blob in `commit`'s tree whose file name is in `names`, with its path; trees under
/// [`SKIP_DIRS`] are not entered.
pub fn find_in_commit(
    repo: &gix::Repository,
    commit: ObjectId,
    wanted: &dyn Fn(&str, &str) -> bool,
) -> Result<Vec<(String, ObjectId)>, Error> {
    let mut buf = Vec::new();
    let tree = repo
        .objects
        .find_commit(&commit, &mut buf)
        .map_err(|e| Error::Git(format!("commit {commit}: {e}")))?
        .tree();
    let mut out = Vec::new();
    let mut stack = vec![(tree, String::new())];
    while let Some((id, prefix)) = stack.pop() {
        let Ok(t) = repo.objects.find_tree(&id, &mut buf) else {
            continue;
        };
        for e in &t.entries {
            let name = e.filename.to_str_lossy();
            let p = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            if e.mode.is_tree() {
                if !SKIP_DIRS.contains(&name.as_ref()) {
                    stack.push((e.oid.to_owned(), p));
                }
            } else if e.mode.is_blob() && wanted(&prefix, &name) {
                out.push((p, e.oid.to_owned()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A blob's bytes, refusing one larger than `max`.
pub fn read_blob(repo: &gix::Repository, id: ObjectId, max: u64) -> Result<Vec<u8>, String> {
    let size = repo.find_header(id).map_err(|e| e.to_string())?.size();
    if size > max {
        return Err(format!("{size} bytes, larger than the limit of {max}"));
    }
    let mut buf = Vec::new();
    repo.objects
        .find_blob(&id, &mut buf)
        .map(|b| b.data.to_vec())
        .map_err(|e| e.to_string())
}

fn add_git(store: &mut Store, path: &Path, opts: &AddOptions) -> Result<PathReport, Error> {
    let repo = open_repo(path)?;
    let key = repo_key(path);
    let mut report = PathReport {
        repo: key.clone(),
        ..PathReport::default()
    };
    let refs = refs_of(&repo, path, opts.refs)?;
    let limits = ParseOptions::default();
    for (name, commit) in &refs {
        let state = store.ref_state(&key, name)?;
        if state.commit.as_deref() == Some(commit.to_string().as_str()) {
            report.refs_unchanged += 1;
            continue;
        }
        (opts.progress)(&format!("{key} {name}: reading lockfiles"));
        let found = find_in_commit(&repo, *commit, &|_, n| LOCKFILE_NAMES.contains(&n))?;
        let mut lockfiles = Vec::new();
        for (lpath, blob) in found {
            let blob_id = blob.to_string();
            if state.lockfiles.get(&lpath) == Some(&blob_id) {
                lockfiles.push(IndexedLockfile {
                    path: lpath,
                    blob: blob_id,
                    format: String::new(),
                    packages: None,
                });
                continue;
            }
            let parsed = read_blob(&repo, blob, limits.max_bytes)
                .and_then(|b| turncoat_lockfile::parse(&lpath, &b).map_err(|e| e.to_string()));
            match parsed {
                Ok(lock) => lockfiles.push(to_indexed(&lpath, blob_id, &lock)),
                Err(e) => report.skipped.push(format!("{name}:{lpath}: {e}")),
            }
        }
        let st = store.put_ref(&key, name, &commit.to_string(), &lockfiles, opts.now)?;
        report.refs_indexed += 1;
        report.lockfiles_written += st.lockfiles_written;
        report.lockfiles_kept += st.lockfiles_kept;
        report.packages_written += st.packages_written;
    }
    if opts.refs.is_empty() {
        let keep: Vec<String> = refs.iter().map(|(n, _)| n.clone()).collect();
        report.refs_removed = store.retain_refs(&key, &keep)?;
    }
    Ok(report)
}

fn add_dir(store: &mut Store, path: &Path, opts: &AddOptions) -> Result<PathReport, Error> {
    let key = repo_key(path);
    let mut report = PathReport {
        repo: key.clone(),
        ..PathReport::default()
    };
    (opts.progress)(&format!("{key}: reading lockfiles"));
    let state = store.ref_state(&key, WORKTREE_REF)?;
    let mut found = Vec::new();
    walk_dir(path, PathBuf::new(), 0, &mut found);
    found.sort();
    let mut lockfiles = Vec::new();
    let mut hasher_all = sha2::Sha256::new();
    for rel in found {
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        let full = path.join(&rel);
        let bytes = match read_capped(&full, ParseOptions::default().max_bytes) {
            Ok(b) => b,
            Err(e) => {
                report.skipped.push(format!("{rel_s}: {e}"));
                continue;
            }
        };
        let blob = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)));
        hasher_all.update(rel_s.as_bytes());
        hasher_all.update(blob.as_bytes());
        if state.lockfiles.get(&rel_s) == Some(&blob) {
            lockfiles.push(IndexedLockfile {
                path: rel_s,
                blob,
                format: String::new(),
                packages: None,
            });
            continue;
        }
        match turncoat_lockfile::parse(&rel_s, &bytes) {
            Ok(lock) => lockfiles.push(to_indexed(&rel_s, blob, &lock)),
            Err(e) => report.skipped.push(format!("{rel_s}: {e}")),
        }
    }
    // The "commit" of a directory is a hash of its lockfiles' paths and contents.
    let commit = format!("files:{}", hex::encode(&hasher_all.finalize()[..10]));
    if state.commit.as_deref() == Some(commit.as_str()) {
        report.refs_unchanged = 1;
        return Ok(report);
    }
    let st = store.put_ref(&key, WORKTREE_REF, &commit, &lockfiles, opts.now)?;
    report.refs_indexed = 1;
    report.lockfiles_written = st.lockfiles_written;
    report.lockfiles_kept = st.lockfiles_kept;
    report.packages_written = st.packages_written;
    Ok(report)
}

/// Lockfiles under `root` (relative paths); symlinks are not followed.
fn walk_dir(root: &Path, rel: PathBuf, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DIR_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root.join(&rel)) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        if ft.is_dir() && !SKIP_DIRS.contains(&name.as_str()) {
            walk_dir(root, rel.join(&name), depth + 1, out);
        } else if ft.is_file() && LOCKFILE_NAMES.contains(&name.as_str()) {
            out.push(rel.join(&name));
        }
    }
}

fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than the limit of {max} bytes"));
    }
    Ok(bytes)
}

/// The rows of one parsed lockfile.
pub fn to_indexed(path: &str, blob: String, lock: &Lockfile) -> IndexedLockfile {
    let paths = dep_paths(lock);
    let packages = lock
        .packages
        .iter()
        .zip(paths)
        .filter(|(p, _)| !p.version.is_empty())
        .map(|(p, dep_path)| turncoat_store::IndexedPackage {
            name: p.name.clone(),
            version: p.version.clone(),
            integrity: p.integrity.clone(),
            dev: p.dev,
            optional: p.optional,
            install_script: p.has_install_script,
            dep_path,
            line: p.line,
        })
        .collect();
    IndexedLockfile {
        path: path.to_string(),
        blob,
        format: lock.format.id(),
        packages: Some(packages),
    }
}
