use std::collections::BTreeSet;

use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::{Release, Snapshot};

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-publisher-changed",
    group: super::GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a new version was published by an account that published none of the earlier releases",
    doc: r#"The new version's publisher (`_npmUser`) is not among the accounts that published the
releases the monitor saw before, or the registry names no publisher for it while it named one
for earlier releases.

**Why it matters.** A takeover publishes from the attacker's session or a stolen token; a new
publisher is the change a takeover makes (it is also what a new maintainer looks like: check).
For the team's own packages, `monitor-takeover` says it louder when the roster is known."#,
};

pub(crate) fn check(
    old: &Snapshot,
    new: &Snapshot,
    version: &str,
    release: &Release,
) -> Option<Event> {
    let before: BTreeSet<&str> = old
        .versions
        .values()
        .filter_map(|r| r.publisher.as_deref())
        .collect();
    if before.is_empty() {
        // The registry never names publishers (a mirror, Verdaccio): nothing to compare.
        return None;
    }
    let earlier = super::list(&before.iter().copied().collect::<Vec<_>>());
    let message = match release.publisher.as_deref() {
        Some(p) if before.contains(p) => return None,
        Some(p) => format!(
            "{}@{version} was published by `{p}`; earlier releases by {earlier}",
            new.name
        ),
        None => format!(
            "{}@{version} names no publisher; earlier releases were published by {earlier}",
            new.name
        ),
    };
    Some(Event::new(&RULE, &new.name, Some(version), message))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_for_a_new_or_missing_publisher() {
        let old = snap(&[("1.0.0", Some("alice"), false)]);
        let new = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("eve"), false),
        ]);
        assert!(codes(&compare(&old, &new, &watch())).contains(&"monitor-publisher-changed"));
        let none = snap(&[("1.0.0", Some("alice"), false), ("1.0.1", None, false)]);
        assert!(codes(&compare(&old, &none, &watch())).contains(&"monitor-publisher-changed"));
    }

    #[test]
    fn silent_for_a_known_publisher_or_a_registry_that_names_none() {
        let old = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("bob"), false),
        ]);
        let new = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("bob"), false),
            ("1.0.2", Some("alice"), false),
        ]);
        assert!(!codes(&compare(&old, &new, &watch())).contains(&"monitor-publisher-changed"));
        let old = snap(&[("1.0.0", None, false)]);
        let new = snap(&[("1.0.0", None, false), ("1.0.1", None, false)]);
        assert!(!codes(&compare(&old, &new, &watch())).contains(&"monitor-publisher-changed"));
    }
}
