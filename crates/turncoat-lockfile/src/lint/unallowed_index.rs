//! `unallowed-index`: a Python package index outside the allowed hosts.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::LintInput;
use super::py_util::{evidence, label, redact_url};
use crate::spec::url_host;

pub const RULE: RuleDoc = RuleDoc {
    code: "unallowed-index",
    group: "lockfile",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "a Python lockfile uses a package index whose host is not allowed",
    doc: "## What\n\
An index the lockfile names (`--index-url`, `--extra-index-url`, `--find-links` URLs, a \
Pipfile source, a uv/poetry/pylock `index`) is on a host outside the allowed registries \
(by default `pypi.org` and `files.pythonhosted.org`, plus the policy's `registries` and \
`--allow-host`).\n\n\
## Why\n\
An index decides which bytes are installed for a name and version. One line in a pull \
request can point the install at an attacker's index while every pinned version stays \
the same; with `--extra-index-url` that index also competes for *every* name.\n\n\
## Example\n\
```text\n--index-url https://pypi.org.evil.example/simple\nrequests==2.32.3\n```\n\n\
## How to fix\n\
If the host is your own mirror (devpi, Artifactory, a GitLab or CodeArtifact index), add it \
to `registries` in turncoat.toml. Otherwise remove the line and relock.",
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    let allowed = |url: &str| match url_host(url) {
        Some(h) => input
            .opts
            .allowed_index_hosts
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&h)),
        // A local find-links directory is judged by `extra-index-url`, not here.
        None => true,
    };
    let mut reported: Vec<&str> = Vec::new();
    for ix in &lock.indexes {
        if !allowed(&ix.url) && !reported.contains(&ix.url.as_str()) {
            reported.push(&ix.url);
            out.push(
                Finding::new(
                    &RULE,
                    format!("index {} is not an allowed registry", redact_url(&ix.url)),
                )
                .with_evidence(
                    Evidence::at(ix.file.clone(), ix.line).with_snippet(&redact_url(&ix.url)),
                ),
            );
        }
    }
    for p in &lock.packages {
        let Some(ix) = p.index.as_deref() else {
            continue;
        };
        if !allowed(ix) && !reported.contains(&ix) {
            reported.push(ix);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "{} comes from {}, which is not an allowed registry",
                        label(p),
                        redact_url(ix)
                    ),
                )
                .with_evidence(evidence(lock, p)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::{py_lock, py_registry, run};
    use crate::model::{IndexRole, PackageIndex};

    #[test]
    fn flags_lookalike_hosts_once() {
        let mut a = py_registry("requests", "2.32.3");
        a.index = Some("https://pypi.org.evil.example/simple".into());
        let b = a.clone();
        let f = run(check, &py_lock(vec![a, b]));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("pypi.org.evil.example"));
    }

    #[test]
    fn flags_named_indexes_and_hides_tokens() {
        let mut l = py_lock(vec![]);
        l.indexes.push(PackageIndex {
            url: "https://user:s3cret@corp.example/simple".into(),
            role: IndexRole::Primary,
            name: None,
            file: "requirements.txt".into(),
            line: 1,
        });
        let f = run(check, &l);
        assert_eq!(f.len(), 1);
        assert!(!format!("{f:?}").contains("s3cret"));
    }

    #[test]
    fn accepts_pypi_and_local_paths() {
        let mut a = py_registry("a", "1.0");
        a.index = Some("https://PyPI.org/simple".into());
        let mut l = py_lock(vec![a]);
        l.indexes.push(PackageIndex {
            url: "/opt/wheels".into(),
            role: IndexRole::FindLinks,
            name: None,
            file: "requirements.txt".into(),
            line: 1,
        });
        assert!(run(check, &l).is_empty());
    }
}
