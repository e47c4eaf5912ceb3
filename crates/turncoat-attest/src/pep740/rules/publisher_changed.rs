//! `py-publisher-changed`: the Trusted Publisher (repository or workflow) changed.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Release;

pub const RULE: RuleDoc = RuleDoc {
    code: "py-publisher-changed",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the release was attested by another repository or workflow than the release before it",
    doc: "\
## What it does
Compares the Trusted Publisher identity in the Fulcio certificates of the release's verified
PEP 740 attestations with that of the latest earlier release whose provenance verified: the
CI kind, the repository (by its numeric id when both certificates carry one, so a rename is
not a change), and the workflow file. The identity comes from the certificate, never from the
index's claim or the package.

## Why it matters
A valid attestation proves only who built the file. An attacker who controls the PyPI account
can add a Trusted Publisher pointing at *their* repository (a fork with the same name under
another owner) or push a new workflow into the real one, and publish attested releases from
there. The project's usual repository and workflow are what they cannot reuse.

## Example
`demo 1.0.0` was attested by `acme/demo` `release.yml`; `demo 1.0.1` by `mallory/demo`
`release.yml`.

## How to silence it
After a deliberate move (new repository, renamed workflow), pin an exception for the first
`name@version` from the new publisher; later releases compare with it.
",
};

pub(crate) fn check(project: &str, c: &Release<'_>, history: &[Release<'_>]) -> Option<Finding> {
    let now = c.status.verified()?;
    let (before, then) = history
        .iter()
        .find_map(|r| r.status.verified().map(|v| (r, v)))?;
    let new: Vec<String> = now
        .publishers
        .iter()
        .filter(|p| !then.publishers.iter().any(|q| q.same_source(p)))
        .map(|p| p.describe())
        .collect();
    if new.is_empty() {
        return None;
    }
    let old: Vec<String> = then.publishers.iter().map(|p| p.describe()).collect();
    Some(
        Finding::new(
            &RULE,
            format!(
                "{project}=={} was attested by {}, but {} by {}",
                c.version,
                new.join(", "),
                before.version,
                old.join(", ")
            ),
        )
        .with_evidence(c.evidence(project, &new.join(", ")))
        .with_evidence(before.evidence(project, &old.join(", "))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::Pep740Status;
    use super::super::test_support::*;

    #[test]
    fn fires_on_a_fork_or_a_new_workflow() {
        let ok = verified("acme/demo", "release.yml");
        let fork = verified("mallory/demo", "release.yml");
        let wf = verified("acme/demo", "evil.yml");
        assert_eq!(
            codes(&rel("1.0.1", &fork), &[rel("1.0.0", &ok)]),
            ["py-publisher-changed"]
        );
        assert_eq!(
            codes(&rel("1.0.1", &wf), &[rel("1.0.0", &ok)]),
            ["py-publisher-changed"]
        );
        // The latest verified release is the reference, past unattested ones.
        let none = Pep740Status::Absent;
        assert_eq!(
            codes(
                &rel("1.0.2", &fork),
                &[rel("1.0.1", &none), rel("1.0.0", &ok)]
            ),
            ["py-publisher-changed"]
        );
    }

    #[test]
    fn quiet_on_the_same_publisher_or_a_rename() {
        let ok = verified("acme/demo", "release.yml");
        let case = verified("Acme/Demo", "release.yml");
        assert!(codes(&rel("1.0.1", &ok), &[rel("1.0.0", &ok)]).is_empty());
        assert!(codes(&rel("1.0.1", &case), &[rel("1.0.0", &ok)]).is_empty());
        // A rename keeps the repository id.
        let mut a = verified("acme/demo", "release.yml");
        let mut b = verified("acme/demo-renamed", "release.yml");
        for (s, id) in [(&mut a, "7"), (&mut b, "7")] {
            if let Pep740Status::Verified(v) = s {
                v.publishers[0].repository_id = Some(id.into());
            }
        }
        assert!(codes(&rel("1.0.1", &b), &[rel("1.0.0", &a)]).is_empty());
        // Nothing verified before: nothing to compare with (a first attestation).
        assert!(codes(&rel("1.0.1", &ok), &[rel("1.0.0", &Pep740Status::Absent)]).is_empty());
    }
}
