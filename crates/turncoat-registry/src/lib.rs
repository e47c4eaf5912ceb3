//! npm registry access for turncoat: configuration, fetching, verification and caching.
//!
//! This crate owns every byte turncoat gets from a registry:
//!
//! - [`RegistryConfig`]: which registry serves which package and which credential goes where,
//!   read from `.npmrc` like npm does (`registry`, `@scope:registry`, `//host/path/:_authToken`,
//!   `${ENV}` expansion). Credentials are [`Secret`]s, redacted in `Debug` and attached only to
//!   requests whose host+path they were configured for, also across redirects.
//! - [`Client`]: packuments (full and abbreviated), version documents, tarballs (verified against
//!   the lockfile's or the registry's integrity while they stream in), attestations and signing
//!   keys, from an HTTP registry or a directory registry (`file:///root`), with timeouts,
//!   bounded retries, proxies from the environment, npm's `replace-registry-host` and an offline
//!   mode.
//! - [`Cache`]: the on-disk cache (content-addressed tarballs re-verified on read; documents
//!   used only offline, where each use is reported as [`CacheReliance`], or when verified on
//!   use), bounded reads, safe under concurrent processes.
//!
//! The library never prints; progress goes through the [`Progress`] trait.

mod cache;
mod client;
mod config;
mod dir;
mod error;
mod http;

pub use cache::{BUCKETS, BucketStats, Cache, CacheStats};
pub use client::{CacheReliance, Client, ClientOptions, PackageSettings, Polled, TarballRequest};
pub use config::{ConfigError, Credential, DEFAULT_REGISTRY_HOSTS, RegistryConfig, Secret};
pub use error::RegistryError;
pub use http::{ProxySetting, redact_url, root_certs};

/// Progress of a bulk operation; the CLI implements it with a progress bar.
pub trait Progress: Send + Sync {
    fn start(&self, total: u64, what: &str);
    fn inc(&self, n: u64);
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total: u64, _what: &str) {}
    fn inc(&self, _n: u64) {}
    fn finish(&self) {}
}
