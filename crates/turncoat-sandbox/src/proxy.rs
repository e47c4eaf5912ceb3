//! The sandbox's HTTP proxy, served by the supervisor (host network namespace) on the listener
//! the sandbox init bound to its loopback 127.0.0.1:3128. It is the only way out of the
//! sandbox for TCP.
//!
//! Two request forms are accepted, both checked against the [`Allowlist`] by name and port:
//!
//! - `CONNECT host:port`: a byte tunnel (TLS stays end to end; nothing is intercepted).
//! - Absolute-form plain HTTP (`GET http://host:port/path`), how npm reaches an `http://`
//!   registry through a proxy: the head is rewritten to origin-form, `Proxy-*` and hop-by-hop
//!   headers are dropped, `Host` is set from the URL and `Connection: close` forced; the body
//!   and the response are then spliced as raw bytes until either side closes.
//!
//! Allowed names are resolved here with the host's resolver, and every address in a private,
//! loopback, link-local (cloud metadata), CGNAT, unspecified, multicast or reserved range is
//! refused (the DNS-rebinding guard) unless the allowlist names that IP literally, which is how
//! a test registry on 127.0.0.1 is reached. Anything else (origin-form requests, `https://`
//! absolute-form, garbage, a head over 64 KiB or with more than 100 headers, and request
//! smuggling shapes: duplicate `Host` or `Content-Length`, `Content-Length` with
//! `Transfer-Encoding`, folded header lines, bare LF or CR) gets 400.
//!
//! The request line and headers are parsed by `httparse`. Still ours: finding the end of the
//! head (CRLF CRLF only, within [`MAX_HEAD`]), the strictness httparse leaves to its caller
//! (bare LF line ends, duplicate framing headers), the two proxy target forms and the
//! authority (httparse does not parse URIs), and the origin-form rewrite.
//!
//! Events ([`EventKind::Proxy`], target `host:port`): a refusal is recorded when it happens
//! (verdict Deny, detail says why). An allowed request is recorded once, when its connection
//! closes, with verdict Allow and detail `CONNECT up=N down=M` or `GET http up=N down=M`:
//! `up` counts every byte written to the destination (for plain HTTP the rewritten head too),
//! `down` every byte relayed back. Allowed requests that fail to resolve or connect are
//! recorded at once with verdict Allow and the failure. Malformed requests are recorded with
//! target `(malformed)`; connections refused for capacity are not recorded.

