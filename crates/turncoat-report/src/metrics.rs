//! The gate's battlecard metric: `gate-alerts`, the findings one `diff` or `scan` run raised,
//! by code.
//!
//! An alert is a finding the policy shows (level `warn` or `deny`) and no exception turned
//! off; findings at `allow` are recorded in the JSON report only and are not alerts. One
//! sample per run: the value is the run's alert count, the detail holds `by_code` (code →
//! count), the command and the number of blocked packages, so the dashboard can show alerts
//! by risky behaviour over time.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use turncoat_finding::Level;
use turncoat_metrics::Sample;

use crate::Report;

/// Alerts of `report` by finding code.
pub fn alerts_by_code(report: &Report) -> BTreeMap<String, u64> {
    let mut by_code = BTreeMap::new();
    for f in report
        .packages
        .iter()
        .flat_map(|p| &p.findings)
        .filter(|f| f.excepted.is_none() && f.level != Level::Allow)
    {
        *by_code.entry(f.code.clone()).or_insert(0) += 1;
    }
    by_code
}

/// The `gate-alerts` sample of one run over `scope` (the project the lockfile belongs to).
pub fn samples(report: &Report, at: OffsetDateTime, scope: &str) -> Vec<Sample> {
    let by_code = alerts_by_code(report);
    let total: u64 = by_code.values().sum();
    let Ok(sample) = Sample::new("gate-alerts", total as f64, at, scope) else {
        return Vec::new();
    };
    let map: serde_json::Map<String, serde_json::Value> = by_code
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::from(v)))
        .collect();
    vec![
        sample
            .with("command", report.command.clone())
            .with("by_code", serde_json::Value::Object(map))
            .with("packages", report.summary.packages)
            .with("blocked", report.summary.block),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Change, PackageReport, ReportFinding, Verdict};
    use turncoat_finding::Severity;

    fn finding(code: &str, level: Level, excepted: bool) -> ReportFinding {
        ReportFinding {
            code: code.into(),
            severity: Severity::High,
            level,
            message: "m".into(),
            evidence: Vec::new(),
            excepted: excepted.then(|| "reviewed".to_string()),
        }
    }

    fn package(name: &str, verdict: Verdict, findings: Vec<ReportFinding>) -> PackageReport {
        PackageReport {
            name: name.into(),
            from: Some("1.0.0".into()),
            to: Some("1.0.1".into()),
            change: Change::Updated,
            verdict,
            findings,
            lockfile: None,
            introduced_by: Vec::new(),
            rests_on_cache: Vec::new(),
            detonation: None,
        }
    }

    #[test]
    fn alerts_count_shown_findings_by_code_not_allowed_or_excepted_ones() {
        let report = Report::new(
            "diff",
            vec!["package-lock.json".into()],
            vec![
                package(
                    "a",
                    Verdict::Block,
                    vec![
                        finding("new-install-script", Level::Deny, false),
                        finding("new-network", Level::Warn, false),
                        finding("minified-code", Level::Allow, false),
                    ],
                ),
                package(
                    "b",
                    Verdict::Warn,
                    vec![
                        finding("new-install-script", Level::Deny, true),
                        finding("new-network", Level::Warn, false),
                    ],
                ),
            ],
        );
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let s = samples(&report, at, "/repo");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].metric, "gate-alerts");
        assert_eq!(s[0].source, "diff");
        assert_eq!(s[0].scope, "/repo");
        assert_eq!(s[0].value, 3.0);
        assert_eq!(
            s[0].detail["by_code"],
            serde_json::json!({"new-install-script": 1, "new-network": 2})
        );
        assert_eq!(s[0].detail["blocked"], 1);
        assert_eq!(s[0].detail["command"], "diff");
    }

    #[test]
    fn a_clean_run_records_zero_alerts() {
        let report = Report::new("scan", vec![], vec![package("a", Verdict::Pass, vec![])]);
        let s = samples(&report, OffsetDateTime::UNIX_EPOCH, "x");
        assert_eq!(s[0].value, 0.0);
        assert_eq!(s[0].detail["by_code"], serde_json::json!({}));
    }
}
