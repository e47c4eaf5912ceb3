//! The on-disk cache: verified tarballs and revalidatable registry documents.
//!
//! Layout under the root (each bucket versioned so a format change never reads old data):
//!
//! ```text
//! CACHEDIR.TAG
//! .lock                                   shared while writing, exclusive while cleaning
//! content-v1/<algo>/<hex[..2]>/<hex>      tarballs, content-addressed by integrity
//! packuments-v1/<registry-key>/<name>.<kind>.json
//! attestations-v1/<registry-key>/<name>@<version>.json
//! keys-v1/<registry-key>.json
//! ```
//!
//! Tarballs are stored under the hash they were verified against and re-verified on every read,
//! so a corrupted or tampered file is detected, deleted and treated as a miss. Documents are
//! stored as one line of JSON metadata (ETag, Last-Modified, fetch time, status) followed by the
//! body, in a single file so both change together. Nothing in a document file is trusted: the
//! client answers from it only offline (and says so) or when the document is verified on use
//! (see `Client::fetch_doc`). Every read is bounded in size. Every write goes to a temporary file in the
//! same directory and is renamed into place, so concurrent processes only ever see complete
//! files; last writer wins, which is harmless because equal keys mean equal content (tarballs)
//! or an equally fresh copy (documents).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use turncoat_npm::{Integrity, PackageName};
use url::Url;

use crate::error::RegistryError;

/// Our buckets. [`Cache::clean`] removes these and nothing else.
pub const BUCKETS: &[&str] = &["content-v1", "packuments-v1", "attestations-v1", "keys-v1"];

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by turncoat.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

/// Size of one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BucketStats {
    pub name: &'static str,
    pub files: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub buckets: Vec<BucketStats>,
}

impl CacheStats {
    pub fn total_bytes(&self) -> u64 {
        self.buckets.iter().map(|b| b.bytes).sum()
    }

    pub fn total_files(&self) -> u64 {
        self.buckets.iter().map(|b| b.files).sum()
    }
}

/// Metadata stored with a registry document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DocMeta {
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Unix seconds of the last fetch or successful revalidation.
    pub fetched_at: u64,
    /// 200, or 404 for a remembered "does not exist" (attestations).
    pub status: u16,
}

