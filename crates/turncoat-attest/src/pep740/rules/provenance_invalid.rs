//! `py-provenance-invalid`: the index serves PEP 740 provenance that does not verify.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{Pep740Status, Release};

pub const RULE: RuleDoc = RuleDoc {
    code: "py-provenance-invalid",
    group: "attest",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "the file's PEP 740 provenance does not verify",
    doc: "\
## What it does
Verifies every attestation of the PEP 740 provenance object the index serves for the judged
file, offline: the Fulcio certificate chains to the Sigstore trust root at the transparency-log
time, the Rekor entry (signed entry timestamp, inclusion proof, checkpoint) describes this
signature, the DSSE signature verifies, the in-toto statement names this file and carries its
sha256 (the one the lockfile pins), and the index's Trusted Publisher claim agrees with the
certificate. Any failure fires this rule with the check that failed.

## Why it matters
An attestation that does not verify is either corrupted or forged. Forged provenance is worse
than none: it is made to be believed. A valid attestation copied from another file, another
project or an older release of this one names another digest and fails here.

## Example
`demo-1.0.1.tar.gz` is served with the attestation of `demo-1.0.0.tar.gz`:
`subject-mismatch: the attestation is for \"demo-1.0.0.tar.gz\"`.

## How to silence it
Do not, unless the index is known to serve broken provenance for this file; then pin an
exception for the `name@version` with the reason.
",
};

pub(crate) fn check(project: &str, c: &Release<'_>, _history: &[Release<'_>]) -> Option<Finding> {
    let Pep740Status::Invalid { reason } = c.status else {
        return None;
    };
    Some(
        Finding::new(
            &RULE,
            format!(
                "{project}=={}: the PEP 740 provenance of {} does not verify: {reason}",
                c.version, c.filename
            ),
        )
        .with_evidence(c.evidence(project, reason)),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn fires_on_invalid_only() {
        let bad = Pep740Status::Invalid {
            reason: "subject-digest-mismatch: x".into(),
        };
        assert_eq!(codes(&rel("1.0.1", &bad), &[]), ["py-provenance-invalid"]);
        let ok = verified("acme/demo", "release.yml");
        assert!(codes(&rel("1.0.1", &ok), &[]).is_empty());
        assert!(codes(&rel("1.0.1", &Pep740Status::Absent), &[]).is_empty());
    }
}
