//! The index client: an HTTP index (PyPI or a mirror) or a directory index, the cache and
//! offline mode, and downloads verified against the lockfile while they stream.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use crate::cache::{CacheReliance, PypiCache, now_secs};
use crate::error::PypiError;
use crate::meta::{self, ProjectMeta};
use crate::name::ProjectName;
use crate::simple::{self, DistFile, ProjectPage};

/// Accept header for the simple API: JSON first (PEP 691), HTML as a fallback.
pub const SIMPLE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, \
application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Limits and modes.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Answer from the cache only (documents are reported as relied on).
    pub offline: bool,
    /// Largest simple page or JSON document (default 64 MiB).
    pub max_document_bytes: u64,
    /// Largest distribution file (default 1 GiB).
    pub max_file_bytes: u64,
    pub timeout: Duration,
    /// Allow plain `http://` to hosts other than loopback (default no).
    pub allow_http: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            offline: false,
            max_document_bytes: 64 * 1024 * 1024,
            max_file_bytes: 1024 * 1024 * 1024,
            timeout: Duration::from_secs(120),
            allow_http: false,
        }
    }
}

enum Backend {
    Http(Box<ureq::Agent>),
    /// A directory index: the canonical root every file must stay under.
    Dir(PathBuf),
}

/// A client for one index.
pub struct PypiClient {
    index: Url,
    backend: Backend,
    cache: Option<PypiCache>,
    opts: ClientOptions,
    relied: Mutex<Vec<CacheReliance>>,
}

/// Where the bytes of a document came from.
struct Doc {
    content_type: String,
    body: Vec<u8>,
}

/// Basic credentials from an index URL's userinfo, never printed.
fn userinfo(url: &Url) -> Option<String> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = dec(url.username());
    let pass = url.password().map(dec).unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    Some(format!("Basic {b64}"))
}

