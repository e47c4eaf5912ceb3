//! `py-release-files-spread`: the new release's files were uploaded far apart.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{SPREAD_SECS, Timeline, fmt_span, fmt_time};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-release-files-spread",
    group: "pyanalyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The new release's files were uploaded more than 24 hours apart, where the release it replaces was uploaded at once.",
    doc: r#"Reads the upload time the index gives for each file of the new release: fires when the last one arrived more than 24 hours (`SPREAD_SECS`) after the first, unless the release being replaced was spread out too (the project's build uploads in stages). Only dated files count; an undated or future-dated file is `py-file-added-to-old-release`'s (fail closed). Files named for another project are ignored.

**Why it matters.** One CI run uploads a release's sdist and wheels within minutes. A release whose files trickle in over days was assembled by hand, or had a file added after the fact: an attacker holding a token adds one poisoned wheel (for the most common platform, the one pip picks first) to a release the project's CI built cleanly.

**How to silence.** A policy exception on `py-release-files-spread` for `name@version`."#,
};

pub(crate) fn check(tl: &Timeline<'_>, out: &mut Vec<Finding>) {
    let cx = tl.cx;
    let Some(spread) = tl.spread(cx.to).filter(|s| *s > SPREAD_SECS) else {
        return;
    };
    if cx
        .from
        .and_then(|v| tl.spread(v))
        .is_some_and(|s| s > SPREAD_SECS)
    {
        return;
    }
    let first = tl.first(cx.to).unwrap_or_default();
    let files = tl
        .releases
        .get(cx.to)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut late: Vec<(i64, &str)> = files
        .iter()
        .filter_map(|d| match d.when {
            super::When::At(t) if t - first > SPREAD_SECS => Some((t, d.file.filename.as_str())),
            _ => None,
        })
        .collect();
    late.sort();
    out.push(
        Finding::new(
            &RULE,
            format!(
                "the files of {} {} were uploaded {} apart (first {}){}",
                cx.name,
                cx.to,
                fmt_span(spread),
                fmt_time(first),
                cx.from
                    .map(|v| format!("; {v}'s were uploaded together"))
                    .unwrap_or_default()
            ),
        )
        .with_evidence_all(late.iter().take(crate::rules::MAX_EVIDENCE).map(|(t, f)| {
            tl.evidence(
                cx.to,
                f,
                &format!(
                    "uploaded {}, {} after the first file",
                    fmt_time(*t),
                    fmt_span(t - first)
                ),
            )
        })),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::{RULE, SPREAD_SECS};

    fn fires(files: &[crate::IndexedFile]) -> bool {
        codes(files, Some("1.0.0"), "1.0.1")
            .iter()
            .any(|c| c == RULE.code)
    }

    fn release(old_gap: i64, new_gap: Option<String>) -> Vec<crate::IndexedFile> {
        let t0 = NOW - 100 * DAY;
        let t1 = NOW - 5 * DAY;
        vec![
            file("demo", "1.0.0", "tar.gz", at(t0)),
            file("demo", "1.0.0", "py3-none-any.whl", at(t0 + old_gap)),
            file("demo", "1.0.1", "tar.gz", at(t1)),
            file("demo", "1.0.1", "py3-none-any.whl", new_gap),
        ]
    }

    #[test]
    fn fires_past_one_day_apart() {
        let t1 = NOW - 5 * DAY;
        assert!(fires(&release(60, at(t1 + SPREAD_SECS + 1))));
        assert!(!fires(&release(60, at(t1 + SPREAD_SECS))));
        assert!(!fires(&release(60, at(t1 + 60))));
    }

    #[test]
    fn quiet_when_the_replaced_release_was_spread_too() {
        let t1 = NOW - 5 * DAY;
        assert!(!fires(&release(2 * DAY, at(t1 + 2 * DAY))));
    }

    #[test]
    fn undated_future_and_foreign_files_do_not_make_a_spread() {
        // Those are the late-file rule's (fail closed there), not a measured spread.
        assert!(!fires(&release(60, None)));
        assert!(!fires(&release(60, at(NOW + 10 * DAY))));
        let mut f = release(60, at(NOW - 5 * DAY + 60));
        f.push(file("other", "1.0.1", "cp313-linux.whl", at(NOW)));
        assert!(!fires(&f));
    }
}
