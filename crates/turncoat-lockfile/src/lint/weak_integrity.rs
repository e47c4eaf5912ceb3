//! `weak-integrity`: the only recorded hash is SHA-1.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};

pub const RULE: RuleDoc = RuleDoc {
    code: "weak-integrity",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the package's integrity is SHA-1 only",
    doc: "## What\n\
The `integrity` recorded for a package holds only `sha1-…` hashes, with no `sha256`, \
`sha384` or `sha512`.\n\n\
## Why\n\
SHA-1 is broken for collision resistance (SHAttered, 2017; chosen-prefix collisions since \
2020). A lockfile that pins a package by SHA-1 alone lets someone who can craft a colliding \
tarball serve different code under the same hash. npm has published SHA-512 for every \
package since 2017.\n\n\
## Example\n\
```json\n\"node_modules/lodash\": {\"version\": \"1.3.1\", \"integrity\": \"sha1-pGY7U2hriV/wdOK6UE37dqjit3A=\"}\n```\n\n\
## How to fix\n\
Refresh the entry so the package manager records the registry's SHA-512 \
(`npm install --package-lock-only` after deleting the entry, or `npm update <pkg>`). Very \
old packages published before 2017 may only have SHA-1 in the registry; if you must keep \
one, allow the finding for that package in the policy.",
};

/// True when `integrity` holds hashes and all of them are SHA-1.
pub fn is_sha1_only(integrity: &str) -> bool {
    let mut hashes = integrity.split_whitespace().peekable();
    hashes.peek().is_some() && hashes.all(|h| h.to_ascii_lowercase().starts_with("sha1-"))
}

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        if p.integrity.as_deref().is_some_and(is_sha1_only) {
            out.push(
                Finding::new(&RULE, format!("{} is pinned by SHA-1 only", label(p)))
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
    fn flags_sha1_only() {
        let mut p = registry("a", "1.0.0");
        p.integrity = Some("sha1-pGY7U2hriV/wdOK6UE37dqjit3A=".into());
        let f = run(check, &lock(vec![p]));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "weak-integrity");
    }

    #[test]
    fn accepts_strong_or_mixed() {
        let a = registry("a", "1.0.0");
        let mut b = registry("b", "1.0.0");
        b.integrity = Some("sha1-abc= sha512-def==".into());
        assert!(run(check, &lock(vec![a, b])).is_empty());
        assert!(!is_sha1_only(""));
    }
}
