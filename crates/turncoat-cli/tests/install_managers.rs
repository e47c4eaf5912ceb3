//! `turncoat install` with each real client (npm, and pnpm, Yarn 4 and Bun from
//! TURNCOAT_PM_TOOLS, which `.ci/run` installs) against a registry on 127.0.0.1.
//!
//! One fixture project per manager, whose own settings try to switch scripts back on
//! (`.npmrc` `ignore-scripts=false`, pnpm's `onlyBuiltDependencies`, `.yarnrc.yml`
//! `enableScripts: true`, Bun's `trustedDependencies`): only the approved script runs; the
//! approved package's dependency (which has a script of its own), a package that calls itself
//! by the approved name in its own package.json, and a package approved for another tarball
//! do not. Then the tree test: the same `node_modules` (every file's path and SHA-256, every
//! link's target) as a plain install with scripts on — run in the sandbox too — bar the
//! unapproved scripts' effects.

#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::Digest as _;

/// Writes ran.txt in its own directory, then tries its dependency's and the project's.
const APPROVED: &str = "node -e \"const fs=require('fs');fs.writeFileSync('ran.txt','x');for (const p of ['../dep/ran.txt','node_modules/dep/ran.txt','../../escaped.txt']) { try { fs.writeFileSync(p,'x') } catch (e) {} }\"";
const WRITE: &str = "node -e \"require('fs').writeFileSync('ran.txt','x')\"";

/// Manager state files: not part of the installed tree.
const META: &[&str] = &[
    ".package-lock.json",
    ".modules.yaml",
    ".pnpm-workspace-state-v1.json",
    "lock.yaml",
    ".yarn-state.yml",
    ".package-map.json",
];

struct Fixture {
    url: String,
    /// name → (integrity of the tarball served, integrity of another tarball)
    sri: BTreeMap<&'static str, (String, String)>,
}

fn manifest(name: &str, script: Option<&str>, deps: &[&str]) -> Vec<u8> {
    let mut m = serde_json::json!({"name": name, "version": "1.0.0"});
    if let Some(s) = script {
        m["scripts"] = serde_json::json!({ "postinstall": s });
    }
    if !deps.is_empty() {
        m["dependencies"] = deps
            .iter()
            .map(|d| (d.to_string(), serde_json::json!("1.0.0")))
            .collect();
    }
    m.to_string().into_bytes()
}

/// approved (→ dep), dep, renamed (its package.json says "approved"), swapped, plain.
fn registry() -> Fixture {
    let specs: Vec<(&'static str, Vec<u8>)> = vec![
        ("approved", manifest("approved", Some(APPROVED), &["dep"])),
        ("dep", manifest("dep", Some(WRITE), &[])),
        ("renamed", manifest("approved", Some(WRITE), &[])),
        ("swapped", manifest("swapped", Some(WRITE), &[])),
        ("plain", manifest("plain", None, &[])),
    ];
    let server = common::StaticServer::bind();
    let url = server.url.clone();
    let mut routes = BTreeMap::new();
    let mut sri = BTreeMap::new();
    for (name, man) in specs {
        let files = BTreeMap::from([
            ("package.json".to_string(), man.clone()),
            (
                "index.js".to_string(),
                format!("module.exports = '{name}';\n").into_bytes(),
            ),
        ]);
        let p = common::pack(&files);
        let other = common::pack(&BTreeMap::from([("package.json".to_string(), man.clone())]));
        let tarball = format!("{url}/{name}/-/{name}-1.0.0.tgz");
        let mut version: serde_json::Value = serde_json::from_slice(&man).unwrap();
        version["name"] = serde_json::json!(name);
        version["dist"] =
            serde_json::json!({"tarball": tarball, "integrity": p.integrity, "shasum": p.shasum});
        let doc = serde_json::json!({"name": name, "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": version}});
        routes.insert(
            format!("/{name}"),
            ("application/json".to_string(), doc.to_string().into_bytes()),
        );
        routes.insert(
            format!("/{name}/-/{name}-1.0.0.tgz"),
            ("application/octet-stream".to_string(), p.tgz),
        );
        sri.insert(name, (p.integrity, other.integrity));
    }
    server.serve(routes);
    Fixture { url, sri }
}

