//! `dormant-then-release`: the first release after a long silence.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{MetaCx, fmt_time};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "dormant-then-release",
    group: "metadata",
    severity: Severity::Low,
    default_level: Level::Allow,
    summary: "The version is the first release after more than a year without one.",
    doc: r#"Fires when the newest publish before the candidate is more than `dormant_days` (default 365) older than it.

**Why it matters.** Abandoned packages are easy targets (expired maintainer e-mail domains, stale tokens), and their first release in years reaches everyone at once: coa 2.0.3 came three years after 2.0.2, rand-user-agent's malicious releases months after the last good one. Packj has a similar check.

**Example.** 2.0.2 published in 2018, 2.0.3 in 2021.

**Default level: allow.** On its own a quiet period is common among healthy small libraries
(their benign updates in the replay controls and the benign corpus include several), so the
built-in policy records it as context beside content findings rather than warning; set it to
`warn` to review every such release.

**How to silence.** A policy exception on `dormant-then-release` for `name@version` once the release is confirmed by the project (tag, changelog)."#,
};

pub(crate) fn check(cx: &MetaCx<'_>, out: &mut Vec<Finding>) {
    let Some(t0) = cx.time(cx.to) else { return };
    let Some((prev, tp)) = cx
        .timeline()
        .into_iter()
        .filter(|(v, t)| *t < t0 && *v != cx.to)
        .max_by_key(|&(_, t)| t)
    else {
        return;
    };
    let gap_days = (t0 - tp) / 86_400;
    if gap_days <= i64::from(cx.opts.dormant_days) {
        return;
    }
    out.push(Finding::new(
        &RULE,
        format!(
            "{}@{} ({}) is the first release in {gap_days} days; the previous was {prev} ({})",
            cx.name,
            cx.to,
            fmt_time(t0),
            fmt_time(tp)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::testing::*;
    use crate::metadata::{MetadataOptions, findings};

    #[test]
    fn dormant_package_fires() {
        let p = packument(
            &[
                ("2.0.2", "2018-12-01T00:00:00Z"),
                ("2.0.3", "2021-11-04T12:00:00Z"),
            ],
            &[],
        );
        let f = findings(
            &p,
            Some("2.0.2"),
            "2.0.3",
            at("2021-11-10T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert!(f.iter().any(|f| f.code == RULE.code));
    }

    #[test]
    fn active_package_is_quiet() {
        let p = packument(
            &[
                ("1.0.0", "2021-01-01T00:00:00Z"),
                ("1.1.0", "2021-06-01T00:00:00Z"),
            ],
            &[],
        );
        let f = findings(
            &p,
            Some("1.0.0"),
            "1.1.0",
            at("2021-07-01T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert!(f.is_empty());
    }
}
