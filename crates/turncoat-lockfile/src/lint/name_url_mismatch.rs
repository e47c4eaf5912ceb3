//! `name-url-mismatch`: a registry tarball URL names a different package or version.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::spec::{is_registry_tarball_url, url_path};

pub const RULE: RuleDoc = RuleDoc {
    code: "name-url-mismatch",
    group: "lockfile",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the registry tarball URL does not match the package's name and version",
    doc: "## What\n\
A registry package's `resolved` URL does not end in `/<name>/-/<basename>-<version>.tgz` \
for the name and version the lockfile records (`<basename>` is the name without its \
`@scope/`).\n\n\
## Why\n\
This is the classic lockfile-injection trick: the entry says `lodash@4.17.21`, reviewers \
see that, but `resolved` points at `…/evil-pkg/-/evil-pkg-1.0.0.tgz`, and that is what gets \
installed (the integrity is simply the evil tarball's). Registry-signature checks keyed on \
the name and version would then vouch for the wrong bytes.\n\n\
## Example\n\
```json\n\"node_modules/lodash\": {\"version\": \"4.17.21\", \"resolved\": \"https://registry.npmjs.org/evil-pkg/-/evil-pkg-1.0.0.tgz\"}\n```\n\n\
## How to fix\n\
Treat it as an attack until shown otherwise: find who changed the line, then delete the \
entry and regenerate it. Registries that serve tarballs under other paths (some private \
registries) can be allowed per host in the policy.",
};

/// Decode the few percent-escapes registries use in package paths (`%2f`, `%40`).
fn decode(s: &str) -> String {
    s.replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%40", "@")
}

/// True when the URL path ends in `/<name>/-/<basename>-<version>.tgz`.
pub fn url_matches(url: &str, name: &str, version: &str) -> bool {
    let Some(path) = url_path(url) else {
        return true;
    };
    let path = decode(path);
    let base = name.rsplit('/').next().unwrap_or(name);
    path.ends_with(&format!("/{name}/-/{base}-{version}.tgz"))
}

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in lock.registry_packages() {
        let Some(url) = p.resolved.as_deref() else {
            continue;
        };
        let url = url.replacen("<npm-registry>", "https://registry.invalid", 1);
        if p.version.is_empty() || !is_registry_tarball_url(&url) {
            continue;
        }
        if !url_matches(&url, &p.name, &p.version) {
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "{} resolves to a tarball of another package or version",
                        label(p)
                    ),
                )
                .with_evidence(evidence(lock, p)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{lock, registry, run};

    #[test]
    fn flags_swapped_tarball() {
        let mut p = registry("lodash", "4.17.21");
        p.resolved = Some("https://registry.npmjs.org/evil-pkg/-/evil-pkg-1.0.0.tgz".into());
        let mut q = registry("@s/a", "1.0.0");
        q.resolved = Some("https://registry.npmjs.org/@s/a/-/a-1.0.1.tgz".into());
        let f = run(check, &lock(vec![p, q]));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].code, "name-url-mismatch");
    }

    #[test]
    fn accepts_matching_urls() {
        let a = registry("@s/a", "1.0.0");
        let mut b = registry("@s/b", "1.0.0");
        b.resolved = Some("https://npm.example/api/npm/@s%2fb/-/b-1.0.0.tgz".into());
        let mut c = registry("c", "1.0.0");
        c.resolved = Some("https://registry.yarnpkg.com/c/-/c-1.0.0.tgz#abcdef".into());
        let mut d = registry("d", "1.0.0");
        d.resolved = Some("<npm-registry>/d/-/d-1.0.0.tgz".into());
        assert!(run(check, &lock(vec![a, b, c, d])).is_empty());
    }
}
