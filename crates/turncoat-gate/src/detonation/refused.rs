//! `detonation-refused`: the package tried a syscall the sandbox refuses in every mode
//! (io_uring, ptrace, raw sockets, nested namespaces) — ways around observation.

use turncoat_finding::{Level, RuleDoc, Severity};
use turncoat_sandbox::event::{Event, EventKind};

use super::{Context, Rule, stages};

pub const DETONATION_REFUSED: RuleDoc = RuleDoc {
    code: "detonation-refused",
    group: "detonation",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "installed and loaded in the sandbox, the new version tried io_uring, ptrace, raw sockets or namespaces",
    doc: "## What it flags\n\
With `turncoat diff --detonate`, a call the sandbox refuses outright — `io_uring_setup` (whose \
network operations bypass syscall observation), `ptrace`, `socket` with a raw or packet type, \
`unshare`/`setns`/`clone` with namespace flags — that the version being replaced did not make.\n\n\
## Why it matters\n\
Ordinary JavaScript libraries do none of these. Malware uses them to evade monitors (io_uring \
connect is invisible to seccomp and strace), to sniff or craft packets, or to tamper with other \
processes. Some native tools legitimately probe io_uring, hence a warning, not a block.\n\n\
## How to silence\n\
Set this code to `allow` or add an exception pinned to `name@version`.",
};

pub(super) const RULE: Rule = Rule {
    doc: &DETONATION_REFUSED,
    matches,
    key,
    message,
};

fn matches(e: &Event) -> bool {
    e.event == EventKind::Refused
}

fn key(e: &Event, _ctx: &Context) -> String {
    e.target.clone()
}

fn message(pkg: &str, hits: &[&Event], _ctx: &Context) -> String {
    let names: Vec<&str> = hits.iter().map(|e| e.target.as_str()).collect();
    format!(
        "{pkg} tried {} during {}, which the sandbox refuses",
        names.join(", "),
        stages(hits)
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::ev;
    use super::*;

    #[test]
    fn positive() {
        let e = ev(EventKind::Refused, "io_uring_setup", "postinstall");
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
            .contains("io_uring_setup")
        );
    }

    #[test]
    fn negative() {
        assert!(!matches(&ev(
            EventKind::Exec,
            "/usr/bin/node",
            "postinstall"
        )));
    }
}
