//! HTTP transport: one GET with manual redirects, per-hop credentials, URL policy, bounded
//! bodies, integrity checked while the body streams in, and retries with backoff.
//!
//! Redirects are followed here rather than by ureq so that each hop is checked against the URL
//! policy and gets exactly the credential configured for *its* host+path (none when there is
//! none), never the one of the first request.

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use turncoat_npm::Integrity;
use url::Url;

use crate::config::RegistryConfig;
use crate::error::RegistryError;

const MAX_REDIRECTS: usize = 5;
const CHUNK: usize = 64 * 1024;

pub(crate) struct Http {
    /// Built on the first request: reading the system CA bundle costs milliseconds that
    /// offline and local-file runs never need.
    agent: std::sync::OnceLock<ureq::Agent>,
    timeout: Duration,
    connect_timeout: Duration,
    proxy: Option<ureq::Proxy>,
    retries: u32,
    backoff: Duration,
    allow_http: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Get<'a> {
    pub accept: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    pub limit: u64,
    /// Verify the body against this while it streams; a mismatch is not retried.
    pub integrity: Option<(&'a Integrity, &'a str, &'a str)>,
}

#[derive(Debug)]
pub(crate) enum Fetched {
    Body {
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
    /// A final non-success status (404, 406, 401, …) on `url`; 5xx never get here unless retries
    /// are exhausted, in which case they are errors.
    Status {
        status: u16,
        url: String,
        /// The `Retry-After` header as sent (seconds or an HTTP date), for 429/503.
        retry_after: Option<String>,
    },
}

/// `proxy` values for [`crate::ClientOptions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// `ALL_PROXY` / `HTTPS_PROXY` / `HTTP_PROXY` (and `NO_PROXY`) from the environment.
    #[default]
    FromEnv,
    /// Connect directly.
    None,
    /// This proxy URL (`http://host:port`, `socks5://…`).
    Url(String),
}

impl Http {
    pub(crate) fn new(
        timeout: Duration,
        connect_timeout: Duration,
        retries: u32,
        backoff: Duration,
        allow_http: bool,
        proxy: &ProxySetting,
    ) -> Result<Http, RegistryError> {
        let proxy = match proxy {
            ProxySetting::FromEnv => ureq::Proxy::try_from_env(),
            ProxySetting::None => None,
            ProxySetting::Url(u) => {
                Some(ureq::Proxy::new(u).map_err(|e| RegistryError::InvalidUrl {
                    url: redact_url_str(u),
                    reason: format!("invalid proxy: {e}"),
                })?)
            }
        };
        Ok(Http {
            agent: std::sync::OnceLock::new(),
            timeout,
            connect_timeout,
            proxy,
            retries,
            backoff,
            allow_http,
        })
    }

