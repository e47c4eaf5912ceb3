//! Publish-path drift judged end to end against a real HTTP registry on 127.0.0.1.
//!
//! Each test publishes packuments in the public npm schema (`versions`, `time`, `_npmUser`
//! with `trustedPublisher`, per-version `maintainers`, `dist.integrity` / `tarball` /
//! `signatures` / `attestations`), tarballs and Sigstore attestation bundles on the registry
//! test server, writes base and head `package-lock.json` v3 files whose `resolved` URLs point
//! at it, and runs [`turncoat_gate::diff`] with the built-in policy. Signatures and provenance
//! are made by the attest crate's test Sigstore (`testkit` feature) and verified against its
//! trust root, so "has provenance" means *verified* provenance, not a field in a document.
//!
//! Old and new tarballs carry the same files (only `version` differs), so code findings never
//! interfere with the publish-path findings under test.

#[path = "../../turncoat-registry/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Reply, TestRegistry, tarball_path};
use turncoat_attest::testkit::{Identity, Kit};
use turncoat_finding::Level;
use turncoat_gate::GateError;
use turncoat_report::{Report, Verdict};

/// 2026-11-27T00:00:00Z: every publish below is long past the cooldown.
const NOW: i64 = 1_795_737_600;

/// One version as the registry records it.
#[derive(Clone)]
struct Pub {
    version: &'static str,
    time: &'static str,
    /// `_npmUser.name` (ignored when `trusted` is set: OIDC publishes are "GitHub Actions").
    user: &'static str,
    maintainers: Vec<&'static str>,
    /// `_npmUser.trustedPublisher.oidcConfigId`.
    trusted: Option<&'static str>,
    /// SLSA provenance from this workflow identity (plus the registry's publish attestation).
    provenance: Option<Identity>,
    /// `dist.signatures`: by the registry key (default), none, or by another key id.
    sig: Sig,
}

#[derive(Clone, Copy)]
enum Sig {
    Registry,
    Stripped,
    Key(&'static str),
}

fn v(version: &'static str, time: &'static str, user: &'static str) -> Pub {
    Pub {
        version,
        time,
        user,
        maintainers: vec!["alice"],
        trusted: None,
        provenance: None,
        sig: Sig::Registry,
    }
}

impl Pub {
    fn prov(mut self) -> Pub {
        self.provenance = Some(Identity::default());
        self
    }

    fn trusted(mut self, oidc_config_id: &'static str) -> Pub {
        self.trusted = Some(oidc_config_id);
        self
    }

    fn maintainers(mut self, m: &[&'static str]) -> Pub {
        self.maintainers = m.to_vec();
        self
    }

    fn sig(mut self, sig: Sig) -> Pub {
        self.sig = sig;
        self
    }
}

/// What [`World::publish`] served.
struct Published {
    packument: Value,
    tarballs: BTreeMap<String, Vec<u8>>,
}

/// A test registry, its signing keys and a scratch directory for lockfiles and caches.
struct World {
    reg: TestRegistry,
    kit: Kit,
    tmp: tempfile::TempDir,
    runs: AtomicUsize,
}

impl World {
    fn new() -> World {
        World {
            reg: TestRegistry::start(),
            kit: Kit::new(),
            tmp: tempfile::tempdir().unwrap(),
            runs: AtomicUsize::new(0),
        }
    }

    fn tarball_url(&self, name: &str, version: &str) -> String {
        format!(
            "{}{}",
            self.reg.url(),
            tarball_path(name, version).trim_start_matches('/')
        )
    }

    /// The same files for every version; only package.json's `version` differs.
    fn tarball(name: &str, version: &str) -> Vec<u8> {
        let pj = serde_json::to_string_pretty(&json!({
            "name": name,
            "version": version,
            "description": "Pads strings",
            "main": "index.js",
            "license": "MIT",
        }))
        .unwrap();
        turncoat_gate::scenario::pack(&[
            ("README.md".to_string(), b"# pad\n\nPads strings.\n".to_vec()),
            (
                "index.js".to_string(),
                b"'use strict';\nmodule.exports = function pad(s, n) {\n  return String(s).padStart(n);\n};\n".to_vec(),
            ),
            ("package.json".to_string(), pj.into_bytes()),
        ])
        .unwrap()
    }

    fn person(name: &str) -> Value {
        json!({"name": name, "email": format!("{name}@example.com")})
    }

