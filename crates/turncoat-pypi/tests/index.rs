//! The index client against a real HTTP server on 127.0.0.1 and a directory index.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use turncoat_lockfile::{FileHash, LockedPackage, SourceKind};
use turncoat_pypi::{
    ClientOptions, ProjectName, PypiCache, PypiClient, PypiError, expected_sha256,
};
use url::Url;

type Routes = Arc<Mutex<HashMap<String, (u16, String, Vec<u8>)>>>;
/// Each request: its path and its header lines.
type Log = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// A real HTTP/1.1 server: one request per connection, path → (status, content type, body);
/// every request's path and headers are logged.
struct Server {
    base: String,
    routes: Routes,
    log: Log,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Routes = Arc::default();
        let log: Log = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (r, l) = (r.clone(), l.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut first = String::new();
                    if reader.read_line(&mut first).is_err() {
                        return;
                    }
                    let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        headers.push(h.trim_end().to_ascii_lowercase());
                    }
                    l.lock().unwrap().push((path.clone(), headers));
                    let (status, ct, body) = r.lock().unwrap().get(&path).cloned().unwrap_or((
                        404,
                        "text/plain".into(),
                        b"no".to_vec(),
                    ));
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&body);
                });
            }
        });
        Server { base, routes, log }
    }

    fn route(&self, path: &str, status: u16, ct: &str, body: impl Into<Vec<u8>>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, ct.to_string(), body.into()));
    }

    fn hits(&self, path: &str) -> Vec<Vec<String>> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }
}

const WHEEL: &[u8] = b"PK\x03\x04 pretend wheel bytes";

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn json_page(file_base: &str, digest: &str) -> String {
    serde_json::json!({
        "meta": {"api-version": "1.1"}, "name": "demo",
        "versions": ["1.0"],
        "files": [{"filename": "demo-1.0-py3-none-any.whl",
                   "url": format!("{file_base}/files/demo-1.0-py3-none-any.whl"),
                   "hashes": {"sha256": digest}, "size": WHEEL.len(),
                   "upload-time": "2026-01-02T03:04:05.000000Z", "yanked": false}]
    })
    .to_string()
}

fn locked(digest: &str, file: Option<&str>) -> LockedPackage {
    let mut p = LockedPackage::new("demo", "1.0", SourceKind::Registry);
    p.hashes = vec![FileHash {
        file: file.map(str::to_string),
        algorithm: "sha256".into(),
        digest: digest.into(),
    }];
    p
}

fn client(index: &str, cache: &Path, offline: bool) -> PypiClient {
    PypiClient::new(
        Url::parse(index).unwrap(),
        Some(PypiCache::new(cache)),
        ClientOptions {
            offline,
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

fn demo() -> ProjectName {
    ProjectName::new("Demo").unwrap()
}

#[test]
fn json_page_download_verified_then_offline_from_cache() {
    let s = Server::start();
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        json_page(&s.base, &sha(WHEEL)),
    );
    s.route(
        "/files/demo-1.0-py3-none-any.whl",
        200,
        "application/octet-stream",
        WHEEL,
    );
    let cache = tempfile::tempdir().unwrap();
    let c = client(&format!("{}/simple/", s.base), cache.path(), false);
    let page = c.project(&demo()).unwrap();
    assert_eq!(page.files.len(), 1);
    let f = &page.files[0];
    assert_eq!(
        f.upload_time.as_deref(),
        Some("2026-01-02T03:04:05.000000Z")
    );
    let accept = s.hits("/simple/demo/");
    assert!(
        accept[0]
            .iter()
            .any(|h| h.starts_with("accept: application/vnd.pypi.simple.v1+json"))
    );
    let want = expected_sha256(&locked(&sha(WHEEL), None), &f.filename);
    assert_eq!(c.download(f, &want).unwrap(), WHEEL);
    assert!(
        c.cache_reliance().is_empty(),
        "online runs rely on no cached document"
    );

    // Offline: the page and the file come from the cache; the page use is reported.
    let off = client(&format!("{}/simple/", s.base), cache.path(), true);
    let before = s.log.lock().unwrap().len();
    let page = off.project(&demo()).unwrap();
    assert_eq!(off.download(&page.files[0], &want).unwrap(), WHEEL);
    assert_eq!(
        s.log.lock().unwrap().len(),
        before,
        "offline made a request"
    );
    let r = off.cache_reliance();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].document, "simple page of demo");
    let miss = off
        .project(&ProjectName::new("other").unwrap())
        .unwrap_err();
    assert!(matches!(miss, PypiError::OfflineMiss { .. }), "{miss}");
}

