//! `new-dynamic-require`: The package newly loads modules by a computed name.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-dynamic-require",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Allow,
    summary: "The package newly loads modules by a computed name.",
    doc: r#"Flags `require(expr)` and `import(expr)` with a non-literal argument when the previous version had none.

**Why it matters.** A computed module name hides what is loaded (`require(atob('Y2hpbGRfcHJvY2Vzcw=='))`). Plugin loaders do it legitimately (`require(path.join(dir, name))`), so this is low and allowed by default; it feeds review, not verdicts. Names that fold to a constant count as that module; names that are decoded or spliced, and Node's internal loaders, are `new-hidden-load` (deny).

**Example.** `require(['child', 'process'].join('_'))`.

**How to silence.** Silence it for one package with a policy exception on `new-dynamic-require` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::DynamicRequire,
        Weight::Single,
        |o| !super::new_hidden_load::is_hidden(o),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_the_package_gains_it() {
        let f = diff_index(
            r#"const a = require('./a');"#,
            r#"const a = require('./a'); const m = require(process.argv[2]);"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const m = require(process.argv[2]);"#,
            r#"const m = require(process.argv[2]); const n = require(process.argv[3]);"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
