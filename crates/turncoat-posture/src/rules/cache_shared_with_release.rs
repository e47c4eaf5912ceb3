//! `cache-shared-with-release`: a publish job restores a cache an untrusted trigger can write.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, release_path};
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

`actions/setup-node` v5 and later cache on their own when package.json names a \
`packageManager`; package.json is not read, so `setup-node` at v5+, a commit SHA or a branch \
counts as restoring a cache unless `package-manager-cache: false` is set.

Fix: no caches in release jobs (build from a clean install), and no untrusted-trigger \
workflows in a repository that publishes.",
};

/// Does this step restore a cache? Returns what it is.
pub fn restores_cache(step: &Step) -> Option<String> {
    let action = step.action()?;
    let on = |k: &str| {
        step.with_value(k)
            .is_some_and(|v| !v.is_empty() && v != "false")
    };
    let found = match action.as_str() {
        "actions/cache" | "actions/cache/restore" => true,
        "actions/setup-node" => {
            on("cache")
                || (setup_node_caches_by_default(step)
                    && step.with_value("package-manager-cache") != Some("false"))
        }
        "actions/setup-python"
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

/// The cache a step restores, itself or inside the local composite action it calls.
pub fn caches_of(repo: &Repo, step: &Step) -> Option<String> {
    repo.expand(step).into_iter().find_map(|(s, a)| {
        let what = restores_cache(s)?;
        Some(match a {
            Some(a) => format!("{what} inside {}", a.uses),
            None => what,
        })
    })
}

/// `actions/setup-node` v5 and later restore the package manager's cache by themselves when
/// package.json names a `packageManager` (not read here), unless `package-manager-cache: false`.
/// Only a ref that names v1–v4 is known not to; a commit SHA or a branch may be any version.
fn setup_node_caches_by_default(step: &Step) -> bool {
    let r = step
        .uses
        .as_deref()
        .and_then(|u| u.rsplit_once('@'))
        .map(|(_, r)| r)
        .unwrap_or("");
    let major = r
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    !matches!(major, Some(1..=4))
}

/// The first untrusted-trigger workflow of the repository, with its first job.
pub fn writer(repo: &Repo) -> Option<(&Workflow, Vec<Link>)> {
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
        for (job, publish) in release_path(repo, wf) {
            for step in &job.steps {
                let Some(what) = caches_of(repo, step) else {
                    continue;
                };
                let mut links = writer_links.clone();
                links.extend(chain(wf, None, job, Some(step)));
                let role = if job.id == publish.id {
                    format!("publish job `{}`", job.id)
                } else {
                    format!("job `{}` (it feeds publish job `{}`)", job.id, publish.id)
                };
                out.push(PostureFinding::new(
                    &RULE,
                    format!(
                        "{role} restores a cache ({what}) that `{}` in {} can write",
                        writer_links[0].label, writer_wf.path
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
    fn a_cache_in_a_build_job_the_publish_job_needs_fires() {
        let r = repo(&[
            (
                "pr.yml",
                "on: workflow_run\njobs:\n  x:\n    steps:\n      - run: echo\n",
            ),
            (
                "publish.yml",
                "on: push\njobs:\n  build:\n    steps:\n      - uses: Swatinem/rust-cache@v2\n  unrelated:\n    steps:\n      - uses: actions/cache@v4\n  pub:\n    needs: build\n    steps:\n      - run: cargo publish\n",
            ),
        ]);
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].finding.message.contains("feeds publish job `pub`"));
    }

    #[test]
    fn setup_node_v5_caches_unless_told_not_to() {
        let w = |uses: &str, extra: &str| {
            format!(
                "on: release\njobs:\n  pub:\n    steps:\n      - uses: {uses}\n        with:\n          node-version: 22{extra}\n      - run: npm publish\n"
            )
        };
        let pr = "on: pull_request_target\njobs:\n  x:\n    steps: []\n";
        let n = |uses: &str, extra: &str| {
            check(&repo(&[("pr.yml", pr), ("p.yml", &w(uses, extra))])).len()
        };
        assert_eq!(n("actions/setup-node@v5", ""), 1);
        assert_eq!(
            n(
                "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020",
                ""
            ),
            1
        );
        assert_eq!(n("actions/setup-node@v4", ""), 0);
        assert_eq!(
            n(
                "actions/setup-node@v6",
                "\n          package-manager-cache: false"
            ),
            0
        );
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
