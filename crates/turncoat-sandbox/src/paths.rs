//! Which file paths matter: credentials and secrets a trojan reads, and the places it writes to
//! run again later (persistence). Sans-IO: lexical checks on absolute, normalised paths.

use std::path::{Component, Path, PathBuf};

/// Secret-bearing paths relative to `$HOME` (a trailing `/` means the whole directory).
const HOME_SECRETS: &[(&str, &str)] = &[
    (".npmrc", "npm-credentials"),
    (".yarnrc", "npm-credentials"),
    (".yarnrc.yml", "npm-credentials"),
    (".config/configstore/", "npm-credentials"),
    (".pypirc", "pypi-credentials"),
    (".netrc", "netrc"),
    (".git-credentials", "git-credentials"),
    (".config/gh/", "github-cli"),
    (".ssh/", "ssh-keys"),
    (".gnupg/", "gpg-keys"),
    (".aws/", "cloud-credentials"),
    (".azure/", "cloud-credentials"),
    (".config/gcloud/", "cloud-credentials"),
    (".kube/", "cloud-credentials"),
    (".docker/config.json", "registry-credentials"),
    (".cargo/credentials", "cargo-credentials"),
    (".cargo/credentials.toml", "cargo-credentials"),
    (".bitcoin/", "wallet"),
    (".electrum/", "wallet"),
    (".ethereum/", "wallet"),
    (".config/Exodus/", "wallet"),
    (".config/solana/", "wallet"),
    (".local/share/keyrings/", "keyring"),
    (".config/google-chrome/", "browser-profile"),
    (".config/chromium/", "browser-profile"),
    (".config/BraveSoftware/", "browser-profile"),
    (".mozilla/", "browser-profile"),
];

/// Home paths whose contents run later: shell start-up files, autostart, user services, and
/// npm's config (a written `~/.npmrc` can redirect every later install).
const HOME_PERSISTENCE: &[(&str, &str)] = &[
    (".bashrc", "shell-startup"),
    (".bash_profile", "shell-startup"),
    (".bash_login", "shell-startup"),
    (".profile", "shell-startup"),
    (".zshrc", "shell-startup"),
    (".zshenv", "shell-startup"),
    (".zprofile", "shell-startup"),
    (".config/fish/", "shell-startup"),
    (".npmrc", "npm-config"),
    (".yarnrc", "npm-config"),
    (".yarnrc.yml", "npm-config"),
    (".ssh/", "ssh-authorized-keys"),
    (".config/autostart/", "autostart"),
    (".config/systemd/", "user-service"),
    (".local/share/systemd/", "user-service"),
    (".gitconfig", "git-config"),
    (".config/git/", "git-config"),
];

/// Directory names that make code run when a repository is opened or pushed, wherever they
/// are (outside `node_modules`, where packages ship their own copies).
const ANY_PERSISTENCE: &[(&str, &str)] = &[
    (".github", "ci-workflow"),
    (".gitlab-ci.yml", "ci-workflow"),
    (".vscode", "editor-config"),
    (".idea", "editor-config"),
    (".claude", "agent-config"),
    (".cursor", "agent-config"),
    (".husky", "git-hook"),
];

/// Entries of the project root that make code run later (hooks, CI, editor and agent
/// configuration, package-manager configuration, direnv): recorded whenever they change, and
/// read-only under `--block`.
pub const PROJECT_PERSISTENCE: &[(&str, &str)] = &[
    (".git/hooks", "git-hook"),
    (".git/config", "git-config"),
    (".git/info", "git-config"),
    (".github", "ci-workflow"),
    (".gitlab-ci.yml", "ci-workflow"),
    (".husky", "git-hook"),
    (".vscode", "editor-config"),
    (".idea", "editor-config"),
    (".devcontainer", "devcontainer"),
    (".claude", "agent-config"),
    (".cursor", "agent-config"),
    (".npmrc", "npm-config"),
    (".yarnrc", "npm-config"),
    (".yarnrc.yml", "npm-config"),
    (".pnpmfile.cjs", "npm-config"),
    (".envrc", "direnv"),
];