    /// Serve `name`: packument (full document, public schema), tarballs, attestations.
    fn publish(&self, name: &str, versions: &[Pub]) -> Published {
        let mut vs = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        let mut tarballs = BTreeMap::new();
        for p in versions {
            let tgz = World::tarball(name, p.version);
            let integrity = turncoat_npm::Integrity::sha512_of(&tgz).to_string();
            let signed = turncoat_attest::signed_message(name, p.version, &integrity);
            let mut dist = json!({
                "integrity": integrity,
                "shasum": sha1_hex(&tgz),
                "tarball": self.tarball_url(name, p.version),
                "fileCount": 3,
                "unpackedSize": 512,
            });
            match p.sig {
                Sig::Registry => {
                    dist["signatures"] =
                        json!([{"keyid": Kit::NPM_KEYID, "sig": self.kit.npm_sign(&signed)}]);
                }
                Sig::Stripped => {}
                // Validly made with the test key, but under a key id nobody published.
                Sig::Key(keyid) => {
                    dist["signatures"] =
                        json!([{"keyid": keyid, "sig": self.kit.npm_sign(&signed)}]);
                }
            }
            if let Some(id) = &p.provenance {
                let path = format!("/-/npm/v1/attestations/{name}@{}", p.version);
                dist["attestations"] = json!({
                    "url": format!("{}{}", self.reg.url(), path.trim_start_matches('/')),
                    "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
                });
                let doc = self.kit.attestations(name, p.version, &integrity, id);
                self.reg.set(&path, Reply::json(&doc));
            }
            let npm_user = match p.trusted {
                Some(cfg) => json!({
                    "name": "GitHub Actions",
                    "email": "npm-oidc-no-reply@github.com",
                    "trustedPublisher": {"id": "github", "oidcConfigId": cfg},
                }),
                None => World::person(p.user),
            };
            vs.insert(
                p.version.to_string(),
                json!({
                    "name": name,
                    "version": p.version,
                    "description": "Pads strings",
                    "main": "index.js",
                    "license": "MIT",
                    "_id": format!("{name}@{}", p.version),
                    "_npmVersion": "10.9.2",
                    "_nodeVersion": "22.14.0",
                    "_npmUser": npm_user,
                    "maintainers": p.maintainers.iter().map(|m| World::person(m)).collect::<Vec<_>>(),
                    "dist": dist,
                    "_hasShrinkwrap": false,
                }),
            );
            time.insert(p.version.to_string(), json!(p.time));
            self.reg
                .set(&tarball_path(name, p.version), Reply::ok(tgz.clone()));
            tarballs.insert(p.version.to_string(), tgz);
        }
        let mut times: Vec<&str> = versions.iter().map(|p| p.time).collect();
        times.sort_unstable();
        time.insert(
            "created".into(),
            json!(times.first().copied().unwrap_or_default()),
        );
        time.insert(
            "modified".into(),
            json!(times.last().copied().unwrap_or_default()),
        );
        let latest = versions.last().map(|p| p.version).unwrap_or("0.0.0");
        let current = versions
            .last()
            .map(|p| p.maintainers.clone())
            .unwrap_or_default();
        let packument = json!({
            "_id": name,
            "_rev": "7-0123456789abcdef",
            "name": name,
            "description": "Pads strings",
            "dist-tags": {"latest": latest},
            "versions": vs,
            "time": time,
            "maintainers": current.iter().map(|m| World::person(m)).collect::<Vec<_>>(),
            "license": "MIT",
            "readme": "# pad",
        });
        self.reg.set(&format!("/{name}"), Reply::json(&packument));
        Published {
            packument,
            tarballs,
        }
    }

    /// A package-lock.json v3 locking `pins` (name, version, integrity override) with
    /// `resolved` URLs on the test server and, unless overridden, the registry's integrity.
    fn lock(&self, label: &str, pins: &[(&str, &str, Option<&str>)]) -> PathBuf {
        let mut packages = serde_json::Map::new();
        let deps: BTreeMap<&str, &str> = pins.iter().map(|(n, v, _)| (*n, *v)).collect();
        packages.insert(
            String::new(),
            json!({"name": "app", "version": "1.0.0", "dependencies": deps}),
        );
        for (name, version, integrity) in pins {
            let integrity = match integrity {
                Some(i) => i.to_string(),
                None => {
                    turncoat_npm::Integrity::sha512_of(&World::tarball(name, version)).to_string()
                }
            };
            packages.insert(
                format!("node_modules/{name}"),
                json!({
                    "version": version,
                    "resolved": self.tarball_url(name, version),
                    "integrity": integrity,
                    "license": "MIT",
                }),
            );
        }
        let doc = json!({
            "name": "app",
            "version": "1.0.0",
            "lockfileVersion": 3,
            "requires": true,
            "packages": packages,
        });
        let dir = self.tmp.path().join(label);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("package-lock.json");
        std::fs::write(
            &path,
            format!("{}\n", serde_json::to_string_pretty(&doc).unwrap()),
        )
        .unwrap();
        path
    }

