//! `decode-exec` (scan): the package decodes a string and executes it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{MAX_EVIDENCE, NewUse, ScanCx};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "decode-exec",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The package decodes a string and executes it (single-version scan).",
    doc: r#"`scan` only (no history): flags a decoded string (`atob`, `Buffer.from(x,'base64'|'hex')`, `String.fromCharCode`, `unescape`) reaching `eval`, `Function`, `vm` or `child_process`. Critical in install-time code. The history-relative form is `new-decode-exec`.

**Why it matters.** Hiding the code that runs has no benign purpose in a published library.

**Example.** `eval(atob('ZmV0Y2goJ2h0dHBzOi8veC5leGFtcGxlJyk='))`.

**How to silence.** A policy exception on `decode-exec` for `name@version`."#,
};

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    for (path, js) in cx.facts.scripts() {
        let uses = js.uses(Capability::DecodeExec);
        let Some(first) = uses.first() else { continue };
        let install_time = cx.is_install_time(path);
        let severity = if install_time {
            Severity::Critical
        } else {
            RULE.severity
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path}:{} in {} decodes a string and runs it{}",
                    first.line,
                    cx.id(),
                    if install_time { " at install time" } else { "" }
                ),
            )
            .with_severity(severity)
            .with_evidence_all(uses.iter().take(MAX_EVIDENCE).map(|occ| {
                NewUse {
                    path,
                    occ,
                    install_time,
                }
                .evidence()
            })),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn decode_then_eval_fires() {
        let facts = pkg(&[(
            "a.js",
            "const c = Buffer.from(process.argv[2], 'base64').toString(); eval(c);",
        )]);
        assert_eq!(
            find(&crate::scan(&facts, "p", "1"), RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    #[test]
    fn plain_eval_is_quiet() {
        let facts = pkg(&[(
            "a.js",
            "eval('1 + 1'); const b = Buffer.from('aGk=', 'base64');",
        )]);
        assert!(find(&crate::scan(&facts, "p", "1"), RULE.code).is_none());
    }
}
