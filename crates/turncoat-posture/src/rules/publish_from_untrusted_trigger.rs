//! `publish-from-untrusted-trigger`: an event anyone can cause reaches a publish step or its
//! secrets.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, credentials, publish_sites};
use crate::{PostureFinding, Repo, chain, expr, job_link, trigger_link};

pub const RULE: RuleDoc = RuleDoc {
    code: "publish-from-untrusted-trigger",
    group: GROUP,
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "pull_request_target, workflow_run, issue_comment (…) reach a publish step or a registry secret",
    doc: "\
A workflow started by an event anyone can cause — `pull_request_target`, `workflow_run`, \
`issue_comment`, `issues`, `discussion`, `discussion_comment` — runs in the base repository \
with its secrets and a writable token, and here it reaches a publish step, a registry secret, \
or a reusable workflow that receives the secrets (`secrets: inherit` or a registry secret). \
One injected expression or one checked-out pull request then publishes.

Job `if:` conditions are not evaluated: a guarded job is still reported, because conditions on \
event fields are routinely bypassed (a label an outsider can set, a comment text).

Fix: publish only from `push` of a tag, `release` or `workflow_dispatch`, in a separate \
workflow; keep untrusted-trigger workflows free of registry secrets.",
};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for site in publish_sites(repo) {
        let Some(t) = site.wf.untrusted_trigger_of(site.job) else {
            continue;
        };
        out.push(PostureFinding::new(
            &RULE,
            format!(
                "`{}` (anyone can cause it) starts job `{}`, which publishes with {}",
                t.event, site.job.id, site.publishes[0].tool
            ),
            &site.wf.path,
            site.step.line,
            &site.publishes[0].command,
            chain(site.wf, Some(t), site.job, Some(site.step)),
        ));
    }
    for wf in &repo.workflows {
        for job in &wf.jobs {
            let Some(t) = wf.untrusted_trigger_of(job) else {
                continue;
            };
            if super::is_publish_job(repo, job) {
                continue;
            }
            // Registry secrets in a job that does not publish (yet) still reach the attacker.
            if let Some(last) = job.steps.last()
                && let Some(c) = credentials(wf, job, last).first()
            {
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "`{}` (anyone can cause it) starts job `{}`, which holds the registry secret {}",
                        t.event, job.id, c.secret
                    ),
                    &wf.path,
                    c.line,
                    &format!("{}: ${{{{ secrets.{} }}}}", c.via, c.secret),
                    chain(wf, Some(t), job, None),
                ));
            }
            if let Some((uses, line)) = &job.uses {
                let passed: Vec<String> = job
                    .secrets
                    .iter()
                    .flat_map(|p| expr::secrets(&p.value))
                    .filter(|s| expr::is_registry_secret(s))
                    .collect();
                if job.secrets_inherit || !passed.is_empty() {
                    let what = if job.secrets_inherit {
                        "every secret (secrets: inherit)".to_string()
                    } else {
                        passed.join(", ")
                    };
                    out.push(PostureFinding::new(
                        &RULE,
                        format!(
                            "`{}` (anyone can cause it) calls {uses} from job `{}` with {what}",
                            t.event, job.id
                        ),
                        &wf.path,
                        *line,
                        uses,
                        vec![trigger_link(wf, Some(t)), job_link(wf, job)],
                    ));
                }
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
    fn pull_request_target_reaching_publish_fires() {
        let r = repo(&[(
            "p.yml",
            "on:\n  pull_request_target:\n  push:\njobs:\n  pub:\n    if: github.event.pull_request.merged\n    steps:\n      - run: pnpm publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].chain[0].label, "pull_request_target");
        assert_eq!(f[0].chain[0].line, 2);
    }

    #[test]
    fn secrets_reaching_an_untrusted_job_fire() {
        let r = repo(&[(
            "c.yml",
            "on: issue_comment\njobs:\n  bot:\n    steps:\n      - run: ./bot.sh\n        env:\n          TOKEN: ${{ secrets.NPM_TOKEN }}\n  call:\n    uses: ./.github/workflows/release.yml\n    secrets: inherit\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn an_event_name_guard_counts_only_when_it_cannot_be_talked_around() {
        let wf = |cond: &str| {
            format!(
                "on: [push, issue_comment]\njobs:\n  pub:\n    if: |-\n      {cond}\n    steps:\n      - run: npm publish\n"
            )
        };
        for guarded in [
            "github.event_name == 'push'",
            "${{ github.repository == 'a/b' && github.event_name == \"push\" }}",
            "github.event_name != 'issue_comment'",
        ] {
            assert!(
                check(&repo(&[("p.yml", &wf(guarded))])).is_empty(),
                "{guarded}"
            );
        }
        for open in [
            "github.event_name == 'push' || contains(github.event.comment.body, '/publish')",
            "!(github.event_name != 'push')",
            "github.event_name == 'issue_comment'",
            "github.actor == 'maintainer'",
        ] {
            assert_eq!(check(&repo(&[("p.yml", &wf(open))])).len(), 1, "{open}");
        }
    }

    #[test]
    fn push_and_pull_request_do_not_fire() {
        let r = repo(&[(
            "p.yml",
            "on: [push, pull_request]\njobs:\n  pub:\n    steps:\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
        )]);
        assert!(check(&r).is_empty());
    }
}
