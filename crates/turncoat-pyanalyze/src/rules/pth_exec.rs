//! `py-pth-exec`: a `.pth` file with lines the interpreter executes at every start, new in
//! this release.

use std::collections::BTreeSet;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-pth-exec",
    group: "pyanalyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "The release ships a `.pth` file with `import` lines (code run at every interpreter start) that the previous release did not have.",
    doc: r#"The `site` module executes every line of a `.pth` file in site-packages that starts with `import` followed by a space or tab, each time any Python process starts — whether or not the package is ever imported. Fires for each such line (compared by its text) that no `.pth` of the previous release had; the modules those lines import are analysed as interpreter-start code by the other rules.

**Why it matters.** It is the one way a wheel runs code without an install hook and without being imported: a trojanized wheel gets "on next python start" execution everywhere it is installed, CI included. Legitimate uses (`distutils-precedence.pth` of setuptools, coverage, editable installs) ship the same line release after release and stay quiet.

**How to silence.** A policy exception on `py-pth-exec` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let known: BTreeSet<&str> = cx.old.pth_exec.iter().map(|l| l.text.trim()).collect();
    let new: Vec<_> = cx
        .new
        .pth_exec
        .iter()
        .filter(|l| !known.contains(l.text.trim()))
        .collect();
    let Some(first) = new.first() else { return };
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} in {} executes code at every interpreter start ({} new line{}); {} had no such line",
                first.path,
                cx.to(),
                new.len(),
                if new.len() == 1 { "" } else { "s" },
                cx.from()
            ),
        )
        .with_evidence_all(
            new.iter()
                .take(MAX_EVIDENCE)
                .map(|l| Evidence::at(&l.path, l.line).with_snippet(&l.text)),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_new_import_line() {
        let old = wheel(&[("demo/__init__.py", "")]);
        let new = wheel(&[
            ("demo/__init__.py", ""),
            ("demo-init.pth", "./demo\nimport demo._boot\n"),
        ]);
        let f: Vec<_> = run(&old, &new)
            .into_iter()
            .filter(|f| f.code == RULE.code)
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence[0].line, Some(2));
    }

    #[test]
    fn quiet_for_path_lines_and_unchanged_hooks() {
        let pth = "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'\n";
        let old = wheel(&[("distutils-precedence.pth", pth), ("a.pth", "./src\n")]);
        let new = wheel(&[
            ("distutils-precedence.pth", pth),
            ("a.pth", "./src\n./lib\n"),
        ]);
        assert!(run(&old, &new).iter().all(|f| f.code != RULE.code));
        // Not at the install root: `site` does not read it.
        let new = wheel(&[("demo/x.pth", "import os\n")]);
        assert!(run(&old, &new).iter().all(|f| f.code != RULE.code));
    }
}
