//! Detonation: install one package version from bytes already in hand (the gate's cache) and
//! load it, inside the sandbox with no network at all and honeytokens planted, and return what
//! it did. The package's lifecycle scripts run as npm runs them (`sh -c <script>` in the package
//! directory with npm's `npm_*` variables), then its entry point is `require`d and `import`ed.
//!
//! Honeytokens: fake `NPM_TOKEN`, `GITHUB_TOKEN`, AWS keys in the environment and fake
//! `~/.npmrc`, `~/.ssh/id_rsa`, `~/.aws/credentials`, `~/.git-credentials` in a throwaway
//! `$HOME`. A read of a planted file is a `canary-read` event; any DNS query, connect or proxy
//! request is an exfiltration attempt, since an install needs no network here.
//!
//! The runtime dependency closure the gate passes is installed beside the package (flat).
//! Not emulated: npm's implicit `node-gyp rebuild` for packages with a `binding.gyp`.
//!
//! Nothing the stages depend on is a file the package could rewrite: the driver is an `sh -c`
//! argument, the lifecycle scripts and the `require`/`import` loaders are quoted inside it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::event::Event;
use crate::watch::{self, Mode, Output, SandboxError, WatchOptions};

/// One file of the package (path relative to the package root, already normalised).
pub struct PackageFile<'a> {
    pub path: &'a str,
    pub data: &'a [u8],
    pub mode: u32,
}

/// A dependency installed beside the package (`node_modules/<name>`), with its `bin` entries.
pub struct Dependency<'a> {
    pub name: &'a str,
    pub files: Vec<PackageFile<'a>>,
}

pub struct DetonateOptions {
    /// Wall-clock bound for the whole detonation (scripts and loading).
    pub timeout: Duration,
    /// Address-space limit per process.
    pub memory_bytes: u64,
    /// The binary that runs the sandbox init (default: this executable).
    pub init_exe: Option<PathBuf>,
    /// The Python interpreter for Python detonations (default: the first `python3` on `PATH`
    /// that is an executable file, not a wrapper script; see [`crate::detonate_python`]).
    pub python: Option<PathBuf>,
}

impl Default for DetonateOptions {
    fn default() -> Self {
        DetonateOptions {
            timeout: Duration::from_secs(30),
            memory_bytes: 4 << 30,
            init_exe: None,
            python: None,
        }
    }
}

/// What one detonation saw.
#[derive(Debug, Clone)]
pub struct Detonation {
    pub events: Vec<Event>,
    /// Stages run: lifecycle scripts present, then `require` and `import`.
    pub stages: Vec<String>,
    pub timed_out: bool,
    pub duration: Duration,
    /// Honeytoken values planted in the environment (to recognise them in evidence).
    pub canary_values: Vec<String>,
    /// The throwaway `$HOME` and project paths the events mention (gone by now; for
    /// comparing runs).
    pub home: String,
    pub project: String,
}

/// What npm runs when it installs a registry dependency (`prepare` runs only for git and
/// linked dependencies).
const LIFECYCLE: &[&str] = &["preinstall", "install", "postinstall"];

pub(crate) fn io(what: &str) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io {
        what: what.to_string(),
        source,
    }
}

