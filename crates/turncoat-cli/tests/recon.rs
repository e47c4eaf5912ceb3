//! `turncoat recon` as a user runs it, on a repository built by the test
//! (`crates/turncoat-recon/tests/fixture/mod.rs`): exit codes, every output format, stderr,
//! baselines, directories of repositories, and no secret in any stream.

#![allow(clippy::print_stderr)]

#[path = "../../turncoat-recon/tests/fixture/mod.rs"]
mod fixture;

use std::path::Path;
use std::process::{Command, Output};

use fixture::{CAP, EXPECT, Fixture};
use serde_json::Value;

fn run(cwd: &Path, args: &[&str]) -> Output {
    let home = cwd.join("home");
    std::fs::create_dir_all(&home).unwrap();
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run turncoat")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("UTF-8")
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "--- stdout\n{}\n--- stderr\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

fn fixture() -> Option<Fixture> {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return None;
    }
    Some(fixture::build())
}

const CAP_ARG: &str = "--max-blob-size";

fn cap() -> String {
    CAP.to_string()
}

#[test]
fn every_format_and_stderr_are_free_of_secrets() {
    let Some(fx) = fixture() else { return };
    let repo = fx.repo.display().to_string();
    for format in ["human", "json", "sarif", "markdown"] {
        let o = run(
            &fx.root,
            &["recon", &repo, CAP_ARG, &cap(), "--format", format, "-v"],
        );
        // secret-at-head and publish-token-in-history deny.
        assert_exit(&o, 1);
        fixture::assert_no_secret(&format!("{format} stdout"), &text(&o.stdout), &fx);
        fixture::assert_no_secret(&format!("{format} stderr"), &text(&o.stderr), &fx);
        assert!(
            text(&o.stderr).contains("recon: "),
            "progress on stderr: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn json_report_is_versioned_and_counts_exactly() {
    let Some(fx) = fixture() else { return };
    let repo = fx.repo.display().to_string();
    let o = run(
        &fx.root,
        &["recon", &repo, CAP_ARG, &cap(), "--format", "json", "-q"],
    );
    assert_exit(&o, 1);
    assert!(o.stderr.is_empty(), "--quiet: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["schema"], "turncoat-recon/1");
    assert_eq!(v["schema_version"], 1);
    let r = &v["repositories"][0];
    let m = &r["metrics"];
    assert_eq!(m["people"], EXPECT.people);
    assert_eq!(m["emails"], EXPECT.addresses);
    assert_eq!(m["personal_emails_exposed"], EXPECT.personal);
    assert_eq!(m["local_identities"], EXPECT.local);
    assert_eq!(m["secrets"], EXPECT.secrets);
    assert_eq!(m["publish_tokens"], EXPECT.publish_tokens);
    assert_eq!(m["secrets_at_head"], EXPECT.at_head);
    assert_eq!(r["stats"]["commits"], EXPECT.commits);
    assert_eq!(r["stats"]["blobs_not_scanned"], EXPECT.not_scanned);
    let head: Vec<&Value> = r["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["at_head"] == true)
        .collect();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0]["rule"], "github-token");
    assert_eq!(head[0]["path"], "src/at_head.js");
    assert_eq!(head[0]["line"], 1);
    assert_eq!(head[0]["redacted"]["prefix"], "gho_");
    assert_eq!(head[0]["redacted"]["len"], 40);
    let classes: Vec<&str> = r["people"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["emails"].as_array().unwrap())
        .map(|e| e["class"].as_str().unwrap())
        .collect();
    for c in ["noreply", "personal", "organisation", "local"] {
        assert!(classes.contains(&c), "{c} in {classes:?}");
    }
    assert_eq!(v["totals"]["findings"]["deny"], 5);
    assert_eq!(v["totals"]["findings"]["warn"], 11);
    assert_eq!(v["totals"]["findings"]["allow"], 2);
}

#[test]
fn markdown_report_snapshot() {
    let Some(fx) = fixture() else { return };
    let o = run(
        &fx.root,
        &[
            "recon",
            "repo",
            CAP_ARG,
            &cap(),
            "--format",
            "markdown",
            "-q",
        ],
    );
    assert_exit(&o, 1);
    insta::assert_snapshot!("recon_markdown", text(&o.stdout));
}

#[test]
fn a_baseline_silences_reviewed_findings_and_holds_no_secret() {
    let Some(fx) = fixture() else { return };
    let repo = fx.repo.display().to_string();
    let b = fx.root.join("baseline.json");
    let o = run(
        &fx.root,
        &[
            "recon",
            &repo,
            CAP_ARG,
            &cap(),
            "--write-baseline",
            &b.display().to_string(),
        ],
    );
    assert_exit(&o, 0);
    let written = std::fs::read_to_string(&b).unwrap();
    fixture::assert_no_secret("baseline file", &written, &fx);
    let v: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["fingerprints"].as_array().unwrap().len(), 18);
    let o = run(
        &fx.root,
        &[
            "recon",
            &repo,
            CAP_ARG,
            &cap(),
            "--baseline",
            &b.display().to_string(),
            "--format",
            "json",
        ],
    );
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["repositories"][0]["stats"]["baselined"], 18);
    // The committed default location is read without --baseline.
    std::fs::create_dir_all(fx.repo.join(".turncoat")).unwrap();
    std::fs::copy(&b, fx.repo.join(".turncoat/recon-baseline.json")).unwrap();
    assert_exit(&run(&fx.root, &["recon", &repo, CAP_ARG, &cap()]), 0);
    // A broken baseline is an error, not "nothing silenced" and not "everything silenced".
    std::fs::write(fx.repo.join(".turncoat/recon-baseline.json"), "{").unwrap();
    let o = run(&fx.root, &["recon", &repo]);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("baseline"), "{}", text(&o.stderr));
}

