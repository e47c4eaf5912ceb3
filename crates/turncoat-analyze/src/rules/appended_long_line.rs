//! `appended-long-line`: a long line appeared in a readable file.

use std::collections::BTreeSet;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::js::LONG_LINE;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "appended-long-line",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A readable file gained a line of 2000+ bytes (code hidden on one line or off-screen).",
    doc: r#"Flags a script that was readable in the previous version (no line of 500 bytes or more) and gains a line of at least 2000 bytes. High when the line is at the end of the file (where injected payloads are appended) or the file is now obfuscated; medium otherwise. Files that always carried long lines (generated tables, schemas) never fire.

**Why it matters.** The chalk/debug 2025 clipper and rand-user-agent 2025 were single long lines appended to an otherwise readable `index.js`, far to the right of what an editor or a diff view shows. Readable files rarely grow such lines; minified files (always long-lined) never fire.

**Example.** `index.js` 5.6.0 ends with `module.exports = chalk;`; 5.6.1 adds a 40 KB line after it.

**How to silence.** A policy exception on `appended-long-line` for `name@version` (e.g. an inlined data table)."#,
};

/// Shortest new line that counts: injected payloads are kilobytes long; a long error
/// message or regex added to readable code is not.
pub(crate) const APPENDED_MIN: u32 = 2000;

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    for (path, js) in cx.new.scripts() {
        let Some(old) = cx.old.js(path) else { continue };
        // Only files that had no long line at all: generated tables and schemas that always
        // carried some never fire.
        if old.minified || old.metrics.max_line_len as usize >= LONG_LINE {
            continue;
        }
        if js.metrics.lines <= 3 && !js.obfuscated {
            // The whole file is now one line: that is `became-minified`.
            continue;
        }
        let known: BTreeSet<&str> = old
            .long_lines
            .iter()
            .map(|l| l.line_hash.as_str())
            .collect();
        let Some(longest) = js
            .long_lines
            .iter()
            .filter(|l| l.len >= APPENDED_MIN && !known.contains(l.line_hash.as_str()))
            .max_by_key(|l| l.len)
        else {
            continue;
        };
        let at_end = longest.line + 3 >= js.metrics.lines;
        let place = if at_end { "at the end of" } else { "in" };
        let severity = if at_end || js.obfuscated {
            RULE.severity
        } else {
            Severity::Medium
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} bytes on line {} {place} {path}, new in {}; the file was readable in {} (longest line {} bytes)",
                    longest.len,
                    longest.line,
                    cx.to(),
                    cx.from(),
                    old.metrics.max_line_len,
                ),
            )
            .with_severity(severity)
            .with_evidence(Evidence::at(path, longest.line)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const BASE: &str = "'use strict';\nfunction f(a) {\n  return a + 1;\n}\nmodule.exports = f;\n";

    #[test]
    fn appended_line_fires() {
        let payload = format!(
            "{BASE}{}\n",
            "var q=[1,2,3].map(function(x){return x*2});".repeat(60)
        );
        let f = diff_versions(
            "1.0.0",
            &[("index.js", BASE)],
            "1.0.1",
            &[("index.js", &payload)],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("at the end of"), "{}", hit.message);
        assert_eq!(hit.evidence[0].line, Some(6));
    }

    #[test]
    fn a_long_message_in_readable_code_is_quiet() {
        let msg = format!("{BASE}throw new Error('{}');\n", "explain ".repeat(100));
        let f = diff_versions(
            "1.0.0",
            &[("index.js", BASE)],
            "1.0.1",
            &[("index.js", &msg)],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn existing_long_line_is_quiet() {
        let with = format!("{BASE}var table = '{}';\n", "ab ".repeat(300));
        let f = diff_versions(
            "1.0.0",
            &[("index.js", &with)],
            "1.0.1",
            &[("index.js", &format!("{with}// more\n"))],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}
