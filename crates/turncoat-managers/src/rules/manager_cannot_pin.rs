use turncoat_finding::{Level, RuleDoc, Severity};

pub const RULE: RuleDoc = RuleDoc {
    code: "manager-cannot-pin",
    group: super::GROUP,
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "a manager cannot express a pin of the policy, so turncoat left it out or it is weaker there",
    doc: r#"The policy pins an exclusion or an approved install script to one `name@version`, and
this manager can only name whole packages (npm and Bun exclusions, Dependabot and Renovate
cooldown exclusions, Bun's `trustedDependencies`), or has no such setting (uv, pip exclusions).

turncoat never widens a pin: a pinned cooldown exclusion is left out (that version waits out the
cooldown in this manager), and where a manager can only trust by name (Bun) the message says that
the version and integrity are not enforced by it.

**How to fix.** Install through `turncoat install`, which checks name, version and integrity of every
approved script itself, or accept the weaker setting for that manager."#,
};

#[cfg(test)]
mod tests {
    use crate::{Exclude, Project, Script, Wanted, compile};

    #[test]
    fn fires_for_a_pinned_exclusion_in_npm_and_not_for_a_name() {
        let mut p = Project::default();
        p.files.insert("package-lock.json".into(), "{}".into());
        let mut w = Wanted {
            cooldown_secs: 86_400,
            excludes: vec![Exclude {
                name: "left-pad".into(),
                version: Some("1.3.1".into()),
            }],
            scripts: vec![],
        };
        let count = |w: &Wanted| {
            compile(w, &p)
                .unwrap()
                .notes
                .iter()
                .filter(|n| n.code == "manager-cannot-pin")
                .count()
        };
        assert_eq!(count(&w), 1);
        w.excludes[0].version = None;
        assert_eq!(count(&w), 0);
    }

    #[test]
    fn bun_trust_by_name_is_reported() {
        let mut p = Project::default();
        p.files.insert("bun.lock".into(), "{}".into());
        let w = Wanted {
            cooldown_secs: 86_400,
            excludes: vec![],
            scripts: vec![Script {
                name: "esbuild".into(),
                version: "0.25.0".into(),
            }],
        };
        let plan = compile(&w, &p).unwrap();
        assert!(
            plan.notes
                .iter()
                .any(|n| n.code == "manager-cannot-pin" && n.message.contains("esbuild"))
        );
    }
}
