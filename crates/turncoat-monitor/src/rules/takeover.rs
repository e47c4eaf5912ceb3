use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::{Event, Watch};
use crate::snapshot::{Release, Snapshot};

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-takeover",
    group: super::GROUP,
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "a new version of one of the team's own packages was published by nobody in the roster",
    doc: r#"`turncoat monitor --own PACKAGE` follows the team's own packages. A new version whose
publisher (the registry's `_npmUser` for that version) is not an npm account of the roster
(`publishers.toml`, or the `[publishers]` table of `turncoat.toml`, as `turncoat evaluate`
reads it) is the takeover alarm: someone outside the team holds a token or an account that can
publish the package. A version for which the registry names no publisher is alarmed too: nobody
in the roster can be shown to have published it (fail closed; some private registries do not
record publishers, see docs/monitor.md). So is a version published and unpublished between two
polls, whose publisher can no longer be read.

**Why it matters.** Hijacked maintainer accounts and stolen publish tokens are how trojanized
updates reach everybody who depends on the package; the team is the first who can notice.

**What to do.** Check with the person named (or the whole team) at once; if nobody published
it, deprecate or unpublish the version, revoke every publish token, rotate the account's
credentials and follow `turncoat incident`. If the publisher is a new team member, add them to
the roster."#,
};

pub(crate) fn check(
    _old: &Snapshot,
    new: &Snapshot,
    version: &str,
    release: &Release,
    watch: &Watch<'_>,
) -> Option<Event> {
    if !watch.own {
        return None;
    }
    let roster = watch.roster?;
    let message = match &release.publisher {
        Some(p) if roster.contains(p) => return None,
        Some(p) => format!(
            "TAKEOVER ALARM: {}@{version} was published by `{p}`, who is not in the roster",
            new.name
        ),
        None => format!(
            "TAKEOVER ALARM: {}@{version} was published by an account the registry does not \
             name; nobody in the roster can be shown to have published it",
            new.name
        ),
    };
    Some(Event::new(&RULE, &new.name, Some(version), message))
}

/// A version of an own package published and unpublished between two polls: its publisher
/// cannot be read any more, so nobody in the roster can be shown to have published it.
pub(crate) fn check_vanished(new: &Snapshot, version: &str, watch: &Watch<'_>) -> Option<Event> {
    if !watch.own {
        return None;
    }
    watch.roster?;
    Some(Event::new(
        &RULE,
        &new.name,
        Some(version),
        format!(
            "TAKEOVER ALARM: {}@{version} was published and unpublished between two polls; \
             nobody in the roster can be shown to have published it",
            new.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::event::tests::{codes, snap, watch};
    use crate::{Watch, compare};

    fn own(roster: &BTreeSet<String>) -> Watch<'_> {
        Watch {
            own: true,
            roster: Some(roster),
            ..watch()
        }
    }

    #[test]
    fn fires_for_an_outsider_or_an_unnamed_publisher_on_an_own_package() {
        let roster: BTreeSet<String> = ["alice".to_string(), "bob".to_string()].into();
        let old = snap(&[("1.0.0", Some("alice"), false)]);
        let outsider = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("mallory"), false),
        ]);
        let e = compare(&old, &outsider, &own(&roster));
        assert_eq!(codes(&e)[0], "monitor-takeover");
        assert!(e[0].message.contains("`mallory`"), "{}", e[0].message);
        let unnamed = snap(&[("1.0.0", Some("alice"), false), ("1.0.1", None, false)]);
        assert_eq!(
            codes(&compare(&old, &unnamed, &own(&roster)))[0],
            "monitor-takeover"
        );
    }

    #[test]
    fn fires_for_an_own_version_that_came_and_went_between_polls() {
        let roster: BTreeSet<String> = ["alice".to_string()].into();
        let old = snap(&[("1.0.0", Some("alice"), false)]);
        let mut new = snap(&[("1.0.0", Some("alice"), false)]);
        new.unpublished.insert("1.0.1".into());
        let e = compare(&old, &new, &own(&roster));
        assert_eq!(codes(&e)[0], "monitor-takeover");
        assert!(
            e[0].message.contains("between two polls"),
            "{}",
            e[0].message
        );
        assert!(!codes(&compare(&old, &new, &watch())).contains(&"monitor-takeover"));
    }

    #[test]
    fn silent_for_a_roster_member_or_a_dependency() {
        let roster: BTreeSet<String> = ["alice".to_string(), "bob".to_string()].into();
        let old = snap(&[("1.0.0", Some("alice"), false)]);
        let bob = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("bob"), false),
        ]);
        assert!(!codes(&compare(&old, &bob, &own(&roster))).contains(&"monitor-takeover"));
        let outsider = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("mallory"), false),
        ]);
        // Not an own package: publisher-changed, not the takeover alarm.
        let c = compare(&old, &outsider, &watch());
        assert!(!codes(&c).contains(&"monitor-takeover"));
        assert!(codes(&c).contains(&"monitor-publisher-changed"));
    }
}
