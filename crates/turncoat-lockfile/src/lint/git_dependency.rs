//! `git-dependency`: a package is installed from a git repository.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "git-dependency",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a package is installed from a git repository",
    doc: "## What\n\
A package resolves to a git repository (`git+ssh://`, `git+https://`, `github:owner/repo`, \
or a `codeload.github.com` tarball) instead of a registry.\n\n\
## Why\n\
Git dependencies bypass everything the registry offers: no registry signature, no \
provenance attestation, usually no integrity hash, and anyone with push access to the \
repository controls the code. Worse, npm *runs code at fetch time*: if the repository has a \
`prepare` (or build-type) script, npm clones it and runs `npm install` inside the clone, \
with dev dependencies, even with `--ignore-scripts` for the project.\n\n\
## Example\n\
```json\n\"node_modules/is-number\": {\"version\": \"7.0.0\", \"resolved\": \"git+ssh://git@github.com/jonschlinkert/is-number.git#98e8ff1da1a89f93d1397a24d7413ed15421c139\"}\n```\n\n\
## How to fix\n\
Depend on a published registry version instead. If you must use git, pin a full commit \
SHA (not a branch or tag) and allow the finding for that package in the policy.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in lock.packages.iter().filter(|p| p.source == SourceKind::Git) {
        out.push(
            Finding::new(&RULE, format!("{} is installed from git", label(p)))
                .with_evidence(evidence(lock, p)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{lock, registry, run};

    #[test]
    fn flags_git() {
        let mut p = registry("a", "1.0.0");
        p.source = SourceKind::Git;
        p.resolved = Some("github:o/a#abc".into());
        let f = run(check, &lock(vec![p]));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "git-dependency");
    }

    #[test]
    fn ignores_registry() {
        assert!(run(check, &lock(vec![registry("a", "1.0.0")])).is_empty());
    }
}
