//! Your published identities: for the packages a repository publishes (`package.json` `name`
//! unless `"private": true`; `pyproject.toml` `[project] name`), the maintainer and author
//! addresses the registries publish about them.
//!
//! - [`published_packages`] reads the two manifests at the repository root (IO, bounded);
//! - [`npm_identities`] / [`pypi_identities`] extract addresses from the registry documents
//!   (sans-IO): npm packument `maintainers[]` and `author` (top level, else the latest
//!   version's), PyPI JSON `info.author_email` / `info.maintainer_email` (free text: a
//!   comma-separated list of `Name <addr>` or bare addresses);
//! - [`PypiClient`] reads PyPI's JSON API (`GET {base}/pypi/{name}/json`, base configurable
//!   for tests) through `turncoat-pypi`, the one PyPI reader (a document about another
//!   project is refused there); npm documents come from `turncoat-registry`'s client.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use turncoat_finding::{Finding, Level};

use crate::email::{EmailClass, classify};
use crate::hibp::BreachError;
use crate::report::LeveledFinding;
use turncoat_pypi::ProjectMeta;

use crate::web::{parse_base, shown};

/// The public PyPI JSON API base.
pub const PYPI_API: &str = "https://pypi.org";

/// Largest manifest read from a repository.
const MAX_MANIFEST: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ecosystem {
    Npm,
    Pypi,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// The manifest it was read from, relative to the repository.
    pub manifest: String,
}

/// An address a registry publishes for a package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RegistryIdentity {
    pub registry: String,
    pub package: String,
    /// `maintainer`, `author`, `author_email`, `maintainer_email`.
    pub role: String,
    pub name: Option<String>,
    pub email: String,
    pub class: EmailClass,
}

fn read_bounded(path: &Path) -> Option<String> {
    use std::io::Read;
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None; // a symlink could point anywhere on the machine
    }
    let mut s = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_MANIFEST)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// The packages `dir` publishes, from its root manifests.
pub fn published_packages(dir: &Path) -> Vec<PublishedPackage> {
    let mut out = Vec::new();
    if let Some(text) = read_bounded(&dir.join("package.json"))
        && let Ok(v) = serde_json::from_str::<Value>(&text)
        && v.get("private").and_then(Value::as_bool) != Some(true)
        && let Some(name) = v.get("name").and_then(Value::as_str)
        && turncoat_npm::PackageName::new(name).is_ok()
    {
        out.push(PublishedPackage {
            ecosystem: Ecosystem::Npm,
            name: name.to_string(),
            manifest: "package.json".into(),
        });
    }
    if let Some(text) = read_bounded(&dir.join("pyproject.toml"))
        && let Ok(v) = toml::from_str::<toml::Value>(&text)
        && let Some(name) = v
            .get("project")
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
        && is_pypi_name(name)
    {
        out.push(PublishedPackage {
            ecosystem: Ecosystem::Pypi,
            name: name.to_string(),
            manifest: "pyproject.toml".into(),
        });
    }
    out
}

/// PEP 508 project names: ASCII letters, digits, `.`, `_`, `-`, starting and ending with a
/// letter or digit.
fn is_pypi_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 200
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && n.as_bytes()[0].is_ascii_alphanumeric()
        && n.as_bytes()[n.len() - 1].is_ascii_alphanumeric()
}

/// `Name <addr>` or `addr`, as npm and PyPI write people.
fn person(s: &str) -> (Option<String>, Option<String>) {
    let p = turncoat_npm::Person::parse(s);
    (p.name, p.email)
}

fn npm_person(v: &Value) -> (Option<String>, Option<String>) {
    turncoat_npm::Person::from_json(v).map_or((None, None), |p| (p.name, p.email))
}

/// The addresses of an npm packument (sans-IO).
pub fn npm_identities(package: &str, packument: &Value) -> Vec<RegistryIdentity> {
    let mut out = Vec::new();
    let mut push = |role: &str, (name, email): (Option<String>, Option<String>)| {
        if let Some(email) = email {
            out.push(RegistryIdentity {
                registry: "npm".into(),
                package: package.into(),
                role: role.into(),
                name,
                class: classify(&email),
                email,
            });
        }
    };
    for m in packument
        .get("maintainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push("maintainer", npm_person(m));
    }
    let latest = packument
        .get("dist-tags")
        .and_then(|t| t.get("latest"))
        .and_then(Value::as_str)
        .and_then(|v| packument.get("versions")?.get(v));
    let author = packument
        .get("author")
        .or_else(|| latest.and_then(|l| l.get("author")));
    if let Some(a) = author {
        push("author", npm_person(a));
    }
    dedup(out)
}

