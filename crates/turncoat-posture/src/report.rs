//! The `turncoat fortify` report: its JSON form (versioned by [`SCHEMA_VERSION`]), the human
//! form grouped by workflow file, and SARIF / Markdown through `turncoat-report`'s renderers
//! (each workflow file stands where a package stands in the gate's report; the chain becomes
//! SARIF related locations).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use turncoat_finding::{Evidence, Level, RuleDoc};

use crate::publish::Ecosystem;
use crate::{LinkKind, PostureFinding, Repo, Skipped};

/// Version of the JSON report; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One publish step; a step may run several publishing commands (`pnpm release && npm publish`).
#[derive(Debug, Clone, Serialize)]
pub struct PublishStepSummary {
    pub job: String,
    pub line: u32,
    pub tools: Vec<String>,
    pub ecosystems: Vec<Ecosystem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowSummary {
    pub file: String,
    pub triggers: Vec<String>,
    pub jobs: usize,
    pub publish_steps: Vec<PublishStepSummary>,
}

/// A finding after policy.
#[derive(Debug, Clone, Serialize)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: PostureFinding,
    pub level: Level,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub workflows: usize,
    pub publish_steps: usize,
    pub deny: usize,
    pub warn: usize,
    pub allow: usize,
    pub by_code: BTreeMap<String, usize>,
}

/// Signed commits and tags: the numbers, or why they were not read.
#[derive(Debug, Clone, Serialize)]
pub struct SigningSection {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub summary: Option<crate::signing::Summary>,
    /// Why the history was not read (not a git repository).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_read: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub command: &'static str,
    /// The repository as given on the command line.
    pub repo: String,
    pub workflows: Vec<WorkflowSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    pub findings: Vec<ReportedFinding>,
    pub summary: Summary,
    /// Signed commits and tags of the default branch (absent when not asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing: Option<SigningSection>,
    /// Battlecard samples (`signed-commits-pct`, `publish-path-findings`) for the metrics store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<turncoat_metrics::Sample>,
}

impl Report {
    /// Assemble the report; `level` is the policy's level for a code.
    pub fn new(
        repo_label: &str,
        repo: &Repo,
        skipped: Vec<Skipped>,
        findings: Vec<PostureFinding>,
        level: impl Fn(&str) -> Level,
    ) -> Report {
        // GitLab pipelines are summarised like workflows (one step per script line).
        let gitlab: Vec<crate::Workflow> = repo
            .gitlab
            .iter()
            .map(crate::gitlab::Pipeline::as_workflow)
            .collect();
        let workflows: Vec<WorkflowSummary> = repo
            .workflows
            .iter()
            .chain(&gitlab)
            .map(|wf| WorkflowSummary {
                file: wf.path.clone(),
                triggers: wf.triggers.iter().map(|t| t.event.clone()).collect(),
                jobs: wf.jobs.len(),
                publish_steps: wf
                    .jobs
                    .iter()
                    .flat_map(|j| {
                        j.steps.iter().filter_map(move |s| {
                            let found = crate::rules::publishes_of(repo, s);
                            if found.is_empty() {
                                return None;
                            }
                            let mut ecosystems: Vec<Ecosystem> =
                                found.iter().map(|p| p.ecosystem).collect();
                            ecosystems.dedup();
                            Some(PublishStepSummary {
                                job: j.id.clone(),
                                line: s.line,
                                tools: found.into_iter().map(|p| p.tool).collect(),
                                ecosystems,
                            })
                        })
                    })
                    .collect(),
            })
            .collect();
        let summary = Summary {
            workflows: workflows.len(),
            publish_steps: workflows.iter().map(|w| w.publish_steps.len()).sum(),
            ..Summary::default()
        };
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            command: "fortify",
            repo: repo_label.to_string(),
            workflows,
            skipped,
            findings: Vec::new(),
            summary,
            signing: None,
            metrics: Vec::new(),
        };
        report.add_findings(findings, &level);
        report
    }

    fn add_findings(&mut self, findings: Vec<PostureFinding>, level: &impl Fn(&str) -> Level) {
        for f in findings {
            let level = level(f.code());
            match level {
                Level::Deny => self.summary.deny += 1,
                Level::Warn => self.summary.warn += 1,
                Level::Allow => self.summary.allow += 1,
            }
            *self
                .summary
                .by_code
                .entry(f.code().to_string())
                .or_default() += 1;
            self.findings.push(ReportedFinding { finding: f, level });
        }
    }

    /// Add the signing half: the history's numbers and the findings of its rules.
    pub fn with_signing(
        mut self,
        history: &crate::signing::History,
        level: impl Fn(&str) -> Level,
    ) -> Report {
        self.signing = Some(SigningSection {
            summary: Some(crate::signing::Summary::of(history)),
            not_read: None,
        });
        self.add_findings(crate::rules::check_history(history), &level);
        self
    }

    /// Say why the history was not read.
    pub fn without_signing(mut self, why: impl Into<String>) -> Report {
        self.signing = Some(SigningSection {
            summary: None,
            not_read: Some(why.into()),
        });
        self
    }

    /// The battlecard samples of this report, measured at `at`: `signed-commits-pct` (when the
    /// history was read and has commits) and `publish-path-findings` (findings on the path to a
    /// publish step, by code).
    pub fn samples(&self, at: time::OffsetDateTime) -> Vec<turncoat_metrics::Sample> {
        let mut out = Vec::new();
        if let Some(s) = self.signing.as_ref().and_then(|s| s.summary.as_ref())
            && let Some(p) = s.signed_pct
            && let Ok(sample) =
                turncoat_metrics::Sample::new("signed-commits-pct", p, at, &self.repo)
        {
            let mut sample = sample
                .with("commits", s.commits)
                .with("signed", s.signed)
                .with("branch", s.branch.clone());
            if let Some(v) = s.verified_pct {
                sample = sample.with("verified-pct", v);
            }
            out.push(sample);
        }
        let workflow_findings: Vec<&ReportedFinding> = self
            .findings
            .iter()
            .filter(|f| f.finding.file != crate::signing::HISTORY)
            .collect();
        if let Ok(sample) = turncoat_metrics::Sample::new(
            "publish-path-findings",
            workflow_findings.len() as f64,
            at,
            &self.repo,
        ) {
            let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &workflow_findings {
                *by_code.entry(f.finding.code()).or_default() += 1;
            }
            out.push(sample.with("by_code", serde_json::to_value(by_code).unwrap_or_default()));
        }
        out
    }

    /// Files with findings that are not workflows (local composite actions), sorted.
    pub fn other_files(&self) -> Vec<&str> {
        let mut files: Vec<&str> = self
            .findings
            .iter()
            .map(|f| f.finding.file.as_str())
            .filter(|f| *f != crate::signing::HISTORY)
            .filter(|f| !self.workflows.iter().any(|w| w.file == *f))
            .collect();
        files.sort_unstable();
        files.dedup();
        files
    }

    /// At least one finding at `deny` (exit code 1).
    pub fn blocked(&self) -> bool {
        self.summary.deny > 0
    }
}

