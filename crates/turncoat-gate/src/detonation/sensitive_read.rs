//! `detonation-sensitive-read`: the package opened a secret-bearing path that is not one of the
//! planted honeytokens (process environments, mounted secrets, wallets, browser profiles).

use turncoat_finding::{Level, RuleDoc, Severity};
use turncoat_sandbox::event::{Event, EventKind};

use super::{Context, Rule, counted};

pub const DETONATION_SENSITIVE_READ: RuleDoc = RuleDoc {
    code: "detonation-sensitive-read",
    group: "detonation",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "installed and loaded in the sandbox, the new version opened secrets (process environments, wallets, mounted secrets)",
    doc: "## What it flags\n\
With `turncoat diff --detonate`, an open of a path that holds secrets — `/proc/<pid>/environ`, \
`/run/secrets`, a Kubernetes service-account token, a crypto wallet or browser profile, a cloud \
CLI's credentials — that the version being replaced did not open. (Reads of the planted \
honeytokens are `detonation-canary-read`.)\n\n\
## Why it matters\n\
Harvesting other processes' environments is how CI tokens are stolen from runners (the \
`/proc/*/environ` sweep of the 2025 GitHub Actions compromises); wallets and browser profiles are \
what the 2025 chalk/debug payload and its successors went after.\n\n\
## How to silence\n\
Add an exception pinned to `name@version` if the package is a tool that legitimately inspects \
these paths.",
};

pub(super) const RULE: Rule = Rule {
    doc: &DETONATION_SENSITIVE_READ,
    matches,
    key,
    message,
};

fn matches(e: &Event) -> bool {
    e.event == EventKind::SensitiveRead
}

fn key(e: &Event, ctx: &Context) -> String {
    // Pids differ between runs.
    turncoat_sandbox::paths::generic_proc(&ctx.rel(&e.target))
}

fn message(pkg: &str, hits: &[&Event], ctx: &Context) -> String {
    counted(pkg, "opened", "secret path", hits, ctx)
}

#[cfg(test)]
mod tests {
    use super::super::testing::ev;
    use super::*;

    #[test]
    fn positive() {
        let e = ev(EventKind::SensitiveRead, "/proc/1/environ", "postinstall");
        assert!(matches(&e));
        let ctx = Context {
            home: "/h",
            project: "/p",
        };
        assert_eq!(key(&e, &ctx), "/proc/<pid>/environ");
    }

    #[test]
    fn negative() {
        assert!(!matches(&ev(
            EventKind::CanaryRead,
            "/h/.npmrc",
            "postinstall"
        )));
        assert!(!matches(&ev(EventKind::Dns, "x.invalid", "postinstall")));
    }
}
