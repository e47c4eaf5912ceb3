//! `publish-from-untrusted-trigger` in GitLab CI: a job that publishes, or holds a registry
//! credential, runs in merge request pipelines (`$CI_PIPELINE_SOURCE ==
//! "merge_request_event"`, `$CI_MERGE_REQUEST_*`, `only: [merge_requests]`). A merge
//! request's code then runs beside the credential: any developer's branch always, a fork's
//! merge request once a maintainer runs its pipeline in the parent project.

use turncoat_finding::Severity;

use crate::gitlab::reach::Scenario;
use crate::gitlab::rules::{chain, credentials, reach, sites};
use crate::rules::publish_from_untrusted_trigger::RULE;
use crate::{PostureFinding, Repo};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out: Vec<PostureFinding> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    let publish_lines = sites(repo);
    for p in &repo.gitlab {
        for job in &p.jobs {
            let site = publish_lines
                .iter()
                .find(|s| s.p.path == p.path && s.job.id == job.id);
            let creds = credentials(job);
            if site.is_none() && creds.is_empty() {
                continue;
            }
            let Some(trigger) = reach(p, repo, job, Scenario::MergeRequest) else {
                continue;
            };
            if seen.contains(&(p.path.clone(), job.id.clone())) {
                continue;
            }
            seen.push((p.path.clone(), job.id.clone()));
            let what = match (site, creds.first()) {
                (Some(s), _) => format!(
                    "publishes ({})",
                    s.publishes
                        .iter()
                        .map(|x| x.tool.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (None, Some(c)) => format!("holds the registry credential {}", c.secret),
                (None, None) => continue,
            };
            let at = trigger
                .first()
                .map_or((job.file.clone(), job.line), |l| (l.file.clone(), l.line));
            out.push(
                PostureFinding::new(
                    &RULE,
                    format!(
                        "job `{}` {what} and runs in merge request pipelines: a merge request's code runs with its credentials (any developer's branch; a fork's once a maintainer runs its pipeline in this project)",
                        job.id
                    ),
                    &at.0,
                    at.1,
                    "merge_request_event",
                    chain(p, Some(trigger), job, site.map(|s| s.link())),
                )
                .with_severity(Severity::High),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::testutil::repo;

    #[test]
    fn a_publish_job_in_merge_request_pipelines_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "publish:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    - if: $CI_COMMIT_TAG\n  script:\n    - npm publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 3);
        assert_eq!(f[0].chain.len(), 3);
    }

    #[test]
    fn a_credential_holding_job_in_merge_requests_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "check:\n  only: [merge_requests]\n  variables:\n    TWINE_PASSWORD: $PYPI_TOKEN\n  script:\n    - twine check dist/*\n",
        )]);
        assert_eq!(check(&r).len(), 1);
    }

    #[test]
    fn merge_requests_excluded_does_not_fire() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "publish:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n      when: never\n    - if: $CI_COMMIT_TAG\n  script:\n    - npm publish\nnomr:\n  script:\n    - npm publish\n",
        )]);
        assert!(check(&r).is_empty());
    }
}
