use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-new-version",
    group: super::GROUP,
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "a package the project locks (or the team owns) has a new version",
    doc: r#"A version the monitor had not seen at its last poll. For a locked dependency the
alert carries the gate's verdict on the update from the locked version to this one (`turncoat
diff` run before anyone opens a pull request): its level is the verdict's (`pass` is info, `warn`
warn, `block` block) and it lists the gate's finding codes. When the gate cannot judge the
version the alert is `monitor-unjudged` instead, never a pass.

**What to do.** Nothing for a pass. For a warn or block, read the findings (`turncoat diff` on
a lockfile with the update shows the same report) before the update bot opens its pull request."#,
};

pub(crate) fn check(new: &Snapshot, version: &str) -> Option<Event> {
    let publisher = new
        .versions
        .get(version)
        .and_then(|r| r.publisher.as_deref())
        .map(|p| format!(" by `{p}`"))
        .unwrap_or_default();
    Some(Event::new(
        &RULE,
        &new.name,
        Some(version),
        format!("new version {}@{version} published{publisher}", new.name),
    ))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_once_per_new_version_in_publish_order() {
        let old = snap(&[("1.0.0", Some("a"), false)]);
        let new = snap(&[
            ("1.0.0", Some("a"), false),
            ("1.0.1", Some("a"), false),
            ("1.1.0", Some("a"), false),
        ]);
        let e = compare(&old, &new, &watch());
        let versions: Vec<_> = e
            .iter()
            .filter(|e| e.code == "monitor-new-version")
            .map(|e| e.version.as_deref().unwrap())
            .collect();
        assert_eq!(versions, ["1.0.1", "1.1.0"]);
        assert!(e[0].message.contains("by `a`"));
    }

    #[test]
    fn silent_when_no_version_is_new() {
        let s = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        let old = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        assert!(!codes(&compare(&old, &s, &watch())).contains(&"monitor-new-version"));
    }
}
