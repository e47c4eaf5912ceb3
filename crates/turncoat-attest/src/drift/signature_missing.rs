//! `signature-missing`: the candidate carries no registry signature although its history was
//! signed.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;
use crate::signature::SignatureStatus;

pub const RULE: RuleDoc = RuleDoc {
    code: "signature-missing",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the version has no registry signature (`dist.signatures`) while the versions before it were signed",
    doc: "\
## What it does
Flags a candidate version whose registry metadata carries no `dist.signatures` when the version
it replaces, or an earlier version of the same release line, was signed by the registry.

## Why it matters
The npm registry signs every version it serves. A registry or mirror that serves no signatures
at all is a property of that registry (third-party registries, some mirrors) and is not flagged;
a *single* version without one, after signed ones, is metadata that did not come from the
registry that signed the rest: a tampering proxy or cache, a poisoned mirror, or a forged
packument that strips the signature so that its swapped `dist.integrity` cannot be caught as
`invalid-signature`. This is the downgrade that makes `invalid-signature` silent.

## Example
`left-pad@1.3.0` and `1.3.1` carry `dist.signatures`; `1.3.2` is served without any.

## How to silence it
Fetch the version from the public registry and compare. An exception must name this code
explicitly (`codes = [\"signature-missing\"]`): an exception without codes does not cover it.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    if cx.verif_to.signature != SignatureStatus::Missing {
        return None;
    }
    let signed = cx.signed_history();
    let latest = *signed.first()?;
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} has no registry signature, but {} earlier version(s) were signed (latest {latest})",
                cx.name,
                cx.to,
                signed.len()
            ),
        )
        .with_evidence(cx.evidence(cx.to, "dist.signatures: absent"))
        .with_evidence(cx.evidence(latest, "dist.signatures: present")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::attestations::ProvenanceStatus;

    fn hits(p: &turncoat_npm::Packument, from: Option<&str>, to: &str) -> usize {
        let t = verif(to, SignatureStatus::Missing, ProvenanceStatus::Absent, None);
        super::super::drift(p, from, to, None, None, &t)
            .iter()
            .filter(|f| f.code == RULE.code)
            .count()
    }

    #[test]
    fn flags_an_unsigned_version_after_signed_ones() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").signed("SHA256:npm"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").signed("SHA256:npm"),
            v("1.0.2", "2024-03-01T00:00:00Z", "alice"),
        ]);
        assert_eq!(hits(&p, Some("1.0.1"), "1.0.2"), 1);
        // A newly added dependency: its release line is the history.
        assert_eq!(hits(&p, None, "1.0.2"), 1);
    }

    #[test]
    fn the_replaced_version_verified_counts_as_signed_history() {
        // The packument of the old version was served without signatures this time, but the
        // version being replaced was verified as signed when it was fetched.
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice"),
        ]);
        let from = plain("1.0.0");
        let t = verif(
            "1.0.1",
            SignatureStatus::Missing,
            ProvenanceStatus::Absent,
            None,
        );
        let f = super::super::drift(&p, Some("1.0.0"), "1.0.1", None, Some(&from), &t);
        assert_eq!(f.iter().filter(|f| f.code == RULE.code).count(), 1);
    }

    #[test]
    fn quiet_for_registries_that_never_sign() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice"),
        ]);
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1"), 0);
        // Signed history in another release line only.
        let p = packument(vec![
            v("2.0.0", "2024-01-01T00:00:00Z", "alice").signed("SHA256:npm"),
            v("1.0.0", "2024-02-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-03-01T00:00:00Z", "alice"),
        ]);
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1"), 0);
    }
}
