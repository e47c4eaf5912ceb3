//! `new-env-read`: The package reads `process.env` for the first time.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-env-read",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Allow,
    summary: "The package reads `process.env` for the first time.",
    doc: r#"Flags a version whose code reads `process.env` when no file of the previous version did (or whose install-time code newly does).

**Why it matters.** Credential theft starts by reading tokens from the environment (`NPM_TOKEN`, `GITHUB_TOKEN`, cloud keys). On its own a new env read is weak (many releases add a `DEBUG` switch), so this is low and allowed by default; it becomes part of `exfiltration-shape` when the same new code also reaches the network.

**Example.** 2.3.1 never touched `process.env`; 2.3.2 adds `const t = process.env.NPM_TOKEN`.

**Install time** raises it one step; a **major** lowers it one step.

**How to silence.** Silence it for one package with a policy exception on `new-env-read` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::EnvRead,
        Weight::Single,
        |_| true,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_the_package_gains_it() {
        let f = diff_index(
            r#"module.exports = (a) => a + 1;"#,
            r#"module.exports = (a) => a + (process.env.OFFSET | 0);"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const d = process.env.DEBUG; module.exports = 1;"#,
            r#"const d = process.env.DEBUG; const e = process.env.TRACE; module.exports = 1;"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
