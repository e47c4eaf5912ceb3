//! `release-burst`: several versions published within a short window.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{MetaCx, fmt_time};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "release-burst",
    group: "metadata",
    severity: Severity::Medium,
    default_level: Level::Allow,
    summary: "Several versions of the package were published within a short window around the candidate.",
    doc: r#"Fires when at least `burst_min_versions` (default 3) versions, the candidate included and unpublished ones counted, were published within `burst_window_minutes` (default 60) of the candidate. The message lists the times.

**Why it matters.** Attackers publish fast and wide before they are noticed: nx pushed 8 versions in hours, durabletask 3 in 35 minutes, AntV ~630 versions in 22 minutes, worms republish with +1 patch bumps across release lines. Maintainers rarely do.

**Example.** 1.4.1, 1.4.2 and 1.4.3 within 35 minutes.

**How to silence.** A policy exception on `release-burst` for `name@version` (e.g. a release train that publishes several lines at once).

**Default level: allow.** Maintainers legitimately publish backports to several release lines within minutes (ws, graphql), and mirrors that re-ingest packuments record ingestion times as publish times; on its own a burst is context for the other findings. Set it to `warn` to review every burst."#,
};

pub(crate) fn check(cx: &MetaCx<'_>, out: &mut Vec<Finding>) {
    let Some(t0) = cx.time(cx.to) else { return };
    let window = i64::from(cx.opts.burst_window_minutes) * 60;
    let near: Vec<(&str, i64)> = cx
        .timeline()
        .into_iter()
        .filter(|(_, t)| (t - t0).abs() <= window)
        .collect();
    if near.len() < cx.opts.burst_min_versions.max(2) {
        return;
    }
    let list: Vec<String> = near
        .iter()
        .take(8)
        .map(|(v, t)| format!("{v} at {}", fmt_time(*t)))
        .collect();
    out.push(Finding::new(
        &RULE,
        format!(
            "{} versions of {} published within {} minutes of {}: {}",
            near.len(),
            cx.name,
            cx.opts.burst_window_minutes,
            cx.to,
            list.join(", ")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::testing::*;
    use crate::metadata::{MetadataOptions, findings};

    #[test]
    fn burst_fires_with_times() {
        let p = packument(
            &[
                ("1.4.0", "2026-01-01T00:00:00Z"),
                ("1.4.1", "2026-05-19T10:00:00Z"),
                ("1.4.2", "2026-05-19T10:20:00Z"),
                ("1.4.3", "2026-05-19T10:35:00Z"),
            ],
            &[],
        );
        let f = findings(
            &p,
            Some("1.4.0"),
            "1.4.3",
            at("2026-06-19T00:00:00Z"),
            &MetadataOptions::default(),
        );
        let hit = f.iter().find(|f| f.code == RULE.code).expect("finding");
        assert!(
            hit.message.contains("1.4.1 at 2026-05-19T10:00:00Z"),
            "{}",
            hit.message
        );
    }

    #[test]
    fn spaced_releases_are_quiet() {
        let p = packument(
            &[
                ("1.0.0", "2026-01-01T00:00:00Z"),
                ("1.0.1", "2026-02-01T00:00:00Z"),
                ("1.0.2", "2026-03-01T00:00:00Z"),
            ],
            &[],
        );
        let f = findings(
            &p,
            Some("1.0.1"),
            "1.0.2",
            at("2026-06-01T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
