//! `turncoat evaluate`: who can publish the team's packages and how each account is protected.
//!
//! The roster ([`roster`]) says who the team is and how each person's accounts are protected;
//! the registries say who can actually publish (npm packument `maintainers`, PyPI JSON
//! `ownership.roles` and `ownership.organization`). The CLI fetches; everything here is
//! sans-IO: an [`Input`] in, [`Report`] out, with the rules in [`rules`] and the battlecard
//! numbers in [`Metrics`].

pub mod npm_access;
pub mod passwords;
pub mod roster;
pub mod rules;
pub mod soft;

use std::fmt::Write as _;

use serde::Serialize;
use turncoat_finding::{Finding, Level};

use roster::{Ecosystem, Mfa, Person, Roster};

/// Version of the JSON report.
pub const SCHEMA_VERSION: u32 = 1;

/// What a registry says about one of the roster's packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageFacts {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// Accounts that can publish: npm maintainers, PyPI Owners and Maintainers.
    pub publishers: Vec<String>,
    /// PyPI organisation owning the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// npm "require 2FA to publish"; `None`: unknown (needs a token that may read it).
    pub publish_requires_2fa: Option<bool>,
    /// npm's MFA level behind it (`none`, `automation`: tokens bypass 2FA, `publish`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_level: Option<npm_access::MfaLevel>,
    /// npm collaborators read with a token (users and `org:team`s); those that can publish
    /// are in `publishers` too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collaborators: Vec<npm_access::Collaborator>,
    /// Why the token-only settings (2FA, collaborators) could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<String>,
    /// Why the registry could not be read (the package is then not judged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Facts in.
#[derive(Debug, Clone)]
pub struct Input {
    pub roster: Roster,
    pub roster_file: String,
    pub packages: Vec<PackageFacts>,
}

impl Input {
    /// The roster's person owning `user` on `eco` (case-insensitive).
    pub fn person_of(&self, eco: Ecosystem, user: &str) -> Option<&Person> {
        self.roster
            .people
            .iter()
            .find(|p| p.account(eco).is_some_and(|a| a.eq_ignore_ascii_case(user)))
    }
}

/// The battlecard numbers, over the roster's people and the packages read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub people: usize,
    pub password_manager_pct: Option<f64>,
    pub sms_mfa_pct: Option<f64>,
    pub phishing_resistant_mfa_pct: Option<f64>,
    pub single_publisher_packages: usize,
}

impl Metrics {
    pub fn of(input: &Input) -> Metrics {
        let people = &input.roster.people;
        let pct = |n: usize| crate::signing::pct(n, people.len());
        Metrics {
            people: people.len(),
            password_manager_pct: pct(people.iter().filter(|p| p.password_manager).count()),
            sms_mfa_pct: pct(people.iter().filter(|p| p.mfa == Mfa::Sms).count()),
            phishing_resistant_mfa_pct: pct(people
                .iter()
                .filter(|p| p.mfa.phishing_resistant())
                .count()),
            single_publisher_packages: input
                .packages
                .iter()
                .filter(|p| p.error.is_none() && p.publishers.len() == 1)
                .count(),
        }
    }

    /// As `turncoat-metrics` samples over `scope`, measured at `at`.
    pub fn samples(&self, at: time::OffsetDateTime, scope: &str) -> Vec<turncoat_metrics::Sample> {
        let mut out = Vec::new();
        let mut push = |name: &str, v: Option<f64>| {
            if let Some(v) = v
                && let Ok(s) = turncoat_metrics::Sample::new(name, v, at, scope)
            {
                out.push(s.with("people", self.people));
            }
        };
        push("password-manager-pct", self.password_manager_pct);
        push("sms-mfa-pct", self.sms_mfa_pct);
        push(
            "phishing-resistant-mfa-pct",
            self.phishing_resistant_mfa_pct,
        );
        push(
            "single-publisher-packages",
            Some(self.single_publisher_packages as f64),
        );
        out
    }
}

/// One publisher of a package, joined with the roster.
#[derive(Debug, Clone, Serialize)]
pub struct PublisherRow {
    pub user: String,
    /// The roster's person, `None` when undeclared.
    pub person: Option<String>,
    pub mfa: Option<Mfa>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageRow {
    #[serde(flatten)]
    pub facts: PackageFacts,
    pub publisher_rows: Vec<PublisherRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub level: Level,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub deny: usize,
    pub warn: usize,
    pub allow: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub command: &'static str,
    pub roster: String,
    pub people: Vec<Person>,
    pub packages: Vec<PackageRow>,
    pub findings: Vec<ReportedFinding>,
    pub summary: Summary,
    pub numbers: Metrics,
    /// Battlecard samples for the metrics store.
    pub metrics: Vec<turncoat_metrics::Sample>,
    /// `turncoat recon passwords` results joined per person (`--passwords NAME=FILE`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passwords: Vec<passwords::PasswordResults>,
}

impl Report {
    pub fn blocked(&self) -> bool {
        self.summary.deny > 0
    }