    /// Run the gate with a client for the test registry and a fresh cache.
    fn gate(&self, base: &Path, head: &Path) -> Result<Report, Box<GateError>> {
        let base = turncoat_lockfile::read(base).expect("base lockfile parses");
        let head = turncoat_lockfile::read(head).expect("head lockfile parses");
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        let cache = turncoat_registry::Cache::new(self.tmp.path().join(format!("cache-{run}")));
        let config = turncoat_registry::RegistryConfig::with_registry(&self.reg.url()).unwrap();
        let options = turncoat_registry::ClientOptions {
            retry_backoff: Duration::from_millis(10),
            proxy: turncoat_registry::ProxySetting::None,
            ..Default::default()
        };
        let client = turncoat_registry::Client::new(config, cache, options).unwrap();
        let policy = turncoat_policy::Policy::builtin(&turncoat_gate::all_rules());
        let keys = self.kit.npm_keys(None);
        let root = self.kit.trust_root();
        let ctx = turncoat_gate::GateContext {
            client: &client,
            policy: &policy,
            now_unix: NOW,
            keys: &keys,
            trust_root: &root,
            progress: &turncoat_registry::NoProgress,
            jobs: 1,
            detonator: None,
        };
        turncoat_gate::diff(&base, &head, &ctx).map_err(Box::new)
    }

    /// Gate the update of one package from `from` to `to`.
    fn update(&self, name: &str, from: &str, to: &str) -> Report {
        let base = self.lock(&format!("{name}-{from}"), &[(name, from, None)]);
        let head = self.lock(&format!("{name}-{to}"), &[(name, to, None)]);
        self.gate(&base, &head)
            .unwrap_or_else(|e| panic!("gate failed on {name} {from} → {to}: {e}"))
    }
}

fn sha1_hex(bytes: &[u8]) -> String {
    let mut c = turncoat_npm::IntegrityChecker::new(turncoat_npm::Algorithm::Sha1);
    c.update(bytes);
    c.result().hex()
}

/// The verdict for `name` and the codes of its findings the policy did not allow.
fn judged(report: &Report, name: &str) -> (Verdict, Vec<String>) {
    let p = report
        .packages
        .iter()
        .find(|p| p.name == name && p.to.is_some())
        .unwrap_or_else(|| panic!("{name} is not in the report"));
    let codes = p
        .findings
        .iter()
        .filter(|f| f.level != Level::Allow && f.excepted.is_none())
        .map(|f| f.code.clone())
        .collect();
    (p.verdict, codes)
}

/// Every code reported for `name`, allowed ones included.
fn all_codes(report: &Report, name: &str) -> Vec<String> {
    report
        .packages
        .iter()
        .filter(|p| p.name == name)
        .flat_map(|p| p.findings.iter().map(|f| f.code.clone()))
        .collect()
}

#[test]
fn provenance_lost_blocks_and_the_usual_ci_release_passes() {
    let w = World::new();
    w.publish(
        "pad-line",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice").prov(),
            // Published from the same repository and workflow by an account that never
            // published before, with a maintainer added: the usual CI path explains both.
            v("1.0.1", "2025-04-01T10:00:00.000Z", "release-bot")
                .prov()
                .maintainers(&["alice", "release-bot"]),
            // A token publish from somewhere else: no provenance.
            v("1.0.2", "2025-05-01T10:00:00.000Z", "alice").maintainers(&["alice", "release-bot"]),
        ],
    );

    let report = w.update("pad-line", "1.0.1", "1.0.2");
    assert_eq!(
        judged(&report, "pad-line"),
        (Verdict::Block, vec!["provenance-lost".to_string()])
    );
    let lost = report.packages[0]
        .findings
        .iter()
        .find(|f| f.code == "provenance-lost")
        .unwrap();
    assert!(
        lost.message.contains("including 1.0.1 which it replaces"),
        "{}",
        lost.message
    );

