//! `untrusted-checkout`: a privileged workflow checks out the pull request's code.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, line_in, line_text};
use crate::{PostureFinding, Repo, chain, expr};

pub const RULE: RuleDoc = RuleDoc {
    code: "untrusted-checkout",
    group: GROUP,
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "pull_request_target / workflow_run / issue_comment checks out the pull request head",
    doc: "\
A workflow that runs with the base repository's secrets and a writable token \
(`pull_request_target`, `workflow_run`, `issue_comment`, …) checks out the pull request's head \
(`actions/checkout` with `ref:` or `repository:` from `github.event.pull_request.head.*`, \
`github.head_ref`, `github.event.workflow_run.head_*`, `refs/pull/…`, or `gh pr checkout` / \
`git fetch … pull/…` in a script). Any build, test, install or lint step after it runs the \
attacker's code with those privileges (\"pwn request\"). The Ultralytics takeover began here.

Fix: use `pull_request` for anything that runs PR code; if a privileged follow-up is needed, \
pass artifacts to a `workflow_run` job that never executes them.",
};

/// Does this expression or text point at the pull request's own code?
fn names_pr_head(text: &str) -> bool {
    if text.contains("refs/pull/") || text.contains("merge_commit_sha") {
        return true;
    }
    expr::expressions(text).iter().any(|(_, e)| {
        expr::paths(e).iter().any(|p| {
            p == "github.head_ref"
                || p.starts_with("github.event.pull_request.head.")
                || p.starts_with("github.event.workflow_run.head_")
                || p.starts_with("github.event.workflow_run.pull_requests")
                || p == "github.event.pull_request.merge_commit_sha"
                || p.starts_with("github.event.issue.pull_request")
        })
    })
}

fn script_checks_out_pr(run: &str) -> Option<usize> {
    for needle in [
        "gh pr checkout",
        "git fetch",
        "git checkout",
        "git pull",
        "git switch",
    ] {
        let mut from = 0;
        while let Some(i) = run[from..].find(needle) {
            let at = from + i;
            let line = line_text(run, at);
            if needle == "gh pr checkout" || names_pr_head(line) || line.contains("pull/") {
                return Some(at);
            }
            from = at + needle.len();
        }
    }
    None
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            let Some(t) = wf.untrusted_trigger_of(job) else {
                continue;
            };
            for step in &job.steps {
                let (line, snippet) = if step.action().as_deref() == Some("actions/checkout") {
                    let Some(p) = step.with.iter().find(|p| {
                        (p.key == "ref" || p.key == "repository") && names_pr_head(&p.value)
                    }) else {
                        continue;
                    };
                    (p.line, format!("{}: {}", p.key, p.value))
                } else if let Some(run) = &step.run
                    && let Some(at) = script_checks_out_pr(run)
                {
                    (
                        line_in(run, step.run_line, at),
                        line_text(run, at).to_string(),
                    )
                } else {
                    continue;
                };
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "`{}` runs with the base repository's secrets and token, and job `{}` checks out the pull request's code",
                        t.event, job.id
                    ),
                    &wf.path,
                    line,
                    &snippet,
                    chain(wf, Some(t), job, Some(step)),
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
    fn checkout_of_head_sha_fires() {
        let r = repo(&[(
            "t.yml",
            "on: pull_request_target\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: npm test\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 7);
    }

    #[test]
    fn index_form_and_gh_pr_checkout_fire() {
        let r = repo(&[(
            "t.yml",
            "on: [issue_comment]\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          repository: ${{ github.event['pull_request']['head']['repo']['full_name'] }}\n      - run: |\n          echo hi\n          gh pr checkout ${{ github.event.issue.number }}\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[1].line, 10);
    }

    #[test]
    fn base_checkout_or_pull_request_trigger_does_not_fire() {
        let r = repo(&[
            (
                "a.yml",
                "on: pull_request_target\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n      - run: git fetch origin main\n",
            ),
            (
                "b.yml",
                "on: pull_request\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n",
            ),
        ]);
        assert!(check(&r).is_empty());
    }
}
