//! Sans-IO lockfile lints: each rule lives in its own file with its [`RuleDoc`] and tests.
//!
//! Rules look at one parsed [`Lockfile`] (and, for `manifest-drift`, the `package.json`
//! manifests the caller read); they never touch the network or the disk.

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

/// Settings for [`lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// Registry host names packages may be fetched from (lower-case, no port). The
    /// default is `registry.npmjs.org` plus `registry.yarnpkg.com` (Yarn classic's
    /// default, which serves the same packages); callers normally set it from config.
    pub allowed_hosts: Vec<String>,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            allowed_hosts: vec![
                "registry.npmjs.org".to_string(),
                "registry.yarnpkg.com".to_string(),
            ],
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
        assert_eq!(codes.len(), 9);
    }

    #[test]
    fn clean_lockfile_has_no_findings() {
        let l = test_util::lock(vec![
            test_util::registry("a", "1.0.0"),
            test_util::registry("@s/b", "2.0.0"),
        ]);
        assert!(lint(&l, &[], &LintOptions::default()).is_empty());
    }
}
