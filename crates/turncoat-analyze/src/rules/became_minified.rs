//! `became-minified`: a readable file became minified.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, weigh};
use crate::js::LONG_LINE;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "became-minified",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "A file that was readable is minified in the new version.",
    doc: r#"Flags a script that existed in the previous version as readable code and is minified (long lines, little whitespace) in the new one. Files that were always minified never fire; obfuscation is a separate, stronger rule (`new-obfuscation`).

**Why it matters.** Minifying a file hides a change from review; projects do switch build setups, hence low. Install-time files raise it one step, a major lowers it.

**Example.** `lib/index.js` 2.1.0 is 300 readable lines; 2.1.1 is one 40 KB line.

**How to silence.** A policy exception on `became-minified` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    for (path, js) in cx.new.scripts() {
        let Some(old) = cx.old.js(path) else { continue };
        // Truly readable before: no long line at all (generated files that always had a few
        // stay quiet when they cross the threshold).
        if !js.minified
            || old.minified
            || js.obfuscated
            || old.metrics.max_line_len as usize >= LONG_LINE
        {
            continue;
        }
        let install_time = cx.new.is_install_time(path);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} is minified in {} (longest line {} bytes); it was readable in {} (longest line {})",
                    cx.to(),
                    js.metrics.max_line_len,
                    cx.from(),
                    old.metrics.max_line_len
                ),
            )
            .with_severity(weigh(RULE.severity, Weight::Single, cx.bump(), install_time))
            .with_evidence(Evidence::new(path)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn minified() -> String {
        format!(
            "!function(e,t){{{}}}(this);",
            "var a=e.x,b=t.y;if(a)b(a);".repeat(200)
        )
    }

    #[test]
    fn readable_to_minified() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", "function f(a) {\n  return a;\n}\n")],
            "1.0.1",
            &[("a.js", &minified())],
        );
        assert_eq!(find(&f, RULE.code).map(|f| f.severity), Some(Severity::Low));
    }

    #[test]
    fn always_minified_is_quiet() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", &minified())],
            "1.0.1",
            &[("a.js", &format!("{};", minified()))],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
