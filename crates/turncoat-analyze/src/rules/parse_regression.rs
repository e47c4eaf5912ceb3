//! `parse-regression`: a script that parsed no longer does.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::facts::JsFacts;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "parse-regression",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "A script that parsed in the previous version no longer parses (or is too deep or too large to analyse).",
    doc: r#"Flags a script that parsed completely in the previous version and now has a syntax error, nests deeper than the analysis allows (`too_deep`), or exceeds the size limit (`skipped`). New scripts that cannot be analysed are reported too, at medium.

**Why it matters.** Whatever cannot be parsed cannot be checked. An attacker who knows the scanner can try to make the payload unparseable for it while Node still runs it; refusing to treat "unanalysable" as "clean" closes that door.

**Example.** `lib/index.js` parsed in 1.2.3; in 1.2.4 it nests 100 000 parentheses deep.

**How to silence.** A policy exception on `parse-regression` for `name@version` (e.g. a file using syntax the parser does not support yet)."#,
};

fn problem(js: Option<&JsFacts>, skipped: Option<&str>) -> Option<String> {
    if let Some(s) = skipped {
        return Some(s.to_string());
    }
    let js = js?;
    if js.too_deep {
        Some("nesting too deep to analyse".into())
    } else {
        js.parse_error
            .as_ref()
            .map(|e| format!("syntax error: {e}"))
    }
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    for (path, f) in &cx.new.files {
        let Some(why) = problem(f.js.as_ref(), f.skipped.as_deref()) else {
            continue;
        };
        let old = cx.old.files.get(path);
        let severity = match old {
            Some(o) if o.blake3 == f.blake3 => continue,
            Some(o) if problem(o.js.as_ref(), o.skipped.as_deref()).is_some() => continue,
            Some(o) if o.js.is_some() => RULE.severity,
            _ => Severity::Medium,
        };
        let was = if severity == RULE.severity {
            format!("it parsed in {}", cx.from())
        } else {
            "it is new".to_string()
        };
        out.push(
            Finding::new(
                &RULE,
                format!("{path} cannot be analysed in {} ({why}); {was}", cx.to()),
            )
            .with_severity(severity)
            .with_evidence(Evidence::new(path.clone())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn broken_file_fires() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", "let a = 1;")],
            "1.0.1",
            &[("a.js", "let a = ;;(")],
        );
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    #[test]
    fn always_broken_is_quiet() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", "let = ;")],
            "1.0.1",
            &[("a.js", "let = ;;")],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
