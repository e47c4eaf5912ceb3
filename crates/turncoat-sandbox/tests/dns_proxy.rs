//! The resolver and the proxy on real sockets, all on 127.0.0.1 listeners these tests start.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use turncoat_sandbox::allow::Allowlist;
use turncoat_sandbox::dns::{self, Resolver, Transport};
use turncoat_sandbox::event::{Event, EventKind, Recorder, Verdict};
use turncoat_sandbox::proxy::Proxy;

const LOCAL: &str = "127.0.0.1:0";

fn allow(entries: &[&str]) -> Allowlist {
    Allowlist::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

/// Polls the recorder until an event satisfies `pred`.
fn wait_event(rec: &Recorder, pred: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(e) = rec.events().into_iter().find(|e| pred(e)) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "no matching event in {:#?}",
            rec.events()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- DNS

fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::new();
    for w in [id, 0x0100, 1, 0, 0, 0] {
        m.extend_from_slice(&w.to_be_bytes());
    }
    for label in name.split('.').filter(|l| !l.is_empty()) {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m
}

fn word(m: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([m[at], m[at + 1]])
}

fn rcode(m: &[u8]) -> u16 {
    word(m, 2) & 0xf
}

/// End of the (uncompressed) first question.
fn question_end(m: &[u8]) -> usize {
    let mut p = 12;
    while m[p] != 0 {
        p += 1 + m[p] as usize;
    }
    p + 5
}

/// An answer to `q` with one A record 10.1.2.3; `truncated` sets TC and omits the record.
fn fake_answer(q: &[u8], truncated: bool) -> Vec<u8> {
    let end = question_end(q);
    let flags: u16 = if truncated { 0x8380 } else { 0x8180 };
    let mut a = Vec::new();
    for w in [word(q, 0), flags, 1, u16::from(!truncated), 0, 0] {
        a.extend_from_slice(&w.to_be_bytes());
    }
    a.extend_from_slice(&q[12..end]);
    if !truncated {
        a.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
    }
    a
}

/// A fake upstream resolver on one UDP and one TCP socket sharing a port. Over UDP, names
/// starting with `big.` are answered truncated; TCP always answers in full. Every query
/// received is kept.
struct FakeUpstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

fn fake_upstream() -> FakeUpstream {
    let (udp, tcp) = (0..50)
        .find_map(|_| {
            let udp = UdpSocket::bind(LOCAL).ok()?;
            let tcp = TcpListener::bind(udp.local_addr().ok()?).ok()?;
            Some((udp, tcp))
        })
        .expect("a free port for UDP and TCP");
    let addr = udp.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let udp_seen = Arc::clone(&seen);
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            let q = buf[..n].to_vec();
            udp_seen.lock().unwrap().push(q.clone());
            let big = q.get(12..16) == Some(b"\x03big".as_slice());
            let _ = udp.send_to(&fake_answer(&q, big), peer);
        }
    });
    let tcp_seen = Arc::clone(&seen);
    thread::spawn(move || {
        for mut s in tcp.incoming().flatten() {
            let mut len = [0u8; 2];
            if s.read_exact(&mut len).is_err() {
                continue;
            }
            let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
            if s.read_exact(&mut q).is_err() {
                continue;
            }
            tcp_seen.lock().unwrap().push(q.clone());
            let a = fake_answer(&q, false);
            let mut framed = (a.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&a);
            let _ = s.write_all(&framed);
        }
    });
    FakeUpstream { addr, seen }
}

struct DnsServer {
    resolver: Arc<Resolver>,
    udp: SocketAddr,
    tcp: SocketAddr,
    handles: Vec<thread::JoinHandle<()>>,
    recorder: Recorder,
}

fn start_resolver(allow: Allowlist, upstream: Option<SocketAddr>) -> DnsServer {
    let recorder = Recorder::new();
    let resolver = Arc::new(
        Resolver::new(allow, upstream, recorder.clone())
            .with_upstream_timeout(Duration::from_millis(500)),
    );
    let udp_sock = UdpSocket::bind(LOCAL).unwrap();
    let listener = TcpListener::bind(LOCAL).unwrap();
    let (udp, tcp) = (
        udp_sock.local_addr().unwrap(),
        listener.local_addr().unwrap(),
    );
    let handles = vec![
        Arc::clone(&resolver).serve_udp(udp_sock),
        Arc::clone(&resolver).serve_tcp(listener),
    ];
    DnsServer {
        resolver,
        udp,
        tcp,
        handles,
        recorder,
    }
}

