//! Python detonation: install one release's file (a wheel or an sdist, bytes already downloaded
//! and hash-checked by the caller) with the real `pip`, start an interpreter and import what it
//! installed, inside the sandbox with no network at all and honeytokens planted; return what it
//! did, each event tagged with the *moment* it happened:
//!
//! | stage | what runs |
//! |---|---|
//! | `install-time` | `python -m pip install --no-deps --no-index --no-build-isolation FILE` into a fresh venv: an sdist's `setup.py` / build backend |
//! | `install-time-ci` | the same install into a second venv with `CI=true` and `GITHUB_ACTIONS=true` |
//! | `interpreter-start` | `python -c pass` in that venv: `.pth` lines that `import` |
//! | `import-time` | each top-level module found in the venv's `site-packages`, imported in its own interpreter |
//! | `import-time-ci` | the same imports with `CI=true` and `GITHUB_ACTIONS=true` (a payload that only fires in CI) |
//!
//! The interpreter is a real CPython outside the package's reach (`/usr/bin/python3` or
//! whatever `python3` on `PATH` resolves to as an executable file); pip never reaches an index
//! (`--no-index`, no configuration file, and no allowed host anyway). The venv is made with
//! `--system-site-packages` so an sdist's build finds the interpreter's own setuptools and wheel
//! without downloading them.
//!
//! What the package sees must not tell it that it is being watched: its environment has no
//! `npm_*`, `TURNCOAT_*` or `CI` variable (the stage is claimed to the supervisor by a trusted
//! `env -u …` wrapper whose own environment names it, then dropped before Python starts), and
//! the work directory has a neutral name. The module list is read by an interpreter started
//! with `-I -S` (no `.pth`, no `sitecustomize`), so an installed `.pth` cannot hide a module
//! from the import stage by patching `os.listdir` or `subprocess`.
//!
//! After the last stage the driver waits (bounded) until every process the package left behind
//! has exited, so a payload that double-forks and acts a moment later is still seen.

use std::path::{Path, PathBuf};

use crate::detonate::{Canaries, DetonateOptions, Detonation, canary_seed, io, sh_quote};
use crate::watch::{self, Mode, Output, SandboxError, WatchOptions};

/// One Python distribution file to detonate.
pub struct PythonDist<'a> {
    /// PEP 503 name (for attribution only; never used as a path).
    pub name: &'a str,
    pub version: &'a str,
    /// The file's name as the index lists it (`demo_pkg-1.0.1-py3-none-any.whl`,
    /// `demo-pkg-1.0.1.tar.gz`): pip reads the kind and, for a wheel, the tags from it.
    pub filename: &'a str,
    pub data: &'a [u8],
}

/// Stage names, in the order they run (the moments of `turncoat-pyanalyze`).
pub const STAGES: &[&str] = &[
    "install-time",
    "install-time-ci",
    "interpreter-start",
    "import-time",
    "import-time-ci",
];

/// Driver exit codes for missing tools, checked before any package file is read.
const NO_VENV: i32 = 97;
const NO_PIP: i32 = 98;

/// At most this many top-level modules are imported (sorted by name).
const MAX_MODULES: usize = 64;

/// How long the driver waits for processes left behind after the last stage (in tenths of a
/// second).
const LINGER_TENTHS: u32 = 50;

/// Variables of the sandbox's own that would tell a package it is watched; removed from the
/// environment of every stage.
const TELLS: &[&str] = &[
    "TURNCOAT_WATCH",
    "CI",
    "NODE_USE_ENV_PROXY",
    "NODE_OPTIONS",
    "npm_config_cache",
    "npm_config_proxy",
    "npm_config_https_proxy",
    "npm_config_noproxy",
    "npm_config_userconfig",
    "YARN_HTTP_PROXY",
    "YARN_HTTPS_PROXY",
    "GLOBAL_AGENT_HTTP_PROXY",
    // The sandbox's proxy: without it a client resolves the name itself, and the query (and
    // the connect) is seen by the supervisor with the process, hence the stage, that made it.
    // The proxy only ever sees a connection, attributed to no one.
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "PIP_PROXY",
];

/// Variables the supervisor reads to attribute a process to a package and stage.
const CLAIM: &[&str] = &[
    "npm_package_name",
    "npm_package_version",
    "npm_lifecycle_event",
];