#[test]
fn a_file_that_does_not_match_the_lockfile_fails_closed() {
    let s = Server::start();
    let evil = b"PK\x03\x04 trojan";
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        json_page(&s.base, &sha(evil)),
    );
    s.route(
        "/files/demo-1.0-py3-none-any.whl",
        200,
        "application/octet-stream",
        evil.to_vec(),
    );
    let cache = tempfile::tempdir().unwrap();
    let c = client(&format!("{}/simple/", s.base), cache.path(), false);
    let page = c.project(&demo()).unwrap();
    let f = &page.files[0];
    // The lockfile pinned the genuine wheel; the index now serves (and vouches for) another.
    let want = expected_sha256(&locked(&sha(WHEEL), None), &f.filename);
    let e = c.download(f, &want).unwrap_err();
    assert!(matches!(e, PypiError::HashMismatch { .. }), "{e}");
    // Nothing was cached under either hash.
    let cache = PypiCache::new(cache.path());
    assert!(cache.get_file(&sha(evil), 1 << 20).is_none());
}

#[test]
fn a_hash_recorded_for_another_file_vouches_for_nothing() {
    let s = Server::start();
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        json_page(&s.base, &sha(WHEEL)),
    );
    s.route(
        "/files/demo-1.0-py3-none-any.whl",
        200,
        "application/octet-stream",
        WHEEL,
    );
    let cache = tempfile::tempdir().unwrap();
    let c = client(&format!("{}/simple/", s.base), cache.path(), false);
    let f = &c.project(&demo()).unwrap().files[0];
    // uv/poetry say which file each hash is for: this one is the sdist's, even though its
    // digest happens to be the wheel's.
    let want = expected_sha256(&locked(&sha(WHEEL), Some("demo-1.0.tar.gz")), &f.filename);
    let e = c.download(f, &want).unwrap_err();
    assert!(matches!(e, PypiError::NoExpectedHash { .. }), "{e}");
    assert!(
        s.hits("/files/demo-1.0-py3-none-any.whl").is_empty(),
        "fetched anyway"
    );
}

#[test]
fn online_runs_never_read_a_cached_page() {
    let s = Server::start();
    let cache = tempfile::tempdir().unwrap();
    // First fetch caches a page listing the genuine wheel.
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        json_page(&s.base, &sha(WHEEL)),
    );
    let c = client(&format!("{}/simple/", s.base), cache.path(), false);
    c.project(&demo()).unwrap();
    // The index changes; a later online run must see the change, not the cached copy.
    s.route("/simple/demo/", 404, "text/plain", "gone");
    let e = c.project(&demo()).unwrap_err();
    assert!(matches!(e, PypiError::Http { status: 404, .. }), "{e}");
}