#[test]
fn a_directory_of_repositories_is_walked() {
    let Some(fx) = fixture() else { return };
    // A second repository (a clone) two levels down, and one inside node_modules (skipped).
    for dest in ["org2/copy", "node_modules/dep"] {
        let d = fx.root.join(dest);
        std::fs::create_dir_all(d.parent().unwrap()).unwrap();
        let st = Command::new("git")
            .args(["clone", "-q", "--no-local"])
            .arg(&fx.repo)
            .arg(&d)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .unwrap();
        assert!(st.success());
    }
    let o = run(
        &fx.root,
        &[
            "recon",
            &fx.root.display().to_string(),
            "--no-secrets",
            "--format",
            "json",
        ],
    );
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &v["totals"];
    assert_eq!(t["repositories"], 2);
    assert_eq!(t["commits"], 2 * EXPECT.commits, "a clone has every branch");
    // Totals count an address once across repositories.
    assert_eq!(t["people"], EXPECT.people);
    assert_eq!(t["personal_emails_exposed"], EXPECT.personal);
    let orgs = t["organisations"].as_array().unwrap();
    assert_eq!(orgs.len(), 2, "{orgs:?}");
    assert!(text(&o.stderr).contains("[2/2]"), "{}", text(&o.stderr));
}

#[test]
fn every_recon_code_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    for r in turncoat_recon::rules() {
        let o = run(dir.path(), &["explain", r.code]);
        assert_exit(&o, 0);
        assert!(text(&o.stdout).starts_with(&format!("# {}", r.code)));
    }
}

#[test]
fn bad_arguments_are_tool_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["recon", "--since", "last tuesday", "."]);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("--since"), "{}", text(&o.stderr));
    let o = run(dir.path(), &["recon", "."]);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("not a git repository"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn the_policy_sets_recon_levels() {
    let Some(fx) = fixture() else { return };
    let repo = fx.repo.display().to_string();
    let policy = fx.root.join("turncoat.toml");
    std::fs::write(
        &policy,
        "[levels]\nsecret-at-head = \"warn\"\npublish-token-in-history = \"warn\"\nlocal-identity-exposed = \"deny\"\n",
    )
    .unwrap();
    let p = policy.display().to_string();
    let o = run(
        &fx.root,
        &[
            "recon",
            &repo,
            CAP_ARG,
            &cap(),
            "--policy",
            &p,
            "--format",
            "json",
        ],
    );
    // Only the two local identities deny now.
    assert_exit(&o, 1);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["totals"]["findings"]["deny"], EXPECT.local_findings);
    std::fs::write(
        &policy,
        "[levels]\nsecret-at-head = \"warn\"\npublish-token-in-history = \"warn\"\n",
    )
    .unwrap();
    let o = run(&fx.root, &["recon", &repo, CAP_ARG, &cap(), "--policy", &p]);
    assert_exit(&o, 0);
}
