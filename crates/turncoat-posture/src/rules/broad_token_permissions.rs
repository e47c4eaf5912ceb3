//! `broad-token-permissions`: the workflow's `GITHUB_TOKEN` is not limited.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::GROUP;
use crate::model::Permissions;
use crate::{PostureFinding, Repo, job_link, trigger_link};

pub const RULE: RuleDoc = RuleDoc {
    code: "broad-token-permissions",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "no top-level permissions: (or write-all): the GITHUB_TOKEN may write to the repository",
    doc: "\
Without a `permissions:` block the `GITHUB_TOKEN` gets the repository's default, which for \
many (older) repositories and organisations is read **and write** on contents, packages, pull \
requests and workflows; `write-all` grants every scope. A script injection or a compromised \
action in any job then pushes commits, rewrites tags or starts the release workflow — in the \
nx \"s1ngularity\" compromise the injected `pull_request_target` job used its token to reach \
the publish workflow. The finding is raised when the workflow has no top-level \
`permissions:` and at least one job has none of its own, and wherever `write-all` is written. \
Severity is high when the workflow has a trigger anyone can cause.

Fix: `permissions: {}` or `contents: read` at the top, and the few writes each job needs on \
that job.",
};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        let untrusted = wf.untrusted_trigger();
        let severity = if untrusted.is_some() {
            Severity::High
        } else {
            RULE.severity
        };
        let bare: Vec<&str> = wf
            .jobs
            .iter()
            .filter(|j| j.permissions.is_none() && j.uses.is_none())
            .map(|j| j.id.as_str())
            .collect();
        if wf.permissions.is_none() && !bare.is_empty() {
            out.push(
                PostureFinding::new(
                    &RULE,
                    format!(
                        "no top-level permissions: and job(s) {} set none: their GITHUB_TOKEN gets the repository default, possibly write",
                        bare.join(", ")
                    ),
                    &wf.path,
                    wf.head_line(),
                    "",
                    vec![trigger_link(wf, untrusted)],
                )
                .with_severity(severity),
            );
        }
        if let Some((Permissions::WriteAll, line)) = &wf.permissions {
            out.push(
                PostureFinding::new(
                    &RULE,
                    "permissions: write-all for the whole workflow".to_string(),
                    &wf.path,
                    *line,
                    "permissions: write-all",
                    vec![trigger_link(wf, untrusted)],
                )
                .with_severity(severity),
            );
        }
        for job in &wf.jobs {
            if let Some((Permissions::WriteAll, line)) = &job.permissions {
                out.push(
                    PostureFinding::new(
                        &RULE,
                        format!("permissions: write-all for job `{}`", job.id),
                        &wf.path,
                        *line,
                        "permissions: write-all",
                        vec![trigger_link(wf, untrusted), job_link(wf, job)],
                    )
                    .with_severity(severity),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::repo;

    #[test]
    fn missing_and_write_all_fire() {
        let r = repo(&[
            (
                "a.yml",
                "on: pull_request_target\njobs:\n  t:\n    steps: []\n",
            ),
            (
                "b.yml",
                "on: push\npermissions: write-all\njobs:\n  t:\n    permissions: write-all\n    steps: []\n",
            ),
        ]);
        let f = check(&r);
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!(f[0].finding.severity, Severity::High);
        assert_eq!(f[1].line, 2);
    }

    #[test]
    fn read_only_top_or_every_job_set_does_not_fire() {
        let r = repo(&[
            (
                "a.yml",
                "on: push\npermissions:\n  contents: read\njobs:\n  t:\n    steps: []\n",
            ),
            (
                "b.yml",
                "on: push\njobs:\n  t:\n    permissions: {}\n    steps: []\n",
            ),
        ]);
        assert!(check(&r).is_empty());
    }
}