impl DnsServer {
    fn stop(self) -> Recorder {
        self.resolver.shutdown();
        let t = Instant::now();
        for h in self.handles {
            h.join().unwrap();
        }
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "slow shutdown: {:?}",
            t.elapsed()
        );
        self.recorder
    }
}

/// Sends a datagram and waits up to 2 s for a reply.
fn udp_ask(server: SocketAddr, msg: &[u8]) -> Option<Vec<u8>> {
    udp_ask_within(server, msg, Duration::from_secs(2))
}

fn udp_ask_within(server: SocketAddr, msg: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let s = UdpSocket::bind(LOCAL).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.send_to(msg, server).unwrap();
    let mut buf = [0u8; 4096];
    match s.recv_from(&mut buf) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("{e}"),
    }
}

fn tcp_read_msg(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut m).unwrap();
    m
}

fn framed(m: &[u8]) -> Vec<u8> {
    let mut f = (m.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(m);
    f
}

#[test]
fn udp_forwards_allowed_names_and_denies_the_rest() {
    let up = fake_upstream();
    let srv = start_resolver(allow(&["registry.npmjs.org"]), Some(up.addr));

    let ans = udp_ask(srv.udp, &query(0x1111, "Registry.NPMJS.org", 1)).unwrap();
    assert_eq!(word(&ans, 0), 0x1111, "client id restored");
    assert_eq!(rcode(&ans), 0);
    assert_eq!(word(&ans, 6), 1, "one answer");
    assert_eq!(&ans[ans.len() - 4..], &[10, 1, 2, 3]);
    {
        let seen = up.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            &seen[0][12..],
            &query(0x1111, "Registry.NPMJS.org", 1)[12..]
        );
    }

    let q = query(0x2222, "abc.exfil.invalid", 16);
    let ans = udp_ask(srv.udp, &q).unwrap();
    assert_eq!(word(&ans, 0), 0x2222);
    assert_eq!(rcode(&ans), 3, "NXDOMAIN");
    assert_eq!(word(&ans, 2) & 0x8080, 0x8080, "QR and RA");
    assert_eq!(&ans[12..], &q[12..], "question copied");
    assert_eq!(
        up.seen.lock().unwrap().len(),
        1,
        "denied name never forwarded"
    );

    let rec = srv.stop();
    let evs: Vec<_> = rec
        .events()
        .into_iter()
        .filter(|e| e.event == EventKind::Dns)
        .collect();
    assert_eq!(evs.len(), 2, "{evs:#?}");
    assert_eq!(
        (
            evs[0].target.as_str(),
            evs[0].verdict,
            evs[0].detail.as_deref()
        ),
        ("registry.npmjs.org", Verdict::Allow, Some("A udp"))
    );
    assert_eq!(
        (
            evs[1].target.as_str(),
            evs[1].verdict,
            evs[1].detail.as_deref()
        ),
        ("abc.exfil.invalid", Verdict::Deny, Some("TXT udp"))
    );
}

