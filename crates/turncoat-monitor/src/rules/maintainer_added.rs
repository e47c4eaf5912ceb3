use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-maintainer-added",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the package has a maintainer it did not have at the last poll",
    doc: r#"The packument's `maintainers` lists an account it did not list at the last poll.

**Why it matters.** An attacker who takes one maintainer's account often adds an account of
their own (or a sock puppet) to keep access after the owner recovers theirs; a handover to a
stranger is how `event-stream` was trojanized. Check who the new maintainer is."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Option<Event> {
    let added: Vec<&str> = new
        .maintainers
        .difference(&old.maintainers)
        .map(String::as_str)
        .collect();
    if added.is_empty() {
        return None;
    }
    Some(Event::new(
        &RULE,
        &new.name,
        None,
        format!("{}: maintainer added: {}", new.name, super::list(&added)),
    ))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_on_an_added_maintainer_only() {
        let mut old = snap(&[("1.0.0", Some("a"), false)]);
        old.maintainers.insert("alice".into());
        let mut new = old.clone();
        new.maintainers.insert("mallory".into());
        let e = compare(&old, &new, &watch());
        assert_eq!(codes(&e), ["monitor-maintainer-added"]);
        assert!(e[0].message.contains("`mallory`"));
        assert!(compare(&old, &old, &watch()).is_empty());
        assert!(!codes(&compare(&new, &old, &watch())).contains(&"monitor-maintainer-added"));
    }
}
