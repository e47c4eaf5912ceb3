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
use crate::gitlab::rules::{chain, job_link, publish_jobs, reach, sites, untrusted_reach};
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
fn writer<'a>(repo: &'a Repo, cache: &CacheUse) -> Option<(&'a Pipeline, &'a GlJob, Vec<Link>)> {
    for p in &repo.gitlab {
        for j in &p.jobs {
            if j.caches.iter().all(|c| c.key != cache.key) {
                continue;
            }
            if let Some((_, t)) = untrusted_reach(p, repo, j) {
                return Some((p, j, t));
            }
        }
    }
    None
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    let all = sites(repo);
    for (p, job) in publish_jobs(repo) {
        let site = all
            .iter()
            .find(|s| s.p.path == p.path && s.job.id == job.id);
        let untrusted_publish = reach(p, repo, job, Scenario::AnyBranch)
            .or_else(|| reach(p, repo, job, Scenario::MergeRequest))
            .is_some();
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
            if let Some((wp, wj, trigger)) = shared {
                let mut c = trigger;
                c.push(job_link(wj));
                c.push(job_link(job));
                c.push(step);
                let _ = wp;
                out.push(PostureFinding::new(
                    &cache_shared_with_release::RULE,
                    format!(
                        "publish job `{}` restores cache `{}`, which job `{}` also writes on refs anyone who can push controls (both run on unprotected refs, where GitLab's protected/unprotected cache split does not help): a poisoned cache becomes the release",
                        job.id, cache.key, wj.id
                    ),
                    &cache.file,
                    cache.line,
                    &format!("cache: key {}", cache.key),
                    c,
                ));
            } else {
                let mut c = chain(p, None, job, None);
                c.push(step);
                let _ = site;
                out.push(PostureFinding::new(
                    &release_cache::RULE,
                    format!(
                        "publish job `{}` restores cache `{}`: any job that writes it on the same ref (a test step, a dependency's install script) can change what is released",
                        job.id, cache.key
                    ),
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
