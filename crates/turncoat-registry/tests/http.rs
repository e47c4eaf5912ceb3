//! The client against a real HTTP server on 127.0.0.1, with faults injected.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::{Reply, TestRegistry, package_tgz, tarball_path};
use turncoat_npm::{Integrity, PackageName};
use turncoat_registry::{
    Cache, Client, ClientOptions, Progress, ProxySetting, RegistryConfig, RegistryError,
    TarballRequest,
};

fn options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        retries: 0,
        retry_backoff: Duration::from_millis(5),
        proxy: ProxySetting::None,
        ..ClientOptions::default()
    }
}

fn client_with(config: RegistryConfig, cache: &Path, opts: ClientOptions) -> Client {
    Client::new(config, Cache::new(cache), opts).unwrap()
}

fn client(reg: &TestRegistry, cache: &Path) -> Client {
    client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        cache,
        options(),
    )
}

fn name(s: &str) -> PackageName {
    PackageName::new(s).unwrap()
}

#[test]
fn full_and_abbreviated_packuments() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());

    let corgi = c.abbreviated_packument(&name("demo")).unwrap();
    assert!(corgi.versions.contains_key("1.0.0"));
    let full = c.packument(&name("demo")).unwrap();
    assert_eq!(full.published("1.0.0"), Some("2020-01-02T00:00:00.000Z"));
    let accepts: Vec<String> = reg
        .requests()
        .iter()
        .filter_map(|r| r.header("accept").map(str::to_string))
        .collect();
    assert_eq!(
        accepts,
        [
            "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
            "application/json"
        ]
    );
    // Memoized: asking again costs nothing.
    c.packument(&name("demo")).unwrap();
    assert_eq!(reg.hits("/demo"), 2);
    assert!(c.packument_bytes(&name("demo")).unwrap().starts_with(b"{"));
}

