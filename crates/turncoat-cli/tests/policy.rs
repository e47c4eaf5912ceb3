//! `turncoat policy compile`: writes and checks every manager's settings from turncoat.toml,
//! refuses links out of the project, and — with the real clients (pnpm, Yarn 4, Bun, installed
//! by `.ci/run`) against a registry on 127.0.0.1 — the written cooldown makes each client
//! refuse a version younger than the cooldown that it installs without it.

#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

const SRI: &str = "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

fn turncoat(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run turncoat")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, rel: &str, body: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn policy() -> String {
    format!(
        "cooldown = \"3d\"\n\n[[allow-script]]\npackage = \"esbuild@0.25.0\"\nintegrity = \"{SRI}\"\nreason = \"platform binary\"\n\n[[allow-script]]\npackage = \"sharp@0.33.5\"\nintegrity = \"{SRI}\"\nreason = \"libvips\"\n"
    )
}

#[test]
fn compile_writes_check_detects_drift_and_a_second_run_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "turncoat.toml", &policy());
    write(d, "package.json", "{\n  \"name\": \"app\"\n}\n");
    write(d, "package-lock.json", "{}\n");
    write(d, "pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    write(
        d,
        ".github/dependabot.yml",
        "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n    schedule:\n      interval: daily\n",
    );

    let o = turncoat(d, &["policy", "compile", "--check"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("min-release-age: (not set) -> 3"),
        "{}",
        text(&o)
    );
    assert!(!d.join(".npmrc").exists(), "--check wrote a file");

    let o = turncoat(d, &["policy", "compile"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join(".npmrc")).unwrap(),
        "min-release-age=3\n"
    );
    let ws = std::fs::read_to_string(d.join("pnpm-workspace.yaml")).unwrap();
    assert!(ws.contains("minimumReleaseAge: 4320"), "{ws}");
    assert!(ws.contains("esbuild@0.25.0"), "{ws}");
    let dep = std::fs::read_to_string(d.join(".github/dependabot.yml")).unwrap();
    assert!(dep.contains("default-days: 3"), "{dep}");

    let o = turncoat(d, &["policy", "compile", "--check", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["plan"]["edits"], serde_json::json!([]));
    assert_eq!(v["cooldown_secs"], 259_200);
}

#[test]
fn an_old_pinned_client_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "turncoat.toml", "cooldown = \"1d\"\n");
    write(d, "package.json", "{\"packageManager\": \"pnpm@9.15.0\"}\n");
    write(d, "pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    assert_eq!(code(&turncoat(d, &["policy", "compile"])), 0);
    let o = turncoat(d, &["policy", "compile", "--check"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("[manager-too-old]"), "{}", text(&o));
}

#[test]
fn links_out_of_the_project_are_refused_and_nothing_is_written_through_them() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("bashrc");
    std::fs::write(&victim, "echo hi\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "turncoat.toml", "cooldown = \"3d\"\n");
    write(d, "package-lock.json", "{}\n");
    std::os::unix::fs::symlink(&victim, d.join(".npmrc")).unwrap();
    let o = turncoat(d, &["policy", "compile"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "echo hi\n");

    // A directory on the way that is a link: `.github -> outside`.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "turncoat.toml", "cooldown = \"3d\"\n");
    write(
        outside.path(),
        "dependabot.yml",
        "version: 2\nupdates: []\n",
    );
    std::os::unix::fs::symlink(outside.path(), d.join(".github")).unwrap();
    let o = turncoat(d, &["policy", "compile"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(outside.path().join("dependabot.yml")).unwrap(),
        "version: 2\nupdates: []\n"
    );
}

#[test]
fn without_an_install_policy_or_a_manager_it_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "package-lock.json", "{}\n");
    let o = turncoat(d, &["policy", "compile"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o).contains("cooldown = \\\"3d\\\"") || text(&o).contains("cooldown = \"3d\""),
        "{}",
        text(&o)
    );
    std::fs::remove_file(d.join("package-lock.json")).unwrap();
    write(d, "turncoat.toml", "cooldown = \"3d\"\n");
    let o = turncoat(d, &["policy", "compile"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("no package manager"), "{}", text(&o));
    write(d, "turncoat.toml", "cooldown = \"3 days\"\n");
    write(d, "package-lock.json", "{}\n");
    let o = turncoat(d, &["policy", "compile"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("turncoat.toml:1:"), "{}", text(&o));
}

// ---- the real clients -------------------------------------------------------------------

/// A registry with `young-pkg` 1.0.0 (30 days old) and 1.1.0 (one hour old).
struct Registry {
    url: String,
}

fn iso(secs: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn start_registry() -> Registry {
    // The URL is needed inside the packument: reserve the routes first, then serve.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut routes: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
    let mut versions = serde_json::Map::new();
    let mut packed = Vec::new();
    for v in ["1.0.0", "1.1.0"] {
        let files = BTreeMap::from([(
            "package.json".to_string(),
            format!("{{\"name\":\"young-pkg\",\"version\":\"{v}\"}}").into_bytes(),
        )]);
        packed.push((v, common::pack(&files)));
    }
    let server = common::StaticServer::bind();
    let url = server.url.clone();
    for (v, p) in &packed {
        let file = format!("young-pkg-{v}.tgz");
        versions.insert(
            (*v).into(),
            serde_json::json!({
                "name": "young-pkg", "version": v,
                "dist": {
                    "tarball": format!("{url}/young-pkg/-/{file}"),
                    "integrity": p.integrity, "shasum": p.shasum,
                }
            }),
        );
        routes.insert(
            format!("/young-pkg/-/{file}"),
            ("application/octet-stream".into(), p.tgz.clone()),
        );
    }
    let packument = serde_json::json!({
        "name": "young-pkg",
        "dist-tags": {"latest": "1.1.0"},
        "versions": versions,
        "time": {
            "created": iso(now - 30 * 86_400),
            "modified": iso(now - 3_600),
            "1.0.0": iso(now - 30 * 86_400),
            "1.1.0": iso(now - 3_600),
        }
    });
    routes.insert(
        "/young-pkg".into(),
        (
            "application/json".into(),
            packument.to_string().into_bytes(),
        ),
    );
    server.serve(routes);
    Registry { url }
}

/// The clients `.ci/run` installs (TURNCOAT_PM_TOOLS: a directory with node_modules/.bin).
fn tool(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("TURNCOAT_PM_TOOLS").map(PathBuf::from)?;
    let p = match name {
        "yarn" => dir.join("node_modules/@yarnpkg/cli-dist/bin/yarn.js"),
        other => dir.join("node_modules/.bin").join(other),
    };
    p.exists().then_some(p)
}

fn clients_available(test: &str) -> bool {
    let missing: Vec<&str> = ["pnpm", "yarn", "bun"]
        .into_iter()
        .filter(|t| tool(t).is_none())
        .collect();
    if missing.is_empty() && common::on_path("node") {
        return true;
    }
    assert!(
        std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
        "{test}: {missing:?} not installed (TURNCOAT_PM_TOOLS) and TURNCOAT_TEST_REQUIRE_TOOLS is set"
    );
    eprintln!(
        "SKIPPED {test}: set TURNCOAT_PM_TOOLS to a directory with pnpm, @yarnpkg/cli-dist and bun installed (.ci/run does)"
    );
    false
}

fn run(dir: &Path, program: &Path, args: &[&str]) -> Output {
    let mut cmd = if program.extension().is_some_and(|e| e == "js") {
        let mut c = Command::new("node");
        c.arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir.join(".home"))
        .env("XDG_CACHE_HOME", dir.join(".cache"))
        .env("COREPACK_ENABLE_STRICT", "0")
        .env("CI", "true")
        .env_remove("npm_config_registry")
        .output()
        .expect("run client")
}

fn installed_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules/young-pkg/package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// One client: without the compiled settings it installs the one-hour-old 1.1.0; after
/// `turncoat policy compile` (cooldown 3d) it installs the mature 1.0.0 instead.
fn client_case(name: &str, registry: &Registry, setup: &dyn Fn(&Path), install: &[&str]) {
    let program = tool(name).unwrap();
    for compiled in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "package.json",
            "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": { \"young-pkg\": \"^1.0.0\" }\n}\n",
        );
        setup(d);
        if compiled {
            write(d, "turncoat.toml", "cooldown = \"3d\"\n");
            let o = turncoat(d, &["policy", "compile"]);
            assert_eq!(code(&o), 0, "{name}: {}", text(&o));
        }
        let o = run(d, &program, install);
        let got = installed_version(d);
        eprintln!("{name} compiled={compiled}: {got:?}");
        let want = if compiled { "1.0.0" } else { "1.1.0" };
        assert_eq!(
            got.as_deref(),
            Some(want),
            "{name} (compiled: {compiled}) against {}: {}",
            registry.url,
            text(&o)
        );
    }
}

#[test]
fn real_clients_refuse_a_version_younger_than_the_compiled_cooldown() {
    if !clients_available("real_clients_refuse_a_version_younger_than_the_compiled_cooldown") {
        return;
    }
    let registry = start_registry();
    let url = registry.url.clone();
    client_case(
        "pnpm",
        &registry,
        &|d| {
            write(d, ".npmrc", &format!("registry={url}/\n"));
            write(d, "pnpm-workspace.yaml", "packages: []\n");
        },
        &["install", "--no-frozen-lockfile"],
    );
    let url = registry.url.clone();
    client_case(
        "yarn",
        &registry,
        &|d| {
            // Yarn ≥ 4.15 gates one day by default: the control switches it off.
            write(
                d,
                ".yarnrc.yml",
                &format!(
                    "npmRegistryServer: \"{url}\"\nunsafeHttpWhitelist:\n  - 127.0.0.1\nnodeLinker: node-modules\nenableGlobalCache: false\nnpmMinimalAgeGate: 0\nenableTelemetry: false\n"
                ),
            );
            write(d, "yarn.lock", "");
        },
        &["install", "--no-immutable", "--mode=skip-build"],
    );
    let url = registry.url.clone();
    client_case(
        "bun",
        &registry,
        &|d| {
            write(
                d,
                "bunfig.toml",
                &format!("[install]\nregistry = \"{url}/\"\n"),
            )
        },
        &["install", "--ignore-scripts"],
    );
}
