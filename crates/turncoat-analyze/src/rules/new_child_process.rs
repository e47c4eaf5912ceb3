//! `new-child-process`: The package starts processes for the first time.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-child-process",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The package starts processes for the first time.",
    doc: r#"Flags a version that requires `child_process` (or execa/shelljs/cross-spawn), or calls `exec`/`spawn`/`fork`… on it, when the previous version did not (or whose install-time code newly does).

**Why it matters.** Shelling out is how payloads run `curl | sh`, drop and start binaries, or drive local AI CLIs to hunt for secrets (nx 2025).

**Example.** `require('child_process').exec('curl …')` appears in a patch release.

**How to silence.** Silence it for one package with a policy exception on `new-child-process` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::ChildProcess,
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
            r#"const cp = require('child_process'); cp.exec('ls');"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const cp = require('child_process');"#,
            r#"const cp = require('child_process'); cp.execSync('ls');"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
