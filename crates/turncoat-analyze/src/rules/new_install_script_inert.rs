//! `new-install-script-inert`: the version adds an install hook that reaches nothing.
//!
//! Decided by `new_install_script::not_inert` (one place judges what a new hook runs); this
//! file holds the rule's definition and its own true and false cases.

use turncoat_finding::{Level, RuleDoc, Severity};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-install-script-inert",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The version adds an install hook that only prints or runs package code reaching no capability.",
    doc: r#"Flags a new `preinstall` / `install` / `postinstall` hook when everything it runs was read and reaches nothing: its commands are `echo`/`printf` or `node <package file>`, every file it runs (and everything those load at install time) parsed, is not obfuscated, loads no native code and uses no network, DNS, child process, whole-environment dump, credential path, persistence path, `eval`/`Function`, computed `require` or decode-then-execute. A "thanks for installing" banner is the usual case.

**Why warn, not deny.** A hook is judged by what it runs. One that reaches a capability, runs a program the gate cannot read (a dependency's tool, inline `node -e` code, a binary), or runs a file that does not parse stays `new-install-script` (deny). This one still runs on every install, so it is shown: the next release can change what it runs without adding a hook.

**Example.** 1.0.0 had no scripts; 1.0.1 adds `"postinstall": "node scripts/thanks.js"` where `thanks.js` is `console.log('Thanks!')`.

**How to silence.** Set this code to `allow` in `turncoat.toml`, or add an exception for `name@version`."#,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn hook_update(hook: &str, files: &[(&str, &str)]) -> Vec<turncoat_finding::Finding> {
        let m = manifest("1.0.1", hook);
        let mut new = vec![("package.json", m.as_str())];
        new.extend_from_slice(files);
        diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", ""))],
            "1.0.1",
            &new,
        )
    }

    #[test]
    fn banner_hooks_are_inert() {
        for (hook, files) in [
            (
                r#""scripts":{"postinstall":"echo thanks for installing"}"#,
                vec![],
            ),
            (
                r#""scripts":{"postinstall":"node scripts/thanks.js"}"#,
                vec![(
                    "scripts/thanks.js",
                    "if (!process.env.CI) console.log('Thanks! Sponsor us.');",
                )],
            ),
            (
                r#""scripts":{"postinstall":"npm run banner","banner":"node banner"}"#,
                vec![("banner.js", "console.log('hi')")],
            ),
        ] {
            let f = hook_update(hook, &files);
            assert!(find(&f, RULE.code).is_some(), "{hook}: {f:?}");
            assert!(find(&f, "new-install-script").is_none(), "{hook}: {f:?}");
        }
    }

    #[test]
    fn a_hook_reaching_a_capability_is_not_inert() {
        // Printing first does not make the rest harmless.
        let f = hook_update(
            r#""scripts":{"postinstall":"node thanks.js"}"#,
            &[(
                "thanks.js",
                "console.log('thanks'); require('child_process').exec('id');",
            )],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        assert!(find(&f, "new-install-script").is_some());
    }
}
