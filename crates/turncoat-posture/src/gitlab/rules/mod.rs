//! The GitLab CI side of the publish-path rules: the same codes as the workflow rules where
//! they apply (each file here judges one code, with its true and false cases), plus
//! `publish-from-unprotected-ref`, which has no GitHub Actions counterpart.
//!
//! Shared here: which script lines publish, which credentials a job holds, whether the
//! publish goes to the project's own GitLab package registry (with the short-lived
//! `CI_JOB_TOKEN`), and who can make a job run ([`super::reach`]).

pub mod cache;
pub mod no_release_environment;
pub mod publish_from_unprotected_ref;
pub mod publish_long_lived_token;
pub mod publish_without_provenance;
pub mod unpinned_include;
pub mod untrusted_trigger;

use crate::gitlab::reach::{self, Scenario};
use crate::gitlab::{GlJob, Pipeline, ScriptLine};
use crate::publish::{self, Ecosystem, Publish};
use crate::rules::Credential;
use crate::{Link, LinkKind, PostureFinding, Repo};

pub fn check_all(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    out.extend(cache::check(repo));
    out.extend(no_release_environment::check(repo));
    out.extend(publish_from_unprotected_ref::check(repo));
    out.extend(publish_long_lived_token::check(repo));
    out.extend(publish_without_provenance::check(repo));
    out.extend(untrusted_trigger::check(repo));
    out.extend(unpinned_include::check(repo));
    out
}

/// A script line that publishes.
pub struct Site<'a> {
    pub p: &'a Pipeline,
    pub job: &'a GlJob,
    pub line: &'a ScriptLine,
    /// The line of the publishing command inside a multi-line script entry, and its text.
    pub at: u32,
    pub snippet: String,
    pub publishes: Vec<Publish>,
    /// To the project's GitLab package registry (job token), not a public registry.
    pub own_registry: bool,
}

/// Every publishing script line, in file order.
pub fn sites(repo: &Repo) -> Vec<Site<'_>> {
    let mut out = Vec::new();
    for p in &repo.gitlab {
        for job in &p.jobs {
            for line in &job.script {
                let mut publishes = publish::in_script(&line.text);
                if publishes.is_empty() {
                    continue;
                }
                for p in &mut publishes {
                    if p.tool.ends_with("(release script)") {
                        p.ecosystem = script_ecosystem(job);
                    }
                }
                let (i, snippet) = line
                    .text
                    .lines()
                    .enumerate()
                    .find(|(_, l)| !publish::in_script(l).is_empty())
                    .unwrap_or((0, line.text.lines().next().unwrap_or("")));
                out.push(Site {
                    p,
                    job,
                    line,
                    at: line.line + u32::try_from(i).unwrap_or(0),
                    snippet: snippet.trim().to_string(),
                    own_registry: own_registry(job, snippet),
                    publishes,
                });
            }
        }
    }
    out
}

/// Jobs with at least one publishing line.
pub fn publish_jobs(repo: &Repo) -> Vec<(&Pipeline, &GlJob)> {
    let mut out: Vec<(&Pipeline, &GlJob)> = Vec::new();
    for s in sites(repo) {
        if !out
            .iter()
            .any(|(p, j)| p.path == s.p.path && j.id == s.job.id)
        {
            out.push((s.p, s.job));
        }
    }
    out
}

/// The registry a repository release script publishes to, from what the job hands it.
fn script_ecosystem(job: &GlJob) -> Ecosystem {
    let texts = job
        .variables
        .iter()
        .map(|v| v.key.as_str())
        .chain(job.script.iter().map(|l| l.text.as_str()));
    let mut eco = Ecosystem::Npm;
    for t in texts {
        let t = t.to_ascii_uppercase();
        if t.contains("TWINE") || t.contains("PYPI") || t.contains("UV_PUBLISH") {
            return Ecosystem::Pypi;
        }
        if t.contains("CARGO_REGISTRY") {
            eco = Ecosystem::Crates;
        }
    }
    eco
}

fn mentions_gitlab_api(text: &str) -> bool {
    text.contains("CI_API_V4_URL") || text.contains("/api/v4/projects/")
}

