//! `pep503-name-collision`: two spellings of one PyPI project in one lockfile.

use std::collections::BTreeMap;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::LintInput;
use super::py_util::evidence;

pub const RULE: RuleDoc = RuleDoc {
    code: "pep503-name-collision",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "differently written names in a Python lockfile are the same project under PEP 503",
    doc: "## What\n\
Two entries of one lockfile write names that PEP 503 normalises to the same project \
(`Django` and `django`, `zope.interface` and `zope_interface`): case is ignored and runs of \
`-`, `_` and `.` are one separator.\n\n\
## Why\n\
Reviewers and tools that compare names as written see two packages where pip sees one; \
an edit can add a second, differently pinned or differently sourced entry for a project \
that already looks locked, and which one wins depends on the tool. (A name that only \
*looks* similar, such as `dj_ango` → `dj-ango`, is a different project and is not \
reported here.)\n\n\
## Example\n\
```text\nDjango==4.2.11 --hash=sha256:…\ndjango==4.2.1 --hash=sha256:…\n```\n\n\
## How to fix\n\
Keep one entry per project, written in its normalised form, and relock.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    let mut by_name: BTreeMap<&str, Vec<&crate::model::LockedPackage>> = BTreeMap::new();
    for p in &lock.packages {
        by_name.entry(p.name.as_str()).or_default().push(p);
    }
    for (name, ps) in by_name {
        let mut spellings: Vec<&str> = ps.iter().map(|p| p.install_name()).collect();
        spellings.sort_unstable();
        spellings.dedup();
        if spellings.len() < 2 {
            continue;
        }
        let Some(second) = ps.iter().find(|p| p.install_name() != ps[0].install_name()) else {
            continue;
        };
        out.push(
            Finding::new(
                &RULE,
                format!("{} all name the project {name}", spellings.join(", ")),
            )
            .with_evidence(evidence(lock, second)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{py_lock, py_registry, run};

    #[test]
    fn django_spellings_collide() {
        let a = py_registry("Django", "4.2.11");
        let b = py_registry("django", "4.2.1");
        let f = run(check, &py_lock(vec![a, b]));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("Django, django"), "{}", f[0].message);
    }

    #[test]
    fn a_lookalike_is_another_project() {
        let a = py_registry("django", "4.2.11");
        let b = py_registry("dj_ango", "1.0");
        let c = py_registry("django", "4.2.11");
        assert!(run(check, &py_lock(vec![a, b, c])).is_empty());
    }
}
