//! Typed errors. URLs in messages have their credentials removed.

/// Why an index operation failed. Every variant fails closed: no partial answer.
#[derive(Debug, thiserror::Error)]
pub enum PypiError {
    #[error("invalid project name {0:?}")]
    InvalidName(String),
    #[error("invalid index URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{url}: HTTP {status}")]
    Http { status: u16, url: String },
    #[error("{url}: network error: {reason}")]
    Network { url: String, reason: String },
    #[error("{url}: response over the {limit}-byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: unsupported simple API version {found} (supported: 1.x)")]
    UnsupportedApi { url: String, found: String },
    #[error("{url}: unexpected content type {content_type:?}")]
    ContentType { url: String, content_type: String },
    #[error("{url}: malformed {what}: {reason}")]
    Malformed {
        url: String,
        what: &'static str,
        reason: String,
    },
    #[error("{what}: not in the cache, and --offline forbids fetching it")]
    OfflineMiss { what: String },
    #[error(
        "{file}: sha256 {actual} matches none of the {expected} hash(es) the lockfile accepts for this file"
    )]
    HashMismatch {
        file: String,
        actual: String,
        expected: usize,
    },
    #[error(
        "{file}: the lockfile records no sha256 for this file; refusing an unverifiable download"
    )]
    NoExpectedHash { file: String },
    #[error("{path}: {reason}")]
    Directory { path: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Config { path: String, reason: String },
}
