//! Packument rules (group `metadata`): when and how a version was published, read from the
//! registry's `time` and `versions`.
//!
//! Publish times are RFC 3339 strings; unparseable or missing times make the time-based rules
//! silent (an abbreviated packument has no `time` at all), never an error.

use turncoat_finding::{Finding, RuleDoc};
use turncoat_npm::Packument;

mod dormant_then_release;
mod release_burst;
mod release_too_new;
mod unpublished_sibling;
mod version_not_in_packument;

/// Thresholds of the metadata rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataOptions {
    /// `release-too-new`: minimum age of the candidate, in days.
    pub cooldown_days: u32,
    /// `release-burst`: window around the candidate's publish time, in minutes.
    pub burst_window_minutes: u32,
    /// `release-burst`: versions (the candidate included) within the window that make a burst.
    pub burst_min_versions: usize,
    /// `dormant-then-release`: gap before the candidate, in days.
    pub dormant_days: u32,
    /// `unpublished-sibling`: how close (in days) an unpublished version must be.
    pub sibling_window_days: u32,
}

impl Default for MetadataOptions {
    fn default() -> Self {
        MetadataOptions {
            cooldown_days: 2,
            burst_window_minutes: 60,
            burst_min_versions: 3,
            dormant_days: 365,
            sibling_window_days: 7,
        }
    }
}

/// Context shared by the metadata rules.
pub(crate) struct MetaCx<'a> {
    pub p: &'a Packument,
    pub name: String,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub now: i64,
    pub opts: &'a MetadataOptions,
}

impl MetaCx<'_> {
    /// Publish time of `version`, Unix seconds.
    pub(crate) fn time(&self, version: &str) -> Option<i64> {
        self.p.published(version).and_then(parse_rfc3339)
    }

    /// Every version with a parseable publish time (unpublished ones included).
    pub(crate) fn timeline(&self) -> Vec<(&str, i64)> {
        let mut v: Vec<(&str, i64)> = self
            .p
            .time
            .iter()
            .filter(|(k, _)| k.as_str() != "created" && k.as_str() != "modified")
            .filter_map(|(k, t)| parse_rfc3339(t).map(|t| (k.as_str(), t)))
            .collect();
        v.sort_by_key(|&(k, t)| (t, k));
        v
    }
}

/// Parse an RFC 3339 timestamp to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Format Unix seconds as RFC 3339 (UTC) for messages.
pub fn fmt_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Findings about publishing `to` (optionally as an update from `from`) as of `now_unix`.
pub fn findings(
    p: &Packument,
    from: Option<&str>,
    to: &str,
    now_unix: i64,
    opts: &MetadataOptions,
) -> Vec<Finding> {
    let cx = MetaCx {
        p,
        name: p.name.clone().unwrap_or_else(|| "package".into()),
        from,
        to,
        now: now_unix,
        opts,
    };
    let mut out = Vec::new();
    if version_not_in_packument::check(&cx, &mut out) {
        return out;
    }
    unpublished_sibling::check(&cx, &mut out);
    release_too_new::check(&cx, &mut out);
    release_burst::check(&cx, &mut out);
    dormant_then_release::check(&cx, &mut out);
    out
}

/// The metadata rules.
pub fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &version_not_in_packument::RULE,
        &unpublished_sibling::RULE,
        &release_too_new::RULE,
        &release_burst::RULE,
        &dormant_then_release::RULE,
    ]
}

#[cfg(test)]
pub(crate) mod testing {
    use turncoat_npm::Packument;

    /// A packument with `versions` (published) and `gone` (unpublished: only in `time`).
    pub(crate) fn packument(versions: &[(&str, &str)], gone: &[(&str, &str)]) -> Packument {
        let mut time = serde_json::Map::new();
        let mut vs = serde_json::Map::new();
        for (v, t) in versions {
            time.insert((*v).into(), (*t).into());
            vs.insert((*v).into(), serde_json::json!({"version": v}));
        }
        for (v, t) in gone {
            time.insert((*v).into(), (*t).into());
        }
        Packument::from_value(&serde_json::json!({"name": "pkg", "time": time, "versions": vs}))
            .expect("packument")
    }

    pub(crate) fn at(s: &str) -> i64 {
        super::parse_rfc3339(s).expect("time")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:01:00.000Z"), Some(60));
        assert_eq!(parse_rfc3339("2025-09-08T13:16:00+02:00"), Some(1757330160));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(fmt_time(60), "1970-01-01T00:01:00Z");
    }
}
