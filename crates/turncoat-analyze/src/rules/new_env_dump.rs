//! `new-env-dump`: The package newly serialises, enumerates or copies the whole environment.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-env-dump",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "The package newly serialises, enumerates or copies the whole environment.",
    doc: r#"Flags `JSON.stringify(process.env)`, `Object.keys/entries/values(process.env)`, `for (k in process.env)`, `{...process.env}`, `Object.assign({}, process.env)` and `process.env` passed to a function, when the previous version had none of them.

**Why it matters.** Stealers take everything: the whole environment, serialised and sent. Few libraries need the whole environment; build tools that copy it for child processes already did so in earlier versions and stay quiet.

**Example.** `https.request(u).end(JSON.stringify(process.env))` appears in a patch release.

**How to silence.** Silence it for one package with a policy exception on `new-env-dump` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::EnvDump,
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
            r#"const d = process.env.DEBUG;"#,
            r#"const d = process.env.DEBUG; const all = JSON.stringify(process.env);"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const c = Object.assign({}, process.env);"#,
            r#"const c = Object.assign({}, process.env); const d = 2;"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
