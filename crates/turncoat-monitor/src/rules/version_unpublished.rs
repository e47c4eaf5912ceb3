use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-version-unpublished",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a version the registry served at the last poll is gone",
    doc: r#"A version the monitor saw at its last poll is no longer in the packument (unpublished,
or the whole package was), or one that was published and unpublished between two polls (never
served at a poll; the registry's `time` still lists it).

**Why it matters.** Attackers unpublish the malicious version once it has spread, to erase the
evidence, and registries unpublish it when they take it down: either way a project that locked
it has installed something that is now known bad or cannot be reproduced. `turncoat incident`
finds every lockfile that has it."#,
};

/// Above this many, one event names them all.
const ONE_EACH: usize = 10;

/// Versions published and unpublished between two polls: never served at a poll, now among
/// the registry's unpublished ones, and not unpublished before the last poll either.
pub(crate) fn between_polls<'a>(old: &Snapshot, new: &'a Snapshot) -> Vec<&'a str> {
    new.unpublished
        .iter()
        .filter(|v| !old.versions.contains_key(*v) && !old.unpublished.contains(*v))
        .map(String::as_str)
        .collect()
}

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    let vanished = between_polls(old, new);
    let gone: Vec<&str> = old
        .versions
        .keys()
        .filter(|v| !new.versions.contains_key(*v))
        .map(String::as_str)
        .chain(vanished.iter().copied())
        .collect();
    if gone.len() > ONE_EACH {
        return vec![Event::new(
            &RULE,
            &new.name,
            None,
            format!(
                "{}: {} versions unpublished: {}",
                new.name,
                gone.len(),
                super::list(&gone)
            ),
        )];
    }
    gone.into_iter()
        .map(|v| {
            Event::new(
                &RULE,
                &new.name,
                Some(v),
                if vanished.contains(&v) {
                    format!(
                        "{}@{v} was published and unpublished between two polls",
                        new.name
                    )
                } else {
                    format!("{}@{v} was unpublished", new.name)
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_per_version_gone_and_once_for_many() {
        let old = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        let mut new = snap(&[("1.0.0", Some("a"), false)]);
        new.dist_tags = old.dist_tags.clone();
        new.dist_tags.insert("latest".into(), "1.0.0".into());
        let e = compare(&old, &new, &watch());
        let c: Vec<_> = e
            .iter()
            .filter(|e| e.code == "monitor-version-unpublished")
            .map(|e| e.version.as_deref())
            .collect();
        assert_eq!(c, [Some("1.0.1")]);

        let rows: Vec<(String, Option<&str>, bool)> =
            (0..30).map(|i| (format!("1.0.{i}"), None, false)).collect();
        let rows: Vec<(&str, Option<&str>, bool)> =
            rows.iter().map(|(v, p, b)| (v.as_str(), *p, *b)).collect();
        let many = snap(&rows);
        let mut empty = snap(&[]);
        empty.dist_tags.clear();
        let e = compare(&many, &empty, &watch());
        assert_eq!(
            codes(&e)
                .iter()
                .filter(|c| **c == "monitor-version-unpublished")
                .count(),
            1
        );
    }

    /// Published, spread, unpublished before the next poll: never served at a poll, but the
    /// registry keeps its time entry.
    #[test]
    fn fires_for_a_version_published_and_unpublished_between_polls() {
        let old = snap(&[("1.0.0", Some("a"), false)]);
        let mut new = snap(&[("1.0.0", Some("a"), false)]);
        new.unpublished.insert("1.0.1".into());
        let e = compare(&old, &new, &watch());
        let hit: Vec<_> = e
            .iter()
            .filter(|e| e.code == "monitor-version-unpublished")
            .collect();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].version.as_deref(), Some("1.0.1"));
        assert!(
            hit[0].message.contains("between two polls"),
            "{}",
            hit[0].message
        );
        // Already unpublished at the last poll: not again.
        let mut old = old;
        old.unpublished.insert("1.0.1".into());
        assert!(!codes(&compare(&old, &new, &watch())).contains(&"monitor-version-unpublished"));
    }

    #[test]
    fn silent_when_every_version_is_still_there() {
        let old = snap(&[("1.0.0", Some("a"), false)]);
        let new = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        assert!(!codes(&compare(&old, &new, &watch())).contains(&"monitor-version-unpublished"));
    }
}