/// Detonate `name@version` given its files.
pub fn detonate(
    name: &str,
    version: &str,
    files: &[PackageFile<'_>],
    deps: &[Dependency<'_>],
    opts: &DetonateOptions,
) -> Result<Detonation, SandboxError> {
    if !safe_name(name) {
        return Err(SandboxError::Setup(format!(
            "refusing to detonate a package named {name:?}"
        )));
    }
    let tmp = tempfile::Builder::new()
        .prefix("turncoat-detonate-")
        .tempdir()
        .map_err(io("creating a work directory"))?;
    let project = tmp.path().join("project");
    let pkg_dir = project.join("node_modules").join(name);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&pkg_dir).map_err(io("creating the package directory"))?;
    std::fs::create_dir_all(&home).map_err(io("creating the fake home"))?;
    for f in files {
        write_package_file(&pkg_dir, f)?;
    }
    // Dependencies beside it, flat (the closure the head lockfile resolves), with `.bin` shims
    // so install scripts find the tools they call (`node-gyp-build`, `prebuild-install`).
    let bin_dir = project.join("node_modules/.bin");
    std::fs::create_dir_all(&bin_dir).map_err(io("creating node_modules/.bin"))?;
    for dep in deps {
        if dep.name == name || !safe_name(dep.name) {
            continue;
        }
        let dir = project.join("node_modules").join(dep.name);
        if dir.exists() {
            continue;
        }
        std::fs::create_dir_all(&dir).map_err(io("creating a dependency directory"))?;
        for f in &dep.files {
            write_package_file(&dir, f)?;
        }
        write_bin_shims(&bin_dir, &dir, dep)?;
    }
    let manifest: serde_json::Value = files
        .iter()
        .find(|f| f.path == "package.json")
        .and_then(|f| serde_json::from_slice(f.data).ok())
        .unwrap_or(serde_json::Value::Null);
    let dep = serde_json::json!({ "name": "turncoat-detonation", "version": "0.0.0", "private": true,
        "dependencies": { name: version } });
    std::fs::write(project.join("package.json"), dep.to_string())
        .map_err(io("writing package.json"))?;

    let seed = canary_seed();
    let tokens = Canaries::new(&seed);
    let canary_files = tokens.plant(&home)?;

    // The driver: each lifecycle script as npm runs it, then require and import.
    let mut driver = String::new();
    driver.push_str(&format!(
        "export npm_package_name={}\nexport npm_package_version={}\n",
        sh_quote(name),
        sh_quote(version)
    ));
    driver.push_str(&format!(
        "export INIT_CWD={}\n",
        sh_quote(&project.display().to_string())
    ));
    // npm's run-script puts the project's .bin and its bundled node-gyp first on PATH.
    let mut path_front = vec![project.join("node_modules/.bin").display().to_string()];
    if let Some(gyp) = npm_node_gyp_bin() {
        path_front.push(gyp.display().to_string());
    }
    driver.push_str(&format!(
        "export PATH={}:\"$PATH\"\n",
        sh_quote(&path_front.join(":"))
    ));
    let mut stages = Vec::new();
    let scripts = manifest.get("scripts").and_then(|s| s.as_object());
    for stage in LIFECYCLE {
        let Some(script) = scripts.and_then(|s| s.get(*stage)).and_then(|s| s.as_str()) else {
            continue;
        };
        let script = sh_quote(script);
        driver.push_str(&format!(
            "(cd {pkg} && npm_lifecycle_event={stage} npm_lifecycle_script={script} sh -c {script})\n",
            pkg = sh_quote(&pkg_dir.display().to_string()),
        ));
        stages.push(stage.to_string());
    }
    // Loaders run as `node -e` from the project directory, so `require`/`import` of the name
    // resolve through `project/node_modules` as an application's would (a loader file outside
    // the project resolved from its own directory and never found the package).
    let spec = serde_json::to_string(name).unwrap_or_default();
    let loaders = [
        (
            "require",
            "",
            format!(
                "try {{ require({spec}); }} catch (e) {{ console.error('require: ' + (e && e.message)); }}"
            ),
        ),
        (
            "import",
            "--input-type=module ",
            format!(
                "try {{ await import({spec}); }} catch (e) {{ console.error('import: ' + (e && e.message)); }}"
            ),
        ),
    ];
    for (stage, flags, code) in loaders {
        driver.push_str(&format!(
            "(cd {proj} && npm_lifecycle_event={stage} node {flags}-e {code})\n",
            proj = sh_quote(&project.display().to_string()),
            code = sh_quote(&code),
        ));
        stages.push(stage.to_string());
    }

    // The driver is an argument, not a file: the package's own scripts run with write access
    // to the work directory, and `sh` reads a script file as it goes, so a preinstall could
    // rewrite the stages after it (skip the loaders, hide the runtime payload).
    let mut w = WatchOptions::new(vec!["sh".into(), "-c".into(), driver], project.clone());
    w.mode = Mode::Audit;
    w.home = Some(home.clone());
    w.canaries = canary_files;
    w.set_env = tokens.env.clone();
    // An `npm` the scripts start reads its user config from here, not the planted ~/.npmrc:
    // npm reading its own configuration is not the package reading credentials. A script that
    // opens ~/.npmrc itself still trips the canary.
    let npm_userconfig = tmp.path().join("npm-userconfig");
    std::fs::write(&npm_userconfig, "").map_err(io("writing npm's user config"))?;
    w.set_env.push((
        "npm_config_userconfig".into(),
        npm_userconfig.display().to_string(),
    ));
    w.set_env
        .push(("NODE_OPTIONS".into(), "--max-old-space-size=512".into()));
    w.set_env.push(("CI".into(), "true".into()));
    w.allow_write = vec![tmp.path().to_path_buf()];
    w.output = Output::Null;
    w.timeout = Some(opts.timeout);
    w.memory_limit = Some(opts.memory_bytes);
    w.init_exe = opts.init_exe.clone();
    let outcome = watch::watch(w)?;
    Ok(Detonation {
        events: outcome.events,
        stages,
        timed_out: outcome.timed_out,
        duration: outcome.duration,
        canary_values: tokens.env.iter().map(|(_, v)| v.clone()).collect(),
        home: home.display().to_string(),
        project: project.display().to_string(),
    })
}

/// A package name that is one or two plain path components (`x`, `@scope/x`).
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name.split('/').count() <= 2
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'))
}