/// Does this publish go to the project's own GitLab registry? The command itself names the job
/// token or the API, or the job's variables point the tool there, or an `.npmrc`-style line
/// sets a registry to the API.
fn own_registry(job: &GlJob, command: &str) -> bool {
    if command.contains("CI_JOB_TOKEN") || mentions_gitlab_api(command) {
        return true;
    }
    let public = |t: &str| t.contains("registry.npmjs.org") || t.contains("upload.pypi.org");
    if job.script.iter().any(|l| public(&l.text)) {
        return false;
    }
    // A registry setting pointed at the API: `TWINE_REPOSITORY_URL`, `NPM_CONFIG_REGISTRY`,
    // `@scope:registry=...` or `//host/api/v4/...:_authToken` in an `.npmrc`, `repository =`
    // in a `.pypirc`.
    let sets_registry = |t: &str| {
        [
            "registry=",
            "--registry",
            "repository-url",
            "REPOSITORY_URL",
            "repository =",
            "_authToken",
        ]
        .iter()
        .any(|k| t.contains(k))
    };
    job.variables.iter().any(|v| {
        mentions_gitlab_api(&v.value)
            && (v.key.contains("REPOSITORY") || v.key.contains("REGISTRY"))
    }) || job
        .script
        .iter()
        .flat_map(|l| l.text.lines())
        .any(|t| sets_registry(t) && mentions_gitlab_api(t))
}

/// `$NAME`, `${NAME}` and `${!NAME}` in shell text, with byte offsets.
pub fn var_refs(text: &str) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let mut j = i + 1;
            while j < b.len() && (b[j] == b'{' || b[j] == b'!') {
                j += 1;
            }
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start {
                out.push((i, text[start..j].to_string()));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Predefined variables: short-lived (`CI_JOB_TOKEN`) or not secrets.
fn predefined(name: &str) -> bool {
    name.starts_with("CI_") || name.starts_with("GITLAB_") || name == "HOME" || name == "PATH"
}

/// The OIDC audience that makes trusted publishing possible for an ecosystem.
fn audience_trusts(aud: &str, eco: Ecosystem) -> bool {
    let a = aud.to_ascii_lowercase();
    match eco {
        Ecosystem::Npm => a.contains("npm:registry.npmjs.org"),
        Ecosystem::Pypi => a
            .split(',')
            .any(|x| x.trim() == "pypi" || x.trim() == "testpypi"),
        Ecosystem::Crates => a.contains("crates.io"),
    }
}

/// Does the job ask for an OIDC token a registry accepts for `eco`?
pub fn trusted(job: &GlJob, eco: Ecosystem) -> bool {
    job.id_tokens.iter().any(|t| audience_trusts(&t.aud, eco))
}

fn any_trusted(job: &GlJob) -> bool {
    [Ecosystem::Npm, Ecosystem::Pypi, Ecosystem::Crates]
        .into_iter()
        .any(|e| trusted(job, e))
}

/// Is `name` assigned in the job's script (`NAME=...`, `export NAME=...`)?
fn assigned_in_script(job: &GlJob, name: &str) -> bool {
    let pat = format!("{name}=");
    job.script.iter().any(|l| {
        l.text.lines().any(|t| {
            let t = t.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
            t.starts_with(&pat)
        })
    })
}

/// Flags after which a value is a credential, whatever the variable is called.
const SECRET_FLAGS: &[&str] = &["-p", "--password", "--token", "_authToken=", "_auth=", "-P"];

/// A variable name that holds a registry credential: a known credential variable, or a
/// registry-named one that says token, password, auth or key (`TWINE_USERNAME` does not).
fn is_credential_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    let secretish = ["TOKEN", "PASS", "AUTH", "SECRET", "KEY"]
        .iter()
        .any(|k| up.contains(k));
    crate::rules::CREDENTIAL_KEYS.contains(&up.as_str())
        || (secretish && crate::expr::is_registry_secret(&up))
}

