//! `new-git-dependency`: a dependency now comes from git.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::facts::SpecSource;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-git-dependency",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A dependency is newly fetched from a git repository (its prepare script runs on install).",
    doc: r#"Flags a runtime dependency (prod, optional or peer) whose spec is a git source (`github:u/r#ref`, `u/r`, `git+https://…`, `gitlab:` …) when it was absent or a registry spec in the previous version.

**Why it matters.** A git dependency bypasses the registry (no integrity from the registry, no cooldown) and npm builds it on install, running its `prepare` script. TanStack 2026: `optionalDependencies` gained `"@tanstack/setup": "github:tanstack/router#<orphan commit>"`, whose `prepare` ran a 2.3 MB obfuscated stealer.

**Example.** `"optionalDependencies": {"setup": "github:org/repo#3f2a…"}` in a patch release.

**How to silence.** A policy exception on `new-git-dependency` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(source_findings(
        cx,
        &RULE,
        &[SpecSource::Git],
        "a git repository",
    ));
}

/// Dependencies whose source became one of `sources`.
pub(crate) fn source_findings(
    cx: &DiffCx<'_>,
    rule: &RuleDoc,
    sources: &[SpecSource],
    what: &str,
) -> Vec<Finding> {
    let Some(new) = &cx.new.manifest else {
        return Vec::new();
    };
    let old = cx.old.manifest.as_ref();
    let mut out = Vec::new();
    for (name, dep) in &new.dependencies {
        if !sources.contains(&dep.source) {
            continue;
        }
        let before = old.and_then(|m| m.dependencies.get(name));
        if before.is_some_and(|b| sources.contains(&b.source)) {
            continue;
        }
        out.push(
            Finding::new(
                rule,
                format!(
                    "{name} is fetched from {what} ({}) in {}; {}",
                    dep.spec,
                    cx.to(),
                    match before {
                        Some(b) => format!("it was {} in {}", b.spec, cx.from()),
                        None => format!("{} did not depend on it", cx.from()),
                    }
                ),
            )
            .with_evidence(
                Evidence::new("package.json").with_snippet(&format!("\"{name}\": {:?}", dep.spec)),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn git_optional_dependency_fires() {
        let f = diff_versions(
            "1.169.2",
            &[("package.json", &manifest("1.169.2", ""))],
            "1.169.5",
            &[(
                "package.json",
                &manifest(
                    "1.169.5",
                    r#""optionalDependencies":{"@tanstack/setup":"github:tanstack/router#79ac49ee"}"#,
                ),
            )],
        );
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    #[test]
    fn registry_or_old_git_is_quiet() {
        let git = manifest("1.0.0", r#""dependencies":{"a":"github:u/a#1"}"#);
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &git)],
            "1.0.1",
            &[("package.json", &git.replace("#1", "#2"))],
        );
        assert!(find(&f, RULE.code).is_none());
        let f = diff_manifest(r#""dependencies":{"a":"^1"}"#);
        assert!(find(&f, RULE.code).is_none());
    }
}