fn pm_bin() -> Option<PathBuf> {
    let d = PathBuf::from(std::env::var_os("TURNCOAT_PM_TOOLS")?).join("node_modules/.bin");
    d.is_dir().then_some(d)
}

fn path_env() -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = pm_bin().into_iter().collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

fn available(test: &str, tool: &str) -> bool {
    let ok = common::on_path("node")
        && common::on_path("npm")
        && (tool == "npm" || pm_bin().is_some_and(|d| d.join(tool).exists()));
    if !ok {
        assert!(
            std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
            "{test}: {tool} not installed (TURNCOAT_PM_TOOLS) and TURNCOAT_TEST_REQUIRE_TOOLS is set"
        );
        eprintln!(
            "SKIPPED {test}: set TURNCOAT_PM_TOOLS to a directory with pnpm, @yarnpkg/cli-dist and bun installed (.ci/run does)"
        );
    }
    ok
}

fn cmd(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", path_env())
        .env("HOME", dir.join(".home"))
        .env("XDG_CACHE_HOME", dir.join(".cache"))
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env_remove("npm_config_registry")
        .output()
        .expect("run")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, rel: &str, body: &str) {
    std::fs::write(dir.join(rel), body).unwrap();
}

/// The project for `manager` with hostile settings, its lockfile written by the real client
/// (lockfile only, scripts off: no package code runs outside the sandbox).
fn project(dir: &Path, manager: &str, f: &Fixture, hoisted: bool) {
    std::fs::create_dir_all(dir.join(".home")).unwrap();
    let mut deps: Vec<&str> = vec!["approved", "swapped", "plain"];
    // pnpm refuses a tarball whose package.json names another package (its store content
    // check): the rename never gets installed there.
    if manager != "pnpm" {
        deps.push("renamed");
    }
    let mut pkg = serde_json::json!({"name": "app", "version": "1.0.0",
        "dependencies": deps.iter().map(|d| (d.to_string(), serde_json::json!("1.0.0"))).collect::<serde_json::Map<_, _>>()});
    let registry = format!(
        "registry={}/\nignore-scripts=false\naudit=false\nfund=false\nupdate-notifier=false\n",
        f.url
    );
    let registry = if hoisted {
        registry + "node-linker=hoisted\n"
    } else {
        registry
    };
    let lock_args: &[&str] = match manager {
        "npm" => {
            write(dir, ".npmrc", &registry);
            &["install", "--package-lock-only", "--ignore-scripts"]
        }
        "pnpm" => {
            write(dir, ".npmrc", &registry);
            write(
                dir,
                "pnpm-workspace.yaml",
                "packages: []\nonlyBuiltDependencies:\n  - approved\n  - dep\n  - swapped\n",
            );
            &["install", "--lockfile-only", "--ignore-scripts"]
        }
        "yarn" => {
            write(
                dir,
                ".yarnrc.yml",
                &format!(
                    "npmRegistryServer: \"{}\"\nunsafeHttpWhitelist:\n  - 127.0.0.1\nnodeLinker: node-modules\nenableGlobalCache: false\nnpmMinimalAgeGate: 0\nenableTelemetry: false\nenableScripts: true\n",
                    f.url
                ),
            );
            write(dir, "yarn.lock", "");
            &["install", "--mode=update-lockfile"]
        }
        _ => {
            write(
                dir,
                "bunfig.toml",
                &format!("[install]\nregistry = \"{}/\"\n", f.url),
            );
            pkg["trustedDependencies"] =
                serde_json::json!(["approved", "dep", "renamed", "swapped"]);
            &["install", "--lockfile-only", "--ignore-scripts"]
        }
    };
    write(
        dir,
        "package.json",
        &(serde_json::to_string_pretty(&pkg).unwrap() + "\n"),
    );
    let o = cmd(dir, manager, lock_args);
    assert!(o.status.success(), "{manager} lockfile: {}", text(&o));
    let _ = std::fs::remove_dir_all(dir.join("node_modules"));
}

