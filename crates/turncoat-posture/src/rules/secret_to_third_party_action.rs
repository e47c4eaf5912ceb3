//! `secret-to-third-party-action`: under an untrusted trigger, a non-registry secret (a
//! personal access token, a bot or app token) is handed to an action from another owner.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::GROUP;
use super::unpinned_action::is_pinned;
use crate::model::Step;
use crate::{PostureFinding, Repo, chain, expr};

pub const RULE: RuleDoc = RuleDoc {
    code: "secret-to-third-party-action",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "an untrusted-trigger job hands a non-registry secret (a PAT) to a third-party action",
    doc: "\
A job that an outsider can start (`pull_request_target`, `workflow_run`, `issue_comment`, \
`issues`, `discussion`…) passes a repository secret other than `GITHUB_TOKEN` — typically a \
personal access token or a bot's token, which outlives the run and often reaches other \
repositories — to an action maintained outside the repository and outside GitHub \
(`owner/action`, not `actions/*`, `github/*` or `./local`). The action's code runs on the \
attacker's event with that token: a bug in how it treats the event (the Ultralytics injection \
sat inside `ultralytics/actions`, called with a PAT under `pull_request_target`), or a new \
commit on the ref it is used at (critical when the action is not pinned to a commit SHA), \
gives the token away. Registry secrets on such a path are `publish-from-untrusted-trigger`.

This is the publish-path half of zizmor's `secrets-outside-env` / `dangerous-triggers`.

Fix: run the action on `pull_request` (no secrets), or give it `GITHUB_TOKEN` with minimal \
`permissions:`; if a PAT is unavoidable, pin the action to a SHA and keep the job in an \
environment with reviewers.",
};

/// An action from outside the repository and outside GitHub's own organisations (a
/// `docker://` image is anyone's code too).
fn third_party(step: &Step) -> bool {
    let Some(a) = step.action() else { return false };
    !(a.starts_with("./") || a.starts_with("actions/") || a.starts_with("github/"))
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            let Some(t) = wf.untrusted_trigger_of(job) else {
                continue;
            };
            for step in job.steps.iter().filter(|s| third_party(s)) {
                // `with:`, and every `env:` the step sees (workflow, job and step): an action
                // reads the environment it runs in, wherever the secret was put into it.
                let handed = step.with.iter().chain(wf.env_of(job, step)).find_map(|p| {
                    expr::secrets(&p.value)
                        .into_iter()
                        .find(|s| s != "GITHUB_TOKEN" && !expr::is_registry_secret(s))
                        .map(|s| (p, s))
                });
                let Some((pair, secret)) = handed else {
                    continue;
                };
                let uses = step.uses.as_deref().unwrap_or("");
                let pinned = is_pinned(uses);
                let f = PostureFinding::new(
                    &RULE,
                    format!(
                        "on `{}`, job `{}` hands the secret {secret} to the third-party action {uses}{}: its code runs on the attacker's event with that token",
                        t.event,
                        job.id,
                        if pinned {
                            ""
                        } else {
                            " (not pinned to a commit SHA)"
                        }
                    ),
                    &wf.path,
                    pair.line,
                    &format!("{}: {}", pair.key, pair.value),
                    chain(wf, Some(t), job, Some(step)),
                );
                out.push(if pinned {
                    f
                } else {
                    f.with_severity(Severity::Critical)
                });
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
    fn the_ultralytics_format_shape_fires() {
        let r = repo(&[(
            "format.yml",
            "on:\n  pull_request_target:\njobs:\n  format:\n    steps:\n      - uses: ultralytics/actions@main\n        with:\n          token: ${{ secrets._GITHUB_TOKEN }}\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 8);
        assert_eq!(f[0].finding.severity, Severity::Critical);
        assert!(f[0].finding.message.contains("_GITHUB_TOKEN"));
    }

    #[test]
    fn env_and_a_pinned_action_fire_at_high() {
        let r = repo(&[(
            "c.yml",
            "on: issue_comment\njobs:\n  c:\n    steps:\n      - uses: peter-evans/create-or-update-comment@71345be0265236311c031f5c7866368bd1eff043\n        env:\n          BOT: ${{ secrets.BOT_PAT }}\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].finding.severity, Severity::High);
    }

    /// The same PAT put in the job's or the workflow's `env:`, or handed to a `docker://`
    /// image: the action reads it all the same.
    #[test]
    fn job_and_workflow_env_and_docker_images_fire() {
        for (name, yaml) in [
            (
                "job-env.yml",
                "on: pull_request_target\njobs:\n  a:\n    env:\n      BOT: ${{ secrets.BOT_PAT }}\n    steps:\n      - uses: some/action@v1\n",
            ),
            (
                "wf-env.yml",
                "on: pull_request_target\nenv:\n  BOT: ${{ secrets.BOT_PAT }}\njobs:\n  a:\n    steps:\n      - uses: some/action@v1\n",
            ),
            (
                "docker.yml",
                "on: pull_request_target\njobs:\n  a:\n    steps:\n      - uses: docker://evil/image:latest\n        with:\n          token: ${{ secrets.BOT_PAT }}\n",
            ),
        ] {
            let f = check(&repo(&[(name, yaml)]));
            assert_eq!(f.len(), 1, "{name}: {f:?}");
        }
    }

    #[test]
    fn false_cases() {
        let r = repo(&[
            (
                "a.yml",
                "on: pull_request_target\njobs:\n  a:\n    steps:\n      - uses: actions/labeler@v5\n        with:\n          repo-token: ${{ secrets.BOT_PAT }}\n      - uses: some/action@v1\n        with:\n          token: ${{ secrets.GITHUB_TOKEN }}\n  b:\n    if: github.event_name == 'push'\n    steps:\n      - uses: some/action@v1\n        with:\n          token: ${{ secrets.BOT_PAT }}\n",
            ),
            (
                "push.yml",
                "on: push\njobs:\n  a:\n    steps:\n      - uses: some/action@v1\n        with:\n          token: ${{ secrets.BOT_PAT }}\n",
            ),
        ]);
        assert!(check(&r).is_empty(), "{:?}", check(&r));
    }
}