#[test]
fn tcp_serves_several_queries_and_retries_truncated_answers_over_tcp() {
    let up = fake_upstream();
    let srv = start_resolver(allow(&["*.example.com"]), Some(up.addr));

    // Over UDP a truncated upstream answer is relayed as is, so the client retries over TCP.
    let ans = udp_ask(srv.udp, &query(7, "big.example.com", 1)).unwrap();
    assert_eq!(word(&ans, 0), 7);
    assert_ne!(word(&ans, 2) & 0x0200, 0, "TC relayed");

    let mut s = TcpStream::connect(srv.tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut both = framed(&query(8, "big.example.com", 1));
    both.extend_from_slice(&framed(&query(9, "nope.exfil.invalid", 28)));
    s.write_all(&both).unwrap();
    let a = tcp_read_msg(&mut s);
    assert_eq!(word(&a, 0), 8);
    assert_eq!(
        word(&a, 2) & 0x0200,
        0,
        "full answer fetched over TCP upstream"
    );
    assert_eq!(&a[a.len() - 4..], &[10, 1, 2, 3]);
    let b = tcp_read_msg(&mut s);
    assert_eq!((word(&b, 0), rcode(&b)), (9, 3));
    // Still open for a third query.
    s.write_all(&framed(&query(10, "www.example.com", 1)))
        .unwrap();
    let c = tcp_read_msg(&mut s);
    assert_eq!((word(&c, 0), rcode(&c), word(&c, 6)), (10, 0, 1));
    drop(s);

    let rec = srv.stop();
    let details: Vec<_> = rec
        .events()
        .into_iter()
        .map(|e| (e.target, e.verdict, e.detail.unwrap_or_default()))
        .collect();
    assert!(details.contains(&("big.example.com".into(), Verdict::Allow, "A tcp".into())));
    assert!(details.contains(&(
        "nope.exfil.invalid".into(),
        Verdict::Deny,
        "AAAA tcp".into()
    )));
    assert!(details.contains(&("www.example.com".into(), Verdict::Allow, "A tcp".into())));
}

#[test]
fn missing_or_silent_upstream_gives_servfail() {
    let srv = start_resolver(allow(&["registry.npmjs.org"]), None);
    let ans = udp_ask(srv.udp, &query(3, "registry.npmjs.org", 1)).unwrap();
    assert_eq!((word(&ans, 0), rcode(&ans)), (3, 2));
    let rec = srv.stop();
    let e = wait_event(&rec, |e| e.target == "registry.npmjs.org");
    assert_eq!(e.verdict, Verdict::Allow);
    assert_eq!(e.detail.as_deref(), Some("A udp; upstream failed"));

    // An upstream that never answers (bound, silent) times out into SERVFAIL too.
    let silent = UdpSocket::bind(LOCAL).unwrap();
    let srv = start_resolver(
        allow(&["registry.npmjs.org"]),
        Some(silent.local_addr().unwrap()),
    );
    let t = Instant::now();
    let ans = udp_ask(srv.udp, &query(4, "registry.npmjs.org", 1)).unwrap();
    assert_eq!(rcode(&ans), 2);
    assert!(t.elapsed() < Duration::from_secs(2));
    srv.stop();
}

#[test]
fn malformed_queries_get_formerr_or_silence_and_the_server_survives() {
    let srv = start_resolver(allow(&[]), None);
    let hdr = |qd: u16, flags: u16| {
        let mut m = Vec::new();
        for w in [0x5151u16, flags, qd, 0, 0, 0] {
            m.extend_from_slice(&w.to_be_bytes());
        }
        m
    };
    // Too short to carry an id, and responses: no reply at all.
    let quiet = Duration::from_millis(400);
    assert_eq!(udp_ask_within(srv.udp, &[1, 2, 3], quiet), None);
    let response = fake_answer(&query(1, "a.b", 1), false);
    assert_eq!(udp_ask_within(srv.udp, &response, quiet), None);

    let mut pointer_loop = hdr(1, 0);
    pointer_loop.extend_from_slice(&[1, b'a', 0xC0, 12, 0, 1, 0, 1]);
    let mut long_label = hdr(1, 0);
    long_label.push(64);
    long_label.extend_from_slice(&[b'x'; 64]);
    long_label.extend_from_slice(&[0, 0, 1, 0, 1]);
    let truncated = query(1, "registry.npmjs.org", 1)[..20].to_vec();
    let mut truncated = truncated;
    truncated[0..2].copy_from_slice(&0x5151u16.to_be_bytes());
    let mut oversize = query(0x5151, "a.b", 1);
    oversize.resize(dns::MAX_QUERY_LEN + 100, 0);
    for (what, msg) in [
        ("qdcount 0", hdr(0, 0)),
        ("pointer loop", pointer_loop),
        ("64-byte label", long_label),
        ("truncated", truncated),
        ("oversize", oversize),
    ] {
        let ans = udp_ask(srv.udp, &msg).unwrap_or_else(|| panic!("{what}: no reply"));
        assert_eq!(ans.len(), 12, "{what}: header only");
        assert_eq!((word(&ans, 0), rcode(&ans)), (0x5151, 1), "{what}: FORMERR");
    }
    // Opcode STATUS: not implemented.
    let ans = udp_ask(srv.udp, &hdr(1, 2 << 11)).unwrap();
    assert_eq!(rcode(&ans), 4);

    // TCP: an impossible length closes the connection; the listener keeps serving.
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&[0, 5, 1, 2, 3, 4, 5]).unwrap();
    let mut buf = [0u8; 16];
    assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)), "closed");
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&framed(&hdr(0, 0))).unwrap();
    assert_eq!(rcode(&tcp_read_msg(&mut s)), 1);

    // Still alive and answering.
    let ans = udp_ask(srv.udp, &query(0x7777, "abc.exfil.invalid", 1)).unwrap();
    assert_eq!((word(&ans, 0), rcode(&ans)), (0x7777, 3));
    let rec = srv.stop();
    let malformed = rec
        .events()
        .iter()
        .filter(|e| e.target == "(malformed)")
        .count();
    assert_eq!(malformed, 7, "{:#?}", rec.events());
}

