//! `new-binary`: the version ships a native binary at a new path.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, weigh};
use crate::facts::BinaryKind;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-binary",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The version ships a native executable or library (ELF, PE, Mach-O, .node) at a new path.",
    doc: r#"Files are recognised by magic bytes (`\x7fELF`, `MZ` + PE header, Mach-O and universal Mach-O, WebAssembly) and `.node` addons by extension. Fires for a binary at a path the previous version did not ship as a binary. High when the package shipped no binary at all before (WebAssembly: low).

**Why it matters.** Compiled code cannot be reviewed like JavaScript. eslint-config-prettier 2025 added `node-gyp.dll` and ran it from its install script. Packages that always shipped prebuilt binaries and update them in place stay quiet.

**Example.** 10.1.5 → 10.1.6 adds `node-gyp.dll`.

**How to silence.** A policy exception on `new-binary` for `name@version` (a new platform build)."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let had_any = cx.old.files.values().any(|f| f.binary.is_some());
    for (path, f) in &cx.new.files {
        let Some(kind) = f.binary else { continue };
        if cx.old.files.get(path).is_some_and(|o| o.binary.is_some()) {
            continue;
        }
        // A rebuilt binary whose file name carries the version (`sharp-linux-x64-0.35.5.node`)
        // replaces one of the same kind in the same directory: not a new binary.
        let dir = |p: &str| {
            p.rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default()
        };
        let here = dir(path);
        let replaced = cx.old.files.iter().any(|(p, o)| {
            o.binary == Some(kind) && dir(p) == here && !cx.new.files.contains_key(p)
        });
        if replaced {
            continue;
        }
        let base = if kind == BinaryKind::Wasm {
            Severity::Low
        } else if had_any {
            RULE.severity
        } else {
            Severity::High
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} ({}, {} bytes) is new in {}; {} {}",
                    kind.as_str(),
                    f.size,
                    cx.to(),
                    cx.from(),
                    if had_any {
                        "shipped other binaries"
                    } else {
                        "shipped no binary"
                    }
                ),
            )
            .with_severity(weigh(base, Weight::Single, cx.bump(), false))
            .with_evidence(Evidence::new(path.clone())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn new_elf_fires() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", "1")],
            "1.0.1",
            &[("a.js", "1"), ("bin/x", "\x7fELF....")],
        );
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    #[test]
    fn updated_binary_is_quiet() {
        let f = diff_versions(
            "1.0.0",
            &[("build/a.node", "old")],
            "1.0.1",
            &[("build/a.node", "new")],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
