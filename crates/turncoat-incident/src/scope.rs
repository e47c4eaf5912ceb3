//! An incident's scope: the index hits of the affected packages, grouped per repository and
//! ref, with the jobs that installed them (and whether the payload's install script ran
//! there) and the rotation checklist ordered by blast radius.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use turncoat_store::{Hit, Store};

use crate::Error;
use crate::exposure::{self, CredKind, JobExposure, RepoFiles, Scripts};
use crate::spec::{PackageSpec, resolve};

/// Where a scoped package's payload ran: one install job × one locked package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    pub repo: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub workflow: String,
    pub job: String,
    pub line: u32,
    pub package: String,
    /// `ran`, `may-have-run`, `scripts-off`, `no-install-script`.
    pub status: &'static str,
    pub why: String,
}

impl Execution {
    pub fn executed(&self) -> bool {
        matches!(self.status, "ran" | "may-have-run")
    }
}

/// One (repository, ref) in scope.
#[derive(Debug, Clone, Serialize)]
pub struct RepoScope {
    pub repo: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub commit: String,
    pub hits: Vec<Hit>,
    pub jobs: Vec<JobExposure>,
    /// Files that could not be read (a workflow that does not parse is not judged empty).
    pub skipped: Vec<String>,
}

/// A credential to rotate, with everywhere it was exposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationItem {
    pub name: String,
    pub kind: CredKind,
    pub kind_label: &'static str,
    /// Exposed in at least one job where the payload ran (or may have).
    pub executed: bool,
    /// `repo@ref workflow:job (file:line)`.
    pub used_in: Vec<String>,
    pub notes: Vec<String>,
}

impl RotationItem {
    /// The checklist line recorded in the store.
    pub fn checklist_key(&self) -> String {
        format!("rotate {} ({})", self.name, self.kind_label)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub packages: Vec<String>,
    pub repos: Vec<RepoScope>,
    pub executions: Vec<Execution>,
    pub rotation: Vec<RotationItem>,
}

impl Scope {
    pub fn hit_count(&self) -> usize {
        self.repos.iter().map(|r| r.hits.len()).sum()
    }
}

/// Every index hit of the specs.
pub fn hits(store: &mut Store, specs: &[PackageSpec]) -> Result<Vec<Hit>, Error> {
    let mut out = Vec::new();
    for s in specs {
        let q = resolve(store, s)?;
        out.extend(store.who_has(&q)?);
    }
    out.sort_by(|a, b| {
        (&a.repo, &a.ref_name, &a.lockfile, a.line).cmp(&(
            &b.repo,
            &b.ref_name,
            &b.lockfile,
            b.line,
        ))
    });
    out.dedup();
    Ok(out)
}

/// Load each scoped (repo, ref)'s files: from git at the indexed commit, or the folder.
pub fn load_files(repo: &str, ref_name: &str, commit: &str) -> RepoFiles {
    if ref_name == crate::index::WORKTREE_REF {
        return exposure::load_from_dir(Path::new(repo));
    }
    match exposure::load_at_commit(Path::new(repo), commit) {
        Ok(f) => f,
        Err(e) => RepoFiles {
            skipped: vec![format!("cannot read the repository at {commit}: {e}")],
            ..RepoFiles::default()
        },
    }
}

/// Build the scope; `files` loads a repository's files (IO is the caller's).
pub fn build(
    packages: Vec<String>,
    hits: Vec<Hit>,
    files: &mut dyn FnMut(&str, &str, &str) -> RepoFiles,
) -> Scope {
    let mut grouped: BTreeMap<(String, String), Vec<Hit>> = BTreeMap::new();
    for h in hits {
        grouped
            .entry((h.repo.clone(), h.ref_name.clone()))
            .or_default()
            .push(h);
    }
    let mut repos = Vec::new();
    let mut executions = Vec::new();
    for ((repo, ref_name), hits) in grouped {
        let commit = hits[0].commit.clone();
        let f = files(&repo, &ref_name, &commit);
        let jobs = exposure::judge(&f);
        for job in &jobs {
            for h in &hits {
                let (status, why) = execution_status(job, h.install_script);
                executions.push(Execution {
                    repo: repo.clone(),
                    ref_name: ref_name.clone(),
                    workflow: job.workflow.clone(),
                    job: job.job.clone(),
                    line: job.line,
                    package: format!("{}@{}", h.name, h.version),
                    status,
                    why,
                });
            }
        }
        executions.dedup();
        repos.push(RepoScope {
            repo,
            ref_name,
            commit,
            hits,
            jobs,
            skipped: f.skipped,
        });
    }
    let rotation = rotation(&repos, &executions);
    Scope {
        packages,
        repos,
        executions,
        rotation,
    }
}

fn execution_status(job: &JobExposure, install_script: Option<bool>) -> (&'static str, String) {
    match (job.scripts(), install_script) {
        (Scripts::Off(why), _) => ("scripts-off", why),
        (_, Some(false)) => (
            "no-install-script",
            "the lockfile records no install script for this version".into(),
        ),
        (Scripts::Run, Some(true)) => ("ran", "install script ran at install".into()),
        (Scripts::Run, None) => (
            "may-have-run",
            "scripts on; this lockfile format does not record install scripts".into(),
        ),
        (Scripts::Maybe(why), _) => ("may-have-run", why),
    }
}

/// Credentials of jobs that installed a scoped package, ordered by blast radius: kind
/// (publish tokens first), then exposed where the payload ran, then how many jobs had it.
fn rotation(repos: &[RepoScope], executions: &[Execution]) -> Vec<RotationItem> {
    let mut items: BTreeMap<(CredKind, String), RotationItem> = BTreeMap::new();
    for r in repos {
        for job in &r.jobs {
            let ran = executions.iter().any(|e| {
                e.repo == r.repo
                    && e.ref_name == r.ref_name
                    && e.workflow == job.workflow
                    && e.job == job.job
                    && e.executed()
            });
            for c in &job.credentials {
                let item = items
                    .entry((c.kind, c.name.clone()))
                    .or_insert_with(|| RotationItem {
                        name: c.name.clone(),
                        kind: c.kind,
                        kind_label: c.kind.label(),
                        executed: false,
                        used_in: Vec::new(),
                        notes: Vec::new(),
                    });
                item.executed |= ran;
                let used = format!(
                    "{}@{} {}:{} ({})",
                    r.repo, r.ref_name, job.workflow, job.job, c.location
                );
                if !item.used_in.contains(&used) {
                    item.used_in.push(used);
                }
                if !item.notes.contains(&c.note) {
                    item.notes.push(c.note.clone());
                }
            }
        }
    }
    let mut out: Vec<RotationItem> = items.into_values().collect();
    out.sort_by(|a, b| {
        (
            a.kind,
            !a.executed,
            std::cmp::Reverse(a.used_in.len()),
            &a.name,
        )
            .cmp(&(
                b.kind,
                !b.executed,
                std::cmp::Reverse(b.used_in.len()),
                &b.name,
            ))
    });
    out
}
