//! `publish-long-lived-token`: a publish step holds a registry token secret.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, credentials, has_id_token, publish_sites};
use crate::{PostureFinding, Repo, chain};

pub const RULE: RuleDoc = RuleDoc {
    code: "publish-long-lived-token",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "a publish step uses a registry token secret instead of OIDC trusted publishing",
    doc: "\
A step that publishes to npm, PyPI or crates.io receives a registry token from a repository \
secret (`NPM_TOKEN`, `NODE_AUTH_TOKEN`, `PYPI_API_TOKEN`, `TWINE_PASSWORD`, \
`CARGO_REGISTRY_TOKEN`, a `password:`/`token:` input of a publishing action, or an earlier step \
that writes it into `.npmrc`). Whoever reads that secret — a script injection, a poisoned \
dependency in the same job, a leaked log — can publish from anywhere, for as long as the token \
lives. This is how most account-takeover releases were published.

Credentials are recognised by the secret's name (`NPM`, `PYPI`, `TWINE`, `CARGO`, `REGISTRY`, \
`PUBLISH`…) and, whatever the name, by the variable or input they are handed to \
(`NODE_AUTH_TOKEN: ${{ secrets.X }}`).

Fix: configure a trusted publisher on the registry (npm: package settings → Trusted \
Publisher; PyPI: Publishing), give the publish job `permissions: id-token: write`, delete the \
secret, and set the package to require 2FA and disallow tokens.",
};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for site in publish_sites(repo) {
        let creds = credentials(site.wf, site.job, site.step);
        let Some(first) = creds.first() else {
            continue;
        };
        let names: Vec<&str> = {
            let mut n: Vec<&str> = creds.iter().map(|c| c.secret.as_str()).collect();
            n.sort();
            n.dedup();
            n
        };
        let oidc = if has_id_token(site.wf, site.job) {
            " (id-token: write is granted too, but the token still works on its own)"
        } else {
            ""
        };
        let tools: Vec<&str> = site.publishes.iter().map(|p| p.tool.as_str()).collect();
        out.push(PostureFinding::new(
            &RULE,
            format!(
                "{} in job `{}` publishes with the long-lived secret {} ({}){oidc}: anyone who reads it can publish; use trusted publishing",
                tools.join(", "),
                site.job.id,
                names.join(", "),
                first.via,
            ),
            &site.wf.path,
            first.line,
            &format!("{}: ${{{{ secrets.{} }}}}", first.via, first.secret),
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
    fn npm_token_in_env_fires() {
        let r = repo(&[(
            "release.yml",
            "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/setup-node@v4\n        with:\n          registry-url: https://registry.npmjs.org\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 11);
        assert!(f[0].finding.message.contains("NPM_TOKEN"));
        assert_eq!(f[0].chain.len(), 3);
    }

    #[test]
    fn a_renamed_secret_handed_to_a_credential_variable_fires() {
        let r = repo(&[(
            "release.yml",
            "on: push\njobs:\n  r:\n    env:\n      TWINE_PASSWORD: ${{ secrets.SOMETHING_ELSE }}\n    steps:\n      - run: twine upload dist/*\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert!(f[0].finding.message.contains("SOMETHING_ELSE"));
    }

    #[test]
    fn a_token_written_to_npmrc_by_an_earlier_step_fires() {
        let r = repo(&[(
            "release.yml",
            "on: push\njobs:\n  r:\n    steps:\n      - run: echo \"//registry.npmjs.org/:_authToken=${{ secrets.NPM_TOKEN }}\" > ~/.npmrc\n      - run: npm publish --provenance\n",
        )]);
        assert_eq!(check(&r).len(), 1);
    }

    #[test]
    fn trusted_publishing_does_not_fire() {
        let r = repo(&[(
            "release.yml",
            "on: push\npermissions:\n  id-token: write\njobs:\n  pypi:\n    steps:\n      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc\n  npm:\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n        with:\n          token: ${{ secrets.GITHUB_TOKEN }}\n      - run: npm publish --provenance\n",
        )]);
        assert!(check(&r).is_empty());
    }
}
