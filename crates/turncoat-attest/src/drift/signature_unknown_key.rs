//! `signature-unknown-key`: the candidate is signed only by a key turncoat does not know,
//! while its history was signed by other keys.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;
use crate::signature::SignatureStatus;

pub const RULE: RuleDoc = RuleDoc {
    code: "signature-unknown-key",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the version is signed only by a registry key turncoat does not know, unlike the versions before it",
    doc: "\
## What it does
Flags a candidate version whose `dist.signatures` are all by key ids absent from turncoat's
registry key set, when the version it replaces verified with a known key or an earlier version
of the same release line was signed by a different key id.

## Why it matters
A signature by an unknown key proves nothing: anyone can mint a key pair and a `keyid`. A
tampering proxy or a forged packument that cannot produce a valid registry signature for its
swapped `dist.integrity` can attach one by its own key instead of stripping it, and an unknown
key used to be reported only in the verification facts, so the version passed. A genuine key
rotation by the registry is shipped in turncoat's embedded key set (or pass `--keys` to
`turncoat verify`).

## Example
`pkg@2.4.0` is signed by `SHA256:DhQ8wR5…` (npm's key) and `pkg@2.4.1` by `SHA256:attacker`.

## How to silence it
Update turncoat (or its keys) if the registry rotated its key. An exception must name this code
explicitly (`codes = [\"signature-unknown-key\"]`): an exception without codes does not cover it.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    if cx.verif_to.signature != SignatureStatus::UnknownKey {
        return None;
    }
    let to_keys: Vec<&str> = cx
        .to_m
        .map(|m| m.dist.signatures.iter().map(|s| s.keyid.as_str()).collect())
        .unwrap_or_default();
    let from_verified = cx
        .verif_from
        .is_some_and(|f| f.signature == SignatureStatus::Valid);
    let by_other_key: Vec<&str> = cx
        .history()
        .into_iter()
        .filter(|v| {
            cx.p.versions.get(*v).is_some_and(|m| {
                m.dist
                    .signatures
                    .iter()
                    .any(|s| !to_keys.contains(&s.keyid.as_str()))
            })
        })
        .collect();
    let latest = match (by_other_key.first(), cx.from) {
        (Some(v), _) => *v,
        (None, Some(from)) if from_verified => from,
        _ => return None,
    };
    let keyids = if to_keys.is_empty() {
        "?".to_string()
    } else {
        to_keys.join(", ")
    };
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} is signed only by unknown key(s) {keyids}, while {latest} was signed by a key turncoat knows or a different key",
                cx.name, cx.to
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("dist.signatures keyid: {keyids}")))
        .with_evidence(cx.evidence(latest, "dist.signatures: signed by another key")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::attestations::ProvenanceStatus;

    fn hits(
        p: &turncoat_npm::Packument,
        from: Option<&str>,
        to: &str,
        verif_from: Option<&crate::PackageVerification>,
    ) -> usize {
        let t = verif(
            to,
            SignatureStatus::UnknownKey,
            ProvenanceStatus::Absent,
            None,
        );
        super::super::drift(p, from, to, None, verif_from, &t)
            .iter()
            .filter(|f| f.code == RULE.code)
            .count()
    }

    #[test]
    fn flags_a_new_key_after_signed_history() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").signed("SHA256:npm"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").signed("SHA256:attacker"),
        ]);
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1", None), 1);
        assert_eq!(hits(&p, None, "1.0.1", None), 1);
    }

    #[test]
    fn flags_when_the_replaced_version_verified() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").signed("SHA256:same"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").signed("SHA256:same"),
        ]);
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1", Some(&plain("1.0.0"))), 1);
    }

    #[test]
    fn quiet_when_the_history_used_the_same_unknown_key_or_none() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").signed("SHA256:private"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").signed("SHA256:private"),
        ]);
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1", None), 0);
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").signed("SHA256:private"),
        ]);
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1", None), 0);
    }
}
