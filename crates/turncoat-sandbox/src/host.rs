//! Trusted host tools. Package code never runs here: these helpers only read the user's own
//! repository.

use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot run git (is it installed and on PATH?): {0}")]
    Spawn(std::io::Error),
    #[error("git {what} failed: {stderr}")]
    Git { what: String, stderr: String },
    #[error("invalid git revision {0:?}")]
    BadRevision(String),
    #[error("cannot run bash: {0}")]
    Bash(std::io::Error),
}

/// Environment variables git may keep; everything else (tokens included) is dropped.
const GIT_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ"];

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for k in GIT_ENV {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    // Never prompt, never run hooks or pagers.
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .arg("-C")
        .arg(dir)
        .stdin(Stdio::null());
    cmd
}

/// The top directory of the git work tree containing `dir`.
pub fn git_toplevel(dir: &Path) -> Result<std::path::PathBuf, HostError> {
    let out = git(dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(HostError::Spawn)?;
    if !out.status.success() {
        return Err(HostError::Git {
            what: "rev-parse --show-toplevel".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().into())
}

/// The bytes of `path` (relative to the repository top) at revision `rev`: `git show rev:path`.
pub fn git_show(repo: &Path, rev: &str, path: &str) -> Result<Vec<u8>, HostError> {
    // A revision starting with '-' would be read as an option.
    if rev.is_empty() || rev.starts_with('-') || rev.contains(['\0', '\n', ':']) {
        return Err(HostError::BadRevision(rev.to_string()));
    }
    let out = git(repo)
        .arg("show")
        .arg(format!("{rev}:{path}"))
        .output()
        .map_err(HostError::Spawn)?;
    if !out.status.success() {
        return Err(HostError::Git {
            what: format!("show {rev}:{path}"),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// Run a shell script of this repository with bash (stdio inherited), e.g. the conformance
/// task's regeneration of real third-party lockfiles. Only for scripts the repository
/// itself ships: the environment is kept (the tools it installs need the proxy settings).
pub fn run_repo_script(script: &Path) -> Result<bool, HostError> {
    let status = Command::new("bash")
        .arg(script)
        .stdin(Stdio::null())
        .status()
        .map_err(HostError::Bash)?;
    Ok(status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let ok = git(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{:?}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }

    #[test]
    fn reads_a_file_at_a_revision() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &["init", "-q"]);
        std::fs::write(dir.path().join("a.txt"), "one").unwrap();
        run(dir.path(), &["add", "a.txt"]);
        run(dir.path(), &["commit", "-qm", "1"]);
        std::fs::write(dir.path().join("a.txt"), "two").unwrap();
        assert_eq!(git_show(dir.path(), "HEAD", "a.txt").unwrap(), b"one");
        let top = git_toplevel(dir.path()).unwrap();
        assert_eq!(
            top.canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
        assert!(matches!(
            git_show(dir.path(), "--output=x", "a.txt"),
            Err(HostError::BadRevision(_))
        ));
        assert!(matches!(
            git_show(dir.path(), "HEAD", "missing.txt"),
            Err(HostError::Git { .. })
        ));
    }
}
