//! Sans-IO lockfile lints: each rule lives in its own file with its [`RuleDoc`] and tests.
//!
//! Rules look at one parsed [`Lockfile`] (and, for `manifest-drift`, the `package.json`
//! manifests the caller read); they never touch the network or the disk. npm lockfiles get
//! the npm rules, PyPI lockfiles the Python ones (`missing-hashes`, `non-index-source`,
//! `unallowed-index`, `pep503-name-collision`, `unpinned-requirement`, `extra-index-url`).

use turncoat_finding::{Evidence, Finding, RuleDoc};

use crate::model::{LockedPackage, Lockfile};

pub mod file_dependency;
pub mod git_dependency;
pub mod insecure_url;
pub mod manifest_drift;
pub mod missing_integrity;
pub mod name_url_mismatch;
pub mod remote_tarball_dependency;
pub mod unallowed_host;
pub mod weak_integrity;

pub mod extra_index_url;
pub mod missing_hashes;
pub mod non_index_source;
pub mod pep503_name_collision;
mod py_util;
pub mod unallowed_index;
pub mod unpinned_requirement;

pub use py_util::redact_url;

/// Settings for [`lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// Registry host names packages may be fetched from (lower-case, no port). The
    /// default is `registry.npmjs.org` plus `registry.yarnpkg.com` (Yarn classic's
    /// default, which serves the same packages); callers normally set it from config.
    pub allowed_hosts: Vec<String>,
    /// Python index hosts packages may come from (lower-case, no port). The default is
    /// [`DEFAULT_PYPI_HOSTS`]; callers add the policy's registries.
    pub allowed_index_hosts: Vec<String>,
}

/// PyPI's index and file hosts.
pub const DEFAULT_PYPI_HOSTS: &[&str] = &["pypi.org", "files.pythonhosted.org"];

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            allowed_hosts: vec![
                "registry.npmjs.org".to_string(),
                "registry.yarnpkg.com".to_string(),
            ],
            allowed_index_hosts: DEFAULT_PYPI_HOSTS.iter().map(|h| h.to_string()).collect(),
        }
    }
}

/// What every rule sees.
pub struct LintInput<'a> {
    pub lockfile: &'a Lockfile,
    /// `(importer path, package.json)`; the path is relative to the lockfile's folder,
    /// `""` or `"."` for the root.
    pub manifests: &'a [(String, serde_json::Value)],
    pub opts: &'a LintOptions,
}

/// Run every lockfile rule. Findings come in rule order, then lockfile order.
pub fn lint(
    lockfile: &Lockfile,
    manifests: &[(String, serde_json::Value)],
    opts: &LintOptions,
) -> Vec<Finding> {
    let input = LintInput {
        lockfile,
        manifests,
        opts,
    };
    let mut out = Vec::new();
    if lockfile.ecosystem == crate::model::Ecosystem::Pypi {
        missing_hashes::check(&input, &mut out);
        unpinned_requirement::check(&input, &mut out);
        non_index_source::check(&input, &mut out);
        unallowed_index::check(&input, &mut out);
        extra_index_url::check(&input, &mut out);
        pep503_name_collision::check(&input, &mut out);
        return out;
    }
    missing_integrity::check(&input, &mut out);
    weak_integrity::check(&input, &mut out);
    insecure_url::check(&input, &mut out);
    unallowed_host::check(&input, &mut out);
    git_dependency::check(&input, &mut out);
    remote_tarball_dependency::check(&input, &mut out);
    file_dependency::check(&input, &mut out);
    name_url_mismatch::check(&input, &mut out);
    manifest_drift::check(&input, &mut out);
    out
}

/// Every lockfile rule's documentation.
pub fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &missing_integrity::RULE,
        &weak_integrity::RULE,
        &insecure_url::RULE,
        &unallowed_host::RULE,
        &git_dependency::RULE,
        &remote_tarball_dependency::RULE,
        &file_dependency::RULE,
        &name_url_mismatch::RULE,
        &manifest_drift::RULE,
        &missing_hashes::RULE,
        &unpinned_requirement::RULE,
        &non_index_source::RULE,
        &unallowed_index::RULE,
        &extra_index_url::RULE,
        &pep503_name_collision::RULE,
    ]
}

