//! Whole-history scans of repositories built by the test (see `fixture/mod.rs`) and of the
//! real express history (`../shared/repos/express.bundle`, when present).

#![allow(clippy::print_stderr)]

mod fixture;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use fixture::{CAP, EXPECT, Fixture};
use turncoat_finding::Level;
use turncoat_recon::baseline::Baseline;
use turncoat_recon::detect::SecretKind;
use turncoat_recon::history::{RepoFacts, ScanOptions, scan_repo};
use turncoat_recon::report::{self, ReconReport, RepoReport};

fn capped() -> ScanOptions {
    ScanOptions {
        max_blob_bytes: CAP,
        ..ScanOptions::default()
    }
}

fn scan(path: &Path, opts: &ScanOptions) -> RepoFacts {
    scan_repo(path, opts, &|_| {}).expect("scan")
}

fn default_level(code: &str) -> Level {
    turncoat_recon::rules()
        .iter()
        .find(|r| r.code == code)
        .map(|r| r.default_level)
        .expect("a recon code")
}

fn judge(facts: &RepoFacts, baseline: &Baseline) -> RepoReport {
    report::judge(facts, &default_level, baseline)
}

fn count(r: &RepoReport, code: &str) -> usize {
    r.findings.iter().filter(|f| f.finding.code == code).count()
}

fn fixture() -> Option<Fixture> {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return None;
    }
    Some(fixture::build())
}

#[test]
fn fixture_identities_and_secrets_are_counted_exactly() {
    let Some(fx) = fixture() else { return };
    let facts = scan(&fx.repo, &capped());
    let r = judge(&facts, &Baseline::default());
    let m = &r.metrics;
    assert_eq!(r.stats.commits, EXPECT.commits);
    assert_eq!(m.people, EXPECT.people);
    assert_eq!(m.emails, EXPECT.addresses);
    assert_eq!(m.personal_emails_exposed, EXPECT.personal);
    assert_eq!(m.organisation_emails, EXPECT.organisation);
    assert_eq!(m.noreply_emails, EXPECT.noreply);
    assert_eq!(m.local_identities, EXPECT.local);
    assert_eq!(m.secrets, EXPECT.secrets, "{:#?}", r.secrets);
    assert_eq!(m.publish_tokens, EXPECT.publish_tokens);
    assert_eq!(m.secrets_at_head, EXPECT.at_head);
    assert_eq!(r.stats.blobs_not_scanned, EXPECT.not_scanned);
    assert_eq!(r.stats.binary_blobs, 1);
    assert_eq!(
        count(&r, "personal-email-exposed"),
        EXPECT.personal_findings
    );
    assert_eq!(count(&r, "local-identity-exposed"), EXPECT.local_findings);
    assert_eq!(
        count(&r, "publish-token-in-history"),
        EXPECT.publish_findings
    );
    assert_eq!(count(&r, "secret-in-history"), EXPECT.history_findings);
    assert_eq!(count(&r, "secret-at-head"), EXPECT.head_findings);
    assert_eq!(count(&r, "history-blob-not-scanned"), 1);

    // .mailmap: alice's gmail address is listed under her organisation address.
    let alice = r
        .people
        .iter()
        .find(|p| p.email == "alice@acme-corp.io")
        .expect("alice");
    assert_eq!(alice.name, "Alice Org");
    assert_eq!(alice.commits, 6);
    let addrs: BTreeSet<&str> = alice.emails.iter().map(|e| e.email.as_str()).collect();
    assert_eq!(
        addrs,
        BTreeSet::from(["alice.personal@gmail.com", "alice@acme-corp.io"])
    );
    let dave = r.people.iter().find(|p| p.email.contains("dave")).unwrap();
    assert_eq!(dave.commits, 22);
    // Carol's commits were committed by root@buildbox: both are people, sharing 2 commits.
    let root = r
        .people
        .iter()
        .find(|p| p.email == "root@buildbox")
        .unwrap();
    assert_eq!(root.commits, 2);

    let kinds: BTreeSet<SecretKind> = r.secrets.iter().map(|s| s.rule).collect();
    // Every detector fired (ghp_, ghs_ and gho_ are all `github-token`).
    assert_eq!(kinds, BTreeSet::from(SecretKind::ALL), "{kinds:?}");
    let find = |k: SecretKind| r.secrets.iter().find(|s| s.rule == k).unwrap();
    let npm = find(SecretKind::NpmAccessToken);
    assert_eq!(
        (npm.path.as_str(), npm.line, npm.blobs),
        (".npmrc", Some(1), 2)
    );
    assert!(!npm.at_head);
    assert_eq!(npm.author_email, "alice.personal@gmail.com");
    assert!(find(SecretKind::AwsAccessKey).paired_secret);
    let bin = find(SecretKind::GithubToken);
    let gho = r
        .secrets
        .iter()
        .filter(|s| s.rule == SecretKind::GithubToken)
        .find(|s| s.at_head)
        .expect("gho_ at HEAD");
    assert_eq!(gho.head_path.as_deref(), Some("src/at_head.js"));
    assert_eq!(gho.line, Some(1));
    let binary = r
        .secrets
        .iter()
        .find(|s| s.path == "assets/logo.bin")
        .expect("token in the binary file");
    assert_eq!(binary.line, None);
    assert!(bin.redacted.prefix.len() <= 4);
    let glpat = find(SecretKind::GitlabToken);
    assert_eq!(glpat.path, ".gitlab-ci.yml");
    assert_eq!(r.not_scanned[0].path, "dump.sql", "the huge blob is capped");
    assert!(r.not_scanned[0].size > CAP);
    for s in &r.secrets {
        assert!(s.redacted.prefix.chars().count() <= 4, "{s:?}");
    }

    // No renderer shows a secret.
    let report = ReconReport::new(vec![r]);
    for (what, text) in [
        ("json", report::render_json(&report)),
        ("human", report::render_human(&report, 100, true)),
        ("markdown", report::render_markdown(&report)),
        (
            "sarif",
            report::render_sarif(&report, &turncoat_recon::rules()),
        ),
        ("debug", format!("{facts:?}")),
    ] {
        fixture::assert_no_secret(what, &text, &fx);
    }
    assert!(report.violation(), "secret-at-head and publish tokens deny");
}

