//! Time-to-merge of dependency-update merges on a repository built here with known times, and
//! on the real express history (`../shared/repos/express.bundle`, when present) against what
//! `git` itself says.

#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::Command;

use turncoat_posture::merges::{MergeLimits, merge_times};

fn git_available() -> bool {
    Command::new("git").arg("--version").output().is_ok()
}

/// `git` with no user or system configuration, a fixed identity and both dates at `t`.
fn git_at(dir: &Path, t: i64, author: &str, args: &[&str]) -> String {
    let date = format!("@{t} +0000");
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", author)
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Maintainer")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, 1_000, "Dev", args)
}

fn commit(dir: &Path, t: i64, author: &str, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    git_at(dir, t, author, &["add", "-A"]);
    git_at(dir, t, author, &["commit", "-q", "-m", &format!("at {t}")]);
}

fn merge(dir: &Path, t: i64, branch: &str) {
    git_at(
        dir,
        t,
        "Maintainer",
        &["merge", "-q", "--no-ff", "-m", "merge", branch],
    );
}

#[test]
fn known_merge_times_are_measured_from_the_branch_first_commit() {
    if !git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    git(r, &["init", "-q", "-b", "main"]);
    commit(
        r,
        1_000,
        "Dev",
        &[("package.json", "{}"), ("package-lock.json", "1")],
    );

    // A dependency update: two commits (the first at 2000), merged at 9200 → 7200 s.
    git(r, &["checkout", "-q", "-b", "dep1"]);
    commit(r, 2_000, "Dev", &[("package-lock.json", "2")]);
    commit(r, 2_500, "Dev", &[("package.json", "{\"a\":1}")]);
    git(r, &["checkout", "-q", "main"]);
    commit(r, 3_000, "Dev", &[("README", "x")]);
    merge(r, 9_200, "dep1");

    // A feature branch without a lockfile change: a merge, not a dependency update.
    git(r, &["checkout", "-q", "-b", "feat"]);
    commit(r, 10_000, "Dev", &[("src/a.js", "1")]);
    git(r, &["checkout", "-q", "main"]);
    merge(r, 12_000, "feat");

    // A nested lockfile, 600 s.
    git(r, &["checkout", "-q", "-b", "dep2"]);
    commit(r, 13_000, "Dev", &[("web/yarn.lock", "y")]);
    git(r, &["checkout", "-q", "main"]);
    merge(r, 13_600, "dep2");

    // A lockfile under node_modules is not the project's.
    git(r, &["checkout", "-q", "-b", "vendored"]);
    commit(
        r,
        14_000,
        "Dev",
        &[("node_modules/x/package-lock.json", "v")],
    );
    git(r, &["checkout", "-q", "main"]);
    merge(r, 14_500, "vendored");

    // Dependabot: 60 s, flagged as a bot.
    git(r, &["checkout", "-q", "-b", "dependabot/npm/x"]);
    commit(r, 15_000, "dependabot[bot]", &[("package-lock.json", "3")]);
    git(r, &["checkout", "-q", "main"]);
    merge(r, 15_060, "dependabot/npm/x");

    // A lockfile changed on main directly (no merge) is not a merge.
    commit(r, 16_000, "Dev", &[("package-lock.json", "4")]);

    let t = merge_times(r, &MergeLimits::default()).unwrap();
    assert_eq!(t.branch, "main");
    assert_eq!(t.merges_seen, 4 + 1);
    assert_eq!(t.skipped, 0);
    let got: Vec<(i64, usize, bool, Vec<String>)> = t
        .merges
        .iter()
        .map(|m| (m.seconds, m.branch_commits, m.bot, m.lockfiles.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (7_200, 2, false, vec!["package-lock.json".to_string()]),
            (600, 1, false, vec!["web/yarn.lock".to_string()]),
            (60, 1, true, vec!["package-lock.json".to_string()]),
        ]
    );
    assert_eq!(t.merges[0].first_commit_at, 2_000);
    assert_eq!(t.merges[0].merged_at, 9_200);
    assert_eq!(t.median(), Some(600.0));
    let s = t.samples(time::OffsetDateTime::from_unix_timestamp(20_000).unwrap());
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].value, 600.0);
    assert_eq!(s[0].detail["bot_merges"], 1);
}

