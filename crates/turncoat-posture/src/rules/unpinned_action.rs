//! `unpinned-action`: an action or reusable workflow referenced by a movable tag or branch.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, is_publish_job};
use crate::{PostureFinding, Repo, chain, job_link, trigger_link};

pub const RULE: RuleDoc = RuleDoc {
    code: "unpinned-action",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "uses: refers to a tag or branch, not a full commit SHA",
    doc: "\
`uses: owner/repo@v4` follows whatever the action's owner (or whoever takes over their \
account) points `v4` at next; the code then runs with the job's token and secrets. The \
tj-actions/changed-files compromise (2025) rewrote every tag of a popular action to a \
secret-dumping commit. Only a full 40-hex commit SHA is immutable. Local actions (`./…`) and \
Docker images pinned by `@sha256:` digest are fine.

Fix: pin to the SHA and keep the tag as a comment (`uses: actions/checkout@<sha> # v4.2.2`); \
Dependabot and Renovate update such pins.",
};

/// Is this `uses:` value pinned to something immutable?
pub fn is_pinned(uses: &str) -> bool {
    let uses = uses.trim();
    if uses.starts_with("./") || uses.starts_with(".\\") {
        return true;
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return image.contains("@sha256:");
    }
    match uses.rsplit_once('@') {
        Some((_, r)) => r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            let publish = if is_publish_job(repo, job) {
                " in a publish job"
            } else {
                ""
            };
            if let Some((uses, line)) = &job.uses
                && !is_pinned(uses)
            {
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "job `{}` calls the reusable workflow {uses} by a movable ref",
                        job.id
                    ),
                    &wf.path,
                    *line,
                    uses,
                    vec![trigger_link(wf, None), job_link(wf, job)],
                ));
            }
            for step in &job.steps {
                let Some(uses) = &step.uses else { continue };
                if is_pinned(uses) {
                    continue;
                }
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "{uses} is not pinned to a commit SHA{publish} (job `{}`)",
                        job.id
                    ),
                    &wf.path,
                    step.line,
                    uses,
                    chain(wf, None, job, Some(step)),
                ));
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
    fn pins() {
        assert!(is_pinned(
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
        ));
        assert!(is_pinned("./.github/actions/setup"));
        assert!(is_pinned("docker://alpine@sha256:abc"));
        assert!(!is_pinned("actions/checkout@v4"));
        assert!(!is_pinned("actions/checkout@main"));
        assert!(!is_pinned("docker://alpine:3"));
        assert!(!is_pinned("actions/checkout"));
        // 40 characters that are not hex: a branch named like a SHA
        assert!(!is_pinned("a/b@zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
        // a short SHA is a prefix an attacker can collide with a tag or branch
        assert!(!is_pinned("a/b@11bd719"));
    }

    #[test]
    fn tag_fires_and_sha_does_not() {
        let r = repo(&[(
            "t.yml",
            "on: push\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020\n  call:\n    uses: org/repo/.github/workflows/x.yml@main\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].line, 5);
        assert_eq!(f[1].line, 8);
    }
}
