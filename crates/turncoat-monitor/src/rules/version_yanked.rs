use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-version-yanked",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a PyPI release was yanked since the last poll",
    doc: r#"Every file of a release the monitor saw unyanked is now yanked (PEP 592).

**Why it matters.** Maintainers and PyPI's administrators yank a release that is broken or
malicious; installers skip it for ranges but still install it when pinned, which is what a
lockfile does. If the project locks the yanked version, find out why it was yanked (the index
gives a reason when the maintainer wrote one) before the next install."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    new.yanked
        .iter()
        .filter(|v| !old.yanked.contains(*v) && old.versions.contains_key(*v))
        .map(|v| {
            Event::new(
                &RULE,
                &new.name,
                Some(v),
                format!("{} {v} was yanked", new.name),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_once_when_a_release_is_yanked() {
        let old = snap(&[("1.0", None, false)]);
        let mut new = old.clone();
        new.yanked.insert("1.0".into());
        assert_eq!(
            codes(&compare(&old, &new, &watch())),
            ["monitor-version-yanked"]
        );
        assert!(compare(&new, &new, &watch()).is_empty());
        // Un-yanking is not this alert.
        assert!(compare(&new, &old, &watch()).is_empty());
    }
}
