//! `version-not-in-packument`: the locked version is not (or no longer) published.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::MetaCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "version-not-in-packument",
    group: "metadata",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "The version is missing from the registry's packument (unpublished or never published).",
    doc: r#"Fires when the candidate version is not in the packument's `versions`. If `time` still lists it, it was **unpublished** — which is what the registry does to malicious releases; otherwise it never existed there (a lockfile pointing at another registry, or a typo).

**Why it matters.** Every bad version in the incidents studied (chalk/debug, nx, axios, Shai-Hulud …) was removed within hours; a lockfile still pinning one is installing malware from a cache or mirror.

**Example.** `debug@4.4.2` locked; the packument has `time["4.4.2"]` but no `versions["4.4.2"]`.

**How to silence.** Update the lockfile to a published version; do not silence this for an unpublished version."#,
};

/// Returns true when the version is missing (the other rules then have nothing to judge).
pub(crate) fn check(cx: &MetaCx<'_>, out: &mut Vec<Finding>) -> bool {
    if cx.p.versions.contains_key(cx.to) {
        return false;
    }
    let msg = match cx.p.published(cx.to) {
        Some(t) => format!(
            "{}@{} was unpublished from the registry (published {t}); removed versions are usually malicious",
            cx.name, cx.to
        ),
        None => format!(
            "{}@{} does not exist in the registry's packument",
            cx.name, cx.to
        ),
    };
    out.push(Finding::new(&RULE, msg));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::testing::*;
    use crate::metadata::{MetadataOptions, findings};

    #[test]
    fn unpublished_version_blocks() {
        let p = packument(
            &[("4.4.1", "2025-01-01T00:00:00Z")],
            &[("4.4.2", "2025-09-08T13:16:00Z")],
        );
        let f = findings(
            &p,
            Some("4.4.1"),
            "4.4.2",
            at("2025-09-20T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, RULE.code);
        assert!(f[0].message.contains("unpublished"));
    }

    #[test]
    fn present_version_is_quiet() {
        let p = packument(&[("1.0.0", "2020-01-01T00:00:00Z")], &[]);
        let f = findings(
            &p,
            None,
            "1.0.0",
            at("2024-01-01T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert!(f.iter().all(|f| f.code != RULE.code));
    }
}
