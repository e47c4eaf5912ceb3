//! `remote-tarball-dependency`: a package is a tarball at an arbitrary URL.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "remote-tarball-dependency",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a package is downloaded from a tarball URL outside any registry",
    doc: "## What\n\
A dependency is declared as a URL to a tarball (`\"foo\": \"https://example.com/foo-1.0.0.tgz\"`) \
rather than a registry version.\n\n\
## Why\n\
Whoever controls that URL controls the code. There is no registry signature, no \
provenance, no version history to compare against, and the file can change at any time \
(the lockfile's integrity hash, when present, only catches the change at install time).\n\n\
## Example\n\
```yaml\nresolution: {tarball: https://example.com/foo-1.0.0.tgz}\n```\n\n\
## How to fix\n\
Publish the package to your registry (or use the upstream registry version) and depend on \
it by version. If the URL is trusted, allow the finding for that package in the policy.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in lock
        .packages
        .iter()
        .filter(|p| p.source == SourceKind::Tarball)
    {
        out.push(
            Finding::new(&RULE, format!("{} is a remote tarball", label(p)))
                .with_evidence(evidence(lock, p)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{lock, registry, run};

    #[test]
    fn flags_tarball() {
        let mut p = registry("a", "1.0.0");
        p.source = SourceKind::Tarball;
        p.resolved = Some("https://example.com/a.tgz".into());
        assert_eq!(run(check, &lock(vec![p])).len(), 1);
    }

    #[test]
    fn ignores_registry() {
        assert!(run(check, &lock(vec![registry("a", "1.0.0")])).is_empty());
    }
}
