//! `non-index-source`: a Python package comes from a VCS, a URL or a local path.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::LintInput;
use super::py_util::{evidence, label, redact_url};
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "non-index-source",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a Python package is installed from a VCS, a URL or a path instead of an index",
    doc: "## What\n\
A locked Python package is not fetched from a package index: a VCS checkout \
(`name @ git+https://…`, a poetry/uv/pdm `git` source, a pylock `vcs` table), an archive \
at a URL (`name @ https://…/x.tar.gz`), or a local file or directory.\n\n\
## Why\n\
Such packages bypass the index: no upload history, no PEP 740 attestation, often no \
hash, and whoever controls the repository, host or path controls the code. A VCS \
requirement is also built from source at install time (its `setup.py` or build backend \
runs). A direct reference hides easily among hundreds of pinned lines.\n\n\
## Example\n\
```text\nrequests @ git+https://github.com/attacker/requests.git@main\n```\n\n\
## How to fix\n\
Depend on a released version from your index. If the source is intended, pin a full \
commit (VCS) or add a hash (URL), and allow the finding for that package in the policy.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        let what = match p.source {
            SourceKind::Git => "a VCS repository",
            SourceKind::Tarball => "an archive URL",
            SourceKind::File | SourceKind::Link => "a local path",
            SourceKind::Registry | SourceKind::Workspace => continue,
        };
        let loc = p.resolved.as_deref().map(redact_url).unwrap_or_default();
        out.push(
            Finding::new(
                &RULE,
                format!("{} is installed from {what} {loc}", label(p)),
            )
            .with_evidence(evidence(lock, p)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{py_lock, py_registry, run};

    #[test]
    fn flags_vcs_url_and_path() {
        let mut a = py_registry("requests", "");
        a.source = SourceKind::Git;
        a.resolved = Some("git+https://github.com/attacker/requests.git@main".into());
        let mut b = py_registry("b", "");
        b.source = SourceKind::File;
        let f = run(check, &py_lock(vec![a, b]));
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("VCS"), "{}", f[0].message);
    }

    #[test]
    fn ignores_index_and_the_project_itself() {
        let a = py_registry("a", "1.0");
        let mut b = py_registry("demo-app", "");
        b.source = SourceKind::Workspace;
        assert!(run(check, &py_lock(vec![a, b])).is_empty());
    }
}
