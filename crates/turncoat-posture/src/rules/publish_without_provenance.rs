//! `publish-without-provenance`: an npm publish with neither provenance nor trusted publishing.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, has_id_token, publish_sites};
use crate::publish::Ecosystem;
use crate::{PostureFinding, Repo, chain};

pub const RULE: RuleDoc = RuleDoc {
    code: "publish-without-provenance",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "an npm publish step has no provenance and no trusted publishing",
    doc: "\
An npm publish step (npm/pnpm/yarn/bun publish, `changeset publish`, semantic-release, \
`JS-DevTools/npm-publish`) runs without `--provenance`, without `NPM_CONFIG_PROVENANCE=true` \
and without `provenance: true`, in a job that cannot mint an OIDC token (`id-token: write`). \
Its releases carry no Sigstore provenance, so nobody downstream — turncoat's own \
`provenance-lost` check included — can tell a release built by this workflow from one \
published with a stolen token on a laptop.

Not seen: `publishConfig.provenance` in package.json and `.npmrc` settings (the repository's \
files are not read); such projects can silence this code in `turncoat.toml`.

Fix: publish with trusted publishing (provenance is then automatic) or add `--provenance` and \
`permissions: id-token: write` to the publish job.",
};

fn has_provenance(command: &str) -> bool {
    command.contains("--provenance")
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for site in publish_sites(repo) {
        let npm: Vec<_> = site
            .publishes
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Npm)
            .collect();
        if npm.is_empty() || has_id_token(site.wf, site.job) {
            continue;
        }
        let env_says = site.wf.env_of(site.job, site.step).any(|p| {
            p.key.eq_ignore_ascii_case("NPM_CONFIG_PROVENANCE") && p.value.trim() == "true"
        });
        let input_says = site.step.with_value("provenance") == Some("true");
        if env_says || input_says || npm.iter().all(|p| has_provenance(&p.command)) {
            continue;
        }
        out.push(PostureFinding::new(
            &RULE,
            format!(
                "{} in job `{}` publishes without provenance and without id-token: write: its releases cannot be told from a stolen-token publish",
                npm[0].tool, site.job.id
            ),
            &site.wf.path,
            site.step.line,
            &npm[0].command,
            chain(site.wf, None, site.job, Some(site.step)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::repo;

    #[test]
    fn plain_npm_publish_fires() {
        let r = repo(&[(
            "r.yml",
            "on: push\njobs:\n  r:\n    steps:\n      - run: npm ci\n      - run: npm publish\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 6);
    }

    #[test]
    fn npm_config_provenance_in_env_does_not_fire() {
        let r = repo(&[(
            "r.yml",
            "on: push\njobs:\n  r:\n    env:\n      NPM_CONFIG_PROVENANCE: true\n    steps:\n      - run: npx changeset publish\n",
        )]);
        assert!(check(&r).is_empty());
    }

    #[test]
    fn oidc_or_pypi_does_not_fire() {
        let r = repo(&[(
            "r.yml",
            "on: push\njobs:\n  r:\n    permissions:\n      id-token: write\n    steps:\n      - run: npm publish\n  p:\n    steps:\n      - run: twine upload dist/*\n",
        )]);
        assert!(check(&r).is_empty());
    }
}
