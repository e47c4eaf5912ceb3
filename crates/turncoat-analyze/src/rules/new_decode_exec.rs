//! `new-decode-exec`: The package newly decodes a string and executes it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-decode-exec",
    group: "analyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "The package newly decodes a string and executes it.",
    doc: r#"Flags a decoded string (`atob`, `Buffer.from(x, 'base64'|'hex')`, `String.fromCharCode`, `unescape`) reaching `eval`, `Function`, `vm` or `child_process`, directly or through a variable, in new code.

**Why it matters.** Legitimate code has no reason to hide the code it runs; decode-then-execute is the signature of packed payloads. Never lowered by the semver step.

**Example.** `eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString())`.

**How to silence.** Silence it for one package with a policy exception on `new-decode-exec` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::DecodeExec,
        Weight::Fixed,
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
            r#"eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const s = atob('eA=='); eval(s);"#,
            r#"const s = atob('eA=='); eval(s); const t = 2;"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
