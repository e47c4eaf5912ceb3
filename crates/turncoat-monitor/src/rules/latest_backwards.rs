use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-latest-backwards",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the `latest` dist-tag moved to a lower version",
    doc: r#"`latest` now points at a version lower (by semver) than the one it pointed at at
the last poll.

**Why it matters.** Maintainers move `latest` back when a release turns out bad, often a
compromised one, before anyone says so; an attacker can also move it to an old version they
republished under another tag. Either way new installs change without a new version. Check
why, and whether the locked version is the one moved away from."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Option<Event> {
    let (o, n) = (old.dist_tags.get("latest")?, new.dist_tags.get("latest")?);
    if !new.versions.contains_key(n) {
        return None; // dist-tag-dangling says it
    }
    let (ov, nv) = (
        o.parse::<node_semver::Version>().ok()?,
        n.parse::<node_semver::Version>().ok()?,
    );
    if nv >= ov {
        return None;
    }
    Some(Event::new(
        &RULE,
        &new.name,
        Some(n),
        format!("{}: `latest` moved back from {o} to {n}", new.name),
    ))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_when_latest_goes_down_not_up() {
        let old = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        let mut back = old.clone();
        back.dist_tags.insert("latest".into(), "1.0.0".into());
        assert_eq!(
            codes(&compare(&old, &back, &watch())),
            ["monitor-latest-backwards"]
        );
        let up = compare(&back, &old, &watch());
        assert!(!codes(&up).contains(&"monitor-latest-backwards"));
        assert_eq!(codes(&up), ["monitor-dist-tag-moved"]);
    }
}