#[test]
fn suspicious_names_are_flagged_in_events() {
    let srv = start_resolver(allow(&[]), None);
    let name = "onswg4tfoqwxi33lmvxc25tbnr2wkllbnzsc23lpojss2zdborqq.x.exfil.invalid";
    let ans = udp_ask(srv.udp, &query(1, name, 16)).unwrap();
    assert_eq!(rcode(&ans), 3);
    let rec = srv.stop();
    let e = wait_event(&rec, |e| e.target == name);
    assert_eq!(e.verdict, Verdict::Deny);
    assert_eq!(
        e.detail.as_deref(),
        Some("TXT udp suspicious:long-label,encoded-label")
    );
}

/// Deterministic xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn parser_survives_random_and_mutated_input() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let resolver = Resolver::new(allow(&["*.example.com"]), None, Recorder::new());
    let seed = query(1, "www.example.com", 1);
    let mut parsed = 0;
    for i in 0..10_000 {
        let msg: Vec<u8> = if i % 2 == 0 {
            let len = (rng.next() % 600) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            // Mutations of a valid query reach deeper into the name parser.
            let mut m = seed.clone();
            m[2] &= 0x7f; // keep it a query
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % m.len();
                m[at] = rng.next() as u8;
            }
            m.truncate(12 + (rng.next() as usize) % (m.len() - 11));
            m
        };
        if let Ok(q) = dns::parse_query(&msg) {
            parsed += 1;
            assert!((1..=dns::MAX_QUESTIONS as usize).contains(&q.questions.len()));
            let r = dns::nxdomain(&q);
            assert_eq!(dns::parse_query(&r), Err(dns::DnsError::NotAQuery));
            for qu in &q.questions {
                let _ = dns::suspicion(&qu.name);
                assert!(qu.name.len() <= 255 * 4);
            }
        }
        let _ = resolver.answer(&msg, Transport::Udp);
    }
    assert!(parsed > 100, "mutations should often still parse: {parsed}");
}

// ---------------------------------------------------------------- proxy

/// An HTTP origin server on 127.0.0.1: reads one request (head and Content-Length body),
/// keeps it, answers `200` with a body naming the request line, closes.
fn http_upstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind(LOCAL).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break data.len(),
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                }
            };
            let head = String::from_utf8_lossy(&data[..head_end]).to_string();
            let body_len = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while data.len() < head_end + body_len {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                }
            }
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&data).to_string());
            let body = format!("saw {}", head.lines().next().unwrap_or(""));
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (port, seen)
}

struct ProxyServer {
    proxy: Arc<Proxy>,
    addr: SocketAddr,
    handle: thread::JoinHandle<()>,
    recorder: Recorder,
}

fn start_proxy(allow: Allowlist) -> ProxyServer {
    let recorder = Recorder::new();
    let proxy = Arc::new(Proxy::new(allow, recorder.clone()));
    let listener = TcpListener::bind(LOCAL).unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = Arc::clone(&proxy).serve(listener);
    ProxyServer {
        proxy,
        addr,
        handle,
        recorder,
    }
}

impl ProxyServer {
    fn stop(self) -> Recorder {
        self.proxy.shutdown();
        let t = Instant::now();
        self.handle.join().unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "slow shutdown: {:?}",
            t.elapsed()
        );
        self.recorder
    }
}

/// Sends `req` through the proxy and reads until the proxy closes.
fn through(proxy: SocketAddr, req: &[u8]) -> String {
    let mut s = TcpStream::connect(proxy).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(req).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

/// A listener that must never see a connection.
fn untouched_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind(LOCAL).unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn assert_never_accepted(l: &TcpListener) {
    match l.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the refused destination was contacted: {other:?}"),
    }
}