#[test]
fn since_limits_the_commits_and_blobs_in_scope() {
    let Some(fx) = fixture() else { return };
    // Commit 15 (the gho_ token) is at 2020-01-16T12:00Z; the branch commit is day 36.
    let opts = ScanOptions {
        since: turncoat_recon::history::parse_since("2020-01-16T12:00:00Z"),
        ..capped()
    };
    let r = judge(&scan(&fx.repo, &opts), &Baseline::default());
    assert_eq!(r.stats.commits, 22);
    let rules: BTreeSet<SecretKind> = r.secrets.iter().map(|s| s.rule).collect();
    assert_eq!(
        rules,
        BTreeSet::from([SecretKind::GithubToken, SecretKind::GitlabToken])
    );
    assert_eq!(r.metrics.personal_emails_exposed, 0);
    assert_eq!(r.stats.blobs_not_scanned, 0);
}

#[test]
fn the_baseline_silences_by_fingerprint_only() {
    let Some(fx) = fixture() else { return };
    let facts = scan(&fx.repo, &capped());
    let first = judge(&facts, &Baseline::default());
    let all = first.findings.len();
    assert_eq!(all, 18);
    let baseline = Baseline::of(first.findings.iter().map(|f| f.fingerprint.clone()));
    fixture::assert_no_secret("baseline", &baseline.to_json(), &fx);
    let again = judge(&facts, &baseline);
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    assert_eq!(again.stats.baselined, all);
    // One entry less: exactly that finding is back.
    let mut partial = baseline.clone();
    let gone = first
        .findings
        .iter()
        .find(|f| f.finding.code == "secret-at-head")
        .unwrap();
    partial.fingerprints.remove(&gone.fingerprint);
    let back = judge(&facts, &partial);
    assert_eq!(back.findings.len(), 1);
    assert_eq!(back.findings[0].finding.code, "secret-at-head");
}

#[test]
fn without_the_cap_the_huge_blob_is_read_and_its_token_found() {
    let Some(fx) = fixture() else { return };
    let r = judge(
        &scan(&fx.repo, &ScanOptions::default()),
        &Baseline::default(),
    );
    assert_eq!(r.stats.blobs_not_scanned, 0);
    assert_eq!(r.metrics.secrets, EXPECT.secrets + 1);
    let dump = r.secrets.iter().find(|s| s.path == "dump.sql").unwrap();
    assert_eq!(dump.rule, SecretKind::GithubToken);
}

