use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-maintainer-removed",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a maintainer the package had at the last poll is gone",
    doc: r#"The packument's `maintainers` no longer lists an account it listed at the last poll.

**Why it matters.** Removing the legitimate maintainers is how a hijacker locks the owner out
(the `ua-parser-js` and `eslint-scope` takeovers kept the owners; others did not). It is also an
ordinary handover: check which it is."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Option<Event> {
    let removed: Vec<&str> = old
        .maintainers
        .difference(&new.maintainers)
        .map(String::as_str)
        .collect();
    if removed.is_empty() {
        return None;
    }
    Some(Event::new(
        &RULE,
        &new.name,
        None,
        format!(
            "{}: maintainer removed: {}",
            new.name,
            super::list(&removed)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_on_a_removed_maintainer_only() {
        let mut old = snap(&[("1.0.0", Some("a"), false)]);
        old.maintainers.insert("alice".into());
        old.maintainers.insert("bob".into());
        let mut new = old.clone();
        new.maintainers.remove("bob");
        assert_eq!(
            codes(&compare(&old, &new, &watch())),
            ["monitor-maintainer-removed"]
        );
        assert!(!codes(&compare(&new, &old, &watch())).contains(&"monitor-maintainer-removed"));
    }
}
