use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-dist-tag-dangling",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a dist-tag now points at a version the registry does not serve",
    doc: r#"A dist-tag changed to a version that is not in the packument's `versions`. npm
itself refuses to tag a missing version: the document is inconsistent (a broken mirror, a
partial unpublish) or forged. `npm install PACKAGE` fails or, with a lenient client, resolves
something else than the tag says."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    new.dist_tags
        .iter()
        .filter(|(t, v)| !new.versions.contains_key(*v) && old.dist_tags.get(*t) != Some(*v))
        .map(|(t, v)| {
            Event::new(
                &RULE,
                &new.name,
                Some(v),
                format!(
                    "{}: dist-tag `{t}` points at {v}, which the registry does not serve",
                    new.name
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_when_a_tag_moves_to_a_missing_version_once() {
        let old = snap(&[("1.0.0", Some("a"), false)]);
        let mut new = old.clone();
        new.dist_tags.insert("latest".into(), "9.9.9".into());
        let c = compare(&old, &new, &watch());
        assert_eq!(codes(&c), ["monitor-dist-tag-dangling"]);
        // Not repeated on the next poll, and not a move or a downgrade besides.
        assert!(compare(&new, &new, &watch()).is_empty());
    }
}
