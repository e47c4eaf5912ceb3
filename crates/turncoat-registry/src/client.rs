//! The registry client: one API over HTTP registries and directory registries, backed by the
//! cache, with an offline mode.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use turncoat_npm::{Integrity, Manifest, PackageName, Packument};
use url::Url;

use crate::cache::{Cache, CachedDoc, DocMeta, name_key, now_secs};
use crate::config::{DEFAULT_REGISTRY_HOSTS, RegistryConfig};
use crate::dir::{DirRegistry, check_version, read_bounded};
use crate::error::RegistryError;
use crate::http::{Fetched, Get, Http, ProxySetting, redact_url};
use crate::{NoProgress, Progress};

const ACCEPT_FULL: &str = "application/json";
const ACCEPT_CORGI: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// Knobs of a [`Client`]. The defaults suit interactive and CI use.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Use only the cache (and directory registries); a miss is [`RegistryError::Offline`].
    pub offline: bool,
    /// Whole-request deadline, body included. Default 60 s.
    pub timeout: Duration,
    /// TCP/TLS connect deadline. Default 10 s.
    pub connect_timeout: Duration,
    /// Extra attempts after a 5xx/408/429, a timeout or a dropped connection. Default 2.
    pub retries: u32,
    /// First retry delay, doubled per attempt. Default 250 ms.
    pub retry_backoff: Duration,
    /// Worker threads of [`Client::fetch_many`]. Default 8.
    pub concurrency: usize,
    /// Allow plain-http URLs on any host (otherwise only loopback and configured registries).
    pub allow_http: bool,
    pub proxy: ProxySetting,
    /// Largest registry document accepted. Default 512 MiB (the biggest packuments are ~100 MiB).
    pub max_document: u64,
    /// Largest tarball accepted. Default 512 MiB.
    pub max_tarball: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            offline: false,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retries: 2,
            retry_backoff: Duration::from_millis(250),
            concurrency: 8,
            allow_http: false,
            proxy: ProxySetting::FromEnv,
            max_document: 512 << 20,
            max_tarball: 512 << 20,
        }
    }
}

/// What [`Client::poll_packument`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled {
    /// A document (200), with the ETag the registry sent for it, if any.
    Modified {
        bytes: Vec<u8>,
        etag: Option<String>,
    },
    /// 304 Not Modified.
    NotModified,
    /// 429, 408 or a 5xx: try later; `retry_after` is the registry's `Retry-After` in seconds
    /// (a number, or an HTTP date turned into seconds from now), capped at a day.
    Throttled {
        status: u16,
        url: String,
        retry_after: Option<u64>,
    },
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, as seconds from now,
/// capped at a day (a registry, or whoever answers for it, cannot park a package for a year).
fn parse_retry_after(v: &str) -> Option<u64> {
    const DAY: u64 = 86_400;
    let v = v.trim();
    if let Ok(n) = v.parse::<u64>() {
        return Some(n.min(DAY));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(v, &format)
        .ok()?
        .assume_utc();
    let secs = (at - time::OffsetDateTime::now_utc()).whole_seconds();
    Some((secs.max(0) as u64).min(DAY))
}

/// One tarball for [`Client::tarballs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarballRequest {
    pub name: PackageName,
    pub version: String,
    /// The lockfile's `resolved` URL, if any.
    pub resolved: Option<String>,
    /// The lockfile's `integrity`, if any.
    pub integrity: Option<Integrity>,
}

#[derive(Clone)]
struct Doc {
    bytes: Arc<Vec<u8>>,
    packument: Arc<Packument>,
}

type Slot = Arc<Mutex<Option<Doc>>>;

/// Registry client. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    progress: Arc<dyn Progress>,
}

struct Inner {
    config: RegistryConfig,
    cache: Cache,
    options: ClientOptions,
    http: Http,
    /// Parsed packuments per (name, full?), so each is fetched and parsed once per process even
    /// when several threads ask at the same time.
    memo: Mutex<HashMap<(String, bool), Slot>>,
    /// Documents answered from the cache without asking the registry (`--offline`), by
    /// package name.
    cache_use: Mutex<HashMap<String, BTreeSet<CacheReliance>>>,
}