/// Imports `sys.argv[1]` from the directory `sys.argv[2]` first: a module the interpreter had
/// already loaded from elsewhere (a `sitecustomize.py` shadowed by the distribution's own, a
/// module named like the standard library's) is loaded again from the package's file.
const CHILD: &str = "import importlib, sys; n, d = sys.argv[1], sys.argv[2]; sys.path.insert(0, d); sys.modules.pop(n, None); importlib.import_module(n)";

/// Lists the top-level modules the install put into the venv (run with `-I -S`: no package
/// code runs in it), then imports each in its own interpreter (site active, as a user's would
/// be). `sys.argv[1]`: per-module timeout in seconds; `sys.argv[2]`: the venv (under `-S` the
/// venv's own `sys.prefix` is not set, so its `site-packages` is found from the path).
const LOADER: &str = r#"import os, sys, glob, subprocess
names = set()
for d in sorted(glob.glob(os.path.join(sys.argv[2], "lib*", "python*", "site-packages"))):
    try:
        entries = os.listdir(d)
    except OSError:
        continue
    for e in entries:
        if e == "__pycache__" or e.endswith((".dist-info", ".egg-info", ".pth", ".data", ".egg-link")):
            continue
        n = e.split(".")[0]
        full = os.path.join(d, e)
        if n.isidentifier() and (os.path.isdir(full) or e.endswith((".py", ".pyc", ".so"))):
            names.add((n, d))
for n, d in sorted(names)[:MAX]:
    try:
        subprocess.run([sys.executable, "-c", CHILD, n, d], timeout=float(sys.argv[1]))
    except Exception as e:
        print("import", n, type(e).__name__, file=sys.stderr)
"#;

