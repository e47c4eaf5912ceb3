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

    /// The event-stream shape, inert: a new dependency ships an encrypted blob and a loader
    /// that decrypts it with a key from its environment and compiles the result.
    fn encrypted_loader() -> String {
        let blob = "9f3c2a".repeat(40);
        format!(
            "const crypto = require('crypto');\nconst data = '{blob}';\nmodule.exports = function () {{\n  const key = process.env.npm_package_description;\n  if (!key) return;\n  const d = crypto.createDecipher('aes256', key);\n  let src = d.update(data, 'hex', 'utf8');\n  src += d.final('utf8');\n  const m = new module.constructor();\n  m.paths = module.paths;\n  m._compile(src, '');\n  return m.exports;\n}};\n"
        )
    }

    #[test]
    fn decrypt_then_compile_fires() {
        let src = encrypted_loader();
        let facts = pkg(&[
            ("package.json", &manifest("0.1.1", "")),
            ("index.min.js", &src),
        ]);
        let found = crate::scan(&facts, "flatmap-stream", "0.1.1");
        let hit = find(&found, RULE.code).expect("finding");
        assert_eq!(hit.severity, Severity::High);
        // The history-relative form, when a release adds it.
        let f = diff_index("module.exports = () => {};", &src);
        assert!(find(&f, "new-decode-exec").is_some(), "{:?}", codes(&f));
    }

    #[test]
    fn a_decipher_that_is_only_returned_is_quiet() {
        let facts = pkg(&[(
            "a.js",
            "const crypto = require('crypto');\nmodule.exports = (k, iv, b) => { const d = crypto.createDecipheriv('aes-256-gcm', k, iv); return Buffer.concat([d.update(b), d.final()]); };",
        )]);
        assert!(find(&crate::scan(&facts, "p", "1"), RULE.code).is_none());
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
