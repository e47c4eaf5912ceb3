//! `py-provenance-lost`: a release without PEP 740 provenance after releases that had it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{Pep740Status, Release};

pub const RULE: RuleDoc = RuleDoc {
    code: "py-provenance-lost",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "a Python release without PEP 740 provenance while the release it replaces (or an earlier one) had it",
    doc: "\
## What it does
Flags a release whose judged file has no PEP 740 provenance on the index when the release it
replaces, or an earlier release of the project that was checked, carried provenance that
verified. Only verified provenance counts as history.

## Why it matters
PEP 740 attestations are made by the project's CI through Trusted Publishing. A stolen API
token uploads from the attacker's machine, which cannot produce an attestation from the
project's workflow: a project that suddenly stops attesting is the shape of a token-theft
upload (num2words 0.5.15, 2025; the durabletask and guardrails-ai uploads, 2026).

## Example
`demo 1.0.0` was attested by `acme/demo` `release.yml`; `demo 1.0.1` arrives without
provenance.

## How to silence it
Confirm with the maintainers that the release was uploaded by hand, then pin an exception
for the `name@version`, or set the level to `warn` for projects that upload both ways.
",
};

pub(crate) fn check(project: &str, c: &Release<'_>, history: &[Release<'_>]) -> Option<Finding> {
    if *c.status != Pep740Status::Absent {
        return None;
    }
    let had = history.iter().find(|r| r.status.verified().is_some())?;
    let by = had
        .status
        .verified()
        .and_then(|v| v.publishers.first())
        .map(|p| format!(" by {}", p.describe()))
        .unwrap_or_default();
    Some(
        Finding::new(
            &RULE,
            format!(
                "{project}=={} has no PEP 740 provenance, but {} was attested{by}",
                c.version, had.version
            ),
        )
        .with_evidence(c.evidence(project, "provenance: absent"))
        .with_evidence(had.evidence(project, "provenance: verified")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn fires_when_the_history_was_attested() {
        let ok = verified("acme/demo", "release.yml");
        let none = Pep740Status::Absent;
        assert_eq!(
            codes(&rel("1.0.1", &none), &[rel("1.0.0", &ok)]),
            ["py-provenance-lost"]
        );
        // An older attested release behind an unattested one still counts.
        assert_eq!(
            codes(
                &rel("1.0.2", &none),
                &[rel("1.0.1", &none), rel("1.0.0", &ok)]
            ),
            ["py-provenance-lost"]
        );
    }

    #[test]
    fn quiet_without_attested_history_or_with_provenance() {
        let ok = verified("acme/demo", "release.yml");
        let none = Pep740Status::Absent;
        let bad = Pep740Status::Invalid { reason: "x".into() };
        assert!(codes(&rel("1.0.1", &none), &[rel("1.0.0", &none)]).is_empty());
        // An invalid attestation in the history is not a publish path.
        assert!(codes(&rel("1.0.1", &none), &[rel("1.0.0", &bad)]).is_empty());
        assert!(codes(&rel("1.0.1", &ok), &[rel("1.0.0", &ok)]).is_empty());
        assert!(codes(&rel("1.0.0", &none), &[]).is_empty());
    }
}
