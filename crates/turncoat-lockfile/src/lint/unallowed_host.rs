//! `unallowed-host`: a registry package comes from a host that is not allowed.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::spec::url_host;

pub const RULE: RuleDoc = RuleDoc {
    code: "unallowed-host",
    group: "lockfile",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "a registry package resolves to a host outside the allowed registries",
    doc: "## What\n\
A package recorded as a registry package has a `resolved` URL on a host that is not in \
the allowed registry hosts (by default `registry.npmjs.org` and `registry.yarnpkg.com`).\n\n\
## Why\n\
A lockfile edited in a pull request can point one package at an attacker's server while \
keeping the name and version, which reviewers rarely read. Pinning the set of registry \
hosts turns that into a blocking finding. (The same trick is used to exfiltrate: a \
lockfile that sends installs to a lookalike host.)\n\n\
## Example\n\
```json\n\"node_modules/lodash\": {\"version\": \"4.17.21\", \"resolved\": \"https://registry.npmjs.org.evil.example/lodash/-/lodash-4.17.21.tgz\"}\n```\n\n\
## How to fix\n\
If the host is your own registry mirror (Artifactory, Verdaccio, GitHub Packages), add it \
to the allowed hosts in the turncoat config. Otherwise regenerate the entry from the \
allowed registry.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in lock.registry_packages() {
        let Some(url) = p.resolved.as_deref() else {
            continue;
        };
        if url.starts_with("<npm-registry>") {
            continue;
        }
        let Some(host) = url_host(url) else { continue };
        if input
            .opts
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
        {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} resolves to {host}, which is not an allowed registry",
                    label(p)
                ),
            )
            .with_evidence(evidence(lock, p)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{lock, registry, run};

    #[test]
    fn flags_other_host() {
        let mut p = registry("a", "1.0.0");
        p.resolved = Some("https://registry.npmjs.org.evil.example/a/-/a-1.0.0.tgz".into());
        let f = run(check, &lock(vec![p]));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("registry.npmjs.org.evil.example"));
    }

    #[test]
    fn accepts_allowed_and_magic_hosts() {
        let a = registry("a", "1.0.0");
        let mut b = registry("b", "1.0.0");
        b.resolved = Some("https://Registry.Yarnpkg.com/b/-/b-1.0.0.tgz#abc".into());
        let mut c = registry("c", "1.0.0");
        c.resolved = Some("<npm-registry>/c/-/c-1.0.0.tgz".into());
        let mut d = registry("d", "1.0.0");
        d.resolved = None;
        assert!(run(check, &lock(vec![a, b, c, d])).is_empty());
    }
}
