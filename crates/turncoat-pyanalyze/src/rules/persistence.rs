//! `py-persistence-write`: the release newly names a place that runs code later.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, detail_rule};
use crate::facts::{Capability, Moment};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-persistence-write",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "Python code newly names a persistence place: shell rc files, crontab, systemd user units, autostart, LaunchAgents, `sitecustomize.py` or a `.pth` in site-packages.",
    doc: r#"Flags string literals naming where code is planted to run again later — `.bashrc`, `.bash_profile`, `.zshrc`, `.profile`, `crontab`, `/etc/cron*`, `systemd/user`, `.config/autostart`, `LaunchAgents`, `/etc/rc.local`, `sitecustomize.py`, `usercustomize.py`, a path ending in `.pth` — that no file of the previous release named.

**Why it matters.** A stealer that wants to survive the next `pip uninstall` writes itself into one of these; libraries have no reason to.

**How to silence.** A policy exception on `py-persistence-write` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(detail_rule(
        cx,
        &RULE,
        Capability::Persistence,
        "names persistence places",
        |m| {
            if m <= Moment::Import {
                Severity::Critical
            } else {
                Severity::High
            }
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_new_place() {
        let new = "import os\ndef f():\n    open(os.path.expanduser('~/.config/systemd/user/x.service'), 'w')\n";
        assert_eq!(init_diff("", new, RULE.code).len(), 1);
    }

    #[test]
    fn quiet_for_unrelated_strings() {
        assert!(init_diff("", "NAME = 'profile'\nP = 'docs/bashrc.md'\n", RULE.code).is_empty());
    }
}
