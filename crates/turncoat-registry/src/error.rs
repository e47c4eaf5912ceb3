//! Typed errors of the registry client. No variant ever carries a credential: URLs are stored
//! with user info and query removed ([`crate::redact_url`]).

use std::io;
use std::path::PathBuf;

use turncoat_npm::{IntegrityError, NameError, PackumentError};

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{}", not_found(name, version.as_deref()))]
    NotFound {
        name: String,
        version: Option<String>,
    },
    #[error("HTTP {status} from {url}")]
    Http { status: u16, url: String },
    #[error("integrity check failed for {name}@{version}: {source}")]
    Integrity {
        name: String,
        version: String,
        #[source]
        source: IntegrityError,
    },
    /// Neither the caller (lockfile) nor the registry gave an integrity: nothing is fetched
    /// unverified.
    #[error(
        "no integrity known for {name}@{version} (none in the lockfile, none in the registry); refusing to use an unverified tarball"
    )]
    NoIntegrity { name: String, version: String },
    #[error("not in cache (offline): {what}; run once without --offline")]
    Offline { what: String },
    #[error("timed out fetching {url}")]
    Timeout { url: String },
    #[error("network error fetching {url}: {message}")]
    Network { url: String, message: String },
    #[error("response from {url} is larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error(
        "refusing plain-http URL {url}: only https (or http on loopback, or the configured registry) is allowed"
    )]
    InsecureUrl { url: String },
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("too many redirects fetching {url}")]
    TooManyRedirects { url: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error("invalid version {0:?}")]
    InvalidVersion(String),
    #[error("invalid registry document for {name}: {source}")]
    Packument {
        name: String,
        #[source]
        source: PackumentError,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn not_found(name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{name}@{v} not found in the registry"),
        None => format!("package {name} not found in the registry"),
    }
}

impl RegistryError {
    /// Worth another attempt: server errors, timeouts, dropped connections.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            RegistryError::Http { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            RegistryError::Timeout { .. } | RegistryError::Network { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> RegistryError {
        RegistryError::Io {
            path: path.into(),
            source,
        }
    }
}
