//! `unpinned-requirement`: a requirements line that does not pin one version.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::LintInput;
use super::py_util::evidence;
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "unpinned-requirement",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a Python requirement is not pinned to one version with `==`",
    doc: "## What\n\
A line of a requirements file (or of a file it includes) names a project without an exact \
`==VERSION` pin: no specifier, a range (`>=`, `~=`, `!=`), or a wildcard (`==2.*`).\n\n\
## Why\n\
An unpinned line installs whatever the index serves on the day of the install. A \
hijacked maintainer account publishes a new patch release, and the next CI run installs \
it without any change to the repository. turncoat cannot judge an update it cannot see.\n\n\
## Example\n\
```text\nrequests>=2.31\n```\n\n\
## How to fix\n\
Compile the loose requirements into a lockfile with pins and hashes \
(`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`) and install from it.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        if p.source != SourceKind::Registry || !p.version.is_empty() {
            continue;
        }
        let asked = p.requirement.as_deref().unwrap_or(p.install_name());
        out.push(
            Finding::new(&RULE, format!("{asked} is not pinned to one version"))
                .with_evidence(evidence(lock, p)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{py_lock, py_registry, run};

    #[test]
    fn flags_ranges() {
        let mut a = py_registry("requests", "");
        a.requirement = Some("requests>=2.31".into());
        let f = run(check, &py_lock(vec![a]));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.starts_with("requests>=2.31"));
    }

    #[test]
    fn accepts_pins_and_direct_references() {
        let a = py_registry("a", "1.0");
        let mut b = py_registry("b", "");
        b.source = SourceKind::Git;
        assert!(run(check, &py_lock(vec![a, b])).is_empty());
    }
}
