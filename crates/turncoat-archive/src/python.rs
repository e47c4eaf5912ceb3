//! Python distributions: wheels (zip, with a `RECORD` of hashes) and sdists (`.tar.gz`, `.zip`).
//!
//! A wheel's `*.dist-info/RECORD` lists every file with its sha256 (urlsafe base64, no
//! padding). Installers trust it; a file the RECORD does not list, or whose bytes do not match
//! the listed hash, is what a hand-edited (trojanized) wheel tends to look like, so every
//! mismatch is kept as a [`RecordIssue`] fact for the rules instead of failing the read: the
//! judging code decides what it means. Parsing the RECORD uses the `csv` crate (the format is
//! Python's `csv` module output, quoting included).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

use crate::{Archive, ArchiveError, Limits, normalise_with, read_tgz, read_zip};

/// Most issues kept per wheel (the count of the rest is in [`Wheel::record_issues_dropped`]).
const MAX_ISSUES: usize = 1000;

/// A wheel read in memory, with its RECORD checked against its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wheel {
    pub archive: Archive,
    /// The `name-version.dist-info` directory (the one holding `RECORD`), if any.
    pub dist_info: Option<String>,
    pub record_issues: Vec<RecordIssue>,
    /// Issues beyond the first 1000, counted only.
    pub record_issues_dropped: usize,
}

/// One disagreement between a wheel's RECORD and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordIssue {
    /// The file concerned (`-` when the issue is the RECORD as a whole).
    pub path: String,
    pub kind: RecordIssueKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordIssueKind {
    /// No `*.dist-info/RECORD` at all.
    NoRecord,
    /// More than one `*.dist-info` directory holds a RECORD.
    SeveralDistInfo,
    /// A file of the wheel the RECORD does not list.
    NotInRecord,
    /// Listed without a hash (only the RECORD and its signatures may be).
    NoHash,
    /// Listed with a hash other than sha256/sha384/sha512, or a malformed one.
    BadHash { hash: String },
    /// The file's bytes do not match the listed hash.
    HashMismatch,
    /// Listed in the RECORD but absent from the archive.
    Missing,
    /// A RECORD line that is not CSV or whose path cannot be a wheel path.
    BadLine { line: u64 },
}

impl std::fmt::Display for RecordIssueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordIssueKind::NoRecord => f.write_str("the wheel has no RECORD"),
            RecordIssueKind::SeveralDistInfo => {
                f.write_str("several .dist-info directories hold a RECORD")
            }
            RecordIssueKind::NotInRecord => f.write_str("not listed in RECORD"),
            RecordIssueKind::NoHash => f.write_str("listed in RECORD without a hash"),
            RecordIssueKind::BadHash { hash } => {
                write!(f, "RECORD hash {hash:?} is not a sha256/384/512 digest")
            }
            RecordIssueKind::HashMismatch => f.write_str("content does not match its RECORD hash"),
            RecordIssueKind::Missing => f.write_str("listed in RECORD but absent"),
            RecordIssueKind::BadLine { line } => write!(f, "RECORD line {line} is malformed"),
        }
    }
}

/// Read a wheel (`.whl`) from memory and check its RECORD.
pub fn read_wheel(bytes: &[u8], limits: &Limits) -> Result<Wheel, ArchiveError> {
    let archive = read_zip(bytes, limits, false)?;
    let mut wheel = Wheel {
        archive,
        ..Wheel::default()
    };
    check_record(&mut wheel);
    Ok(wheel)
}

/// Read a source distribution: a zip, or a (gzip-compressed) tar, whose single top directory
/// (`name-1.0/`) is removed from every path.
pub fn read_sdist(bytes: &[u8], limits: &Limits) -> Result<Archive, ArchiveError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        read_zip(bytes, limits, true)
    } else {
        read_tgz(bytes, limits).map_err(|e| match e {
            ArchiveError::NotGzip => ArchiveError::UnknownFormat,
            e => e,
        })
    }
}

