//! `release-cache`: a job on the release path restores a cache (no untrusted trigger seen).

use turncoat_finding::{Level, RuleDoc, Severity};

use super::cache_shared_with_release::{caches_of, writer};
use super::{GROUP, release_path};
use crate::{PostureFinding, Repo, chain};

pub const RULE: RuleDoc = RuleDoc {
    code: "release-cache",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a publish job, or a job it needs, restores an Actions cache",
    doc: "\
A publish job, or a job whose artifacts or outputs it `needs:`, restores a GitHub Actions \
cache (`actions/cache`, `setup-*` with `cache:`, `Swatinem/rust-cache`, …). Caches of the \
default branch are readable by tag and release runs, and any code that runs on the default \
branch can write them through the runtime token — a test step, a dependency's install \
script, a compromised action. The release is then built from files the release workflow \
did not produce. (When a workflow with a trigger anyone can cause exists in the repository, \
`cache-shared-with-release` is raised instead, at `deny`.) zizmor's `cache-poisoning` audit \
makes the same judgement.

Fix: build releases from a clean install: no cache in the publish job or the jobs it needs.",
};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    if writer(repo).is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for (job, publish) in release_path(repo, wf) {
            for step in &job.steps {
                let Some(what) = caches_of(repo, step) else {
                    continue;
                };
                let role = if job.id == publish.id {
                    format!("publish job `{}`", job.id)
                } else {
                    format!("job `{}` (it feeds publish job `{}`)", job.id, publish.id)
                };
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "{role} restores a cache ({what}) that any default-branch run can write"
                    ),
                    &wf.path,
                    step.line,
                    step.uses.as_deref().unwrap_or_default(),
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
    fn cache_on_the_release_path_fires() {
        let r = repo(&[(
            "r.yml",
            "on: push\njobs:\n  build:\n    steps:\n      - uses: actions/setup-python@v5\n        with:\n          cache: pip\n  pub:\n    needs: [build]\n    steps:\n      - uses: actions/setup-node@v4\n        with:\n          cache: pnpm\n      - run: npm publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn a_cache_or_a_publish_inside_a_local_composite_action_counts() {
        let mut r = repo(&[(
            "r.yml",
            "on: push\njobs:\n  pub:\n    steps:\n      - uses: ./.github/actions/setup\n      - uses: ./.github/actions/release/\n",
        )]);
        let action = |path: &str, uses: &str, src: &str| {
            crate::load::parse_action(path, uses, src.as_bytes(), &crate::yaml::Limits::default())
                .unwrap()
                .unwrap()
        };
        r.actions.push(action(
            ".github/actions/setup/action.yml",
            "./.github/actions/setup",
            "runs:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n      with:\n        cache: pnpm\n",
        ));
        // Without the publishing action the job does not publish: nothing to judge.
        assert!(check(&r).is_empty());
        r.actions.push(action(
            ".github/actions/release/action.yml",
            "./.github/actions/release",
            "runs:\n  using: composite\n  steps:\n    - run: pnpm publish -r\n      shell: bash\n",
        ));
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].finding
                .message
                .contains("inside ./.github/actions/setup")
        );
    }

    #[test]
    fn caches_off_the_release_path_or_an_untrusted_writer_do_not_fire_here() {
        let r = repo(&[(
            "ci.yml",
            "on: push\njobs:\n  test:\n    steps:\n      - uses: actions/cache@v4\n  pub:\n    steps:\n      - run: npm publish\n",
        )]);
        assert!(check(&r).is_empty());
        let r = repo(&[
            (
                "t.yml",
                "on: pull_request_target\njobs:\n  x:\n    steps: []\n",
            ),
            (
                "r.yml",
                "on: push\njobs:\n  pub:\n    steps:\n      - uses: actions/cache@v4\n      - run: npm publish\n",
            ),
        ]);
        assert!(check(&r).is_empty());
    }
}