/// Registry credentials a job holds: variables handed to credential names (or literal values
/// there), and registry-named variables or values after `--password`-like flags in its script.
/// `CI_JOB_TOKEN` and the job's own OIDC tokens are short-lived and not counted; a variable the
/// script assigns itself is not counted when the job has a registry OIDC token (it is minted
/// from it).
pub fn credentials(job: &GlJob) -> Vec<Credential> {
    let mut out = Vec::new();
    let id_names: Vec<&str> = job.id_tokens.iter().map(|t| t.name.as_str()).collect();
    let skip = |n: &str| {
        predefined(n)
            || n.starts_with(|c: char| c.is_ascii_digit())
            || id_names.contains(&n)
            || (any_trusted(job) && assigned_in_script(job, n))
    };
    for v in &job.variables {
        if !is_credential_name(&v.key) {
            continue;
        }
        let refs = var_refs(&v.value);
        if refs.is_empty() && !v.value.trim().is_empty() {
            out.push(Credential {
                secret: "(a literal value in the file)".into(),
                line: v.line,
                via: format!("variables {}", v.key),
            });
        }
        for (_, n) in refs {
            if !skip(&n) {
                out.push(Credential {
                    secret: n,
                    line: v.line,
                    via: format!("variables {}", v.key),
                });
            }
        }
    }
    for l in &job.script {
        for (off, n) in var_refs(&l.text) {
            if skip(&n) {
                continue;
            }
            let before = l.text[..off].trim_end_matches(['"', '\'', ' ']);
            let flagged = SECRET_FLAGS.iter().any(|f| before.ends_with(f));
            if flagged || is_credential_name(&n) {
                out.push(Credential {
                    secret: n,
                    line: crate::rules::line_in(&l.text, l.line, off),
                    via: "script".into(),
                });
            }
        }
    }
    out.dedup_by(|a, b| a.secret == b.secret);
    out
}

/// The trigger link for a scenario a job runs in (with its parent trigger job for a child
/// pipeline), or `None` when the job cannot run in it.
pub fn reach(p: &Pipeline, repo: &Repo, job: &GlJob, s: Scenario) -> Option<Vec<Link>> {
    if !reach::workflow_runs(p.workflow_rules.as_deref(), s) {
        return None;
    }
    let mut links = Vec::new();
    if let Some(parent) = &p.parent {
        let pp = repo.gitlab.iter().find(|x| x.path == parent.file)?;
        let pj = pp.job(&parent.job)?;
        links = reach(pp, repo, pj, s)?;
        links.push(job_link(pj));
        // A child job without rules runs whenever its pipeline does.
        if matches!(job.filter, crate::gitlab::Filter::Default) {
            return Some(links);
        }
    }
    let line = reach::runs(&job.filter, job.line, s)?;
    let file = match &job.filter {
        crate::gitlab::Filter::Rules(r) => r
            .iter()
            .find(|x| x.line == line)
            .map_or(job.file.clone(), |x| x.file.clone()),
        _ => job.file.clone(),
    };
    if links.is_empty() {
        links.push(Link {
            kind: LinkKind::Trigger,
            label: s.label().into(),
            file,
            line,
        });
    }
    Some(links)
}

pub fn job_link(job: &GlJob) -> Link {
    Link {
        kind: LinkKind::Job,
        label: job.id.clone(),
        file: job.file.clone(),
        line: job.line,
    }
}

impl Site<'_> {
    /// The publishing command as a chain link.
    pub fn link(&self) -> Link {
        Link {
            kind: LinkKind::Step,
            label: format!("{}: {}", self.line.section, self.snippet),
            file: self.line.file.clone(),
            line: self.at,
        }
    }
}

/// The chain `trigger → job → line`; the trigger is the pipeline itself when not given.
pub fn chain(
    p: &Pipeline,
    trigger: Option<Vec<Link>>,
    job: &GlJob,
    step: Option<Link>,
) -> Vec<Link> {
    let mut c = trigger.unwrap_or_else(|| {
        vec![Link {
            kind: LinkKind::Trigger,
            label: "gitlab-ci pipeline".into(),
            file: p.path.clone(),
            line: 1,
        }]
    });
    c.push(job_link(job));
    c.extend(step);
    c
}

/// The untrusted scenario a job runs in, merge request first.
pub fn untrusted_reach(p: &Pipeline, repo: &Repo, job: &GlJob) -> Option<(Scenario, Vec<Link>)> {
    [Scenario::MergeRequest, Scenario::AnyBranch]
        .into_iter()
        .find_map(|s| reach(p, repo, job, s).map(|l| (s, l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_references() {
        let r: Vec<String> = var_refs("a $NPM_TOKEN ${PYPI} ${!VARNAME_X} $1 $")
            .into_iter()
            .map(|x| x.1)
            .collect();
        assert_eq!(r, ["NPM_TOKEN", "PYPI", "VARNAME_X", "1"]);
    }
}
