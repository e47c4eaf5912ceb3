//! `install-script-inline-code`: an install hook runs code that is not a reviewable file.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, ScanCx, hook_rule_diff, hook_rule_scan};
use crate::facts::ShellFeature;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "install-script-inline-code",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "An install hook runs inline or encoded code (node -e, base64 -d, sh -c, PowerShell, rundll32).",
    doc: r#"Flags `preinstall` / `install` / `postinstall` commands that run inline JavaScript (`node -e`/`-p`), decode base64 (`base64 -d`, `certutil -decode`, `FromBase64String`), nest a shell (`sh -c`, `cmd /c`), run PowerShell, or start binaries (`chmod +x`, `./payload`, `rundll32`, `mshta`).

In `diff` it fires for new or changed hooks and features no previous hook had; in `scan` for every hook.

**Why it matters.** Inline and encoded commands keep the payload out of the files a reviewer reads. eslint-config-prettier 2025 ran a DLL through `rundll32` from its install script.

**Example.** `"postinstall": "node -e \"eval(Buffer.from('…','base64').toString())\""`.

**How to silence.** A policy exception on `install-script-inline-code` for the exact `name@version`."#,
};

const FEATURES: &[ShellFeature] = &[
    ShellFeature::NodeEval,
    ShellFeature::Base64Decode,
    ShellFeature::ShellC,
    ShellFeature::PowerShell,
    ShellFeature::RunsBinary,
];

fn severity(hits: &std::collections::BTreeSet<ShellFeature>) -> Severity {
    if hits.contains(&ShellFeature::Base64Decode) {
        Severity::Critical
    } else {
        RULE.severity
    }
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(hook_rule_diff(cx, &RULE, FEATURES, severity));
}

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    out.extend(hook_rule_scan(cx, &RULE, FEATURES, severity));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn node_eval_hook_fires() {
        let hook = r#""scripts":{"postinstall":"node -e \"require('./x')\""}"#;
        let f = diff_manifest(hook);
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    #[test]
    fn base64_is_critical_and_plain_node_is_quiet() {
        let s = crate::scan(
            &pkg(&[(
                "package.json",
                &manifest(
                    "1.0.0",
                    r#""scripts":{"install":"echo aGk= | base64 -d | sh"}"#,
                ),
            )]),
            "p",
            "1.0.0",
        );
        assert_eq!(
            find(&s, RULE.code).map(|f| f.severity),
            Some(Severity::Critical)
        );
        let q = crate::scan(
            &pkg(&[(
                "package.json",
                &manifest("1.0.0", r#""scripts":{"install":"node install.js"}"#),
            )]),
            "p",
            "1.0.0",
        );
        assert!(find(&q, RULE.code).is_none());
    }
}