use std::io::{self, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::allow::Allowlist;
use crate::event::{Event, EventKind, Recorder, Source, Verdict};

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most request headers accepted (npm sends about a dozen).
pub const MAX_HEADERS: usize = 100;
/// Connections served at once; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 256;

/// How often blocked reads wake up to check for shutdown and idleness.
const POLL: Duration = Duration::from_millis(25);
const ACCEPT_NAP: Duration = Duration::from_millis(20);
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Once the destination has closed, how long the client may keep its side open.
const HALF_CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How long shutdown waits for open connections to wind down.
const DRAIN: Duration = Duration::from_secs(5);
/// Addresses tried per resolved name.
const MAX_ADDRS: usize = 16;

/// Request headers never forwarded (hop-by-hop, or replaced by us).
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// The proxy served on the sandbox's 127.0.0.1:3128.
///
/// Stop it with [`Proxy::shutdown`]: the accept loop and every tunnel notice within about
/// 200 ms, and the serve thread waits (bounded) for the tunnels to record their final events.
pub struct Proxy {
    allow: Allowlist,
    recorder: Recorder,
    idle_timeout: Duration,
    stop: AtomicBool,
    active: AtomicUsize,
}

impl Proxy {
    /// A proxy allowing `allow`, recording to `recorder`.
    pub fn new(allow: Allowlist, recorder: Recorder) -> Self {
        Proxy {
            allow,
            recorder,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            stop: AtomicBool::new(false),
            active: AtomicUsize::new(0),
        }
    }

    /// Closes a tunnel after this long without a byte in either direction (default 120 s).
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Asks the accept loop and all tunnels to stop; join the serve handle to wait for them.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Serves proxy connections (a thread each, at most [`MAX_CONNECTIONS`]) on an
    /// already-listening socket until [`Proxy::shutdown`].
    pub fn serve(self: Arc<Self>, listener: TcpListener) -> JoinHandle<()> {
        thread::spawn(move || {
            // Non-blocking accept so the loop can notice shutdown.
            let _ = listener.set_nonblocking(true);
            while !self.stopping() {
                let client = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        thread::sleep(ACCEPT_NAP);
                        continue;
                    }
                };
                if self.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    self.active.fetch_sub(1, Ordering::SeqCst);
                    busy(client);
                    continue;
                }
                let me = Arc::clone(&self);
                let spawned = thread::Builder::new().spawn(move || {
                    let _slot = Slot(&me.active);
                    me.handle(client);
                });
                if spawned.is_err() {
                    // The closure (and its slot) never ran.
                    self.active.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let deadline = Instant::now() + DRAIN;
            while self.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
                thread::sleep(ACCEPT_NAP);
            }
        })
    }

    fn handle(&self, client: TcpStream) {
        let _ = client.set_nonblocking(false);
        let _ = client.set_read_timeout(Some(POLL));
        let _ = client.set_write_timeout(Some(WRITE_TIMEOUT));
        let (head, rest) = match read_head(&client, &self.stop) {
            Ok(Some(v)) => v,
            Ok(None) => return,
            Err(reason) => return self.bad_request(&client, reason),
        };
        let req = match parse_request(&head) {
            Ok(r) => r,
            Err(reason) => return self.bad_request(&client, reason),
        };
        let target = authority(&req.host, req.port);
        let label = match &req.path {
            None => "CONNECT".to_string(),
            Some(_) => format!("{} http", req.method),
        };
        let event = |verdict, detail: String| {
            Event::new(EventKind::Proxy, target.clone(), verdict, Source::Proxy).detail(detail)
        };

        if !self.allow.allows(&req.host, req.port) {
            self.recorder.record(event(
                Verdict::Deny,
                format!("{label}; not in the allowlist"),
            ));
            let msg = format!("{target} is not in the sandbox allowlist");
            return respond(&client, "403 Forbidden", &msg);
        }
        let addrs = match resolve(&req.host, req.port) {
            Ok(a) => a,
            Err(e) => {
                self.recorder.record(event(
                    Verdict::Allow,
                    format!("{label}; resolve failed: {e}"),
                ));
                return respond(
                    &client,
                    "502 Bad Gateway",
                    &format!("cannot resolve {target}"),
                );
            }
        };
        let (usable, blocked): (Vec<SocketAddr>, Vec<SocketAddr>) =
            addrs.into_iter().partition(|a| {
                !is_forbidden(a.ip()) || self.allow.is_explicit_literal(a.ip(), a.port())
            });
        if usable.is_empty() {
            let ip = blocked
                .first()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            self.recorder.record(event(
                Verdict::Deny,
                format!("{label}; resolves to {ip}, a private or reserved address"),
            ));
            let msg = format!("{target} resolves to {ip}, a private or reserved address");
            return respond(&client, "403 Forbidden", &msg);
        }
        let upstream = match connect_any(&usable) {
            Ok(s) => s,
            Err(e) => {
                self.recorder.record(event(
                    Verdict::Allow,
                    format!("{label}; connect failed: {e}"),
                ));
                return respond(
                    &client,
                    "502 Bad Gateway",
                    &format!("cannot connect to {target}"),
                );
            }
        };
        let _ = upstream.set_read_timeout(Some(POLL));
        let _ = upstream.set_write_timeout(Some(WRITE_TIMEOUT));

        let opened = match &req.path {
            None => (&client)
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .map(|()| Vec::new()),
            Some(path) => Ok(rewrite_head(&req, path).into_bytes()),
        };
        let (mut up, mut down) = (0u64, 0u64);
        if let Ok(mut first) = opened {
            first.extend_from_slice(&rest);
            if (&upstream).write_all(&first).is_ok() {
                let (u, d) = self.splice(&client, &upstream);
                (up, down) = (first.len() as u64 + u, d);
            }
        }
        self.recorder.record(event(
            Verdict::Allow,
            format!("{label} up={up} down={down}"),
        ));
    }

    fn bad_request(&self, client: &TcpStream, reason: &str) {
        self.recorder.record(
            Event::new(
                EventKind::Proxy,
                "(malformed)",
                Verdict::Deny,
                Source::Proxy,
            )
            .detail(format!("bad request: {reason}")),
        );
        respond(client, "400 Bad Request", reason);
    }

    /// Copies both directions until both have ended; returns bytes (client to destination,
    /// destination to client).
    fn splice(&self, client: &TcpStream, upstream: &TcpStream) -> (u64, u64) {
        let start = Instant::now();
        let activity = AtomicU64::new(0);
        let upstream_done = AtomicBool::new(false);
        let client_failed = AtomicBool::new(false);
        thread::scope(|s| {
            let up = thread::Builder::new().spawn_scoped(s, || {
                let (n, clean) = self.pump(
                    client,
                    upstream,
                    start,
                    &activity,
                    (&upstream_done, HALF_CLOSE_GRACE),
                );
                if !clean {
                    // The client is gone (reset): waiting for the destination is pointless.
                    client_failed.store(true, Ordering::SeqCst);
                }
                let _ = upstream.shutdown(Shutdown::Write);
                n
            });
            let (down, _) = self.pump(
                upstream,
                client,
                start,
                &activity,
                (&client_failed, Duration::ZERO),
            );
            let _ = client.shutdown(Shutdown::Write);
            upstream_done.store(true, Ordering::SeqCst);
            let up = match up {
                Ok(h) => h.join().unwrap_or(0),
                Err(_) => 0,
            };
            (up, down)
        })
    }

    /// Copies `src` to `dst` until EOF, an error, shutdown, the idle timeout, or `grace` after
    /// `peer_done` was set. Returns the bytes copied and whether `src` ended with a clean EOF.
    fn pump(
        &self,
        mut src: &TcpStream,
        mut dst: &TcpStream,
        start: Instant,
        activity: &AtomicU64,
        (peer_done, grace_period): (&AtomicBool, Duration),
    ) -> (u64, bool) {
        let mut buf = vec![0u8; 16 * 1024];
        let mut total = 0u64;
        let mut grace: Option<Instant> = None;
        loop {
            match src.read(&mut buf) {
                Ok(0) => return (total, true),
                Ok(n) => {
                    if dst.write_all(&buf[..n]).is_err() {
                        return (total, false);
                    }
                    total += n as u64;
                    activity.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
                }
                Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {
                    let idle_ms = (start.elapsed().as_millis() as u64)
                        .saturating_sub(activity.load(Ordering::Relaxed));
                    let past_grace = peer_done.load(Ordering::SeqCst)
                        && *grace.get_or_insert_with(|| Instant::now() + grace_period)
                            <= Instant::now();
                    if self.stopping()
                        || Duration::from_millis(idle_ms) >= self.idle_timeout
                        || past_grace
                    {
                        return (total, false);
                    }
                }
                Err(_) => return (total, false),
            }
        }
    }
}

