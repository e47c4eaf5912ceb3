//! `detonation-persistence`: the package wrote where code runs again later (shell start-up
//! files, CI workflows, editor and agent configuration, `~/.npmrc`).

use turncoat_finding::{Level, RuleDoc, Severity};
use turncoat_sandbox::event::{Event, EventKind};

use super::{Context, Rule, counted};

pub const DETONATION_PERSISTENCE: RuleDoc = RuleDoc {
    code: "detonation-persistence",
    group: "detonation",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "installed and loaded in the sandbox, the new version wrote to a persistence location",
    doc: "## What it flags\n\
With `turncoat diff --detonate`, a write (open for writing, create, rename or link) to a place \
whose contents run later: `~/.bashrc` and other shell start-up files, `~/.npmrc`, \
`~/.ssh/authorized_keys`, autostart and systemd user units, and, outside `node_modules`, \
`.github/workflows`, `.vscode`, `.claude`, `.cursor` or `.husky` — when the previous version \
did not.\n\n\
## Why it matters\n\
Shai-Hulud 2 wrote a GitHub Actions workflow to every repository it could reach; other \
payloads append to shell start-up files or add an editor task so they run again after the \
install is long gone.\n\n\
## How to silence\n\
Add an exception pinned to `name@version` (a dotfiles or editor-setup tool, for example).",
};

pub(super) const RULE: Rule = Rule {
    doc: &DETONATION_PERSISTENCE,
    matches,
    key,
    message,
};

fn matches(e: &Event) -> bool {
    e.event == EventKind::PersistenceWrite
}

fn key(e: &Event, ctx: &Context) -> String {
    ctx.rel(&e.target)
}

fn message(pkg: &str, hits: &[&Event], ctx: &Context) -> String {
    counted(pkg, "wrote to", "persistence location", hits, ctx)
}

#[cfg(test)]
mod tests {
    use super::super::testing::ev;
    use super::*;

    #[test]
    fn positive() {
        let e = ev(EventKind::PersistenceWrite, "/h/.bashrc", "postinstall");
        assert!(matches(&e));
        assert_eq!(
            key(
                &e,
                &Context {
                    home: "/h",
                    project: "/p"
                }
            ),
            "~/.bashrc"
        );
    }

    #[test]
    fn negative() {
        assert!(!matches(&ev(
            EventKind::SensitiveRead,
            "/h/.bashrc",
            "postinstall"
        )));
    }
}
