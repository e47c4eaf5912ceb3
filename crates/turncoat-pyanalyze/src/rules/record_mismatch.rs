//! `py-record-mismatch`: the new wheel's files disagree with its own RECORD.

use std::collections::BTreeSet;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE};
use crate::facts::DistKind;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-record-mismatch",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A file of the new wheel is not listed in its RECORD, does not match its RECORD hash, or the RECORD is missing, where the previous wheel was consistent.",
    doc: r#"Every wheel lists each of its files with a sha256 in `*.dist-info/RECORD`; build tools write it, so it is always right for a wheel that came out of a build. Fires for each kind of disagreement (file not listed, hash mismatch, listed but absent, no RECORD, malformed line) the previous wheel did not have.

**Why it matters.** A wheel edited after the build — a payload added to a downloaded wheel and re-uploaded with a stolen token — tends to leave the RECORD behind. Installers do not check it, so nothing else notices.

**How to silence.** A policy exception on `py-record-mismatch` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    if cx.new.kind != DistKind::Wheel {
        return;
    }
    let known: BTreeSet<&str> = cx
        .old
        .record_issues
        .iter()
        .map(|(_, k)| k.as_str())
        .collect();
    let new: Vec<&(String, String)> = cx
        .new
        .record_issues
        .iter()
        .filter(|(_, k)| !known.contains(k.as_str()))
        .collect();
    let Some((path, kind)) = new.first() else {
        return;
    };
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} disagrees with its RECORD ({} file{}; first: {path}: {kind}); {} did not",
                cx.to(),
                new.len(),
                if new.len() == 1 { "" } else { "s" },
                cx.from()
            ),
        )
        .with_evidence_all(
            new.iter()
                .take(MAX_EVIDENCE)
                .map(|(p, k)| Evidence::new(p).with_snippet(k)),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_file_outside_record() {
        let old = wheel(&[]);
        let mut new = wheel(&[]);
        new.record_issues
            .push(("evil.pth".into(), "not listed in RECORD".into()));
        assert_eq!(
            run(&old, &new)
                .iter()
                .filter(|f| f.code == RULE.code)
                .count(),
            1
        );
    }

    #[test]
    fn quiet_when_the_old_wheel_had_the_same_kind() {
        let mut old = wheel(&[]);
        old.record_issues
            .push(("a.py".into(), "not listed in RECORD".into()));
        let mut new = wheel(&[]);
        new.record_issues
            .push(("b.py".into(), "not listed in RECORD".into()));
        assert!(run(&old, &new).iter().all(|f| f.code != RULE.code));
    }
}