/// The pin the lockfile holds for `name` (Yarn: its checksum), read back from the lockfile.
fn yarn_checksum(dir: &Path, name: &str) -> String {
    let lock = std::fs::read_to_string(dir.join("yarn.lock")).unwrap();
    let block = lock
        .split(&format!("\"{name}@npm:1.0.0\":"))
        .nth(1)
        .unwrap();
    block
        .lines()
        .find_map(|l| l.trim().strip_prefix("checksum: "))
        .unwrap()
        .to_string()
}

fn policy(dir: &Path, manager: &str, f: &Fixture) {
    let pin = |name: &str, other: bool| -> String {
        if manager == "yarn" {
            if other {
                format!("10c0/{}", "0".repeat(128))
            } else {
                yarn_checksum(dir, name)
            }
        } else {
            let (a, b) = &f.sri[name];
            if other { b.clone() } else { a.clone() }
        }
    };
    let entry = |name: &str, other: bool| {
        format!(
            "[[allow-script]]\npackage = \"{name}@1.0.0\"\nintegrity = \"{}\"\nreason = \"test\"\n\n",
            pin(name, other)
        )
    };
    write(
        dir,
        "turncoat.toml",
        &(entry("approved", false) + &entry("swapped", true)),
    );
}

/// Every file (SHA-256) and link (target) under node_modules, manager state left out.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let root = dir.join("node_modules");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            if META.iter().any(|m| e.file_name() == *m) {
                continue;
            }
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                out.insert(
                    rel,
                    format!("link {}", std::fs::read_link(&p).unwrap().display()),
                );
            } else if t.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    rel,
                    format!("{:x}", sha2::Sha256::digest(std::fs::read(&p).unwrap())),
                );
            }
        }
    }
    out
}

fn ran_in(t: &BTreeMap<String, String>, pkg: &str) -> bool {
    t.keys()
        .any(|k| k.ends_with(&format!("/{pkg}/ran.txt")) || *k == format!("{pkg}/ran.txt"))
}

fn case(manager: &str, hoisted: bool) {
    let test = format!("install_with_{manager} (hoisted: {hoisted})");
    if !available(&test, manager) {
        return;
    }
    let f = registry();
    let host = f.url.trim_start_matches("http://").to_string();
    let base = tempfile::tempdir().unwrap();
    let ours = base.path().join("ours");
    let plain = base.path().join("plain");
    for d in [&ours, &plain] {
        std::fs::create_dir_all(d).unwrap();
        project(d, manager, &f, hoisted);
    }
    policy(&ours, manager, &f);
    if manager == "yarn" {
        // A project's `yarnPath` swaps in another client, one that would ignore our flags.
        let rc = std::fs::read_to_string(ours.join(".yarnrc.yml")).unwrap();
        write(&ours, ".yarnrc.yml", &(rc + "yarnPath: evil.cjs\n"));
        write(
            &ours,
            "evil.cjs",
            "require('fs').writeFileSync('yarnpath-ran', 'x');\n",
        );
    }
    let turncoat = env!("CARGO_BIN_EXE_turncoat");

    let events = base.path().join("events");
    let o = cmd(
        &ours,
        turncoat,
        &[
            "install",
            "--allow-host",
            &host,
            "--events-dir",
            events.to_str().unwrap(),
        ],
    );
    let out = text(&o);
    eprintln!("{out}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{manager}: unapproved scripts make the run fail: {out}"
    );
    let t = tree(&ours);
    assert!(
        ran_in(&t, "approved"),
        "{manager}: the approved script did not run: {out}"
    );
    assert!(
        !ran_in(&t, "dep"),
        "{manager}: the approved package's dependency ran its script (or was written by it): {out}"
    );
    assert!(
        !ran_in(&t, "swapped"),
        "{manager}: a script approved for another tarball ran: {out}"
    );
    assert!(
        !ran_in(&t, "renamed"),
        "{manager}: a package that renamed itself ran as the approved one: {out}"
    );
    assert!(
        !ours.join("yarnpath-ran").exists(),
        "{manager}: the project's yarnPath client ran: {out}"
    );
    assert!(
        !ours.join("escaped.txt").exists(),
        "{manager}: the approved script wrote into the project"
    );
    assert!(
        out.contains("a different tarball under the same version"),
        "{manager}: {out}"
    );
    assert!(out.contains("package = \"dep@1.0.0\""), "{manager}: {out}");
    if manager != "pnpm" {
        assert!(
            out.contains("package = \"renamed@1.0.0\""),
            "{manager}: {out}"
        );
    }
    // Each sandboxed step's events, in a file named for the locked package and stage.
    let approved_events =
        std::fs::read_to_string(events.join("01-approved@1.0.0-postinstall.jsonl")).unwrap();
    assert!(approved_events.contains("\"exec\""), "{approved_events}");
    assert!(events.join("00-install.jsonl").is_file());
    if manager != "yarn" {
        assert!(
            out.contains(&format!(
                "package = \"dep@1.0.0\"\nintegrity = \"{}\"",
                f.sri["dep"].0
            )),
            "{manager}: the exact approval lines: {out}"
        );
    }

    // The plain install, scripts on (the project's settings), also in the sandbox.
    let plain_cmd: &[&str] = match manager {
        "npm" => &["ci"],
        "pnpm" => &["install", "--frozen-lockfile"],
        "yarn" => &["install", "--immutable"],
        _ => &["install", "--frozen-lockfile"],
    };
    let mut args = vec!["watch", "--block", "--allow-host", &host, "--", manager];
    args.extend_from_slice(plain_cmd);
    let o = cmd(&plain, turncoat, &args);
    assert!(o.status.success(), "{manager} plain install: {}", text(&o));
    let mut p = tree(&plain);
    assert!(
        ran_in(&p, "dep") && ran_in(&p, "swapped"),
        "{manager}: the plain install ran no scripts: {p:?}"
    );
    // Bar the unapproved scripts' effects, and the approved script's writes outside its own
    // directory (which the plain install lets through and turncoat fences), the trees are
    // the same.
    assert!(
        !t.keys().any(|k| k.ends_with("escaped.txt")),
        "{manager}: {t:?}"
    );
    p.retain(|k, _| {
        !k.ends_with("escaped.txt")
            && !["dep", "swapped", "renamed"]
                .iter()
                .any(|n| k.ends_with(&format!("{n}/ran.txt")))
    });
    assert_eq!(t, p, "{manager}: the tree differs from a plain install's");
}

