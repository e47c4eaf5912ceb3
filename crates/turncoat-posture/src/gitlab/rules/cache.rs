//! `cache-shared-with-release` and `release-cache` in GitLab CI.
//!
//! A publish job restores a `cache:` (its own, a template's or `default:`'s). GitLab keeps
//! caches of protected and unprotected refs apart by default (since 15.0), so the cache is
//! *shared with an attacker* when the publish job itself runs on unprotected refs (any
//! branch, merge requests) and another job with the same key runs there too: that job's
//! branch writes what the release restores (`cache-shared-with-release`). Otherwise any
//! job on the protected ref — a test, a dependency's install script — can still write it
//! (`release-cache`). Keys scoped by ref (`$CI_COMMIT_REF_SLUG`) are not shared across refs.

use crate::gitlab::reach::Scenario;
use crate::gitlab::rules::{chain, job_link, publish_jobs, reach, untrusted_reach};
use crate::gitlab::{CacheUse, GlJob, Pipeline};
use crate::rules::{cache_shared_with_release, release_cache};
use crate::{Link, LinkKind, PostureFinding, Repo};

fn ref_scoped(key: &str) -> bool {
    [
        "CI_COMMIT_REF_SLUG",
        "CI_COMMIT_REF_NAME",
        "CI_COMMIT_BRANCH",
        "CI_COMMIT_TAG",
        "CI_COMMIT_SHA",
        "CI_PIPELINE_ID",
        "CI_JOB_ID",
    ]
    .iter()
    .any(|v| key.contains(v))
}

/// A job elsewhere in the pipelines that uses the same cache key and runs on untrusted refs.
fn writer<'a>(repo: &'a Repo, cache: &CacheUse) -> Option<(&'a GlJob, Vec<Link>)> {
    for p in &repo.gitlab {
        for j in &p.jobs {
            if j.caches.iter().all(|c| c.key != cache.key) {
                continue;
            }
            if let Some((_, t)) = untrusted_reach(p, repo, j) {
                return Some((j, t));
            }
        }
    }
    None
}

/// The publish job and, transitively, the jobs it `needs:` (their artifacts become the
/// release). Jobs of earlier stages without `needs:` are not followed.
fn release_path<'a>(p: &'a Pipeline, publish: &'a GlJob) -> Vec<&'a GlJob> {
    let mut out: Vec<&GlJob> = Vec::new();
    let mut todo = vec![publish];
    while let Some(j) = todo.pop() {
        if out.iter().any(|o| o.id == j.id) {
            continue;
        }
        out.push(j);
        todo.extend(j.needs.iter().filter_map(|n| p.job(n)));
    }
    out
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for (p, publish) in publish_jobs(repo) {
        let untrusted_publish = reach(p, repo, publish, Scenario::AnyBranch)
            .or_else(|| reach(p, repo, publish, Scenario::MergeRequest))
            .is_some();
        for job in release_path(p, publish) {
            let via = if job.id == publish.id {
                String::new()
            } else {
                format!(" (in job `{}`, whose artifacts it `needs:`)", job.id)
            };
            for cache in &job.caches {
                let step = Link {
                    kind: LinkKind::Step,
                    label: format!("cache: key {}", cache.key),
                    file: cache.file.clone(),
                    line: cache.line,
                };
                let shared = if untrusted_publish && !ref_scoped(&cache.key) {
                    writer(repo, cache)
                } else {
                    None
                };
                let (rule, message, mut c) = if let Some((wj, trigger)) = shared {
                    let mut c = trigger;
                    c.push(job_link(wj));
                    c.push(job_link(publish));
                    (
                        &cache_shared_with_release::RULE,
                        format!(
                            "publish job `{}` restores cache `{}`{via}, which job `{}` also writes on refs anyone who can push controls (both run on unprotected refs, where GitLab's protected/unprotected cache split does not help): a poisoned cache becomes the release",
                            publish.id, cache.key, wj.id
                        ),
                        c,
                    )
                } else {
                    (
                        &release_cache::RULE,
                        format!(
                            "publish job `{}` restores cache `{}`{via}: any job that writes it on the same ref (a test step, a dependency's install script) can change what is released",
                            publish.id, cache.key
                        ),
                        chain(p, None, publish, None),
                    )
                };
                if job.id != publish.id {
                    c.push(job_link(job));
                }
                c.push(step);
                out.push(PostureFinding::new(
                    rule,
                    message,
                    &cache.file,
                    cache.line,
                    &format!("cache: key {}", cache.key),
                    c,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::testutil::repo;

    #[test]
    fn a_default_cache_shared_with_merge_request_jobs_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "default:\n  cache:\n    paths: [node_modules]\ntest:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n  script: [npm ci, npm test]\npublish:\n  script: [npm publish]\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code(), "cache-shared-with-release");
        assert_eq!(f[0].line, 3);
    }

    #[test]
    fn a_cache_in_a_job_the_publish_needs_counts() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "build:\n  only: [tags]\n  cache:\n    key: deps\n    paths: [node_modules]\n  script: [npm ci, npm run build]\npublish:\n  only: [tags]\n  needs: [build]\n  script: [npm publish]\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code(), "release-cache");
        assert!(f[0].finding.message.contains("in job `build`"));
        assert_eq!(f[0].chain.len(), 4);
    }

    #[test]
    fn a_tag_only_publish_with_a_cache_is_a_release_cache() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "default:\n  cache:\n    paths: [node_modules]\ntest:\n  script: [npm test]\npublish:\n  only: [tags]\n  script: [npm publish]\nnocache:\n  only: [tags]\n  cache: []\n  script: [twine upload dist/*]\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code(), "release-cache");
    }
}
