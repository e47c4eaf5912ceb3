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
