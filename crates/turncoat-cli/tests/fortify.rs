//! `turncoat fortify` as a user runs it, on repositories built in a temporary directory:
//! exit codes (0 nothing at deny, 1 findings at deny, 2 error), the JSON schema and the human
//! report's grouping, and `turncoat explain` for every posture code.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

#[path = "../../turncoat-posture/tests/common/signed_repo.rs"]
mod signed_repo;

fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run turncoat")
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn repo_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    for (name, body) in files {
        std::fs::write(wf.join(name), body).unwrap();
    }
    dir
}

const HARDENED: &[u8] = b"name: release
on:
  push:
    tags: ['v*']
permissions: {}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: npm
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with:
          persist-credentials: false
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020
        with:
          registry-url: https://registry.npmjs.org
          package-manager-cache: false
      - run: npm ci && npm publish --provenance
";

const INJECTED: &[u8] = b"on: pull_request_target
jobs:
  title:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"${{ github.event.pull_request.title }}\"
";

#[test]
fn a_hardened_repository_passes() {
    let repo = repo_with(&[("release.yml", HARDENED)]);
    let o = run(repo.path(), &["fortify"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("publishes: npm publish (job publish, line 21)"));
    assert!(out(&o).contains("0 deny, 0 warn"));
}

#[test]
fn a_script_injection_is_a_violation_with_json_schema() {
    let repo = repo_with(&[("release.yml", HARDENED), ("title.yml", INJECTED)]);
    let o = run(repo.path(), &["fortify", ".", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["command"], "fortify");
    assert_eq!(v["summary"]["publish_steps"], 1);
    let inj: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "script-injection")
        .collect();
    assert_eq!(inj.len(), 1);
    assert_eq!(inj[0]["file"], ".github/workflows/title.yml");
    assert_eq!(inj[0]["line"], 6);
    assert_eq!(inj[0]["level"], "deny");
    assert_eq!(inj[0]["severity"], "critical");
    assert_eq!(inj[0]["chain"][0]["label"], "pull_request_target");
    // The human form groups by file and prints the chain.
    let h = run(repo.path(), &["fortify"]);
    let text = out(&h);
    let title_at = text.find(".github/workflows/title.yml").unwrap();
    let release_at = text.find(".github/workflows/release.yml").unwrap();
    assert!(release_at < title_at);
    assert!(text.contains("chain: on pull_request_target (1) → job title (3) → step run: echo"));
}

#[test]
fn policy_levels_apply_and_sarif_renders() {
    let repo = repo_with(&[("title.yml", INJECTED)]);
    std::fs::write(
        repo.path().join("turncoat.toml"),
        "[levels]\nscript-injection = \"warn\"\nbroad-token-permissions = \"allow\"\n",
    )
    .unwrap();
    let o = run(repo.path(), &["fortify"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let o = run(repo.path(), &["fortify", "--format", "sarif"]);
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "script-injection"));
}

#[test]
fn hostile_workflows_are_errors_not_verdicts() {
    let bomb = {
        let mut s = String::from("on: push\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let items = vec![format!("*a{}", i - 1); 10].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        s.push_str("jobs: {}\n");
        s
    };
    let huge = format!("on: push\n{}", "# padding\n".repeat(200_000));
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("bomb.yml", bomb.into_bytes(), "alias bomb"),
        ("huge.yml", huge.into_bytes(), "larger than the limit"),
        (
            "latin1.yml",
            b"on: push\nname: caf\xe9\n".to_vec(),
            "not UTF-8",
        ),
        ("broken.yml", b"on: push\njobs: [\n".to_vec(), "broken.yml"),
    ];
    for (name, body, expect) in cases {
        let repo = repo_with(&[(name, &body)]);
        let o = run(repo.path(), &["fortify"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", out(&o));
        assert!(err(&o).contains(expect), "{name}: {}", err(&o));
        assert!(err(&o).contains(name), "{name}: {}", err(&o));
    }
}

#[test]
fn local_composite_actions_are_read_and_symlinks_skipped() {
    let repo = repo_with(&[(
        "release.yml",
        b"on: push\npermissions: {}\njobs:\n  pub:\n    environment: npm\n    permissions:\n      id-token: write\n    steps:\n      - uses: ./.github/actions/setup\n      - run: npm publish --provenance\n",
    )]);
    let action = repo.path().join(".github/actions/setup");
    std::fs::create_dir_all(&action).unwrap();
    std::fs::write(
        action.join("action.yml"),
        "runs:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n      with:\n        cache: npm\n",
    )
    .unwrap();
    let linked = repo.path().join(".github/actions/linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", linked.join("action.yml")).unwrap();
    let o = run(repo.path(), &["fortify", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    let cache: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "release-cache")
        .collect();
    assert_eq!(cache.len(), 1, "{v:#}");
    assert!(
        cache[0]["message"]
            .as_str()
            .unwrap()
            .contains("inside ./.github/actions/setup")
    );
    assert_eq!(v["skipped"][0]["file"], ".github/actions/linked/action.yml");
    // An injection inside the composite action is reported in the action's file, and the
    // human and SARIF reports show that file too.
    std::fs::write(
        action.join("action.yml"),
        "runs:\n  using: composite\n  steps:\n    - run: echo \"${{ github.event.head_commit.message }}\"\n      shell: bash\n",
    )
    .unwrap();
    let o = run(repo.path(), &["fortify"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains(".github/actions/setup/action.yml  [composite action]"),
        "{text}"
    );
    assert!(text.contains("script-injection"), "{text}");
    let o = run(repo.path(), &["fortify", "--format", "sarif"]);
    assert!(out(&o).contains(".github/actions/setup/action.yml"));
}

#[test]
fn a_repository_without_workflows_passes_and_a_missing_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["fortify"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("0 workflow(s)"));
    let o = run(dir.path(), &["fortify", "no-such-dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_posture_code_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    for code in [
        "publish-long-lived-token",
        "publish-without-provenance",
        "publish-from-untrusted-trigger",
        "untrusted-checkout",
        "script-injection",
        "unpinned-action",
        "broad-token-permissions",
        "cache-shared-with-release",
        "release-cache",
        "no-release-environment",
        "unsigned-commits",
        "unsigned-release-tags",
        "signature-unverified",
    ] {
        let o = run(dir.path(), &["explain", code]);
        assert_eq!(o.status.code(), Some(0), "{code}: {}", err(&o));
        assert!(out(&o).starts_with(&format!("# {code}\n")), "{code}");
        assert!(out(&o).contains("Group: posture."), "{code}");
    }
}

/// A repository with four commits (OpenPGP by the team, SSH by the team, SSH by a stranger,
/// unsigned) and a lightweight release tag, plus the team's allowed_signers and keyring.
fn signed_world() -> (tempfile::TempDir, Vec<String>) {
    use signed_repo as sr;
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir.path().join("repo");
    std::fs::create_dir(&repo_dir).unwrap();
    let mut repo = sr::Repo::new(&repo_dir);
    let pgp = sr::pgp_key("Alice <alice@example.com>");
    let ssh = sr::ssh_key();
    let stranger = sr::ssh_key();
    let t = 1_704_067_200;
    let ids = vec![
        repo.commit(t, "one", None),
        repo.commit(t + 1, "two", Some(&|p: &[u8]| sr::pgp_sign(&pgp, p))),
        repo.commit(
            t + 2,
            "three",
            Some(&|p: &[u8]| sr::ssh_sign(&ssh, "git", p)),
        ),
        repo.commit(
            t + 3,
            "four",
            Some(&|p: &[u8]| sr::ssh_sign(&stranger, "git", p)),
        ),
    ];
    repo.lightweight_tag("v1.0.0");
    std::fs::write(
        dir.path().join("allowed_signers"),
        format!("alice@example.com {}\n", sr::ssh_public(&ssh)),
    )
    .unwrap();
    std::fs::write(dir.path().join("keyring.asc"), sr::pgp_public_armored(&pgp)).unwrap();
    (dir, ids)
}

#[test]
fn signed_commits_are_counted_verified_and_measured() {
    let (dir, ids) = signed_world();
    let o = run(
        dir.path(),
        &[
            "fortify",
            "repo",
            "--allowed-signers",
            "allowed_signers",
            "--keyring",
            "keyring.asc",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    let s = &v["signing"];
    assert_eq!(s["branch"], "main");
    assert_eq!(
        (s["commits"].as_u64(), s["signed"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(s["signed_pct"], 75.0);
    assert_eq!(s["by_kind"]["openpgp"], 1);
    assert_eq!(s["by_kind"]["ssh"], 2);
    assert_eq!(s["verified"], 2);
    assert_eq!(s["verified_pct"], 50.0);
    assert_eq!(s["release_tags"], 1);
    assert_eq!(s["signed_release_tags_pct"], 0.0);
    assert_eq!(s["monthly"][0]["month"], "2024-01");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "unsigned-commits",
            "unsigned-release-tags",
            "signature-unverified"
        ]
    );
    let unverified = &v["findings"][2];
    assert_eq!(unverified["file"], "(git history)");
    assert!(unverified["message"].as_str().unwrap().contains(&format!(
        "commit {} does not verify: SSH key not in the allowed signers",
        ids[3]
    )));
    // The metrics store's samples.
    let m: Vec<&Value> = v["metrics"].as_array().unwrap().iter().collect();
    let signed = m
        .iter()
        .find(|s| s["metric"] == "signed-commits-pct")
        .unwrap();
    assert_eq!(signed["value"], 75.0);
    assert_eq!(signed["source"], "fortify");
    assert_eq!(signed["detail"]["verified-pct"], 50.0);
    let publish = m
        .iter()
        .find(|s| s["metric"] == "publish-path-findings")
        .unwrap();
    assert_eq!(publish["value"], 0.0);
    // The human report.
    let o = run(
        dir.path(),
        &["fortify", "repo", "--allowed-signers", "allowed_signers"],
    );
    let text = out(&o);
    assert!(
        text.contains("commits: 3 signed of 4 (75%): OpenPGP 1, SSH 2"),
        "{text}"
    );
    assert!(text.contains("verified: 1 of 4 (25%)"), "{text}");
    assert!(
        text.contains("OpenPGP signature, but no --keyring given"),
        "{text}"
    );
    assert!(text.contains("2024-01"), "{text}");
}

#[test]
fn signing_policy_and_key_errors() {
    let (dir, _) = signed_world();
    // A policy can make an unverified signature block.
    std::fs::write(
        dir.path().join("strict.toml"),
        "[levels]\nsignature-unverified = \"deny\"\n",
    )
    .unwrap();
    let o = run(
        dir.path(),
        &[
            "fortify",
            "repo",
            "--policy",
            "strict.toml",
            "--allowed-signers",
            "allowed_signers",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    // A malformed allowed_signers names the file and line; a key file that is not a keyring
    // is an error; keys for a directory that is not a repository are an error.
    std::fs::write(
        dir.path().join("bad_signers"),
        "# ok\nalice@x nonsense-option ssh-ed25519 AAAA\n",
    )
    .unwrap();
    let o = run(
        dir.path(),
        &["fortify", "repo", "--allowed-signers", "bad_signers"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("bad_signers:2:"), "{}", err(&o));
    let o = run(
        dir.path(),
        &["fortify", "repo", "--keyring", "allowed_signers"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("not an OpenPGP keyring"), "{}", err(&o));
    let plain = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("allowed_signers"), plain.path().join("a")).unwrap();
    let o = run(plain.path(), &["fortify", ".", "--allowed-signers", "a"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("cannot verify signatures"), "{}", err(&o));
    // Without keys, a directory that is not a repository says so and still passes.
    let o = run(plain.path(), &["fortify", "."]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("signed commits and tags: "), "{}", out(&o));
}

/// A GitLab CI pipeline is audited beside the workflows: a tag-only npm publish with a token
/// written into `.npmrc` by a template it `extends:`, and a hostile include that is refused.
#[test]
fn a_gitlab_pipeline_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".gitlab-ci.yml"),
        "include:\n  - local: ../outside.yml\n.auth:\n  before_script:\n    - echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc\npublish:\n  extends: .auth\n  rules:\n    - if: $CI_COMMIT_TAG\n  script:\n    - npm publish\n",
    )
    .unwrap();
    let o = run(dir.path(), &["fortify", "--no-history", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["workflows"][0]["file"], ".gitlab-ci.yml");
    assert_eq!(v["workflows"][0]["publish_steps"][0]["job"], "publish");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "publish-long-lived-token",
            "no-release-environment",
            "publish-without-provenance"
        ],
        "{codes:?}"
    );
    assert_eq!(v["findings"][0]["line"], 5);
    assert!(
        v["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("leaving the repository")
    );
}
