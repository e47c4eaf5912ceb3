//! `new-obfuscation`: a readable file became obfuscated, or an obfuscated file appeared.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::facts::JsFacts;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-obfuscation",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A file that was readable became obfuscated, or a new obfuscated file appeared.",
    doc: r#"Obfuscation is recognised by the shapes obfuscators leave, not by minification: `_0x…` identifiers (javascript-obfuscator), a string table rotated with `push(shift())`, walls of `\x` escapes. Minified bundles (short names, long lines, little whitespace) are *not* obfuscated, so libraries that always shipped minified code stay quiet.

Fires when a file is obfuscated in the new version and was not in the previous one (or did not exist). **Critical** when the file runs at install time; **medium** when the package already shipped other obfuscated files.

**Why it matters.** History-relative obfuscation is the chalk/debug 2025 signal: a readable `index.js` gained an obfuscated crypto-clipper. Shai-Hulud 2.0 and TanStack 2026 ran multi-megabyte obfuscated files from install hooks.

**Example.** `index.js` 4.4.1 is plain; 4.4.2 has `var _0x4f2a=['…'];(function(_0x1b2c,_0x3d4e){…})`.

**How to silence.** A policy exception on `new-obfuscation` for `name@version` (some vendors obfuscate licence checks on purpose)."#,
};

fn why(js: &JsFacts) -> String {
    let m = &js.metrics;
    let mut parts = Vec::new();
    if m.obfuscator_identifiers > 0 {
        parts.push(format!("{} _0x identifiers", m.obfuscator_identifiers));
    }
    if m.string_array_rotation {
        parts.push(format!(
            "a rotated string table of {}",
            m.largest_string_array
        ));
    }
    if m.hex_escapes_per_kb >= 50.0 {
        parts.push(format!("{:.0} \\x escapes per KB", m.hex_escapes_per_kb));
    }
    parts.join(", ")
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let old_obfuscated = cx.old.scripts().any(|(_, js)| js.obfuscated);
    for (path, js) in cx.new.scripts() {
        if !js.obfuscated {
            continue;
        }
        let before = cx.old.js(path);
        if before.is_some_and(|b| b.obfuscated) {
            continue;
        }
        let install_time = cx.new.is_install_time(path);
        let severity = if install_time {
            Severity::Critical
        } else if old_obfuscated {
            Severity::Medium
        } else {
            RULE.severity
        };
        let state = if before.is_some() {
            format!("was readable in {}", cx.from())
        } else {
            format!("is new; {} shipped no obfuscated code", cx.from())
        };
        let when = if install_time {
            " and runs at install time"
        } else {
            ""
        };
        let line = js.long_lines.first().map(|l| l.line).unwrap_or(1);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} is obfuscated in {} ({}){when}; it {state}",
                    cx.to(),
                    why(js)
                ),
            )
            .with_severity(severity)
            .with_evidence(Evidence::at(path, line)),
        );
    }
}

#[cfg(test)]
pub(crate) const OBFUSCATED: &str = "var _0x1a2b=['log','hello','push','shift','a','b','c','d','e','f','g','h'];(function(_0x3c4d,_0x5e6f){var _0x7a8b=function(_0x9c0d){while(--_0x9c0d){_0x3c4d['push'](_0x3c4d['shift']());}};_0x7a8b(++_0x5e6f);}(_0x1a2b,0x1f4));var _0x2b3c=function(_0x4d5e,_0x6f7a){_0x4d5e=_0x4d5e-0x0;var _0x8b9c=_0x1a2b[_0x4d5e];return _0x8b9c;};console[_0x2b3c('0x0')](_0x2b3c('0x1'));var _0xaaaa=_0x2b3c,_0xbbbb=_0xaaaa,_0xcccc=_0xbbbb,_0xdddd=_0xcccc,_0xeeee=_0xdddd;";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn readable_to_obfuscated_fires() {
        let f = diff_versions(
            "4.4.1",
            &[
                ("package.json", &manifest("4.4.1", "")),
                ("index.js", "module.exports = function debug() {};\n"),
            ],
            "4.4.2",
            &[
                ("package.json", &manifest("4.4.2", "")),
                (
                    "index.js",
                    &format!("module.exports = function debug() {{}};\n{OBFUSCATED}\n"),
                ),
            ],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.severity, Severity::High);
        assert!(hit.message.contains("was readable"), "{}", hit.message);
    }

    #[test]
    fn minified_is_not_obfuscated_and_old_obfuscation_is_quiet() {
        let min = format!(
            "!function(e,t){{{}}}(this);",
            "var a=e.x,b=t.y;if(a)b(a);".repeat(200)
        );
        let f = diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", "")), ("a.js", "x")],
            "1.0.1",
            &[("package.json", &manifest("1.0.1", "")), ("a.js", &min)],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        let f = diff_versions(
            "1.0.0",
            &[
                ("package.json", &manifest("1.0.0", "")),
                ("o.js", OBFUSCATED),
            ],
            "1.0.1",
            &[
                ("package.json", &manifest("1.0.1", "")),
                ("o.js", &format!("{OBFUSCATED}var _0xffff=1;")),
            ],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