/// Detonate one Python release file.
pub fn detonate_python(
    dist: &PythonDist<'_>,
    opts: &DetonateOptions,
) -> Result<Detonation, SandboxError> {
    if !safe_filename(dist.filename) {
        return Err(SandboxError::Setup(format!(
            "refusing to detonate a file named {:?}",
            dist.filename
        )));
    }
    let python = match &opts.python {
        Some(p) => p.clone(),
        None => find_python().ok_or_else(|| {
            SandboxError::Setup(
                "no python3 interpreter on PATH (an executable file, not a wrapper script): \
                 Python detonation needs one"
                    .into(),
            )
        })?,
    };
    // A neutral name: `/tmp/tmpXXXXXX`, as any program's mkdtemp makes (no `turncoat` in the
    // paths the package can see, no leading dot that makes every path look like a dotfile).
    let tmp = tempfile::Builder::new()
        .prefix("tmp")
        .tempdir()
        .map_err(io("creating a work directory"))?;
    let project = tmp.path().join("project");
    let home = tmp.path().join("home");
    let scratch = tmp.path().join("tmp");
    for d in [&project, &home, &scratch] {
        std::fs::create_dir_all(d).map_err(io("creating the work directories"))?;
    }
    let status = tmp.path().join("status");
    std::fs::create_dir_all(&status).map_err(io("creating the work directories"))?;
    let dist_path = project.join(dist.filename);
    std::fs::write(&dist_path, dist.data).map_err(io("writing the distribution file"))?;

    let tokens = PythonCanaries::new();
    let canary_files = tokens.plant(&home)?;
    let timeout_each = opts.timeout.as_secs().clamp(1, 60);
    let driver = driver(&python, &project, &dist_path, dist, timeout_each, &status);

    let mut w = WatchOptions::new(vec!["sh".into(), "-c".into(), driver], project.clone());
    w.mode = Mode::Audit;
    w.home = Some(home.clone());
    w.canaries = canary_files;
    w.set_env = tokens.env.clone();
    w.set_env
        .push(("TMPDIR".into(), scratch.display().to_string()));
    w.allow_write = vec![tmp.path().to_path_buf()];
    w.output = Output::Null;
    w.timeout = Some(opts.timeout);
    w.memory_limit = Some(opts.memory_bytes);
    w.init_exe = opts.init_exe.clone();
    let outcome = watch::watch(w)?;
    // Before any package file is read the driver checks its tools; without them nothing of
    // the package would run and the detonation would look clean.
    match outcome.exit_code {
        NO_VENV => {
            return Err(SandboxError::Setup(format!(
                "{} could not make a venv in the sandbox (an interpreter under the home is \
                 not visible there; install python3 system-wide)",
                python.display()
            )));
        }
        NO_PIP => {
            return Err(SandboxError::Setup(format!(
                "{} has no pip (install python3-pip): Python detonation installs with it",
                python.display()
            )));
        }
        _ => {}
    }
    // A failed install is said in the stage (the package's code may still have run: a build
    // that fails after `setup.py` did its work). The marker is the driver's; a package could
    // forge or remove it, which changes only this wording.
    let stages = STAGES
        .iter()
        .map(|s| match s.strip_prefix("install-time") {
            Some(_) if status.join(format!("{s}.failed")).exists() => {
                format!("{s} (pip failed)")
            }
            _ => s.to_string(),
        })
        .collect();
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

/// The `sh -c` driver (an argument, not a file the package could rewrite while it runs).
fn driver(
    python: &Path,
    project: &Path,
    dist_path: &Path,
    dist: &PythonDist<'_>,
    each: u64,
    status: &Path,
) -> String {
    let q = |p: &Path| sh_quote(&p.display().to_string());
    let venv = project.join("venv");
    let vpy = venv.join("bin/python");
    let mut s = String::new();
    s.push_str(&format!("cd {}\n", q(project)));
    // Everything of the sandbox's own that a payload could check for. Caller `npm_config_*`
    // settings pass through `watch`; a Python detonation has no use for them.
    let mut tells: Vec<String> = TELLS.iter().map(|t| t.to_string()).collect();
    tells.extend(
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.to_ascii_lowercase().starts_with("npm_config_"))
            .filter(|k| k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')),
    );
    s.push_str(&format!("unset {}\n", tells.join(" ")));
    // pip's own settings: no configuration file (the planted home has none anyway), no index.
    s.push_str("export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1\n");
    // The venvs are made by the interpreter's own stdlib before any package file is read: one
    // installed as on a developer's machine (then started and imported), one installed as in
    // CI.
    let venv_ci = project.join("venv-ci");
    for v in [&venv, &venv_ci] {
        s.push_str(&format!(
            "{} -I -m venv --without-pip --system-site-packages {} || exit {NO_VENV}\n",
            q(python),
            q(v)
        ));
    }
    s.push_str(&format!(
        "{} -I -c 'import pip' >/dev/null 2>&1 || exit {NO_PIP}\n",
        q(&vpy)
    ));
    let claim = |stage: &str, extra: &str| {
        format!(
            "npm_package_name={} npm_package_version={} npm_lifecycle_event={stage} env {unset}{extra} ",
            sh_quote(dist.name),
            sh_quote(dist.version),
            unset = CLAIM.iter().map(|c| format!("-u {c} ")).collect::<String>(),
        )
    };
    for (stage, target, extra) in [
        ("install-time", &venv, ""),
        ("install-time-ci", &venv_ci, "CI=true GITHUB_ACTIONS=true"),
    ] {
        s.push_str(&format!(
            "{}{} -m pip install --no-deps --no-index --no-build-isolation --no-cache-dir --disable-pip-version-check --no-input {} >/dev/null 2>&1 || : > {}\n",
            claim(stage, extra),
            q(&target.join("bin/python")),
            q(dist_path),
            q(&status.join(format!("{stage}.failed")))
        ));
    }
    s.push_str(&format!(
        "{}{} -c pass >/dev/null 2>&1\n",
        claim("interpreter-start", ""),
        q(&vpy)
    ));
    let loader = LOADER
        .replace("MAX", &MAX_MODULES.to_string())
        .replace("CHILD", &format!("{CHILD:?}"));
    for (stage, extra) in [
        ("import-time", ""),
        ("import-time-ci", "CI=true GITHUB_ACTIONS=true"),
    ] {
        s.push_str(&format!(
            "{}{} -I -S -c {} {each} {} >/dev/null 2>&1\n",
            claim(stage, extra),
            q(&vpy),
            sh_quote(&loader),
            q(&venv)
        ));
    }
    // Wait for what the package left behind (bounded): in the sandbox's pid namespace only the
    // init and this shell remain once everything else has exited.
    s.push_str(&format!(
        "i=0\nwhile [ $i -lt {LINGER_TENTHS} ]; do n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; \
         [ $n -le 2 ] && break; sleep 0.1; i=$((i+1)); done\nexit 0\n"
    ));
    s
}

/// A plain distribution file name: one path component, no leading dot, a known suffix.
fn safe_filename(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'!'))
        && (lower.ends_with(".whl") || lower.ends_with(".tar.gz") || lower.ends_with(".zip"))
}