    let report = w.update("pad-line", "1.0.0", "1.0.1");
    assert_eq!(judged(&report, "pad-line"), (Verdict::Pass, vec![]));
    // Quiet because both provenances were fetched and verified, not because fields matched.
    for version in ["1.0.0", "1.0.1"] {
        assert!(
            w.reg
                .hits(&format!("/-/npm/v1/attestations/pad-line@{version}"))
                >= 1,
            "{version}"
        );
    }
    let codes = all_codes(&report, "pad-line");
    for quiet in [
        "publisher-changed",
        "maintainer-added",
        "provenance-source-changed",
        "invalid-provenance",
    ] {
        assert!(
            !codes.iter().any(|c| c == quiet),
            "{quiet} reported for the usual CI release: {codes:?}"
        );
    }
}

#[test]
fn provenance_from_another_repository_is_not_the_usual_path() {
    // Control for the test above: the same release-bot publish with provenance from a fork
    // is judged on its people again.
    let w = World::new();
    let fork = Identity {
        repo: "https://github.com/mallory/widget".into(),
        repo_id: "6666".into(),
        owner_id: "7777".into(),
        ..Identity::default()
    };
    let mut forked = v("1.0.1", "2025-04-01T10:00:00.000Z", "release-bot")
        .maintainers(&["alice", "release-bot"]);
    forked.provenance = Some(fork);
    w.publish(
        "pad-fork",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice").prov(),
            forked,
        ],
    );
    let report = w.update("pad-fork", "1.0.0", "1.0.1");
    let (verdict, codes) = judged(&report, "pad-fork");
    assert_eq!(verdict, Verdict::Block, "{codes:?}");
    for expected in [
        "provenance-source-changed",
        "publisher-changed",
        "maintainer-added",
    ] {
        assert!(
            codes.iter().any(|c| c == expected),
            "{expected} missing: {codes:?}"
        );
    }
}

#[test]
fn a_first_time_publisher_warns() {
    let w = World::new();
    let team = ["alice", "mallory"];
    w.publish(
        "pad-team",
        &[
            v("2.0.0", "2025-03-01T10:00:00.000Z", "alice").maintainers(&team),
            v("2.0.1", "2025-04-01T10:00:00.000Z", "alice").maintainers(&team),
            v("2.0.2", "2025-05-01T10:00:00.000Z", "mallory").maintainers(&team),
            // mallory again: no longer a first-time publisher.
            v("2.0.3", "2025-06-01T10:00:00.000Z", "mallory").maintainers(&team),
        ],
    );
    let report = w.update("pad-team", "2.0.1", "2.0.2");
    assert_eq!(
        judged(&report, "pad-team"),
        (Verdict::Warn, vec!["publisher-changed".to_string()])
    );
    let report = w.update("pad-team", "2.0.2", "2.0.3");
    assert_eq!(judged(&report, "pad-team"), (Verdict::Pass, vec![]));
}

#[test]
fn a_token_publish_after_trusted_publishing_blocks() {
    let w = World::new();
    let oidc = "oidc:4d2f7a8e-0c1b-4a57-9d55-5c6f0f2b7e11";
    w.publish(
        "pad-oidc",
        &[
            v("3.0.0", "2025-03-01T10:00:00.000Z", "alice").trusted(oidc),
            v("3.0.1", "2025-04-01T10:00:00.000Z", "alice").trusted(oidc),
            v("3.0.2", "2025-05-01T10:00:00.000Z", "alice"),
        ],
    );
    let report = w.update("pad-oidc", "3.0.1", "3.0.2");
    // alice never published the package by hand before: a publisher change too.
    assert_eq!(
        judged(&report, "pad-oidc"),
        (
            Verdict::Block,
            vec![
                "trusted-publishing-lost".to_string(),
                "publisher-changed".to_string()
            ]
        )
    );
    // Moving to trusted publishing is an upgrade, not drift.
    let report = w.update("pad-oidc", "3.0.0", "3.0.1");
    assert_eq!(judged(&report, "pad-oidc"), (Verdict::Pass, vec![]));
}

#[test]
fn a_new_maintainer_warns() {
    let w = World::new();
    w.publish(
        "pad-maint",
        &[
            v("1.4.0", "2025-03-01T10:00:00.000Z", "alice"),
            v("1.4.1", "2025-04-01T10:00:00.000Z", "alice").maintainers(&["alice", "eve"]),
        ],
    );
    let report = w.update("pad-maint", "1.4.0", "1.4.1");
    assert_eq!(
        judged(&report, "pad-maint"),
        (Verdict::Warn, vec!["maintainer-added".to_string()])
    );
    let added = report.packages[0]
        .findings
        .iter()
        .find(|f| f.code == "maintainer-added")
        .unwrap();
    assert!(added.message.contains("eve"), "{}", added.message);
}

