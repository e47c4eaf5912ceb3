//! The battlecard metrics: what each stage of the defence cycle measures, in one registry.
//!
//! A command that measures something (`recon`, `evaluate`, `fortify`, `watch`, `diff`, `drill`,
//! `incident`) turns its result into [`Sample`]s; the store (`turncoat-store`) keeps them with
//! their time and source, and `turncoat metrics` / `turncoat report --html` read them back.
//! A sample can only name a metric declared in [`METRICS`], so a metric cannot exist without
//! its stage, unit, direction, target and documentation (the same rule as finding codes).
//!
//! Sans-IO: no clock is read here; the caller passes the time.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The six stages of the defence cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Recon,
    Evaluate,
    Fortify,
    Limit,
    Expose,
    Exercise,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Recon,
        Stage::Evaluate,
        Stage::Fortify,
        Stage::Limit,
        Stage::Expose,
        Stage::Exercise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Recon => "recon",
            Stage::Evaluate => "evaluate",
            Stage::Fortify => "fortify",
            Stage::Limit => "limit",
            Stage::Expose => "expose",
            Stage::Exercise => "exercise",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Stage::Recon => "Reconnaissance",
            Stage::Evaluate => "Evaluation",
            Stage::Fortify => "Fortify",
            Stage::Limit => "Limit",
            Stage::Expose => "Expose",
            Stage::Exercise => "eXercise",
        }
    }
}

/// The unit a metric's value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// A count of things (emails, accounts, builds).
    Count,
    /// A percentage, 0 to 100.
    Percent,
    /// A duration in seconds.
    Seconds,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Better {
    Lower,
    Higher,
}

/// One declared metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricDef {
    /// Stable kebab-case name.
    pub name: &'static str,
    pub stage: Stage,
    pub unit: Unit,
    pub better: Better,
    /// The value a team should aim for, in `unit` (None: no universal target).
    pub target: Option<f64>,
    /// The command whose `--record` writes it.
    pub source: &'static str,
    /// One line.
    pub summary: &'static str,
    /// What it measures and why, for `turncoat metrics --explain` and the dashboard.
    pub doc: &'static str,
}

impl MetricDef {
    /// Whether `value` meets the target (None when the metric has no target).
    pub fn meets_target(&self, value: f64) -> Option<bool> {
        let target = self.target?;
        Some(match self.better {
            Better::Lower => value <= target,
            Better::Higher => value >= target,
        })
    }
}

