//! `publish-long-lived-token` in GitLab CI: a public-registry publish authenticated by a
//! CI/CD variable token instead of an `id_tokens:` OIDC token (trusted publishing).

use crate::gitlab::rules::{chain, credentials, sites, trusted};
use crate::rules::publish_long_lived_token::RULE;
use crate::{PostureFinding, Repo};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for s in sites(repo) {
        if s.own_registry {
            continue;
        }
        let tools: Vec<&str> = s.publishes.iter().map(|p| p.tool.as_str()).collect();
        let creds = credentials(s.job);
        let message = if let Some(first) = creds.first() {
            let mut names: Vec<&str> = creds.iter().map(|c| c.secret.as_str()).collect();
            names.sort();
            names.dedup();
            format!(
                "{} in job `{}` publishes with the long-lived CI/CD variable {} ({}): anyone who reads it can publish; use an `id_tokens:` OIDC token (trusted publishing)",
                tools.join(", "),
                s.job.id,
                names.join(", "),
                first.via
            )
        } else if s.publishes.iter().all(|p| trusted(s.job, p.ecosystem)) {
            continue;
        } else {
            format!(
                "{} in job `{}` has no `id_tokens:` for its registry, so it can only authenticate with a long-lived token from the project's CI/CD variables (not visible in the file); use trusted publishing",
                tools.join(", "),
                s.job.id
            )
        };
        let line = creds.first().map_or(s.at, |c| c.line);
        out.push(PostureFinding::new(
            &RULE,
            message,
            &s.line.file,
            line,
            &s.snippet,
            chain(s.p, None, s.job, Some(s.link())),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::testutil::repo;

    #[test]
    fn a_token_written_to_npmrc_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "publish:\n  only: [tags]\n  before_script:\n    - echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc\n  script:\n    - npm publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].finding.message.contains("NPM_TOKEN"));
        assert_eq!(f[0].line, 4);
    }

    #[test]
    fn a_renamed_token_after_a_password_flag_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "pypi:\n  script:\n    - api_token=$SOMETHING\n    - twine upload -u __token__ -p \"${api_token}\" dist/*\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].finding.message.contains("api_token"),
            "{}",
            f[0].finding.message
        );
    }

    #[test]
    fn no_visible_token_and_no_id_token_fires() {
        // twine reads TWINE_PASSWORD from a project variable: invisible, but nothing else can
        // authenticate it.
        let r = repo(&[(
            ".gitlab-ci.yml",
            "pypi:\n  rules:\n    - if: $CI_COMMIT_TAG\n  script:\n    - twine upload dist/*\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert!(f[0].finding.message.contains("no `id_tokens:`"));
    }

    #[test]
    fn trusted_publishing_and_the_job_token_do_not_fire() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "pypi:\n  id_tokens:\n    PYPI_ID_TOKEN:\n      aud: pypi\n  script:\n    - PYPI_TOKEN=$(python -m id pypi)\n    - twine upload -u __token__ -p \"$PYPI_TOKEN\" dist/*\n    - uv publish --trusted-publishing always\ngitlab:\n  script:\n    - TWINE_PASSWORD=${CI_JOB_TOKEN} TWINE_USERNAME=gitlab-ci-token twine upload --repository-url ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi dist/*\n",
        )]);
        assert!(check(&r).is_empty(), "{:?}", check(&r));
    }

    #[test]
    fn a_token_beside_an_id_token_still_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "npm:\n  id_tokens:\n    NPM_ID_TOKEN:\n      aud: npm:registry.npmjs.org\n  variables:\n    NODE_AUTH_TOKEN: $NPM_PUBLISH_TOKEN\n  script:\n    - npm publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert!(f[0].finding.message.contains("NPM_PUBLISH_TOKEN"));
    }
}