#[test]
fn a_branch_that_merged_main_in_counts_only_its_own_commits() {
    if !git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    git(r, &["init", "-q", "-b", "main"]);
    commit(r, 1_000, "Dev", &[("Cargo.lock", "1")]);
    git(r, &["checkout", "-q", "-b", "dep"]);
    commit(r, 5_000, "Dev", &[("Cargo.lock", "2")]);
    git(r, &["checkout", "-q", "main"]);
    // Older than the branch's first commit, on main: must not count as the branch's.
    commit(r, 4_000, "Dev", &[("README", "1")]);
    git(r, &["checkout", "-q", "dep"]);
    git_at(
        r,
        6_000,
        "Dev",
        &["merge", "-q", "--no-ff", "-m", "update from main", "main"],
    );
    git(r, &["checkout", "-q", "main"]);
    merge(r, 8_000, "dep");
    let t = merge_times(r, &MergeLimits::default()).unwrap();
    assert_eq!(t.merges.len(), 1, "{t:?}");
    // The branch: its own commit and the merge of main into it.
    assert_eq!(t.merges[0].branch_commits, 2);
    assert_eq!(t.merges[0].seconds, 3_000);
}

#[test]
fn an_empty_repository_and_a_non_repository() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(merge_times(tmp.path(), &MergeLimits::default()).is_err());
    if !git_available() {
        return;
    }
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    let t = merge_times(tmp.path(), &MergeLimits::default()).unwrap();
    assert_eq!((t.merges_seen, t.merges.len()), (0, 0));
    assert!(t.samples(time::OffsetDateTime::UNIX_EPOCH).is_empty());
}

/// What `git` says the merge times are, for merges on the first-parent chain of HEAD whose
/// diff against their first parent touches a file named one of `names`.
fn git_merge_times(repo: &Path, names: &[&str]) -> Vec<(String, i64, usize)> {
    let merges = git(repo, &["rev-list", "--first-parent", "--merges", "HEAD"]);
    let mut out = Vec::new();
    for m in merges.lines() {
        let changed = git(
            repo,
            &["diff", "--no-renames", "--name-only", &format!("{m}^1"), m],
        );
        let hit = changed.lines().any(|p| {
            let file = p.rsplit('/').next().unwrap_or(p);
            names.contains(&file) && !p.split('/').any(|d| d == "node_modules")
        });
        if !hit {
            continue;
        }
        let parents = git(repo, &["rev-list", "--parents", "-n", "1", m]);
        let parents: Vec<&str> = parents.split_whitespace().skip(1).collect();
        let mut range = vec!["log".to_string(), "--format=%at".to_string()];
        range.push(format!("^{}", parents[0]));
        range.extend(parents[1..].iter().map(|p| p.to_string()));
        let args: Vec<&str> = range.iter().map(String::as_str).collect();
        let authors: Vec<i64> = git(repo, &args)
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        let merged: i64 = git(repo, &["log", "-1", "--format=%ct", m])
            .trim()
            .parse()
            .unwrap();
        if let Some(first) = authors.iter().min()
            && merged >= *first
        {
            out.push((m.to_string(), merged - first, authors.len()));
        }
    }
    out.reverse();
    out
}

#[test]
fn express_merge_times_match_git() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/repos/express.bundle");
    if !bundle.is_file() {
        eprintln!(
            "SKIPPED express_merge_times_match_git: {} is absent",
            bundle.display()
        );
        return;
    }
    if !git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("express");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            &bundle.display().to_string(),
            &clone.display().to_string(),
        ],
    );
    let merges_seen = git(&clone, &["rev-list", "--first-parent", "--merges", "HEAD"])
        .lines()
        .count();
    // The lockfiles (express commits none; the count must still agree) and, to exercise the
    // times on real merges, package.json as if it were one.
    for names in [turncoat_posture::merges::LOCKFILES, &["package.json"][..]] {
        let limits = MergeLimits {
            files: names.iter().map(|s| s.to_string()).collect(),
            ..MergeLimits::default()
        };
        let t = merge_times(&clone, &limits).unwrap();
        assert_eq!(t.merges_seen, merges_seen);
        let ours: Vec<(String, i64, usize)> = t
            .merges
            .iter()
            .map(|m| (m.merge.clone(), m.seconds, m.branch_commits))
            .collect();
        let theirs = git_merge_times(&clone, names);
        assert_eq!(ours, theirs, "files {names:?}");
        eprintln!(
            "express, {names:?}: {} merges seen, {} measured, median {:?} s",
            t.merges_seen,
            t.merges.len(),
            t.median()
        );
        if names == ["package.json"] {
            assert!(t.merges.len() > 10, "{}", t.merges.len());
        }
    }
}
