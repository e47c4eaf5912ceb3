//! `detonation-canary-read`: the package read a planted credential file.

use turncoat_finding::{Level, RuleDoc, Severity};
use turncoat_sandbox::event::{Event, EventKind};

use super::{Context, Rule, counted};

pub const DETONATION_CANARY_READ: RuleDoc = RuleDoc {
    code: "detonation-canary-read",
    group: "detonation",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "installed and loaded in the sandbox, the new version read a planted credential file",
    doc: "## What it flags\n\
With `turncoat diff --detonate`, each changed package is installed (its lifecycle scripts run) \
and loaded (`require` and `import`) in a sandbox with no network, a throwaway `$HOME` holding \
honeytokens (`~/.npmrc` with an npm token, `~/.ssh/id_rsa`, `~/.aws/credentials`, \
`~/.git-credentials`, `~/.config/gh/hosts.yml`) and fake tokens in the environment. This finding \
means the new version opened one of those files, and the version it replaces did not.\n\n\
## Why it matters\n\
No library needs a user's registry token or SSH key to install or load. Reading them is the \
first step of every credential-stealing update: Shai-Hulud read `~/.npmrc` to publish itself \
onward, the nx s1ngularity payload swept `~/.ssh` and wallet files.\n\n\
## Example\n\
`detonation:postinstall  canary-read ~/.npmrc (by node)`.\n\n\
## How to silence\n\
If the package is a credential helper that legitimately reads these files, add an exception \
pinned to `name@version` in `turncoat.toml`.",
};

pub(super) const RULE: Rule = Rule {
    doc: &DETONATION_CANARY_READ,
    matches,
    key,
    message,
};

fn matches(e: &Event) -> bool {
    e.event == EventKind::CanaryRead
}

fn key(e: &Event, ctx: &Context) -> String {
    ctx.rel(&e.target)
}

fn message(pkg: &str, hits: &[&Event], ctx: &Context) -> String {
    counted(pkg, "read", "planted credential file", hits, ctx)
}

#[cfg(test)]
mod tests {
    use super::super::testing::ev;
    use super::*;

    #[test]
    fn positive() {
        let e = ev(EventKind::CanaryRead, "/tmp/h/.ssh/id_rsa", "postinstall");
        assert!(matches(&e));
        assert!(
            message(
                "x@1",
                &[&e],
                &Context {
                    home: "/h",
                    project: "/p"
                }
            )
            .contains("id_rsa")
        );
    }

    #[test]
    fn negative() {
        assert!(!matches(&ev(
            EventKind::SensitiveRead,
            "/tmp/h/.npmrc",
            "postinstall"
        )));
        assert!(!matches(&ev(
            EventKind::Exec,
            "/usr/bin/cat",
            "postinstall"
        )));
    }
}
