//! Which npm cache the command is shown (copy-on-write, full tier): the one npm would use
//! outside the sandbox, taken from configuration in npm's own precedence order, and only when
//! showing it cannot show a secret.
//!
//! Sources: `npm_config_cache` in turncoat's own environment (the user's), then the project's
//! `.npmrc` (which npm inside the sandbox reads too), then the user's `.npmrc`, then
//! `~/.npm`. The project's `.npmrc` is the command's to write (an earlier run may have), so a
//! cache it names must look like one (a directory with `_cacache` in it, owned by the user the
//! command runs as); every source's path must be absolute, must not be or hold a system
//! directory, the home, the project or a secret. A path that fails is not shown; the command
//! gets `~/.npm` instead (npm reads `npm_config_cache` from the environment before any
//! `.npmrc`), and the summary says why.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the chosen cache came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env,
    Project,
    User,
    Default,
}

impl Source {
    fn label(&self) -> &'static str {
        match self {
            Source::Env => "npm_config_cache",
            Source::Project => "the project's .npmrc",
            Source::User => "your .npmrc",
            Source::Default => "the default",
        }
    }
}

/// Directories never shown as a cache, nor anything under them.
const SYSTEM: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/run",
    "/var/run",
    "/root",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/lib32",
    "/var/lib",
    "/var/log",
    "/var/spool",
    "/snap",
];

/// The `cache` value of an `.npmrc` text (the last one wins, as in npm), unquoted.
pub fn cache_setting(npmrc: &str) -> Option<String> {
    let mut found = None;
    for line in npmrc.lines() {
        let l = line.trim();
        if l.starts_with(';') || l.starts_with('#') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        if k.trim() == "cache" {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            found = Some(v.to_string());
        }
    }
    found
}

/// `~/x` and `${HOME}/x` against `home`; any other `${…}` is refused (a project's file must not
/// make turncoat print a variable's value in a warning).
fn expand(value: &str, home: &Path) -> Result<PathBuf, String> {
    let v = if let Some(rest) = value.strip_prefix("~/") {
        home.join(rest)
    } else if let Some(rest) = value.strip_prefix("${HOME}/") {
        home.join(rest)
    } else {
        PathBuf::from(value)
    };
    if v.to_string_lossy().contains("${") {
        return Err("it names an environment variable".into());
    }
    if !v.is_absolute() {
        return Err("it is not an absolute path".into());
    }
    Ok(v)
}

/// Why `dir` (canonical) must not be shown, if it must not.
pub fn refusal(dir: &Path, homes: &[&Path], project: &Path, secrets: &[PathBuf]) -> Option<String> {
    if dir == Path::new("/") {
        return Some("it is /".into());
    }
    if let Some(s) = SYSTEM.iter().find(|s| dir.starts_with(s)) {
        return Some(format!("it is a system directory ({s})"));
    }
    if SYSTEM.iter().any(|s| Path::new(s).starts_with(dir)) {
        return Some("it holds system directories".into());
    }
    for h in homes {
        if h.starts_with(dir) {
            return Some("it is (or holds) the home".into());
        }
        if let Some(class) = crate::paths::secret_class(dir, h) {
            return Some(format!("it is a secret location ({class})"));
        }
    }
    if project.starts_with(dir) {
        return Some("it is (or holds) the project".into());
    }
    if let Some(s) = secrets.iter().find(|s| s.starts_with(dir)) {
        return Some(format!("it holds a secret ({})", s.display()));
    }
    None
}

/// The chosen cache and, when a configured one was refused, why (for the summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub dir: PathBuf,
    pub source: Source,
    pub refused: Vec<String>,
}

/// Everything the choice depends on, gathered by the caller.
pub struct Inputs<'a> {
    pub env_cache: Option<String>,
    pub project_npmrc: Option<String>,
    pub user_npmrc: Option<String>,
    pub home: &'a Path,
    pub real_home: &'a Path,
    pub project: &'a Path,
    /// Secret files and directories (the home's masks) a cache must not hold.
    pub secrets: Vec<PathBuf>,
    /// The uid the command runs as: a cache the project names must be theirs.
    pub uid: u32,
}

pub fn choose(i: &Inputs) -> Choice {
    let mut refused = Vec::new();
    let candidates = [
        (Source::Env, i.env_cache.clone()),
        (
            Source::Project,
            i.project_npmrc.as_deref().and_then(cache_setting),
        ),
        (
            Source::User,
            i.user_npmrc.as_deref().and_then(cache_setting),
        ),
    ];
    for (source, value) in candidates {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        match check(&source, &value, i) {
            Ok(dir) => {
                return Choice {
                    dir,
                    source,
                    refused,
                };
            }
            Err(why) => refused.push(format!(
                "the npm cache named by {} ({value}) is not shown to the command: {why}; it gets \
                 a private copy-on-write ~/.npm instead",
                source.label()
            )),
        }
    }
    Choice {
        dir: i.home.join(".npm"),
        source: Source::Default,
        refused,
    }
}

