//! `new-bin-entry`: the version adds a `bin` command.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-bin-entry",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "The version adds a `bin` command, or points an existing one at another file.",
    doc: r#"Flags `bin` commands that are new, or that now point at a different file.

**Why it matters.** A `bin` entry puts a command on the `PATH` of every project that installs the package (`node_modules/.bin`); a common name (`node`, `npm`, `git`) can shadow the real tool in npm scripts. npq's `newBin` check is one of the few history-relative checks elsewhere.

**Example.** 2.0.1 adds `"bin": {"git": "lib/git.js"}`.

**How to silence.** A policy exception on `new-bin-entry` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let Some(new) = &cx.new.manifest else { return };
    let old = cx.old.manifest.as_ref();
    for (cmd, path) in &new.bin {
        let before = old.and_then(|m| m.bin.get(cmd));
        if before.is_some_and(|b| same_file(b, path)) {
            continue;
        }
        let was = match before {
            Some(b) => format!("it ran {b} in {}", cx.from()),
            None => format!("{} had no such command", cx.from()),
        };
        out.push(
            Finding::new(
                &RULE,
                format!("bin command `{cmd}` runs {path} in {}; {was}", cx.to()),
            )
            .with_evidence(
                Evidence::new("package.json").with_snippet(&format!("\"{cmd}\": {path:?}")),
            ),
        );
    }
}

/// Whether two `bin` targets name the same file as npm resolves them (relative to the
/// package root: `./bin/x`, `bin/x` and `bin//./x` are one file).
fn same_file(a: &str, b: &str) -> bool {
    fn parts(p: &str) -> Vec<&str> {
        p.split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != ".")
            .collect()
    }
    parts(a) == parts(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn new_command_fires() {
        let f = diff_manifest(r#""bin":{"git":"x.js"}"#);
        assert!(find(&f, RULE.code).is_some());
    }

    #[test]
    fn the_same_file_spelled_differently_is_quiet_but_another_file_is_not() {
        assert!(same_file("./bin/stylus", "bin/stylus"));
        assert!(same_file("bin//./cli.js", "bin/cli.js"));
        assert!(!same_file("bin/cli.js", "bin/../cli.js"));
        assert!(!same_file("bin/cli.js", "bin/cli.mjs"));
    }

    #[test]
    fn same_command_is_quiet() {
        let m = manifest("1.0.0", r#""bin":{"tool":"cli.js"}"#);
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &m)],
            "1.0.1",
            &[("package.json", &m)],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