#[derive(Debug, Clone)]
pub(crate) struct CachedDoc {
    pub meta: DocMeta,
    pub body: Vec<u8>,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Largest tarball [`Cache::read_tarball`] reads (the client's default `max_tarball`).
pub const MAX_CACHED_TARBALL: u64 = 512 << 20;

/// Longest metadata line of a cached document.
const MAX_META_LINE: u64 = 64 << 10;

/// Read at most `limit` bytes of `path`: `Ok(None)` when the file is larger.
fn read_at_most(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = File::open(path)?;
    let mut data = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    Ok((data.len() as u64 <= limit).then_some(data))
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cache {
    /// A cache rooted at `root` (created lazily on first write).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// Root from `explicit` > `$TURNCOAT_CACHE_DIR` > `$XDG_CACHE_HOME/turncoat` >
    /// `$HOME/.cache/turncoat`, using the process environment.
    pub fn from_env(explicit: Option<&Path>) -> Option<Cache> {
        Self::resolve_dir(explicit, &|k| {
            std::env::var_os(k).map(|v| v.to_string_lossy().into_owned())
        })
        .map(Cache::new)
    }

    /// The cache root [`Cache::from_env`] would pick, with an explicit environment.
    pub fn resolve_dir(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<PathBuf> {
        let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
        explicit
            .map(Path::to_path_buf)
            .or_else(|| non_empty("TURNCOAT_CACHE_DIR").map(PathBuf::from))
            .or_else(|| non_empty("XDG_CACHE_HOME").map(|x| Path::new(&x).join("turncoat")))
            .or_else(|| non_empty("HOME").map(|h| Path::new(&h).join(".cache").join("turncoat")))
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// File and byte counts per bucket.
    pub fn stats(&self) -> io::Result<CacheStats> {
        let mut stats = CacheStats::default();
        for name in BUCKETS {
            let mut b = BucketStats {
                name,
                ..BucketStats::default()
            };
            walk(&self.root.join(name), &mut b)?;
            stats.buckets.push(b);
        }
        Ok(stats)
    }

    /// Remove our buckets (and only them); returns what was removed. Waits for writers in other
    /// processes to finish.
    pub fn clean(&self) -> io::Result<CacheStats> {
        if !self.root.exists() {
            return Ok(CacheStats::default());
        }
        let lock = self.lock_file()?;
        lock.lock()?;
        let stats = self.stats()?;
        for name in BUCKETS {
            match fs::remove_dir_all(self.root.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(stats)
    }

    fn lock_file(&self) -> io::Result<File> {
        fs::create_dir_all(&self.root)?;
        let tag = self.root.join("CACHEDIR.TAG");
        if !tag.exists() {
            // Best effort: a missing tag only means backup tools may copy the cache.
            let _ = write_atomic(&tag, CACHEDIR_TAG.as_bytes());
        }
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(".lock"))
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
        let io_err = |e| RegistryError::io(path, e);
        let lock = self.lock_file().map_err(io_err)?;
        lock.lock_shared().map_err(io_err)?;
        write_atomic(path, bytes).map_err(io_err)
    }

    fn content_path(&self, integrity: &Integrity) -> PathBuf {
        let h = integrity.strongest();
        let hex = h.hex();
        let (head, tail) = hex.split_at(2.min(hex.len()));
        self.root
            .join("content-v1")
            .join(h.algorithm.as_str())
            .join(head)
            .join(tail)
    }

    /// A cached tarball, verified against `integrity`. A file that fails verification is
    /// removed and reported as a miss. Reads at most [`MAX_CACHED_TARBALL`] bytes.
    pub fn read_tarball(&self, integrity: &Integrity) -> Result<Option<Vec<u8>>, RegistryError> {
        self.read_tarball_limited(integrity, MAX_CACHED_TARBALL)
    }

    /// [`Cache::read_tarball`] reading at most `limit` bytes: a larger file (which no fetch
    /// under that limit wrote) is removed and is a miss.
    pub fn read_tarball_limited(
        &self,
        integrity: &Integrity,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let path = self.content_path(integrity);
        let bytes = match read_at_most(&path, limit) {
            Ok(Some(b)) => b,
            Ok(None) => {
                let _ = fs::remove_file(&path);
                return Ok(None);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RegistryError::io(path, e)),
        };
        if integrity.verify(&bytes).is_ok() {
            Ok(Some(bytes))
        } else {
            let _ = fs::remove_file(&path);
            Ok(None)
        }
    }

    /// Store a tarball the caller has verified against `integrity`.
    pub fn write_tarball(&self, integrity: &Integrity, bytes: &[u8]) -> Result<(), RegistryError> {
        self.write(&self.content_path(integrity), bytes)
    }

    /// Whether a tarball is present (not verified).
    pub fn has_tarball(&self, integrity: &Integrity) -> bool {
        self.content_path(integrity).is_file()
    }

    pub(crate) fn doc_path(&self, bucket: &str, registry: &Url, file: &str) -> PathBuf {
        self.root
            .join(bucket)
            .join(registry_key(registry))
            .join(file)
    }

    /// A cached document whose body is at most `limit` bytes; anything else (missing,
    /// malformed, larger) is a miss.
    pub(crate) fn read_doc(&self, path: &Path, limit: u64) -> Option<CachedDoc> {
        let bytes = read_at_most(path, limit.saturating_add(MAX_META_LINE)).ok()??;
        let nl = bytes
            .iter()
            .take(MAX_META_LINE as usize)
            .position(|b| *b == b'\n')?;
        if (bytes.len() - nl - 1) as u64 > limit {
            return None;
        }
        let meta: DocMeta = serde_json::from_slice(bytes.get(..nl)?).ok()?;
        let body = bytes.get(nl + 1..)?.to_vec();
        Some(CachedDoc { meta, body })
    }

    pub(crate) fn write_doc(
        &self,
        path: &Path,
        meta: &DocMeta,
        body: &[u8],
    ) -> Result<(), RegistryError> {
        let mut out = serde_json::to_vec(meta).unwrap_or_default();
        out.push(b'\n');
        out.extend_from_slice(body);
        self.write(path, &out)
    }
}

/// A file-name-safe key for a package document: `@scope%2fname` for scoped names.
pub(crate) fn name_key(name: &PackageName) -> String {
    name.url_path()
}

/// Documents from different registries never mix: each registry gets its own directory, named
/// by host and a short hash of the full URL.
fn registry_key(registry: &Url) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(registry.as_str().as_bytes());
    let host: String = registry
        .host_str()
        .unwrap_or("local")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!("{host}-{}", hex::encode(&digest[..6]))
}

fn walk(dir: &Path, stats: &mut BucketStats) -> io::Result<()> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in rd {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&entry.path(), stats)?;
        } else if ft.is_file() {
            stats.files += 1;
            stats.bytes += entry.metadata()?.len();
        }
    }
    Ok(())
}

/// Write via a temporary file in the same directory and an atomic rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    fs::create_dir_all(dir)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(
        ".tmp-{}-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    ));
    let result = (|| {
        let mut f = File::create_new(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_dir_by_precedence() {
        let env = |k: &str| match k {
            "TURNCOAT_CACHE_DIR" => Some("/t".to_string()),
            "XDG_CACHE_HOME" => Some("/x".to_string()),
            "HOME" => Some("/h".to_string()),
            _ => None,
        };
        assert_eq!(
            Cache::resolve_dir(Some(Path::new("/e")), &env),
            Some(PathBuf::from("/e"))
        );
        assert_eq!(Cache::resolve_dir(None, &env), Some(PathBuf::from("/t")));
        let env2 = |k: &str| match k {
            "XDG_CACHE_HOME" => Some("/x".to_string()),
            "HOME" => Some("/h".to_string()),
            "TURNCOAT_CACHE_DIR" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            Cache::resolve_dir(None, &env2),
            Some(PathBuf::from("/x/turncoat"))
        );
        let env3 = |k: &str| (k == "HOME").then(|| "/h".to_string());
        assert_eq!(
            Cache::resolve_dir(None, &env3),
            Some(PathBuf::from("/h/.cache/turncoat"))
        );
        assert_eq!(Cache::resolve_dir(None, &|_| None), None);
    }

    #[test]
    fn tarballs_are_verified_on_read_and_clean_keeps_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let body = b"tarball bytes".to_vec();
        let integrity = Integrity::sha512_of(&body);
        assert_eq!(cache.read_tarball(&integrity).unwrap(), None);
        cache.write_tarball(&integrity, &body).unwrap();
        assert_eq!(cache.read_tarball(&integrity).unwrap(), Some(body.clone()));

        // Corrupt the stored file: detected, removed, a miss.
        let path = cache.content_path(&integrity);
        fs::write(&path, b"tampered").unwrap();
        assert_eq!(cache.read_tarball(&integrity).unwrap(), None);
        assert!(!path.exists());

        cache.write_tarball(&integrity, &body).unwrap();
        fs::write(dir.path().join("c").join("mine.txt"), b"keep").unwrap();
        let stats = cache.stats().unwrap();
        assert_eq!(stats.total_files(), 1);
        assert_eq!(stats.total_bytes(), body.len() as u64);
        let removed = cache.clean().unwrap();
        assert_eq!(removed.total_files(), 1);
        assert!(dir.path().join("c").join("mine.txt").exists());
        assert!(dir.path().join("c").join("CACHEDIR.TAG").exists());
        assert_eq!(cache.stats().unwrap().total_files(), 0);
    }
}