#[test]
fn identities_only_reads_no_blob() {
    let Some(fx) = fixture() else { return };
    let opts = ScanOptions {
        secrets: false,
        ..capped()
    };
    let r = judge(&scan(&fx.repo, &opts), &Baseline::default());
    assert_eq!(r.metrics.people, EXPECT.people);
    assert_eq!(r.stats.blobs_scanned, 0);
    assert!(r.secrets.is_empty());
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The real express history: identities match `git log --all` exactly.
#[test]
fn express_identities_match_git_log() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/repos/express.bundle");
    if !bundle.is_file() {
        eprintln!(
            "SKIPPED express_identities_match_git_log: {} is absent",
            bundle.display()
        );
        return;
    }
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("express");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            &bundle.display().to_string(),
            &clone.display().to_string(),
        ],
    );
    let facts = scan(&clone, &ScanOptions::default());
    let r = judge(&facts, &Baseline::default());

    let commits = git(&clone, &["rev-list", "--all"]).lines().count();
    assert_eq!(r.stats.commits, commits);
    // Every blob reachable from any ref, once (the tree walk runs in parallel runs of commits).
    let out = Command::new("sh")
        .args([
            "-c",
            "git rev-list --all --objects --no-object-names | git cat-file --batch-check='%(objecttype)' | grep -c '^blob$'",
        ])
        .current_dir(&clone)
        .output()
        .unwrap();
    let blobs: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(r.stats.blobs_scanned, blobs);
    let authors = fixture::git_log_unique(&clone, "%ae");
    let committers = fixture::git_log_unique(&clone, "%ce");
    let ours_authors: BTreeSet<String> = facts
        .signatures
        .iter()
        .filter(|s| s.role == turncoat_recon::identity::Role::Author)
        .map(|s| s.email.clone())
        .collect();
    let ours_committers: BTreeSet<String> = facts
        .signatures
        .iter()
        .filter(|s| s.role == turncoat_recon::identity::Role::Committer)
        .map(|s| s.email.clone())
        .collect();
    assert_eq!(ours_authors, authors);
    assert_eq!(ours_committers, committers);
    // Identity trailers (every commit, as git reads its trailer block) and taggers.
    let keys = turncoat_recon::identity::IDENTITY_TRAILERS
        .iter()
        .map(|k| format!("key={k}"))
        .collect::<Vec<_>>()
        .join(",");
    let trailers: BTreeSet<String> = git(
        &clone,
        &[
            "log",
            "--all",
            &format!("--format=%(trailers:{keys},valueonly,separator=%x0A)"),
        ],
    )
    .lines()
    .filter_map(|l| Some(l.split_once('<')?.1.split_once('>')?.0.trim().to_string()))
    .filter(|e| !e.is_empty())
    .collect();
    let ours_trailers: BTreeSet<String> = facts
        .signatures
        .iter()
        .filter(|s| {
            matches!(
                s.role,
                turncoat_recon::identity::Role::CoAuthor | turncoat_recon::identity::Role::Trailer
            )
        })
        .map(|s| s.email.clone())
        .collect();
    assert_eq!(ours_trailers, trailers, "identity trailers");
    let taggers: BTreeSet<String> = git(&clone, &["for-each-ref", "--format=%(taggeremail)"])
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .filter(|e| !e.is_empty())
        .collect();
    let ours_taggers: BTreeSet<String> = facts
        .signatures
        .iter()
        .filter(|s| s.role == turncoat_recon::identity::Role::Tagger)
        .map(|s| s.email.clone())
        .collect();
    assert_eq!(ours_taggers, taggers, "taggers");
    let mut all: BTreeSet<String> = authors.union(&committers).cloned().collect();
    all.extend(trailers.iter().cloned());
    all.extend(taggers.iter().cloned());
    let listed: BTreeSet<String> = r
        .people
        .iter()
        .flat_map(|p| p.emails.iter().map(|e| e.email.clone()))
        .collect();
    assert_eq!(listed, all);
    // People are `.mailmap`-canonical addresses: what `git log --use-mailmap` shows for the
    // authors and committers (trailers and taggers only add people).
    let canonical: BTreeSet<String> = fixture::git_log_unique(&clone, "%aE%n%cE")
        .into_iter()
        .map(|e| e.to_ascii_lowercase())
        .collect();
    let commit_lines: Vec<_> = facts
        .signatures
        .iter()
        .filter(|s| {
            matches!(
                s.role,
                turncoat_recon::identity::Role::Author | turncoat_recon::identity::Role::Committer
            )
        })
        .cloned()
        .collect();
    assert_eq!(
        turncoat_recon::identity::people(&commit_lines).len(),
        canonical.len()
    );
    assert!(r.metrics.people > canonical.len());
    eprintln!(
        "express: {} commits, {} authors, {} committers, {} people, {} personal emails exposed, {} blobs",
        commits,
        authors.len(),
        committers.len(),
        r.metrics.people,
        r.metrics.personal_emails_exposed,
        r.stats.blobs_scanned
    );
}

