//! Commands that measure a battlecard metric record it in the one store with `--record` (or
//! `[metrics] record = true`), and `turncoat metrics` / `turncoat report --html` read it back.

use std::path::Path;
use std::process::{Command, Output};

fn turncoat(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("TURNCOAT_DATABASE")
        .output()
        .expect("run turncoat")
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Pat")
        .env("GIT_AUTHOR_EMAIL", "pat.maintainer@gmail.com")
        .env("GIT_COMMITTER_NAME", "Pat")
        .env("GIT_COMMITTER_EMAIL", "pat.maintainer@gmail.com")
        .output()
        .expect("git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn recon_and_fortify_record_and_metrics_and_the_dashboard_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README"), "x\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    let db = dir.path().join("store.sqlite");
    let db = db.to_str().unwrap();
    let r = repo.to_str().unwrap();

    // Without --record nothing is stored.
    let o = turncoat(dir.path(), &["recon", r, "--database", db]);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!Path::new(db).exists());

    let o = turncoat(dir.path(), &["recon", r, "--record", "--database", db]);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = turncoat(dir.path(), &["fortify", r, "--record", "--database", db]);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = turncoat(
        dir.path(),
        &["metrics", "--format", "json", "--database", db],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = v
        .as_array()
        .or_else(|| v["metrics"].as_array())
        .expect("rows")
        .clone();
    let find = |metric: &str, scope_prefix: &str| {
        rows.iter()
            .find(|r| {
                r["metric"] == metric && r["scope"].as_str().unwrap_or("").starts_with(scope_prefix)
            })
            .cloned()
    };
    let personal = find("personal-emails-exposed", "repo:").expect(&text);
    assert_eq!(personal["value"], 1.0);
    assert!(find("personal-emails-exposed", "org:").is_some(), "{text}");
    assert_eq!(find("signed-commits-pct", "").expect(&text)["value"], 0.0);

    let html = dir.path().join("d.html");
    let o = turncoat(
        dir.path(),
        &["report", "--html", html.to_str().unwrap(), "--database", db],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("personal-emails-exposed") || page.contains("personal emails"),
        "dashboard lacks the recon tile"
    );

    // `[metrics] record = true` records without the flag.
    std::fs::write(
        dir.path().join("turncoat.toml"),
        "[metrics]\nrecord = true\n",
    )
    .unwrap();
    let db2 = dir.path().join("store2.sqlite");
    let o = turncoat(
        dir.path(),
        &["recon", r, "--database", db2.to_str().unwrap()],
    );
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(db2.exists(), "the policy's record = true was ignored");
}

/// `turncoat metrics --format json` rows of `db`.
fn metric_rows(cwd: &Path, db: &str) -> Vec<serde_json::Value> {
    let o = turncoat(cwd, &["metrics", "--format", "json", "--database", db]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["metrics"].as_array().expect("rows").clone()
}

#[test]
fn diff_records_gate_alerts_by_code() {
    use turncoat_gate::scenario::{Source, materialize};
    let dir = tempfile::tempdir().unwrap();
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios/replay-eslint-scope");
    let world = materialize(&Source::Disk(src), &dir.path().join("world")).unwrap();
    let db = dir.path().join("store.sqlite");
    let db = db.to_str().unwrap();
    let registry = format!("file://{}", world.registry.display());
    let cache = dir.path().join("cache");
    let args = |record: bool| {
        let mut a = vec![
            "diff".to_string(),
            world.base_lockfile.display().to_string(),
            world.head_lockfile.display().to_string(),
            "--registry".into(),
            registry.clone(),
            "--cache-dir".into(),
            cache.display().to_string(),
            "--database".into(),
            db.to_string(),
        ];
        if record {
            a.push("--record".into());
        }
        a
    };
    let run = |record: bool| {
        let a = args(record);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        turncoat(dir.path(), &a)
    };
    // Without --record: the verdict, and no store.
    let o = run(false);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!Path::new(db).exists());
    let o = run(true);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = metric_rows(dir.path(), db);
    let alerts = rows
        .iter()
        .find(|r| r["metric"] == "gate-alerts")
        .expect("gate-alerts recorded");
    let by_code = alerts["detail"]["by_code"].as_object().expect("by_code");
    assert!(by_code.contains_key("new-install-script"), "{by_code:?}");
    let total: f64 = by_code.values().map(|v| v.as_f64().unwrap()).sum();
    assert_eq!(alerts["value"].as_f64(), Some(total));
    assert!(alerts["detail"]["blocked"].as_u64() >= Some(1));
    assert_eq!(alerts["source"], "diff");

    // `[metrics] record = true` in the project's turncoat.toml records without the flag.
    let head_dir = world.head_lockfile.parent().unwrap();
    std::fs::write(head_dir.join("turncoat.toml"), "[metrics]\nrecord = true\n").unwrap();
    let db2 = dir.path().join("store2.sqlite");
    let mut a = args(false);
    let at = a.iter().position(|x| x == db).unwrap();
    a[at] = db2.display().to_string();
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = turncoat(dir.path(), &a);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = metric_rows(dir.path(), db2.to_str().unwrap());
    assert!(
        rows.iter().any(|r| r["metric"] == "gate-alerts"),
        "{rows:?}"
    );
}