/// Decrements the connection count when a connection thread ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Over capacity: a 503 written without blocking the accept loop, then close.
fn busy(client: TcpStream) {
    let _ = client.set_nonblocking(true);
    let _ = (&client).write_all(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
}

/// Writes a short plain-text error response and closes the connection.
fn respond(client: &TcpStream, status: &str, message: &str) {
    let body = format!("turncoat sandbox proxy: {message}\n");
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&*client).write_all(resp.as_bytes());
    let _ = client.shutdown(Shutdown::Write);
    // Read what the client still sends (bounded) so closing with unread data does not reset
    // the connection before the client has read the response.
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 4096];
    let mut drained = 0;
    while Instant::now() < deadline && drained < MAX_HEAD {
        match (&*client).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => drained += n,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// A request head (ending in CRLF CRLF) and the bytes the client sent after it.
type Head = (Vec<u8>, Vec<u8>);

/// Reads up to the end of the request head. `Ok(None)`: the client went away or stayed silent
/// without sending a byte.
fn read_head(mut client: &TcpStream, stop: &AtomicBool) -> Result<Option<Head>, &'static str> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        match client.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Ok(None),
            Ok(0) => return Err("connection closed inside the request head"),
            Ok(n) => {
                let from = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = find(&buf[from..], b"\r\n\r\n") {
                    let end = from + i + 4;
                    if end > MAX_HEAD {
                        return Err("request head over 64 KiB");
                    }
                    let rest = buf.split_off(end);
                    return Ok(Some((buf, rest)));
                }
                if buf.len() > MAX_HEAD {
                    return Err("request head over 64 KiB");
                }
            }
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {
                if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    return Err("timed out reading the request head");
                }
            }
            Err(_) => return Ok(None),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed proxy request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    method: String,
    /// Lowercase name without trailing dot, or an IP literal (IPv6 without brackets).
    host: String,
    port: u16,
    /// `None` for CONNECT; the origin-form path (with query) for plain HTTP.
    path: Option<String>,
    version: String,
    headers: Vec<(String, String)>,
}

