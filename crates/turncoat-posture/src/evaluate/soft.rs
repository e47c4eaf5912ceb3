//! The soft-target table of a lockfile's dependencies (`turncoat evaluate --lockfile`): per
//! locked registry package, from its packument alone, how hard its publish path is for an
//! attacker with a stolen account — publishers, provenance and trusted publishing on the locked
//! version and its release line, install scripts, release cadence, the last publisher change —
//! and a level (`soft`, `medium`, `hard`) with the reasons that made it. No score: each reason
//! is a fact a reader can check on the registry.
//!
//! Sans-IO: packuments and the time in, rows out.

use std::fmt::Write as _;

use serde::Serialize;
use turncoat_npm::semver::{is_prerelease, release_line};
use turncoat_npm::{Manifest, Packument};

/// A publisher change more recent than this makes a package soft (new hands on the release).
pub const RECENT_CHANGE_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Posture {
    Soft,
    Medium,
    Hard,
}

impl Posture {
    pub fn as_str(self) -> &'static str {
        match self {
            Posture::Soft => "soft",
            Posture::Medium => "medium",
            Posture::Hard => "hard",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SoftRow {
    pub name: String,
    pub version: String,
    /// Current maintainers (packument `maintainers`).
    pub publishers: usize,
    /// The locked version advertises a provenance attestation.
    pub provenance: bool,
    /// The locked version was published by npm trusted publishing (OIDC).
    pub trusted_publishing: bool,
    /// The locked version's release line (`4`, `0.3`): versions, with provenance, trusted.
    pub line: Option<String>,
    pub line_versions: usize,
    pub line_provenance: usize,
    pub line_trusted: usize,
    /// preinstall / install / postinstall in the locked version's manifest.
    pub install_scripts: bool,
    /// Versions published in the 365 days before `now`.
    pub releases_last_year: usize,
    pub days_since_last_release: Option<i64>,
    /// Days since the newest version whose maintainers or publisher (`_npmUser`) differ from
    /// the version before it; `None` when no change is recorded.
    pub days_since_publisher_change: Option<i64>,
    pub posture: Posture,
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn ts(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn has_provenance(m: &Manifest) -> bool {
    m.dist
        .attestations
        .as_ref()
        .is_some_and(|a| a.provenance_predicate.is_some())
}

fn has_install_scripts(m: &Manifest) -> bool {
    m.has_install_script == Some(true)
        || ["preinstall", "install", "postinstall"]
            .iter()
            .any(|s| m.scripts.contains_key(*s))
}

/// Who could publish a version: its maintainers' names and the publisher, lower-cased.
fn hands(m: &Manifest) -> (Vec<String>, Option<String>) {
    let mut names: Vec<String> = m
        .maintainers
        .iter()
        .filter_map(|p| p.name.as_deref().map(str::to_ascii_lowercase))
        .collect();
    names.sort();
    names.dedup();
    (
        names,
        m.npm_user
            .as_ref()
            .and_then(|u| u.name.as_deref())
            .map(str::to_ascii_lowercase),
    )
}

/// Versions with a publish time, oldest first.
fn timeline(p: &Packument) -> Vec<(&str, i64)> {
    let mut v: Vec<(&str, i64)> = p
        .versions
        .keys()
        .filter_map(|k| Some((k.as_str(), ts(p.published(k)?)?)))
        .collect();
    v.sort_by_key(|(_, t)| *t);
    v
}

fn last_publisher_change(p: &Packument, line: &[(&str, i64)]) -> Option<i64> {
    let mut last = None;
    let mut prev: Option<(Vec<String>, Option<String>)> = None;
    for (v, t) in line {
        let Some(m) = p.versions.get(*v) else {
            continue;
        };
        let h = hands(m);
        if let Some(before) = &prev {
            // A version that lists no maintainers (old registry data) says nothing.
            let maintainers_changed = !h.0.is_empty() && !before.0.is_empty() && h.0 != before.0;
            let publisher_new =
                h.1.is_some() && !before.0.is_empty() && !before.0.contains(h.1.as_ref()?);
            if maintainers_changed || publisher_new {
                last = Some(*t);
            }
        }
        if !h.0.is_empty() {
            prev = Some(h);
        }
    }
    last
}

/// One row for `name@version` from its packument, judged at `now` (Unix seconds).
pub fn row(p: &Packument, name: &str, version: &str, now: i64) -> SoftRow {
    let days = |t: i64| (now - t).div_euclid(86_400);
    let m = p.versions.get(version);
    let line = release_line(version);
    let times = timeline(p);
    let on_line: Vec<&Manifest> = p
        .versions
        .iter()
        .filter(|(v, _)| line.is_some() && release_line(v) == line && !is_prerelease(v))
        .map(|(_, m)| m)
        .collect();
    let mut r = SoftRow {
        name: name.to_string(),
        version: version.to_string(),
        publishers: p.maintainers.len(),
        provenance: m.is_some_and(has_provenance),
        trusted_publishing: m.is_some_and(|m| m.trusted_publisher.is_some()),
        line,
        line_versions: on_line.len(),
        line_provenance: on_line.iter().filter(|m| has_provenance(m)).count(),
        line_trusted: on_line
            .iter()
            .filter(|m| m.trusted_publisher.is_some())
            .count(),
        install_scripts: m.is_some_and(has_install_scripts),
        releases_last_year: times
            .iter()
            .filter(|(_, t)| now - t <= 365 * 86_400)
            .count(),
        days_since_last_release: times.last().map(|(_, t)| days(*t)),
        days_since_publisher_change: last_publisher_change(p, &times).map(days),
        posture: Posture::Medium,
        reasons: Vec::new(),
        error: m
            .is_none()
            .then(|| format!("{version} is not in the packument")),
    };
    judge(&mut r);
    r
}

/// A row for a package whose packument could not be read.
pub fn unread(name: &str, version: &str, error: String) -> SoftRow {
    SoftRow {
        name: name.to_string(),
        version: version.to_string(),
        publishers: 0,
        provenance: false,
        trusted_publishing: false,
        line: release_line(version),
        line_versions: 0,
        line_provenance: 0,
        line_trusted: 0,
        install_scripts: false,
        releases_last_year: 0,
        days_since_last_release: None,
        days_since_publisher_change: None,
        posture: Posture::Medium,
        reasons: vec!["not judged: the packument could not be read".into()],
        error: Some(error),
    }
}

/// The level and its reasons. Soft: what makes a stolen account enough to ship a release that
/// runs on install, or a publish path that just changed. Hard: trusted publishing with
/// provenance, more than one publisher and nothing that runs on install.
fn judge(r: &mut SoftRow) {
    let mut soft = Vec::new();
    let mut notes = Vec::new();
    if r.error.is_some() {
        r.reasons = vec!["not judged: the locked version is not in the packument".into()];
        return;
    }
    match r.publishers {
        0 => notes.push(
            "no maintainers listed (the registry or a mirror hides who can publish)".to_string(),
        ),
        1 => notes.push("one publisher".to_string()),
        _ => {}
    }
    if !r.provenance {
        notes.push("no provenance on the locked version".to_string());
        if r.publishers == 1 {
            soft.push(
                "a single publisher and no provenance: one stolen account is a release".to_string(),
            );
        }
        if r.install_scripts {
            soft.push("install scripts without provenance".to_string());
        }
        if r.line_provenance > 0 {
            soft.push(format!(
                "provenance lost: {} of {} versions of line {} have it, the locked one not",
                r.line_provenance,
                r.line_versions,
                r.line.as_deref().unwrap_or("?")
            ));
        }
    }
    if r.install_scripts {
        notes.push("install scripts".to_string());
    }
    if let Some(d) = r.days_since_publisher_change
        && d <= RECENT_CHANGE_DAYS
    {
        soft.push(format!("publisher change {d} days ago"));
    }
    let hard = soft.is_empty()
        && r.trusted_publishing
        && r.provenance
        && r.publishers > 1
        && !r.install_scripts;
    if r.trusted_publishing {
        notes.push("trusted publishing".to_string());
    }
    if r.provenance {
        notes.push("provenance".to_string());
    }
    r.posture = if !soft.is_empty() {
        Posture::Soft
    } else if hard {
        Posture::Hard
    } else {
        Posture::Medium
    };
    soft.extend(notes);
    r.reasons = soft;
}

#[derive(Debug, Clone, Serialize)]
pub struct SoftReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub lockfile: String,
    pub packages: Vec<SoftRow>,
    pub soft: usize,
    pub medium: usize,
    pub hard: usize,
}

/// The report, softest first (then by name).
pub fn report(lockfile: &str, mut rows: Vec<SoftRow>) -> SoftReport {
    rows.sort_by(|a, b| (a.posture, &a.name, &a.version).cmp(&(b.posture, &b.name, &b.version)));
    let count = |p| rows.iter().filter(|r| r.posture == p).count();
    SoftReport {
        schema_version: super::SCHEMA_VERSION,
        command: "evaluate",
        lockfile: lockfile.to_string(),
        soft: count(Posture::Soft),
        medium: count(Posture::Medium),
        hard: count(Posture::Hard),
        packages: rows,
    }
}

fn opt(d: Option<i64>) -> String {
    d.map_or_else(|| "-".into(), |d| d.to_string())
}

/// The human table.
pub fn human(r: &SoftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "turncoat evaluate --lockfile {}: {} package(s): {} soft, {} medium, {} hard\n",
        r.lockfile,
        r.packages.len(),
        r.soft,
        r.medium,
        r.hard
    );
    let _ = writeln!(
        out,
        "{:<7} {:<40} {:>4} {:<5} {:<5} {:<9} {:<7} {:>5} {:>6} {:>8}  reasons",
        "level", "package", "pubs", "prov", "tp", "line p/t", "scripts", "rel/y", "last", "pub-chg"
    );
    for row in &r.packages {
        let yn = |b: bool| if b { "yes" } else { "no" };
        let _ = writeln!(
            out,
            "{:<7} {:<40} {:>4} {:<5} {:<5} {:<9} {:<7} {:>5} {:>6} {:>8}  {}",
            row.posture.as_str(),
            format!("{}@{}", row.name, row.version),
            row.publishers,
            yn(row.provenance),
            yn(row.trusted_publishing),
            format!(
                "{}/{}/{}",
                row.line_provenance, row.line_trusted, row.line_versions
            ),
            yn(row.install_scripts),
            row.releases_last_year,
            opt(row.days_since_last_release),
            opt(row.days_since_publisher_change),
            row.reasons.join("; ")
        );
    }
    let _ = writeln!(
        out,
        "\nline p/t = versions of the locked release line with provenance / trusted publishing / all; \
last and pub-chg in days"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: i64 = 86_400;
    /// 2025-01-01T00:00:00Z.
    const NOW: i64 = 1_735_689_600;

    fn iso(t: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(t)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }

    /// version, publish time, maintainers, publisher, provenance, trusted publishing, scripts.
    type V<'a> = (&'a str, i64, &'a [&'a str], &'a str, bool, bool, bool);

    fn packument(versions: &[V<'_>]) -> Packument {
        let mut vs = serde_json::Map::new();
        let mut times = serde_json::Map::new();
        for (v, t, maint, user, prov, trusted, scripts) in versions {
            let mut m = json!({
                "name": "p", "version": v,
                "maintainers": maint.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
                "_npmUser": {"name": user},
                "dist": {"tarball": "https://r/p.tgz"},
            });
            if *prov {
                m["dist"]["attestations"] = json!({"url": "https://r/a", "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}});
            }
            if *trusted {
                m["_npmUser"]["trustedPublisher"] = json!({"id": "github", "oidcConfigId": "x"});
            }
            if *scripts {
                m["scripts"] = json!({"postinstall": "node x.js"});
            }
            vs.insert(v.to_string(), m);
            times.insert(v.to_string(), json!(iso(*t)));
        }
        let last = versions.last().unwrap();
        Packument::from_value(&json!({
            "name": "p", "versions": vs, "time": times,
            "maintainers": last.2.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    #[test]
    fn trusted_publishing_with_provenance_and_two_publishers_is_hard() {
        let p = packument(&[
            (
                "1.0.0",
                NOW - 400 * DAY,
                &["a", "b"],
                "a",
                true,
                true,
                false,
            ),
            (
                "1.1.0",
                NOW - 200 * DAY,
                &["a", "b"],
                "b",
                true,
                true,
                false,
            ),
        ]);
        let r = row(&p, "p", "1.1.0", NOW);
        assert_eq!(r.posture, Posture::Hard, "{:?}", r.reasons);
        assert_eq!(
            (r.line_versions, r.line_provenance, r.line_trusted),
            (2, 2, 2)
        );
        assert_eq!(r.releases_last_year, 1);
        assert_eq!(r.days_since_last_release, Some(200));
        assert_eq!(r.days_since_publisher_change, None);
        assert_eq!(r.reasons, ["trusted publishing", "provenance"]);
    }

    #[test]
    fn a_single_publisher_without_provenance_is_soft() {
        let p = packument(&[(
            "2.0.0",
            NOW - 10 * DAY,
            &["solo"],
            "solo",
            false,
            false,
            true,
        )]);
        let r = row(&p, "p", "2.0.0", NOW);
        assert_eq!(r.posture, Posture::Soft);
        assert_eq!(
            r.reasons[..2],
            [
                "a single publisher and no provenance: one stolen account is a release".to_string(),
                "install scripts without provenance".to_string()
            ]
        );
    }

    #[test]
    fn lost_provenance_and_a_new_publisher_are_soft() {
        let p = packument(&[
            (
                "3.0.0",
                NOW - 300 * DAY,
                &["a", "b"],
                "a",
                true,
                false,
                false,
            ),
            (
                "3.0.1",
                NOW - 30 * DAY,
                &["a", "b", "mallory"],
                "mallory",
                false,
                false,
                false,
            ),
        ]);
        let r = row(&p, "p", "3.0.1", NOW);
        assert_eq!(r.posture, Posture::Soft);
        assert!(
            r.reasons
                .iter()
                .any(|s| s.starts_with("provenance lost: 1 of 2 versions of line 3")),
            "{:?}",
            r.reasons
        );
        assert!(
            r.reasons
                .contains(&"publisher change 30 days ago".to_string()),
            "{:?}",
            r.reasons
        );
        assert_eq!(r.days_since_publisher_change, Some(30));
    }

    #[test]
    fn two_publishers_without_trusted_publishing_is_medium_and_a_missing_version_is_reported() {
        let p = packument(&[(
            "1.0.0",
            NOW - 500 * DAY,
            &["a", "b"],
            "a",
            false,
            false,
            false,
        )]);
        assert_eq!(row(&p, "p", "1.0.0", NOW).posture, Posture::Medium);
        let r = row(&p, "p", "9.9.9", NOW);
        assert!(r.error.is_some());
        let rep = report("package-lock.json", vec![r, row(&p, "p", "1.0.0", NOW)]);
        assert_eq!((rep.soft, rep.medium, rep.hard), (0, 2, 0));
    }
}