/// A registry document that was answered from the cache without revalidation (only with
/// `offline`): the verdict that used it rests on whatever the cache held.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CacheReliance {
    /// Which document (`packument of left-pad`, `attestations of left-pad@1.3.0`).
    pub document: String,
    /// The fetch time recorded in the cache file (Unix seconds). The file may have been
    /// written by anyone with access to the cache: this is a claim, for display.
    pub fetched_at: u64,
    /// The recorded fetch time lies in the future: the file was not written by a fetch.
    pub future: bool,
}

/// Clock skew tolerated before a cached fetch time counts as "in the future".
const FUTURE_SKEW_SECS: u64 = 300;

enum Backend {
    Http(Url),
    Dir(DirRegistry, Url),
}

impl Client {
    pub fn new(
        config: RegistryConfig,
        cache: Cache,
        options: ClientOptions,
    ) -> Result<Client, RegistryError> {
        let http = Http::new(
            options.timeout,
            options.connect_timeout,
            options.retries,
            options.retry_backoff,
            options.allow_http,
            &options.proxy,
        )?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                cache,
                options,
                http,
                memo: Mutex::new(HashMap::new()),
                cache_use: Mutex::new(HashMap::new()),
            }),
            progress: Arc::new(NoProgress),
        })
    }

    /// Report [`Client::fetch_many`] progress here.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Client {
        self.progress = progress;
        self
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    pub fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    fn backend(&self, name: &PackageName) -> Backend {
        let reg = self.inner.config.registry_for(name).clone();
        self.backend_of(reg)
    }

    fn backend_of(&self, reg: Url) -> Backend {
        if reg.scheme() == "file"
            && let Ok(root) = reg.to_file_path()
        {
            return Backend::Dir(DirRegistry::new(root), reg);
        }
        Backend::Http(reg)
    }

    /// The full packument (`Accept: application/json`), with `time`, `maintainers` and
    /// `_npmUser`.
    pub fn packument(&self, name: &PackageName) -> Result<Arc<Packument>, RegistryError> {
        Ok(self.packument_doc(name, true)?.packument)
    }

    /// The full packument's raw bytes as served.
    pub fn packument_bytes(&self, name: &PackageName) -> Result<Arc<Vec<u8>>, RegistryError> {
        Ok(self.packument_doc(name, true)?.bytes)
    }

    /// The abbreviated ("corgi") packument; falls back to the full one when the registry refuses
    /// the abbreviated type, and reuses the full one when it is already loaded.
    pub fn abbreviated_packument(
        &self,
        name: &PackageName,
    ) -> Result<Arc<Packument>, RegistryError> {
        if let Some(full) = self.memoized(name, true) {
            return Ok(full.packument);
        }
        match self.packument_doc(name, false) {
            Err(RegistryError::Http { status, .. })
                if (400..500).contains(&status) && status != 404 =>
            {
                self.packument(name)
            }
            other => Ok(other?.packument),
        }
    }

    fn memoized(&self, name: &PackageName, full: bool) -> Option<Doc> {
        let memo = self.inner.memo.lock().unwrap_or_else(|e| e.into_inner());
        let slot = memo.get(&(name.as_str().to_string(), full))?.clone();
        drop(memo);
        slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn packument_doc(&self, name: &PackageName, full: bool) -> Result<Doc, RegistryError> {
        let slot: Slot = {
            let mut memo = self.inner.memo.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(memo.entry((name.as_str().to_string(), full)).or_default())
        };
        // Holding the slot lock while fetching makes concurrent callers wait for one fetch.
        let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(doc) = guard.as_ref() {
            return Ok(doc.clone());
        }
        let doc = self.load_packument(name, full)?;
        *guard = Some(doc.clone());
        Ok(doc)
    }

    fn load_packument(&self, name: &PackageName, full: bool) -> Result<Doc, RegistryError> {
        let parse = |bytes: &[u8]| -> Result<Doc, RegistryError> {
            let packument =
                Packument::from_slice(bytes).map_err(|source| RegistryError::Packument {
                    name: name.to_string(),
                    source,
                })?;
            Ok(Doc {
                bytes: Arc::new(bytes.to_vec()),
                packument: Arc::new(packument),
            })
        };
        let not_found = || RegistryError::NotFound {
            name: name.to_string(),
            version: None,
        };
        match self.backend(name) {
            Backend::Dir(dir, _) => {
                let bytes =
                    read_bounded(&dir.packument_path(name), self.inner.options.max_document)?
                        .ok_or_else(not_found)?;
                parse(&bytes)
            }
            Backend::Http(reg) => {
                let url = join(&reg, &name.url_path())?;
                let kind = if full { "full" } else { "corgi" };
                self.fetch_doc(DocRequest {
                    registry: &reg,
                    bucket: "packuments-v1",
                    file: &format!("{}.{kind}.json", name_key(name)),
                    url: &url,
                    accept: if full { ACCEPT_FULL } else { ACCEPT_CORGI },
                    what: &format!("packument of {name}"),
                    subject: name.as_str(),
                    remember_missing: false,
                    immutable: false,
                    parse: &parse,
                })?
                .ok_or_else(not_found)
            }
        }
    }

    /// One conditional request for the full packument, for `turncoat monitor`: sent with
    /// `If-None-Match: etag` when `etag` is given, never answered from the cache or the
    /// per-process memo, and never retried here (the monitor keeps a backoff per package and
    /// honours `Retry-After`). A 304 only says "unchanged since that ETag": the caller must
    /// hold the document it stored with that ETag, and must not trust a 304 it did not ask for.
    pub fn poll_packument(
        &self,
        name: &PackageName,
        etag: Option<&str>,
    ) -> Result<Polled, RegistryError> {
        let not_found = || RegistryError::NotFound {
            name: name.to_string(),
            version: None,
        };
        match self.backend(name) {
            Backend::Dir(dir, _) => {
                let bytes =
                    read_bounded(&dir.packument_path(name), self.inner.options.max_document)?
                        .ok_or_else(not_found)?;
                Ok(Polled::Modified { bytes, etag: None })
            }
            Backend::Http(_) if self.inner.options.offline => Err(RegistryError::Offline {
                what: format!("packument of {name}"),
            }),
            Backend::Http(reg) => {
                let url = join(&reg, &name.url_path())?;
                let req = Get {
                    accept: Some(ACCEPT_FULL),
                    etag,
                    limit: self.inner.options.max_document,
                    ..Get::default()
                };
                // A timeout or dropped connection is an error here: the caller backs off.
                let fetched = self.inner.http.get_once(&self.inner.config, &url, &req)?;
                match fetched {
                    Fetched::Body { body, etag, .. } => Ok(Polled::Modified { bytes: body, etag }),
                    Fetched::NotModified => Ok(Polled::NotModified),
                    Fetched::Status { status: 404, .. } => Err(not_found()),
                    Fetched::Status {
                        status,
                        url,
                        retry_after,
                    } if status == 429 || status >= 500 || status == 408 => Ok(Polled::Throttled {
                        status,
                        url,
                        retry_after: retry_after.as_deref().and_then(parse_retry_after),
                    }),
                    Fetched::Status { status, url, .. } => Err(RegistryError::Http { status, url }),
                }
            }
        }
    }

    /// One version document (`GET /<name>/<version>`): the manifest with `_npmUser` and `dist`.
    pub fn version(&self, name: &PackageName, version: &str) -> Result<Manifest, RegistryError> {
        let bytes = self.version_bytes(name, version)?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .map(|v| Manifest::from_value(&v))
            .map_err(|e| RegistryError::Packument {
                name: name.to_string(),
                source: turncoat_npm::PackumentError::Json(e),
            })
    }

    /// Raw bytes of the version document.
    pub fn version_bytes(
        &self,
        name: &PackageName,
        version: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        check_version(version)?;
        let not_found = || RegistryError::NotFound {
            name: name.to_string(),
            version: Some(version.to_string()),
        };
        match self.backend(name) {
            Backend::Dir(..) => {
                let raw = self.packument_bytes(name)?;
                let v: serde_json::Value =
                    serde_json::from_slice(&raw).map_err(|e| RegistryError::Packument {
                        name: name.to_string(),
                        source: turncoat_npm::PackumentError::Json(e),
                    })?;
                let doc = v
                    .get("versions")
                    .and_then(|vs| vs.get(version))
                    .filter(|d| d.is_object())
                    .ok_or_else(not_found)?;
                Ok(serde_json::to_vec(doc).unwrap_or_default())
            }
            Backend::Http(reg) => {
                let url = join(&reg, &format!("{}/{version}", name.url_path()))?;
                let parse = |b: &[u8]| json_object(b, name).map(|()| b.to_vec());
                self.fetch_doc(DocRequest {
                    registry: &reg,
                    bucket: "packuments-v1",
                    file: &format!("{}@{version}.version.json", name_key(name)),
                    url: &url,
                    accept: ACCEPT_FULL,
                    what: &format!("version document of {name}@{version}"),
                    subject: name.as_str(),
                    remember_missing: false,
                    immutable: false,
                    parse: &parse,
                })?
                .ok_or_else(not_found)
            }
        }
    }

    /// The tarball of `name@version`, verified.
    ///
    /// `resolved` is the lockfile's URL (rewritten to the configured registry when it points at
    /// the public registry, as npm does); `integrity` the lockfile's hash. Without `integrity`
    /// the registry's `dist.integrity` (or, for very old versions, `dist.shasum`) is used, and
    /// with neither the fetch is refused ([`RegistryError::NoIntegrity`]).
    pub fn tarball(
        &self,
        name: &PackageName,
        version: &str,
        resolved: Option<&str>,
        integrity: Option<&Integrity>,
    ) -> Result<Vec<u8>, RegistryError> {
        check_version(version)?;
        let offline_miss = || RegistryError::Offline {
            what: format!("{name}@{version}"),
        };
        let (integrity, dist_url) = match integrity {
            Some(i) => (i.clone(), None),
            None => {
                let p = self.packument(name).map_err(|e| match e {
                    RegistryError::Offline { .. } => offline_miss(),
                    other => other,
                })?;
                let m = p
                    .versions
                    .get(version)
                    .ok_or_else(|| RegistryError::NotFound {
                        name: name.to_string(),
                        version: Some(version.to_string()),
                    })?;
                let integrity = match (&m.dist.integrity, &m.dist.shasum) {
                    (Some(sri), _) => {
                        Integrity::parse(sri).map_err(|source| RegistryError::Integrity {
                            name: name.to_string(),
                            version: version.to_string(),
                            source,
                        })?
                    }
                    (None, Some(sha1)) => Integrity::from_sha1_hex(sha1).ok_or_else(|| {
                        RegistryError::NoIntegrity {
                            name: name.to_string(),
                            version: version.to_string(),
                        }
                    })?,
                    (None, None) => {
                        return Err(RegistryError::NoIntegrity {
                            name: name.to_string(),
                            version: version.to_string(),
                        });
                    }
                };
                (integrity, m.dist.tarball.clone())
            }
        };
        if let Some(bytes) = self
            .inner
            .cache
            .read_tarball_limited(&integrity, self.inner.options.max_tarball)?
        {
            return Ok(bytes);
        }
        let written = resolved.map(str::to_string).or(dist_url);
        let backend = self.backend(name);
        if let Backend::Dir(dir, root) = &backend {
            let local = match &written {
                None => true,
                Some(u) => on_default_host(u) || u.starts_with(root.as_str()),
            };
            if local {
                let path = dir.tarball_path(name, version);
                let bytes =
                    read_bounded(&path, self.inner.options.max_tarball)?.ok_or_else(|| {
                        RegistryError::NotFound {
                            name: name.to_string(),
                            version: Some(version.to_string()),
                        }
                    })?;
                integrity
                    .verify(&bytes)
                    .map_err(|source| RegistryError::Integrity {
                        name: name.to_string(),
                        version: version.to_string(),
                        source,
                    })?;
                return Ok(bytes);
            }
        }
        if self.inner.options.offline {
            return Err(offline_miss());
        }
        let url = match (&written, &backend) {
            (Some(u), _) => self.rewrite_registry_host(name, parse_fetch_url(u)?),
            (None, Backend::Http(reg)) => join(
                reg,
                &format!("{name}/-/{}", name.tarball_file_name(version)),
            )?,
            // Unreachable in practice: a directory registry without a URL was served above.
            (None, Backend::Dir(_, root)) => {
                return Err(RegistryError::InvalidUrl {
                    url: root.to_string(),
                    reason: "no tarball URL".into(),
                });
            }
        };
        let req = Get {
            limit: self.inner.options.max_tarball,
            integrity: Some((&integrity, name.as_str(), version)),
            ..Get::default()
        };
        match self.inner.http.get(&self.inner.config, &url, &req)? {
            Fetched::Body { body, .. } => {
                // The cache is an optimisation: failing to store must not fail the fetch.
                let _ = self.inner.cache.write_tarball(&integrity, &body);
                Ok(body)
            }
            Fetched::Status { status: 404, .. } | Fetched::Status { status: 410, .. } => {
                Err(RegistryError::NotFound {
                    name: name.to_string(),
                    version: Some(version.to_string()),
                })
            }
            Fetched::Status { status, url, .. } => Err(RegistryError::Http { status, url }),
            Fetched::NotModified => Err(RegistryError::Http {
                status: 304,
                url: redact_url(&url),
            }),
        }
    }

    /// npm's `replace-registry-host`: a URL on the public registry's host is fetched from the
    /// registry configured for the package instead; other hosts are left alone.
    fn rewrite_registry_host(&self, name: &PackageName, url: Url) -> Url {
        let reg = self.inner.config.registry_for(name);
        let on_default = url.host_str().is_some_and(|h| {
            DEFAULT_REGISTRY_HOSTS
                .iter()
                .any(|d| h.eq_ignore_ascii_case(d))
        });
        if !on_default || reg.host_str() == url.host_str() || reg.scheme() == "file" {
            return url;
        }
        let mut s = format!("{}{}", reg.as_str(), url.path().trim_start_matches('/'));
        if let Some(q) = url.query() {
            s.push('?');
            s.push_str(q);
        }
        Url::parse(&s).unwrap_or(url)
    }

    /// The attestations document for `name@version` (`GET /-/npm/v1/attestations/<name>@<version>`),
    /// or `None` when the registry has none (404).
    pub fn attestations(
        &self,
        name: &PackageName,
        version: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        check_version(version)?;
        match self.backend(name) {
            Backend::Dir(dir, _) => read_bounded(
                &dir.attestations_path(name, version),
                self.inner.options.max_document,
            ),
            Backend::Http(reg) => {
                let url = join(
                    &reg,
                    &format!("-/npm/v1/attestations/{}@{version}", name.url_path()),
                )?;
                let parse = |b: &[u8]| json_object(b, name).map(|()| b.to_vec());
                self.fetch_doc(DocRequest {
                    registry: &reg,
                    bucket: "attestations-v1",
                    file: &format!("{}@{version}.json", name_key(name)),
                    url: &url,
                    accept: ACCEPT_FULL,
                    what: &format!("attestations of {name}@{version}"),
                    subject: name.as_str(),
                    remember_missing: true,
                    // Attestations are bound to the published tarball and never change.
                    immutable: true,
                    parse: &parse,
                })
            }
        }
    }

    /// A package's access settings (`GET /-/package/<name>/access`: `publish_requires_tfa`,
    /// `automation_token_overrides_tfa`) or collaborators (`GET
    /// /-/package/<name>/collaborators`), as the registry answers them; both need a token that
    /// may read the package's settings. Always asked of the registry, never of the cache (a
    /// cache can be written by whoever restored it, and a setting read from it could say
    /// "2FA required" when it is not); `Ok(None)` on 404, an error offline.
    pub fn package_settings(
        &self,
        name: &PackageName,
        doc: PackageSettings,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let Backend::Http(reg) = self.backend(name) else {
            return Ok(None);
        };
        if self.inner.options.offline {
            return Err(RegistryError::Offline {
                what: format!("{} of {name}", doc.path()),
            });
        }
        let url = join(
            &reg,
            &format!("-/package/{}/{}", name.url_path(), doc.path()),
        )?;
        let req = Get {
            accept: Some(ACCEPT_FULL),
            etag: None,
            last_modified: None,
            limit: self.inner.options.max_document,
            integrity: None,
        };
        match self.inner.http.get(&self.inner.config, &url, &req)? {
            Fetched::Body { body, .. } => Ok(Some(body)),
            Fetched::Status { status: 404, .. } => Ok(None),
            Fetched::Status { status, url, .. } => Err(RegistryError::Http { status, url }),
            Fetched::NotModified => Err(RegistryError::Http {
                status: 304,
                url: redact_url(&url),
            }),
        }
    }

    /// The default registry's signing keys document (`GET /-/npm/v1/keys`).
    pub fn keys(&self) -> Result<Vec<u8>, RegistryError> {
        let reg = self.inner.config.registry().clone();
        match self.backend_of(reg) {
            Backend::Dir(dir, _) => {
                let path = dir.keys_path();
                read_bounded(&path, self.inner.options.max_document)?.ok_or_else(|| {
                    RegistryError::Http {
                        status: 404,
                        url: path.display().to_string(),
                    }
                })
            }
            Backend::Http(reg) => {
                let url = join(&reg, "-/npm/v1/keys")?;
                let parse = |b: &[u8]| {
                    serde_json::from_slice::<serde_json::Value>(b)
                        .ok()
                        .filter(serde_json::Value::is_object)
                        .map(|_| b.to_vec())
                        .ok_or_else(|| RegistryError::Http {
                            status: 200,
                            url: format!("{} (not a JSON object)", redact_url(&url)),
                        })
                };
                self.fetch_doc(DocRequest {
                    registry: &reg,
                    bucket: "keys-v1",
                    file: "keys.json",
                    url: &url,
                    accept: ACCEPT_FULL,
                    what: "registry signing keys",
                    subject: "",
                    remember_missing: false,
                    immutable: false,
                    parse: &parse,
                })?
                .ok_or_else(|| RegistryError::Http {
                    status: 404,
                    url: redact_url(&url),
                })
            }
        }
    }

    /// Run `f` over `items` on up to `concurrency` threads; results in input order. Progress is
    /// reported per finished item.
    pub fn fetch_many<T, R, F>(&self, items: &[T], what: &str, f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&Client, &T) -> R + Sync,
    {
        let n = items.len();
        let progress = &self.progress;
        progress.start(n as u64, what);
        let workers = self.inner.options.concurrency.clamp(1, 64).min(n.max(1));
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let (Some(item), Some(slot)) = (items.get(i), slots.get(i)) else {
                            break;
                        };
                        let r = f(self, item);
                        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                        progress.inc(1);
                    }
                });
            }
        });
        progress.finish();
        slots
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }

    /// Fetch many tarballs concurrently ([`Client::fetch_many`] over [`Client::tarball`]).
    pub fn tarballs(&self, requests: &[TarballRequest]) -> Vec<Result<Vec<u8>, RegistryError>> {
        self.fetch_many(requests, "tarballs", |c, r| {
            c.tarball(
                &r.name,
                &r.version,
                r.resolved.as_deref(),
                r.integrity.as_ref(),
            )
        })
    }

    /// The documents about package `name` that were answered from the cache without asking
    /// the registry (only happens with `offline`).
    pub fn cache_reliance(&self, name: &str) -> Vec<CacheReliance> {
        // Keyed by package, so a report over thousands of packages stays linear.
        self.inner
            .cache_use
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .map(|uses| uses.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A document from the registry, or from the cache when that is safe; `Ok(None)` for 404.
    ///
    /// The cache is writable by whoever restored it (a CI cache can be poisoned), and its
    /// metadata (fetch time, ETag) is as forgeable as its body. So online, a cached copy is
    /// used only when it is immutable and verified on use (a present attestation bundle, bound
    /// by signature to the tarball's hash); everything else is fetched whole, without a
    /// conditional request a 304 could answer for a forged body. Offline, the cache is all
    /// there is: each use is recorded ([`Client::cache_reliance`]) so reports can say so.
    fn fetch_doc<T>(&self, d: DocRequest<'_, T>) -> Result<Option<T>, RegistryError> {
        let inner = &self.inner;
        let path = inner.cache.doc_path(d.bucket, d.registry, d.file);
        let cached = inner.cache.read_doc(&path, inner.options.max_document);
        let usable = |c: &CachedDoc| -> Option<Option<T>> {
            if c.meta.status == 404 {
                return Some(None);
            }
            (d.parse)(&c.body).ok().map(Some)
        };
        if let Some(c) = &cached {
            let verified_on_use = d.immutable && c.meta.status == 200;
            if (inner.options.offline || verified_on_use)
                && let Some(v) = usable(c)
            {
                if inner.options.offline {
                    let now = now_secs();
                    inner
                        .cache_use
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(d.subject.to_string())
                        .or_default()
                        .insert(CacheReliance {
                            document: d.what.to_string(),
                            fetched_at: c.meta.fetched_at,
                            future: c.meta.fetched_at > now.saturating_add(FUTURE_SKEW_SECS),
                        });
                }
                return Ok(v);
            }
        }
        if inner.options.offline {
            return Err(RegistryError::Offline {
                what: d.what.to_string(),
            });
        }
        let req = Get {
            accept: Some(d.accept),
            etag: None,
            last_modified: None,
            limit: inner.options.max_document,
            integrity: None,
        };
        match inner.http.get(&inner.config, d.url, &req)? {
            Fetched::Body {
                body,
                etag,
                last_modified,
            } => {
                let value = (d.parse)(&body)?;
                let meta = DocMeta {
                    etag,
                    last_modified,
                    fetched_at: now_secs(),
                    status: 200,
                };
                let _ = inner.cache.write_doc(&path, &meta, &body);
                Ok(Some(value))
            }
            Fetched::NotModified => Err(RegistryError::Http {
                status: 304,
                url: redact_url(d.url),
            }),
            Fetched::Status { status: 404, .. } => {
                if d.remember_missing {
                    // Kept for `--offline` runs only; online, absence is always asked again.
                    let meta = DocMeta {
                        fetched_at: now_secs(),
                        status: 404,
                        ..DocMeta::default()
                    };
                    let _ = inner.cache.write_doc(&path, &meta, b"");
                }
                Ok(None)
            }
            Fetched::Status { status, url, .. } => Err(RegistryError::Http { status, url }),
        }
    }
}

/// Which per-package settings document [`Client::package_settings`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageSettings {
    /// `/-/package/<name>/access`.
    Access,
    /// `/-/package/<name>/collaborators`.
    Collaborators,
}

