//! `publish-without-provenance` in GitLab CI: an npm publish to the public registry without
//! a provenance statement. On GitLab, npm signs provenance with a `SIGSTORE_ID_TOKEN`
//! (`id_tokens:` with `aud: sigstore`) and `--provenance` / `NPM_CONFIG_PROVENANCE=true`, or
//! under trusted publishing (an `npm:registry.npmjs.org` token beside the sigstore one).

use crate::gitlab::GlJob;
use crate::gitlab::rules::{chain, sites, trusted};
use crate::publish::Ecosystem;
use crate::rules::publish_without_provenance::RULE;
use crate::{PostureFinding, Repo};

fn provenance_asked(job: &GlJob, command: &str) -> bool {
    command.contains("--provenance")
        || job.variables.iter().any(|v| {
            v.key.eq_ignore_ascii_case("NPM_CONFIG_PROVENANCE") && v.value.trim() == "true"
        })
        || job
            .script
            .iter()
            .any(|l| l.text.contains("NPM_CONFIG_PROVENANCE=true"))
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for s in sites(repo) {
        if s.own_registry {
            continue;
        }
        let sigstore = s
            .job
            .id_tokens
            .iter()
            .any(|t| t.aud.eq_ignore_ascii_case("sigstore"));
        for p in s.publishes.iter().filter(|p| p.ecosystem == Ecosystem::Npm) {
            let ok =
                sigstore && (provenance_asked(s.job, &p.command) || trusted(s.job, Ecosystem::Npm));
            if ok {
                continue;
            }
            let why = if sigstore {
                "no `--provenance` / `NPM_CONFIG_PROVENANCE=true`"
            } else {
                "no `id_tokens:` with `aud: sigstore` (SIGSTORE_ID_TOKEN) to sign provenance with"
            };
            out.push(PostureFinding::new(
                &RULE,
                format!(
                    "{} in job `{}` publishes without provenance ({why}): consumers cannot tell this release came from this pipeline",
                    p.tool, s.job.id
                ),
                &s.line.file,
                s.at,
                &s.snippet,
                chain(s.p, None, s.job, Some(s.link())),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::testutil::repo;

    #[test]
    fn npm_publish_without_sigstore_fires() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "publish:\n  script:\n    - npm publish --provenance\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert!(f[0].finding.message.contains("sigstore"));
    }

    #[test]
    fn sigstore_and_provenance_does_not_fire_nor_does_pypi() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "publish:\n  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore\n  script:\n    - npm publish --provenance --access public\npypi:\n  script:\n    - twine upload dist/*\n",
        )]);
        assert!(check(&r).is_empty());
    }
}
