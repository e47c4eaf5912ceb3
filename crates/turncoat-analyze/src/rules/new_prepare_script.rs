//! `new-prepare-script`: the version adds a `prepare` script.

use turncoat_finding::{Level, RuleDoc, Severity};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-prepare-script",
    group: "analyze",
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "The version adds a `prepare` script, which npm runs only when the package is installed from git or linked.",
    doc: r#"Records a `prepare` script that the previous version did not declare.

**Why allow.** npm, pnpm, yarn and bun run `prepare` for git, link and local installs, never for a registry tarball, and `diff` judges registry versions: a `prepare` added to a registry release runs nowhere. The install source decides: an update whose lockfile entry moves to a git repository is blocked by `unverifiable-source` (its content cannot be judged), and a dependency newly taken from git by `new-git-dependency`, whose `prepare` is what runs (TanStack 2026).

**Example.** 1.0.1 adds `"prepare": "husky"`.

**How to silence.** It is `allow` by default; raise it in `turncoat.toml` to review every new `prepare`."#,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn added_prepare_is_recorded_and_allowed() {
        let f = diff_manifest(r#""scripts":{"prepare":"node build.js"}"#);
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(RULE.default_level, Level::Allow);
        assert_eq!(hit.severity, Severity::Info);
        assert!(find(&f, "new-install-script").is_none());
    }

    #[test]
    fn unchanged_prepare_is_quiet() {
        let m = |v| manifest(v, r#""scripts":{"prepare":"husky"}"#);
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &m("1.0.0"))],
            "1.0.1",
            &[("package.json", &m("1.0.1"))],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