#[test]
fn html_fallback_and_json_api() {
    let s = Server::start();
    let digest = sha(WHEEL);
    s.route(
        "/simple/demo/",
        200,
        "text/html; charset=utf-8",
        format!(
            "<html><body><a href=\"/files/demo-1.0-py3-none-any.whl#sha256={digest}\">demo-1.0-py3-none-any.whl</a></body></html>"
        ),
    );
    s.route(
        "/pypi/demo/json",
        200,
        "application/json",
        serde_json::json!({"info": {"name": "demo", "version": "1.0"},
            "ownership": {"roles": [{"role": "Owner", "user": "alice"}], "organization": null},
            "releases": {"1.0": [{"filename": "demo-1.0-py3-none-any.whl",
                "digests": {"sha256": digest}, "upload_time_iso_8601": "2026-01-02T03:04:05.000000Z"}]}})
        .to_string(),
    );
    let cache = tempfile::tempdir().unwrap();
    let c = client(&format!("{}/simple/", s.base), cache.path(), false);
    let page = c.project(&demo()).unwrap();
    assert_eq!(page.files[0].sha256.as_deref(), Some(digest.as_str()));
    assert_eq!(
        page.files[0].url,
        format!("{}/files/demo-1.0-py3-none-any.whl#sha256={digest}", s.base)
    );
    let m = c.project_meta(&demo()).unwrap();
    assert_eq!(m.ownership.unwrap().roles[0].user, "alice");
    assert!(m.releases["1.0"][0].upload_time.is_some());
}

#[test]
fn credentials_go_to_the_index_origin_only_and_are_never_shown() {
    let index = Server::start();
    let files = Server::start();
    index.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        json_page(&files.base, &sha(WHEEL)),
    );
    files.route(
        "/files/demo-1.0-py3-none-any.whl",
        200,
        "application/octet-stream",
        WHEEL,
    );
    let cache = tempfile::tempdir().unwrap();
    let url = index.base.replace("http://", "http://alice:s3cret@");
    let c = client(&format!("{url}/simple/"), cache.path(), false);
    let f = c.project(&demo()).unwrap().files[0].clone();
    let sent = index.hits("/simple/demo/");
    assert!(
        sent[0]
            .iter()
            .any(|h| h.starts_with("authorization: basic "))
    );
    c.download(&f, &[sha(WHEEL)]).unwrap();
    let to_files = files.hits("/files/demo-1.0-py3-none-any.whl");
    assert!(!to_files[0].iter().any(|h| h.starts_with("authorization")));
    let e = c
        .project(&ProjectName::new("missing").unwrap())
        .unwrap_err();
    assert!(!e.to_string().contains("s3cret"), "{e}");
}

#[test]
fn oversized_documents_are_refused() {
    let s = Server::start();
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        vec![b' '; 4096],
    );
    let c = PypiClient::new(
        Url::parse(&format!("{}/simple/", s.base)).unwrap(),
        None,
        ClientOptions {
            max_document_bytes: 1024,
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let e = c.project(&demo()).unwrap_err();
    assert!(matches!(e, PypiError::TooLarge { .. }), "{e}");
}

#[test]
fn directory_index_serves_pages_files_and_metadata_but_not_outside() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("simple/demo")).unwrap();
    std::fs::create_dir_all(r.join("files")).unwrap();
    std::fs::create_dir_all(r.join("pypi/demo")).unwrap();
    std::fs::write(r.join("files/demo-1.0-py3-none-any.whl"), WHEEL).unwrap();
    std::fs::write(
        r.join("simple/demo/index.json"),
        json_page("../..", &sha(WHEEL)),
    )
    .unwrap();
    std::fs::write(
        r.join("pypi/demo/json"),
        r#"{"info": {"name": "demo", "version": "1.0"}, "releases": {}}"#,
    )
    .unwrap();
    let index = Url::from_directory_path(r.join("simple")).unwrap();
    let c = client(index.as_str(), &r.join("cache"), false);
    let page = c.project(&demo()).unwrap();
    assert_eq!(c.download(&page.files[0], &[sha(WHEEL)]).unwrap(), WHEEL);
    assert_eq!(
        c.project_meta(&demo()).unwrap().version.as_deref(),
        Some("1.0")
    );

    // A page whose file link (or a symlinked file) leaves the index root is refused, even
    // when its bytes are exactly what the lockfile wants. (No cache: a cached file with
    // the right hash would be served without a read, which is correct.)
    let c = PypiClient::new(index, None, ClientOptions::default()).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = b"outside the index";
    std::fs::write(outside.path().join("demo-2.0-py3-none-any.whl"), secret).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("demo-2.0-py3-none-any.whl"),
        r.join("files/demo-2.0-py3-none-any.whl"),
    )
    .unwrap();
    let mut f = page.files[0].clone();
    for target in [
        r.join("files/demo-2.0-py3-none-any.whl"),
        outside.path().join("demo-2.0-py3-none-any.whl"),
    ] {
        f.url = Url::from_file_path(&target).unwrap().to_string();
        let e = c.download(&f, &[sha(secret)]).unwrap_err();
        assert!(e.to_string().contains("outside the directory index"), "{e}");
    }
}

