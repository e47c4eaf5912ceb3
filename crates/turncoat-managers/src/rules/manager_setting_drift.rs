use turncoat_finding::{Level, RuleDoc, Severity};

pub const RULE: RuleDoc = RuleDoc {
    code: "manager-setting-drift",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Deny,
    summary: "a package manager or update bot setting says something else than turncoat.toml",
    doc: r#"`turncoat policy compile --check` found a setting that differs from the policy: a
cooldown shorter or missing, an exclusion or an approved install script that the policy does not
list (or the reverse), in `.npmrc`, `package.json`, `pnpm-workspace.yaml`, `.yarnrc.yml`,
`bunfig.toml`, `uv.toml`/`pyproject.toml`, `pip.conf`, `renovate.json` or `dependabot.yml`.

**Why it matters.** Each manager enforces only its own copy. A cooldown in `.npmrc` does nothing for
the pnpm that CI actually runs, and an approval left behind in `onlyBuiltDependencies` runs the
scripts of a version nobody reviewed.

**How to fix.** Run `turncoat policy compile` (it rewrites only the keys it owns, comments and layout
kept) and commit the result, or change `turncoat.toml` if the policy is what is out of date."#,
};

#[cfg(test)]
mod tests {
    use crate::{Project, Wanted, compile};

    fn wanted() -> Wanted {
        Wanted {
            cooldown_secs: 3 * 86_400,
            excludes: vec![],
            scripts: vec![],
        }
    }

    #[test]
    fn fires_on_a_shorter_cooldown_and_not_on_a_matching_one() {
        let mut p = Project::default();
        p.files.insert("package-lock.json".into(), "{}".into());
        p.files
            .insert(".npmrc".into(), "min-release-age=1\n".into());
        let plan = compile(&wanted(), &p).unwrap();
        let drift: Vec<_> = plan.drift().map(|(_, c)| c.key.clone()).collect();
        assert_eq!(drift, ["min-release-age"]);
        p.files
            .insert(".npmrc".into(), "min-release-age=3\n".into());
        assert_eq!(compile(&wanted(), &p).unwrap().drift().count(), 0);
    }
}