/// The addresses of a PyPI project (sans-IO): `info.author_email` and
/// `info.maintainer_email` as [`turncoat_pypi::ProjectMeta`] keeps them.
pub fn pypi_identities(package: &str, meta: &ProjectMeta) -> Vec<RegistryIdentity> {
    let mut out = Vec::new();
    for (field, text) in [
        ("author_email", &meta.author_email),
        ("maintainer_email", &meta.maintainer_email),
    ] {
        let Some(text) = text else {
            continue;
        };
        for part in text.split(',') {
            if let (name, Some(email)) = person(part) {
                out.push(RegistryIdentity {
                    registry: "pypi".into(),
                    package: package.into(),
                    role: field.into(),
                    name,
                    class: classify(&email),
                    email,
                });
            }
        }
    }
    dedup(out)
}

/// Who can publish a PyPI project: `ownership.roles` (`Owner` / `Maintainer` and the account
/// name), in the order the index lists them. Sans-IO.
pub fn pypi_publishers(meta: &ProjectMeta) -> Vec<Publisher> {
    meta.ownership
        .iter()
        .flat_map(|o| &o.roles)
        .map(|r| Publisher {
            role: r.role.clone(),
            user: r.user.clone(),
        })
        .collect()
}

/// Who can publish an npm package: `maintainers[].name` (every npm maintainer can publish).
/// Sans-IO. PyPI's are [`pypi_publishers`].
pub fn npm_publishers(doc: &Value) -> Vec<Publisher> {
    doc.get("maintainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(Publisher {
                role: "maintainer".into(),
                user: npm_person(m).0?,
            })
        })
        .collect()
}

/// An account that can publish a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publisher {
    pub role: String,
    pub user: String,
}

/// One identity per (address, role), case-insensitively.
fn dedup(mut v: Vec<RegistryIdentity>) -> Vec<RegistryIdentity> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|i| seen.insert((i.email.to_ascii_lowercase(), i.role.clone())));
    v
}

/// The PyPI JSON API client: `turncoat_pypi::PypiClient` on `{base}/simple/`, whose
/// `project_meta` reads `{base}/pypi/{name}/json`. No cache: recon and evaluate ask the index
/// now, not what a cache file says.
pub struct PypiClient {
    inner: turncoat_pypi::PypiClient,
}

impl PypiClient {
    /// `base` is [`PYPI_API`] or a test server.
    pub fn new(base: &str, timeout: Duration) -> Result<PypiClient, BreachError> {
        let mut root = parse_base(base)?;
        if !root.path().ends_with('/') {
            let p = format!("{}/", root.path());
            root.set_path(&p);
        }
        let index = root.join("simple/").map_err(|e| BreachError::BadReply {
            url: shown(&root),
            message: e.to_string(),
        })?;
        let inner = turncoat_pypi::PypiClient::new(
            index,
            None,
            turncoat_pypi::ClientOptions {
                timeout,
                max_document_bytes: crate::web::MAX_DOCUMENT,
                ..Default::default()
            },
        )
        .map_err(|e| BreachError::Http {
            url: shown(&root),
            message: e.to_string(),
        })?;
        Ok(PypiClient { inner })
    }

    /// The project's JSON document; `None` when PyPI has no such project (404).
    pub fn project(&self, name: &str) -> Result<Option<ProjectMeta>, BreachError> {
        let project = turncoat_pypi::ProjectName::new(name).map_err(|e| BreachError::BadReply {
            url: name.to_string(),
            message: e.to_string(),
        })?;
        match self.inner.project_meta(&project) {
            Ok(m) => Ok(Some(m)),
            Err(turncoat_pypi::PypiError::Http { status: 404, .. }) => Ok(None),
            Err(turncoat_pypi::PypiError::Http { status, url }) => {
                Err(BreachError::Status { url, status })
            }
            Err(e @ turncoat_pypi::PypiError::Malformed { .. }) => Err(BreachError::BadReply {
                url: format!("JSON API of {name}"),
                message: e.to_string(),
            }),
            Err(e) => Err(BreachError::Http {
                url: format!("JSON API of {name}"),
                message: e.to_string(),
            }),
        }
    }
}

/// What the registries publish about one package, or why it could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedFacts {
    pub package: PublishedPackage,
    /// `false` when the registry has no such package (not published yet, or a different name).
    pub found: bool,
    pub identities: Vec<RegistryIdentity>,
    /// The accounts that can publish it ([`publishers`]).
    #[serde(default)]
    pub publishers: Vec<Publisher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishedReport {
    pub packages: Vec<PublishedFacts>,
    /// Distinct addresses published, and how many of them are personal.
    pub addresses: usize,
    pub personal_addresses: usize,
    pub findings: Vec<LeveledFinding>,
}