#[test]
fn a_poisoned_cached_file_is_refetched_not_served() {
    let s = Server::start();
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        json_page(&s.base, &sha(WHEEL)),
    );
    s.route(
        "/files/demo-1.0-py3-none-any.whl",
        200,
        "application/octet-stream",
        WHEEL,
    );
    let cache = tempfile::tempdir().unwrap();
    // Someone with write access to the cache put a trojan under the genuine hash.
    let slot = cache.path().join("pypi/files").join(sha(WHEEL));
    std::fs::create_dir_all(slot.parent().unwrap()).unwrap();
    std::fs::write(&slot, b"PK trojan under a borrowed name").unwrap();
    let c = client(&format!("{}/simple/", s.base), cache.path(), false);
    let f = c.project(&demo()).unwrap().files[0].clone();
    assert_eq!(c.download(&f, &[sha(WHEEL)]).unwrap(), WHEEL);
    assert_eq!(s.hits("/files/demo-1.0-py3-none-any.whl").len(), 1);
    // Offline, the poisoned copy is a miss too (now replaced by the verified download).
    std::fs::write(&slot, b"PK trojan again").unwrap();
    let off = client(&format!("{}/simple/", s.base), cache.path(), true);
    let e = off.download(&f, &[sha(WHEEL)]).unwrap_err();
    assert!(matches!(e, PypiError::OfflineMiss { .. }), "{e}");
}

#[test]
fn provenance_is_a_document_fetched_online_and_reported_offline() {
    let s = Server::start();
    let mut page: serde_json::Value =
        serde_json::from_str(&json_page(&s.base, &sha(WHEEL))).unwrap();
    page["files"][0]["provenance"] =
        serde_json::json!("/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance");
    s.route(
        "/simple/demo/",
        200,
        "application/vnd.pypi.simple.v1+json",
        page.to_string(),
    );
    s.route(
        "/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance",
        200,
        "application/vnd.pypi.integrity.v1+json",
        r#"{"version": 1, "attestation_bundles": []}"#,
    );
    let cache = tempfile::tempdir().unwrap();
    let online = client(&format!("{}/simple/", s.base), cache.path(), false);
    let p = online.project(&demo()).unwrap();
    let prov = online.provenance(&p.files[0]).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&prov).contains("attestation_bundles"));
    assert!(online.cache_reliance().is_empty());
    // A file without a provenance URL has none (not an error).
    let mut bare = p.files[0].clone();
    bare.provenance = None;
    assert_eq!(online.provenance(&bare).unwrap(), None);
    // A provenance link of another kind than the index (a local file from an HTTP page).
    let mut local = p.files[0].clone();
    local.provenance = Some("file:///etc/passwd".into());
    assert!(online.provenance(&local).is_err());

    // Offline: answered from the cache and reported, attributed to the project.
    let offline = client(&format!("{}/simple/", s.base), cache.path(), true);
    let p = offline.project(&demo()).unwrap();
    assert_eq!(offline.provenance(&p.files[0]).unwrap().unwrap(), prov);
    let used = offline.cache_reliance_for("demo");
    let docs: Vec<&str> = used.iter().map(|r| r.document.as_str()).collect();
    assert_eq!(
        docs,
        [
            "provenance of demo-1.0-py3-none-any.whl",
            "simple page of demo"
        ]
    );
    assert!(offline.cache_reliance_for("other").is_empty());
}
