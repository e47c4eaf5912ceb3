//! PyPI index access for turncoat: which index a project uses, the simple API (PEP 691
//! JSON and PEP 503 HTML), the JSON API's release metadata (upload time per file, yanked
//! state, ownership roles and organisation), a directory-backed index for air-gapped use
//! and tests, an on-disk cache with an offline mode, and downloads verified against the
//! lockfile's sha256 while they stream.
//!
//! The public surface, for wiring the gate:
//!
//! - [`IndexConfig::load`]: the index URL and the extra indexes (`--index-url`,
//!   `PIP_INDEX_URL`, `uv.toml`, `pip.conf`, …).
//! - [`PypiClient::new`] with a [`PypiCache`] and [`ClientOptions`] (`offline`).
//! - [`PypiClient::project`] → [`ProjectPage`] (files, hashes, yanked, upload time),
//!   [`PypiClient::project_meta`] / [`PypiClient::release_meta`] → [`ProjectMeta`].
//! - [`expected_sha256`] (what a lockfile entry accepts for one file) and
//!   [`PypiClient::download`] (fails closed on a mismatch or on nothing to check against).
//! - [`PypiClient::cache_reliance`]: the documents an offline run answered from the cache.
//! - [`egress`]: the index hosts a sandboxed `pip`/`uv` may reach, from configuration outside
//!   the project only.
//!
//! Rules of trust, as for npm (crates/turncoat-registry): a cached *document* never
//! decides an online run (online, every page is fetched; the cache is written, not read);
//! offline, each cached document used is reported. Cached *files* are content-addressed
//! and re-hashed on every read, so they are safe either way. Credentials in an index URL
//! go to that index's origin only and are removed from every message ([`redact`]).

mod cache;
mod client;
mod config;
pub mod egress;
mod error;
pub mod meta;
mod name;
pub mod simple;

pub use cache::{CacheReliance, PypiCache};
pub use client::{ClientOptions, PypiClient, SIMPLE_ACCEPT};
pub use config::{ConfigInputs, IndexConfig, PYPI_SIMPLE};
pub use error::PypiError;
pub use meta::{Ownership, ProjectMeta, ReleaseFile, Role};
pub use name::{ProjectName, file_project};
pub use simple::{DistFile, ProjectPage};

/// A URL without its credentials (`https://***@host/…`), for messages and cache keys.
pub fn redact(url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut u = url.clone();
    let _ = u.set_username("***");
    let _ = u.set_password(None);
    u.to_string()
}

/// The sha256 digests a lockfile entry accepts for `filename`. When the lockfile says
/// which file each hash is for (uv, poetry, pdm, pylock), only that file's hashes count: a
/// hash recorded for the sdist does not vouch for a wheel. When it does not
/// (requirements.txt, Pipfile.lock), every listed sha256 counts, as in pip.
pub fn expected_sha256(pkg: &turncoat_lockfile::LockedPackage, filename: &str) -> Vec<String> {
    let sha: Vec<&turncoat_lockfile::FileHash> = pkg
        .hashes
        .iter()
        .filter(|h| h.algorithm == "sha256")
        .collect();
    let named = sha.iter().any(|h| h.file.is_some());
    sha.into_iter()
        .filter(|h| !named || h.file.as_deref() == Some(filename))
        .map(|h| h.digest.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use turncoat_lockfile::{FileHash, LockedPackage, SourceKind};

    #[test]
    fn hashes_for_another_file_do_not_count() {
        let mut p = LockedPackage::new("a", "1.0", SourceKind::Registry);
        p.hashes = vec![
            FileHash {
                file: Some("a-1.0.tar.gz".into()),
                algorithm: "sha256".into(),
                digest: "aa".repeat(32),
            },
            FileHash {
                file: Some("a-1.0-py3-none-any.whl".into()),
                algorithm: "sha256".into(),
                digest: "bb".repeat(32),
            },
        ];
        assert_eq!(
            expected_sha256(&p, "a-1.0-py3-none-any.whl"),
            ["bb".repeat(32)]
        );
        assert!(expected_sha256(&p, "a-1.0-cp312-cp312-win_amd64.whl").is_empty());
        for h in &mut p.hashes {
            h.file = None;
        }
        assert_eq!(expected_sha256(&p, "anything.whl").len(), 2);
    }

    #[test]
    fn redaction() {
        let u = url::Url::parse("https://user:tok@h.example/simple/").unwrap();
        assert_eq!(redact(&u), "https://***@h.example/simple/");
    }
}
