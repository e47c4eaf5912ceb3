use turncoat_finding::{Level, RuleDoc, Severity};

pub const RULE: RuleDoc = RuleDoc {
    code: "manager-too-old",
    group: super::GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the client a project pins would silently ignore a policy setting",
    doc: r#"The project pins a package manager (package.json `packageManager` or `engines`,
`.tool-versions`, Yarn's `yarnPath`) older than the first version that honours a key the policy
writes, or uses a client with no such setting at all (Yarn 1), or a tool that reads the setting
only when told where it is (pip and `PIP_CONFIG_FILE`).

**Why it matters.** Package managers do not reject keys they do not know. `minimumReleaseAge` in the
workspace file of a project pinned to pnpm 9 looks like a cooldown and is none: the takeover
release installs the hour it is published.

**How to fix.** Upgrade the pin to at least the version named in the message (see
docs/policy-compile.md for each key's first version), or install through `turncoat install`, which
enforces the cooldown and the script allow-list itself."#,
};

#[cfg(test)]
mod tests {
    use crate::{Project, Wanted, compile};

    fn plan(package_json: &str) -> Vec<String> {
        let mut p = Project::default();
        p.files
            .insert("pnpm-lock.yaml".into(), "lockfileVersion: '9.0'\n".into());
        p.files.insert("package.json".into(), package_json.into());
        let w = Wanted {
            cooldown_secs: 86_400,
            excludes: vec![],
            scripts: vec![],
        };
        compile(&w, &p)
            .unwrap()
            .notes
            .into_iter()
            .filter(|n| n.code == "manager-too-old")
            .map(|n| n.message)
            .collect()
    }

    #[test]
    fn fires_on_an_old_pin_and_not_on_a_new_one() {
        let old = plan(r#"{"packageManager": "pnpm@9.15.0+sha512.abc"}"#);
        assert_eq!(old.len(), 1, "{old:?}");
        assert!(old[0].contains("10.16.0"), "{old:?}");
        assert!(plan(r#"{"packageManager": "pnpm@10.20.0"}"#).is_empty());
        // A range that can only resolve to old versions is as bad as a pin.
        assert_eq!(plan(r#"{"engines": {"pnpm": "^9.0.0"}}"#).len(), 1);
        assert!(plan(r#"{"engines": {"pnpm": ">=10"}}"#).is_empty());
    }
}
