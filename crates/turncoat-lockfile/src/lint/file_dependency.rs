//! `file-dependency`: a `file:`/`link:` dependency points outside the project.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "file-dependency",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a file: or link: dependency points outside the project",
    doc: "## What\n\
A dependency is a local path (`file:`, `link:`, `portal:`, or an npm `link: true` entry) \
that leaves the project folder: it starts with `../`, is absolute, or climbs out with \
`..` segments.\n\n\
## Why\n\
Such code is not in the repository being reviewed, so nobody reviews it, and it differs \
from machine to machine: on CI it may be missing or be whatever another checkout left \
there. Links also run the target's `prepare` script. Paths inside the project \
(workspaces, vendored folders) are not flagged.\n\n\
## Example\n\
```json\n\"dependencies\": {\"utils\": \"file:../../shared/utils\"}\n```\n\n\
## How to fix\n\
Move the package into the repository (as a workspace), or publish it and depend on a \
version. If the path is intended (a monorepo checked out side by side), allow the finding \
for that package in the policy.",
};

/// The local path a `file:`/`link:`/`portal:` locator names (without protocol, hash or
/// Berry `::` parameters).
fn local_path(locator: &str) -> &str {
    let l = locator
        .strip_prefix("file:")
        .or_else(|| locator.strip_prefix("link:"))
        .or_else(|| locator.strip_prefix("portal:"))
        .unwrap_or(locator);
    let l = l.split("::").next().unwrap_or(l);
    l.split('#').next().unwrap_or(l)
}

/// True when a relative path escapes its base folder, or is absolute.
pub fn escapes(path: &str) -> bool {
    let path = path.replace('\\', "/");
    if path.starts_with('/') || path.as_bytes().get(1) == Some(&b':') || path.starts_with("~") {
        return true;
    }
    let mut depth: i64 = 0;
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        if !matches!(p.source, SourceKind::File | SourceKind::Link) {
            continue;
        }
        let Some(loc) = p.resolved.as_deref() else {
            continue;
        };
        let path = local_path(loc);
        if escapes(path) {
            out.push(
                Finding::new(
                    &RULE,
                    format!("{} comes from {path}, outside the project", label(p)),
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

    fn local(loc: &str, source: SourceKind) -> crate::LockedPackage {
        let mut p = registry("a", "1.0.0");
        p.source = source;
        p.resolved = Some(loc.into());
        p
    }

    #[test]
    fn flags_paths_outside() {
        for loc in [
            "file:../x",
            "../../x",
            "link:/abs/x",
            "file:deps/../../x",
            "file:../../x#../../x::hash=1",
        ] {
            assert_eq!(
                run(check, &lock(vec![local(loc, SourceKind::File)])).len(),
                1,
                "{loc}"
            );
        }
        assert_eq!(
            run(check, &lock(vec![local("../w", SourceKind::Link)])).len(),
            1
        );
    }

    #[test]
    fn accepts_paths_inside() {
        for loc in [
            "file:deps/etag",
            "packages/a",
            "file:./x",
            "link:packages/../packages/b",
        ] {
            assert!(
                run(check, &lock(vec![local(loc, SourceKind::File)])).is_empty(),
                "{loc}"
            );
        }
    }
}