/// Every battlecard metric. Add one here before any command records it.
pub const METRICS: &[MetricDef] = &[
    MetricDef {
        name: "personal-emails-exposed",
        stage: Stage::Recon,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "recon",
        summary: "personal email addresses of maintainers exposed in git history",
        doc: "Distinct personal (free-mail or personal-provider) addresses in author and committer \
              lines of the scanned repositories. Each is a phishing and password-reuse target; a \
              noreply address exposes nothing.",
    },
    MetricDef {
        name: "pwned-accounts",
        stage: Stage::Recon,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "recon",
        summary: "maintainer accounts or passwords found in known breaches",
        doc: "Maintainer emails found in breach data (HIBP) plus vault passwords found in the \
              Pwned Passwords range API by `recon passwords`. A breached, reused password is how \
              several takeovers started.",
    },
    MetricDef {
        name: "publish-tokens-in-history",
        stage: Stage::Recon,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "recon",
        summary: "registry publish tokens ever committed to the scanned repositories",
        doc: "npm and PyPI tokens found anywhere in history. A token removed from HEAD is still \
              in every clone: revoke it.",
    },
    MetricDef {
        name: "password-manager-pct",
        stage: Stage::Evaluate,
        unit: Unit::Percent,
        better: Better::Higher,
        target: Some(100.0),
        source: "evaluate",
        summary: "% of publishers using a password manager",
        doc: "From the roster (publishers.toml). A password manager makes unique passwords and \
              refuses to fill on a phishing domain.",
    },
    MetricDef {
        name: "sms-mfa-pct",
        stage: Stage::Evaluate,
        unit: Unit::Percent,
        better: Better::Lower,
        target: Some(0.0),
        source: "evaluate",
        summary: "% of publishers whose second factor is SMS",
        doc: "From the roster. SMS is what a SIM swap defeats.",
    },
    MetricDef {
        name: "phishing-resistant-mfa-pct",
        stage: Stage::Evaluate,
        unit: Unit::Percent,
        better: Better::Higher,
        target: Some(100.0),
        source: "evaluate",
        summary: "% of publishers on a hardware key or passkey",
        doc: "From the roster. WebAuthn credentials are bound to the real origin: a phishing \
              page cannot relay them, unlike TOTP codes.",
    },
    MetricDef {
        name: "single-publisher-packages",
        stage: Stage::Evaluate,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "evaluate",
        summary: "packages that exactly one person can publish",
        doc: "A single publisher is a single point of failure: one phished account is a release.",
    },
    MetricDef {
        name: "signed-commits-pct",
        stage: Stage::Fortify,
        unit: Unit::Percent,
        better: Better::Higher,
        target: Some(100.0),
        source: "fortify",
        summary: "% of commits on the default branch that are signed",
        doc: "Commits carrying an OpenPGP, SSH or X.509 signature. With keys given, verified \
              signatures are reported separately.",
    },
    MetricDef {
        name: "publish-path-findings",
        stage: Stage::Fortify,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "fortify",
        summary: "publish-path findings in the release workflows",
        doc: "Long-lived tokens, missing provenance, untrusted triggers reaching a publish, \
              unpinned actions and the other `turncoat fortify` codes.",
    },
    MetricDef {
        name: "dependency-pr-time-to-merge",
        stage: Stage::Limit,
        unit: Unit::Seconds,
        better: Better::Higher,
        target: None,
        source: "metrics",
        summary: "median time from a dependency update's commit to its merge",
        doc: "From the git history of merges that change a lockfile. Hours after a release is the \
              window in which Dependabot and CI installed every takeover so far; a cooldown \
              lengthens it on purpose. No universal target: compare it with your cooldown.",
    },
    MetricDef {
        name: "gate-alerts",
        stage: Stage::Expose,
        unit: Unit::Count,
        better: Better::Lower,
        target: None,
        source: "diff",
        summary: "gate findings per run, by code",
        doc: "Findings the gate raised on dependency updates (the code is in the sample's detail). \
              A rising count of one code is either an attack campaign or a rule to tune.",
    },
    MetricDef {
        name: "monitor-detection-delay",
        stage: Stage::Expose,
        unit: Unit::Seconds,
        better: Better::Lower,
        target: Some(3600.0),
        source: "monitor",
        summary: "from a new version's publish to the monitor's alert on it",
        doc: "Recorded by `turncoat monitor --record` per new version it alerts on (package, \
              version and code in the detail): the registry's publish time to the poll that saw \
              it. The poll interval bounds it from below; an hour matches the fastest community \
              detections of past takeovers. The publish time is the registry's claim.",
    },
    MetricDef {
        name: "egress-blocked-builds",
        stage: Stage::Expose,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "watch",
        summary: "builds that egress policy blocked",
        doc: "`turncoat watch --block` runs that refused a connection, DNS name or persistence \
              write.",
    },
    MetricDef {
        name: "new-unapproved-domains",
        stage: Stage::Expose,
        unit: Unit::Count,
        better: Better::Lower,
        target: Some(0.0),
        source: "watch",
        summary: "destinations a build reached that the baseline does not approve",
        doc: "Domains and addresses a `turncoat watch` run contacted that are not in its \
              baseline.",
    },
    MetricDef {
        name: "time-to-detect",
        stage: Stage::Exercise,
        unit: Unit::Seconds,
        better: Better::Lower,
        target: Some(3600.0),
        source: "drill",
        summary: "from a canary's publish to its first detection",
        doc: "Measured by `turncoat drill` per scenario and defence layer (in the detail). Real \
              takeovers were live from minutes to days; an hour is what the fastest community \
              detections achieved.",
    },
    MetricDef {
        name: "time-to-remediate",
        stage: Stage::Exercise,
        unit: Unit::Seconds,
        better: Better::Lower,
        target: Some(86400.0),
        source: "incident",
        summary: "from `incident open` to `incident close`",
        doc: "How long a malicious version stayed in scope after the team knew of it.",
    },
];

/// Look a metric up by name.
pub fn metric(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    #[error("unknown metric `{0}` (declared metrics: see turncoat-metrics METRICS)")]
    Unknown(String),
    #[error("metric `{name}` must be a finite number, got {value}")]
    NotFinite { name: String, value: f64 },
    #[error("metric `{name}` is a percentage and must be within 0..=100, got {value}")]
    PercentRange { name: String, value: f64 },
    #[error("metric `{name}` cannot be negative, got {value}")]
    Negative { name: String, value: f64 },
}