/// The system CA bundle (`SSL_CERT_FILE`, `PIP_CERT`, else the distribution's bundle), so
/// that a company TLS proxy works as it does for pip; WebPKI roots when none is found.
fn system_roots() -> ureq::tls::RootCerts {
    const BUNDLES: &[&str] = &[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ];
    let mut files: Vec<PathBuf> = ["SSL_CERT_FILE", "PIP_CERT"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(PathBuf::from))
        .collect();
    if files.is_empty() {
        files.extend(BUNDLES.iter().map(PathBuf::from).find(|p| p.is_file()));
    }
    turncoat_registry::root_certs(&files)
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

impl PypiClient {
    /// A client for `index` (the simple API root, e.g. `https://pypi.org/simple/`, or a
    /// `file:///dir/simple/` directory index).
    pub fn new(
        index: Url,
        cache: Option<PypiCache>,
        opts: ClientOptions,
    ) -> Result<PypiClient, PypiError> {
        let mut index = index;
        if !index.path().ends_with('/') {
            let p = format!("{}/", index.path());
            index.set_path(&p);
        }
        let backend = match index.scheme() {
            "file" => {
                let path = index.to_file_path().map_err(|()| PypiError::InvalidUrl {
                    url: crate::redact(&index),
                    reason: "not a local path".into(),
                })?;
                // The directory index root is the folder above `simple/`.
                let root = path.parent().unwrap_or(&path).to_path_buf();
                let root = root.canonicalize().map_err(|source| PypiError::Io {
                    path: root.display().to_string(),
                    source,
                })?;
                Backend::Dir(root)
            }
            "https" | "http" => {
                if index.scheme() == "http" && !opts.allow_http && !is_loopback(&index) {
                    return Err(PypiError::InvalidUrl {
                        url: crate::redact(&index),
                        reason: "plain http is refused (use https)".into(),
                    });
                }
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .timeout_global(Some(opts.timeout))
                    .user_agent(concat!("turncoat/", env!("CARGO_PKG_VERSION")))
                    .tls_config(
                        ureq::tls::TlsConfig::builder()
                            .root_certs(system_roots())
                            .build(),
                    )
                    .build()
                    .into();
                Backend::Http(Box::new(agent))
            }
            other => {
                return Err(PypiError::InvalidUrl {
                    url: crate::redact(&index),
                    reason: format!("scheme {other:?} is not supported"),
                });
            }
        };
        Ok(PypiClient {
            index,
            backend,
            cache,
            opts,
            relied: Mutex::new(Vec::new()),
        })
    }

    /// The index URL (may hold credentials: print it with [`crate::redact`]).
    pub fn index(&self) -> &Url {
        &self.index
    }

    /// Documents an offline run answered from the cache.
    pub fn cache_reliance(&self) -> Vec<CacheReliance> {
        let mut v = self.relied.lock().map(|g| g.clone()).unwrap_or_default();
        v.sort();
        v.dedup();
        v
    }

    /// Documents about `project` (PEP 503 name) an offline run answered from the cache.
    pub fn cache_reliance_for(&self, project: &str) -> Vec<CacheReliance> {
        let mut v = self.cache_reliance();
        v.retain(|r| r.project == project);
        v
    }

    /// The simple API page of a project.
    pub fn project(&self, name: &ProjectName) -> Result<ProjectPage, PypiError> {
        let url = self.join(&format!("{name}/"))?;
        let doc = self.document(
            &url,
            SIMPLE_ACCEPT,
            name.as_str(),
            &format!("simple page of {name}"),
        )?;
        let ct = doc.content_type.to_ascii_lowercase();
        if ct.contains("json") {
            simple::parse_json(&url, name, &doc.body)
        } else if ct.contains("html") {
            simple::parse_html(&url, name, &doc.body)
        } else {
            Err(PypiError::ContentType {
                url: crate::redact(&url),
                content_type: doc.content_type,
            })
        }
    }

    /// The JSON API project document (`<index>/../pypi/<name>/json`).
    pub fn project_meta(&self, name: &ProjectName) -> Result<ProjectMeta, PypiError> {
        let url = self.join(&format!("../pypi/{name}/json"))?;
        let doc = self.document(
            &url,
            "application/json",
            name.as_str(),
            &format!("JSON API of {name}"),
        )?;
        meta::parse(&url, name, &doc.body)
    }

    /// The JSON API document of one version.
    pub fn release_meta(
        &self,
        name: &ProjectName,
        version: &str,
    ) -> Result<ProjectMeta, PypiError> {
        if version.is_empty() || version.contains(['/', '\\', '?', '#']) || version.contains("..") {
            return Err(PypiError::InvalidName(format!("{name} {version}")));
        }
        let url = self.join(&format!("../pypi/{name}/{version}/json"))?;
        let doc = self.document(
            &url,
            "application/json",
            name.as_str(),
            &format!("JSON API of {name} {version}"),
        )?;
        meta::parse(&url, name, &doc.body)
    }

    /// The PEP 740 provenance object of `file` (the Integrity API document the page links),
    /// or `None` when the index lists none. It is a document like a page: fetched online
    /// (and cached), answered only from the cache offline (and reported). Its content is
    /// verified by `turncoat_attest::pep740`, never trusted here.
    pub fn provenance(&self, file: &DistFile) -> Result<Option<Vec<u8>>, PypiError> {
        let Some(rel) = file.provenance.as_deref().filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let bad = |reason: String| PypiError::InvalidUrl {
            url: rel.to_string(),
            reason,
        };
        // Absolute already (the page parser resolves it); a hand-made DistFile's relative
        // link is taken relative to the file.
        let base = Url::parse(&file.url).map_err(|e| bad(e.to_string()))?;
        let url = base.join(rel).map_err(|e| bad(e.to_string()))?;
        if self.is_dir() != (url.scheme() == "file") {
            return Err(bad("provenance URL of another kind than the index".into()));
        }
        let doc = self.document(
            &url,
            "application/vnd.pypi.integrity.v1+json, application/json;q=0.9",
            &crate::file_project(&file.filename)
                .map(|(p, _)| p)
                .unwrap_or_default(),
            &format!("provenance of {}", file.filename),
        )?;
        Ok(Some(doc.body))
    }

    fn is_dir(&self) -> bool {
        matches!(self.backend, Backend::Dir(_))
    }

    /// Download `file`, hashing it while it streams; it must match one of `expected`
    /// (lower-case sha256 hex, see [`crate::expected_sha256`]). Fails closed on an empty
    /// list. Verified files are cached by content and served from there again.
    pub fn download(&self, file: &DistFile, expected: &[String]) -> Result<Vec<u8>, PypiError> {
        if expected.is_empty() {
            return Err(PypiError::NoExpectedHash {
                file: file.filename.clone(),
            });
        }
        if let Some(cache) = &self.cache {
            for h in expected {
                if let Some(b) = cache.get_file(h, self.opts.max_file_bytes) {
                    return Ok(b);
                }
            }
        }
        if self.opts.offline {
            return Err(PypiError::OfflineMiss {
                what: file.filename.clone(),
            });
        }
        let url = Url::parse(&file.url).map_err(|e| PypiError::InvalidUrl {
            url: file.url.clone(),
            reason: e.to_string(),
        })?;
        let mut hasher = Sha256::new();
        let body = self.fetch(
            &url,
            "application/octet-stream",
            self.opts.max_file_bytes,
            &mut |c| hasher.update(c),
        )?;
        let actual = hex::encode(hasher.finalize());
        if !expected.iter().any(|h| h.eq_ignore_ascii_case(&actual)) {
            return Err(PypiError::HashMismatch {
                file: file.filename.clone(),
                actual,
                expected: expected.len(),
            });
        }
        if let Some(cache) = &self.cache {
            cache.put_file(&actual, &body.body)?;
        }
        Ok(body.body)
    }

    fn join(&self, rel: &str) -> Result<Url, PypiError> {
        self.index.join(rel).map_err(|e| PypiError::InvalidUrl {
            url: crate::redact(&self.index),
            reason: e.to_string(),
        })
    }

    /// A document: fetched online (and cached); from the cache only offline, reported.
    fn document(
        &self,
        url: &Url,
        accept: &str,
        project: &str,
        what: &str,
    ) -> Result<Doc, PypiError> {
        let key = crate::redact(url);
        if self.opts.offline {
            let Some((content_type, body, fetched_at)) = self
                .cache
                .as_ref()
                .and_then(|c| c.get_doc(&key, self.opts.max_document_bytes))
            else {
                return Err(PypiError::OfflineMiss {
                    what: what.to_string(),
                });
            };
            if let Ok(mut r) = self.relied.lock() {
                r.push(CacheReliance {
                    project: project.to_string(),
                    document: what.to_string(),
                    fetched_at,
                    future: fetched_at > now_secs() + 300,
                });
            }
            return Ok(Doc { content_type, body });
        }
        let doc = self.fetch(url, accept, self.opts.max_document_bytes, &mut |_| {})?;
        if let Some(c) = &self.cache {
            c.put_doc(&key, &doc.content_type, &doc.body);
        }
        Ok(doc)
    }

    fn fetch(
        &self,
        url: &Url,
        accept: &str,
        limit: u64,
        on_chunk: &mut dyn FnMut(&[u8]),
    ) -> Result<Doc, PypiError> {
        match &self.backend {
            Backend::Dir(root) => dir_fetch(root, url, limit, on_chunk),
            Backend::Http(agent) => self.http_fetch(agent, url, accept, limit, on_chunk),
        }
    }

    fn http_fetch(
        &self,
        agent: &ureq::Agent,
        start: &Url,
        accept: &str,
        limit: u64,
        on_chunk: &mut dyn FnMut(&[u8]),
    ) -> Result<Doc, PypiError> {
        let auth = userinfo(&self.index);
        let mut url = start.clone();
        for _ in 0..=5 {
            let shown = crate::redact(&url);
            if url.scheme() == "http" && !self.opts.allow_http && !is_loopback(&url) {
                return Err(PypiError::InvalidUrl {
                    url: shown,
                    reason: "plain http is refused (use https)".into(),
                });
            }
            if !matches!(url.scheme(), "http" | "https") {
                return Err(PypiError::InvalidUrl {
                    url: shown,
                    reason: "not an http(s) URL".into(),
                });
            }
            let mut bare = url.clone();
            let _ = bare.set_username("");
            let _ = bare.set_password(None);
            let mut rb = agent.get(bare.as_str()).header("accept", accept);
            // Credentials go to the index's own origin only, never to a file host or a
            // redirect target elsewhere.
            if let Some(a) = &auth
                && url.origin() == self.index.origin()
            {
                rb = rb.header("authorization", a);
            }
            let mut resp = rb.call().map_err(|e| PypiError::Network {
                url: shown.clone(),
                reason: e.to_string(),
            })?;
            let status = resp.status().as_u16();
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            match status {
                301 | 302 | 303 | 307 | 308 => {
                    let loc = header("location").ok_or(PypiError::Http {
                        status,
                        url: shown.clone(),
                    })?;
                    url = url.join(&loc).map_err(|e| PypiError::InvalidUrl {
                        url: shown,
                        reason: format!("bad redirect: {e}"),
                    })?;
                    continue;
                }
                200..=299 => {
                    let content_type = header("content-type").unwrap_or_default();
                    if header("content-length")
                        .and_then(|l| l.parse::<u64>().ok())
                        .is_some_and(|l| l > limit)
                    {
                        return Err(PypiError::TooLarge { url: shown, limit });
                    }
                    let reader = resp.body_mut().as_reader();
                    let body = read_limited(reader, limit, &shown, on_chunk)?;
                    return Ok(Doc { content_type, body });
                }
                _ => return Err(PypiError::Http { status, url: shown }),
            }
        }
        Err(PypiError::Network {
            url: crate::redact(start),
            reason: "too many redirects".into(),
        })
    }
}

fn read_limited(
    mut r: impl Read,
    limit: u64,
    shown: &str,
    on_chunk: &mut dyn FnMut(&[u8]),
) -> Result<Vec<u8>, PypiError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(PypiError::Network {
                    url: shown.to_string(),
                    reason: e.to_string(),
                });
            }
        };
        if out.len() as u64 + n as u64 > limit {
            return Err(PypiError::TooLarge {
                url: shown.to_string(),
                limit,
            });
        }
        let chunk = buf.get(..n).unwrap_or_default();
        on_chunk(chunk);
        out.extend_from_slice(chunk);
    }
    Ok(out)
}