fn check(source: &Source, value: &str, i: &Inputs) -> Result<PathBuf, String> {
    let path = expand(value, i.home)?;
    // What the overlay would show is where the links lead.
    let dir = match path.canonicalize() {
        Ok(d) => d,
        // Not there yet: nothing to show, and a private empty one is made at that path.
        Err(_) if *source != Source::Project => return Ok(path),
        Err(_) => return Err("it does not exist".into()),
    };
    if !dir.is_dir() {
        return Err("it is not a directory".into());
    }
    if let Some(why) = refusal(&dir, &[i.home, i.real_home], i.project, &i.secrets) {
        return Err(why);
    }
    if *source == Source::Project {
        if !dir.join("_cacache").is_dir() {
            return Err("it does not look like an npm cache (no _cacache in it)".into());
        }
        let owner = dir.metadata().map(|m| m.uid()).unwrap_or(u32::MAX);
        if owner != i.uid {
            return Err(format!(
                "it belongs to uid {owner}, not to the user the command runs as"
            ));
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npmrc_cache_lines() {
        assert_eq!(
            cache_setting("registry=x\ncache = /tmp/c\n").as_deref(),
            Some("/tmp/c")
        );
        assert_eq!(
            cache_setting("cache=\"/a b\"\ncache=/c").as_deref(),
            Some("/c")
        );
        assert_eq!(cache_setting("; cache=/x\n# cache=/y\ncache-min=9"), None);
    }

    #[test]
    fn expansion() {
        let h = Path::new("/home/u");
        assert_eq!(expand("~/c", h), Ok(PathBuf::from("/home/u/c")));
        assert_eq!(expand("${HOME}/c", h), Ok(PathBuf::from("/home/u/c")));
        assert!(expand("${NPM_TOKEN}/c", h).is_err());
        assert!(expand("relative/c", h).is_err());
    }

    #[test]
    fn what_is_never_shown() {
        let home = Path::new("/home/u");
        let project = Path::new("/home/u/p");
        let secrets = vec![PathBuf::from("/home/u/.config/gh")];
        let no = |d: &str| refusal(Path::new(d), &[home], project, &secrets);
        for bad in [
            "/",
            "/etc",
            "/etc/ssl",
            "/proc/1",
            "/var",
            "/home",
            "/home/u",
            "/home/u/.ssh",
            "/home/u/.aws/x",
            "/home/u/.config",
            "/home/u/p",
        ] {
            assert!(no(bad).is_some(), "{bad} must be refused");
        }
        for good in [
            "/tmp/npm-cache",
            "/home/u/.npm",
            "/var/cache/npm",
            "/srv/cache",
        ] {
            assert_eq!(no(good), None, "{good}");
        }
    }

    fn inputs<'a>(home: &'a Path, project: &'a Path) -> Inputs<'a> {
        Inputs {
            env_cache: None,
            project_npmrc: None,
            user_npmrc: None,
            home,
            real_home: home,
            project,
            secrets: Vec::new(),
            uid: rustix::process::getuid().as_raw(),
        }
    }

    #[test]
    fn a_project_npmrc_must_name_something_that_looks_like_a_cache() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().canonicalize().unwrap();
        let (home, project) = (base.join("home"), base.join("home/p"));
        let (cache, plain) = (base.join("cache"), base.join("plain"));
        for p in [&project, &cache.join("_cacache"), &plain] {
            std::fs::create_dir_all(p).unwrap();
        }
        let mut i = inputs(&home, &project);
        i.project_npmrc = Some(format!("cache={}\n", plain.display()));
        let c = choose(&i);
        assert_eq!((c.source, c.dir), (Source::Default, home.join(".npm")));
        assert!(c.refused[0].contains("no _cacache"), "{:?}", c.refused);

        i.project_npmrc = Some(format!("cache={}\n", cache.display()));
        let c = choose(&i);
        assert_eq!((c.source, c.dir), (Source::Project, cache.clone()));

        i.project_npmrc = Some("cache=/etc\n".into());
        i.user_npmrc = Some(format!("cache={}\n", plain.display()));
        let c = choose(&i);
        assert_eq!(
            (c.source, c.dir.clone()),
            (Source::User, plain.clone()),
            "the user's own choice needs no _cacache"
        );
        assert!(c.refused[0].contains("/etc"), "{:?}", c.refused);

        i.env_cache = Some(cache.display().to_string());
        assert_eq!(choose(&i).source, Source::Env);
    }
}