#[test]
fn merge_times_records_the_median_time_to_merge() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let at = |t: i64, args: &[&str]| {
        let d = format!("@{t} +0000");
        let o = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "dependabot[bot]")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Pat")
            .env("GIT_COMMITTER_EMAIL", "pat@example.com")
            .env("GIT_AUTHOR_DATE", &d)
            .env("GIT_COMMITTER_DATE", &d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    at(1_000, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("package-lock.json"), "1").unwrap();
    at(1_000, &["add", "-A"]);
    at(1_000, &["commit", "-q", "-m", "one"]);
    at(1_000, &["checkout", "-q", "-b", "dep"]);
    std::fs::write(repo.join("package-lock.json"), "2").unwrap();
    at(2_000, &["commit", "-q", "-am", "bump"]);
    at(2_000, &["checkout", "-q", "main"]);
    at(5_600, &["merge", "-q", "--no-ff", "-m", "merge", "dep"]);

    let db = dir.path().join("store.sqlite");
    let db = db.to_str().unwrap();
    let r = repo.to_str().unwrap();
    let o = turncoat(
        dir.path(),
        &[
            "metrics",
            "merge-times",
            r,
            "--format",
            "json",
            "--record",
            "--database",
            db,
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["repos"][0]["median_seconds"], 3600.0);
    assert_eq!(v["repos"][0]["merges"][0]["bot"], true);
    let rows = metric_rows(dir.path(), db);
    let row = rows
        .iter()
        .find(|r| r["metric"] == "dependency-pr-time-to-merge")
        .expect("recorded");
    assert_eq!(row["value"], 3600.0);
    assert_eq!(row["stage"], "limit");
    // Human output names the median.
    let o = turncoat(dir.path(), &["metrics", "merge-times", r]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("median 1.0h"), "{text}");
}

#[test]
fn watch_records_blocked_builds_and_new_domains_against_the_baseline() {
    #![allow(clippy::print_stderr)]
    if Command::new("getent").arg("--help").output().is_err() {
        eprintln!("SKIPPED: no `getent` to look a name up with");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let db = db.to_str().unwrap();
    let watch = |extra: &[&str], script: &str| {
        let mut a = vec!["watch", "--baseline", "baseline.json", "--record"];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--database", db, "--", "sh", "-c", script]);
        turncoat(dir.path(), &a)
    };
    // The first run writes the baseline: nothing blocked, and no new-domain sample (there was
    // no baseline to compare with).
    let o = watch(&[], "true");
    if o.status.code() == Some(2) {
        eprintln!(
            "SKIPPED: the sandbox cannot run here: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return;
    }
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = metric_rows(dir.path(), db);
    let find =
        |rows: &[serde_json::Value], m: &str| rows.iter().find(|r| r["metric"] == m).cloned();
    assert_eq!(
        find(&rows, "egress-blocked-builds").expect("recorded")["value"],
        0.0
    );
    assert!(find(&rows, "new-unapproved-domains").is_none());

    // A lookup of a name the baseline does not list, under --block: one blocked build, one
    // new domain, named in the detail.
    let o = watch(&["--block"], "getent hosts turncoat-new.invalid; true");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = metric_rows(dir.path(), db);
    let blocked = find(&rows, "egress-blocked-builds").unwrap();
    assert_eq!(blocked["value"], 1.0);
    assert_eq!(
        blocked["detail"]["denied"],
        serde_json::json!(["turncoat-new.invalid"])
    );
    let new = find(&rows, "new-unapproved-domains").expect("recorded");
    assert_eq!(new["value"], 1.0);
    assert_eq!(
        new["detail"]["items"],
        serde_json::json!(["turncoat-new.invalid"])
    );

    // `[metrics] record = true` read before the run records without the flag; a turncoat.toml
    // the watched command writes during the run is not read.
    let db2 = dir.path().join("store2.sqlite");
    let db3 = dir.path().join("store3.sqlite");
    let plain = |db: &Path, script: &str| {
        turncoat(
            dir.path(),
            &[
                "watch",
                "--database",
                db.to_str().unwrap(),
                "--",
                "sh",
                "-c",
                script,
            ],
        )
    };
    let o = plain(
        &db3,
        "printf '[metrics]\\nrecord = true\\n' > turncoat.toml",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !db3.exists(),
        "a turncoat.toml written by the watched command was obeyed"
    );
    assert!(
        dir.path().join("turncoat.toml").exists(),
        "the command could not write the project"
    );
    let o = plain(&db2, "true");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = metric_rows(dir.path(), db2.to_str().unwrap());
    assert!(find(&rows, "egress-blocked-builds").is_some(), "{rows:?}");
}
