//! `new-eval`: The package evaluates code at runtime for the first time.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-eval",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The package evaluates code at runtime for the first time.",
    doc: r#"Flags `eval`, `Function(...)`, `new Function(...)`, `vm.runIn*Context`, `vm.compileFunction` and `new vm.Script` when the previous version used none of them.

**Why it matters.** Runtime code evaluation is how hidden payloads execute. Template engines and bundlers use it legitimately, which is why this fires only when a package *starts* using it.

**Example.** `new Function(payload)()` appears in a minor release of a utility library.

**How to silence.** Silence it for one package with a policy exception on `new-eval` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::Eval,
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
            r#"module.exports = 1;"#,
            r#"module.exports = new Function('return 1')();"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"module.exports = Function('return this')();"#,
            r#"module.exports = Function('return this')(); eval('1');"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