#[test]
fn a_backport_after_the_next_major_gained_provenance_is_not_provenance_lost() {
    // The pnpm trap: 4.x moved to CI with provenance, 3.x backports are still published by
    // hand. Judged by release line, 3.0.1 lost nothing; by calendar it would look like it.
    let w = World::new();
    w.publish(
        "pad-lts",
        &[
            v("3.0.0", "2025-01-10T10:00:00.000Z", "alice"),
            v("4.0.0", "2025-03-01T10:00:00.000Z", "alice").prov(),
            v("4.0.1", "2025-04-01T10:00:00.000Z", "alice").prov(),
            v("3.0.1", "2025-05-01T10:00:00.000Z", "alice"),
            v("4.0.2", "2025-06-01T10:00:00.000Z", "alice"),
        ],
    );
    let report = w.update("pad-lts", "3.0.0", "3.0.1");
    assert_eq!(judged(&report, "pad-lts"), (Verdict::Pass, vec![]));
    assert!(
        !all_codes(&report, "pad-lts")
            .iter()
            .any(|c| c == "provenance-lost")
    );
    // The same world does flag the 4.x line losing provenance.
    let report = w.update("pad-lts", "4.0.1", "4.0.2");
    assert_eq!(
        judged(&report, "pad-lts"),
        (Verdict::Block, vec!["provenance-lost".to_string()])
    );
}

#[test]
fn a_lockfile_integrity_the_registry_does_not_list_blocks() {
    let w = World::new();
    w.publish(
        "pad-pin",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice"),
            v("1.0.1", "2025-04-01T10:00:00.000Z", "alice"),
        ],
    );
    let forged = turncoat_npm::Integrity::sha512_of(b"some other tarball").to_string();
    let base = w.lock("pin-base", &[("pad-pin", "1.0.0", None)]);
    let head = w.lock("pin-head", &[("pad-pin", "1.0.1", Some(&forged))]);
    let report = w.gate(&base, &head).unwrap();
    assert_eq!(
        judged(&report, "pad-pin"),
        (Verdict::Block, vec!["integrity-mismatch".to_string()])
    );
}

#[test]
fn a_swapped_tarball_for_the_same_version_blocks_and_says_which_side_matches() {
    let w = World::new();
    w.publish(
        "pad-inject",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice"),
            v("1.0.1", "2025-04-01T10:00:00.000Z", "alice"),
        ],
    );
    let swapped = turncoat_npm::Integrity::sha512_of(b"the attacker's tarball").to_string();
    let good = w.lock("inject-base", &[("pad-inject", "1.0.1", None)]);
    let bad = w.lock("inject-head", &[("pad-inject", "1.0.1", Some(&swapped))]);
    // The "lockfile injection" shape: same version, another tarball hash.
    let report = w.gate(&good, &bad).unwrap();
    assert_eq!(
        judged(&report, "pad-inject"),
        (
            Verdict::Block,
            vec!["lockfile-integrity-changed".to_string()]
        )
    );
    let f = &report.packages[0].findings[0];
    assert!(
        f.message.contains("base lockfile's integrity matches")
            && f.message.contains("head lockfile's does not"),
        "{}",
        f.message
    );
    // The reverse (a wrong pin replaced by the registry's) is reported too, never silent.
    let report = w.gate(&bad, &good).unwrap();
    assert_eq!(
        judged(&report, "pad-inject"),
        (
            Verdict::Block,
            vec!["lockfile-integrity-changed".to_string()]
        )
    );
    let f = &report.packages[0].findings[0];
    assert!(
        f.message.contains("head lockfile's integrity matches"),
        "{}",
        f.message
    );
}

#[test]
fn a_signature_downgrade_blocks() {
    let w = World::new();
    w.publish(
        "pad-sig",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice"),
            v("1.0.1", "2025-04-01T10:00:00.000Z", "alice"),
            v("1.0.2", "2025-05-01T10:00:00.000Z", "alice").sig(Sig::Stripped),
            v("1.0.3", "2025-06-01T10:00:00.000Z", "alice").sig(Sig::Key("SHA256:forged")),
        ],
    );
    let report = w.update("pad-sig", "1.0.1", "1.0.2");
    assert_eq!(
        judged(&report, "pad-sig"),
        (Verdict::Block, vec!["signature-missing".to_string()])
    );
    let report = w.update("pad-sig", "1.0.1", "1.0.3");
    assert_eq!(
        judged(&report, "pad-sig"),
        (Verdict::Block, vec!["signature-unknown-key".to_string()])
    );
    // The signed history itself passes.
    let report = w.update("pad-sig", "1.0.0", "1.0.1");
    assert_eq!(judged(&report, "pad-sig"), (Verdict::Pass, vec![]));
}

