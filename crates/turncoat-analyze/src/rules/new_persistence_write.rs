//! `new-persistence-write`: The package newly writes to a place that makes code run again (shell rc, workflows, editor/agent config).

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-persistence-write",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The package newly writes to a place that makes code run again (shell rc, workflows, editor/agent config).",
    doc: r#"Flags, in a file that writes files, string literals naming persistence places no file of the previous version named: `.bashrc`, `.zshrc`, `.bash_profile`, `~/.profile`, `.github/workflows`, `~/.npmrc`, `.vscode/tasks.json`, `.claude/settings.json`, `crontab`, `LaunchAgents`/`LaunchDaemons`, `systemd/user`, the Windows Run key and Startup folder.

**Why it matters.** Worms persist and spread this way: Shai-Hulud injected GitHub workflows, nx appended to shell rc files, the 2026 waves planted `.claude/settings.json` hooks and `.vscode/tasks.json` tasks. No other scanner has a static rule for the agent/editor files.

**Example.** `fs.appendFileSync(os.homedir() + '/.bashrc', 'sudo shutdown -h 0')`.

**How to silence.** Silence it for one package with a policy exception on `new-persistence-write` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    // Per target: a package that always read `.npmrc` and now also reads `.ssh` fires.
    let known: BTreeSet<&str> = cx
        .old
        .scripts()
        .flat_map(|(_, js)| js.uses(Capability::PersistenceWrite))
        .filter_map(|o| o.detail.as_deref())
        .collect();
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::PersistenceWrite,
        Weight::Single,
        |o| o.detail.as_deref().is_some_and(|d| !known.contains(d)),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_new_target() {
        let f = diff_index(
            r#"const fs = require('fs'); fs.writeFileSync('out.txt', 'x');"#,
            r#"const fs = require('fs'); fs.appendFileSync(require('os').homedir() + '/.bashrc', 'x');"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn reading_npmrc_is_not_writing_it() {
        // `.npmrc` is a credential store and a persistence place: a read elsewhere in a file
        // that writes something else is a sensitive read, not a persistence write.
        let f = diff_index(
            r#"module.exports = 1;"#,
            r#"const fs = require('fs'); const t = fs.readFileSync(require('os').homedir() + '/.npmrc', 'utf8'); fs.writeFileSync('out.txt', t.length);"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        let f = diff_index(
            r#"module.exports = 1;"#,
            r#"const fs = require('fs'); fs.writeFileSync(require('os').homedir() + '/.npmrc', 'registry=x');"#,
        );
        let hit = find(&f, RULE.code).expect("a write call around it is a write");
        assert!(hit.message.contains(".npmrc"), "{hit:?}");
    }

    #[test]
    fn quiet_for_known_targets() {
        let f = diff_index(
            r#"const fs = require('fs'); fs.writeFileSync('.github/workflows/ci.yml', 'x');"#,
            r#"const fs = require('fs'); fs.writeFileSync('.github/workflows/ci.yml', 'y'); fs.writeFileSync('.github/workflows/b.yml', 'y');"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
