//! `cache-shared-with-release`: a publish job restores a cache an untrusted trigger can write.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, is_publish_job};
use crate::model::{Step, Workflow};
use crate::{Link, PostureFinding, Repo, chain, job_link, trigger_link};

pub const RULE: RuleDoc = RuleDoc {
    code: "cache-shared-with-release",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "a publish job restores an Actions cache that an untrusted-trigger workflow can write",
    doc: "\
GitHub Actions caches are shared by every workflow run on the default branch. A workflow \
started by an event anyone can cause (`pull_request_target`, `workflow_run`, `issue_comment`, \
…) runs on the default branch, so code it can be tricked into running (an injection, a \
checked-out pull request) can write cache entries — with any key, through the runtime token, \
not only through `actions/cache`. A publish job that restores a cache (`actions/cache`, \
`actions/cache/restore`, `setup-node|python|go|java|dotnet` with `cache:`, `setup-uv` with \
`enable-cache`, `Swatinem/rust-cache`, `setup-ruby` with `bundler-cache`) then builds the \
release from attacker-chosen files. This is how the Ultralytics 8.3.41 release was poisoned \
(December 2024).

Not seen: `actions/setup-node` v5's automatic cache when package.json has `packageManager` \
(the repository's files are not read).

Fix: no caches in release jobs (build from a clean install), and no untrusted-trigger \
workflows in a repository that publishes.",
};

/// Does this step restore a cache? Returns what it is.
fn restores_cache(step: &Step) -> Option<String> {
    let action = step.action()?;
    let on = |k: &str| {
        step.with_value(k)
            .is_some_and(|v| !v.is_empty() && v != "false")
    };
    let found = match action.as_str() {
        "actions/cache" | "actions/cache/restore" => true,
        "actions/setup-node"
        | "actions/setup-python"
        | "actions/setup-go"
        | "actions/setup-java"
        | "actions/setup-dotnet" => {
            on("cache")
                || (action == "actions/setup-go" && step.with_value("cache") != Some("false"))
        }
        "astral-sh/setup-uv" => on("enable-cache"),
        "ruby/setup-ruby" => on("bundler-cache"),
        "swatinem/rust-cache" | "mozilla-actions/sccache-action" => true,
        _ => false,
    };
    found.then_some(action)
}

/// The first untrusted-trigger workflow of the repository, with its first job.
fn writer(repo: &Repo) -> Option<(&Workflow, Vec<Link>)> {
    repo.workflows.iter().find_map(|wf| {
        let t = wf.untrusted_trigger()?;
        let mut links = vec![trigger_link(wf, Some(t))];
        links.extend(wf.jobs.first().map(|j| job_link(wf, j)));
        Some((wf, links))
    })
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let Some((writer_wf, writer_links)) = writer(repo) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            if !is_publish_job(job) {
                continue;
            }
            for step in &job.steps {
                let Some(what) = restores_cache(step) else {
                    continue;
                };
                let mut links = writer_links.clone();
                links.extend(chain(wf, None, job, Some(step)));
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "publish job `{}` restores a cache ({what}) that `{}` in {} can write",
                        job.id, writer_links[0].label, writer_wf.path
                    ),
                    &wf.path,
                    step.line,
                    step.uses.as_deref().unwrap_or_default(),
                    links,
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

    const PUBLISH: &str = "on: release\njobs:\n  pub:\n    steps:\n      - uses: actions/setup-python@v5\n        with:\n          cache: pip\n      - uses: actions/cache@v4\n        with:\n          path: ~/.cache\n          key: k\n      - run: uv publish\n";

    #[test]
    fn cache_in_publish_job_with_an_untrusted_workflow_fires() {
        let r = repo(&[
            (
                "pr.yml",
                "on: pull_request_target\njobs:\n  fmt:\n    steps:\n      - run: echo\n",
            ),
            ("publish.yml", PUBLISH),
        ]);
        let f = check(&r);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].chain[0].file, ".github/workflows/pr.yml");
        assert_eq!(f[0].file, ".github/workflows/publish.yml");
        assert_eq!(f[0].line, 5);
    }

    #[test]
    fn no_untrusted_workflow_or_no_cache_does_not_fire() {
        let r = repo(&[
            (
                "pr.yml",
                "on: pull_request\njobs:\n  fmt:\n    steps:\n      - run: echo\n",
            ),
            ("publish.yml", PUBLISH),
        ]);
        assert!(check(&r).is_empty());
        let r = repo(&[
            (
                "pr.yml",
                "on: pull_request_target\njobs:\n  fmt:\n    steps:\n      - run: echo\n",
            ),
            (
                "publish.yml",
                "on: release\njobs:\n  pub:\n    steps:\n      - uses: actions/setup-node@v4\n        with:\n          cache: ''\n      - run: npm publish\n",
            ),
        ]);
        assert!(check(&r).is_empty());
    }
}
