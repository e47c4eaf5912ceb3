//! `provenance-source-changed`: the provenance now comes from another repository or workflow.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;
use crate::facts::PublisherFacts;

pub const RULE: RuleDoc = RuleDoc {
    code: "provenance-source-changed",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the verified provenance names another repository, owner or workflow than the replaced version's",
    doc: "\
## What it does
Compares the identity in the Fulcio certificates of the candidate's and the replaced
version's verified provenance: the immutable numeric repository id (`1.3.6.1.4.1.57264.1.15`),
the owner id (`…1.17`), the source repository URL (`…1.12`) and the workflow file (from the
build config URI, `…1.18`). A rename (same ids, new URL) is not reported.

## Why it matters
Provenance alone proves little: an attacker holding a maintainer's token can publish valid
provenance from *their own* repository after pointing `repository` in `package.json` there.
What they cannot fake is the project's repository id or its release workflow. A new
repository id catches a deleted-and-recreated (\"resurrected\") repository name; a new
workflow file catches a workflow pushed into the real repository to publish.

## Example
`pkg@1.4.0` was built by `acme/widget` (id 1001) with `.github/workflows/release.yml`;
`pkg@1.4.1` by `mallory/widget` (id 9999).

## How to silence it
After a deliberate move (new repository, transferred owner, renamed workflow), pin an
exception for the first `name@version` from the new source; later versions compare with it.
",
};

/// The identity differences between two provenance facts (empty: same source).
pub(crate) fn changes(a: &PublisherFacts, b: &PublisherFacts) -> Vec<String> {
    let mut out = Vec::new();
    let differs = |x: &Option<String>, y: &Option<String>| match (x, y) {
        (Some(x), Some(y)) => !x.eq_ignore_ascii_case(y),
        _ => false,
    };
    let repo_id_known = a.source_repository_id.is_some() && b.source_repository_id.is_some();
    if differs(&a.source_repository_id, &b.source_repository_id) {
        out.push(format!(
            "repository id {} → {}",
            a.source_repository_id.as_deref().unwrap_or_default(),
            b.source_repository_id.as_deref().unwrap_or_default()
        ));
    }
    if differs(&a.source_repository_owner_id, &b.source_repository_owner_id) {
        out.push(format!(
            "owner id {} → {}",
            a.source_repository_owner_id.as_deref().unwrap_or_default(),
            b.source_repository_owner_id.as_deref().unwrap_or_default()
        ));
    }
    // With both ids known, a new URL for the same repository id is a rename.
    let same_repo_id = repo_id_known && out.is_empty();
    if !same_repo_id && differs(&a.source_repository, &b.source_repository) {
        out.push(format!(
            "repository {} → {}",
            a.source_repository.as_deref().unwrap_or_default(),
            b.source_repository.as_deref().unwrap_or_default()
        ));
    }
    if differs(&a.workflow_path, &b.workflow_path) {
        out.push(format!(
            "workflow {} → {}",
            a.workflow_path.as_deref().unwrap_or_default(),
            b.workflow_path.as_deref().unwrap_or_default()
        ));
    }
    // An identity that exists on one side only (e.g. a person's e-mail instead of a workflow).
    if a.source_repository.is_some() != b.source_repository.is_some()
        || differs(&a.issuer, &b.issuer)
    {
        out.push(format!(
            "signer {} → {}",
            a.identity.as_deref().unwrap_or("-"),
            b.identity.as_deref().unwrap_or("-")
        ));
    }
    out
}

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let from = cx.from?;
    let a = cx.verif_from?.publisher.as_ref()?;
    let b = cx.verif_to.publisher.as_ref()?;
    let changed = changes(a, b);
    if changed.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            &RULE,
            format!(
                "the provenance of {}@{} comes from another source than {from}'s: {}",
                cx.name,
                cx.to,
                changed.join("; ")
            ),
        )
        .with_evidence(cx.evidence(cx.to, b.identity.as_deref().unwrap_or("-")))
        .with_evidence(cx.evidence(from, a.identity.as_deref().unwrap_or("-"))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn run(a: PublisherFacts, b: PublisherFacts) -> Vec<Finding> {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").prov(),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").prov(),
        ]);
        super::super::drift(
            &p,
            Some("1.0.0"),
            "1.0.1",
            None,
            Some(&proven("1.0.0", a)),
            &proven("1.0.1", b),
        )
        .into_iter()
        .filter(|f| f.code == RULE.code)
        .collect()
    }

    const WF: &str = ".github/workflows/release.yml";

    #[test]
    fn flags_new_repository_owner_or_workflow() {
        let base = facts("acme/widget", "1001", WF);
        let f = run(base.clone(), facts("mallory/widget", "9999", WF));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("repository id 1001 → 9999"));
        // Same name, recreated repository: only the id tells.
        assert_eq!(run(base.clone(), facts("acme/widget", "5555", WF)).len(), 1);
        assert_eq!(
            run(
                base.clone(),
                facts("acme/widget", "1001", ".github/workflows/pwn.yml")
            )
            .len(),
            1
        );
        let mut moved = base.clone();
        moved.source_repository_owner_id = Some("77".into());
        assert_eq!(run(base, moved).len(), 1);
    }

    #[test]
    fn quiet_for_same_source_and_renames() {
        let base = facts("acme/widget", "1001", WF);
        assert!(run(base.clone(), base.clone()).is_empty());
        assert!(run(base.clone(), facts("acme/widget-renamed", "1001", WF)).is_empty());
        let mut other_ref = base.clone();
        other_ref.workflow_ref = Some("refs/tags/v1.0.1".into());
        assert!(run(base, other_ref).is_empty());
    }
}
