//! The on-disk cache, like the npm one: files content-addressed by sha256 and re-verified
//! on every read (so a cached file is as good as a downloaded one, online or offline);
//! documents (pages, JSON API) stored with their fetch time and read **only offline**,
//! where each use is reported ([`CacheReliance`]): anyone who can write the cache can
//! forge a document, so a cached one never decides an online run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::PypiError;

/// A cached document that an offline run relied on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct CacheReliance {
    /// The project the document is about (PEP 503 name), to attribute it in reports.
    pub project: String,
    /// Which document (`simple page of requests`, `JSON API of requests`).
    pub document: String,
    /// The fetch time written in the cache file (Unix seconds): a claim, for display.
    pub fetched_at: u64,
    /// The claimed fetch time is in the future: the file was not written by a fetch.
    pub future: bool,
}

/// The PyPI part of turncoat's cache directory.
#[derive(Debug, Clone)]
pub struct PypiCache {
    root: PathBuf,
}

static TMP: AtomicU64 = AtomicU64::new(0);

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn read_at_most(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let f = std::fs::File::open(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut out = Vec::new();
    f.take(limit + 1).read_to_end(&mut out).ok()?;
    (out.len() as u64 <= limit).then_some(out)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TMP.fetch_add(1, Ordering::Relaxed)
    ));
    let r = (|| {
        let mut f = std::fs::File::create_new(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

impl PypiCache {
    /// `dir` is turncoat's cache directory; PyPI data lives under `dir/pypi`.
    pub fn new(dir: &Path) -> PypiCache {
        PypiCache {
            root: dir.join("pypi"),
        }
    }

    fn doc_path(&self, key: &str) -> PathBuf {
        let h = hex::encode(Sha256::digest(key.as_bytes()));
        self.root.join("docs").join(h)
    }

    fn file_path(&self, sha256: &str) -> Option<PathBuf> {
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join("files").join(sha256.to_ascii_lowercase()))
    }

    /// Store a fetched document (best effort: a cache that cannot be written is no error).
    pub(crate) fn put_doc(&self, key: &str, content_type: &str, body: &[u8]) {
        let meta =
            serde_json::json!({"key": key, "fetched_at": now_secs(), "content_type": content_type});
        let mut out = serde_json::to_vec(&meta).unwrap_or_default();
        out.push(b'\n');
        out.extend_from_slice(body);
        let _ = write_atomic(&self.doc_path(key), &out);
    }

    /// A document for an offline run: (content type, body, fetched_at). Anything that is
    /// not exactly what `put_doc` wrote for `key` is a miss.
    pub(crate) fn get_doc(&self, key: &str, limit: u64) -> Option<(String, Vec<u8>, u64)> {
        let bytes = read_at_most(&self.doc_path(key), limit.saturating_add(4096))?;
        let nl = bytes.iter().take(4096).position(|b| *b == b'\n')?;
        let meta: serde_json::Value = serde_json::from_slice(bytes.get(..nl)?).ok()?;
        if meta.get("key").and_then(|k| k.as_str()) != Some(key) {
            return None;
        }
        let body = bytes.get(nl + 1..)?.to_vec();
        if body.len() as u64 > limit {
            return None;
        }
        Some((
            meta.get("content_type")?.as_str()?.to_string(),
            body,
            meta.get("fetched_at")?.as_u64()?,
        ))
    }

    /// A cached file whose content still hashes to `sha256` (else a miss).
    pub fn get_file(&self, sha256: &str, limit: u64) -> Option<Vec<u8>> {
        let bytes = read_at_most(&self.file_path(sha256)?, limit)?;
        (hex::encode(Sha256::digest(&bytes)) == sha256.to_ascii_lowercase()).then_some(bytes)
    }

    pub(crate) fn put_file(&self, sha256: &str, bytes: &[u8]) -> Result<(), PypiError> {
        let Some(p) = self.file_path(sha256) else {
            return Ok(());
        };
        write_atomic(&p, bytes).map_err(|source| PypiError::Io {
            path: p.display().to_string(),
            source,
        })
    }
}
