//! `obfuscated-code` (scan): the package ships obfuscated JavaScript.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::ScanCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "obfuscated-code",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "The package ships obfuscated JavaScript (single-version scan).",
    doc: r#"`scan` only (no history): flags scripts with the shapes obfuscators leave (`_0x…` identifiers, a `push(shift())`-rotated string table, walls of `\x` escapes). Minified code is not obfuscated and never fires. Critical when the file runs at install time. The history-relative form is `new-obfuscation`.

**Why it matters.** Obfuscated install-time code is how Shai-Hulud 2.0 and TanStack 2026 hid their stealers; a new dependency with obfuscated code deserves a look.

**Example.** `setup.js` of a freshly added dependency starts with `var _0x4f2a=[…]`.

**How to silence.** A policy exception on `obfuscated-code` for `name@version`."#,
};

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    for (path, js) in cx.facts.scripts() {
        if !js.obfuscated {
            continue;
        }
        let install_time = cx.is_install_time(path);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} in {} is obfuscated ({} _0x identifiers){}",
                    cx.id(),
                    js.metrics.obfuscator_identifiers,
                    if install_time {
                        " and runs at install time"
                    } else {
                        ""
                    }
                ),
            )
            .with_severity(if install_time {
                Severity::Critical
            } else {
                RULE.severity
            })
            .with_evidence(Evidence::new(path)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::new_obfuscation::OBFUSCATED;
    use crate::rules::testing::*;

    #[test]
    fn install_time_obfuscation_is_critical() {
        let facts = pkg(&[
            (
                "package.json",
                &manifest("1.0.0", r#""scripts":{"postinstall":"node setup.js"}"#),
            ),
            ("setup.js", OBFUSCATED),
        ]);
        let f = crate::scan(&facts, "p", "1.0.0");
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn minified_is_quiet() {
        let min = format!(
            "!function(e,t){{{}}}(this);",
            "var a=e.x,b=t.y;if(a)b(a);".repeat(200)
        );
        assert!(crate::scan(&pkg(&[("m.js", &min)]), "p", "1").is_empty());
    }
}
