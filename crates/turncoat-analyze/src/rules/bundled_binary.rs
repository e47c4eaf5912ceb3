//! `bundled-binary` (scan): the package ships native executables.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{MAX_EVIDENCE, ScanCx};
use crate::facts::BinaryKind;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "bundled-binary",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The package ships native executables or libraries (single-version scan).",
    doc: r#"`scan` only (no history): lists ELF, PE and Mach-O files and `.node` addons (WebAssembly is not reported). The history-relative form is `new-binary`.

**Why it matters.** Native code cannot be reviewed like JavaScript; a new dependency that ships one (plus an install hook that runs it) is a classic dropper.

**Example.** `prebuilds/linux-x64/addon.node`.

**How to silence.** A policy exception on `bundled-binary` for `name@version`."#,
};

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    let bins: Vec<(&String, BinaryKind)> = cx
        .facts
        .files
        .iter()
        .filter_map(|(p, f)| f.binary.filter(|k| *k != BinaryKind::Wasm).map(|k| (p, k)))
        .collect();
    let Some((first, kind)) = bins.first() else {
        return;
    };
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} ships {} native file(s), e.g. {first} ({})",
                cx.id(),
                bins.len(),
                kind.as_str()
            ),
        )
        .with_evidence_all(
            bins.iter()
                .take(MAX_EVIDENCE)
                .map(|(p, _)| Evidence::new(p.as_str())),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn elf_is_reported() {
        let f = crate::scan(&pkg(&[("bin/x", "\x7fELF\x02")]), "p", "1");
        assert!(find(&f, RULE.code).is_some());
    }

    #[test]
    fn wasm_and_js_are_quiet() {
        let f = crate::scan(
            &pkg(&[("a.wasm", "\0asm\x01\0\0\0"), ("a.js", "1")]),
            "p",
            "1",
        );
        assert!(f.is_empty());
    }
}