#[test]
fn install_with_npm() {
    case("npm", false);
}

#[test]
fn install_with_pnpm() {
    case("pnpm", false);
}

/// pnpm with `node-linker=hoisted`: no `.pnpm` directory, an npm-like tree.
#[test]
fn install_with_pnpm_hoisted() {
    case("pnpm", true);
}

#[test]
fn install_with_yarn() {
    case("yarn", false);
}

#[test]
fn install_with_bun() {
    case("bun", false);
}

/// npm gives a package with a `binding.gyp` and no install script an implicit
/// `node-gyp rebuild`: turncoat asks for approval of it like any script, and runs it (in the
/// sandbox, where this one cannot fetch Node's headers and fails) once approved.
#[test]
fn npm_implicit_node_gyp_rebuild_needs_approval() {
    if !available("npm_implicit_node_gyp_rebuild_needs_approval", "npm") {
        return;
    }
    let server = common::StaticServer::bind();
    let url = server.url.clone();
    let files = BTreeMap::from([
        ("package.json".to_string(), manifest("gyp", None, &[])),
        (
            "binding.gyp".to_string(),
            b"{\"targets\":[{\"target_name\":\"x\",\"sources\":[\"x.c\"]}]}\n".to_vec(),
        ),
        ("x.c".to_string(), b"int x;\n".to_vec()),
    ]);
    let p = common::pack(&files);
    let tarball = format!("{url}/gyp/-/gyp-1.0.0.tgz");
    let doc = serde_json::json!({"name": "gyp", "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {
        "name": "gyp", "version": "1.0.0", "dist": {"tarball": tarball, "integrity": p.integrity}}}});
    server.serve(BTreeMap::from([
        (
            "/gyp".to_string(),
            ("application/json".to_string(), doc.to_string().into_bytes()),
        ),
        (
            "/gyp/-/gyp-1.0.0.tgz".to_string(),
            ("application/octet-stream".to_string(), p.tgz),
        ),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join(".home")).unwrap();
    write(
        d,
        ".npmrc",
        &format!("registry={url}/\naudit=false\nfund=false\n"),
    );
    write(
        d,
        "package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{\"gyp\":\"1.0.0\"}}\n",
    );
    let o = cmd(
        d,
        "npm",
        &["install", "--package-lock-only", "--ignore-scripts"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let host = url.trim_start_matches("http://").to_string();
    let turncoat = env!("CARGO_BIN_EXE_turncoat");

    let o = cmd(d, turncoat, &["install", "--allow-host", &host]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "package = \"gyp@1.0.0\"\nintegrity = \"{}\"",
            p.integrity
        )),
        "the implicit node-gyp rebuild is a script to approve: {out}"
    );
    assert!(!out.contains("node-gyp rebuild, implicit"), "{out}");

    write(
        d,
        "turncoat.toml",
        &format!(
            "[[allow-script]]\npackage = \"gyp@1.0.0\"\nintegrity = \"{}\"\nreason = \"test\"\n",
            p.integrity
        ),
    );
    let events = d.join("events");
    let o = cmd(
        d,
        turncoat,
        &[
            "install",
            "--allow-host",
            &host,
            "--events-dir",
            events.to_str().unwrap(),
        ],
    );
    let out = text(&o);
    assert!(
        out.contains("running install (node-gyp rebuild, implicit) of gyp@1.0.0"),
        "{out}"
    );
    // node-gyp ran, in the sandbox, in the package's directory (whether it could build: here
    // it cannot fetch Node's headers from nodejs.org, which the sandbox does not reach).
    let recorded = std::fs::read_to_string(events.join("01-gyp@1.0.0-install.jsonl")).unwrap();
    assert!(recorded.contains("node-gyp"), "{recorded}");
    assert!(!out.contains("package = \"gyp@1.0.0\""), "{out}");
}

/// Yarn: the registry serves another archive than the one the lockfile pins, and the
/// project's `.yarnrc.yml` says `checksumBehavior: ignore`. The approval matches the lockfile,
/// so if Yarn installed the other archive unverified its script would run as approved: our
/// `YARN_CHECKSUM_BEHAVIOR=throw` wins, the install fails, and nothing runs.
#[test]
fn yarn_cannot_be_told_to_ignore_checksums() {
    if !available("yarn_cannot_be_told_to_ignore_checksums", "yarn") {
        return;
    }
    let f = registry();
    let host = f.url.trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d, "yarn", &f, false);
    let real = yarn_checksum(d, "approved");
    let forged = format!("10c0/{}", "1".repeat(128));
    let lock = std::fs::read_to_string(d.join("yarn.lock")).unwrap();
    write(d, "yarn.lock", &lock.replace(&real, &forged));
    let rc = std::fs::read_to_string(d.join(".yarnrc.yml")).unwrap();
    write(d, ".yarnrc.yml", &(rc + "checksumBehavior: ignore\n"));
    write(
        d,
        "turncoat.toml",
        &format!(
            "[[allow-script]]\npackage = \"approved@1.0.0\"\nintegrity = \"{forged}\"\nreason = \"test\"\n"
        ),
    );
    let o = cmd(
        d,
        env!("CARGO_BIN_EXE_turncoat"),
        &["install", "--allow-host", &host],
    );
    let out = text(&o);
    assert!(
        !d.join("node_modules/approved/ran.txt").exists(),
        "an archive the lockfile does not pin ran as approved: {out}"
    );
    assert_ne!(o.status.code(), Some(0), "{out}");
}