/// Judge the facts (sans-IO).
pub fn judge(packages: Vec<PublishedFacts>, level: &dyn Fn(&str) -> Level) -> PublishedReport {
    let mut findings: Vec<Finding> = Vec::new();
    let mut all = std::collections::BTreeSet::new();
    let mut personal = std::collections::BTreeSet::new();
    for p in &packages {
        for id in &p.identities {
            all.insert(id.email.to_ascii_lowercase());
            if id.class == EmailClass::Personal {
                personal.insert(id.email.to_ascii_lowercase());
            }
            crate::rules::registry_email_exposed::judge(id, &mut findings);
        }
    }
    PublishedReport {
        packages,
        addresses: all.len(),
        personal_addresses: personal.len(),
        findings: crate::passwords::leveled_findings(findings, level),
    }
}

/// The human report.
pub fn render_human(r: &PublishedReport) -> String {
    let mut out = format!(
        "Published identities: {} package(s), {} address(es) published, {} personal\n",
        r.packages.len(),
        r.addresses,
        r.personal_addresses
    );
    for p in &r.packages {
        let state = match (&p.error, p.found) {
            (Some(e), _) => format!("could not check: {e}"),
            (None, false) => "not on the registry".into(),
            (None, true) => format!(
                "{} address(es), {} account(s) can publish{}",
                p.identities.len(),
                p.publishers.len(),
                if p.publishers.len() == 1 {
                    " (a single point of failure)"
                } else {
                    ""
                }
            ),
        };
        out.push_str(&format!(
            "  {} {} ({}): {state}\n",
            p.package.ecosystem.as_str(),
            p.package.name,
            p.package.manifest
        ));
        for who in &p.publishers {
            out.push_str(&format!(
                "    {:<16} {}\n",
                who.role,
                crate::passwords::clip(&who.user, 40)
            ));
        }
        for id in &p.identities {
            out.push_str(&format!(
                "    {:<16} {:<40} {}\n",
                id.role,
                crate::passwords::clip(&id.email, 40),
                id.class.as_str()
            ));
        }
    }
    for f in &r.findings {
        out.push_str(&format!(
            "{:5} {}: {}\n",
            f.level.as_str(),
            f.finding.code,
            f.finding.message
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn manifests_at_the_root() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("package.json"), r#"{"name":"@acme/widget"}"#).unwrap();
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[project]\nname = \"acme-widget\"\n",
        )
        .unwrap();
        let p = published_packages(d.path());
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["@acme/widget", "acme-widget"]
        );
        std::fs::write(
            d.path().join("package.json"),
            r#"{"name":"app","private":true}"#,
        )
        .unwrap();
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[project]\nname = \"../x\"\n",
        )
        .unwrap();
        assert!(published_packages(d.path()).is_empty());
    }

    #[test]
    fn symlinked_manifests_are_not_read() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("p.json"), r#"{"name":"outside"}"#).unwrap();
        std::os::unix::fs::symlink(outside.path().join("p.json"), d.path().join("package.json"))
            .unwrap();
        assert!(published_packages(d.path()).is_empty());
    }

    #[test]
    fn npm_maintainers_and_author() {
        let doc = json!({
            "name": "widget",
            "maintainers": [{"name": "jane", "email": "jane@gmail.com"}, "Bob <bob@corp.example>", {"name": "noaddr"}],
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": {"author": {"name": "Jane", "email": "JANE@gmail.com"}}}
        });
        let ids = npm_identities("widget", &doc);
        let got: Vec<(&str, &str, EmailClass)> = ids
            .iter()
            .map(|i| (i.role.as_str(), i.email.as_str(), i.class))
            .collect();
        assert_eq!(
            got,
            [
                ("maintainer", "jane@gmail.com", EmailClass::Personal),
                ("maintainer", "bob@corp.example", EmailClass::Organisation),
                ("author", "JANE@gmail.com", EmailClass::Personal),
            ]
        );
    }

    fn meta(v: Value) -> ProjectMeta {
        let url = url::Url::parse("https://pypi.example/pypi/widget/json").unwrap();
        let name = turncoat_pypi::ProjectName::new("widget").unwrap();
        turncoat_pypi::meta::parse(&url, &name, v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn pypi_free_text_addresses() {
        let doc = meta(json!({"info": {
            "name": "widget",
            "author_email": "Jane Doe <jane@gmail.com>, ops@corp.example",
            "maintainer_email": null,
        }}));
        let ids = pypi_identities("widget", &doc);
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].name.as_deref(), Some("Jane Doe"));
        assert_eq!(ids[1].email, "ops@corp.example");
        let roles = meta(
            json!({"info": {"name": "widget"}, "ownership": {"roles": [{"role": "Owner", "user": "jane"}, {"role": "Maintainer"}]}}),
        );
        assert_eq!(
            pypi_publishers(&roles),
            [Publisher {
                role: "Owner".into(),
                user: "jane".into()
            }]
        );
        assert!(
            pypi_identities(
                "widget",
                &meta(json!({"info": {"name": "widget", "author_email": "not an address"}}))
            )
            .is_empty()
        );
    }
}
