//! The report of one gate run (`turncoat diff` / `turncoat scan`) and its renderers.
//!
//! The model ([`Report`]) is what `--format json` prints (schema version [`SCHEMA_VERSION`],
//! documented in `docs/report-schema.json`); the other formats are views of it. Renderers
//! return strings: writing them to stdout or a file is the CLI's job.

use serde::{Deserialize, Serialize};
use turncoat_finding::{Evidence, Level, Severity};

pub mod human;
pub mod json;
pub mod markdown;
pub mod metrics;
pub mod sarif;
mod text;

/// Version of the JSON report schema. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// What happened to a package between the base and head lockfiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Added,
    Updated,
    Removed,
    /// `turncoat scan`: a single version judged alone.
    Scanned,
}

/// The gate's decision for one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Warn,
    Block,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Block => "block",
        }
    }

    /// The verdict a finding at `level` implies.
    pub fn from_level(level: Level) -> Verdict {
        match level {
            Level::Allow => Verdict::Pass,
            Level::Warn => Verdict::Warn,
            Level::Deny => Verdict::Block,
        }
    }
}

/// A finding after policy: the level says what the policy did with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFinding {
    pub code: String,
    pub severity: Severity,
    pub level: Level,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Set when a policy exception turned this finding off: the exception's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excepted: Option<String>,
}

/// Where a package sits in the lockfile (for SARIF locations and human output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockfileLocation {
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageReport {
    pub name: String,
    /// Version in the base lockfile (absent for added packages and scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Version in the head lockfile (absent for removed packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub change: Change,
    pub verdict: Verdict,
    pub findings: Vec<ReportFinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockfile: Option<LockfileLocation>,
    /// Names of the packages whose update brought this one in (for added dependencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introduced_by: Vec<String>,
    /// Registry documents this verdict took from the cache without asking the registry
    /// (`--offline`): the verdict rests on whatever the cache held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rests_on_cache: Vec<CacheUse>,
    /// What the detonation of the new version ran and saw (`diff --detonate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detonation: Option<DetonationCoverage>,
}

/// A registry document answered from the cache without asking the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheUse {
    /// Which document (`packument of left-pad`).
    pub document: String,
    /// The fetch time the cache file claims (Unix seconds): anyone who can write the cache
    /// can write it, so it is shown, never trusted.
    pub fetched_at: u64,
    /// The claimed fetch time lies in the future: the file was not written by a fetch.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub future: bool,
}

/// How much of a package a detonation exercised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetonationCoverage {
    /// Stages run, in order: npm, the lifecycle scripts present, then `require` and `import`;
    /// Python, `install-time`, `install-time-ci`, `interpreter-start`, `import-time`,
    /// `import-time-ci`.
    pub stages: Vec<String>,
    /// The run hit its time limit: later stages may not have run to the end.
    pub timed_out: bool,
    pub duration_ms: u64,
    /// Events recorded (file, network, process).
    pub events: usize,
    /// The previous version, when it was detonated too to keep only new behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub packages: usize,
    pub pass: usize,
    pub warn: usize,
    pub block: usize,
    /// Findings by level over all packages (excepted findings are not counted).
    pub findings_deny: usize,
    pub findings_warn: usize,
    pub findings_allow: usize,
}

/// A policy exception that matched nothing in this run (stale exceptions are reported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnusedException {
    pub package: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Which package ecosystem a report judges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ecosystem {
    #[default]
    Npm,
    Pypi,
}

impl Ecosystem {
    pub fn is_npm(&self) -> bool {
        *self == Ecosystem::Npm
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    /// `diff` or `scan`.
    pub command: String,
    /// The ecosystem judged; omitted for npm (reports before this field were all npm).
    #[serde(default, skip_serializing_if = "Ecosystem::is_npm")]
    pub ecosystem: Ecosystem,
    /// The lockfile(s) or targets judged, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    pub packages: Vec<PackageReport>,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unused_exceptions: Vec<UnusedException>,
}

impl Report {
    /// Build a report, sorting packages (block first, then warn, then pass; by name within) and
    /// computing the summary.
    pub fn new(command: &str, inputs: Vec<String>, mut packages: Vec<PackageReport>) -> Report {
        packages.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.to.cmp(&b.to))
        });
        let mut summary = Summary {
            packages: packages.len(),
            ..Summary::default()
        };
        for p in &packages {
            match p.verdict {
                Verdict::Pass => summary.pass += 1,
                Verdict::Warn => summary.warn += 1,
                Verdict::Block => summary.block += 1,
            }
            for f in p.findings.iter().filter(|f| f.excepted.is_none()) {
                match f.level {
                    Level::Deny => summary.findings_deny += 1,
                    Level::Warn => summary.findings_warn += 1,
                    Level::Allow => summary.findings_allow += 1,
                }
            }
        }
        Report {
            version: SCHEMA_VERSION,
            command: command.to_string(),
            ecosystem: Ecosystem::Npm,
            inputs,
            packages,
            summary,
            unused_exceptions: Vec::new(),
        }
    }

    /// True when at least one package is blocked (exit code 1).
    pub fn blocked(&self) -> bool {
        self.summary.block > 0
    }
}

impl PackageReport {
    /// One scanned package or file (`scan`, `verify`, `lockfile lint`): no base version, no
    /// lockfile location, nothing introduced, no cache or detonation record.
    pub fn scanned(
        name: impl Into<String>,
        version: Option<String>,
        verdict: Verdict,
        findings: Vec<ReportFinding>,
    ) -> PackageReport {
        PackageReport {
            name: name.into(),
            from: None,
            to: version,
            change: Change::Scanned,
            verdict,
            findings,
            lockfile: None,
            introduced_by: Vec::new(),
            rests_on_cache: Vec::new(),
            detonation: None,
        }
    }

    /// `name@from → to`, `name@to (added)` and so on, for headings.
    pub fn title(&self) -> String {
        match (&self.from, &self.to) {
            (Some(f), Some(t)) => format!("{} {} → {}", self.name, f, t),
            (None, Some(t)) => format!("{}@{}", self.name, t),
            (Some(f), None) => format!("{}@{}", self.name, f),
            (None, None) => self.name.clone(),
        }
    }
}