/// npm, pnpm and Bun: the lockfile pins an integrity the registry's tarball does not have
/// (and pnpm's project settings turn its store check off): the install fails, so the
/// approval, which matches the lockfile, never runs another tarball's script.
#[test]
fn a_tarball_the_lockfile_does_not_pin_never_runs_as_approved() {
    let forged = format!("sha512-{}==", "B".repeat(86));
    for manager in ["npm", "pnpm", "bun"] {
        if !available(
            "a_tarball_the_lockfile_does_not_pin_never_runs_as_approved",
            manager,
        ) {
            return;
        }
        let f = registry();
        let host = f.url.trim_start_matches("http://").to_string();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        project(d, manager, &f, false);
        let file = match manager {
            "npm" => "package-lock.json",
            "pnpm" => "pnpm-lock.yaml",
            _ => "bun.lock",
        };
        let lock = std::fs::read_to_string(d.join(file)).unwrap();
        let real = &f.sri["approved"].0;
        assert!(lock.contains(real.as_str()), "{manager}: {lock}");
        write(d, file, &lock.replace(real.as_str(), &forged));
        if manager != "bun" {
            // No retries with back-off: the mismatch is final.
            let mut rc = std::fs::read_to_string(d.join(".npmrc")).unwrap();
            rc.push_str("fetch-retries=0\n");
            if manager == "pnpm" {
                rc.push_str("verify-store-integrity=false\n");
            }
            write(d, ".npmrc", &rc);
        }
        write(
            d,
            "turncoat.toml",
            &format!(
                "[[allow-script]]\npackage = \"approved@1.0.0\"\nintegrity = \"{forged}\"\nreason = \"test\"\n"
            ),
        );
        let o = cmd(
            d,
            env!("CARGO_BIN_EXE_turncoat"),
            &["install", "--allow-host", &host],
        );
        let out = text(&o);
        let ran = package_dirs_with_ran(d);
        assert!(ran.is_empty(), "{manager}: {ran:?} ran: {out}");
        assert_ne!(o.status.code(), Some(0), "{manager}: {out}");
    }
}