    fn agent(&self) -> &ureq::Agent {
        self.agent.get_or_init(|| {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(self.timeout))
                .timeout_connect(Some(self.connect_timeout))
                .user_agent(concat!("turncoat/", env!("CARGO_PKG_VERSION")))
                .proxy(self.proxy.clone())
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(system_roots())
                        .build(),
                )
                .build()
                .into()
        })
    }

    /// GET with retries on transient failures.
    pub(crate) fn get(
        &self,
        config: &RegistryConfig,
        url: &Url,
        req: &Get<'_>,
    ) -> Result<Fetched, RegistryError> {
        let mut attempt = 0;
        loop {
            let result = self.get_once(config, url, req).and_then(|f| match f {
                // Retryable statuses become errors so the loop sees them.
                Fetched::Status { status, url, .. } if is_retry_status(status) => {
                    Err(RegistryError::Http { status, url })
                }
                other => Ok(other),
            });
            match result {
                Err(e) if e.is_transient() && attempt < self.retries => {
                    let delay = self.backoff.saturating_mul(1 << attempt.min(10));
                    std::thread::sleep(delay.min(Duration::from_secs(30)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One GET without retries: the caller (the monitor) keeps its own backoff per package
    /// and wants to see a 429/503 and its `Retry-After` rather than have this layer sleep.
    pub(crate) fn get_once(
        &self,
        config: &RegistryConfig,
        start: &Url,
        req: &Get<'_>,
    ) -> Result<Fetched, RegistryError> {
        let mut url = start.clone();
        for _ in 0..=MAX_REDIRECTS {
            self.check_url(config, &url)?;
            let shown = redact_url(&url);
            let mut rb = self.agent().get(url.as_str());
            if let Some(cred) = config.credential_for(&url) {
                rb = rb.header("authorization", cred.header_value());
            }
            if let Some(a) = req.accept {
                rb = rb.header("accept", a);
            }
            if let Some(e) = req.etag {
                rb = rb.header("if-none-match", e);
            }
            if let Some(lm) = req.last_modified {
                rb = rb.header("if-modified-since", lm);
            }
            let mut resp = rb.call().map_err(|e| map_ureq(e, &shown))?;
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            match status {
                301 | 302 | 303 | 307 | 308 => {
                    let location = header("location").ok_or_else(|| RegistryError::Http {
                        status,
                        url: shown.clone(),
                    })?;
                    url = url.join(&location).map_err(|e| RegistryError::InvalidUrl {
                        url: redact_url_str(&location),
                        reason: format!("bad redirect location: {e}"),
                    })?;
                    continue;
                }
                304 => return Ok(Fetched::NotModified),
                200..=299 => {
                    let etag = header("etag");
                    let last_modified = header("last-modified");
                    if let Some(len) = header("content-length").and_then(|l| l.parse::<u64>().ok())
                        && len > req.limit
                    {
                        return Err(RegistryError::TooLarge {
                            url: shown,
                            limit: req.limit,
                        });
                    }
                    let body = read_body(resp.body_mut().as_reader(), req, &shown)?;
                    return Ok(Fetched::Body {
                        body,
                        etag,
                        last_modified,
                    });
                }
                _ => {
                    let retry_after = header("retry-after");
                    return Ok(Fetched::Status {
                        status,
                        url: shown,
                        retry_after,
                    });
                }
            }
        }
        Err(RegistryError::TooManyRedirects {
            url: redact_url(start),
        })
    }

    /// https anywhere; http only on loopback, to a configured registry, or when allowed.
    fn check_url(&self, config: &RegistryConfig, url: &Url) -> Result<(), RegistryError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_http || is_loopback(url) || config.is_configured_origin(url) => {
                Ok(())
            }
            "http" => Err(RegistryError::InsecureUrl {
                url: redact_url(url),
            }),
            other => Err(RegistryError::InvalidUrl {
                url: redact_url(url),
                reason: format!("scheme {other:?} cannot be fetched"),
            }),
        }
    }
}

fn is_retry_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

fn read_body(mut reader: impl Read, req: &Get<'_>, shown: &str) -> Result<Vec<u8>, RegistryError> {
    let mut checker = req.integrity.map(|(i, ..)| i.checker());
    let mut body = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(map_io(e, shown)),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if body.len() as u64 + n as u64 > req.limit {
            return Err(RegistryError::TooLarge {
                url: shown.to_string(),
                limit: req.limit,
            });
        }
        if let Some(c) = checker.as_mut() {
            c.update(chunk);
        }
        body.extend_from_slice(chunk);
    }
    if let (Some(c), Some((integrity, name, version))) = (checker, req.integrity) {
        c.finish(integrity)
            .map_err(|source| RegistryError::Integrity {
                name: name.to_string(),
                version: version.to_string(),
                source,
            })?;
    }
    Ok(body)
}

fn map_ureq(e: ureq::Error, url: &str) -> RegistryError {
    match e {
        ureq::Error::Timeout(_) => RegistryError::Timeout {
            url: url.to_string(),
        },
        ureq::Error::Io(io) => map_io(io, url),
        other => RegistryError::Network {
            url: url.to_string(),
            message: other.to_string(),
        },
    }
}

fn map_io(e: std::io::Error, url: &str) -> RegistryError {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return RegistryError::Timeout {
            url: url.to_string(),
        };
    }
    // ureq wraps its own errors (a timeout while reading the body) into io::Error.
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>())
        && matches!(inner, ureq::Error::Timeout(_))
    {
        return RegistryError::Timeout {
            url: url.to_string(),
        };
    }
    RegistryError::Network {
        url: url.to_string(),
        message: e.to_string(),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A URL fit for messages: no user info, no query, no fragment.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

pub(crate) fn redact_url_str(s: &str) -> String {
    match Url::parse(s) {
        Ok(u) => redact_url(&u),
        // Without a parse we cannot tell where credentials are; show nothing after a '@'.
        Err(_) => match s.rsplit_once('@') {
            Some((_, rest)) => format!("<redacted>@{rest}"),
            None => s.chars().take(200).collect(),
        },
    }
}

/// Trust anchors: the system CA bundle (`$SSL_CERT_FILE`, else the usual distribution paths)
/// plus `$NODE_EXTRA_CA_CERTS`, as npm and curl see them, so registries behind a corporate
/// TLS proxy work; Mozilla's roots (webpki) when no bundle is found.
fn system_roots() -> ureq::tls::RootCerts {
    const BUNDLES: &[&str] = &[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
        "/etc/ssl/ca-bundle.pem",
    ];
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    match std::env::var_os("SSL_CERT_FILE") {
        Some(f) => files.push(f.into()),
        None => files.extend(
            BUNDLES
                .iter()
                .map(std::path::PathBuf::from)
                .find(|p| p.is_file()),
        ),
    }
    if let Some(extra) = std::env::var_os("NODE_EXTRA_CA_CERTS") {
        files.push(extra.into());
    }
    root_certs(&files)
}

/// The certificates of the PEM bundles `files` as trust anchors (a missing, unreadable or
/// oversized file is skipped: a bundle is public data, capped so a wrong path cannot eat
/// memory); Mozilla's roots (webpki) when none yields a certificate. Shared with the PyPI
/// client, which picks its own files (`SSL_CERT_FILE`, `PIP_CERT`).
pub fn root_certs(files: &[std::path::PathBuf]) -> ureq::tls::RootCerts {
    let mut certs = Vec::new();
    for f in files {
        // A bundle is public data; cap it anyway so a wrong path cannot eat memory.
        let Ok(meta) = std::fs::metadata(f) else {
            continue;
        };
        if meta.len() > 16 * 1024 * 1024 {
            continue;
        }
        let Ok(pem) = std::fs::read(f) else { continue };
        for item in ureq::tls::parse_pem(&pem).flatten() {
            if let ureq::tls::PemItem::Certificate(c) = item {
                certs.push(c.to_owned());
            }
        }
    }
    if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::new_with_certs(&certs)
    }
}
