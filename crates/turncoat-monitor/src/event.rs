//! Events: what changed between two snapshots, each the code of a rule in [`crate::rules`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use turncoat_finding::{Level, RuleDoc, Severity};

use crate::rules;
use crate::snapshot::Snapshot;

/// How loud an alert is. `block` makes `turncoat monitor` exit 1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    #[default]
    Info,
    Warn,
    Block,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Info => "info",
            AlertLevel::Warn => "warn",
            AlertLevel::Block => "block",
        }
    }
}

impl From<Level> for AlertLevel {
    fn from(l: Level) -> AlertLevel {
        match l {
            Level::Allow => AlertLevel::Info,
            Level::Warn => AlertLevel::Warn,
            Level::Deny => AlertLevel::Block,
        }
    }
}

/// One thing the monitor saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub code: String,
    pub level: AlertLevel,
    pub severity: Severity,
    pub package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub message: String,
}

impl Event {
    /// An event of `rule` at the rule's default level.
    pub fn new(
        rule: &RuleDoc,
        package: &str,
        version: Option<&str>,
        message: impl Into<String>,
    ) -> Event {
        Event {
            code: rule.code.to_string(),
            level: rule.default_level.into(),
            severity: rule.severity,
            package: package.to_string(),
            version: version.map(str::to_string),
            message: message.into(),
        }
    }
}

/// What the caller knows about the package being compared.
#[derive(Debug, Clone, Copy)]
pub struct Watch<'a> {
    /// One of the team's own packages (`--own`).
    pub own: bool,
    /// The roster's npm accounts, lower-case (None: no roster).
    pub roster: Option<&'a BTreeSet<String>>,
    /// Now, Unix seconds (for publish times in the future).
    pub now_unix: i64,
}

/// Everything that changed from `old` to `new`, takeover alarms first.
pub fn compare(old: &Snapshot, new: &Snapshot, watch: &Watch<'_>) -> Vec<Event> {
    let mut out = Vec::new();
    let mut fresh: Vec<(&String, &crate::Release)> = new
        .versions
        .iter()
        .filter(|(v, _)| !old.versions.contains_key(*v))
        .collect();
    // Publish order; a version without a time last.
    fresh.sort_by_key(|(v, r)| (r.published.unwrap_or(i64::MAX), (*v).clone()));
    for (version, release) in fresh {
        out.extend(rules::takeover::check(old, new, version, release, watch));
        out.extend(rules::new_version::check(new, version));
        out.extend(rules::publisher_changed::check(old, new, version, release));
        out.extend(rules::provenance_lost::check(old, new, version, release));
        out.extend(rules::future_publish_time::check(
            new, version, release, watch,
        ));
    }
    for version in rules::version_unpublished::between_polls(old, new) {
        out.extend(rules::takeover::check_vanished(new, version, watch));
    }
    out.extend(rules::maintainer_added::check(old, new));
    out.extend(rules::maintainer_removed::check(old, new));
    out.extend(rules::version_unpublished::check(old, new));
    out.extend(rules::file_added::check(old, new));
    out.extend(rules::version_yanked::check(old, new));
    out.extend(rules::dist_tag_dangling::check(old, new));
    out.extend(rules::latest_backwards::check(old, new));
    out.extend(rules::dist_tag_moved::check(old, new));
    sort_events(&mut out);
    out
}

/// Takeover alarms first, then the loudest; stable otherwise.
pub fn sort_events(events: &mut [Event]) {
    events.sort_by_key(|e| {
        (
            e.code != rules::takeover::RULE.code,
            std::cmp::Reverse(e.level),
            std::cmp::Reverse(e.severity),
        )
    });
}

/// The highest version in `versions` below `to` on the same release line (same major; for
/// 0.x the same minor), by semver.
pub(crate) fn previous_in_line<'a>(
    versions: impl Iterator<Item = &'a String>,
    to: &str,
) -> Option<&'a String> {
    let tv: node_semver::Version = to.parse().ok()?;
    versions
        .filter_map(|v| v.parse::<node_semver::Version>().ok().map(|p| (p, v)))
        .filter(|(p, _)| p < &tv && p.major == tv.major && (tv.major != 0 || p.minor == tv.minor))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Release;

    /// A snapshot from `(version, publisher, provenance)` rows, published a day apart.
    pub(crate) fn snap(rows: &[(&str, Option<&str>, bool)]) -> Snapshot {
        let mut s = Snapshot {
            name: "pkg".into(),
            ..Snapshot::default()
        };
        for (i, (v, p, prov)) in rows.iter().enumerate() {
            s.versions.insert(
                v.to_string(),
                Release {
                    published: Some(1_700_000_000 + i as i64 * 86_400),
                    publisher: p.map(str::to_string),
                    provenance: *prov,
                    trusted_publishing: false,
                },
            );
        }
        if let Some((v, ..)) = rows.last() {
            s.dist_tags.insert("latest".into(), v.to_string());
        }
        s
    }

    pub(crate) fn watch() -> Watch<'static> {
        Watch {
            own: false,
            roster: None,
            now_unix: 1_800_000_000,
        }
    }

    pub(crate) fn codes(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.code.as_str()).collect()
    }

    #[test]
    fn nothing_changed_is_no_event() {
        let s = snap(&[("1.0.0", Some("alice"), true)]);
        assert!(compare(&s, &s, &watch()).is_empty());
    }

    #[test]
    fn the_takeover_alarm_sorts_first() {
        let old = snap(&[("1.0.0", Some("alice"), false)]);
        let mut new = snap(&[
            ("1.0.0", Some("alice"), false),
            ("1.0.1", Some("mallory"), false),
        ]);
        new.maintainers.insert("mallory".into());
        let roster: BTreeSet<String> = ["alice".to_string()].into();
        let w = Watch {
            own: true,
            roster: Some(&roster),
            ..watch()
        };
        let events = compare(&old, &new, &w);
        assert_eq!(events[0].code, "monitor-takeover");
        assert!(events[0].message.starts_with("TAKEOVER ALARM"));
        assert_eq!(events[0].level, AlertLevel::Block);
        let c = codes(&events);
        assert!(c.contains(&"monitor-new-version"), "{c:?}");
        assert!(c.contains(&"monitor-publisher-changed"), "{c:?}");
        assert!(c.contains(&"monitor-maintainer-added"), "{c:?}");
    }

    #[test]
    fn release_lines() {
        let vs: Vec<String> = ["0.9.0", "1.0.0", "1.2.0", "2.0.0", "1.3.0-beta.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            previous_in_line(vs.iter(), "1.2.1").map(String::as_str),
            Some("1.2.0")
        );
        assert_eq!(previous_in_line(vs.iter(), "3.0.0"), None);
        assert_eq!(previous_in_line(vs.iter(), "0.10.0"), None);
        assert_eq!(previous_in_line(vs.iter(), "not-semver"), None);
    }
}
