//! `py-upload-times-unknown`: the index gives no upload time for any file of the project.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Timeline;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-upload-times-unknown",
    group: "pyanalyze",
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "The index gives no upload time for the project's files, so files added to old releases or uploaded far apart cannot be seen.",
    doc: r#"PEP 503 HTML pages, PEP 691 JSON pages before API 1.1 and many mirrors carry no `upload-time`. Without it `py-file-added-to-old-release` and `py-release-files-spread` cannot judge; this finding records that in the report instead of passing silently. Allow level: a mirror without times is common and not itself a sign of anything.

**Why it matters.** A mirror that strips times hides exactly the publish-path signals above. To fail closed on such indexes, set this code to `deny` in the policy (`[levels]`) or point turncoat at an index that dates its files (PyPI's JSON simple API does).

**How to silence.** Set the level to `allow` (the default) or use an index that gives upload times."#,
};

pub(crate) fn check(tl: &Timeline<'_>, out: &mut Vec<Finding>) {
    let n: usize = tl.releases.values().map(Vec::len).sum();
    if n == 0 {
        return;
    }
    out.push(Finding::new(
        &RULE,
        format!(
            "the index gives no upload time for any of {}'s {n} file(s): files added to old releases and far-apart uploads of {} cannot be judged",
            tl.cx.name, tl.cx.to
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::RULE;

    #[test]
    fn says_so_when_no_file_is_dated_and_nothing_else_fires() {
        let f = vec![
            file("demo", "1.0.0", "tar.gz", None),
            file("demo", "1.0.1", "tar.gz", None),
        ];
        assert_eq!(codes(&f, Some("1.0.0"), "1.0.1"), [RULE.code]);
        // One dated file: times are given, the undated ones are the late-file rule's.
        let mut f = f;
        f.push(file("demo", "1.0.1", "py3-none-any.whl", at(NOW - DAY)));
        assert_eq!(
            codes(&f, Some("1.0.0"), "1.0.1"),
            ["py-file-added-to-old-release"]
        );
        // Only another project's files are dated: still unknown for this one.
        let f = vec![
            file("demo", "1.0.1", "tar.gz", None),
            file("other", "1.0.1", "tar.gz", at(NOW - DAY)),
        ];
        assert_eq!(codes(&f, Some("1.0.0"), "1.0.1"), [RULE.code]);
        assert!(codes(&[], Some("1.0.0"), "1.0.1").is_empty());
    }
}