fn check_record(wheel: &mut Wheel) {
    let records: Vec<&str> = wheel
        .archive
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| {
            p.strip_suffix("/RECORD")
                .is_some_and(|d| !d.contains('/') && d.ends_with(".dist-info"))
        })
        .collect();
    let mut issues = Vec::new();
    let Some(record_path) = records.first().map(|p| p.to_string()) else {
        issues.push(RecordIssue {
            path: "-".into(),
            kind: RecordIssueKind::NoRecord,
        });
        wheel.record_issues = issues;
        return;
    };
    if records.len() > 1 {
        issues.push(RecordIssue {
            path: "-".into(),
            kind: RecordIssueKind::SeveralDistInfo,
        });
    }
    let dist_info = record_path.trim_end_matches("/RECORD").to_string();
    let data = wheel
        .archive
        .get(&record_path)
        .map(|f| f.data.clone())
        .unwrap_or_default();
    let listed = parse_record(&data, &mut issues);
    let unsigned = |p: &str| {
        p == record_path
            || p == format!("{dist_info}/RECORD.jws")
            || p == format!("{dist_info}/RECORD.p7s")
    };
    // Hashing is the costly part (every byte of the wheel): on several threads, the issues
    // kept in RECORD order.
    let by_path: std::collections::HashMap<&str, &crate::PackageFile> = wheel
        .archive
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    let check = |(path, hash): &(String, Option<String>)| -> Option<RecordIssue> {
        let Some(file) = by_path.get(path.as_str()) else {
            return Some(issue(path, RecordIssueKind::Missing));
        };
        match hash.as_deref() {
            None if unsigned(path) => None,
            None => Some(issue(path, RecordIssueKind::NoHash)),
            Some(h) => match hash_matches(h, &file.data) {
                Some(true) => None,
                Some(false) => Some(issue(path, RecordIssueKind::HashMismatch)),
                None => Some(issue(
                    path,
                    RecordIssueKind::BadHash {
                        hash: h.chars().take(80).collect(),
                    },
                )),
            },
        }
    };
    let found: Vec<Option<RecordIssue>> = {
        use rayon::prelude::*;
        listed.par_iter().map(check).collect()
    };
    issues.extend(found.into_iter().flatten());
    let seen: std::collections::HashSet<&str> = listed.iter().map(|(p, _)| p.as_str()).collect();
    for f in &wheel.archive.files {
        if !seen.contains(f.path.as_str()) && !unsigned(&f.path) {
            issues.push(issue(&f.path, RecordIssueKind::NotInRecord));
        }
    }
    wheel.record_issues_dropped = issues.len().saturating_sub(MAX_ISSUES);
    issues.truncate(MAX_ISSUES);
    wheel.record_issues = issues;
    wheel.dist_info = Some(dist_info);
}

fn issue(path: &str, kind: RecordIssueKind) -> RecordIssue {
    RecordIssue {
        path: path.to_string(),
        kind,
    }
}

/// `(path, hash)` of every RECORD line; malformed lines become issues.
fn parse_record(data: &[u8], issues: &mut Vec<RecordIssue>) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    for (i, row) in reader.byte_records().enumerate() {
        let line = i as u64 + 1;
        let bad = || issue("-", RecordIssueKind::BadLine { line });
        let Ok(row) = row else {
            issues.push(bad());
            continue;
        };
        let Some(raw_path) = row.get(0).filter(|p| !p.is_empty()) else {
            continue;
        };
        let Ok(path) = normalise_with(raw_path, false) else {
            issues.push(bad());
            continue;
        };
        let hash = row
            .get(1)
            .filter(|h| !h.is_empty())
            .map(|h| String::from_utf8_lossy(h).into_owned());
        out.push((path, hash));
    }
    out
}

/// `Some(matches)` for a `sha256=`/`sha384=`/`sha512=` digest, `None` for anything else.
fn hash_matches(hash: &str, data: &[u8]) -> Option<bool> {
    let (alg, digest) = hash.split_once('=')?;
    let expected = URL_SAFE_NO_PAD.decode(digest.trim_end_matches('=')).ok()?;
    let actual: Vec<u8> = match alg {
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    Some(expected == actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_checked_per_algorithm() {
        let good = format!(
            "sha256={}",
            URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b"x"))
        );
        assert_eq!(hash_matches(&good, b"x"), Some(true));
        assert_eq!(hash_matches(&good, b"y"), Some(false));
        assert_eq!(hash_matches("md5=abc", b"x"), None);
        assert_eq!(hash_matches("sha256=!!", b"x"), None);
        assert_eq!(hash_matches("nonsense", b"x"), None);
    }

    #[test]
    fn record_lines_are_csv() {
        let mut issues = Vec::new();
        let rows = parse_record(
            b"\"a,b.py\",sha256=x,1\npkg/../../x,sha256=y,1\nd.dist-info/RECORD,,\n",
            &mut issues,
        );
        assert_eq!(rows[0].0, "a,b.py");
        assert_eq!(rows[1], ("d.dist-info/RECORD".to_string(), None));
        assert_eq!(
            issues,
            vec![issue("-", RecordIssueKind::BadLine { line: 2 })]
        );
    }
}
