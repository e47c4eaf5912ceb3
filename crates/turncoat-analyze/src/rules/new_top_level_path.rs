//! `new-top-level-path`: a new top-level dotfile or directory.

use std::collections::BTreeSet;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-top-level-path",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Allow,
    summary: "The package layout gained a top-level dotfile/dot-directory (low) or directory (info).",
    doc: r#"Compares the top-level entries of the two versions: a new hidden entry (`.cache/`, `.x.js`) is low, a new ordinary directory is info. Files at the root and `package.json`'s usual companions are not reported.

**Why it matters.** Payloads like to sit outside the usual layout, where reviewers of `lib/` and `dist/` do not look (Shai-Hulud dropped `bundle.js` at the root; others hide in dot-directories).

**Example.** 1.2.3 ships `lib/`; 1.2.4 adds `.github/setup/`.

**How to silence.** It is allowed by default; set the level in policy."#,
};

fn top(path: &str) -> Option<&str> {
    path.split_once('/').map(|(d, _)| d)
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let old_dirs: BTreeSet<&str> = cx.old.files.keys().filter_map(|p| top(p)).collect();
    let old_files: BTreeSet<&str> = cx.old.files.keys().map(String::as_str).collect();
    let mut reported = BTreeSet::new();
    for path in cx.new.files.keys() {
        let (entry, is_dir) = match top(path) {
            Some(d) => (d, true),
            None => (path.as_str(), false),
        };
        let hidden = entry.starts_with('.') && !matches!(entry, ".npmignore" | ".editorconfig");
        let new = if is_dir {
            !old_dirs.contains(entry)
        } else {
            !old_files.contains(entry)
        };
        if !new || (!is_dir && !hidden) || !reported.insert(entry) {
            continue;
        }
        let severity = if hidden {
            Severity::Low
        } else {
            Severity::Info
        };
        let what = if is_dir { "directory" } else { "file" };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "new top-level {what} {entry} in {} (not in {})",
                    cx.to(),
                    cx.from()
                ),
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
    fn hidden_entries_are_low() {
        let f = diff_versions(
            "1.0.0",
            &[("lib/a.js", "1")],
            "1.0.1",
            &[("lib/a.js", "1"), (".cache/x.js", "2")],
        );
        assert_eq!(find(&f, RULE.code).map(|f| f.severity), Some(Severity::Low));
    }

    #[test]
    fn same_layout_is_quiet() {
        let f = diff_versions(
            "1.0.0",
            &[("lib/a.js", "1")],
            "1.0.1",
            &[("lib/a.js", "2"), ("lib/b.js", "3"), ("README.md", "x")],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}
