//! One package as the registry shows it, reduced to what the monitor compares, bounded on the
//! way in: the registry (or whoever answers for it) chooses every byte of the document, so a
//! snapshot refuses sizes no real package has instead of storing and diffing them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use turncoat_npm::Packument;

/// One version as the registry shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Publish time (Unix seconds) from the packument's `time`; None when absent or unparsable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<i64>,
    /// The version's `_npmUser` (lower-case): who the registry says published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// `dist.attestations` present (a provenance or publish attestation).
    #[serde(default)]
    pub provenance: bool,
    /// `_npmUser.trustedPublisher` present: published by OIDC trusted publishing.
    #[serde(default)]
    pub trusted_publishing: bool,
}

/// A package at one poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub name: String,
    pub versions: BTreeMap<String, Release>,
    /// Maintainer user names (lower-case).
    pub maintainers: BTreeSet<String>,
    pub dist_tags: BTreeMap<String, String>,
    /// Versions the registry's `time` still lists but `versions` no longer holds.
    #[serde(default)]
    pub unpublished: BTreeSet<String>,
    /// PyPI: the file names of each release (a release gains files over time).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, BTreeSet<String>>,
    /// PyPI: yanked releases (every file yanked).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub yanked: BTreeSet<String>,
}

/// A PyPI project as its JSON API shows it, handed over by the caller (the monitor does not
/// depend on the index client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypiProject {
    /// `info.version`: the latest release.
    pub latest: Option<String>,
    /// `ownership.roles[].user`.
    pub owners: Vec<String>,
    /// Version → files.
    pub releases: BTreeMap<String, Vec<PypiFile>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypiFile {
    pub filename: String,
    /// RFC 3339.
    pub uploaded: Option<String>,
    pub yanked: bool,
}

/// Sizes beyond which a document is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_versions: usize,
    pub max_maintainers: usize,
    pub max_dist_tags: usize,
    /// Longest user name, version or tag (npm: 214 for names).
    pub max_text: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The largest real packuments hold a few thousand versions.
            max_versions: 20_000,
            // The npm registry caps a package's maintainers far below this.
            max_maintainers: 500,
            max_dist_tags: 1_000,
            max_text: 256,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("the registry answered for {found:?} when asked for {expected}")]
    WrongName { expected: String, found: String },
    #[error(
        "the registry document of {name} lists {count} {what}, more than the {limit} any real \
         package has; refusing it"
    )]
    TooMany {
        name: String,
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("the registry document of {name} has a {what} longer than {limit} characters")]
    TooLong {
        name: String,
        what: &'static str,
        limit: usize,
    },
    #[error("stored snapshot is unreadable: {0}")]
    Stored(String),
}

/// Registry text as the monitor keeps and shows it: control characters (terminal escapes)
/// and bidi overrides escaped, so a maintainer name cannot rewrite the operator's terminal or
/// make an alert read differently from what it says.
fn clean(s: &str) -> String {
    turncoat_finding::sanitize_snippet(s)
}

fn rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

