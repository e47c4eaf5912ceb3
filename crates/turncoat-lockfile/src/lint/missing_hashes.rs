//! `missing-hashes`: a Python package is installed without a file hash.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::LintInput;
use super::py_util::{evidence, label};
use crate::model::SourceKind;

pub const RULE: RuleDoc = RuleDoc {
    code: "missing-hashes",
    group: "lockfile",
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a Python package in the lockfile has no sha256 file hash",
    doc: "## What\n\
A package locked from an index or an archive URL has no file hash: a `requirements.txt` \
line without `--hash=sha256:…`, a `poetry.lock`/`uv.lock`/`pdm.lock` entry without \
`files`/`wheels`/`sdist` hashes, a `Pipfile.lock` entry without `hashes`, a `pylock.toml` \
file without `hashes`.\n\n\
## Why\n\
Without a hash pip installs whatever file the index serves for that version. A new \
wheel uploaded to an *old* release (PyPI lets a release gain files at any time), a \
compromised mirror or a dependency-confusion index can then swap the code under an \
unchanged version number. With a hash, pip refuses the file (`--require-hashes`).\n\n\
## Example\n\
```text\nrequests==2.32.3\n```\n\n\
## How to fix\n\
Lock with hashes: `pip-compile --generate-hashes`, `uv pip compile --generate-hashes`, \
`uv export`, `poetry lock`, `pipenv lock`, `pdm lock`, `pip lock`.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for p in &lock.packages {
        let fetched = match p.source {
            SourceKind::Registry => !p.version.is_empty(),
            SourceKind::Tarball => true,
            _ => false,
        };
        if fetched && p.hashes.is_empty() {
            out.push(
                Finding::new(&RULE, format!("{} has no file hash", label(p)))
                    .with_evidence(evidence(lock, p)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{py_lock, py_registry, run};

    #[test]
    fn flags_unhashed_index_and_url_packages() {
        let mut a = py_registry("requests", "2.32.3");
        a.hashes.clear();
        let mut b = py_registry("x", "1.0");
        b.source = SourceKind::Tarball;
        b.hashes.clear();
        let f = run(check, &py_lock(vec![a, b]));
        assert_eq!(f.len(), 2);
        assert!(
            f[0].message.contains("requests==2.32.3"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn accepts_hashed_and_leaves_unpinned_to_its_rule() {
        let a = py_registry("requests", "2.32.3");
        let mut b = py_registry("b", "");
        b.hashes.clear();
        assert!(run(check, &py_lock(vec![a, b])).is_empty());
    }
}
