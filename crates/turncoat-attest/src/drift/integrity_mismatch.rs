//! `integrity-mismatch`: the lockfile pins a tarball the registry does not list for the version.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};
use turncoat_npm::{Algorithm, Integrity};

use super::Ctx;

pub const RULE: RuleDoc = RuleDoc {
    code: "integrity-mismatch",
    group: "attest",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "the lockfile's integrity differs from the registry's `dist.integrity` for the version",
    doc: "\
## What it does
Compares the integrity the lockfile pins for the candidate with the registry's
`dist.integrity` (or the sha1 `dist.shasum`) for the same version, using the strongest
algorithm both carry.

## Why it matters
npm versions are immutable: the registry never serves two tarballs for one version. A
lockfile that pins different bytes was edited, points at a mirror that serves something else,
or was generated against a compromised registry. Signatures and provenance are bound to the
registry's integrity, so they say nothing about the locked bytes.

## Example
`package-lock.json` pins `left-pad@1.3.0` as `sha512-AAAA…` while the registry lists
`sha512-BBBB…`.

## How to silence it
Regenerate the lockfile entry from the registry you trust. An exception can be pinned for the
one `name@version`.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let locked = Integrity::parse(cx.locked_integrity?).ok()?;
    let dist = &cx.to_m?.dist;
    let mut registry = dist
        .integrity
        .as_deref()
        .and_then(|i| Integrity::parse(i).ok())
        .map(|i| i.hashes)
        .unwrap_or_default();
    if let Some(sha1) = dist.shasum.as_deref().and_then(Integrity::from_sha1_hex) {
        registry.extend(sha1.hashes);
    }
    // The strongest algorithm both sides carry decides.
    let alg = [
        Algorithm::Sha512,
        Algorithm::Sha384,
        Algorithm::Sha256,
        Algorithm::Sha1,
    ]
    .into_iter()
    .find(|a| {
        locked.hashes.iter().any(|h| h.algorithm == *a)
            && registry.iter().any(|h| h.algorithm == *a)
    })?;
    let l = locked.hashes.iter().find(|h| h.algorithm == alg)?;
    if registry
        .iter()
        .any(|h| h.algorithm == alg && h.digest == l.digest)
    {
        return None;
    }
    let r = registry.iter().find(|h| h.algorithm == alg)?;
    Some(
        Finding::new(
            &RULE,
            format!(
                "the lockfile pins {}@{} as {}, but the registry lists {}",
                cx.name,
                cx.to,
                short(&l.to_sri()),
                short(&r.to_sri())
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("dist.integrity: {}", r.to_sri()))),
    )
}

fn short(sri: &str) -> String {
    sri.chars().take(24).collect::<String>() + "…"
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn run(locked: &str) -> Vec<Finding> {
        let p = packument(vec![v("1.0.0", "2024-01-01T00:00:00Z", "alice")]);
        super::super::drift(&p, None, "1.0.0", Some(locked), None, &plain("1.0.0"))
            .into_iter()
            .filter(|f| f.code == RULE.code)
            .collect()
    }

    #[test]
    fn flags_a_different_tarball() {
        let other = crate::testkit::Kit::integrity(b"evil");
        assert_eq!(run(&other).len(), 1);
        // sha1 compared against dist.shasum when that is all the lockfile has.
        assert_eq!(run("sha1-AQEBAQEBAQEBAQEBAQEBAQEBAQE=").len(), 1);
    }

    #[test]
    fn quiet_when_equal_or_incomparable() {
        let same = crate::testkit::Kit::integrity(b"1.0.0");
        assert!(run(&same).is_empty());
        assert!(
            run("sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_empty(),
            "equals dist.shasum"
        );
        assert!(run("not an integrity").is_empty());
        assert!(run("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").is_empty());
    }
}