/// Evidence pointing at a package's entry: lockfile path, line, and a one-line summary
/// of the entry (the model keeps no raw text).
pub(crate) fn evidence(lock: &Lockfile, p: &LockedPackage) -> Evidence {
    let at = p.paths.first().map_or(p.name.as_str(), String::as_str);
    let what = p
        .resolved
        .as_deref()
        .or(p.integrity.as_deref())
        .unwrap_or(&p.version);
    Evidence::at(lock.path.clone(), p.line).with_snippet(&format!("{at}: {what}"))
}

/// `name@version` for messages (`name` alone when there is no version).
pub(crate) fn label(p: &LockedPackage) -> String {
    let mut s = if p.version.is_empty() {
        p.name.clone()
    } else {
        p.spec()
    };
    if let Some(a) = &p.alias {
        s.push_str(&format!(" (installed as {a})"));
    }
    s
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::model::{LockedPackage, Lockfile, LockfileFormat, SourceKind};

    pub fn lock(pkgs: Vec<LockedPackage>) -> Lockfile {
        Lockfile {
            path: "package-lock.json".into(),
            format: LockfileFormat::PackageLock { version: 3 },
            packages: pkgs,
            importers: Vec::new(),
            ecosystem: crate::model::Ecosystem::Npm,
            indexes: Vec::new(),
        }
    }

    pub fn registry(name: &str, version: &str) -> LockedPackage {
        let mut p = LockedPackage::new(name, version, SourceKind::Registry);
        let base = name.rsplit('/').next().unwrap_or(name);
        p.resolved = Some(format!(
            "https://registry.npmjs.org/{name}/-/{base}-{version}.tgz"
        ));
        p.integrity = Some("sha512-AAAA".into());
        p.paths = vec![format!("node_modules/{name}")];
        p.line = 7;
        p
    }

    pub fn py_lock(pkgs: Vec<LockedPackage>) -> Lockfile {
        Lockfile {
            path: "requirements.txt".into(),
            format: LockfileFormat::Requirements,
            packages: pkgs,
            importers: Vec::new(),
            ecosystem: crate::model::Ecosystem::Pypi,
            indexes: Vec::new(),
        }
    }

    /// An index package as written (`name` may be a non-normalised spelling).
    pub fn py_registry(name: &str, version: &str) -> LockedPackage {
        let norm = crate::pep503_normalize(name);
        let mut p = LockedPackage::new(norm.clone(), version, SourceKind::Registry);
        if norm != name {
            p.alias = Some(name.to_string());
        }
        p.hashes = vec![crate::FileHash {
            file: None,
            algorithm: "sha256".into(),
            digest: "0".repeat(64),
        }];
        p.line = 3;
        p
    }

    pub fn run(
        rule: fn(&super::LintInput<'_>, &mut Vec<turncoat_finding::Finding>),
        l: &Lockfile,
    ) -> Vec<turncoat_finding::Finding> {
        let opts = super::LintOptions::default();
        let input = super::LintInput {
            lockfile: l,
            manifests: &[],
            opts: &opts,
        };
        let mut out = Vec::new();
        rule(&input, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use turncoat_finding::is_kebab_case;

    #[test]
    fn rule_docs_are_complete() {
        let mut codes = std::collections::HashSet::new();
        for r in rules() {
            assert!(is_kebab_case(r.code), "{}", r.code);
            assert_eq!(r.group, "lockfile");
            assert!(codes.insert(r.code), "duplicate {}", r.code);
            assert!(!r.summary.is_empty());
            for section in ["## What", "## Why", "## Example", "## How to fix"] {
                assert!(r.doc.contains(section), "{} lacks {section}", r.code);
            }
        }
        assert_eq!(codes.len(), 15);
    }

    #[test]
    fn clean_lockfile_has_no_findings() {
        let l = test_util::lock(vec![
            test_util::registry("a", "1.0.0"),
            test_util::registry("@s/b", "2.0.0"),
        ]);
        assert!(lint(&l, &[], &LintOptions::default()).is_empty());
    }

    #[test]
    fn each_ecosystem_gets_its_rules() {
        // A PyPI entry without a hash is a finding; the npm rule never sees it.
        let mut p = test_util::py_registry("a", "1.0");
        p.hashes.clear();
        let f = lint(
            &test_util::py_lock(vec![p.clone()]),
            &[],
            &LintOptions::default(),
        );
        let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["missing-hashes"]);
        let f = lint(&test_util::lock(vec![p]), &[], &LintOptions::default());
        assert!(f.iter().all(|f| f.code != "missing-hashes"));
    }
}
