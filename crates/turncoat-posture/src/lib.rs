//! The publish-path posture of a repository (`turncoat fortify`).
//!
//! Vocabulary: a repository's **workflows** (`.github/workflows/*.yml|yaml`), each with its
//! **triggers** (`on:`), **jobs** and **steps**; a **publish step** uploads a release to npm,
//! PyPI or crates.io ([`publish`]). The rules in [`rules`] judge the path to every publish step
//! the way an attacker would walk it: who can start the workflow, which code it checks out,
//! which expressions it pastes into shell, which cache it restores, which token it holds.
//!
//! Layout: [`load`] reads the files (the only IO here, bounded by [`yaml::Limits`]),
//! [`yaml`] builds a line-numbered tree, [`model`] reads workflows from it, and the rules are
//! sans-IO: a [`Repo`] in, [`PostureFinding`]s out. Every finding names the workflow file, the
//! line and the chain (trigger → job → step) that leads to it. [`report`] renders them.
//!
//! [`signing`] reads the other half: which commits of the default branch and which tags are
//! signed, by which kind of key, and whether they verify against the team's keys; its rules
//! (`unsigned-commits`, `unsigned-release-tags`, `signature-unverified`) judge a
//! [`signing::History`].
//!
//! [`evaluate`] (`turncoat evaluate`) judges who can publish the team's packages: the roster
//! against the registries' publishers, and how each account is protected.

pub mod evaluate;
pub mod expr;
pub mod gitlab;
pub mod load;
pub mod merges;
pub mod model;
pub mod publish;
pub mod report;
pub mod rules;
pub mod signing;
pub mod yaml;

use serde::Serialize;
use turncoat_finding::{Evidence, Finding, RuleDoc};

pub use load::{LoadError, Skipped, load_repo, parse_workflow};
pub use model::{Job, LocalAction, Step, Workflow};

/// The facts the rules judge: every workflow of one repository and its composite actions.
#[derive(Debug, Clone, Default)]
pub struct Repo {
    pub workflows: Vec<Workflow>,
    pub actions: Vec<LocalAction>,
    /// GitLab CI pipelines (`.gitlab-ci.yml` and the child pipelines it starts).
    pub gitlab: Vec<gitlab::Pipeline>,
}

impl Repo {
    /// The composite action a step calls (`uses: ./.github/actions/NAME`), if it is in the
    /// repository. One level: steps of a composite action that call another local action are
    /// not followed further.
    pub fn local_action(&self, step: &Step) -> Option<&LocalAction> {
        let uses = step.uses.as_deref()?.trim().trim_end_matches('/');
        let uses = uses.strip_prefix("./").unwrap_or(uses);
        self.actions
            .iter()
            .find(|a| a.uses.trim_start_matches("./").trim_end_matches('/') == uses)
    }

    /// The step and, when it calls a local composite action, that action's steps.
    pub fn expand<'a>(&'a self, step: &'a Step) -> Vec<(&'a Step, Option<&'a LocalAction>)> {
        let mut out = vec![(step, None)];
        if let Some(a) = self.local_action(step) {
            out.extend(a.steps.iter().map(|s| (s, Some(a))));
        }
        out
    }
}

/// What a link of a chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    Trigger,
    Job,
    Step,
}

/// One link of the chain that leads to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub kind: LinkKind,
    pub label: String,
    pub file: String,
    pub line: u32,
}

/// A rule's finding, placed in a workflow file with the chain that reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostureFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub file: String,
    pub line: u32,
    pub chain: Vec<Link>,
}

impl PostureFinding {
    /// A finding of `rule` at `file:line`, with a snippet and its chain.
    pub fn new(
        rule: &RuleDoc,
        message: impl Into<String>,
        file: &str,
        line: u32,
        snippet: &str,
        chain: Vec<Link>,
    ) -> PostureFinding {
        let mut evidence = Evidence::at(file, line);
        if !snippet.is_empty() {
            evidence = evidence.with_snippet(snippet);
        }
        PostureFinding {
            finding: Finding::new(rule, message).with_evidence(evidence),
            file: file.to_string(),
            line,
            chain,
        }
    }

    pub fn with_severity(mut self, severity: turncoat_finding::Severity) -> Self {
        self.finding = self.finding.with_severity(severity);
        self
    }

    pub fn code(&self) -> &str {
        &self.finding.code
    }
}

/// The chain link of a workflow's triggers: the given one, else all of them.
pub fn trigger_link(wf: &Workflow, trigger: Option<&model::Trigger>) -> Link {
    let (label, line) = match trigger {
        Some(t) => (t.event.clone(), t.line),
        None => (
            if wf.triggers.is_empty() {
                "(no trigger)".to_string()
            } else {
                wf.triggers
                    .iter()
                    .map(|t| t.event.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            wf.head_line(),
        ),
    };
    Link {
        kind: LinkKind::Trigger,
        label,
        file: wf.path.clone(),
        line,
    }
}

pub fn job_link(wf: &Workflow, job: &Job) -> Link {
    Link {
        kind: LinkKind::Job,
        label: job.id.clone(),
        file: wf.path.clone(),
        line: job.line,
    }
}

pub fn step_link(wf: &Workflow, step: &Step) -> Link {
    Link {
        kind: LinkKind::Step,
        label: step.label(),
        file: wf.path.clone(),
        line: step.line,
    }
}

/// trigger → job → step.
pub fn chain(
    wf: &Workflow,
    trigger: Option<&model::Trigger>,
    job: &Job,
    step: Option<&Step>,
) -> Vec<Link> {
    let mut c = vec![trigger_link(wf, trigger), job_link(wf, job)];
    if let Some(s) = step {
        c.push(step_link(wf, s));
    }
    c
}

/// Every rule of this crate: fortify's and evaluate's.
pub fn rules() -> Vec<&'static RuleDoc> {
    rules::ALL
        .iter()
        .chain(evaluate::rules::ALL)
        .copied()
        .collect()
}

/// Run every rule on the repository; findings sorted by file, line and code.
pub fn audit(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = rules::check_all(repo);
    out.extend(gitlab::rules::check_all(repo));
    out.sort_by(|a, b| {
        (&a.file, a.line, &a.finding.code, &a.finding.message).cmp(&(
            &b.file,
            b.line,
            &b.finding.code,
            &b.finding.message,
        ))
    });
    out.dedup();
    out
}