impl Snapshot {
    /// Reduce a packument fetched for `expected` (a document naming another package is refused).
    pub fn from_packument(
        expected: &str,
        p: &Packument,
        limits: &Limits,
    ) -> Result<Snapshot, SnapshotError> {
        if let Some(found) = &p.name
            && found != expected
        {
            return Err(SnapshotError::WrongName {
                expected: expected.to_string(),
                found: found.chars().take(limits.max_text).collect(),
            });
        }
        let name = expected.to_string();
        let too_many = |what, count, limit| SnapshotError::TooMany {
            name: name.clone(),
            what,
            count,
            limit,
        };
        if p.versions.len() > limits.max_versions {
            return Err(too_many("versions", p.versions.len(), limits.max_versions));
        }
        if p.time.len() > limits.max_versions + 2 {
            return Err(too_many("publish times", p.time.len(), limits.max_versions));
        }
        if p.maintainers.len() > limits.max_maintainers {
            return Err(too_many(
                "maintainers",
                p.maintainers.len(),
                limits.max_maintainers,
            ));
        }
        if p.dist_tags.len() > limits.max_dist_tags {
            return Err(too_many(
                "dist-tags",
                p.dist_tags.len(),
                limits.max_dist_tags,
            ));
        }
        let text = |what: &'static str, s: &str| -> Result<String, SnapshotError> {
            if s.chars().count() > limits.max_text {
                return Err(SnapshotError::TooLong {
                    name: name.clone(),
                    what,
                    limit: limits.max_text,
                });
            }
            Ok(clean(s))
        };
        let mut versions = BTreeMap::new();
        for (v, m) in &p.versions {
            let publisher = match m.npm_user.as_ref().and_then(|u| u.name.as_deref()) {
                Some(u) => Some(text("publisher name", u)?.to_ascii_lowercase()),
                None => None,
            };
            versions.insert(
                text("version", v)?,
                Release {
                    published: p.published(v).and_then(rfc3339),
                    publisher,
                    provenance: m.dist.attestations.is_some(),
                    trusted_publishing: m.trusted_publisher.is_some(),
                },
            );
        }
        let mut maintainers = BTreeSet::new();
        for m in &p.maintainers {
            if let Some(n) = m.name.as_deref().or(m.email.as_deref()) {
                maintainers.insert(text("maintainer name", n)?.to_ascii_lowercase());
            }
        }
        let mut dist_tags = BTreeMap::new();
        for (t, v) in &p.dist_tags {
            dist_tags.insert(text("dist-tag", t)?, text("version", v)?);
        }
        let unpublished = p
            .unpublished_versions()
            .into_iter()
            .filter(|v| !versions.contains_key(*v))
            .map(|v| text("version", v))
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            name,
            versions,
            maintainers,
            dist_tags,
            unpublished,
            ..Snapshot::default()
        })
    }

    /// Reduce a PyPI project (`expected` is its normalised name). Owners are the maintainers;
    /// a release's publish time is its earliest file's upload time; `latest` the only tag.
    pub fn from_pypi(
        expected: &str,
        p: &PypiProject,
        limits: &Limits,
    ) -> Result<Snapshot, SnapshotError> {
        let name = expected.to_string();
        let too_many = |what, count, limit| SnapshotError::TooMany {
            name: name.clone(),
            what,
            count,
            limit,
        };
        if p.releases.len() > limits.max_versions {
            return Err(too_many("releases", p.releases.len(), limits.max_versions));
        }
        if p.owners.len() > limits.max_maintainers {
            return Err(too_many("owners", p.owners.len(), limits.max_maintainers));
        }
        let files_total: usize = p.releases.values().map(Vec::len).sum();
        if files_total > limits.max_versions * 50 {
            return Err(too_many("files", files_total, limits.max_versions * 50));
        }
        let long = |what: &'static str, s: &str| {
            if s.chars().count() > limits.max_text {
                Err(SnapshotError::TooLong {
                    name: name.clone(),
                    what,
                    limit: limits.max_text,
                })
            } else {
                Ok(clean(s))
            }
        };
        let mut snap = Snapshot {
            name: name.clone(),
            ..Snapshot::default()
        };
        for (v, files) in &p.releases {
            let v = long("version", v)?;
            let published = files
                .iter()
                .filter_map(|f| f.uploaded.as_deref().and_then(rfc3339))
                .min();
            let names = files
                .iter()
                .map(|f| long("file name", &f.filename))
                .collect::<Result<BTreeSet<_>, _>>()?;
            if !files.is_empty() && files.iter().all(|f| f.yanked) {
                snap.yanked.insert(v.clone());
            }
            snap.files.insert(v.clone(), names);
            snap.versions.insert(
                v,
                Release {
                    published,
                    ..Release::default()
                },
            );
        }
        for o in &p.owners {
            snap.maintainers
                .insert(long("owner name", o)?.to_ascii_lowercase());
        }
        if let Some(l) = &p.latest {
            snap.dist_tags.insert("latest".into(), long("version", l)?);
        }
        Ok(snap)
    }

    /// The JSON the store keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Snapshot, SnapshotError> {
        serde_json::from_str(s).map_err(|e| SnapshotError::Stored(e.to_string()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn packument(v: serde_json::Value) -> Packument {
        Packument::from_value(&v).unwrap()
    }

    #[test]
    fn reads_publishers_provenance_and_times() {
        let p = packument(serde_json::json!({
            "name": "left-pad",
            "dist-tags": {"latest": "1.0.1"},
            "maintainers": [{"name": "Alice", "email": "a@example.com"}],
            "time": {"1.0.0": "2026-01-01T00:00:00.000Z", "1.0.1": "2026-02-01T00:00:00Z",
                     "0.9.0": "2025-01-01T00:00:00Z"},
            "versions": {
                "1.0.0": {"name": "left-pad", "version": "1.0.0",
                          "_npmUser": {"name": "alice", "trustedPublisher": {"id": "github"}},
                          "dist": {"attestations": {"url": "https://x/a", "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}}},
                "1.0.1": {"name": "left-pad", "version": "1.0.1", "_npmUser": {"name": "Mallory"}}
            }
        }));
        let s = Snapshot::from_packument("left-pad", &p, &Limits::default()).unwrap();
        let a = &s.versions["1.0.0"];
        assert_eq!(a.publisher.as_deref(), Some("alice"));
        assert!(a.provenance && a.trusted_publishing);
        assert_eq!(a.published, Some(1_767_225_600));
        let b = &s.versions["1.0.1"];
        assert_eq!(b.publisher.as_deref(), Some("mallory"));
        assert!(!b.provenance && !b.trusted_publishing);
        assert_eq!(s.maintainers.iter().collect::<Vec<_>>(), ["alice"]);
        assert_eq!(s.unpublished.iter().collect::<Vec<_>>(), ["0.9.0"]);
        assert_eq!(Snapshot::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn a_document_for_another_package_is_refused() {
        let p = packument(serde_json::json!({"name": "evil", "versions": {}}));
        let e = Snapshot::from_packument("left-pad", &p, &Limits::default()).unwrap_err();
        assert!(matches!(e, SnapshotError::WrongName { .. }), "{e}");
    }

    #[test]
    fn huge_maintainer_lists_and_names_are_refused_not_stored() {
        let many: Vec<_> = (0..600)
            .map(|i| serde_json::json!({"name": format!("m{i}")}))
            .collect();
        let p = packument(serde_json::json!({"name": "x", "maintainers": many, "versions": {}}));
        let e = Snapshot::from_packument("x", &p, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("600 maintainers"), "{e}");

        let long = "a".repeat(10_000);
        let p = packument(
            serde_json::json!({"name": "x", "maintainers": [{"name": long}], "versions": {}}),
        );
        let e = Snapshot::from_packument("x", &p, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("longer than 256"), "{e}");
        // The message does not carry the hostile text.
        assert!(e.to_string().len() < 200);
    }

    #[test]
    fn pypi_projects_keep_files_yanked_releases_and_owners() {
        let f = |n: &str, at: &str, yanked| PypiFile {
            filename: n.into(),
            uploaded: Some(at.into()),
            yanked,
        };
        let p = PypiProject {
            latest: Some("1.1".into()),
            owners: vec!["Alice".into()],
            releases: [
                (
                    "1.0".to_string(),
                    vec![f("a-1.0.tar.gz", "2026-01-02T00:00:00Z", true)],
                ),
                (
                    "1.1".to_string(),
                    vec![
                        f("a-1.1-py3-none-any.whl", "2026-02-02T00:00:00Z", false),
                        f("a-1.1.tar.gz", "2026-02-01T00:00:00Z", false),
                    ],
                ),
            ]
            .into(),
        };
        let s = Snapshot::from_pypi("a", &p, &Limits::default()).unwrap();
        assert_eq!(s.yanked.iter().collect::<Vec<_>>(), ["1.0"]);
        assert_eq!(s.files["1.1"].len(), 2);
        assert_eq!(s.versions["1.1"].published, Some(1_769_904_000));
        assert_eq!(s.maintainers.iter().collect::<Vec<_>>(), ["alice"]);
        assert_eq!(s.dist_tags["latest"], "1.1");
        assert_eq!(Snapshot::from_json(&s.to_json()).unwrap(), s);
        let many = PypiProject {
            owners: (0..1_000).map(|i| format!("o{i}")).collect(),
            ..PypiProject::default()
        };
        assert!(Snapshot::from_pypi("a", &many, &Limits::default()).is_err());
    }

    #[test]
    fn terminal_escapes_and_bidi_overrides_in_names_are_escaped() {
        let p = packument(serde_json::json!({
            "name": "x",
            "dist-tags": {"latest\u{1b}[2J": "1.0.0"},
            "maintainers": [{"name": "eve\u{1b}]8;;http://evil\u{7}"}],
            "versions": {"1.0.0": {"_npmUser": {"name": "al\u{202e}ice"}}}
        }));
        let s = Snapshot::from_packument("x", &p, &Limits::default()).unwrap();
        let all = format!("{:?}{}", s.maintainers, s.to_json());
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{7}') && !all.contains('\u{202e}'),
            "{all}"
        );
        let m = s.maintainers.iter().next().unwrap();
        assert!(m.starts_with("eve\\u{1b}"), "{m}");
        assert!(s.dist_tags.keys().all(|t| !t.contains('\u{1b}')));
        assert!(
            s.versions["1.0.0"]
                .publisher
                .as_deref()
                .unwrap()
                .contains("\\u{202e}")
        );
    }

    #[test]
    fn a_corrupt_stored_snapshot_is_an_error() {
        assert!(Snapshot::from_json("{\"name\": 5}").is_err());
    }
}
