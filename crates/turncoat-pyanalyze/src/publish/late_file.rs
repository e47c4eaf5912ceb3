//! `py-file-added-to-old-release`: a release gained a file long after it was published.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{FUTURE_SKEW_SECS, LATE_FILE_SECS, Timeline, When, fmt_span, fmt_time};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-file-added-to-old-release",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A file was added to the new release or an earlier one more than 7 days after that release's first file, since the release being replaced was published.",
    doc: r#"Reads the upload time the index gives for every file of the project. A file of the new release, or of any release published before it, that arrived more than 7 days (`LATE_FILE_SECS`) after that release's first file is *late*. It fires when a late file arrived after the release being replaced was first published (new in this update's window) and the project never added a late file before that. A file the index gives no time for (while it dates others), or dates more than an hour in the future, is counted as late too: the index cannot show when it arrived (fail closed). Files named for another project are ignored.

**Why it matters.** A release's files are normally uploaded together by one CI run. PyPI lets anyone holding an upload token add a file to any existing release: a poisoned wheel added to an old, widely pinned version is installed by every `pip install pkg==old` (and locked by every `pip-compile` run that refreshes hashes) without a new version ever appearing. A project that suddenly does this is the shape of a stolen token.

**Example.** `demo 1.0.0` was published with its sdist and wheel on 2026-01-10; on 2026-11-28, after `1.0.1`, a `demo-1.0.0-cp313-…manylinux.whl` appears.

**How to silence.** Confirm with the maintainers that the file was backfilled by them (wheels for a new Python version), then a policy exception on `py-file-added-to-old-release` for `name@version`."#,
};

struct Late<'a> {
    version: &'a str,
    filename: &'a str,
    why: String,
}

