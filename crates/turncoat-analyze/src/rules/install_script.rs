//! `install-script` (scan): the package runs install hooks.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::ScanCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "install-script",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The package runs install hooks (single-version scan).",
    doc: r#"`scan` only (no history): flags a package that declares `preinstall`, `install` or `postinstall` (or `prepare` when installed from git). Low for npm's implicit `node-gyp rebuild`; medium otherwise. The hook's *behaviour* is judged by `install-script-shell-download`, `install-script-dns`, `install-script-inline-code` and `exfiltration-shape`.

**Why it matters.** A dependency newly added to the tree that runs a hook is how axios 1.14.1 was weaponised (`plain-crypto-js`'s postinstall); a dependency from git runs `prepare` (TanStack 2026).

**Example.** `"postinstall": "node setup.js"`.

**How to silence.** Approve the hook for the exact version in your package manager and add a policy exception on `install-script` for `name@version`."#,
};

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    for (name, hook) in cx.hooks() {
        let severity = if hook.command == "node-gyp rebuild" {
            Severity::Low
        } else {
            RULE.severity
        };
        let mut f = Finding::new(
            &RULE,
            format!("{} runs a {name} hook: {}", cx.id(), hook.command),
        )
        .with_severity(severity)
        .with_evidence(
            Evidence::new("package.json").with_snippet(&format!("\"{name}\": {:?}", hook.command)),
        );
        for entry in &hook.entry_files {
            f = f.with_evidence(Evidence::new(entry.clone()));
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn hooks_are_reported() {
        let facts = pkg(&[
            (
                "package.json",
                &manifest(
                    "4.2.1",
                    r#""scripts":{"postinstall":"node setup.js","prepare":"x"}"#,
                ),
            ),
            ("setup.js", "1"),
        ]);
        let f = crate::scan(&facts, "plain-crypto-js", "4.2.1");
        assert_eq!(codes(&f).iter().filter(|c| **c == RULE.code).count(), 1);
        let git = crate::scan_with(&facts, "p", "1", &crate::ScanOptions { from_git: true });
        assert_eq!(codes(&git).iter().filter(|c| **c == RULE.code).count(), 2);
    }

    #[test]
    fn no_hooks_no_finding() {
        let facts = pkg(&[(
            "package.json",
            &manifest("1.0.0", r#""scripts":{"test":"jest"}"#),
        )]);
        assert!(crate::scan(&facts, "p", "1.0.0").is_empty());
    }
}