/// Which of [`project_persistence_roots`] are directories (the rest are files): the kind of
/// read-only placeholder `--block` mounts where one does not exist yet.
pub fn project_persistence_root_is_dir(root: &str) -> bool {
    PROJECT_PERSISTENCE.iter().any(|(entry, _)| {
        entry
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
    }) || matches!(
        root,
        ".github" | ".husky" | ".vscode" | ".idea" | ".devcontainer" | ".claude" | ".cursor"
    )
}

/// Class of a write to `path` (absolute, links resolved) inside the project's persistence
/// entries, or onto a directory that holds one (renaming `.git` away and another directory
/// onto `.git` replaces `.git/hooks` without naming it).
pub fn project_persistence_class(path: &Path, project: &Path) -> Option<&'static str> {
    let rel = path.strip_prefix(project).ok()?;
    if rel.as_os_str().is_empty() {
        return None;
    }
    PROJECT_PERSISTENCE
        .iter()
        .find(|(entry, _)| rel.starts_with(entry) || Path::new(entry).starts_with(rel))
        .map(|(_, class)| *class)
}

/// The project's persistence entries that are links, or sit below one (`.vscode ->
/// tools/vscode`), by where they point (links resolved), with their class: writing there by
/// its own name writes the entry. A target that holds the project or is `/` is left out
/// (protecting it would freeze the whole run, which a planted link must not be able to do).
pub fn linked_persistence_entries(project: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut out: Vec<(PathBuf, &'static str)> = PROJECT_PERSISTENCE
        .iter()
        .filter_map(|(rel, class)| {
            let entry = project.join(rel);
            let target = entry.canonicalize().ok()?;
            (target != entry && !project.starts_with(&target)).then_some((target, *class))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The top-level names of the project's persistence entries (`.git` for `.git/hooks`), each
/// once: what `--block` mounts read-only, so that no entry can be replaced by renaming the
/// directory above it.
pub fn project_persistence_roots() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = PROJECT_PERSISTENCE
        .iter()
        .map(|(entry, _)| entry.split('/').next().unwrap_or(entry))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Quick lexical pre-check on a raw (maybe relative) path: could it be interesting at all?
/// Keeps the supervisor from resolving the thousands of ordinary opens of an install.
pub fn maybe_interesting(raw: &str) -> bool {
    raw.starts_with("/proc/")
        || raw.starts_with("/run/secrets")
        || raw.starts_with("/var/run/secrets")
        || raw.starts_with("/etc/shadow")
        || raw.starts_with("/etc/cron")
        || raw.starts_with("/var/spool/cron")
        || raw.contains("environ")
        || ((!raw.contains("node_modules/") || raw.contains(".."))
            && raw.split('/').any(|c| c.starts_with('.') && c.len() > 2))
}

/// Lexically normalise an absolute path (`.` and `..` removed; no filesystem access).
pub fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// Class of a secret path (`ssh-keys`, `npm-credentials`, `process-environment`, ...).
pub fn secret_class(path: &Path, home: &Path) -> Option<&'static str> {
    let s = path.to_string_lossy();
    if let Some(rest) = s.strip_prefix("/proc/") {
        let mut parts = rest.split('/');
        let first = parts.next().unwrap_or("");
        let second = parts.next().unwrap_or("");
        let pidlike =
            first == "self" || first == "thread-self" || first.bytes().all(|b| b.is_ascii_digit());
        if pidlike && (second == "environ" || (second == "task" && rest.ends_with("/environ"))) {
            return Some("process-environment");
        }
        return None;
    }
    if s.starts_with("/run/secrets/") || s.starts_with("/var/run/secrets/") {
        return Some("mounted-secrets");
    }
    if s == "/etc/shadow" || s == "/etc/gshadow" {
        return Some("system-passwords");
    }
    home_match(path, home, HOME_SECRETS)
}

/// Class of a persistence location, for a write to `path`.
pub fn persistence_class(path: &Path, home: &Path) -> Option<&'static str> {
    let s = path.to_string_lossy();
    if s.starts_with("/etc/cron") || s.starts_with("/var/spool/cron") {
        return Some("cron");
    }
    if let Some(c) = home_match(path, home, HOME_PERSISTENCE) {
        return Some(c);
    }
    let comps: Vec<&str> = s.split('/').collect();
    if comps.contains(&"node_modules") {
        return None;
    }
    for (name, class) in ANY_PERSISTENCE {
        if let Some(i) = comps.iter().position(|c| c == name) {
            // `.github` itself is harmless; its workflows (and actions) are not.
            if *name == ".github" {
                match comps.get(i + 1) {
                    Some(&"workflows") | Some(&"actions") => return Some(class),
                    _ => continue,
                }
            }
            return Some(class);
        }
    }
    None
}

fn home_match(path: &Path, home: &Path, table: &[(&str, &'static str)]) -> Option<&'static str> {
    let rel = path.strip_prefix(home).ok()?;
    let rel = rel.to_string_lossy();
    for (entry, class) in table {
        if let Some(dir) = entry.strip_suffix('/') {
            if rel == dir || rel.starts_with(entry) {
                return Some(class);
            }
        } else if rel == *entry {
            return Some(class);
        }
    }
    None
}

/// `/proc/123/environ` → `/proc/<pid>/environ`: pids differ between runs.
pub fn generic_proc(p: &str) -> String {
    match p.strip_prefix("/proc/").and_then(|r| r.split_once('/')) {
        Some((pid, rest)) if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => {
            format!("/proc/<pid>/{rest}")
        }
        _ => p.to_string(),
    }
}

/// Show `path` relative to the places a baseline must not depend on.
pub fn display(path: &Path, home: &Path, project: &Path) -> String {
    if let Ok(r) = path.strip_prefix(project) {
        return format!("<project>/{}", r.display());
    }
    if let Ok(r) = path.strip_prefix(home) {
        return format!("~/{}", r.display());
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "/home/u";

    fn secret(p: &str) -> Option<&'static str> {
        secret_class(Path::new(p), Path::new(HOME))
    }
    fn persist(p: &str) -> Option<&'static str> {
        persistence_class(Path::new(p), Path::new(HOME))
    }

    #[test]
    fn linked_entries_by_target() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(p.join("tools/vscode")).unwrap();
        std::fs::create_dir_all(p.join(".git")).unwrap();
        std::os::unix::fs::symlink("tools/vscode", p.join(".vscode")).unwrap();
        std::os::unix::fs::symlink("..", p.join(".github")).unwrap();
        std::os::unix::fs::symlink("/", p.join(".husky")).unwrap();
        assert_eq!(
            linked_persistence_entries(&p),
            vec![(p.join("tools/vscode"), "editor-config")],
            "a link to the project's parent or to / is not an entry to freeze"
        );
    }

    #[test]
    fn persistence_roots_know_their_kind() {
        for d in [".git", ".github", ".vscode", ".husky"] {
            assert!(project_persistence_root_is_dir(d), "{d}");
        }
        for f in [
            ".npmrc",
            ".envrc",
            ".yarnrc.yml",
            ".gitlab-ci.yml",
            ".pnpmfile.cjs",
        ] {
            assert!(!project_persistence_root_is_dir(f), "{f}");
        }
    }

    #[test]
    fn project_persistence_roots_are_top_level_names() {
        let roots = project_persistence_roots();
        assert!(roots.contains(&".git") && roots.contains(&".github"));
        assert!(roots.iter().all(|r| !r.contains('/')));
        assert_eq!(roots.iter().filter(|r| **r == ".git").count(), 1);
    }

    #[test]
    fn project_persistence_by_resolved_path() {
        let project = Path::new("/w/p");
        let c = |s: &str| project_persistence_class(Path::new(s), project);
        assert_eq!(c("/w/p/.github"), Some("ci-workflow"));
        assert_eq!(c("/w/p/.github/workflows/x.yml"), Some("ci-workflow"));
        assert_eq!(c("/w/p/.git/hooks/pre-commit"), Some("git-hook"));
        assert_eq!(c("/w/p/.git/config"), Some("git-config"));
        assert_eq!(c("/w/p/.npmrc"), Some("npm-config"));
        assert_eq!(c("/w/p/.git"), Some("git-hook"));
        assert_eq!(c("/w/p"), None);
        assert_eq!(c("/w/p/.git/objects/ab"), None);
        assert_eq!(c("/w/p/.npmrc.bak"), None);
        assert_eq!(c("/w/p/node_modules/x/.github/workflows/y.yml"), None);
        assert_eq!(c("/elsewhere/.npmrc"), None);
    }

    #[test]
    fn secrets() {
        assert_eq!(secret("/home/u/.npmrc"), Some("npm-credentials"));
        assert_eq!(secret("/home/u/.ssh/id_rsa"), Some("ssh-keys"));
        assert_eq!(secret("/home/u/.ssh"), Some("ssh-keys"));
        assert_eq!(
            secret("/home/u/.aws/credentials"),
            Some("cloud-credentials")
        );
        assert_eq!(secret("/proc/1/environ"), Some("process-environment"));
        assert_eq!(secret("/proc/self/environ"), Some("process-environment"));
        assert_eq!(
            secret("/proc/12/task/13/environ"),
            Some("process-environment")
        );
        assert_eq!(
            secret("/var/run/secrets/kubernetes.io/serviceaccount/token"),
            Some("mounted-secrets")
        );
    }

    #[test]
    fn not_secrets() {
        assert_eq!(secret("/home/u/.npmrc.bak/x"), None);
        assert_eq!(
            secret("/home/u/project/.npmrc"),
            None,
            "a project .npmrc is configuration"
        );
        assert_eq!(secret("/home/u/.sshx"), None);
        assert_eq!(secret("/proc/self/status"), None);
        assert_eq!(secret("/proc/cpuinfo"), None);
        assert_eq!(secret("/etc/passwd"), None);
    }

    #[test]
    fn persistence() {
        assert_eq!(persist("/home/u/.bashrc"), Some("shell-startup"));
        assert_eq!(persist("/home/u/.npmrc"), Some("npm-config"));
        assert_eq!(
            persist("/home/u/.ssh/authorized_keys"),
            Some("ssh-authorized-keys")
        );
        assert_eq!(
            persist("/work/p/.github/workflows/x.yml"),
            Some("ci-workflow")
        );
        assert_eq!(persist("/work/p/.github/workflows"), Some("ci-workflow"));
        assert_eq!(persist("/work/p/.vscode/tasks.json"), Some("editor-config"));
        assert_eq!(
            persist("/work/p/.claude/settings.json"),
            Some("agent-config")
        );
        assert_eq!(persist("/etc/cron.d/x"), Some("cron"));
    }

    #[test]
    fn not_persistence() {
        assert_eq!(persist("/work/p/.github"), None);
        assert_eq!(persist("/work/p/.github/FUNDING.yml"), None);
        assert_eq!(
            persist("/work/p/node_modules/x/.github/workflows/ci.yml"),
            None
        );
        assert_eq!(persist("/work/p/node_modules/.package-lock.json"), None);
        assert_eq!(persist("/home/u/.npm/_cacache/index"), None);
        assert_eq!(persist("/tmp/x"), None);
    }

    #[test]
    fn prefilter_keeps_every_match() {
        for p in [
            "/home/u/.npmrc",
            ".ssh/id_rsa",
            "/proc/1/environ",
            ".github/workflows/x.yml",
            "/etc/cron.d/x",
        ] {
            assert!(maybe_interesting(p), "{p}");
        }
        assert!(!maybe_interesting("node_modules/lodash/package.json"));
        assert!(!maybe_interesting("/usr/lib/node_modules/npm/lib/cli.js"));
        assert!(maybe_interesting(
            "node_modules/x/../../../root/.ssh/id_rsa"
        ));
    }

    #[test]
    fn normalising() {
        assert_eq!(
            normalise(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalise(Path::new("/../../etc")), PathBuf::from("/etc"));
    }
}