    /// Join password-check results; each must name a person of the roster.
    pub fn with_passwords(
        mut self,
        results: Vec<passwords::PasswordResults>,
    ) -> Result<Report, String> {
        for r in &results {
            if !self.people.iter().any(|p| p.name == r.person) {
                return Err(format!(
                    "--passwords {}={}: no person named `{}` in the roster",
                    r.person, r.file, r.person
                ));
            }
        }
        self.passwords = results;
        Ok(self)
    }
}

/// Judge the input; `level` is the policy's level for a code.
pub fn judge(input: &Input, level: impl Fn(&str) -> Level, at: time::OffsetDateTime) -> Report {
    let mut summary = Summary::default();
    let findings = rules::check_all(input)
        .into_iter()
        .map(|f| {
            let level = level(&f.code);
            match level {
                Level::Deny => summary.deny += 1,
                Level::Warn => summary.warn += 1,
                Level::Allow => summary.allow += 1,
            }
            ReportedFinding { finding: f, level }
        })
        .collect();
    let packages = input
        .packages
        .iter()
        .map(|p| PackageRow {
            facts: p.clone(),
            publisher_rows: p
                .publishers
                .iter()
                .map(|u| {
                    let person = input.person_of(p.ecosystem, u);
                    PublisherRow {
                        user: u.clone(),
                        person: person.map(|x| x.name.clone()),
                        mfa: person.map(|x| x.mfa),
                    }
                })
                .collect(),
        })
        .collect();
    let numbers = Metrics::of(input);
    Report {
        schema_version: SCHEMA_VERSION,
        command: "evaluate",
        roster: input.roster_file.clone(),
        people: input.roster.people.clone(),
        packages,
        findings,
        summary,
        metrics: numbers.samples(at, &input.roster_file),
        numbers,
        passwords: Vec::new(),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn pct_text(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), |p| format!("{p}%"))
}

/// The human report: packages and who can publish them, people, the metrics table, findings.
pub fn human(r: &Report, verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "turncoat evaluate {}: {} package(s), {} person(s)\n",
        r.roster,
        r.packages.len(),
        r.people.len()
    );
    let _ = writeln!(
        out,
        "{:<6} {:<32} {:>4}  {:<8}  publishers",
        "eco", "package", "n", "2fa-pub"
    );
    for p in &r.packages {
        let who = match &p.facts.error {
            Some(e) => format!("(not read: {e})"),
            None => p
                .publisher_rows
                .iter()
                .map(|w| match (&w.person, w.mfa) {
                    (Some(name), Some(m)) => format!("{} ({name}, {})", w.user, m.as_str()),
                    _ => format!("{} (undeclared)", w.user),
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let org = p
            .facts
            .organization
            .as_deref()
            .map(|o| format!(" [org {o}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<6} {:<32} {:>4}  {:<8}  {who}{org}",
            p.facts.ecosystem.as_str(),
            p.facts.name,
            p.facts.publishers.len(),
            yes_no(p.facts.publish_requires_2fa),
        );
    }
    let pw_col = !r.passwords.is_empty();
    let _ = writeln!(
        out,
        "\n{:<24} {:<16} {:<16} {:<13} {:<9} recovery{}",
        "person",
        "npm",
        "pypi",
        "mfa",
        "pw-mgr",
        if pw_col {
            "  passwords breached/reused/weak"
        } else {
            ""
        }
    );
    for p in &r.people {
        let recovery = yes_no(p.recovery_codes);
        let last = if pw_col {
            let s = r
                .passwords
                .iter()
                .find(|x| x.person == p.name)
                .map_or_else(|| "not checked".to_string(), |x| x.summary());
            format!("{recovery:<8}  {s}")
        } else {
            recovery.to_string()
        };
        let _ = writeln!(
            out,
            "{:<24} {:<16} {:<16} {:<13} {:<9} {last}",
            p.name,
            p.npm.as_deref().unwrap_or("-"),
            p.pypi.as_deref().unwrap_or("-"),
            p.mfa.as_str(),
            if p.password_manager { "yes" } else { "no" },
        );
    }
    let m = &r.numbers;
    let _ = writeln!(out, "\nmetric                        value");
    let _ = writeln!(
        out,
        "phishing-resistant-mfa-pct    {}",
        pct_text(m.phishing_resistant_mfa_pct)
    );
    let _ = writeln!(
        out,
        "sms-mfa-pct                   {}",
        pct_text(m.sms_mfa_pct)
    );
    let _ = writeln!(
        out,
        "password-manager-pct          {}",
        pct_text(m.password_manager_pct)
    );
    let _ = writeln!(
        out,
        "single-publisher-packages     {}",
        m.single_publisher_packages
    );
    if !r.findings.is_empty() {
        let _ = writeln!(out);
    }
    for f in r
        .findings
        .iter()
        .filter(|f| verbose || f.level != Level::Allow)
    {
        let _ = writeln!(
            out,
            "{:4}  {:8}  {}  {}",
            f.level.as_str(),
            f.finding.severity.as_str(),
            f.finding.code,
            f.finding.message
        );
    }
    let _ = writeln!(
        out,
        "\n{} deny, {} warn, {} allow",
        r.summary.deny, r.summary.warn, r.summary.allow
    );
    out
}

/// Pretty JSON with a trailing newline.
pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::rules::testing::*;

    #[test]
    fn metrics_over_people_and_packages() {
        let i = input(
            vec![
                person("A", Some("a"), Mfa::HardwareKey, true),
                person("B", Some("b"), Mfa::Sms, false),
                person("C", Some("c"), Mfa::Passkey, true),
            ],
            vec![facts("solo", &["a"]), facts("duo", &["a", "c"])],
        );
        let m = Metrics::of(&i);
        assert_eq!(m.phishing_resistant_mfa_pct, Some(66.7));
        assert_eq!(m.sms_mfa_pct, Some(33.3));
        assert_eq!(m.password_manager_pct, Some(66.7));
        assert_eq!(m.single_publisher_packages, 1);
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let s = m.samples(at, "publishers.toml");
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|s| s.source == "evaluate"));
    }
}