/// Pretty JSON with a trailing newline.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so rather than panic if it ever does.
        format!("{{\"error\": \"cannot serialise the report: {e}\"}}")
    });
    s.push('\n');
    s
}

fn chain_text(f: &PostureFinding) -> String {
    // A link's file is shown when it is not the file of the link before (the first link is
    // compared with the finding's own file).
    let mut prev_file = f.file.as_str();
    f.chain
        .iter()
        .map(|l| {
            let kind = match l.kind {
                LinkKind::Trigger => "on",
                LinkKind::Job => "job",
                LinkKind::Step => "step",
            };
            let file = if l.file != prev_file {
                prev_file = &l.file;
                format!("{}:", l.file)
            } else {
                String::new()
            };
            format!("{kind} {} ({file}{})", l.label, l.line)
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn write_finding(out: &mut String, f: &ReportedFinding) {
    let pf = &f.finding;
    let _ = writeln!(
        out,
        "  {:>4}  {:4}  {:8}  {}  {}",
        pf.line,
        f.level.as_str(),
        pf.finding.severity.as_str(),
        pf.finding.code,
        pf.finding.message
    );
    if let Some(s) = pf
        .finding
        .evidence
        .first()
        .and_then(|e| e.snippet.as_deref())
    {
        let _ = writeln!(out, "        | {s}");
    }
    if !pf.chain.is_empty() {
        let _ = writeln!(out, "        chain: {}", chain_text(pf));
    }
}

/// Human report: findings grouped by workflow file, with line numbers and the chain.
/// `verbose` also shows findings the policy allows.
pub fn human(report: &Report, verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "turncoat fortify {}: {} workflow(s), {} publish step(s)",
        report.repo, report.summary.workflows, report.summary.publish_steps
    );
    for wf in &report.workflows {
        let shown: Vec<&ReportedFinding> = report
            .findings
            .iter()
            .filter(|f| f.finding.file == wf.file && (verbose || f.level != Level::Allow))
            .collect();
        let publishes: Vec<String> = wf
            .publish_steps
            .iter()
            .map(|p| format!("{} (job {}, line {})", p.tools.join(" + "), p.job, p.line))
            .collect();
        let _ = writeln!(out, "\n{}  [on: {}]", wf.file, wf.triggers.join(", "));
        if !publishes.is_empty() {
            let _ = writeln!(out, "  publishes: {}", publishes.join("; "));
        }
        if shown.is_empty() {
            let _ = writeln!(out, "  no findings");
        }
        for f in shown {
            write_finding(&mut out, f);
        }
    }
    // Findings in files that are not workflows (local composite actions, GitLab includes).
    for file in report.other_files() {
        let kind = if file.starts_with(".github/") {
            "composite action"
        } else {
            "included file"
        };
        let _ = writeln!(out, "\n{file}  [{kind}]");
        for f in report
            .findings
            .iter()
            .filter(|f| f.finding.file == file && (verbose || f.level != Level::Allow))
        {
            write_finding(&mut out, f);
        }
    }
    if let Some(signing) = &report.signing {
        write_signing(&mut out, report, signing, verbose);
    }
    for s in &report.skipped {
        let _ = writeln!(out, "\nskipped {}: {}", s.file, s.reason);
    }
    let _ = writeln!(
        out,
        "\n{} deny, {} warn, {} allow",
        report.summary.deny, report.summary.warn, report.summary.allow
    );
    out
}

fn pct_text(p: Option<f64>) -> String {
    p.map_or_else(|| "-".to_string(), |p| format!("{p}%"))
}

/// Months shown in the human trend (all are in the JSON).
const TREND_MONTHS: usize = 12;

fn write_signing(out: &mut String, report: &Report, signing: &SigningSection, verbose: bool) {
    let Some(s) = &signing.summary else {
        let why = signing.not_read.as_deref().unwrap_or("not read");
        let _ = writeln!(out, "\nsigned commits and tags: {why}");
        return;
    };
    let kinds: Vec<String> = s
        .by_kind
        .iter()
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "\nsigned commits and tags  [{}{}]",
        s.branch,
        if s.truncated { ", truncated" } else { "" }
    );
    let _ = writeln!(
        out,
        "  commits: {} signed of {} ({}){}",
        s.signed,
        s.commits,
        pct_text(s.signed_pct),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(": {}", kinds.join(", "))
        }
    );
    if let Some(v) = s.verified {
        let _ = writeln!(
            out,
            "  verified: {v} of {} ({})",
            s.commits,
            pct_text(s.verified_pct)
        );
    }
    let _ = writeln!(
        out,
        "  tags: {} signed of {} ({}); release tags: {} signed of {} ({})",
        s.signed_tags,
        s.tags,
        pct_text(s.signed_tags_pct),
        s.signed_release_tags,
        s.release_tags,
        pct_text(s.signed_release_tags_pct)
    );
    if !s.monthly.is_empty() {
        let _ = writeln!(
            out,
            "  month      commits  signed{}",
            if s.verified.is_some() {
                "  verified"
            } else {
                ""
            }
        );
        let skip = s.monthly.len().saturating_sub(TREND_MONTHS);
        for m in &s.monthly[skip..] {
            let verified = m.verified.map(|v| format!("  {v:>8}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<9}  {:>7}  {:>5}%{verified}",
                m.month,
                m.commits,
                crate::signing::pct(m.signed, m.commits).unwrap_or(0.0)
            );
        }
    }
    for f in report.findings.iter().filter(|f| {
        f.finding.file == crate::signing::HISTORY && (verbose || f.level != Level::Allow)
    }) {
        let pf = &f.finding;
        let _ = writeln!(
            out,
            "  {:4}  {:8}  {}  {}",
            f.level.as_str(),
            pf.finding.severity.as_str(),
            pf.finding.code,
            pf.finding.message
        );
    }
}

/// The report in the gate's model: one "package" per workflow file, so SARIF and Markdown come
/// from `turncoat-report`. The chain is appended to the message and each link becomes evidence
/// (SARIF related locations).
pub fn as_gate_report(report: &Report) -> turncoat_report::Report {
    use turncoat_report::{PackageReport, ReportFinding, Verdict};
    let files: Vec<&str> = report
        .workflows
        .iter()
        .map(|w| w.file.as_str())
        .chain(report.other_files())
        .chain(
            report
                .findings
                .iter()
                .any(|f| f.finding.file == crate::signing::HISTORY)
                .then_some(crate::signing::HISTORY),
        )
        .collect();
    let packages = files
        .into_iter()
        .map(|file| {
            let findings: Vec<ReportFinding> = report
                .findings
                .iter()
                .filter(|f| f.finding.file == file)
                .map(|f| {
                    let pf = &f.finding;
                    let mut evidence = pf.finding.evidence.clone();
                    evidence.extend(
                        pf.chain
                            .iter()
                            .map(|l| Evidence::at(l.file.clone(), l.line).with_snippet(&l.label)),
                    );
                    ReportFinding {
                        code: pf.finding.code.clone(),
                        severity: pf.finding.severity,
                        level: f.level,
                        message: format!("{} (chain: {})", pf.finding.message, chain_text(pf)),
                        evidence,
                        excepted: None,
                    }
                })
                .collect();
            let verdict = findings
                .iter()
                .map(|f| Verdict::from_level(f.level))
                .max()
                .unwrap_or(Verdict::Pass);
            PackageReport::scanned(file, None, verdict, findings)
        })
        .collect();
    turncoat_report::Report::new("fortify", vec![report.repo.clone()], packages)
}

pub fn sarif(report: &Report, rules: &[&RuleDoc]) -> String {
    turncoat_report::sarif::render(&as_gate_report(report), rules)
}

pub fn markdown(report: &Report) -> String {
    turncoat_report::markdown::render(&as_gate_report(report))
}
