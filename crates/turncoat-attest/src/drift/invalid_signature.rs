//! `invalid-signature`: the registry signature of the candidate does not verify.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;
use crate::signature::SignatureStatus;

pub const RULE: RuleDoc = RuleDoc {
    code: "invalid-signature",
    group: "attest",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "the registry signature (`dist.signatures`) does not verify or uses an expired key",
    doc: "\
## What it does
Checks the npm registry's ECDSA signature over `<name>@<version>:<integrity>` with the
registry key named by its `keyid`, and that the key was still valid when the version was
published (`time[version]`).

## Why it matters
npm signs every version it serves. A signature that does not verify means the metadata or the
tarball hash was changed after the registry signed it: a tampering mirror, proxy or cache. A
signature by a key that had already expired at publish time is something the registry never
produces.

A *valid* signature proves only that the registry served these bytes: a hijacked account's
publish is signed like any other. A version without signatures, or signed only by keys
turncoat does not know, after signed versions is reported by `signature-missing` and
`signature-unknown-key`; a registry that never signs (third-party registries) is not flagged.

## Example
`dist.signatures[0].sig` of `left-pad@1.3.0` verifies for a different `dist.integrity`.

## How to silence it
Do not, unless the registry is known to re-sign: fix the registry or mirror. An exception for
one `name@version` can be pinned in `turncoat.toml`.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let what = match cx.verif_to.signature {
        SignatureStatus::Invalid => "does not verify",
        SignatureStatus::ExpiredKey => {
            "is by a key that had expired when the version was published"
        }
        _ => return None,
    };
    let detail = cx.verif_to.reason.as_deref().unwrap_or_default();
    Some(
        Finding::new(
            &RULE,
            format!("the registry signature of {}@{} {what}", cx.name, cx.to),
        )
        .with_evidence(cx.evidence(cx.to, &format!("dist.signatures: {detail}"))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::attestations::ProvenanceStatus;

    #[test]
    fn flags_invalid_and_expired() {
        let p = packument(vec![v("1.0.0", "2024-01-01T00:00:00Z", "alice")]);
        for s in [SignatureStatus::Invalid, SignatureStatus::ExpiredKey] {
            let t = verif("1.0.0", s, ProvenanceStatus::Absent, None);
            let f = super::super::drift(&p, None, "1.0.0", None, None, &t);
            assert_eq!(f.iter().filter(|f| f.code == RULE.code).count(), 1, "{s}");
        }
    }

    #[test]
    fn quiet_for_valid_missing_and_unknown_keys() {
        let p = packument(vec![v("1.0.0", "2024-01-01T00:00:00Z", "alice")]);
        for s in [
            SignatureStatus::Valid,
            SignatureStatus::Missing,
            SignatureStatus::UnknownKey,
        ] {
            let t = verif("1.0.0", s, ProvenanceStatus::Absent, None);
            let f = super::super::drift(&p, None, "1.0.0", None, None, &t);
            assert!(f.iter().all(|f| f.code != RULE.code), "{s}");
        }
    }
}