/// Where a token hides from a scanner that reads branches only, or reads text as UTF-8 only:
/// a commit reachable from a tag alone (its branch deleted), a stash, and a UTF-16 file.
#[test]
fn tokens_behind_tags_stashes_and_utf16_are_found() {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    use turncoat_recon::detect::testing::checksummed;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let env = [
        ("GIT_AUTHOR_NAME", "A"),
        ("GIT_AUTHOR_EMAIL", "a@corp.io"),
        ("GIT_COMMITTER_NAME", "A"),
        ("GIT_COMMITTER_EMAIL", "a@corp.io"),
    ];
    let g = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .envs(env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let tagged = checksummed("npm_", 201);
    let stashed = checksummed("ghp_", 202);
    let wide = checksummed("npm_", 203);
    g(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README"), "x\n").unwrap();
    g(&["add", "-A"]);
    g(&["commit", "-q", "-m", "one"]);
    g(&["checkout", "-q", "-b", "tmp"]);
    std::fs::write(
        repo.join(".npmrc"),
        format!("//registry.npmjs.org/:_authToken={tagged}\n"),
    )
    .unwrap();
    g(&["add", "-A"]);
    g(&["commit", "-q", "-m", "tagged"]);
    g(&["tag", "v0-leak"]);
    g(&["checkout", "-q", "main"]);
    g(&["branch", "-q", "-D", "tmp"]);
    // UTF-16LE with a BOM, as Windows editors save it.
    let text = format!("token={wide}\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(repo.join("notes.txt"), utf16).unwrap();
    g(&["add", "-A"]);
    g(&["commit", "-q", "-m", "notes"]);
    std::fs::write(repo.join("README"), format!("{stashed}\n")).unwrap();
    g(&["stash", "-q"]);

    let r = judge(&scan(repo, &ScanOptions::default()), &Baseline::default());
    let found: BTreeSet<(String, String)> = r
        .secrets
        .iter()
        .map(|s| (s.path.clone(), s.redacted.prefix.clone()))
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([
            (".npmrc".to_string(), "npm_".to_string()),
            ("README".to_string(), "ghp_".to_string()),
            ("notes.txt".to_string(), "npm_".to_string()),
        ]),
        "{:#?}",
        r.secrets
    );
    let wide_hit = r.secrets.iter().find(|s| s.path == "notes.txt").unwrap();
    assert_eq!(wide_hit.line, Some(1));
    assert!(wide_hit.at_head);
}

/// A damaged object database is an error that names the repository, never a panic.
#[test]
fn a_corrupt_blob_is_an_error_not_a_panic() {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let g = |args: &[&str]| {
        git_env(repo, args);
    };
    g(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("a.txt"), "hello\n").unwrap();
    g(&["add", "-A"]);
    g(&["commit", "-q", "-m", "one"]);
    let blob = git(repo, &["rev-parse", "HEAD:a.txt"]).trim().to_string();
    let loose = repo.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    let mut perms = std::fs::metadata(&loose).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&loose, perms).unwrap();
    std::fs::write(&loose, b"\x78\x9c garbage, not zlib").unwrap();
    let err = scan_repo(repo, &ScanOptions::default(), &|_| {}).expect_err("corrupt blob");
    let msg = err.to_string();
    assert!(msg.contains(&blob), "{msg}");
}

fn git_env(dir: &Path, args: &[&str]) {
    git_env_with(dir, args, &[]);
}

/// `git ARGS` with a fixed identity and no user or system configuration, plus `env`.
fn git_env_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@corp.io")
        .env("GIT_COMMITTER_NAME", "A")
        .env("GIT_COMMITTER_EMAIL", "a@corp.io")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Identities outside the author and committer lines, and secrets outside files: a personal
/// address only in a `Co-authored-by:` trailer, a local one only in `Signed-off-by:`, a tagger
/// only an annotated tag names (on a tag of a tag), and tokens pasted into a commit message and
/// a tag message. Look-alike trailers in the middle of a message are not identities.
#[test]
fn trailers_taggers_and_messages_are_read() {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    use turncoat_recon::detect::testing::checksummed;
    use turncoat_recon::identity::Role;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let g = |args: &[&str], committer: &str| {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@corp.io")
            .env("GIT_COMMITTER_NAME", "C")
            .env("GIT_COMMITTER_EMAIL", committer)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let in_commit = checksummed("npm_", 301);
    let in_tag = checksummed("ghp_", 302);
    g(&["init", "-q", "-b", "main"], "a@corp.io");
    std::fs::write(repo.join("README"), "x\n").unwrap();
    g(&["add", "-A"], "a@corp.io");
    let message = format!(
        "Fix the release\n\nThe token was {in_commit} (revoked).\nCo-authored-by: Not A Trailer <fake@gmail.com>\n\nmore text\n\nCo-authored-by: Pat <pat.personal@gmail.com>\nSigned-off-by: Root <root@build-box.local>\n"
    );
    g(&["commit", "-q", "-m", &message], "a@corp.io");
    g(
        &[
            "tag",
            "-a",
            "v1",
            "-m",
            &format!("release v1\n\ntoken {in_tag}\n"),
        ],
        "tagger@yahoo.com",
    );
    // A tag of the tag: its tagger counts too, and the chain ends at the commit.
    g(
        &["tag", "-a", "v1-signed", "v1", "-m", "re-tag"],
        "retag@hotmail.com",
    );

    let facts = scan(repo, &ScanOptions::default());
    let by_role = |role: Role| -> BTreeSet<String> {
        facts
            .signatures
            .iter()
            .filter(|s| s.role == role)
            .map(|s| s.email.clone())
            .collect()
    };
    assert_eq!(
        by_role(Role::CoAuthor),
        BTreeSet::from(["pat.personal@gmail.com".to_string()])
    );
    assert_eq!(
        by_role(Role::Trailer),
        BTreeSet::from(["root@build-box.local".to_string()])
    );
    assert_eq!(
        by_role(Role::Tagger),
        BTreeSet::from([
            "retag@hotmail.com".to_string(),
            "tagger@yahoo.com".to_string()
        ])
    );
    let r = judge(&facts, &Baseline::default());
    // a@corp.io is an organisation address; the rest are personal (3) and local (1).
    assert_eq!(r.metrics.personal_emails_exposed, 3, "{:#?}", r.people);
    assert_eq!(r.metrics.local_identities, 1);
    assert_eq!(count(&r, "personal-email-exposed"), 3);
    assert_eq!(count(&r, "local-identity-exposed"), 1);
    let found: BTreeSet<(String, String, bool)> = r
        .secrets
        .iter()
        .map(|s| (s.path.clone(), s.redacted.prefix.clone(), s.in_message))
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([
            ("(commit message)".to_string(), "npm_".to_string(), true),
            ("(tag v1 message)".to_string(), "ghp_".to_string(), true),
        ]),
        "{:#?}",
        r.secrets
    );
    assert!(r.secrets.iter().all(|s| !s.at_head));
    // The full values never reach the report.
    let json = serde_json::to_string(&r.secrets).unwrap();
    assert!(!json.contains(&in_commit) && !json.contains(&in_tag));
}

/// What a scan found, in a form two scans of the same history can be compared by (values
/// only as their redacted form).
fn summary(facts: &RepoFacts) -> Vec<String> {
    let mut out: Vec<String> = facts
        .hits
        .iter()
        .map(|h| {
            format!(
                "hit {} {} {:?} {:?} {} {} {:?} {}",
                facts.commits[h.commit].id,
                h.path,
                h.hit.kind,
                h.hit.line,
                h.hit.value.redacted(),
                h.hit.paired_secret,
                h.head_path,
                h.in_message
            )
        })
        .chain(facts.skipped.iter().map(|s| {
            format!(
                "skipped {} {} {} {}",
                s.blob, facts.commits[s.commit].id, s.path, s.size
            )
        }))
        .collect();
    out.push(format!(
        "blobs {} bytes {} binary {} commits {} signatures {}",
        facts.blobs_scanned,
        facts.bytes_scanned,
        facts.binary_blobs,
        facts.commits.len(),
        facts.signatures.len()
    ));
    out
}

/// Copy a repository (a plain recursive copy: objects, refs, config).
fn copy_repo(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .args(["-a", &from.display().to_string(), &to.display().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Blobs read out of packs (one delta tree per pack) give exactly what the same history gives
/// read loose, one object at a time: after a deep repack whose chains pass the tree's limit
/// (those blobs fall back to the object database), with a large file stored as a delta of a
/// large base (its size is only known once decoded), and with newer commits still loose.
#[test]
fn packed_and_loose_histories_scan_the_same() {
    let Some(fx) = fixture() else { return };
    let repo = &fx.repo;
    // Two hundred versions of one file, each a window of lines that slides by four, so that
    // a deep repack chains each version to its neighbour (chains of 80 and more, past the
    // tree's limit of 50), a token in one of them; and a large file changed slightly, so that
    // the pack stores it as a delta.
    let token = turncoat_recon::detect::testing::checksummed("ghp_", 4242);
    for i in 0..200 {
        let mut text = (i * 4..i * 4 + 200)
            .map(|l| format!("line {l} of a sliding window\n"))
            .collect::<String>();
        if i == 100 {
            text.push_str(&format!("token = \"{token}\"\n"));
        }
        std::fs::write(repo.join("versions.txt"), text).unwrap();
        git_env(repo, &["add", "-A"]);
        // Fixed times: the order git's delta search meets the versions in (and so the chains
        // it builds) follows the commits' times and ids.
        commit_at(repo, 1_900_000_000 + i as i64, &format!("version {i}"));
    }
    let big: String = (0..120_000).map(|l| format!("row {l}\n")).collect();
    assert!(big.len() as u64 > CAP);
    std::fs::write(repo.join("big.txt"), &big).unwrap();
    git_env(repo, &["add", "-A"]);
    git_env(repo, &["commit", "-q", "-m", "big"]);
    std::fs::write(
        repo.join("big.txt"),
        big.replace("row 30000\n", "row 30000!\n"),
    )
    .unwrap();
    git_env(repo, &["add", "-A"]);
    git_env(repo, &["commit", "-q", "-m", "big again"]);

    let loose = summary(&scan(repo, &capped()));
    assert!(
        loose.iter().any(|l| l.contains("versions.txt")),
        "{loose:#?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("packed");
    copy_repo(repo, &packed);
    git_env(
        &packed,
        &[
            "-c",
            "pack.threads=1",
            "repack",
            "-q",
            "-a",
            "-d",
            "-f",
            "--depth=250",
            "--window=250",
        ],
    );
    let objects = packed.join(".git/objects");
    let idx = std::fs::read_dir(objects.join("pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    let stats = git(&packed, &["verify-pack", "-v", &idx.display().to_string()]);
    let longest = stats
        .lines()
        .filter_map(|l| l.strip_prefix("chain length = "))
        .filter_map(|l| l.split(':').next()?.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    assert!(longest > 50, "chains of {longest} at most");
    git_env(&packed, &["prune-packed"]);
    let loose_left = std::fs::read_dir(&objects)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().len() == 2)
        .count();
    assert_eq!(loose_left, 0, "everything is packed");
    assert_eq!(summary(&scan(&packed, &capped())), loose);
    assert_eq!(
        summary(&scan(&packed, &ScanOptions::default())),
        summary(&scan(repo, &ScanOptions::default()))
    );

    // Newer commits loose on top of the pack.
    for (name, body) in [
        ("late.env", format!("API_TOKEN={token}\n")),
        ("late2.txt", "x\n".into()),
    ] {
        for r in [repo.as_path(), packed.as_path()] {
            std::fs::write(r.join(name), &body).unwrap();
            git_env(r, &["add", "-A"]);
            git_env(r, &["commit", "-q", "-m", name]);
        }
    }
    let (a, b) = (
        summary(&scan(repo, &capped())),
        summary(&scan(&packed, &capped())),
    );
    // The commits differ in id only if their times differ; compare what does not name them.
    let strip = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|l| {
                l.split(' ')
                    .filter(|w| w.len() != 40)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(strip(a), strip(b));
}

/// A damaged pack entry is an error that names the blob, never a panic and never a blob
/// silently left out: the delta tree fails, and the blob is read again one object at a time.
#[test]
fn a_corrupt_pack_entry_is_an_error_not_a_panic() {
    let Some(dir) = new_repo() else { return };
    let repo = dir.path();
    let body: String = (0..2000).map(|l| format!("line {l}\n")).collect();
    std::fs::write(repo.join("a.txt"), &body).unwrap();
    git_env(repo, &["add", "-A"]);
    git_env(repo, &["commit", "-q", "-m", "one"]);
    git_env(repo, &["repack", "-q", "-a", "-d"]);
    git_env(repo, &["prune-packed"]);
    let blob = git(repo, &["rev-parse", "HEAD:a.txt"]).trim().to_string();
    let pack_dir = repo.join(".git/objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    // `git verify-pack -v`: id, type, size, size in pack, offset.
    let listing = git(repo, &["verify-pack", "-v", &idx.display().to_string()]);
    let offset: u64 = listing
        .lines()
        .find(|l| l.starts_with(&blob))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("the blob's offset");
    let pack = idx.with_extension("pack");
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    // Past the entry's header (a few bytes), inside its zlib stream.
    for b in &mut bytes[offset as usize + 8..offset as usize + 40] {
        *b ^= 0x5a;
    }
    std::fs::write(&pack, bytes).unwrap();
    let err = scan_repo(repo, &ScanOptions::default(), &|_| {}).expect_err("corrupt pack entry");
    let msg = err.to_string();
    assert!(msg.contains(&blob), "{msg}");
}

/// An empty repository (branch `main`) in a temporary directory; `None` without `git`.
fn new_repo() -> Option<tempfile::TempDir> {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    git_env(dir.path(), &["init", "-q", "-b", "main"]);
    Some(dir)
}

/// A commit at a given author and committer time (seconds), on the current branch.
fn commit_at(dir: &Path, time: i64, message: &str) {
    let date = format!("@{time} +0000");
    git_env_with(
        dir,
        &["commit", "-q", "--allow-empty", "-m", message],
        &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
    );
}

/// The trees are walked in runs cut in the order commits are read (a depth-first walk from
/// the refs), not by time; the blob still goes to the earliest commit that holds it, at that
/// commit's path. Here the same secret file is added on two branches, each behind hundreds of
/// commits (more than a run, so the two commits are walked in different runs), at different
/// paths; the earlier one by time is on the branch whose name sorts last.
#[test]
fn the_earliest_commit_wins_a_blob_across_runs_and_branches() {
    let Some(dir) = new_repo() else { return };
    let repo = dir.path();
    commit_at(repo, 1_000, "root");
    let token = turncoat_recon::detect::testing::checksummed("ghp_", 77);
    let secret = format!("GITHUB_TOKEN={token}\n");
    // Branch `late`: 300 commits, then the file at `late/secret.env`.
    git_env(repo, &["checkout", "-q", "-b", "late"]);
    for i in 0..300 {
        commit_at(repo, 10_000 + i, &format!("late {i}"));
    }
    std::fs::create_dir_all(repo.join("late")).unwrap();
    std::fs::write(repo.join("late/secret.env"), &secret).unwrap();
    git_env(repo, &["add", "-A"]);
    commit_at(repo, 20_000, "late secret");
    // Branch `zearly`: 300 commits, then the same file at `early/secret.env`, earlier in time.
    git_env(repo, &["checkout", "-q", "main"]);
    git_env(repo, &["checkout", "-q", "-b", "zearly"]);
    for i in 0..300 {
        commit_at(repo, 2_000 + i, &format!("early {i}"));
    }
    std::fs::create_dir_all(repo.join("early")).unwrap();
    std::fs::write(repo.join("early/secret.env"), &secret).unwrap();
    git_env(repo, &["add", "-A"]);
    commit_at(repo, 5_000, "early secret");
    let early = git(repo, &["rev-parse", "HEAD"]).trim().to_string();

    let facts = scan(repo, &ScanOptions::default());
    let hits: Vec<_> = facts.hits.iter().filter(|h| !h.in_message).collect();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(facts.commits[hits[0].commit].id, early);
    assert_eq!(hits[0].path, "early/secret.env");

    // With `--since` past the early commit, the blob's first commit is out of scope: the
    // later one does not inherit it (the blob was exposed before the window).
    let facts = scan(
        repo,
        &ScanOptions {
            since: Some(6_000),
            ..ScanOptions::default()
        },
    );
    assert!(facts.hits.iter().all(|h| h.in_message), "{:#?}", facts.hits);
}