#[test]
fn connect_tunnel_end_to_end() {
    let (port, seen) = http_upstream();
    let srv = start_proxy(allow(&[&format!("127.0.0.1:{port}")]));

    // Step by step: CONNECT, wait for 200, then talk through the tunnel.
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let mut first = vec![0u8; established.len()];
    s.read_exact(&mut first).unwrap();
    assert_eq!(first, established);
    let inner = b"GET /inside HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(inner).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with("saw GET /inside HTTP/1.1"), "{resp}");
    drop(s);
    let e = wait_event(&srv.recorder, |e| e.event == EventKind::Proxy);
    assert_eq!(e.target, format!("127.0.0.1:{port}"));
    assert_eq!(e.verdict, Verdict::Allow);
    assert_eq!(
        e.detail.as_deref(),
        Some(format!("CONNECT up={} down={}", inner.len(), resp.len()).as_str())
    );

    // Pipelined: the tunnelled bytes arrive in the same segment as the CONNECT head.
    let resp = through(
        srv.addr,
        format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\nGET /piped HTTP/1.1\r\n\r\n").as_bytes(),
    );
    assert!(resp.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK"));
    assert!(resp.ends_with("saw GET /piped HTTP/1.1"), "{resp}");
    assert_eq!(seen.lock().unwrap().len(), 2);
    srv.stop();
}

#[test]
fn absolute_form_http_is_rewritten_to_origin_form() {
    let (port, seen) = http_upstream();
    let srv = start_proxy(allow(&[&format!("127.0.0.1:{port}")]));
    let body = "x".repeat(10_000);
    let req = format!(
        "POST http://127.0.0.1:{port}/upload?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic dTpw\r\n\
         Connection: keep-alive\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = through(srv.addr, req.as_bytes());
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with("saw POST /upload?x=1 HTTP/1.1"), "{resp}");
    let got = seen.lock().unwrap()[0].clone();
    let (head, sent_body) = got.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /upload?x=1 HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains(&format!("\r\nHost: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
    assert!(head.contains("\r\nConnection: close"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("proxy-"), "{head}");
    assert!(!head.contains("keep-alive"), "{head}");
    assert_eq!(sent_body, body);

    // GET with no body, client asking for keep-alive: one response, then close.
    let resp = through(
        srv.addr,
        format!("GET http://127.0.0.1:{port}/pkg HTTP/1.1\r\nConnection: keep-alive\r\n\r\n")
            .as_bytes(),
    );
    assert!(resp.ends_with("saw GET /pkg HTTP/1.1"), "{resp}");
    let rec = srv.stop();
    let details: Vec<_> = rec
        .events()
        .into_iter()
        .filter(|e| e.target == format!("127.0.0.1:{port}") && e.verdict == Verdict::Allow)
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(
        details.iter().any(|d| d.starts_with("POST http up=")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.starts_with("GET http up=")),
        "{details:?}"
    );
}

#[test]
fn destinations_outside_the_allowlist_are_never_contacted() {
    let (port, _) = http_upstream();
    let (other, q) = untouched_listener();
    let srv = start_proxy(allow(&[&format!("127.0.0.1:{port}")]));
    for req in [
        format!("CONNECT 127.0.0.1:{q} HTTP/1.1\r\n\r\n"),
        format!("GET http://127.0.0.1:{q}/ HTTP/1.1\r\n\r\n"),
        format!("CONNECT localhost:{port} HTTP/1.1\r\n\r\n"),
        "CONNECT registry.exfil.invalid:443 HTTP/1.1\r\n\r\n".to_string(),
    ] {
        let resp = through(srv.addr, req.as_bytes());
        assert!(
            resp.starts_with("HTTP/1.1 403 Forbidden"),
            "{req:?} -> {resp}"
        );
        assert!(resp.contains("not in the sandbox allowlist"), "{resp}");
    }
    assert_never_accepted(&other);
    let rec = srv.stop();
    let denied: Vec<_> = rec
        .events()
        .into_iter()
        .filter(|e| e.event == EventKind::Proxy && e.verdict == Verdict::Deny)
        .map(|e| (e.target, e.detail.unwrap_or_default()))
        .collect();
    assert_eq!(
        denied,
        vec![
            (
                format!("127.0.0.1:{q}"),
                "CONNECT; not in the allowlist".to_string()
            ),
            (
                format!("127.0.0.1:{q}"),
                "GET http; not in the allowlist".to_string()
            ),
            (
                format!("localhost:{port}"),
                "CONNECT; not in the allowlist".to_string()
            ),
            (
                "registry.exfil.invalid:443".to_string(),
                "CONNECT; not in the allowlist".to_string()
            ),
        ]
    );
}

#[test]
fn names_resolving_to_loopback_are_refused_by_the_rebinding_guard() {
    let (other, q) = untouched_listener();
    let srv = start_proxy(allow(&[&format!("localhost:{q}")]));
    for req in [
        format!("CONNECT localhost:{q} HTTP/1.1\r\n\r\n"),
        format!("GET http://LOCALHOST.:{q}/ HTTP/1.1\r\n\r\n"),
    ] {
        let resp = through(srv.addr, req.as_bytes());
        assert!(
            resp.starts_with("HTTP/1.1 403 Forbidden"),
            "{req:?} -> {resp}"
        );
        assert!(resp.contains("private or reserved"), "{resp}");
    }
    assert_never_accepted(&other);
    let rec = srv.stop();
    let evs = rec.events();
    assert_eq!(evs.len(), 2, "{evs:#?}");
    for e in &evs {
        assert_eq!(
            (e.target.as_str(), e.verdict),
            (format!("localhost:{q}").as_str(), Verdict::Deny)
        );
        assert!(
            e.detail.as_deref().unwrap().contains("resolves to"),
            "{e:?}"
        );
    }
}

#[test]
fn malformed_requests_get_400() {
    let srv = start_proxy(allow(&["registry.npmjs.org"]));
    let huge = format!(
        "GET http://registry.npmjs.org/ HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(70_000)
    );
    for req in [
        "GET /index.html HTTP/1.1\r\nHost: registry.npmjs.org\r\n\r\n".to_string(),
        "\u{16}\u{3}\u{1}\u{2}\u{0}garbage\r\n\r\n".to_string(),
        "GET https://registry.npmjs.org/ HTTP/1.1\r\n\r\n".to_string(),
        huge,
    ] {
        let resp = through(srv.addr, req.as_bytes());
        assert!(resp.starts_with("HTTP/1.1 400 Bad Request"), "{resp}");
    }
    let rec = srv.stop();
    let evs = rec.events();
    assert_eq!(evs.len(), 4, "{evs:#?}");
    assert!(
        evs.iter()
            .all(|e| e.target == "(malformed)" && e.verdict == Verdict::Deny)
    );
    assert!(
        evs[3].detail.as_deref().unwrap().contains("64 KiB"),
        "{:?}",
        evs[3]
    );
}

#[test]
fn smuggling_shapes_get_400_and_never_reach_the_destination() {
    let (dest, port) = untouched_listener();
    let srv = start_proxy(allow(&[&format!("127.0.0.1:{port}")]));
    let url = format!("http://127.0.0.1:{port}/");
    let many = "X: y\r\n".repeat(101);
    let big = format!("X-Pad: {}\r\n", "p".repeat(1000)).repeat(70);
    let reqs = [
        format!("POST {url} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
        format!("POST {url} HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"),
        format!("POST {url} HTTP/1.1\nContent-Length: 0\r\n\r\n"),
        format!("POST {url} HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"),
        format!("GET {url} HTTP/1.1\r\n{many}\r\n"),
        format!("GET {url} HTTP/1.1\r\n{big}\r\n"),
    ];
    for req in &reqs {
        let resp = through(srv.addr, req.as_bytes());
        assert!(
            resp.starts_with("HTTP/1.1 400 Bad Request"),
            "{req:?} -> {resp}"
        );
    }
    assert_never_accepted(&dest);
    let evs = srv.stop().events();
    assert_eq!(evs.len(), reqs.len(), "{evs:#?}");
    assert!(
        evs.iter()
            .all(|e| e.target == "(malformed)" && e.verdict == Verdict::Deny)
    );
}

#[test]
fn shutdown_ends_open_tunnels_and_records_them() {
    // An upstream that accepts and then stays silent.
    let silent = TcpListener::bind(LOCAL).unwrap();
    let port = silent.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    thread::spawn(move || {
        let mut keep = Vec::new();
        for s in silent.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            keep.push(s);
        }
    });
    let srv = start_proxy(allow(&[&format!("127.0.0.1:{port}")]));
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\nhello").unwrap();
    let mut first = [0u8; 39];
    s.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"HTTP/1.1 200"));
    let rec = srv.stop();
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    let e = wait_event(&rec, |e| e.event == EventKind::Proxy);
    assert_eq!(e.detail.as_deref(), Some("CONNECT up=5 down=0"));
    // The client sees the tunnel end.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

#[test]
fn connections_beyond_the_limit_get_503() {
    let srv = start_proxy(allow(&[]));
    // Idle clients that never send a head each hold a connection slot.
    let idle: Vec<TcpStream> = (0..turncoat_sandbox::proxy::MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(srv.addr).unwrap())
        .collect();
    let resp = through(srv.addr, b"CONNECT registry.npmjs.org:443 HTTP/1.1\r\n\r\n");
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    drop(idle);
    let rec = srv.stop();
    assert!(rec.events().is_empty(), "{:#?}", rec.events());
}
