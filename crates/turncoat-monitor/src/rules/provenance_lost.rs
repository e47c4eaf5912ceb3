use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::{Event, previous_in_line};
use crate::snapshot::{Release, Snapshot};

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-provenance-lost",
    group: super::GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a new version lacks the provenance or trusted publishing the previous release of its line had",
    doc: r#"The previous release on the same line (same major; for 0.x the same minor) carried a
provenance/publish attestation (`dist.attestations`) or was published through trusted
publishing (OIDC, `_npmUser.trustedPublisher`), and the new version does not.

**Why it matters.** Provenance ties a release to a CI run of a repository. A token stolen from
a laptop or a phished account publishes from somewhere else and cannot produce it: losing it is
the most reliable sign a release left the usual path (the `turncoat diff` publish-path rules
verify the attestations themselves)."#,
};

pub(crate) fn check(
    old: &Snapshot,
    new: &Snapshot,
    version: &str,
    release: &Release,
) -> Option<Event> {
    let prev = previous_in_line(old.versions.keys(), version)?;
    let before = old.versions.get(prev)?;
    let mut lost = Vec::new();
    if before.provenance && !release.provenance {
        lost.push("a provenance attestation");
    }
    if before.trusted_publishing && !release.trusted_publishing {
        lost.push("trusted publishing");
    }
    if lost.is_empty() {
        return None;
    }
    Some(Event::new(
        &RULE,
        &new.name,
        Some(version),
        format!(
            "{}@{version} has no {}; {prev}, the previous release of its line, had it",
            new.name,
            lost.join(" and no ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_when_the_line_had_provenance_and_the_new_version_has_none() {
        let old = snap(&[("1.0.0", Some("a"), true)]);
        let new = snap(&[("1.0.0", Some("a"), true), ("1.0.1", Some("a"), false)]);
        let e = compare(&old, &new, &watch());
        assert!(codes(&e).contains(&"monitor-provenance-lost"));

        let mut old = snap(&[("1.0.0", Some("a"), false)]);
        old.versions.get_mut("1.0.0").unwrap().trusted_publishing = true;
        let mut new = old.clone();
        new.versions
            .insert("1.0.1".into(), crate::Release::default());
        let e = compare(&old, &new, &watch());
        let m = &e
            .iter()
            .find(|e| e.code == "monitor-provenance-lost")
            .unwrap()
            .message;
        assert!(m.contains("trusted publishing"), "{m}");
    }

    #[test]
    fn silent_when_kept_never_had_or_on_another_line() {
        let old = snap(&[("1.0.0", Some("a"), true)]);
        let kept = snap(&[("1.0.0", Some("a"), true), ("1.0.1", Some("a"), true)]);
        assert!(!codes(&compare(&old, &kept, &watch())).contains(&"monitor-provenance-lost"));
        let never = snap(&[("1.0.0", Some("a"), false)]);
        let new = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        assert!(!codes(&compare(&never, &new, &watch())).contains(&"monitor-provenance-lost"));
        // A new major is a new line.
        let major = snap(&[("1.0.0", Some("a"), true), ("2.0.0", Some("a"), false)]);
        assert!(!codes(&compare(&old, &major, &watch())).contains(&"monitor-provenance-lost"));
    }
}