/// A file of a directory index: resolved through symlinks, it must stay under `root`.
/// A project directory serves `index.json` (PEP 691) or else `index.html` (PEP 503).
fn dir_fetch(
    root: &Path,
    url: &Url,
    limit: u64,
    on_chunk: &mut dyn FnMut(&[u8]),
) -> Result<Doc, PypiError> {
    let err = |path: &Path, reason: &str| PypiError::Directory {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    let path = url
        .to_file_path()
        .map_err(|()| err(Path::new(url.path()), "not a local file URL"))?;
    let (path, content_type) = if url.path().ends_with('/') {
        let json = path.join("index.json");
        if json.is_file() {
            (json, "application/vnd.pypi.simple.v1+json")
        } else {
            (path.join("index.html"), "text/html")
        }
    } else if url.path().ends_with("/json") {
        (path, "application/json")
    } else {
        (path, "application/octet-stream")
    };
    let real = path.canonicalize().map_err(|_| PypiError::Http {
        status: 404,
        url: url.path().to_string(),
    })?;
    if !real.starts_with(root) {
        return Err(err(&path, "resolves outside the directory index"));
    }
    let f = std::fs::File::open(&real).map_err(|source| PypiError::Io {
        path: real.display().to_string(),
        source,
    })?;
    if !f.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(err(&real, "not a regular file"));
    }
    let body = read_limited(f, limit, &real.display().to_string(), on_chunk)?;
    Ok(Doc {
        content_type: content_type.to_string(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_credentials() {
        let u = Url::parse("https://u%40x:p%3Aw@h/simple/").unwrap();
        // base64("u@x:p:w")
        assert_eq!(userinfo(&u).unwrap(), "Basic dUB4OnA6dw==");
        assert!(userinfo(&Url::parse("https://h/").unwrap()).is_none());
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let u = Url::parse("http://mirror.example/simple/").unwrap();
        assert!(PypiClient::new(u, None, ClientOptions::default()).is_err());
        let u = Url::parse("http://127.0.0.1:9/simple/").unwrap();
        assert!(PypiClient::new(u, None, ClientOptions::default()).is_ok());
    }
}