/// One measurement, as a command records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// A name from [`METRICS`].
    pub metric: String,
    pub value: f64,
    /// When it was measured.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What it was measured over: a repository, an organisation, a lockfile, a drill id.
    pub scope: String,
    /// The command that measured it (`recon`, `drill`, ...).
    pub source: String,
    /// Extra dimensions (a finding code, a drill scenario and layer, an incident id).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub detail: serde_json::Map<String, serde_json::Value>,
}

impl Sample {
    /// A checked sample: the metric must be declared and the value make sense for its unit.
    pub fn new(
        metric_name: &str,
        value: f64,
        at: OffsetDateTime,
        scope: impl Into<String>,
    ) -> Result<Sample, MetricError> {
        let def = metric(metric_name).ok_or_else(|| MetricError::Unknown(metric_name.into()))?;
        let name = metric_name.to_string();
        if !value.is_finite() {
            return Err(MetricError::NotFinite { name, value });
        }
        if value < 0.0 {
            return Err(MetricError::Negative { name, value });
        }
        if def.unit == Unit::Percent && value > 100.0 {
            return Err(MetricError::PercentRange { name, value });
        }
        Ok(Sample {
            metric: name,
            value,
            at,
            scope: scope.into(),
            source: def.source.to_string(),
            detail: serde_json::Map::new(),
        })
    }

    /// Add one detail dimension.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Sample {
        self.detail.insert(key.to_string(), value.into());
        self
    }

    /// The declaration of this sample's metric (None for a sample read from a store written
    /// by a newer turncoat that knows more metrics).
    pub fn def(&self) -> Option<&'static MetricDef> {
        metric(&self.metric)
    }
}

/// A percentage of `part` in `whole`, `None` when `whole` is 0 (no publishers is not 0 %).
pub fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_kebab_case_and_documented() {
        let mut seen = HashSet::new();
        for m in METRICS {
            assert!(seen.insert(m.name), "duplicate metric {}", m.name);
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                m.name
            );
            assert!(
                !m.summary.is_empty() && m.doc.len() > 20,
                "{} lacks docs",
                m.name
            );
            if m.unit == Unit::Percent {
                assert!(m.target.is_none_or(|t| (0.0..=100.0).contains(&t)));
            }
        }
        for stage in Stage::ALL {
            assert!(
                METRICS.iter().any(|m| m.stage == stage),
                "stage {stage:?} has no metric"
            );
        }
    }

    #[test]
    fn samples_are_checked_against_the_registry() {
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            Sample::new("no-such-metric", 1.0, at, "x").unwrap_err(),
            MetricError::Unknown("no-such-metric".into())
        );
        assert!(matches!(
            Sample::new("sms-mfa-pct", 101.0, at, "x"),
            Err(MetricError::PercentRange { .. })
        ));
        assert!(matches!(
            Sample::new("time-to-detect", f64::NAN, at, "x"),
            Err(MetricError::NotFinite { .. })
        ));
        assert!(matches!(
            Sample::new("pwned-accounts", -1.0, at, "x"),
            Err(MetricError::Negative { .. })
        ));
        let s = Sample::new("time-to-detect", 42.0, at, "drill-1")
            .unwrap()
            .with("scenario", "seed");
        assert_eq!(s.source, "drill");
        assert_eq!(s.detail["scenario"], "seed");
    }

    #[test]
    fn samples_round_trip_as_json() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let s = Sample::new("signed-commits-pct", 37.5, at, "repo").unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"metric":"signed-commits-pct","value":37.5,"at":"2023-11-14T22:13:20Z","scope":"repo","source":"fortify"}"#
        );
        assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), s);
    }

    #[test]
    fn targets_respect_direction() {
        let sms = metric("sms-mfa-pct").unwrap();
        assert_eq!(sms.meets_target(0.0), Some(true));
        assert_eq!(sms.meets_target(10.0), Some(false));
        let signed = metric("signed-commits-pct").unwrap();
        assert_eq!(signed.meets_target(99.0), Some(false));
        assert_eq!(
            metric("dependency-pr-time-to-merge")
                .unwrap()
                .meets_target(5.0),
            None
        );
        assert_eq!(percent(1, 4), Some(25.0));
        assert_eq!(percent(0, 0), None);
    }
}