/// The request line and headers, parsed by `httparse` (tokens, version, header syntax, the
/// header count), then held to what a proxy must not be lenient about: line endings, framing
/// headers that two parsers could read differently, and our own target forms.
fn parse_request(head: &[u8]) -> Result<Request, &'static str> {
    std::str::from_utf8(head).map_err(|_| "request head is not UTF-8")?;
    if head.contains(&0) {
        return Err("NUL byte in request head");
    }
    // httparse accepts a bare LF as a line end; the destination might not.
    let bare = |i: usize, &b: &u8| {
        (b == b'\n' && (i == 0 || head[i - 1] != b'\r'))
            || (b == b'\r' && head.get(i + 1) != Some(&b'\n'))
    };
    if head.iter().enumerate().any(|(i, b)| bare(i, b)) {
        return Err("bare CR or LF in request head");
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        Ok(_) => return Err("request head not terminated"),
        Err(e) => return Err(httparse_reason(e)),
    }
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err("malformed request line");
    };
    // Bounded: the method ends up in the event detail.
    if method.len() > 32 {
        return Err("malformed method");
    }
    let mut headers = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let value = std::str::from_utf8(h.value).map_err(|_| "request head is not UTF-8")?;
        headers.push((
            h.name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
    check_framing(&headers)?;
    let (authority_text, path, default_port) = if method == "CONNECT" {
        (target, None, None)
    } else if let Some(rest) = strip_prefix_ci(target, "http://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let mut path = rest[end..].split('#').next().unwrap_or("").to_string();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        (&rest[..end], Some(path), Some(80))
    } else if strip_prefix_ci(target, "https://").is_some() {
        return Err("https:// URLs must go through CONNECT");
    } else {
        return Err("not a proxy request (expected CONNECT or an absolute http:// URL)");
    };
    if authority_text.contains('@') {
        return Err("credentials in the request target");
    }
    let (host, port) = parse_authority(authority_text, default_port)?;
    Ok(Request {
        method: method.to_string(),
        host,
        port,
        path,
        version: format!("HTTP/1.{minor}"),
        headers,
    })
}

fn httparse_reason(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::Token => "malformed request line",
        httparse::Error::Version => "unsupported HTTP version",
        httparse::Error::HeaderName => "malformed header name (or a folded header line)",
        httparse::Error::HeaderValue => "malformed header value",
        httparse::Error::NewLine => "bare CR or LF in request head",
        httparse::Error::TooManyHeaders => "more than 100 request headers",
        httparse::Error::Status => "malformed request",
    }
}

/// Refuses heads whose message framing or host two HTTP parsers could disagree on (request
/// smuggling shapes): more than one `Host` or `Content-Length`, a non-numeric length, or a
/// `Content-Length` together with `Transfer-Encoding`.
fn check_framing(headers: &[(String, String)]) -> Result<(), &'static str> {
    let count = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    };
    if count("host") > 1 {
        return Err("duplicate Host header");
    }
    if count("content-length") > 1 {
        return Err("duplicate Content-Length header");
    }
    if count("content-length") == 1 && count("transfer-encoding") > 0 {
        return Err("both Content-Length and Transfer-Encoding");
    }
    let bad_length = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-length")
            && (v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()))
    });
    if bad_length {
        return Err("malformed Content-Length");
    }
    Ok(())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `host:port`, `[v6]:port`, or a host alone when `default_port` is given.
fn parse_authority(s: &str, default_port: Option<u16>) -> Result<(String, u16), &'static str> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or("unclosed '[' in host")?;
        let ip: Ipv6Addr = h.parse().map_err(|_| "malformed IPv6 literal")?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("malformed authority")?),
        };
        (ip.to_string(), port)
    } else {
        let (h, p) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if h.contains(':') {
            return Err("IPv6 literal without brackets");
        }
        let h = h.strip_suffix('.').unwrap_or(h);
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err("malformed host");
        }
        (h.to_ascii_lowercase(), p)
    };
    let port = match port {
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err("malformed port");
            }
            p.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or("malformed port")?
        }
        None => default_port.ok_or("CONNECT target needs a port")?,
    };
    Ok((host, port))
}