/// The first `python3` on `PATH` that is an executable file once links are resolved (pyenv's
/// shims are shell scripts that need the real home; the interpreter they lead to may live in
/// it).
pub fn find_python() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("python3"))
        .filter_map(|p| p.canonicalize().ok())
        .find(|p| is_elf_executable(p))
}

fn is_elf_executable(p: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// The npm detonation's honeytokens plus PyPI's: `~/.pypirc` with an upload token and the
/// variables twine and uv read for one.
struct PythonCanaries {
    base: Canaries,
    env: Vec<(String, String)>,
    pypi: String,
}

impl PythonCanaries {
    fn new() -> PythonCanaries {
        let seed = canary_seed();
        let base = Canaries::new(&seed);
        let body: String = seed.chars().rev().cycle().take(48).collect();
        let pypi = format!("pypi-AgEIcHlwaS5vcmc{body}");
        let mut env = base.env.clone();
        env.push(("TWINE_PASSWORD".into(), pypi.clone()));
        env.push(("UV_PUBLISH_TOKEN".into(), pypi.clone()));
        PythonCanaries { base, env, pypi }
    }

    fn plant(&self, home: &Path) -> Result<Vec<PathBuf>, SandboxError> {
        let mut files = self.base.plant(home)?;
        let pypirc = home.join(".pypirc");
        std::fs::write(
            &pypirc,
            format!(
                "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {}\n",
                self.pypi
            ),
        )
        .map_err(io("planting honeytokens"))?;
        files.push(pypirc);
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        for ok in [
            "demo_pkg-1.0.1-py3-none-any.whl",
            "demo-pkg-1.0.1.tar.gz",
            "x-1.0+local.zip",
        ] {
            assert!(safe_filename(ok), "{ok}");
        }
        for bad in [
            "",
            "../x-1.0.whl",
            "a/b-1.0.whl",
            ".hidden-1.0.whl",
            "-rf.whl",
            "x-1.0.exe",
            "x 1.0.whl",
            "x-1.0.whl\n",
        ] {
            assert!(!safe_filename(bad), "{bad:?}");
        }
        let d = PythonDist {
            name: "x",
            version: "1",
            filename: "../evil.whl",
            data: b"",
        };
        assert!(detonate_python(&d, &DetonateOptions::default()).is_err());
    }

    #[test]
    fn the_driver_claims_stages_without_leaving_them_in_the_environment() {
        let d = PythonDist {
            name: "demo",
            version: "1.0",
            filename: "demo-1.0.tar.gz",
            data: b"",
        };
        let s = driver(
            Path::new("/usr/bin/python3"),
            Path::new("/tmp/tmpX/project"),
            Path::new("/tmp/tmpX/project/demo-1.0.tar.gz"),
            &d,
            5,
            Path::new("/tmp/tmpX/status"),
        );
        for stage in STAGES {
            assert!(
                s.contains(&format!(
                    "npm_lifecycle_event={stage} env -u npm_package_name -u npm_package_version -u npm_lifecycle_event "
                )),
                "{stage}: {s}"
            );
        }
        assert!(s.contains("unset TURNCOAT_WATCH CI "), "{s}");
        assert!(s.contains("--no-index"));
        assert!(!s.contains("turncoat-"), "no telling names: {s}");
    }

    #[test]
    fn pypi_canaries_are_redacted_and_planted() {
        let c = PythonCanaries::new();
        assert_eq!(crate::event::redact(&c.pypi), "<redacted>");
        let home = tempfile::tempdir().unwrap();
        let files = c.plant(home.path()).unwrap();
        assert!(files.iter().any(|f| f.ends_with(".pypirc")));
        for p in files {
            assert!(crate::paths::maybe_interesting(&p.display().to_string()));
        }
    }

    #[test]
    fn an_interpreter_is_found_or_none() {
        if let Some(p) = find_python() {
            assert!(is_elf_executable(&p), "{}", p.display());
        }
    }
}
