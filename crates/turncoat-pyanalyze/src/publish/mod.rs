//! Publish-path rules from the index's own data: when each file of a release was uploaded.
//! Sans-IO: the caller hands in the files the index lists for the project (with the upload
//! time the index gives for each) and gets findings back. History-relative like the code
//! rules: what happened since the release being replaced counts, what the project already did
//! before it does not.
//!
//! Times are the index's (PEP 700 `upload-time`, the JSON API's `upload_time_iso_8601`): the
//! package cannot write them, but a mirror can leave them out. Three cases are decided here:
//!
//! - **No time at all** on the page (PEP 503 HTML, JSON API 1.0, many mirrors): the rules
//!   cannot judge; `py-upload-times-unknown` (allow) says so in the report. A policy that
//!   wants to fail closed on such indexes raises it to `deny`.
//! - **Some files without a (parseable) time** on a page that gives times: a file whose
//!   arrival the index cannot date is treated as a late file (fail closed).
//! - **A time in the future** (past [`FUTURE_SKEW_SECS`] after `now`): the index's times
//!   cannot be trusted for that file; also a late file.

mod files_spread;
mod late_file;
mod times_unknown;

use std::collections::BTreeMap;

use turncoat_finding::{Evidence, Finding, RuleDoc};

/// A file added to a release more than this long after the release's first file is "late":
/// seven days, past any build matrix finishing its uploads, short of the months it takes a
/// stolen token to be used on an old release.
pub const LATE_FILE_SECS: i64 = 7 * 24 * 3600;
/// Files of the new release uploaded further apart than this are "spread": one day.
pub const SPREAD_SECS: i64 = 24 * 3600;
/// Clock skew tolerated between the index and this machine before an upload time counts as
/// in the future.
pub const FUTURE_SKEW_SECS: i64 = 3600;

/// One file the index lists for the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    pub filename: String,
    /// The PEP 503-normalised project and the version its file name claims.
    pub project: String,
    pub version: String,
    /// The upload time as the index gives it (RFC 3339).
    pub upload_time: Option<String>,
}

/// The update being judged and the index's files of the project.
#[derive(Debug, Clone, Copy)]
pub struct PublishContext<'a> {
    /// PEP 503-normalised project name.
    pub name: &'a str,
    /// The release being replaced (None: none known).
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub now_unix: i64,
    pub files: &'a [IndexedFile],
}

/// When the index says a file arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    At(i64),
    Future(i64),
    Unknown,
}

pub(crate) struct Dated<'a> {
    pub file: &'a IndexedFile,
    pub when: When,
}

/// The project's files grouped by release, with their dates.
pub(crate) struct Timeline<'a> {
    pub cx: PublishContext<'a>,
    pub releases: BTreeMap<&'a str, Vec<Dated<'a>>>,
}

impl<'a> Timeline<'a> {
    fn new(cx: PublishContext<'a>) -> Timeline<'a> {
        let mut releases: BTreeMap<&str, Vec<Dated<'_>>> = BTreeMap::new();
        // Files named for another project are not this project's history.
        for f in cx.files.iter().filter(|f| f.project == cx.name) {
            let when = match f
                .upload_time
                .as_deref()
                .and_then(turncoat_analyze::metadata::parse_rfc3339)
            {
                Some(t) if t > cx.now_unix.saturating_add(FUTURE_SKEW_SECS) => When::Future(t),
                Some(t) => When::At(t),
                None => When::Unknown,
            };
            releases
                .entry(f.version.as_str())
                .or_default()
                .push(Dated { file: f, when });
        }
        Timeline { cx, releases }
    }

    /// True when no file of the project has a time.
    pub fn undated(&self) -> bool {
        self.releases
            .values()
            .flatten()
            .all(|d| d.when == When::Unknown)
    }

    /// The earliest trusted upload time of a release's files.
    pub fn first(&self, version: &str) -> Option<i64> {
        self.times(version).min()
    }

    /// Trusted upload times of a release's files.
    pub fn times(&self, version: &str) -> impl Iterator<Item = i64> + '_ {
        self.releases
            .get(version)
            .into_iter()
            .flatten()
            .filter_map(|d| match d.when {
                When::At(t) => Some(t),
                _ => None,
            })
    }

    /// Last minus first trusted upload time of a release.
    pub fn spread(&self, version: &str) -> Option<i64> {
        let first = self.first(version)?;
        Some(self.times(version).max()? - first)
    }

    pub fn evidence(&self, version: &str, filename: &str, snippet: &str) -> Evidence {
        Evidence::new(format!("pypi:{}=={version}/{filename}", self.cx.name)).with_snippet(snippet)
    }
}

/// Unix seconds as RFC 3339 for messages (the npm metadata rules' formatter).
pub(crate) use turncoat_analyze::metadata::fmt_time;

/// "3 days", "26 hours", "40 minutes".
pub(crate) fn fmt_span(secs: i64) -> String {
    if secs >= 3 * 24 * 3600 {
        format!("{} days", secs / (24 * 3600))
    } else if secs >= 3600 {
        format!("{} hours", secs / 3600)
    } else {
        format!("{} minutes", secs / 60)
    }
}

/// Findings about how the release `cx.to` and the releases before it reached the index.
pub fn publish_findings(cx: &PublishContext<'_>) -> Vec<Finding> {
    let tl = Timeline::new(*cx);
    let mut out = Vec::new();
    if tl.undated() {
        times_unknown::check(&tl, &mut out);
        return out;
    }
    late_file::check(&tl, &mut out);
    files_spread::check(&tl, &mut out);
    out
}

/// Documentation of the publish-path rules.
pub(crate) fn docs() -> Vec<&'static RuleDoc> {
    vec![&late_file::RULE, &files_spread::RULE, &times_unknown::RULE]
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// 2026-12-01T00:00:00Z.
    pub const NOW: i64 = 1_796_083_200;
    pub const DAY: i64 = 24 * 3600;

    pub fn at(t: i64) -> Option<String> {
        Some(fmt_time(t))
    }

    pub fn file(project: &str, version: &str, tag: &str, t: Option<String>) -> IndexedFile {
        IndexedFile {
            filename: format!("{}-{version}-{tag}", project.replace('-', "_")),
            project: project.into(),
            version: version.into(),
            upload_time: t,
        }
    }

    pub fn codes(files: &[IndexedFile], from: Option<&str>, to: &str) -> Vec<String> {
        publish_findings(&PublishContext {
            name: "demo",
            from,
            to,
            now_unix: NOW,
            files,
        })
        .into_iter()
        .map(|f| f.code)
        .collect()
    }
}