#[test]
fn a_registry_that_never_signs_is_not_a_downgrade() {
    let w = World::new();
    w.publish(
        "pad-mirror",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice").sig(Sig::Stripped),
            v("1.0.1", "2025-04-01T10:00:00.000Z", "alice").sig(Sig::Stripped),
        ],
    );
    let report = w.update("pad-mirror", "1.0.0", "1.0.1");
    assert_eq!(judged(&report, "pad-mirror"), (Verdict::Pass, vec![]));
}

#[test]
fn provenance_for_another_tarball_is_invalid_not_absent() {
    let w = World::new();
    w.publish(
        "pad-forged",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice").prov(),
            v("1.0.1", "2025-04-01T10:00:00.000Z", "alice").prov(),
        ],
    );
    // A mirror serves attestations that are validly signed but describe other bytes.
    let other = turncoat_npm::Integrity::sha512_of(b"a different tarball").to_string();
    let doc = w
        .kit
        .attestations("pad-forged", "1.0.1", &other, &Identity::default());
    w.reg
        .set("/-/npm/v1/attestations/pad-forged@1.0.1", Reply::json(&doc));
    let report = w.update("pad-forged", "1.0.0", "1.0.1");
    assert_eq!(
        judged(&report, "pad-forged"),
        (Verdict::Block, vec!["invalid-provenance".to_string()])
    );
}

#[test]
fn a_locked_version_the_registry_does_not_serve_fails_closed() {
    let w = World::new();
    // 1.0.1 was unpublished: the packument no longer lists it and its tarball is gone.
    w.publish(
        "pad-gone",
        &[v("1.0.0", "2025-03-01T10:00:00.000Z", "alice")],
    );
    let base = w.lock("gone-base", &[("pad-gone", "1.0.0", None)]);
    let head = w.lock("gone-head", &[("pad-gone", "1.0.1", None)]);
    match w.gate(&base, &head).map_err(|e| *e) {
        Err(e @ GateError::VersionMissing { .. }) => {
            assert!(e.to_string().contains("pad-gone@1.0.1"), "{e}");
        }
        other => panic!(
            "expected VersionMissing, got {:?}",
            other.map(|r| r.summary)
        ),
    }

    // A package the registry does not know at all (404 on the packument).
    let head = w.lock(
        "unknown-head",
        &[("pad-gone", "1.0.0", None), ("pad-nowhere", "1.0.0", None)],
    );
    match w.gate(&base, &head).map_err(|e| *e) {
        Err(e @ GateError::Registry { .. }) => {
            assert!(e.to_string().contains("pad-nowhere@1.0.0"), "{e}")
        }
        other => panic!(
            "expected a registry error, got {:?}",
            other.map(|r| r.summary)
        ),
    }
    assert!(w.reg.hits("/pad-nowhere") >= 1);
}

#[test]
fn transient_server_errors_are_retried_and_the_update_is_still_judged() {
    let w = World::new();
    let published = w.publish(
        "pad-flaky",
        &[
            v("1.0.0", "2025-03-01T10:00:00.000Z", "alice"),
            v("1.0.1", "2025-04-01T10:00:00.000Z", "alice"),
        ],
    );
    let doc = published.packument.clone();
    w.reg.hook("/pad-flaky", move |_, earlier| {
        if earlier == 0 {
            Reply::status(500).body("upstream timeout")
        } else {
            Reply::json(&doc)
        }
    });
    let tgz = published.tarballs["1.0.1"].clone();
    let tarball = tarball_path("pad-flaky", "1.0.1");
    w.reg.hook(&tarball, move |_, earlier| {
        if earlier == 0 {
            Reply::status(503)
        } else {
            Reply::ok(tgz.clone())
        }
    });
    let report = w.update("pad-flaky", "1.0.0", "1.0.1");
    assert_eq!(judged(&report, "pad-flaky"), (Verdict::Pass, vec![]));
    assert_eq!(
        w.reg.hits("/pad-flaky"),
        2,
        "one 500, one success; then the parsed packument is reused"
    );
    assert_eq!(w.reg.hits(&tarball), 2, "one 503, one success");
}