/// Every `ran.txt` under node_modules (any layout).
fn package_dirs_with_ran(d: &Path) -> Vec<String> {
    if !d.join("node_modules").exists() {
        return Vec::new();
    }
    tree(d)
        .into_keys()
        .filter(|k| k.ends_with("ran.txt"))
        .collect()
}

/// The "done when", per manager: turncoat.toml with `cooldown = "3d"` and two
/// approved scripts, `turncoat policy compile`, then `turncoat install`: only those two
/// scripts run, the dependency's before its dependent's.
#[test]
fn policy_compile_then_install_runs_only_the_two_approved_scripts() {
    for manager in ["npm", "pnpm", "yarn", "bun"] {
        if !available(
            "policy_compile_then_install_runs_only_the_two_approved_scripts",
            manager,
        ) {
            return;
        }
        let f = registry();
        let host = f.url.trim_start_matches("http://").to_string();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        project(d, manager, &f, false);
        let pin = |name: &str| {
            if manager == "yarn" {
                yarn_checksum(d, name)
            } else {
                f.sri[name].0.clone()
            }
        };
        let entry = |name: &str| {
            format!(
                "[[allow-script]]\npackage = \"{name}@1.0.0\"\nintegrity = \"{}\"\nreason = \"test\"\n\n",
                pin(name)
            )
        };
        write(
            d,
            "turncoat.toml",
            &format!("cooldown = \"3d\"\n\n{}{}", entry("approved"), entry("dep")),
        );
        let turncoat = env!("CARGO_BIN_EXE_turncoat");
        let o = cmd(d, turncoat, &["policy", "compile"]);
        assert_eq!(o.status.code(), Some(0), "{manager}: {}", text(&o));
        if manager == "yarn" {
            // Yarn keeps package.json's dependenciesMeta in yarn.lock (no scripts run).
            let o = cmd(d, "yarn", &["install", "--mode=update-lockfile"]);
            assert!(o.status.success(), "{}", text(&o));
        }
        let events = d.join(".events");
        let o = cmd(
            d,
            turncoat,
            &[
                "install",
                "--allow-host",
                &host,
                "--events-dir",
                events.to_str().unwrap(),
            ],
        );
        let out = text(&o);
        let t = tree(d);
        assert!(
            ran_in(&t, "approved") && ran_in(&t, "dep"),
            "{manager}: {out}"
        );
        assert!(
            !ran_in(&t, "swapped") && !ran_in(&t, "renamed"),
            "{manager}: {out}"
        );
        assert!(
            out.contains("2 approved install script(s) ran"),
            "{manager}: {out}"
        );
        assert!(
            events.join("01-dep@1.0.0-postinstall.jsonl").is_file()
                && events.join("02-approved@1.0.0-postinstall.jsonl").is_file(),
            "{manager}: the dependency's script runs first: {out}"
        );
    }
}
