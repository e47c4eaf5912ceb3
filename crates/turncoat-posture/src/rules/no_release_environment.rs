//! `no-release-environment`: a publish job outside a (protectable) deployment environment.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, is_publish_job};
use crate::{PostureFinding, Repo, job_link, trigger_link};

pub const RULE: RuleDoc = RuleDoc {
    code: "no-release-environment",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a publish job has no environment: (no reviewers, no branch rule, secrets repo-wide)",
    doc: "\
A job that publishes runs without `environment:`. A deployment environment is where GitHub \
enforces required reviewers, a wait timer and which branches or tags may deploy, and where \
registry secrets (or the trusted publisher's environment claim) can be scoped so that no other \
job sees them. Without one, anyone who can push a tag or start the workflow publishes, and the \
secret is readable by every workflow in the repository.

Whether the environment named is actually protected is a repository setting this offline \
check cannot see.

Fix: `environment: release` on the publish job, with required reviewers and a tag rule; bind \
the npm/PyPI trusted publisher to that environment.",
};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            if job.environment.is_some() || !is_publish_job(repo, job) {
                continue;
            }
            out.push(PostureFinding::new(
                &RULE,
                format!("publish job `{}` runs without environment:", job.id),
                &wf.path,
                job.line,
                &job.id,
                vec![trigger_link(wf, None), job_link(wf, job)],
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::repo;

    #[test]
    fn publish_job_without_environment_fires_once() {
        let r = repo(&[(
            "r.yml",
            "on: push\njobs:\n  build:\n    steps:\n      - run: npm pack\n  pub:\n    steps:\n      - run: npm publish\n      - run: npm publish -w b\n  pub2:\n    environment:\n      name: npm\n    steps:\n      - run: cargo publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 6);
    }
}
