//! `new-url-dependency`: a dependency now comes from a URL or a local path.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use super::new_git_dependency::source_findings;
use crate::facts::SpecSource;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-url-dependency",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A dependency is newly fetched from an http(s) tarball URL or a file:/link: path.",
    doc: r#"Flags a runtime dependency whose spec is an `http(s)://` tarball or a `file:` / `link:` / relative path when it was absent or a registry spec in the previous version.

**Why it matters.** URL dependencies are mutable (whoever controls the host decides what is installed tomorrow) and skip the registry's integrity and cooldown; GuardDog flags them as `threat-npm-http-dependency`. A published package has no business depending on a local path.

**Example.** `"helper": "https://cdn.example/helper-1.0.0.tgz"`.

**How to silence.** A policy exception on `new-url-dependency` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(source_findings(
        cx,
        &RULE,
        &[SpecSource::Url, SpecSource::File],
        "a URL or local path",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn url_dependency_fires() {
        let f = diff_versions(
            "1.0.0",
            &[(
                "package.json",
                &manifest("1.0.0", r#""dependencies":{"h":"^1"}"#),
            )],
            "1.0.1",
            &[(
                "package.json",
                &manifest(
                    "1.0.1",
                    r#""dependencies":{"h":"https://cdn.example/h.tgz"}"#,
                ),
            )],
        );
        assert!(find(&f, RULE.code).is_some());
    }

    #[test]
    fn registry_dependency_is_quiet() {
        let f = diff_manifest(r#""dependencies":{"h":"~1.2"}"#);
        assert!(find(&f, RULE.code).is_none());
    }
}
