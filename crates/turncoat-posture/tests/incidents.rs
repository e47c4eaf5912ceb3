//! The two takeover shapes the audit must catch, end to end from files on disk.

use std::path::Path;

use turncoat_posture::yaml::Limits;
use turncoat_posture::{PostureFinding, audit, load_repo};

fn findings(name: &str) -> Vec<PostureFinding> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/incidents")
        .join(name);
    let (repo, skipped) = load_repo(&dir, &Limits::default()).unwrap();
    assert!(skipped.is_empty());
    audit(&repo)
}

fn find<'a>(f: &'a [PostureFinding], code: &str, file: &str) -> Vec<&'a PostureFinding> {
    f.iter()
        .filter(|x| x.code() == code && x.file.ends_with(file))
        .collect()
}

fn chain_labels(f: &PostureFinding) -> Vec<String> {
    f.chain.iter().map(|l| l.label.clone()).collect()
}

/// nx "s1ngularity" (August 2025): a PR title injected into a pull_request_target script,
/// with a writable default token, reaching a publish workflow that holds an npm token.
#[test]
fn nx_s1ngularity_shape_is_caught() {
    let f = findings("nx-s1ngularity");
    let inj = find(&f, "script-injection", "pr-title-validation.yml");
    assert_eq!(inj.len(), 2, "{f:#?}");
    assert_eq!(inj[0].line, 15);
    assert_eq!(
        inj[0].finding.severity,
        turncoat_finding::Severity::Critical
    );
    assert_eq!(
        chain_labels(inj[0]),
        [
            "pull_request_target",
            "validate-pr-title",
            "Validate PR title"
        ]
    );
    let perms = find(&f, "broad-token-permissions", "pr-title-validation.yml");
    assert_eq!(perms.len(), 1);
    assert_eq!(perms[0].finding.severity, turncoat_finding::Severity::High);
    let token = find(&f, "publish-long-lived-token", "publish.yml");
    assert_eq!(token.len(), 1);
    assert_eq!(token[0].line, 22);
    assert!(token[0].finding.message.contains("NPM_TOKEN"));
    assert_eq!(
        find(&f, "publish-without-provenance", "publish.yml").len(),
        1
    );
    assert_eq!(find(&f, "no-release-environment", "publish.yml").len(), 1);
}

/// Ultralytics (December 2024): pull_request_target checking out the fork, its branch name in
/// a script, a pip cache shared with the publish job, and a PyPI token.
#[test]
fn ultralytics_shape_is_caught() {
    let f = findings("ultralytics");
    let checkout = find(&f, "untrusted-checkout", "format.yml");
    assert!(!checkout.is_empty(), "{f:#?}");
    assert_eq!(checkout[0].line, 19);
    let inj = find(&f, "script-injection", "format.yml");
    assert_eq!(inj.len(), 1);
    assert_eq!(inj[0].line, 28);
    assert!(inj[0].finding.message.contains("github.head_ref"));
    let cache = find(&f, "cache-shared-with-release", "publish.yml");
    assert_eq!(cache.len(), 1);
    assert_eq!(cache[0].line, 16);
    assert_eq!(cache[0].chain[0].file, ".github/workflows/format.yml");
    assert_eq!(cache[0].chain[0].label, "pull_request_target");
    let token = find(&f, "publish-long-lived-token", "publish.yml");
    assert_eq!(token.len(), 1);
    assert!(token[0].finding.message.contains("PYPI_TOKEN"));
}
