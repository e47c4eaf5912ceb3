//! Every scenario under `fixtures/scenarios/` (incident replays and benign controls) and the
//! bundled demo, run through the whole gate offline: each package must get the verdict the
//! scenario expects, with the finding codes it names.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use turncoat_gate::scenario::{Expect, Materialized, Source, materialize};
use turncoat_report::Report;

/// 2026-11-27T00:00:00Z: fixed so cooldown findings do not depend on the day the test runs.
const NOW: i64 = 1_795_737_600;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn run_gate(world: &Materialized, base: &Path, head: &Path, cache: &Path) -> Report {
    let base = turncoat_lockfile::read(base).expect("base lockfile parses");
    let head = turncoat_lockfile::read(head).expect("head lockfile parses");
    let policy = turncoat_policy::Policy::builtin(&turncoat_gate::all_rules());
    let registry = format!("file://{}", world.registry.display());
    let config =
        turncoat_registry::RegistryConfig::load(cache, Some(&registry)).expect("registry config");
    let cache = turncoat_registry::Cache::new(cache);
    let client =
        turncoat_registry::Client::new(config, cache, turncoat_registry::ClientOptions::default())
            .expect("client");
    let keys = turncoat_attest::Keys::embedded().unwrap();
    let root = turncoat_attest::TrustRoot::embedded();
    let ctx = turncoat_gate::GateContext {
        client: &client,
        policy: &policy,
        now_unix: NOW,
        keys: &keys,
        trust_root: &root,
        progress: &turncoat_registry::NoProgress,
        jobs: 1,
        detonator: None,
    };
    turncoat_gate::diff(&base, &head, &ctx).expect("gate runs")
}

fn check(name: &str, expected: &BTreeMap<String, Expect>, report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    // Every code the gate emitted on a replay is a registered rule.
    let registered: std::collections::BTreeSet<&str> =
        turncoat_gate::all_rules().iter().map(|r| r.code).collect();
    for f in report.packages.iter().flat_map(|p| &p.findings) {
        if !registered.contains(f.code.as_str()) {
            problems.push(format!("{name}: emitted unregistered code {}", f.code));
        }
    }
    for (pkg, expect) in expected {
        let got: Vec<_> = report
            .packages
            .iter()
            .filter(|p| &p.name == pkg && p.to.is_some())
            .collect();
        if got.is_empty() {
            problems.push(format!("{name}: {pkg} is not in the report"));
            continue;
        }
        let verdict = got
            .iter()
            .map(|p| p.verdict)
            .max()
            .map(|v| v.as_str())
            .unwrap_or("pass");
        if verdict != expect.verdict() {
            let codes: Vec<String> = got
                .iter()
                .flat_map(|p| {
                    p.findings
                        .iter()
                        .map(|f| format!("{}({})", f.code, f.level))
                })
                .collect();
            problems.push(format!(
                "{name}: {pkg} expected {}, got {verdict}; findings: {}",
                expect.verdict(),
                codes.join(", ")
            ));
        }
        for code in expect.codes() {
            if !got
                .iter()
                .any(|p| p.findings.iter().any(|f| &f.code == code))
            {
                problems.push(format!("{name}: {pkg} should have a {code} finding"));
            }
        }
    }
    problems
}

#[test]
fn incident_replays_and_benign_controls() {
    let dir = repo_root().join("fixtures/scenarios");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("scenario.toml").is_file())
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 5,
        "expected the incident replays in {}",
        dir.display()
    );
    let mut problems = Vec::new();
    // `TURNCOAT_SCENARIO_SUMMARY=FILE` writes the verdicts and codes as a Markdown table
    // (how docs/quality.md is refreshed).
    let mut summary = String::from(
        "| scenario | pair | package | expected | got | deny/warn codes |\n|---|---|---|---|---|---|\n",
    );
    let mut note =
        |scenario: &str, pair: &str, expected: &BTreeMap<String, Expect>, report: &Report| {
            for (pkg, e) in expected {
                let got: Vec<_> = report
                    .packages
                    .iter()
                    .filter(|p| &p.name == pkg && p.to.is_some())
                    .collect();
                let verdict = got
                    .iter()
                    .map(|p| p.verdict)
                    .max()
                    .map(|v| v.as_str())
                    .unwrap_or("absent");
                let mut codes: Vec<String> = got
                    .iter()
                    .flat_map(|p| p.findings.iter())
                    .filter(|f| f.level != turncoat_finding::Level::Allow)
                    .map(|f| format!("`{}`", f.code))
                    .collect();
                codes.dedup();
                summary.push_str(&format!(
                    "| {scenario} | {pair} | {pkg} | {} | {verdict} | {} |\n",
                    e.verdict(),
                    codes.join(" ")
                ));
            }
        };
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let tmp = tempfile::tempdir().unwrap();
        let world =
            materialize(&Source::Disk(path.clone()), tmp.path()).unwrap_or_else(|e| panic!("{e}"));
        let cache = tmp.path().join("cache");
        let report = run_gate(&world, &world.base_lockfile, &world.head_lockfile, &cache);
        problems.extend(check(&name, &world.spec.expect, &report));
        note(&name, "attack", &world.spec.expect, &report);
        for (i, control) in world.controls.iter().enumerate() {
            let report = run_gate(
                &world,
                &control.base_lockfile,
                &control.head_lockfile,
                &cache,
            );
            note(
                &name,
                &format!("control {}", i + 1),
                &control.expect,
                &report,
            );
            problems.extend(check(
                &format!("{name} control {} ({})", i + 1, control.description),
                &control.expect,
                &report,
            ));
        }
    }
    if let Some(out) = std::env::var_os("TURNCOAT_SCENARIO_SUMMARY") {
        std::fs::write(out, &summary).unwrap();
    }
    assert!(
        problems.is_empty(),
        "scenario expectations not met:\n{}",
        problems.join("\n")
    );
}

#[test]
fn demo_blocks_the_takeover_and_passes_the_benign_update() {
    let tmp = tempfile::tempdir().unwrap();
    let world = turncoat_gate::demo::materialize_seed(tmp.path()).unwrap();
    let report = run_gate(
        &world,
        &world.base_lockfile,
        &world.head_lockfile,
        &tmp.path().join("cache"),
    );
    let problems = check("demo", &world.spec.expect, &report);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(report.blocked());
    // The JSON report is the documented contract: snapshot it.
    let json =
        turncoat_report::json::render(&report).replace(&tmp.path().display().to_string(), "[tmp]");
    insta::assert_snapshot!("demo_report_json", json);
}
