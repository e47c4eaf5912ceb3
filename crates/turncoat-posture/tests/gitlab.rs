//! GitLab CI as a second format of the publish-path audit: real public pipelines
//! (tests/fixtures/gitlab/real, sources and licenses in its README.md) and attacker-shaped
//! ones (tests/fixtures/gitlab/attacker) that hide the publish or the credential behind
//! `extends:`, an included file, YAML anchors and `<<:`, `!reference`, a child pipeline and
//! remote includes. Findings with lines and chains are pinned in snapshots; the attacker
//! shapes also assert the codes they must raise.

use std::path::{Path, PathBuf};

use turncoat_finding::Level;
use turncoat_posture::report::{Report, human};
use turncoat_posture::yaml::Limits;

fn default_level(code: &str) -> Level {
    turncoat_posture::rules()
        .iter()
        .find(|r| r.code == code)
        .map(|r| r.default_level)
        .unwrap_or(Level::Deny)
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gitlab")
        .join(kind);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn run(dir: &Path) -> (Report, Vec<String>) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let (repo, skipped) = turncoat_posture::load_repo(dir, &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!repo.gitlab.is_empty(), "{name}: no pipeline read");
    let findings = turncoat_posture::audit(&repo);
    let codes = findings.iter().map(|f| f.code().to_string()).collect();
    (
        Report::new(&name, &repo, skipped, findings, default_level),
        codes,
    )
}

#[test]
fn real_pipelines_snapshot() {
    let dirs = fixtures("real");
    assert!(dirs.len() >= 3);
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitlab/real/README.md"),
    )
    .unwrap();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "{name} not in README.md"
        );
        let (report, _) = run(&dir);
        insta::assert_snapshot!(format!("gitlab_real__{name}"), human(&report, true));
    }
}

#[test]
fn attacker_shapes_are_caught() {
    let expect: &[(&str, &[&str])] = &[
        (
            "anchor-merge",
            &["publish-long-lived-token", "publish-from-unprotected-ref"],
        ),
        (
            "child-pipeline",
            &[
                "publish-from-untrusted-trigger",
                "publish-long-lived-token",
                "no-release-environment",
            ],
        ),
        (
            "extends-hidden",
            &[
                "publish-from-untrusted-trigger",
                "publish-long-lived-token",
                "publish-without-provenance",
                "cache-shared-with-release",
                "no-release-environment",
            ],
        ),
        ("hardened", &[]),
        (
            "reference",
            &["publish-long-lived-token", "publish-without-provenance"],
        ),
        ("remote-include", &["unpinned-action"]),
    ];
    let dirs = fixtures("attacker");
    assert_eq!(dirs.len(), expect.len());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (report, codes) = run(&dir);
        let (_, want) = expect.iter().find(|(n, _)| *n == name).unwrap();
        for w in *want {
            assert!(codes.iter().any(|c| c == w), "{name}: no {w} in {codes:?}");
        }
        if want.is_empty() {
            assert!(codes.is_empty(), "{name}: {codes:?}");
        }
        insta::assert_snapshot!(format!("gitlab_attacker__{name}"), human(&report, true));
    }
}

#[test]
fn what_cannot_be_followed_is_listed() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitlab/attacker/remote-include");
    let (report, _) = run(&dir);
    let reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("extends `.npm-release`")),
        "{reasons:?}"
    );
}

#[test]
fn a_symlinked_include_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ci")).unwrap();
    std::fs::write(
        dir.path().join("outside.yml"),
        "evil:\n  script: [npm publish]\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.yml"), dir.path().join("ci/x.yml"))
        .unwrap();
    std::fs::write(
        dir.path().join(".gitlab-ci.yml"),
        "include:\n  - local: ci/x.yml\njob:\n  script: [echo]\n",
    )
    .unwrap();
    let (repo, skipped) = turncoat_posture::load_repo(dir.path(), &Limits::default()).unwrap();
    assert_eq!(repo.gitlab[0].jobs.len(), 1);
    assert!(skipped[0].reason.contains("ci/x.yml"), "{skipped:?}");
}

#[test]
fn hostile_pipelines_are_errors_not_empty_results() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    for (src, want) in [
        (bomb, "nodes"),
        ("job:\n  script: [a]\njob:\n  script: [b]\n", "duplicate"),
        ("- a\n- b\n", "not a mapping"),
    ] {
        std::fs::write(dir.path().join(".gitlab-ci.yml"), src).unwrap();
        let err = turncoat_posture::load_repo(dir.path(), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
}
