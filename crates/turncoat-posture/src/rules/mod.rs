//! The rules: one per file, each with its [`RuleDoc`] and its true and false cases.
//!
//! Shared here: which jobs publish, which credentials reach a step, where in a `run:` block an
//! expression sits.

pub mod broad_token_permissions;
pub mod cache_shared_with_release;
pub mod no_release_environment;
pub mod persisted_checkout_credentials;
pub mod publish_from_untrusted_trigger;
pub mod publish_long_lived_token;
pub mod publish_without_provenance;
pub mod release_cache;
pub mod script_injection;
pub mod secret_to_third_party_action;
pub mod signature_unverified;
pub mod unpinned_action;
pub mod unsigned_commits;
pub mod unsigned_release_tags;
pub mod untrusted_checkout;

use turncoat_finding::RuleDoc;

use crate::model::{Job, Pair, Step, Workflow};
use crate::publish::{self, Publish};
use crate::{PostureFinding, Repo, expr};

/// The group every posture rule belongs to.
pub const GROUP: &str = "posture";

pub const ALL: &[&RuleDoc] = &[
    &broad_token_permissions::RULE,
    &cache_shared_with_release::RULE,
    &no_release_environment::RULE,
    &persisted_checkout_credentials::RULE,
    &publish_from_untrusted_trigger::RULE,
    &publish_long_lived_token::RULE,
    &publish_without_provenance::RULE,
    &release_cache::RULE,
    &script_injection::RULE,
    &secret_to_third_party_action::RULE,
    &unpinned_action::RULE,
    &untrusted_checkout::RULE,
    // GitLab CI only: judged by [`crate::gitlab::rules`].
    &crate::gitlab::rules::publish_from_unprotected_ref::RULE,
    // Signed commits and tags: judged on a [`crate::signing::History`] by [`check_history`].
    &signature_unverified::RULE,
    &unsigned_commits::RULE,
    &unsigned_release_tags::RULE,
];

pub fn check_all(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    out.extend(broad_token_permissions::check(repo));
    out.extend(cache_shared_with_release::check(repo));
    out.extend(no_release_environment::check(repo));
    out.extend(persisted_checkout_credentials::check(repo));
    out.extend(publish_from_untrusted_trigger::check(repo));
    out.extend(publish_long_lived_token::check(repo));
    out.extend(publish_without_provenance::check(repo));
    out.extend(release_cache::check(repo));
    out.extend(script_injection::check(repo));
    out.extend(secret_to_third_party_action::check(repo));
    out.extend(unpinned_action::check(repo));
    out.extend(untrusted_checkout::check(repo));
    out
}

/// The signing rules, on the history of the default branch and the tags.
pub fn check_history(h: &crate::signing::History) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    out.extend(unsigned_commits::check(h));
    out.extend(unsigned_release_tags::check(h));
    out.extend(signature_unverified::check(h));
    out
}

/// A publish step with its workflow and job.
pub struct PublishSite<'a> {
    pub wf: &'a Workflow,
    pub job: &'a Job,
    pub step: &'a Step,
    pub publishes: Vec<Publish>,
}

/// The publishing commands of a step, including those in the local composite action it calls.
pub fn publishes_of(repo: &Repo, step: &Step) -> Vec<Publish> {
    repo.expand(step)
        .into_iter()
        .flat_map(|(s, _)| publish::in_step(s))
        .collect()
}

/// Every step that publishes, in file order.
pub fn publish_sites(repo: &Repo) -> Vec<PublishSite<'_>> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            for step in &job.steps {
                let publishes = publishes_of(repo, step);
                if !publishes.is_empty() {
                    out.push(PublishSite {
                        wf,
                        job,
                        step,
                        publishes,
                    });
                }
            }
        }
    }
    out
}

/// The jobs of `wf` on the way to a release: every publish job and, transitively, the jobs it
/// `needs:` (their artifacts and outputs become the release). Maps each to the publish job it
/// feeds.
pub fn release_path<'a>(repo: &Repo, wf: &'a Workflow) -> Vec<(&'a Job, &'a Job)> {
    let mut out: Vec<(&Job, &Job)> = Vec::new();
    for publish in wf.jobs.iter().filter(|j| is_publish_job(repo, j)) {
        let mut todo = vec![publish];
        while let Some(job) = todo.pop() {
            if out.iter().any(|(j, _)| j.id == job.id) {
                continue;
            }
            out.push((job, publish));
            todo.extend(
                job.needs
                    .iter()
                    .filter_map(|n| wf.jobs.iter().find(|j| &j.id == n)),
            );
        }
    }
    out
}

/// Does this job publish (directly or through a local composite action)?
pub fn is_publish_job(repo: &Repo, job: &Job) -> bool {
    job.steps.iter().any(|s| !publishes_of(repo, s).is_empty())
}

