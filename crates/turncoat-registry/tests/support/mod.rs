//! A real HTTP/1.1 server on 127.0.0.1 for registry tests, with fault injection.
//!
//! `TestRegistry::start()` serves a map of path → [`Reply`] (exact request target, e.g.
//! `/@scope%2fname`); [`TestRegistry::hook`] installs a closure for a path that sees the request
//! and how many times that path was hit before, and picks the reply (status codes, delays,
//! truncated bodies, 304s, redirects). Every request is logged with its headers, and the
//! number of requests in flight at once is tracked. One request per connection
//! (`Connection: close`), one thread per connection; the server stops when dropped. It also
//! acts as an HTTP `CONNECT` proxy that answers tunnelled requests itself, for proxy tests.
//!
//! Fixture helpers build gzip tarballs and packuments whose `dist` points back at the server.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sleep before answering.
    pub delay: Duration,
    /// Send only this many body bytes (Content-Length still announces all of them), then close.
    pub truncate_at: Option<usize>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200).body(body)
    }

    pub fn json(v: &Value) -> Reply {
        Reply::ok(serde_json::to_vec(v).unwrap()).header("content-type", "application/json")
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            truncate_at: None,
        }
    }

    pub fn redirect(location: &str) -> Reply {
        Reply::status(302).header("location", location)
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn truncated(mut self, at: usize) -> Reply {
        self.truncate_at = Some(at);
        self
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/lodash`, `/@s%2fp`, or absolute-form through a proxy).
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Hook = Arc<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Reply>>,
    hooks: Mutex<HashMap<String, Hook>>,
    log: Mutex<Vec<Request>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub struct TestRegistry {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl TestRegistry {
    pub fn start() -> TestRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || serve(conn, &state));
                }
            })
        };
        TestRegistry {
            addr,
            state,
            stop,
            handle: Some(handle),
        }
    }

    /// Base URL with a trailing slash: `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), reply);
    }

    /// Decide the reply for `path` per request; the second argument counts earlier hits.
    pub fn hook(&self, path: &str, f: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) {
        self.state
            .hooks
            .lock()
            .unwrap()
            .insert(path.to_string(), Arc::new(f));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Serve `name` with `versions` (version, tarball): packument at `/<escaped name>`, version
    /// documents at `/<escaped name>/<version>`, tarballs at `/<name>/-/<basename>-<v>.tgz`.
    /// Returns the packument.
    pub fn publish(&self, name: &str, versions: &[(&str, &[u8])]) -> Value {
        let doc = packument(name, &self.url(), versions);
        let escaped = name.replacen('/', "%2f", 1);
        self.set(&format!("/{escaped}"), Reply::json(&doc));
        for (v, tgz) in versions {
            self.set(
                &format!("/{escaped}/{v}"),
                Reply::json(&doc["versions"][*v]),
            );
            self.set(&tarball_path(name, v), Reply::ok(tgz.to_vec()));
        }
        doc
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(conn: TcpStream, state: &State) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&conn);
    let Some(req) = read_head(&mut reader) else {
        return;
    };
    // Acting as an HTTP proxy: accept the tunnel, then answer the tunnelled request ourselves
    // (the target host needs no DNS). Both requests are logged.
    let req = if req.method == "CONNECT" {
        state.log.lock().unwrap().push(req);
        let mut c = &conn;
        let _ = c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        match read_head(&mut reader) {
            Some(r) => r,
            None => return,
        }
    } else {
        req
    };
    respond(&conn, state, req);
}

fn read_head(reader: &mut BufReader<&TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Some(Request {
        method,
        path,
        headers,
    })
}

fn respond(conn: &TcpStream, state: &State, req: Request) {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let earlier = {
        let mut log = state.log.lock().unwrap();
        let n = log.iter().filter(|r| r.path == req.path).count();
        log.push(req.clone());
        n
    };
    let hook = state.hooks.lock().unwrap().get(&req.path).cloned();
    let reply = match hook {
        Some(h) => h(&req, earlier),
        None => state
            .routes
            .lock()
            .unwrap()
            .get(&req.path)
            .cloned()
            .unwrap_or_else(|| Reply::status(404).body("not found")),
    };
    std::thread::sleep(reply.delay);
    let mut out = Vec::new();
    let _ = write!(out, "HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    if reply.status != 304 {
        let _ = write!(out, "content-length: {}\r\n", reply.body.len());
    }
    let _ = write!(out, "connection: close\r\n\r\n");
    let body = match reply.truncate_at {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    if reply.status != 304 {
        out.extend_from_slice(body);
    }
    // Done before the reply leaves: once the client has read it, it may send its next request
    // before this thread gets to run again, and counting this one still in flight then would
    // report one more than the client ever had.
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut conn = conn;
    let _ = conn.write_all(&out);
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// `/<name>/-/<basename>-<version>.tgz`
pub fn tarball_path(name: &str, version: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    format!("/{name}/-/{base}-{version}.tgz")
}

/// A gzip tarball with `package/<path>` entries.
pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("package/{path}"), *data)
            .unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&tar).unwrap();
    e.finish().unwrap()
}

/// A small tarball for `name@version`.
pub fn package_tgz(name: &str, version: &str) -> Vec<u8> {
    let pj = format!(r#"{{"name":"{name}","version":"{version}"}}"#);
    tgz(&[
        ("package.json", pj.as_bytes()),
        ("index.js", b"module.exports = 1;\n"),
    ])
}

/// A full packument whose tarball URLs point at `base` (ends in `/`).
pub fn packument(name: &str, base: &str, versions: &[(&str, &[u8])]) -> Value {
    let mut vs = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    time.insert("created".into(), json!("2020-01-01T00:00:00.000Z"));
    for (i, (v, tgz)) in versions.iter().enumerate() {
        let integrity = turncoat_npm::Integrity::sha512_of(tgz).to_string();
        vs.insert(
            v.to_string(),
            json!({
                "name": name,
                "version": v,
                "_npmUser": {"name": "alice", "email": "alice@example.com"},
                "dist": {
                    "tarball": format!("{base}{}", tarball_path(name, v).trim_start_matches('/')),
                    "integrity": integrity,
                }
            }),
        );
        time.insert(
            v.to_string(),
            json!(format!("2020-01-{:02}T00:00:00.000Z", i + 2)),
        );
    }
    let latest = versions.last().map(|(v, _)| *v).unwrap_or("0.0.0");
    json!({
        "name": name,
        "dist-tags": {"latest": latest},
        "versions": vs,
        "time": time,
        "maintainers": [{"name": "alice", "email": "alice@example.com"}],
    })
}
