//! `changed-install-script`: an existing install hook, or the code it runs, changed.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, changed_hooks};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "changed-install-script",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Allow,
    summary: "An install hook's command, or a file it runs at install time, changed.",
    doc: r#"Flags an install hook (`preinstall`, `install`, `postinstall`) present in both versions whose command changed (medium), and install-time files (the files hooks run and the modules they load) whose content changed (low).

**Why it matters.** Packages that legitimately run install scripts (native builds, binary downloaders) are an attacker's favourite host: an allow-listed hook keeps running after a takeover. The capability rules (`new-network`, `exfiltration-shape` …) say *what* the new install-time code does; this rule says that it changed at all.

**Example.** `"install": "node install.js"` becomes `"install": "node install.js && node telemetry.js"`.

**How to silence.** A policy exception on `changed-install-script` for `name@version` after reviewing the hook.

**Default level: allow.** Packages that always had an install step change it routinely (download helpers, build flags); what the changed code *can do* is judged by the capability rules, which weigh install-time code one step higher. Set it to `warn` to review every change of an install step."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    for (name, hook, before) in changed_hooks(cx) {
        let Some(before) = before else { continue };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "the {name} hook changed in {}: {:?} (was {:?} in {})",
                    cx.to(),
                    hook.command,
                    before.command,
                    cx.from()
                ),
            )
            .with_evidence(
                Evidence::new("package.json")
                    .with_snippet(&format!("\"{name}\": {:?}", hook.command)),
            ),
        );
    }
    for path in &cx.new.install_time_files {
        let (Some(new), Some(old)) = (cx.new.files.get(path), cx.old.files.get(path)) else {
            continue;
        };
        if new.blake3 != old.blake3 && cx.old.is_install_time(path) {
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "install-time file {path} changed in {} (since {})",
                        cx.to(),
                        cx.from()
                    ),
                )
                .with_severity(Severity::Low)
                .with_evidence(Evidence::new(path.clone())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn changed_command_and_file() {
        let old = manifest("1.0.0", r#""scripts":{"install":"node install.js"}"#);
        let new = manifest(
            "1.0.1",
            r#""scripts":{"install":"node install.js && node t.js"}"#,
        );
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &old), ("install.js", "a()")],
            "1.0.1",
            &[
                ("package.json", &new),
                ("install.js", "b()"),
                ("t.js", "c()"),
            ],
        );
        let sev: Vec<Severity> = f
            .iter()
            .filter(|f| f.code == RULE.code)
            .map(|f| f.severity)
            .collect();
        assert_eq!(sev, vec![Severity::Medium, Severity::Low]);
    }

    #[test]
    fn same_hook_same_file_is_quiet() {
        let m = manifest("1.0.0", r#""scripts":{"install":"node install.js"}"#);
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &m), ("install.js", "a()")],
            "1.0.1",
            &[("package.json", &m), ("install.js", "a()")],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