pub(crate) fn check(tl: &Timeline<'_>, out: &mut Vec<Finding>) {
    let cx = tl.cx;
    let t_to = tl.first(cx.to);
    let t_from = cx.from.and_then(|v| tl.first(v));
    // Releases up to the new one: a late file of a newer release does not touch this one.
    let in_scope = |v: &str| {
        v == cx.to
            || match (tl.first(v), t_to) {
                (Some(t), Some(to)) => t <= to,
                _ => true,
            }
    };
    let mut late = Vec::new();
    let mut habit = false;
    for (&v, files) in &tl.releases {
        let first = tl.first(v);
        for d in files {
            let why = match (d.when, first) {
                (When::Unknown, _) => Some("the index gives no upload time".to_string()),
                (When::Future(t), _) => Some(format!(
                    "uploaded {} (in the future, more than {} ahead of now)",
                    fmt_time(t),
                    fmt_span(FUTURE_SKEW_SECS)
                )),
                (When::At(t), Some(f)) if t - f > LATE_FILE_SECS => {
                    if t_from.is_some_and(|from| t <= from) {
                        // Before the replaced release: something the project already did.
                        habit = true;
                        None
                    } else {
                        Some(format!(
                            "uploaded {}, {} after the release's first file",
                            fmt_time(t),
                            fmt_span(t - f)
                        ))
                    }
                }
                _ => None,
            };
            if let Some(why) = why.filter(|_| in_scope(v)) {
                late.push((
                    d.when,
                    Late {
                        version: v,
                        filename: &d.file.filename,
                        why,
                    },
                ));
            }
        }
    }
    // A project that backfilled files before keeps doing so; undated and future files are
    // the index failing to vouch for a file and fire regardless.
    let late: Vec<Late<'_>> = late
        .into_iter()
        .filter(|(w, _)| !habit || !matches!(w, When::At(_)))
        .map(|(_, l)| l)
        .collect();
    if late.is_empty() {
        return;
    }
    let releases: std::collections::BTreeSet<&str> = late.iter().map(|l| l.version).collect();
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} gained {} file(s) long after {} was published ({}): a file added to an existing release is installed without a new version",
                cx.name,
                late.len(),
                if releases.len() == 1 { "its release" } else { "their releases" },
                releases.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
        .with_evidence_all(
            late.iter()
                .take(crate::rules::MAX_EVIDENCE)
                .map(|l| tl.evidence(l.version, l.filename, &l.why)),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::RULE;

    fn fires(files: &[crate::IndexedFile], from: Option<&str>, to: &str) -> bool {
        codes(files, from, to).iter().any(|c| c == RULE.code)
    }

    /// 1.0.0 published at T0 (sdist + wheel), 1.0.1 at T1 (the update).
    fn history(extra: Vec<crate::IndexedFile>) -> Vec<crate::IndexedFile> {
        let t0 = NOW - 300 * DAY;
        let t1 = NOW - 2 * DAY;
        let mut f = vec![
            file("demo", "1.0.0", "tar.gz", at(t0)),
            file("demo", "1.0.0", "py3-none-any.whl", at(t0 + 60)),
            file("demo", "1.0.1", "tar.gz", at(t1)),
            file("demo", "1.0.1", "py3-none-any.whl", at(t1 + 60)),
        ];
        f.extend(extra);
        f
    }

    #[test]
    fn a_wheel_added_to_the_old_release_fires() {
        let t0 = NOW - 300 * DAY;
        let f = history(vec![file(
            "demo",
            "1.0.0",
            "cp313-linux.whl",
            at(NOW - DAY),
        )]);
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
        // Any earlier release counts, not only the replaced one.
        let f = history(vec![
            file("demo", "0.9.0", "tar.gz", at(t0 - 10 * DAY)),
            file("demo", "0.9.0", "cp313-linux.whl", at(NOW - DAY)),
        ]);
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
    }

    #[test]
    fn the_boundary_is_seven_days_after_the_first_file() {
        let t1 = NOW - 20 * DAY;
        let mk = |late: i64| {
            vec![
                file("demo", "1.0.0", "tar.gz", at(NOW - 300 * DAY)),
                file("demo", "1.0.1", "tar.gz", at(t1)),
                file("demo", "1.0.1", "cp313-linux.whl", at(t1 + late)),
            ]
        };
        assert!(!fires(&mk(super::LATE_FILE_SECS), Some("1.0.0"), "1.0.1"));
        assert!(fires(
            &mk(super::LATE_FILE_SECS + 1),
            Some("1.0.0"),
            "1.0.1"
        ));
    }

    #[test]
    fn a_time_in_the_future_or_missing_fails_closed() {
        let f = history(vec![file(
            "demo",
            "1.0.0",
            "cp313-linux.whl",
            at(NOW + super::FUTURE_SKEW_SECS + 1),
        )]);
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
        // Only two days after 1.0.1's first file, but in the future: fires too.
        let f = history(vec![file(
            "demo",
            "1.0.1",
            "cp313-linux.whl",
            at(NOW + super::FUTURE_SKEW_SECS + 1),
        )]);
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
        // Within the tolerated skew and in 1.0.1's own upload window: nothing.
        let f = history(vec![file(
            "demo",
            "1.0.1",
            "cp313-linux.whl",
            at(NOW + super::FUTURE_SKEW_SECS),
        )]);
        assert!(!fires(&f, Some("1.0.0"), "1.0.1"));
        let f = history(vec![file("demo", "1.0.0", "cp313-linux.whl", None)]);
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
        let f = history(vec![file(
            "demo",
            "1.0.0",
            "cp313-linux.whl",
            Some("last tuesday".into()),
        )]);
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
    }

    #[test]
    fn a_file_of_another_project_on_the_page_is_ignored() {
        let f = history(vec![file(
            "other",
            "1.0.0",
            "cp313-linux.whl",
            at(NOW - DAY),
        )]);
        assert!(!fires(&f, Some("1.0.0"), "1.0.1"));
    }

    #[test]
    fn quiet_on_a_normal_history_a_backfilling_project_or_newer_releases() {
        assert!(!fires(&history(vec![]), Some("1.0.0"), "1.0.1"));
        // Backfilled before the replaced release was published: the project's habit.
        let t0 = NOW - 300 * DAY;
        let habit = vec![
            file("demo", "0.9.0", "tar.gz", at(t0 - 100 * DAY)),
            file("demo", "0.9.0", "cp312-linux.whl", at(t0 - DAY)),
        ];
        let mut f = history(habit.clone());
        f.push(file("demo", "1.0.0", "cp313-linux.whl", at(NOW - DAY)));
        assert!(!fires(&f, Some("1.0.0"), "1.0.1"));
        // ...but an undated file still fires.
        let mut f = history(habit);
        f.push(file("demo", "1.0.0", "cp313-linux.whl", None));
        assert!(fires(&f, Some("1.0.0"), "1.0.1"));
        // A late file of a release newer than the one locked does not touch it.
        let f = vec![
            file("demo", "1.0.0", "tar.gz", at(NOW - 300 * DAY)),
            file("demo", "1.0.1", "tar.gz", at(NOW - 100 * DAY)),
            file("demo", "2.0.0", "tar.gz", at(NOW - 50 * DAY)),
            file("demo", "2.0.0", "cp313-linux.whl", at(NOW - DAY)),
        ];
        assert!(!fires(&f, Some("1.0.0"), "1.0.1"));
        assert!(fires(&f, Some("1.0.1"), "2.0.0"));
    }
}
