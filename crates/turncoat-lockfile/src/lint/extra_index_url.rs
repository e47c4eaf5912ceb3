//! `extra-index-url`: a second package index competes for every name.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::LintInput;
use super::py_util::redact_url;
use crate::model::IndexRole;

pub const RULE: RuleDoc = RuleDoc {
    code: "extra-index-url",
    group: "lockfile",
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a Python lockfile adds a package index or file location beside the main index",
    doc: "## What\n\
The lockfile names an index consulted *in addition to* the main one: \
`--extra-index-url`, `--find-links` (a directory or page of files), a second Pipfile \
source, a second uv registry, a poetry `legacy` source.\n\n\
## Why\n\
pip merges the candidates of every index and takes the highest version, whoever serves \
it: this is **dependency confusion**. Anyone who registers your internal package's name \
on the public index with a higher version gets installed (the 2021 Birsan attacks, \
`torchtriton` in 2022). Without hashes nothing stops it; with hashes the install fails \
instead of silently taking the impostor.\n\n\
## Example\n\
```text\n--extra-index-url https://pypi.corp.example/simple\ncorp-utils==1.4.0\n```\n\n\
## How to fix\n\
Use one index that proxies the others (devpi, Artifactory, a uv `index` with \
`explicit = true` pinned per package), lock with hashes, and allow the finding in the \
policy only for an index you control.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for ix in &lock.indexes {
        let what = match ix.role {
            IndexRole::Primary => continue,
            IndexRole::Extra => "an extra index",
            IndexRole::FindLinks => "an extra file location (--find-links)",
        };
        let url = redact_url(&ix.url);
        out.push(
            Finding::new(
                &RULE,
                format!("{url} is {what}: it competes for every name"),
            )
            .with_evidence(Evidence::at(ix.file.clone(), ix.line).with_snippet(&url)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{py_lock, run};
    use crate::model::PackageIndex;

    fn ix(url: &str, role: IndexRole) -> PackageIndex {
        PackageIndex {
            url: url.into(),
            role,
            name: None,
            file: "requirements.txt".into(),
            line: 2,
        }
    }

    #[test]
    fn flags_extra_and_find_links() {
        let mut l = py_lock(vec![]);
        l.indexes
            .push(ix("https://pypi.org/simple", IndexRole::Primary));
        l.indexes
            .push(ix("https://corp.example/simple", IndexRole::Extra));
        l.indexes.push(ix("/opt/wheels", IndexRole::FindLinks));
        let f = run(check, &l);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].evidence[0].line, Some(2));
    }

    #[test]
    fn one_primary_index_is_fine() {
        let mut l = py_lock(vec![]);
        l.indexes
            .push(ix("https://mirror.example/simple", IndexRole::Primary));
        assert!(run(check, &l).is_empty());
    }
}
