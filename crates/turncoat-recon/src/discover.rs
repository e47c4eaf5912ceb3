//! Finding repositories: a path is a repository (a work tree with `.git`, or a bare one), or a
//! directory walked for repositories (symlinks are not followed, a repository's own
//! sub-directories are not entered, `node_modules` and hidden directories are skipped).

use std::path::{Path, PathBuf};

use crate::Error;

/// Deepest directory level searched below the given directory.
pub const MAX_DEPTH: usize = 6;

fn is_repo(dir: &Path) -> bool {
    let dot = dir.join(".git");
    dot.is_dir()
        || dot.is_file()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

/// The repositories at or below `path`, sorted.
pub fn repositories(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if !meta.is_dir() {
        return Err(Error::NotARepository(path.to_path_buf()));
    }
    if is_repo(path) {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![(path.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let p = e.path();
            if is_repo(&p) {
                out.push(p);
            } else if depth < MAX_DEPTH {
                stack.push((p, depth + 1));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(Error::NotARepository(path.to_path_buf()));
    }
    Ok(out)
}
