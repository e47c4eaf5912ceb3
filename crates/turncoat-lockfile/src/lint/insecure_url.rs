//! `insecure-url`: a package is fetched over plain text.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};

pub const RULE: RuleDoc = RuleDoc {
    code: "insecure-url",
    group: "lockfile",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "a package is fetched over unencrypted http:// or git://",
    doc: "## What\n\
A package's resolved location uses `http://`, `git+http://` or the unauthenticated \
`git://` protocol.\n\n\
## Why\n\
Anyone on the network path (a café Wi-Fi, a CI provider's egress, a compromised proxy) can \
replace the download. An integrity hash protects registry tarballs only if it is present \
and the attacker did not also write the lockfile; git sources have no such hash at all.\n\n\
## Example\n\
```\nresolved \"http://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\"\n```\n\n\
## How to fix\n\
Use `https://` registries and `git+https://` or `git+ssh://` remotes, then regenerate the \
lockfile. Check `.npmrc` / `.yarnrc.yml` for an `http://` registry setting.",
};

/// True when a locator is fetched without transport security.
pub fn is_insecure(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("http://") || u.starts_with("git+http://") || u.starts_with("git://")
}

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        let Some(url) = p.resolved.as_deref() else {
            continue;
        };
        if is_insecure(url) {
            out.push(
                Finding::new(
                    &RULE,
                    format!("{} is fetched over an insecure URL", label(p)),
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
    fn flags_http_and_git_protocol() {
        let mut a = registry("a", "1.0.0");
        a.resolved = Some("http://registry.npmjs.org/a/-/a-1.0.0.tgz".into());
        let mut b = registry("b", "1.0.0");
        b.resolved = Some("git://github.com/o/b.git#abc".into());
        let f = run(check, &lock(vec![a, b]));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].code, "insecure-url");
    }

    #[test]
    fn accepts_https_and_ssh() {
        let a = registry("a", "1.0.0");
        let mut b = registry("b", "1.0.0");
        b.resolved = Some("git+ssh://git@github.com/o/b.git#abc".into());
        assert!(run(check, &lock(vec![a, b])).is_empty());
    }
}
