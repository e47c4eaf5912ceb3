//! PyPI's JSON API (`/pypi/<project>/json`, `/pypi/<project>/<version>/json`): release files
//! with their upload time **per file**, yanked state, and the account-level `ownership`
//! (roles and organisation), the only account data PyPI publishes.

use std::collections::BTreeMap;

use serde_json::Value;
use url::Url;

use crate::error::PypiError;
use crate::name::ProjectName;

/// A project's metadata from the JSON API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectMeta {
    /// `info.name` as the index writes it.
    pub name: String,
    /// `info.version`: the latest release (project document) or the one asked for.
    pub version: Option<String>,
    /// `info.author_email` and `info.maintainer_email`: free text as uploaded (a
    /// comma-separated list of `Name <addr>` or bare addresses), never trusted as identity.
    pub author_email: Option<String>,
    pub maintainer_email: Option<String>,
    /// `ownership` (absent on indexes other than PyPI, and on PyPI before 2026-02).
    pub ownership: Option<Ownership>,
    /// Files per version (`releases` of the project document; the asked version's `urls`
    /// for a version document).
    pub releases: BTreeMap<String, Vec<ReleaseFile>>,
    pub last_serial: Option<u64>,
}

/// Who may publish: PyPI `ownership`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ownership {
    pub roles: Vec<Role>,
    pub organization: Option<String>,
}

/// One account's role (`Owner`, `Maintainer`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Role {
    pub role: String,
    pub user: String,
}

/// One file of a release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReleaseFile {
    pub filename: String,
    pub sha256: Option<String>,
    /// `upload_time_iso_8601` (else `upload_time`): a release gains files over time.
    pub upload_time: Option<String>,
    /// `sdist` or `bdist_wheel`.
    pub packagetype: Option<String>,
    pub yanked: bool,
    pub yanked_reason: Option<String>,
    pub size: Option<u64>,
}

fn malformed(url: &Url, reason: impl Into<String>) -> PypiError {
    PypiError::Malformed {
        url: crate::redact(url),
        what: "JSON API document",
        reason: reason.into(),
    }
}

fn files(url: &Url, v: Option<&Value>) -> Result<Vec<ReleaseFile>, PypiError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let arr = v
        .as_array()
        .ok_or_else(|| malformed(url, "files are not a list"))?;
    let mut out = Vec::with_capacity(arr.len());
    for f in arr {
        let s = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
        let filename = s("filename").ok_or_else(|| malformed(url, "a file without filename"))?;
        out.push(ReleaseFile {
            filename,
            sha256: f
                .pointer("/digests/sha256")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
            upload_time: s("upload_time_iso_8601").or_else(|| s("upload_time")),
            packagetype: s("packagetype"),
            yanked: f.get("yanked").and_then(Value::as_bool).unwrap_or(false),
            yanked_reason: s("yanked_reason"),
            size: f.get("size").and_then(Value::as_u64),
        });
    }
    Ok(out)
}

/// Parse a project or version document. The document must be about `name`.
pub fn parse(url: &Url, name: &ProjectName, body: &[u8]) -> Result<ProjectMeta, PypiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| malformed(url, e.to_string()))?;
    let info = v.get("info").ok_or_else(|| malformed(url, "no info"))?;
    let written = info
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(url, "no info.name"))?;
    if turncoat_lockfile::pep503_normalize(written) != name.as_str() {
        return Err(malformed(
            url,
            format!("the document is about {written:?}, not {name}"),
        ));
    }
    let version = info
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_string);
    let ownership = v.get("ownership").filter(|o| o.is_object()).map(|o| {
        let mut roles: Vec<Role> = o
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        Some(Role {
                            role: r.get("role")?.as_str()?.to_string(),
                            user: r.get("user")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        roles.sort();
        Ownership {
            roles,
            organization: o
                .get("organization")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    });
    let mut releases = BTreeMap::new();
    if let Some(r) = v.get("releases") {
        let map = r
            .as_object()
            .ok_or_else(|| malformed(url, "releases is not an object"))?;
        for (ver, fs) in map {
            releases.insert(ver.clone(), files(url, Some(fs))?);
        }
    } else if let Some(ver) = &version {
        releases.insert(ver.clone(), files(url, v.get("urls"))?);
    }
    let text = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(ProjectMeta {
        name: written.to_string(),
        version,
        author_email: text("author_email"),
        maintainer_email: text("maintainer_email"),
        ownership,
        releases,
        last_serial: v.get("last_serial").and_then(Value::as_u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_document() {
        let url = Url::parse("https://pypi.example/pypi/sampleproject/json").unwrap();
        let body = serde_json::json!({
            "info": {"name": "sampleproject", "version": "4.0.0",
                     "author_email": "A <a@example.org>", "maintainer_email": null},
            "last_serial": 7,
            "ownership": {"roles": [{"role": "Maintainer", "user": "pypa-bot"},
                                    {"role": "Owner", "user": "theacodes"}],
                          "organization": "pypa"},
            "releases": {"4.0.0": [{"filename": "sampleproject-4.0.0.tar.gz",
                "digests": {"sha256": "AB"}, "upload_time": "2024-11-06T22:37:09",
                "upload_time_iso_8601": "2024-11-06T22:37:09.220617Z",
                "packagetype": "sdist", "yanked": false, "size": 5}]}});
        let name = ProjectName::new("SampleProject").unwrap();
        let m = parse(&url, &name, body.to_string().as_bytes()).unwrap();
        assert_eq!(m.author_email.as_deref(), Some("A <a@example.org>"));
        assert_eq!(m.maintainer_email, None);
        let o = m.ownership.unwrap();
        assert_eq!(o.organization.as_deref(), Some("pypa"));
        assert_eq!(o.roles[0].role, "Maintainer");
        let f = &m.releases["4.0.0"][0];
        assert_eq!(
            f.upload_time.as_deref(),
            Some("2024-11-06T22:37:09.220617Z")
        );
        assert_eq!(f.sha256.as_deref(), Some("ab"));
        let other = ProjectName::new("requests").unwrap();
        assert!(parse(&url, &other, body.to_string().as_bytes()).is_err());
    }

    #[test]
    fn version_document_uses_urls() {
        let url = Url::parse("https://pypi.example/pypi/a/1.0/json").unwrap();
        let body =
            br#"{"info": {"name": "a", "version": "1.0"}, "urls": [{"filename": "a-1.0.tar.gz"}]}"#;
        let m = parse(&url, &ProjectName::new("a").unwrap(), body).unwrap();
        assert_eq!(m.releases["1.0"].len(), 1);
    }
}