/// `node_modules/.bin/<bin>` scripts for a dependency's `bin` entries (npm links them; a
/// two-line shell script does the same without a symlink pointing anywhere).
fn write_bin_shims(
    bin_dir: &Path,
    dep_dir: &Path,
    dep: &Dependency<'_>,
) -> Result<(), SandboxError> {
    let Some(manifest) = dep
        .files
        .iter()
        .find(|f| f.path == "package.json")
        .and_then(|f| serde_json::from_slice::<serde_json::Value>(f.data).ok())
    else {
        return Ok(());
    };
    let bins: Vec<(String, String)> = match manifest.get("bin") {
        Some(serde_json::Value::String(target)) => {
            let short = dep.name.rsplit('/').next().unwrap_or(dep.name);
            vec![(short.to_string(), target.clone())]
        }
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    for (bin, target) in bins {
        let bin_ok =
            !bin.is_empty() && !bin.contains(['/', '\\', '\0']) && bin != "." && bin != "..";
        let target_ok = !target.starts_with('/') && !target.split('/').any(|c| c == "..");
        if !bin_ok || !target_ok {
            continue;
        }
        let script = format!(
            "#!/bin/sh\nexec node {} \"$@\"\n",
            sh_quote(&dep_dir.join(&target).display().to_string())
        );
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o755)
            .open(bin_dir.join(&bin))
            .map_err(io("writing a .bin shim"))?;
        use std::io::Write;
        f.write_all(script.as_bytes())
            .map_err(io("writing a .bin shim"))?;
    }
    Ok(())
}

fn write_package_file(root: &Path, f: &PackageFile<'_>) -> Result<(), SandboxError> {
    // The archive reader already normalised paths; check again before touching the disk.
    if f.path.is_empty()
        || f.path.starts_with('/')
        || f.path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(SandboxError::Setup(format!(
            "unsafe path in package: {:?}",
            f.path
        )));
    }
    let target = root.join(f.path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io("creating package directories"))?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if f.mode & 0o111 != 0 { 0o755 } else { 0o644 };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        // A tarball may carry one path twice; the later entry wins, as with tar. Only files we
        // wrote exist here (links are never extracted), so nothing can redirect this open.
        .truncate(true)
        .mode(mode)
        .open(&target)
        .map_err(io("writing a package file"))?;
    out.write_all(f.data)
        .map_err(io("writing a package file"))?;
    Ok(())
}

/// npm's bundled `node-gyp-bin` directory (beside `npm-cli.js`), if npm is installed.
fn npm_node_gyp_bin() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let npm = std::env::split_paths(&path)
        .map(|d| d.join("npm"))
        .find(|p| p.is_file())?;
    let cli = npm.canonicalize().ok()?;
    let dir = cli.parent()?.join("node-gyp-bin");
    dir.is_dir().then_some(dir)
}

pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Per-run randomness for canary values (unguessable enough that a package cannot special-case
/// them; not a secret).
pub(crate) fn canary_seed() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

pub(crate) struct Canaries {
    pub(crate) env: Vec<(String, String)>,
    npm: String,
    gh: String,
    aws_id: String,
    aws_secret: String,
}

impl Canaries {
    pub(crate) fn new(seed: &str) -> Canaries {
        let alnum = |n: usize, upper: bool| -> String {
            let s: String = seed.chars().cycle().take(n).collect();
            if upper { s.to_ascii_uppercase() } else { s }
        };
        let npm = format!("npm_{}", alnum(36, false));
        let gh = format!("ghp_{}", alnum(36, false));
        let aws_id = format!("AKIA{}", alnum(16, true));
        let aws_secret = alnum(40, false);
        let env = vec![
            ("NPM_TOKEN".to_string(), npm.clone()),
            ("NODE_AUTH_TOKEN".to_string(), npm.clone()),
            ("GITHUB_TOKEN".to_string(), gh.clone()),
            ("AWS_ACCESS_KEY_ID".to_string(), aws_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), aws_secret.clone()),
        ];
        Canaries {
            env,
            npm,
            gh,
            aws_id,
            aws_secret,
        }
    }

    /// Write the honeytoken files under `home`; returns their paths.
    pub(crate) fn plant(&self, home: &Path) -> Result<Vec<PathBuf>, SandboxError> {
        let files = [
            (".npmrc", format!("//registry.npmjs.org/:_authToken={}\n", self.npm)),
            (".git-credentials", format!("https://x-access-token:{}@github.com\n", self.gh)),
            (".config/gh/hosts.yml", format!("github.com:\n    oauth_token: {}\n    user: ci\n", self.gh)),
            (
                ".aws/credentials",
                format!("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n", self.aws_id, self.aws_secret),
            ),
            (
                ".ssh/id_rsa",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nturncoat-honeytoken-not-a-key\n-----END OPENSSH PRIVATE KEY-----\n".to_string(),
            ),
        ];
        let mut out = Vec::new();
        for (rel, text) in files {
            let p = home.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(io("planting honeytokens"))?;
            }
            std::fs::write(&p, text).map_err(io("planting honeytokens"))?;
            out.push(p);
        }
        out.push(home.join(".ssh"));
        out.push(home.join(".aws"));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "a//b"] {
            let f = PackageFile {
                path: bad,
                data: b"x",
                mode: 0o644,
            };
            assert!(write_package_file(dir.path(), &f).is_err(), "{bad}");
        }
        let ok = PackageFile {
            path: "lib/index.js",
            data: b"x",
            mode: 0o755,
        };
        write_package_file(dir.path(), &ok).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("lib/index.js")).unwrap(),
            b"x"
        );
    }

    #[test]
    fn canaries_look_real_and_differ_per_run() {
        let a = Canaries::new(&canary_seed());
        let b = Canaries::new(&canary_seed());
        assert!(a.npm.starts_with("npm_") && a.npm.len() == 40);
        assert!(a.aws_id.starts_with("AKIA") && a.aws_id.len() == 20);
        assert_ne!(a.npm, b.npm);
        assert!(
            crate::event::redact(&a.npm) == "<redacted>",
            "canaries are redacted like real tokens"
        );
    }

    #[test]
    fn every_canary_passes_the_supervisors_prefilter() {
        let home = tempfile::tempdir().unwrap();
        let planted = Canaries::new(&canary_seed()).plant(home.path()).unwrap();
        for p in planted {
            let abs = p.display().to_string();
            let rel = p.strip_prefix(home.path()).unwrap().display().to_string();
            assert!(crate::paths::maybe_interesting(&abs), "{abs}");
            assert!(crate::paths::maybe_interesting(&rel), "{rel}");
        }
    }

    #[test]
    fn bad_names_are_refused() {
        for n in ["", "../x", "/abs", "a/../b"] {
            assert!(detonate(n, "1.0.0", &[], &[], &DetonateOptions::default()).is_err());
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a'b"), "'a'\\''b'");
    }
}
