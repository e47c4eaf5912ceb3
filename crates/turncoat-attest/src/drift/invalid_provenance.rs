//! `invalid-provenance`: the candidate's attestations fail to verify or are not about it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;
use crate::attestations::ProvenanceStatus;

pub const RULE: RuleDoc = RuleDoc {
    code: "invalid-provenance",
    group: "attest",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "the version's Sigstore attestations do not verify or describe another tarball",
    doc: "\
## What it does
Verifies every bundle of the version's npm attestations offline: the Rekor signed entry
timestamp, Merkle inclusion proof and signed checkpoint, the Fulcio certificate chain at the
log time (or the npm registry key for the registry's publish attestation), the DSSE signature,
the log entry's consistency with all of these, and that each statement's subject is
`pkg:npm/<name>@<version>` with the sha512 of the locked tarball.

## Why it matters
The registry only serves attestations it verified at publish time. One that fails now was
altered on the way (mirror, proxy, cache) or belongs to a different tarball than the one the
lockfile pins: the provenance cannot be trusted and neither can the tarball.

## Example
The SLSA provenance of `nuxt@4.1.2` with one bit of its inclusion proof flipped:
`inclusion-proof-invalid`.

## How to silence it
Pin an exception for the one `name@version` in `turncoat.toml` after investigating; the reason
code in the message says which check failed.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    if cx.verif_to.provenance != ProvenanceStatus::Invalid {
        return None;
    }
    let why = cx
        .verif_to
        .provenance_error
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| cx.verif_to.reason.clone())
        .unwrap_or_default();
    Some(
        Finding::new(
            &RULE,
            format!(
                "the attestations of {}@{} do not verify: {why}",
                cx.name, cx.to
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("dist.attestations: {why}"))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::error::{Reason, VerifyError};
    use crate::signature::SignatureStatus;

    #[test]
    fn flags_invalid_provenance_with_its_reason() {
        let p = packument(vec![v("1.0.0", "2024-01-01T00:00:00Z", "alice").prov()]);
        let mut t = verif(
            "1.0.0",
            SignatureStatus::Valid,
            ProvenanceStatus::Invalid,
            None,
        );
        t.provenance_error = Some(VerifyError::new(Reason::SetInvalid, "bad SET"));
        let f = super::super::drift(&p, None, "1.0.0", None, None, &t);
        let hit: Vec<_> = f.iter().filter(|f| f.code == RULE.code).collect();
        assert_eq!(hit.len(), 1);
        assert!(hit[0].message.contains("set-invalid"));
    }

    #[test]
    fn quiet_for_verified_and_absent() {
        let p = packument(vec![v("1.0.0", "2024-01-01T00:00:00Z", "alice")]);
        for s in [ProvenanceStatus::Verified, ProvenanceStatus::Absent] {
            let t = verif("1.0.0", SignatureStatus::Valid, s, None);
            let f = super::super::drift(&p, None, "1.0.0", None, None, &t);
            assert!(f.iter().all(|f| f.code != RULE.code));
        }
    }
}
