//! `py-obfuscation`: the release newly carries obfuscator markers (pyarmor).

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, detail_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-obfuscation",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The release newly ships obfuscated code (pyarmor runtime or `__pyarmor__` markers).",
    doc: r#"Fires when strings or imports naming an obfuscator runtime (`__pyarmor__`, `pyarmor_runtime*`, `pytransform`) appear and the previous release had none.

**Why it matters.** Obfuscated code cannot be reviewed, and a project that was readable yesterday does not become obfuscated in a patch release for a good reason; PyPI stealers commonly ship pyarmor-wrapped payloads.

**How to silence.** A policy exception on `py-obfuscation` for `name@version` (for projects that adopted an obfuscator on purpose)."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(detail_rule(
        cx,
        &RULE,
        Capability::Obfuscation,
        "ships obfuscated code",
        |_| Severity::High,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_pyarmor_runtime() {
        let new = "from pyarmor_runtime_000000 import __pyarmor__\n__pyarmor__(__name__, __file__, b'...')\n";
        assert_eq!(init_diff("", new, RULE.code).len(), 1);
    }

    #[test]
    fn quiet_when_it_always_was() {
        let s = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n";
        assert!(init_diff(s, s, RULE.code).is_empty());
    }
}
