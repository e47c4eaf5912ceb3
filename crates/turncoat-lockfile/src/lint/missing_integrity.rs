//! `missing-integrity`: a downloaded package without a content hash.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "missing-integrity",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a registry or tarball package has no integrity hash in the lockfile",
    doc: "## What\n\
A package fetched from a registry or a tarball URL has no `integrity` (SRI hash) in the \
lockfile, and no format-specific checksum either (Yarn Berry's `checksum`).\n\n\
## Why\n\
Without a hash, the package manager installs whatever bytes the server returns. A \
compromised mirror, proxy or registry account can then swap the tarball under an \
unchanged version number, and nothing notices. It also means turncoat cannot rebuild the \
registry-signature message `name@version:integrity` from the lockfile alone.\n\n\
## Example\n\
```json\n\"node_modules/left-pad\": {\"version\": \"1.3.0\", \"resolved\": \"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\"}\n```\n\n\
## How to fix\n\
Regenerate the entry with a current package manager (`npm install --package-lock-only`, \
`yarn install`, `pnpm install --lockfile-only`), which records `integrity`. Bundled \
dependencies (`inBundle`) are exempt: they ship inside their parent's tarball. The rule \
defaults to `warn` because old Yarn classic lockfiles often lack hashes; set it to `deny` \
once your lockfiles are clean.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        if !matches!(p.source, SourceKind::Registry | SourceKind::Tarball) || p.bundled {
            continue;
        }
        let has = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        if has(&p.integrity) || has(&p.checksum) {
            continue;
        }
        out.push(
            Finding::new(&RULE, format!("{} has no integrity hash", label(p)))
                .with_evidence(evidence(lock, p)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{lock, registry, run};

    #[test]
    fn flags_missing_hash() {
        let mut p = registry("a", "1.0.0");
        p.integrity = None;
        let f = run(check, &lock(vec![p]));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "missing-integrity");
        assert_eq!(f[0].evidence[0].line, Some(7));
    }

    #[test]
    fn accepts_hash_checksum_bundled_and_git() {
        let ok = registry("a", "1.0.0");
        let mut berry = registry("b", "1.0.0");
        berry.integrity = None;
        berry.checksum = Some("10c0/abcd".into());
        let mut bundled = registry("c", "1.0.0");
        bundled.integrity = None;
        bundled.bundled = true;
        let mut git = registry("d", "1.0.0");
        git.integrity = None;
        git.source = SourceKind::Git;
        assert!(run(check, &lock(vec![ok, berry, bundled, git])).is_empty());
    }
}
