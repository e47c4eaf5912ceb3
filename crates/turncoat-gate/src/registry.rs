//! The one registry of rules: every [`RuleDoc`] any check can report, with its code, default
//! level and documentation. `turncoat explain`, SARIF, policy validation and the built-in
//! policy all read it.
//!
//! Why here and why an explicit list: `turncoat-gate` is the lowest crate that depends on every
//! crate that declares rules (lockfile lint, analysis, attest drift, the gate's own rules,
//! detonation, workflow posture, recon), and `turncoat-policy` sits below it, so the policy is handed this list rather
//! than reading it itself. A build-time collection (linker sections through `linkme` or
//! `inventory`) would assemble it without lists, but depends on the linker keeping every
//! object file that declares a rule and is not available offline here; instead two guarantees
//! make a missing entry impossible to ship:
//!
//! - a `Finding` can only be built from a `RuleDoc` (`Finding::new`; the struct is
//!   `non_exhaustive`), so every emitted code is the code of a declared rule;
//! - [`tests::every_declared_rule_is_registered`] reads every `RuleDoc` declared in the
//!   workspace's library sources and fails when one is not in [`all_rules`].
//!
//! A code the policy does not know is `deny` (`turncoat-policy`), so a rule that slipped
//! through anyway blocks instead of passing.

use turncoat_finding::RuleDoc;

/// Every rule any check can report, sorted by code.
pub fn all_rules() -> Vec<&'static RuleDoc> {
    let mut all: Vec<&'static RuleDoc> = Vec::new();
    all.extend(turncoat_lockfile::rules());
    all.extend(turncoat_analyze::rules());
    all.extend(turncoat_pyanalyze::rules());
    all.extend(turncoat_attest::rules());
    all.extend(crate::rules::rules());
    all.extend(crate::detonation::rules());
    all.extend(turncoat_posture::rules());
    all.extend(turncoat_recon::rules());
    all.extend(turncoat_managers::rules());
    all.extend(turncoat_monitor::rules());
    all.sort_by_key(|r| r.code);
    all
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    /// `(file, code)` of every `RuleDoc { code: "…", … }` declared outside test code (a file's
    /// test module starts at its first `#[cfg(test)]`).
    fn declared_rules() -> Vec<(String, String)> {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for c in std::fs::read_dir(&crates).unwrap() {
            let src = c.unwrap().path().join("src");
            if src.is_dir() {
                rust_files(&src, &mut files);
            }
        }
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut rest = text;
            while let Some(i) = rest.find("RuleDoc {") {
                rest = &rest[i + "RuleDoc {".len()..];
                let Some(j) = rest.find("code:") else { break };
                let after = rest[j + "code:".len()..].trim_start();
                if let Some(lit) = after.strip_prefix('"') {
                    let code = lit.split('"').next().unwrap_or_default();
                    out.push((f.display().to_string(), code.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn every_declared_rule_is_registered() {
        let registered: BTreeSet<&str> = all_rules().iter().map(|r| r.code).collect();
        let declared = declared_rules();
        assert!(declared.len() >= registered.len(), "{declared:?}");
        let missing: Vec<_> = declared
            .iter()
            .filter(|(_, code)| !registered.contains(code.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "declared but not registered: {missing:?}"
        );
        for code in turncoat_policy::INTEGRITY_CODES {
            assert!(registered.contains(code), "{code} is not a rule");
        }
    }

    #[test]
    fn codes_are_unique() {
        let all = all_rules();
        let codes: BTreeSet<&str> = all.iter().map(|r| r.code).collect();
        assert_eq!(codes.len(), all.len());
    }
}