/// Env and `with:` keys that carry a registry credential whatever the secret is called.
pub(crate) const CREDENTIAL_KEYS: &[&str] = &[
    "NODE_AUTH_TOKEN",
    "NPM_TOKEN",
    "NPM_AUTH_TOKEN",
    "NPM_CONFIG__AUTH",
    "NPM_CONFIG_TOKEN",
    "YARN_NPM_AUTH_TOKEN",
    "TWINE_PASSWORD",
    "TWINE_API_KEY",
    "UV_PUBLISH_TOKEN",
    "UV_PUBLISH_PASSWORD",
    "POETRY_PYPI_TOKEN_PYPI",
    "HATCH_INDEX_AUTH",
    "FLIT_PASSWORD",
    "PDM_PUBLISH_PASSWORD",
    "CARGO_REGISTRY_TOKEN",
    "PASSWORD",
    "TOKEN",
];

/// A registry credential that reaches a step: the secret and where it is handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub secret: String,
    pub line: u32,
    /// `env NODE_AUTH_TOKEN`, `with password`, `run`.
    pub via: String,
}

fn credentials_in_pairs(
    pairs: &[Pair],
    via: &str,
    action: Option<&str>,
    out: &mut Vec<Credential>,
) {
    for p in pairs {
        let key = p.key.to_ascii_uppercase();
        let keyed = CREDENTIAL_KEYS.contains(&key.as_str())
            // `token:` of a generic action (a checkout) is not a registry credential.
            && !(matches!(key.as_str(), "TOKEN" | "PASSWORD") && via == "with" && !publishing_action(action));
        for s in expr::secrets(&p.value) {
            if expr::is_registry_secret(&s) || (keyed && s != "GITHUB_TOKEN") {
                out.push(Credential {
                    secret: s,
                    line: p.line,
                    via: format!("{via} {}", p.key),
                });
            }
        }
    }
}

fn publishing_action(action: Option<&str>) -> bool {
    matches!(
        action,
        Some(
            "pypa/gh-action-pypi-publish"
                | "js-devtools/npm-publish"
                | "changesets/action"
                | "cycjimmy/semantic-release-action"
                | "actions/setup-node"
        )
    )
}

/// Registry credentials that reach `step`, its own first: the step's env, inputs and script,
/// the job's and workflow's env, and the scripts of the steps before it in the job (an earlier
/// step may write `.npmrc` or `~/.pypirc` with the token; an earlier step's `with:` inputs go to
/// that action only and are not counted).
pub fn credentials(wf: &Workflow, job: &Job, step: &Step) -> Vec<Credential> {
    let mut out = Vec::new();
    let action = step.action();
    credentials_in_pairs(&step.env, "env", action.as_deref(), &mut out);
    credentials_in_pairs(&step.with, "with", action.as_deref(), &mut out);
    credentials_in_run(step, &mut out);
    credentials_in_pairs(&job.env, "env", None, &mut out);
    credentials_in_pairs(&wf.env, "env", None, &mut out);
    for s in job.steps.iter().take(step.index) {
        credentials_in_run(s, &mut out);
    }
    out.dedup();
    out
}

fn credentials_in_run(s: &Step, out: &mut Vec<Credential>) {
    let Some(run) = &s.run else { return };
    for (off, e) in expr::expressions(run) {
        for p in expr::paths(e) {
            if let Some(name) = p.strip_prefix("secrets.")
                && expr::is_registry_secret(name)
            {
                out.push(Credential {
                    secret: name.to_ascii_uppercase(),
                    line: line_in(run, s.run_line, off),
                    via: "run".into(),
                });
            }
        }
    }
}

/// Is OIDC trusted publishing available to the job (`id-token: write`)?
pub fn has_id_token(wf: &Workflow, job: &Job) -> bool {
    wf.job_permissions(job)
        .is_some_and(|p| p.writes("id-token"))
}

/// The line of byte `offset` inside a scalar that starts at `start_line`. Block scalars
/// (`run: |`) start on the indicator's line, their text on the next.
pub fn line_in(text: &str, start_line: u32, offset: usize) -> u32 {
    let before = text.get(..offset).unwrap_or(text);
    start_line + u32::try_from(before.matches('\n').count()).unwrap_or(u32::MAX - start_line)
}

/// The line of `text` that holds byte `offset`.
pub fn line_text(text: &str, offset: usize) -> &str {
    let start = text
        .get(..offset)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let end = text
        .get(offset..)
        .and_then(|a| a.find('\n'))
        .map_or(text.len(), |i| offset + i);
    text.get(start..end).unwrap_or("")
}

#[cfg(test)]
pub(crate) mod testutil {
    use crate::Repo;
    use crate::yaml::Limits;

    /// A repository of `(file name, YAML)` workflows.
    pub fn repo(files: &[(&str, &str)]) -> Repo {
        let mut r = Repo::default();
        for (name, src) in files {
            let path = format!(".github/workflows/{name}");
            let wf = crate::parse_workflow(&path, src.as_bytes(), &Limits::default())
                .unwrap()
                .unwrap();
            r.workflows.push(wf);
        }
        r
    }
}
