use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-dist-tag-moved",
    group: super::GROUP,
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "a dist-tag moved to another existing version",
    doc: r#"A dist-tag (`latest`, `next`, ...) points at another version than at the last poll,
or is new, and that version is not one published since the last poll (publishing moves the tag:
`monitor-new-version` reports that). Informational: a re-tag changes what `npm install
PACKAGE@TAG` resolves without a new version. Backwards moves of `latest` are
`monitor-latest-backwards`, tags on missing versions `monitor-dist-tag-dangling`."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    new.dist_tags
        .iter()
        .filter(|(t, v)| {
            old.dist_tags.get(*t) != Some(*v)
                && new.versions.contains_key(*v)
                && old.versions.contains_key(*v)
        })
        .filter(|(t, _)| *t != "latest" || super::latest_backwards::check(old, new).is_none())
        .map(|(t, v)| {
            let from = old
                .dist_tags
                .get(t)
                .map(|o| format!(" from {o}"))
                .unwrap_or_default();
            Event::new(
                &RULE,
                &new.name,
                Some(v),
                format!("{}: dist-tag `{t}` moved{from} to {v}", new.name),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_on_a_retag_but_not_on_a_publish() {
        let old = snap(&[
            ("1.0.0", Some("a"), false),
            ("2.0.0-rc.1", Some("a"), false),
        ]);
        let mut retag = old.clone();
        retag.dist_tags.insert("next".into(), "2.0.0-rc.1".into());
        assert_eq!(
            codes(&compare(&old, &retag, &watch())),
            ["monitor-dist-tag-moved"]
        );
        // latest moving to a freshly published version is the new version, not a move.
        let published = snap(&[
            ("1.0.0", Some("a"), false),
            ("2.0.0-rc.1", Some("a"), false),
            ("1.0.1", Some("a"), false),
        ]);
        assert!(!codes(&compare(&old, &published, &watch())).contains(&"monitor-dist-tag-moved"));
    }
}
