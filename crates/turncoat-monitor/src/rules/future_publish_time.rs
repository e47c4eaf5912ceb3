use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::{Event, Watch};
use crate::snapshot::{Release, Snapshot};

/// Clock skew tolerated before a publish time counts as "in the future".
pub const SKEW_SECS: i64 = 300;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-future-publish-time",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the registry dates a new version in the future",
    doc: r#"The packument's `time` entry for a new version lies more than five minutes after the
monitor's clock. No registry publishes from the future: the document was forged or edited (a
mirror, a proxy, a compromised registry), and a future time defeats a cooldown that trusts it
(`cooldown` in `turncoat.toml` would see the version as not yet published, or as old once the
clock passes it). The monitor reports it and keeps judging the version."#,
};

pub(crate) fn check(
    new: &Snapshot,
    version: &str,
    release: &Release,
    watch: &Watch<'_>,
) -> Option<Event> {
    let at = release.published?;
    if at <= watch.now_unix.saturating_add(SKEW_SECS) {
        return None;
    }
    Some(Event::new(
        &RULE,
        &new.name,
        Some(version),
        format!(
            "the registry says {}@{version} was published {} s from now; a forged or edited document",
            new.name,
            at.saturating_sub(watch.now_unix)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_for_a_time_past_the_clock_and_not_within_the_skew() {
        let old = snap(&[("1.0.0", Some("a"), false)]);
        let mut new = snap(&[("1.0.0", Some("a"), false), ("1.0.1", Some("a"), false)]);
        let w = watch();
        new.versions.get_mut("1.0.1").unwrap().published = Some(w.now_unix + 86_400 * 365);
        assert!(codes(&compare(&old, &new, &w)).contains(&"monitor-future-publish-time"));
        new.versions.get_mut("1.0.1").unwrap().published = Some(w.now_unix + 60);
        assert!(!codes(&compare(&old, &new, &w)).contains(&"monitor-future-publish-time"));
        // i64::MAX does not overflow.
        new.versions.get_mut("1.0.1").unwrap().published = Some(i64::MAX);
        assert!(codes(&compare(&old, &new, &w)).contains(&"monitor-future-publish-time"));
    }
}