/// `host:port` with IPv6 in brackets.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The origin-form head sent to the destination.
fn rewrite_head(req: &Request, path: &str) -> String {
    let host_header = if req.port != 80 {
        authority(&req.host, req.port)
    } else if req.host.contains(':') {
        format!("[{}]", req.host)
    } else {
        req.host.clone()
    };
    // Headers the client marked hop-by-hop, except the body framing we splice through as is.
    let listed: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| {
            n.eq_ignore_ascii_case("connection") || n.eq_ignore_ascii_case("proxy-connection")
        })
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| t != "content-length" && t != "transfer-encoding")
        .collect();
    let mut out = format!(
        "{} {} {}\r\nHost: {host_header}\r\n",
        req.method, path, req.version
    );
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if DROPPED_HEADERS.contains(&lower.as_str())
            || lower.starts_with("proxy-")
            || listed.contains(&lower)
        {
            continue;
        }
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

/// The addresses to try for `host:port`: the literal itself, or the host resolver's answer.
fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.take(MAX_ADDRS).collect();
    if addrs.is_empty() {
        return Err(io::Error::other("no addresses"));
    }
    Ok(addrs)
}

fn connect_any(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last = io::Error::other("no address");
    for a in addrs {
        match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Addresses the proxy refuses after resolution unless allowlisted literally: unspecified,
/// "this network", loopback, RFC 1918 private, link-local (169.254.169.254 cloud metadata),
/// CGNAT 100.64/10, multicast, broadcast and reserved, documentation and benchmarking ranges;
/// IPv6 loopback, unique-local, link- and site-local, multicast, documentation; and IPv4
/// addresses embedded in IPv4-mapped, IPv4-compatible and NAT64 IPv6 addresses.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded =
                Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
            let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
            let compatible = s[..6] == [0; 6];
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
            if mapped || compatible || nat64 {
                return v6.is_loopback() || v6.is_unspecified() || forbidden_v4(embedded);
            }
            v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] & 0xfe00) == 0xfc00
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (o[0] == 100 && (o[1] & 0xC0) == 64)
        || ip.is_multicast()
        || o[0] >= 240
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xFE) == 18)
    // The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24) are not guarded:
    // they front no internal service, and some mirrored or air-gapped setups use them.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_ranges() {
        for a in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.170",
            "198.18.0.5",
            "::",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
        ] {
            assert!(is_forbidden(ip(a)), "{a} should be refused");
        }
        for a in [
            "104.16.0.1",
            "140.82.112.3",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::6810:1",
            "::ffff:104.16.0.1",
            "64:ff9b::8.8.8.8",
            "203.0.113.80",
            "2001:db8::1",
        ] {
            assert!(!is_forbidden(ip(a)), "{a} should be allowed");
        }
    }

    fn parse(head: &str) -> Result<Request, &'static str> {
        parse_request(head.as_bytes())
    }

    #[test]
    fn parses_connect() {
        let r = parse("CONNECT Registry.NPMJS.org.:443 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.host.as_str(), r.port),
            ("CONNECT", "registry.npmjs.org", 443)
        );
        assert_eq!(r.path, None);
        let r = parse("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", 8443));
        assert_eq!(authority(&r.host, r.port), "[::1]:8443");
        assert!(
            parse("CONNECT example.com HTTP/1.1\r\n\r\n").is_err(),
            "port required"
        );
        assert!(parse("CONNECT example.com:0 HTTP/1.1\r\n\r\n").is_err());
        assert!(parse("CONNECT example.com:99999 HTTP/1.1\r\n\r\n").is_err());
        assert!(parse("CONNECT ::1:443 HTTP/1.1\r\n\r\n").is_err());
        assert!(parse("CONNECT user@example.com:443 HTTP/1.1\r\n\r\n").is_err());
    }

    #[test]
    fn parses_absolute_form() {
        let r = parse("GET HTTP://Example.com:8080/a/b?c=d#frag HTTP/1.1\r\nAccept: */*\r\n\r\n")
            .unwrap();
        assert_eq!((r.host.as_str(), r.port), ("example.com", 8080));
        assert_eq!(r.path.as_deref(), Some("/a/b?c=d"));
        let r = parse("POST http://example.com?q HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!((r.port, r.path.as_deref()), (80, Some("/?q")));
        assert_eq!(r.headers, vec![]);
    }

    #[test]
    fn rejects_non_proxy_requests() {
        for head in [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET https://example.com/ HTTP/1.1\r\n\r\n",
            "GET http://u:p@example.com/ HTTP/1.1\r\n\r\n",
            "GET http://exa mple.com/ HTTP/1.1\r\n\r\n",
            "GET http://example.com/ HTTP/2.0\r\n\r\n",
            "GET  http://example.com/ HTTP/1.1\r\n\r\n",
            "G(T http://example.com/ HTTP/1.1\r\n\r\n",
            &format!("{} http://example.com/ HTTP/1.1\r\n\r\n", "M".repeat(33)),
            "GET http://example.com/ HTTP/1.1\r\nNoColon\r\n\r\n",
            "GET http://example.com/ HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            "GET http://example.com/ HTTP/1.1\r\nA: b\nEvil: c\r\n\r\n",
            "GET http://[::1/ HTTP/1.1\r\n\r\n",
            "\u{16}\u{3}\u{1}\r\n\r\n",
            "\r\n\r\n",
        ] {
            assert!(parse(head).is_err(), "{head:?} should be rejected");
        }
    }

    #[test]
    fn refuses_request_smuggling_shapes() {
        let url = "http://example.com/";
        for (head, why) in [
            (
                format!("GET {url} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
                "duplicate Host",
            ),
            (
                "CONNECT example.com:443 HTTP/1.1\r\nhost: a\r\nHOST: a\r\n\r\n".into(),
                "duplicate Host",
            ),
            (
                format!("GET {url} HTTP/1.1\r\nX: a\r\n b\r\n\r\n"),
                "folded",
            ),
            (
                format!("GET {url} HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"),
                "folded",
            ),
            (
                format!("GET {url} HTTP/1.1\nHost: a\r\n\r\n"),
                "bare CR or LF",
            ),
            (
                format!("POST {url} HTTP/1.1\r\nA: b\nContent-Length: 5\r\n\r\n"),
                "bare CR or LF",
            ),
            (
                format!("GET {url} HTTP/1.1\r\nA: b\rC: d\r\n\r\n"),
                "bare CR",
            ),
            (
                format!("POST {url} HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
                "duplicate Content-Length",
            ),
            (
                format!(
                    "POST {url} HTTP/1.1\r\nContent-Length: 5\r\n\
                     Transfer-Encoding: chunked\r\n\r\n"
                ),
                "both Content-Length and Transfer-Encoding",
            ),
            (
                format!("POST {url} HTTP/1.1\r\nContent-Length: +5\r\n\r\n"),
                "malformed Content-Length",
            ),
            (
                format!("POST {url} HTTP/1.1\r\nContent-Length : 5\r\n\r\n"),
                "header name",
            ),
        ] {
            let err = parse(&head).unwrap_err();
            assert!(err.contains(why), "{head:?}: {err}");
        }
        let headers = |n: usize| format!("GET {url} HTTP/1.1\r\n{}\r\n", "X-A: b\r\n".repeat(n));
        assert!(parse(&headers(MAX_HEADERS)).is_ok());
        assert_eq!(
            parse(&headers(MAX_HEADERS + 1)).unwrap_err(),
            "more than 100 request headers"
        );
    }

    #[test]
    fn a_head_over_the_limit_is_refused_before_its_end() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(POLL)).unwrap();
        // Many small headers, never terminated: the limit, not the terminator, ends the read.
        let line = format!("X-Pad: {}\r\n", "p".repeat(1000));
        let mut head = b"GET http://example.com/ HTTP/1.1\r\n".to_vec();
        while head.len() <= MAX_HEAD + 1024 {
            head.extend_from_slice(line.as_bytes());
        }
        let writer = thread::spawn(move || {
            let _ = c.write_all(&head);
            c
        });
        let stop = AtomicBool::new(false);
        assert_eq!(read_head(&s, &stop), Err("request head over 64 KiB"));
        drop(s);
        let _ = writer.join();
    }

    #[test]
    fn rewrites_to_origin_form() {
        let r = parse(
            "GET http://127.0.0.1:4873/pkg HTTP/1.1\r\nHost: evil.example\r\n\
             Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\n\
             Connection: keep-alive, X-Secret, Content-Length\r\nKeep-Alive: 5\r\n\
             X-Secret: s\r\nAccept: application/json\r\nContent-Length: 0\r\nTE: trailers\r\n\r\n",
        )
        .unwrap();
        let out = rewrite_head(&r, r.path.as_deref().unwrap());
        assert_eq!(
            out,
            "GET /pkg HTTP/1.1\r\nHost: 127.0.0.1:4873\r\nAccept: application/json\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let r = parse("GET http://[::1]/ HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(
            rewrite_head(&r, "/"),
            "GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n"
        );
    }
}