impl PackageSettings {
    fn path(self) -> &'static str {
        match self {
            PackageSettings::Access => "access",
            PackageSettings::Collaborators => "collaborators",
        }
    }
}

struct DocRequest<'a, T> {
    registry: &'a Url,
    bucket: &'static str,
    file: &'a str,
    url: &'a Url,
    accept: &'a str,
    what: &'a str,
    /// The package the document is about (for [`Client::cache_reliance`]).
    subject: &'a str,
    /// Cache a 404 for offline runs.
    remember_missing: bool,
    /// The document never changes and is verified on use: a cached 200 is reused online.
    immutable: bool,
    parse: &'a dyn Fn(&[u8]) -> Result<T, RegistryError>,
}

fn json_object(bytes: &[u8], name: &PackageName) -> Result<(), RegistryError> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| RegistryError::Packument {
            name: name.to_string(),
            source: turncoat_npm::PackumentError::Json(e),
        })?;
    if v.is_object() {
        Ok(())
    } else {
        Err(RegistryError::Packument {
            name: name.to_string(),
            source: turncoat_npm::PackumentError::NotAnObject,
        })
    }
}

/// `base` ends in `/`; `rest` is already escaped.
fn join(base: &Url, rest: &str) -> Result<Url, RegistryError> {
    let s = format!("{}{rest}", base.as_str());
    Url::parse(&s).map_err(|e| RegistryError::InvalidUrl {
        url: redact_url(base),
        reason: e.to_string(),
    })
}

fn on_default_host(url: &str) -> bool {
    Url::parse(url).ok().is_some_and(|u| {
        u.host_str().is_some_and(|h| {
            DEFAULT_REGISTRY_HOSTS
                .iter()
                .any(|d| h.eq_ignore_ascii_case(d))
        })
    })
}

/// A lockfile or packument URL we are willing to fetch: http(s) without credentials.
fn parse_fetch_url(s: &str) -> Result<Url, RegistryError> {
    let url = Url::parse(s).map_err(|e| RegistryError::InvalidUrl {
        url: crate::http::redact_url_str(s),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RegistryError::InvalidUrl {
            url: redact_url(&url),
            reason: format!("scheme {:?} cannot be fetched", url.scheme()),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RegistryError::InvalidUrl {
            url: redact_url(&url),
            reason: "credentials in tarball URLs are not used".into(),
        });
    }
    Ok(url)
}