#[test]
fn abbreviated_falls_back_to_full_when_refused() {
    let reg = TestRegistry::start();
    let doc = reg.publish("old-mirror", &[("1.0.0", b"x")]);
    reg.hook("/old-mirror", move |req, _| {
        if req
            .header("accept")
            .unwrap_or_default()
            .contains("install-v1")
        {
            Reply::status(406)
        } else {
            Reply::json(&doc)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let p = client(&reg, dir.path())
        .abbreviated_packument(&name("old-mirror"))
        .unwrap();
    assert!(!p.is_abbreviated());
    assert_eq!(reg.hits("/old-mirror"), 2);
}

#[test]
fn scoped_names_are_escaped() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("@hyper/rarebit", "0.1.0");
    reg.publish("@hyper/rarebit", &[("0.1.0", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    let n = name("@hyper/rarebit");
    assert!(c.packument(&n).unwrap().versions.contains_key("0.1.0"));
    assert_eq!(c.tarball(&n, "0.1.0", None, None).unwrap(), tgz);
    assert_eq!(
        c.version(&n, "0.1.0").unwrap().version.as_deref(),
        Some("0.1.0")
    );
    assert_eq!(reg.hits("/@hyper%2frarebit"), 1);
    assert_eq!(reg.hits("/@hyper/rarebit/-/rarebit-0.1.0.tgz"), 1);
    assert_eq!(reg.hits("/@hyper%2frarebit/0.1.0"), 1);
}

#[test]
fn tarball_with_lockfile_integrity_is_cached_and_verified() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    let integrity = Integrity::sha512_of(&tgz);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    let path = tarball_path("demo", "1.0.0");

    assert_eq!(
        c.tarball(&name("demo"), "1.0.0", None, Some(&integrity))
            .unwrap(),
        tgz
    );
    // The integrity came from the lockfile: no packument was needed.
    assert_eq!(reg.hits("/demo"), 0);
    assert_eq!(
        c.tarball(&name("demo"), "1.0.0", None, Some(&integrity))
            .unwrap(),
        tgz
    );
    assert_eq!(reg.hits(&path), 1, "second read comes from the cache");
    assert!(c.cache().has_tarball(&integrity));
}

#[test]
fn tarball_integrity_from_the_packument() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "2.0.0");
    reg.publish("demo", &[("2.0.0", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    assert_eq!(c.tarball(&name("demo"), "2.0.0", None, None).unwrap(), tgz);
    assert_eq!(reg.hits("/demo"), 1);
}

#[test]
fn wrong_integrity_is_an_error_and_nothing_is_cached() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    let lockfile_says = Integrity::sha512_of(b"what the lockfile recorded");
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    let err = c
        .tarball(&name("demo"), "1.0.0", None, Some(&lockfile_says))
        .unwrap_err();
    assert!(matches!(err, RegistryError::Integrity { .. }), "{err:?}");
    assert!(err.to_string().contains("demo@1.0.0"));
    assert_eq!(c.cache().stats().unwrap().total_files(), 0);
    assert!(!c.cache().has_tarball(&Integrity::sha512_of(&tgz)));
}

#[test]
fn no_integrity_anywhere_fails_closed() {
    let reg = TestRegistry::start();
    let mut doc = reg.publish("bare", &[("1.0.0", b"tarball")]);
    doc["versions"]["1.0.0"]["dist"]
        .as_object_mut()
        .unwrap()
        .remove("integrity");
    reg.set("/bare", Reply::json(&doc));
    let dir = tempfile::tempdir().unwrap();
    let err = client(&reg, dir.path())
        .tarball(&name("bare"), "1.0.0", None, None)
        .unwrap_err();
    assert!(matches!(err, RegistryError::NoIntegrity { .. }), "{err:?}");
    assert_eq!(reg.hits(&tarball_path("bare", "1.0.0")), 0);
}

#[test]
fn legacy_shasum_is_used_when_there_is_no_sri() {
    let reg = TestRegistry::start();
    let tgz = b"old tarball".to_vec();
    let mut doc = reg.publish("old", &[("0.1.0", &tgz)]);
    let sha1 = {
        let mut c = turncoat_npm::IntegrityChecker::new(turncoat_npm::Algorithm::Sha1);
        c.update(&tgz);
        c.result().hex()
    };
    let dist = doc["versions"]["0.1.0"]["dist"].as_object_mut().unwrap();
    dist.remove("integrity");
    dist.insert("shasum".into(), sha1.into());
    reg.set("/old", Reply::json(&doc));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        client(&reg, dir.path())
            .tarball(&name("old"), "0.1.0", None, None)
            .unwrap(),
        tgz
    );
}

#[test]
fn missing_locked_version_is_not_found() {
    let reg = TestRegistry::start();
    reg.publish("demo", &[("1.0.0", b"x")]);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    // Not in the packument.
    let err = c.tarball(&name("demo"), "9.9.9", None, None).unwrap_err();
    assert!(
        matches!(&err, RegistryError::NotFound { name, version: Some(v) } if name == "demo" && v == "9.9.9"),
        "{err:?}"
    );
    // Locked with integrity, tarball gone (404).
    let err = c
        .tarball(
            &name("demo"),
            "1.0.1",
            None,
            Some(&Integrity::sha512_of(b"y")),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::NotFound {
                version: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "demo@1.0.1 not found in the registry");
    // Unknown package.
    assert!(matches!(
        c.packument(&name("nope")),
        Err(RegistryError::NotFound { version: None, .. })
    ));
}

#[test]
fn server_errors_are_retried_client_errors_are_not() {
    let reg = TestRegistry::start();
    let doc = reg.publish("flaky", &[("1.0.0", b"x")]);
    reg.hook("/flaky", move |_, n| {
        if n == 0 {
            Reply::status(503)
        } else {
            Reply::json(&doc)
        }
    });
    reg.hook("/forbidden", |_, _| Reply::status(403));
    let dir = tempfile::tempdir().unwrap();
    let c = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            retries: 3,
            ..options()
        },
    );
    assert!(c.packument(&name("flaky")).is_ok());
    assert_eq!(reg.hits("/flaky"), 2);
    let err = c.packument(&name("forbidden")).unwrap_err();
    assert!(
        matches!(err, RegistryError::Http { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(reg.hits("/forbidden"), 1);

    // Retries are bounded.
    reg.hook("/down", |_, _| Reply::status(500));
    let err = c.packument(&name("down")).unwrap_err();
    assert!(
        matches!(err, RegistryError::Http { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(reg.hits("/down"), 4);
}

#[test]
fn slow_responses_time_out() {
    let reg = TestRegistry::start();
    let doc = reg.publish("slow", &[("1.0.0", b"x")]);
    reg.set("/slow", Reply::json(&doc).delayed(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let c = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            timeout: Duration::from_millis(300),
            ..options()
        },
    );
    let t = std::time::Instant::now();
    let err = c.packument(&name("slow")).unwrap_err();
    assert!(matches!(err, RegistryError::Timeout { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn truncated_bodies_fail_and_are_retried() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("cut", "1.0.0");
    reg.publish("cut", &[("1.0.0", &tgz)]);
    let path = tarball_path("cut", "1.0.0");
    let integrity = Integrity::sha512_of(&tgz);
    let body = tgz.clone();
    reg.hook(&path, move |_, n| {
        let r = Reply::ok(body.clone());
        if n == 0 {
            r.truncated(body.len() / 2)
        } else {
            r
        }
    });
    let dir = tempfile::tempdir().unwrap();
    // Without retries: the short body is an error, not a short tarball.
    let err = client(&reg, dir.path())
        .tarball(&name("cut"), "1.0.0", None, Some(&integrity))
        .unwrap_err();
    assert!(matches!(err, RegistryError::Network { .. }), "{err:?}");
    assert_eq!(
        client(&reg, dir.path())
            .cache()
            .stats()
            .unwrap()
            .total_files(),
        0
    );
    // With a retry: the second, complete response is used.
    let c = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            retries: 1,
            ..options()
        },
    );
    reg.hook(&path, {
        let body = tgz.clone();
        move |_, n| {
            let r = Reply::ok(body.clone());
            if n == 1 { r.truncated(10) } else { r }
        }
    });
    assert_eq!(
        c.tarball(&name("cut"), "1.0.0", None, Some(&integrity))
            .unwrap(),
        tgz
    );
}

#[test]
fn tokens_follow_same_host_redirects_only() {
    let reg = TestRegistry::start();
    let other = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    other.set("/elsewhere.tgz", Reply::ok(tgz.clone()));
    reg.set("/moved.tgz", Reply::redirect("/demo/-/demo-1.0.0.tgz"));
    reg.set(
        "/offsite.tgz",
        Reply::redirect(&format!("{}elsewhere.tgz", other.url())),
    );
    let config = RegistryConfig::with_registry(&reg.url())
        .unwrap()
        .with_token(&reg.url(), "npm_TOPSECRET")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = client_with(config, dir.path(), options());
    let integrity = Integrity::sha512_of(&tgz);

    let same = format!("{}moved.tgz", reg.url());
    assert_eq!(
        c.tarball(&name("demo"), "1.0.0", Some(&same), Some(&integrity))
            .unwrap(),
        tgz
    );
    for r in reg.requests() {
        assert_eq!(
            r.header("authorization"),
            Some("Bearer npm_TOPSECRET"),
            "{}",
            r.path
        );
    }

    // Another host (different port = different origin): the token is not sent there.
    std::fs::remove_dir_all(dir.path()).unwrap();
    let off = format!("{}offsite.tgz", reg.url());
    assert_eq!(
        c.tarball(&name("demo"), "1.0.0", Some(&off), Some(&integrity))
            .unwrap(),
        tgz
    );
    assert_eq!(reg.hits("/offsite.tgz"), 1);
    let offsite = other.requests();
    assert_eq!(offsite.len(), 1);
    assert_eq!(offsite[0].header("authorization"), None);
}

#[test]
fn tokens_never_appear_in_errors_or_debug() {
    let reg = TestRegistry::start();
    reg.hook("/private", |_, _| {
        Reply::status(401).body("bad token npm_TOPSECRET")
    });
    let config = RegistryConfig::with_registry(&reg.url())
        .unwrap()
        .with_token(&reg.url(), "npm_TOPSECRET")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = client_with(config.clone(), dir.path(), options());
    let err = c.packument(&name("private")).unwrap_err();
    assert!(matches!(err, RegistryError::Http { status: 401, .. }));
    for text in [err.to_string(), format!("{err:?}"), format!("{config:?}")] {
        assert!(!text.contains("npm_TOPSECRET"), "{text}");
    }
    // The request did carry it.
    assert_eq!(
        reg.requests()[0].header("authorization"),
        Some("Bearer npm_TOPSECRET")
    );
}

/// Every cache file of `bucket` under `dir` whose name ends in `suffix`.
fn cache_files(dir: &Path, bucket: &str, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(regs) = std::fs::read_dir(dir.join(bucket)) else {
        return out;
    };
    for r in regs {
        for f in std::fs::read_dir(r.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out
}

/// Rewrite a cached document as an attacker with write access to a (CI) cache would: any
/// metadata (a fetch time far in the future, the real ETag), any body.
fn poison(path: &Path, meta: serde_json::Value, body: &[u8]) {
    let mut bytes = serde_json::to_vec(&meta).unwrap();
    bytes.push(b'\n');
    bytes.extend_from_slice(body);
    std::fs::write(path, bytes).unwrap();
}

const YEAR_3000: u64 = 32_503_680_000;

#[test]
fn a_poisoned_packument_never_decides_while_online() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("victim", "1.0.0");
    let doc = reg.publish("victim", &[("1.0.0", &tgz)]);
    {
        let doc = doc.clone();
        reg.hook("/victim", move |req, _| {
            // An ETag-honouring registry: a conditional request gets 304.
            if req.header("if-none-match") == Some("\"v1\"") {
                Reply::status(304)
            } else {
                Reply::json(&doc).header("etag", "\"v1\"")
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    client(&reg, dir.path()).packument(&name("victim")).unwrap();
    let files = cache_files(dir.path(), "packuments-v1", "victim.full.json");
    assert_eq!(files.len(), 1);
    let mut forged = doc.clone();
    forged["versions"]["1.0.0"]["_npmUser"] = serde_json::json!({"name": "alice-forged"});
    poison(
        &files[0],
        serde_json::json!({"etag": "\"v1\"", "fetched_at": YEAR_3000, "status": 200}),
        forged.to_string().as_bytes(),
    );
    // A new process, online: the forged copy with its future fetch time and the registry's
    // ETag is neither "fresh" nor revalidated into use.
    let c = client(&reg, dir.path());
    let p = c.packument(&name("victim")).unwrap();
    let user = p.versions["1.0.0"].npm_user.as_ref().unwrap();
    assert_eq!(user.name.as_deref(), Some("alice"));
    assert!(c.cache_reliance("victim").is_empty());
    let last = reg.requests().into_iter().last().unwrap();
    assert_eq!(last.header("if-none-match"), None);
}

#[test]
fn a_remembered_missing_attestation_is_asked_again() {
    let reg = TestRegistry::start();
    let path = "/-/npm/v1/attestations/pad@1.0.0";
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        client(&reg, dir.path())
            .attestations(&name("pad"), "1.0.0")
            .unwrap(),
        None
    );
    // A poisoned "does not exist" that claims to be fresh for a thousand years.
    let files = cache_files(dir.path(), "attestations-v1", "pad@1.0.0.json");
    assert_eq!(files.len(), 1);
    poison(
        &files[0],
        serde_json::json!({"fetched_at": YEAR_3000, "status": 404}),
        b"",
    );
    reg.set(path, Reply::json(&serde_json::json!({"attestations": []})));
    assert!(
        client(&reg, dir.path())
            .attestations(&name("pad"), "1.0.0")
            .unwrap()
            .is_some()
    );
    assert_eq!(reg.hits(path), 2);
}

#[test]
fn offline_answers_say_they_rest_on_the_cache() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    let online = client(&reg, dir.path());
    online.packument(&name("demo")).unwrap();
    assert!(online.cache_reliance("demo").is_empty());
    let offline = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            offline: true,
            ..options()
        },
    );
    offline.packument(&name("demo")).unwrap();
    let used = offline.cache_reliance("demo");
    assert_eq!(used.len(), 1, "{used:?}");
    assert!(used[0].document.contains("demo"), "{used:?}");
    assert!(!used[0].future);
    // A fetch time in the future is called out.
    let files = cache_files(dir.path(), "packuments-v1", "demo.full.json");
    let body = std::fs::read(&files[0]).unwrap();
    let nl = body.iter().position(|b| *b == b'\n').unwrap();
    poison(
        &files[0],
        serde_json::json!({"fetched_at": YEAR_3000, "status": 200}),
        &body[nl + 1..],
    );
    let offline = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            offline: true,
            ..options()
        },
    );
    offline.packument(&name("demo")).unwrap();
    assert!(offline.cache_reliance("demo")[0].future);
}

#[test]
fn oversized_cache_files_are_not_read_whole() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    client(&reg, dir.path()).packument(&name("demo")).unwrap();
    let files = cache_files(dir.path(), "packuments-v1", "demo.full.json");
    // 4 MiB of padding in a document the client accepts only up to 64 KiB.
    let mut big = b"{\"fetched_at\":1,\"status\":200}\n{\"name\":\"demo\",\"pad\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 4 << 20));
    big.extend_from_slice(b"\"}");
    std::fs::write(&files[0], big).unwrap();
    let offline = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            offline: true,
            max_document: 64 << 10,
            ..options()
        },
    );
    let err = offline.packument(&name("demo")).unwrap_err();
    assert!(matches!(err, RegistryError::Offline { .. }), "{err}");
}

#[test]
fn online_documents_are_fetched_whole_not_revalidated_from_the_cache() {
    // An ETag (or Last-Modified) kept in the cache file would let a 304 vouch for whatever
    // body sits beside it; online, the body always comes from the registry.
    let reg = TestRegistry::start();
    let doc = support::packument("etag", &reg.url(), &[]);
    reg.hook("/etag", move |req, _| {
        if req.header("if-none-match").is_some() || req.header("if-modified-since").is_some() {
            Reply::status(304)
        } else {
            Reply::json(&doc)
                .header("etag", "\"v1\"")
                .header("last-modified", "Wed, 01 Jan 2020 00:00:00 GMT")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig::with_registry(&reg.url()).unwrap();
    let first = client_with(config.clone(), dir.path(), options())
        .packument(&name("etag"))
        .unwrap();
    let second = client_with(config, dir.path(), options())
        .packument(&name("etag"))
        .unwrap();
    assert_eq!(first, second);
    for r in reg.requests() {
        assert_eq!(r.header("if-none-match"), None);
        assert_eq!(r.header("if-modified-since"), None);
    }
    assert_eq!(reg.hits("/etag"), 2);
}

#[test]
fn offline_hits_and_misses() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    reg.publish("demo", &[("1.0.0", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig::with_registry(&reg.url()).unwrap();
    client(&reg, dir.path())
        .tarball(&name("demo"), "1.0.0", None, None)
        .unwrap();
    let before = reg.requests().len();

    let offline = client_with(
        config,
        dir.path(),
        ClientOptions {
            offline: true,
            ..options()
        },
    );
    assert_eq!(
        offline.tarball(&name("demo"), "1.0.0", None, None).unwrap(),
        tgz
    );
    assert!(offline.packument(&name("demo")).is_ok());
    let err = offline
        .tarball(
            &name("demo"),
            "2.0.0",
            None,
            Some(&Integrity::sha512_of(b"z")),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not in cache (offline): demo@2.0.0; run once without --offline"
    );
    let err = offline
        .tarball(&name("other"), "1.0.0", None, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not in cache (offline): other@1.0.0; run once without --offline"
    );
    assert_eq!(
        reg.requests().len(),
        before,
        "offline never touches the network"
    );
}

#[test]
fn public_registry_urls_are_fetched_from_the_configured_registry() {
    let reg = TestRegistry::start();
    let tgz = package_tgz("lodash", "4.17.21");
    reg.publish("lodash", &[("4.17.21", &tgz)]);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    let resolved = "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz";
    assert_eq!(
        c.tarball(
            &name("lodash"),
            "4.17.21",
            Some(resolved),
            Some(&Integrity::sha512_of(&tgz))
        )
        .unwrap(),
        tgz
    );
    assert_eq!(reg.hits("/lodash/-/lodash-4.17.21.tgz"), 1);
}

#[test]
fn insecure_and_odd_urls_are_refused() {
    let reg = TestRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    let i = Integrity::sha512_of(b"x");
    let err = c
        .tarball(
            &name("x"),
            "1.0.0",
            Some("http://mirror.example.com/x-1.0.0.tgz"),
            Some(&i),
        )
        .unwrap_err();
    assert!(matches!(err, RegistryError::InsecureUrl { .. }), "{err:?}");
    for bad in [
        "file:///etc/passwd",
        "ftp://h/x.tgz",
        "https://u:p@h.example/x.tgz",
        "::",
    ] {
        let err = c
            .tarball(&name("x"), "1.0.0", Some(bad), Some(&i))
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidUrl { .. }),
            "{bad}: {err:?}"
        );
        assert!(!err.to_string().contains("u:p@"));
    }
    let err = c.tarball(&name("x"), "../1", None, Some(&i)).unwrap_err();
    assert!(matches!(err, RegistryError::InvalidVersion(_)));
    assert!(reg.requests().is_empty());
}

#[test]
fn attestations_and_keys() {
    let reg = TestRegistry::start();
    reg.set(
        "/-/npm/v1/attestations/@s%2fp@1.0.0",
        Reply::json(&serde_json::json!({"attestations": []})),
    );
    reg.set(
        "/-/npm/v1/keys",
        Reply::json(&serde_json::json!({"keys": [{"keyid": "SHA256:x"}]})),
    );
    let dir = tempfile::tempdir().unwrap();
    let c = client(&reg, dir.path());
    let n = name("@s/p");
    assert!(c.attestations(&n, "1.0.0").unwrap().is_some());
    assert_eq!(c.attestations(&n, "2.0.0").unwrap(), None);
    // A present attestation never changes (and is verified against the tarball on use): it is
    // reused from the cache. An absent one is asked again (it may have been a poisoned or a
    // stale answer).
    assert!(c.attestations(&n, "1.0.0").unwrap().is_some());
    assert_eq!(c.attestations(&n, "2.0.0").unwrap(), None);
    assert_eq!(reg.hits("/-/npm/v1/attestations/@s%2fp@1.0.0"), 1);
    assert_eq!(reg.hits("/-/npm/v1/attestations/@s%2fp@2.0.0"), 2);
    assert!(c.keys().unwrap().starts_with(b"{\"keys\""));
}

#[derive(Default)]
struct Counting {
    total: AtomicU64,
    done: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Counting {
    fn start(&self, total: u64, _what: &str) {
        self.total.store(total, Ordering::SeqCst);
    }
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn fetch_many_is_concurrent_bounded_and_ordered() {
    let reg = TestRegistry::start();
    let mut requests = Vec::new();
    for i in 0..12 {
        let n = format!("pkg{i}");
        let tgz = package_tgz(&n, "1.0.0");
        reg.publish(&n, &[("1.0.0", &tgz)]);
        let path = tarball_path(&n, "1.0.0");
        let body = tgz.clone();
        reg.hook(&path, move |_, _| {
            Reply::ok(body.clone()).delayed(Duration::from_millis(100))
        });
        requests.push(TarballRequest {
            name: name(&n),
            version: "1.0.0".into(),
            resolved: None,
            integrity: Some(Integrity::sha512_of(&tgz)),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let progress = Arc::new(Counting::default());
    let c = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            concurrency: 4,
            ..options()
        },
    )
    .with_progress(progress.clone());
    let t = std::time::Instant::now();
    let results = c.tarballs(&requests);
    let elapsed = t.elapsed();
    assert_eq!(results.len(), 12);
    for (r, req) in results.iter().zip(&requests) {
        let bytes = r.as_ref().unwrap();
        assert!(req.integrity.as_ref().unwrap().verify(bytes).is_ok());
    }
    assert!(
        reg.max_in_flight() <= 4,
        "max in flight {}",
        reg.max_in_flight()
    );
    assert!(reg.max_in_flight() >= 2, "ran concurrently");
    // 12 × 100 ms sequentially; 4 at a time is ~300 ms.
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    assert_eq!(progress.total.load(Ordering::SeqCst), 12);
    assert_eq!(progress.done.load(Ordering::SeqCst), 12);
    assert_eq!(progress.finished.load(Ordering::SeqCst), 1);
}

#[test]
fn oversized_responses_are_cut_off() {
    let reg = TestRegistry::start();
    reg.set("/big", Reply::ok(vec![b' '; 4096]));
    let dir = tempfile::tempdir().unwrap();
    let c = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            max_document: 1024,
            ..options()
        },
    );
    assert!(matches!(
        c.packument(&name("big")),
        Err(RegistryError::TooLarge { limit: 1024, .. })
    ));
}

#[test]
fn requests_go_through_the_configured_proxy() {
    let proxy = TestRegistry::start();
    let tgz = package_tgz("demo", "1.0.0");
    // The registry host does not exist; only the proxy knows how to answer for it.
    let doc = support::packument("demo", "http://registry.proxied.test/", &[("1.0.0", &tgz)]);
    proxy.set("/demo", Reply::json(&doc));
    let dir = tempfile::tempdir().unwrap();
    let c = client_with(
        RegistryConfig::with_registry("http://registry.proxied.test/").unwrap(),
        dir.path(),
        ClientOptions {
            proxy: ProxySetting::Url(format!("http://{}", proxy.addr())),
            ..options()
        },
    );
    assert!(
        c.packument(&name("demo"))
            .unwrap()
            .versions
            .contains_key("1.0.0")
    );
    let reqs = proxy.requests();
    assert_eq!(reqs[0].method, "CONNECT");
    assert_eq!(reqs[0].path, "registry.proxied.test:80");
    assert_eq!(reqs[1].path, "/demo");

    assert!(matches!(
        Client::new(
            RegistryConfig::default(),
            Cache::new(dir.path()),
            ClientOptions {
                proxy: ProxySetting::Url("::not a proxy".into()),
                ..options()
            }
        ),
        Err(RegistryError::InvalidUrl { .. })
    ));
}

#[test]
fn poll_sends_the_etag_returns_304_and_reports_throttling_without_sleeping() {
    let reg = TestRegistry::start();
    let doc = support::packument("polled", &reg.url(), &[]);
    reg.hook("/polled", move |req, n| {
        match (req.header("if-none-match"), n) {
            (Some("\"v1\""), 0 | 1) => Reply::status(304),
            (_, 0 | 1) => Reply::json(&doc).header("etag", "\"v1\""),
            _ => Reply::status(429).header("retry-after", "120"),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    // Retries on: the poll must still not retry (the monitor backs off per package).
    let c = client_with(
        RegistryConfig::with_registry(&reg.url()).unwrap(),
        dir.path(),
        ClientOptions {
            retries: 3,
            ..options()
        },
    );
    let first = c.poll_packument(&name("polled"), None).unwrap();
    let turncoat_registry::Polled::Modified { bytes, etag } = first else {
        panic!("{first:?}")
    };
    assert!(bytes.starts_with(b"{"));
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        c.poll_packument(&name("polled"), Some("\"v1\"")).unwrap(),
        turncoat_registry::Polled::NotModified
    );
    match c.poll_packument(&name("polled"), Some("\"v1\"")).unwrap() {
        turncoat_registry::Polled::Throttled {
            status,
            retry_after,
            ..
        } => {
            assert_eq!(status, 429);
            assert_eq!(retry_after, Some(120));
        }
        other => panic!("{other:?}"),
    }
    // One request each: nothing retried, nothing answered from the memo.
    assert_eq!(reg.hits("/polled"), 3);
    let etags: Vec<Option<String>> = reg
        .requests()
        .iter()
        .map(|r| r.header("if-none-match").map(str::to_string))
        .collect();
    assert_eq!(etags, [None, Some("\"v1\"".into()), Some("\"v1\"".into())]);
}
