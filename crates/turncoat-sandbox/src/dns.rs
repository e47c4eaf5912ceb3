//! The sandbox's DNS resolver: parsing of queries and the few responses we synthesize (with
//! `hickory-proto`), name heuristics, and the UDP/TCP servers the supervisor runs on the sockets
//! the sandbox init bound to its loopback 127.0.0.1:53.
//!
//! Every question is recorded as an [`EventKind::Dns`] event. Names the [`Allowlist`] allows are
//! forwarded to the host's upstream resolver; everything else gets NXDOMAIN, whatever the type
//! (TXT/NULL/ANY tunnels included). Forwarded queries are rebuilt from the parsed header and
//! questions only (plus a clean OPT record when the client used EDNS): names are re-encoded from
//! what we decoded and checked, so the upstream reads the same names (a compression pointer into
//! the client's header cannot mean something else under our header), and client-subnet options
//! or data hidden in other sections never leave the host.
//!
//! What is still ours, and why: the limits in front of the decoder (message size, question
//! count: hickory decodes whatever counts the header claims), reading only the header, the
//! questions and a lone OPT record's fixed fields (a full `Message` decode would reject a query
//! over an option we drop anyway, and parse sections we ignore), the lowercase `\DDD`-escaped
//! name text the allowlist and the events use, the name heuristics, and the servers (hickory's
//! servers are async; the supervisor is threads). Upstream answers are relayed as bytes after a
//! header check, never re-encoded.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hickory_proto::op::{self, Header, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, DecodeError};

use crate::allow::Allowlist;
use crate::event::{Event, EventKind, Recorder, Source, Verdict};

/// DNS header length.
pub const HEADER_LEN: usize = 12;
/// Largest query accepted on either transport. Four maximal questions and an OPT record are
/// about 1.1 KiB; anything bigger is not a query we need to understand.
pub const MAX_QUERY_LEN: usize = 4096;
/// Most questions accepted in one query (real stubs send exactly one).
pub const MAX_QUESTIONS: u16 = 4;

const FLAG_RD: u16 = 0x0100;
const FLAG_CD: u16 = 0x0010;
/// UDP payload size we advertise upstream at most (the DNS flag day 2020 value).
const EDNS_MAX_UDP: u16 = 1232;

/// Why a message is not a query we answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("shorter than a DNS header")]
    Short,
    #[error("message of {0} bytes exceeds the {MAX_QUERY_LEN}-byte limit")]
    TooLong(usize),
    #[error("a response, not a query")]
    NotAQuery,
    #[error("unsupported opcode {0}")]
    Opcode(u8),
    #[error("question count {0} (expected 1 to {MAX_QUESTIONS})")]
    QuestionCount(u16),
    #[error("question runs past the end of the message")]
    Truncated,
    #[error("reserved label type (a length byte of 64 or more)")]
    LabelType,
    #[error("name longer than 255 bytes")]
    NameTooLong,
    /// Pointers must go strictly backwards and may not land inside the name that uses them,
    /// so a pointer loop is this error, not a hang.
    #[error("compression pointer that does not point strictly backwards")]
    BadPointer,
    #[error("malformed question: {0}")]
    Malformed(String),
}

impl DnsError {
    fn decode(e: DecodeError) -> Self {
        match e {
            DecodeError::InsufficientBytes => DnsError::Truncated,
            DecodeError::UnrecognizedLabelCode(_) => DnsError::LabelType,
            DecodeError::DomainNameTooLong(_) => DnsError::NameTooLong,
            DecodeError::PointerNotPriorToLabel { .. }
            | DecodeError::LabelOverlapsWithOther { .. } => DnsError::BadPointer,
            other => DnsError::Malformed(other.to_string()),
        }
    }
}

/// DNS response codes we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Rcode {
    /// The message could not be parsed.
    FormErr = 1,
    /// Allowed, but the upstream failed.
    ServFail = 2,
    /// The name is not allowed (we say it does not exist).
    NxDomain = 3,
    /// An opcode other than QUERY.
    NotImp = 4,
    /// Refused by policy, for callers that want the refusal explicit.
    Refused = 5,
}

impl From<Rcode> for ResponseCode {
    fn from(r: Rcode) -> Self {
        ResponseCode::from_low(r as u8)
    }
}

/// One question: the name as lowercase presentation text (no trailing dot, `.` for the root,
/// bytes outside `[a-z0-9_-]` escaped as `\DDD`), its type and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
}

/// The EDNS parameters of a query that carried exactly one OPT record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    /// The client's advertised UDP payload size.
    pub udp_size: u16,
    /// The DO (DNSSEC OK) bit.
    pub dnssec_ok: bool,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub id: u16,
    /// Raw header flags (QR is always 0, opcode always QUERY).
    pub flags: u16,
    pub questions: Vec<Question>,
    pub edns: Option<Edns>,
    /// The questions as decoded (original case kept, for 0x20), re-encoded into responses and
    /// upstream messages.
    wire: Vec<op::Query>,
}

/// Parses a query message. Everything after the question section is ignored except a lone
/// OPT record (ANCOUNT = NSCOUNT = 0, ARCOUNT = 1), whose payload size and DO bit are kept.
pub fn parse_query(msg: &[u8]) -> Result<Query, DnsError> {
    if msg.len() < HEADER_LEN {
        return Err(DnsError::Short);
    }
    if msg.len() > MAX_QUERY_LEN {
        return Err(DnsError::TooLong(msg.len()));
    }
    let mut dec = BinDecoder::new(msg);
    let Header { metadata, counts } = Header::read(&mut dec).map_err(DnsError::decode)?;
    if metadata.message_type != MessageType::Query {
        return Err(DnsError::NotAQuery);
    }
    if metadata.op_code != OpCode::Query {
        return Err(DnsError::Opcode(metadata.op_code.into()));
    }
    if counts.queries == 0 || counts.queries > MAX_QUESTIONS {
        return Err(DnsError::QuestionCount(counts.queries));
    }
    let mut questions = Vec::with_capacity(counts.queries as usize);
    let mut wire = Vec::with_capacity(counts.queries as usize);
    for _ in 0..counts.queries {
        let q = op::Query::read(&mut dec).map_err(DnsError::decode)?;
        questions.push(Question {
            name: presentation(q.name()),
            qtype: q.query_type().into(),
            qclass: q.query_class().into(),
        });
        wire.push(q);
    }
    let lone_opt = counts.answers == 0 && counts.authorities == 0 && counts.additionals == 1;
    let edns = if lone_opt { read_opt(&mut dec) } else { None };
    Ok(Query {
        id: metadata.id,
        flags: u16::from_be_bytes([msg[2], msg[3]]),
        questions,
        edns,
        wire,
    })
}

/// An OPT pseudo-record's fixed fields: root owner, type 41, class = UDP size, TTL =
/// ext-rcode/version/flags, and options that fit in the message (not parsed: we drop them).
fn read_opt(dec: &mut BinDecoder<'_>) -> Option<Edns> {
    let owner = Name::read(dec).ok()?;
    if !owner.is_root() || RecordType::read(dec).ok()? != RecordType::OPT {
        return None;
    }
    let udp_size = dec.read_u16().ok()?.unverified(/* any size; clamped when used */);
    let ttl = dec.read_u32().ok()?.unverified(/* only the DO bit is used */);
    let rdlen = dec.read_u16().ok()?.unverified(/* checked by read_slice */);
    dec.read_slice(usize::from(rdlen)).ok()?;
    Some(Edns {
        udp_size,
        dnssec_ok: ttl & 0x8000 != 0,
    })
}

/// The lowercase, escaped text of a decoded name.
fn presentation(name: &Name) -> String {
    let mut text = String::new();
    for label in name.iter() {
        if !text.is_empty() {
            text.push('.');
        }
        push_label(&mut text, label);
    }
    if text.is_empty() {
        text.push('.');
    }
    text
}

fn push_label(text: &mut String, label: &[u8]) {
    for &b in label {
        let b = b.to_ascii_lowercase();
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            text.push(b as char);
        } else {
            text.push_str(&format!("\\{b:03}"));
        }
    }
}

/// Encodes a message we built. Cannot fail for names that were decoded within the limits;
/// should it, the answer is the bare header (counts zero), and never a panic.
fn encode(mut msg: Message) -> Vec<u8> {
    if let Ok(bytes) = msg.to_vec() {
        return bytes;
    }
    msg.queries.clear();
    msg.edns = None;
    msg.to_vec().unwrap_or_default()
}

impl Query {
    /// The 4-bit opcode (always 0 for parsed queries).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }

    /// A message with our `id` and type, the client's RD and CD bits, and its questions.
    fn message(&self, id: u16, message_type: MessageType) -> Message {
        let mut m = Message::new(id, message_type, OpCode::Query);
        m.metadata.recursion_desired = self.flags & FLAG_RD != 0;
        m.metadata.checking_disabled = self.flags & FLAG_CD != 0;
        m.queries = self.wire.clone();
        m
    }

    /// A header-plus-questions response with `rcode` (no records): id and question copied,
    /// QR and RA set, RD echoed.
    pub fn response(&self, rcode: Rcode) -> Vec<u8> {
        let mut m = self.message(self.id, MessageType::Response);
        m.metadata.recursion_available = true;
        m.metadata.response_code = rcode.into();
        encode(m)
    }

    /// The message sent upstream for this query: new `id`, RD/CD from the client, the
    /// questions as decoded, and an OPT record without options only when the client sent one.
    pub fn upstream_message(&self, id: u16) -> Vec<u8> {
        let mut m = self.message(id, MessageType::Query);
        if let Some(e) = self.edns {
            let mut opt = op::Edns::new();
            opt.set_max_payload(e.udp_size.clamp(512, EDNS_MAX_UDP))
                .set_dnssec_ok(e.dnssec_ok);
            m.set_edns(opt);
        }
        encode(m)
    }
}

/// NXDOMAIN for `q`.
pub fn nxdomain(q: &Query) -> Vec<u8> {
    q.response(Rcode::NxDomain)
}

/// REFUSED for `q`.
pub fn refused(q: &Query) -> Vec<u8> {
    q.response(Rcode::Refused)
}

/// SERVFAIL for `q`.
pub fn servfail(q: &Query) -> Vec<u8> {
    q.response(Rcode::ServFail)
}

/// The header of a message, if it has one.
fn read_header(msg: &[u8]) -> Option<Header> {
    Header::read(&mut BinDecoder::new(msg)).ok()
}

/// A header-only error response to a message we could not parse (FORMERR, NOTIMP): `None`
/// when there is no query header to answer (too short, or already a response).
pub fn header_only_response(msg: &[u8], rcode: Rcode) -> Option<Vec<u8>> {
    let h = read_header(msg)?;
    if h.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut m = Message::response(h.metadata.id, h.metadata.op_code);
    m.metadata.recursion_desired = h.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.metadata.response_code = rcode.into();
    Some(encode(m))
}

/// Heuristic flags for a queried name (lowercase text as in [`Question::name`]):
/// `long-label` (a label over 30 characters), `encoded-label` (a label that looks like hex,
/// base32 or base64: 16+ characters mixing letters and digits, and either all hex or of
/// high entropy), `binary-label` (bytes outside the host name alphabet), `many-labels`
/// (more than 6 labels). These alert even on allowed names.
pub fn suspicion(name: &str) -> Vec<&'static str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
    let mut out = Vec::new();
    if labels.iter().any(|l| l.len() > 30) {
        out.push("long-label");
    }
    if labels.iter().any(|l| looks_encoded(l)) {
        out.push("encoded-label");
    }
    if labels.iter().any(|l| l.contains('\\')) {
        out.push("binary-label");
    }
    if labels.len() > 6 {
        out.push("many-labels");
    }
    out
}

fn looks_encoded(label: &str) -> bool {
    let b = label.as_bytes();
    if b.len() < 16
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
    {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits == b.len() {
        // Dictionary words (githubusercontent) have no digits; all-digit labels are numbers.
        return false;
    }
    let mut counts = [0u32; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    if b.iter().all(u8::is_ascii_hexdigit) {
        // Hex of ASCII text has low entropy (high nibbles 2-7), so only ask for some variety.
        return counts.iter().filter(|&&c| c > 0).count() >= 4;
    }
    let n = b.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    // Close to the most a label this long over a 32-symbol alphabet can carry.
    entropy >= 0.75 * n.min(32.0).log2()
}

/// Mnemonic for a query type (`TYPE<n>` for the rest).
pub fn qtype_name(qtype: u16) -> String {
    let s = match qtype {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        10 => "NULL",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        43 => "DS",
        48 => "DNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        257 => "CAA",
        n => return format!("TYPE{n}"),
    };
    s.to_string()
}

/// The first `nameserver` of resolv.conf text, on port 53. Lines that do not parse as an IP
/// address (scoped IPv6 with `%iface`, garbage) are skipped.
pub fn parse_resolv_conf(text: &str) -> Option<SocketAddr> {
    text.lines().find_map(|line| {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            return None;
        }
        let ip: IpAddr = words.next()?.parse().ok()?;
        Some(SocketAddr::new(ip, 53))
    })
}

/// The host's upstream resolver: the first `nameserver` of `/etc/resolv.conf` (read by the
/// supervisor, which lives in the host's mount and network namespaces).
pub fn host_upstream() -> Option<SocketAddr> {
    parse_resolv_conf(&std::fs::read_to_string("/etc/resolv.conf").ok()?)
}

/// The transport a query arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A datagram on the UDP socket.
    Udp,
    /// A length-prefixed message on a TCP connection.
    Tcp,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// How often blocked reads wake up to check for shutdown.
const POLL: Duration = Duration::from_millis(25);
/// Sleep of the accept loop when no connection is pending.
const ACCEPT_NAP: Duration = Duration::from_millis(20);
const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// Queries forwarded concurrently from the UDP socket; beyond it queries are answered inline,
/// which slows the reader down instead of spawning without bound.
const MAX_UDP_INFLIGHT: usize = 64;
const MAX_TCP_CONNS: usize = 64;
const MAX_QUERIES_PER_TCP_CONN: usize = 1000;
/// A TCP client may idle this long between queries, and take this long to send one.
const TCP_IDLE: Duration = Duration::from_secs(10);
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The resolver served on the sandbox's 127.0.0.1:53 (UDP and TCP).
///
/// Stop it with [`Resolver::shutdown`]: the serve loops notice within about 200 ms, wait for
/// in-flight queries, and their threads end.
pub struct Resolver {
    allow: Allowlist,
    upstream: Option<SocketAddr>,
    recorder: Recorder,
    upstream_timeout: Duration,
    stop: AtomicBool,
    udp_inflight: AtomicUsize,
    tcp_conns: AtomicUsize,
}

impl Resolver {
    /// A resolver answering `allow`ed names through `upstream` (SERVFAIL when `None`).
    pub fn new(allow: Allowlist, upstream: Option<SocketAddr>, recorder: Recorder) -> Self {
        Resolver {
            allow,
            upstream,
            recorder,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            stop: AtomicBool::new(false),
            udp_inflight: AtomicUsize::new(0),
            tcp_conns: AtomicUsize::new(0),
        }
    }

    /// How long to wait for the upstream per attempt (default 2 s).
    pub fn with_upstream_timeout(mut self, timeout: Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    /// Asks the serve loops to stop; join their handles to wait for them.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Serves DNS over UDP on an already-bound socket until [`Resolver::shutdown`].
    pub fn serve_udp(self: Arc<Self>, sock: UdpSocket) -> JoinHandle<()> {
        thread::spawn(move || {
            let sock = Arc::new(sock);
            let _ = sock.set_nonblocking(false);
            let _ = sock.set_read_timeout(Some(POLL));
            // One byte more than accepted, so oversize datagrams are recognisable.
            let mut buf = vec![0u8; MAX_QUERY_LEN + 1];
            while !self.stopping() {
                let (n, peer) = match sock.recv_from(&mut buf) {
                    Ok(v) => v,
                    Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        // ICMP errors surface here as ECONNREFUSED; never spin on them.
                        thread::sleep(ACCEPT_NAP);
                        continue;
                    }
                };
                let msg = buf[..n].to_vec();
                if self.udp_inflight.fetch_add(1, Ordering::SeqCst) >= MAX_UDP_INFLIGHT {
                    let _slot = Counted(&self.udp_inflight);
                    if let Some(resp) = self.answer(&msg, Transport::Udp) {
                        let _ = sock.send_to(&resp, peer);
                    }
                    continue;
                }
                let (me, sock) = (Arc::clone(&self), Arc::clone(&sock));
                let spawned = thread::Builder::new().spawn(move || {
                    let _slot = Counted(&me.udp_inflight);
                    if let Some(resp) = me.answer(&msg, Transport::Udp) {
                        let _ = sock.send_to(&resp, peer);
                    }
                });
                if spawned.is_err() {
                    // The closure (and its slot) never ran.
                    self.udp_inflight.fetch_sub(1, Ordering::SeqCst);
                }
            }
            drain(&self.udp_inflight, self.upstream_timeout * 3 + POLL);
        })
    }

    /// Serves DNS over TCP (2-byte length prefix, several queries per connection) on an
    /// already-listening socket until [`Resolver::shutdown`].
    pub fn serve_tcp(self: Arc<Self>, listener: TcpListener) -> JoinHandle<()> {
        thread::spawn(move || {
            // Non-blocking accept so the loop can notice shutdown.
            let _ = listener.set_nonblocking(true);
            while !self.stopping() {
                let stream = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        thread::sleep(ACCEPT_NAP);
                        continue;
                    }
                };
                if self.tcp_conns.fetch_add(1, Ordering::SeqCst) >= MAX_TCP_CONNS {
                    self.tcp_conns.fetch_sub(1, Ordering::SeqCst);
                    continue; // dropping closes it
                }
                let me = Arc::clone(&self);
                let spawned = thread::Builder::new().spawn(move || {
                    let _guard = Counted(&me.tcp_conns);
                    me.serve_tcp_conn(stream);
                });
                if spawned.is_err() {
                    self.tcp_conns.fetch_sub(1, Ordering::SeqCst);
                }
            }
            drain(
                &self.tcp_conns,
                self.upstream_timeout * 3 + TCP_WRITE_TIMEOUT,
            );
        })
    }

    fn serve_tcp_conn(&self, mut stream: TcpStream) {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(POLL));
        let _ = stream.set_write_timeout(Some(TCP_WRITE_TIMEOUT));
        for _ in 0..MAX_QUERIES_PER_TCP_CONN {
            let mut len = [0u8; 2];
            match read_full(&mut stream, &mut len, TCP_IDLE, &self.stop) {
                Ok(true) => {}
                _ => return,
            }
            let len = u16::from_be_bytes(len) as usize;
            if !(HEADER_LEN..=MAX_QUERY_LEN).contains(&len) {
                return;
            }
            let mut msg = vec![0u8; len];
            if !matches!(
                read_full(&mut stream, &mut msg, TCP_IDLE, &self.stop),
                Ok(true)
            ) {
                return;
            }
            let Some(resp) = self.answer(&msg, Transport::Tcp) else {
                continue;
            };
            let Ok(rlen) = u16::try_from(resp.len()) else {
                return;
            };
            let mut framed = Vec::with_capacity(resp.len() + 2);
            framed.extend_from_slice(&rlen.to_be_bytes());
            framed.extend_from_slice(&resp);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }

    /// Answers one query message, recording an event per question (or one for a malformed
    /// message). `None` when nothing should be sent back (too short to carry an id, or a
    /// response rather than a query).
    pub fn answer(&self, msg: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let q = match parse_query(msg) {
            Ok(q) => q,
            Err(e) => {
                let rcode = match e {
                    DnsError::Opcode(_) => Rcode::NotImp,
                    _ => Rcode::FormErr,
                };
                let resp = header_only_response(msg, rcode)?;
                self.recorder.record(
                    Event::new(
                        EventKind::Dns,
                        "(malformed)",
                        Verdict::Deny,
                        Source::Resolver,
                    )
                    .detail(format!("{} rejected: {e}", transport.as_str())),
                );
                return Some(resp);
            }
        };
        let allowed: Vec<bool> = q
            .questions
            .iter()
            .map(|qu| self.allow.allows_name(&qu.name))
            .collect();
        if allowed.contains(&false) {
            for (qu, ok) in q.questions.iter().zip(&allowed) {
                let note = if *ok {
                    Some("asked together with a denied name")
                } else {
                    None
                };
                self.record(qu, transport, Verdict::Deny, note);
            }
            return Some(nxdomain(&q));
        }
        match self.forward(&q, transport) {
            Some(mut ans) => {
                ans[..2].copy_from_slice(&q.id.to_be_bytes());
                for qu in &q.questions {
                    self.record(qu, transport, Verdict::Allow, None);
                }
                Some(ans)
            }
            None => {
                for qu in &q.questions {
                    self.record(qu, transport, Verdict::Allow, Some("upstream failed"));
                }
                Some(servfail(&q))
            }
        }
    }

    fn record(&self, q: &Question, transport: Transport, verdict: Verdict, note: Option<&str>) {
        let mut detail = format!("{} {}", qtype_name(q.qtype), transport.as_str());
        if q.qclass != 1 {
            detail.push_str(&format!(" class{}", q.qclass));
        }
        let flags = suspicion(&q.name);
        if !flags.is_empty() {
            detail.push_str(" suspicious:");
            detail.push_str(&flags.join(","));
        }
        if let Some(note) = note {
            detail.push_str("; ");
            detail.push_str(note);
        }
        self.recorder.record(
            Event::new(EventKind::Dns, q.name.clone(), verdict, Source::Resolver).detail(detail),
        );
    }

    /// The upstream's answer (id not yet restored), or `None` on failure. UDP first; a
    /// truncated answer is retried over TCP for TCP clients and relayed as is to UDP clients,
    /// which then retry over our TCP listener.
    fn forward(&self, q: &Query, transport: Transport) -> Option<Vec<u8>> {
        let upstream = self.upstream?;
        let id = random_id();
        let msg = q.upstream_message(id);
        let udp = udp_exchange(upstream, &msg, id, self.upstream_timeout);
        match (udp, transport) {
            (Ok(ans), Transport::Udp) => Some(ans),
            (Ok(ans), Transport::Tcp) if !is_truncated(&ans) => Some(ans),
            (Ok(ans), Transport::Tcp) => {
                Some(tcp_exchange(upstream, &msg, id, self.upstream_timeout).unwrap_or(ans))
            }
            (Err(_), Transport::Tcp) => {
                tcp_exchange(upstream, &msg, id, self.upstream_timeout).ok()
            }
            (Err(_), Transport::Udp) => None,
        }
    }
}

/// Decrements the counter when dropped.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits (bounded) until `count` reaches zero.
fn drain(count: &AtomicUsize, max: Duration) {
    let deadline = Instant::now() + max;
    while count.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(ACCEPT_NAP);
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Fills `buf` from a stream whose read timeout is [`POLL`]. `Ok(false)`: clean EOF before the
/// first byte. Errors on EOF mid-buffer, after `timeout`, or on shutdown.
fn read_full(
    stream: &mut TcpStream,
    buf: &mut [u8],
    timeout: Duration,
    stop: &AtomicBool,
) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {
                if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    return Err(io::ErrorKind::TimedOut.into());
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn is_truncated(msg: &[u8]) -> bool {
    read_header(msg).is_some_and(|h| h.metadata.truncation)
}

/// Whether `ans` answers our upstream query `id`.
fn is_answer_to(ans: &[u8], id: u16) -> bool {
    read_header(ans)
        .is_some_and(|h| h.metadata.id == id && h.metadata.message_type == MessageType::Response)
}

fn udp_exchange(
    upstream: SocketAddr,
    msg: &[u8],
    id: u16,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let any: IpAddr = if upstream.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let local = SocketAddr::new(any, 0);
    let sock = UdpSocket::bind(local)?;
    sock.connect(upstream)?;
    sock.send(msg)?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        sock.set_read_timeout(Some(left))?;
        let n = sock.recv(&mut buf)?;
        // We advertised at most 1232 bytes; a datagram filling the buffer was cut off.
        if n < buf.len() && is_answer_to(&buf[..n], id) {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

fn tcp_exchange(
    upstream: SocketAddr,
    msg: &[u8],
    id: u16,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&upstream, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let len = u16::try_from(msg.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(msg);
    s.write_all(&framed)?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut ans = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut ans)?;
    if !is_answer_to(&ans, id) {
        return Err(io::ErrorKind::InvalidData.into());
    }
    Ok(ans)
}

/// An unpredictable query id for the upstream (std's per-process random hash keys).
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAG_QR: u16 = 0x8000;
    const FLAG_RA: u16 = 0x0080;

    fn be16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
    }

    /// A bare header, written by hand so the tests do not check hickory against itself.
    fn header(id: u16, flags: u16, qd: u16, ar: u16) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [id, flags, qd, 0, 0, ar] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// A query with the given questions (names as dotted text, no compression).
    fn query(id: u16, names: &[(&str, u16)]) -> Vec<u8> {
        let mut m = header(id, FLAG_RD, names.len() as u16, 0);
        for (name, qtype) in names {
            for label in name.split('.').filter(|l| !l.is_empty()) {
                m.push(label.len() as u8);
                m.extend_from_slice(label.as_bytes());
            }
            m.push(0);
            m.extend_from_slice(&qtype.to_be_bytes());
            m.extend_from_slice(&1u16.to_be_bytes());
        }
        m
    }

    #[test]
    fn parses_a_simple_query() {
        let q = parse_query(&query(0x1234, &[("Registry.NPMJS.org", 1)])).unwrap();
        assert_eq!(q.id, 0x1234);
        assert_eq!(
            q.questions,
            vec![Question {
                name: "registry.npmjs.org".into(),
                qtype: 1,
                qclass: 1
            }]
        );
        assert_eq!(q.edns, None);
        let root = parse_query(&query(1, &[("", 2)])).unwrap();
        assert_eq!(root.questions[0].name, ".");
    }

    #[test]
    fn follows_backward_pointers_between_questions() {
        let mut m = query(7, &[("example.com", 1)]);
        m[5] = 2; // QDCOUNT
        // "www" + pointer to offset 12 (example.com), type AAAA class IN.
        m.extend_from_slice(&[3, b'w', b'w', b'w', 0xC0, 12, 0, 28, 0, 1]);
        let q = parse_query(&m).unwrap();
        assert_eq!(q.questions[1].name, "www.example.com");
        assert_eq!(q.questions[1].qtype, 28);
        // The response carries the question section verbatim, pointer included.
        let r = nxdomain(&q);
        assert_eq!(&r[HEADER_LEN..], &m[HEADER_LEN..]);
    }

    #[test]
    fn rejects_bad_pointers_and_labels() {
        // Pointer to itself.
        let mut m = header(1, 0, 1, 0);
        m.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        assert_eq!(parse_query(&m), Err(DnsError::BadPointer));
        // Pointer forward.
        let mut m = header(1, 0, 1, 0);
        m.extend_from_slice(&[0xC0, 16, 0, 1, 0, 1, 0]);
        assert_eq!(parse_query(&m), Err(DnsError::BadPointer));
        // 64-byte label: length byte 0x40 is a reserved label type.
        let mut m = header(1, 0, 1, 0);
        m.push(64);
        m.extend_from_slice(&[b'a'; 64]);
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert_eq!(parse_query(&m), Err(DnsError::LabelType));
        // 63 is fine.
        let long = "b".repeat(63);
        assert!(parse_query(&query(1, &[(&long, 1)])).is_ok());
        // Name over 255 bytes.
        let name = vec!["c".repeat(63); 4].join(".");
        assert_eq!(
            parse_query(&query(1, &[(&name, 1)])),
            Err(DnsError::NameTooLong)
        );
        // Truncated label and missing type/class.
        let m = query(1, &[("example.com", 1)]);
        assert_eq!(parse_query(&m[..15]), Err(DnsError::Truncated));
        assert_eq!(parse_query(&m[..m.len() - 1]), Err(DnsError::Truncated));
    }

    #[test]
    fn pointer_loops_are_errors_not_hangs() {
        // "a" then a pointer back to its own start: a.a.a.a... if followed.
        let mut m = header(1, 0, 1, 0);
        m.extend_from_slice(&[1, b'a', 0xC0, 12, 0, 1, 0, 1]);
        assert_eq!(parse_query(&m), Err(DnsError::BadPointer));
        // Two questions whose names point at each other (the first one forwards).
        let mut m = header(1, 0, 2, 0);
        m.extend_from_slice(&[0xC0, 18, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1]);
        assert_eq!(parse_query(&m), Err(DnsError::BadPointer));
        // Second name jumps back into the first, whose tail jumps into the second again.
        let mut m = header(1, 0, 2, 0);
        m.extend_from_slice(&[1, b'x', 0xC0, 20, 0, 1, 0, 1, 1, b'y', 0xC0, 13, 0, 1, 0, 1]);
        assert!(parse_query(&m).is_err());
        // A chain of 30 backward pointers hidden in the first name's label bytes: each jump
        // lands strictly lower, so the walk is bounded by the message, and it ends at the root.
        let mut m = header(1, 0, 2, 0);
        m.push(62);
        m.push(0); // offset 13: the chain's end, a root name
        m.push(0);
        for at in (15..75u16).step_by(2) {
            m.extend_from_slice(&(0xC000 | (at - 2)).to_be_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        m.extend_from_slice(&[0xC0, 73, 0, 1, 0, 1]);
        let q = parse_query(&m).unwrap();
        assert_eq!(q.questions[1].name, ".");
        // Jumping back to the start of the name the chain sits in overlaps it: refused.
        m[13..15].copy_from_slice(&[0xC0, 12]);
        assert_eq!(parse_query(&m), Err(DnsError::BadPointer));
    }

    #[test]
    fn pointer_into_the_header_goes_upstream_spelled_out() {
        // The name at offset 12 points at offset 0: the id 0x0161 reads as label "a", then the
        // flags' zero byte ends the name. Copied verbatim under our upstream id, the pointer
        // would read our id instead: the upstream must get the name we checked.
        let mut m = header(0x0161, 0, 1, 0);
        m.extend_from_slice(&[0xC0, 0, 0, 1, 0, 1]);
        let q = parse_query(&m).unwrap();
        assert_eq!(q.questions[0].name, "a");
        let up = q.upstream_message(0x4242);
        assert_eq!(&up[HEADER_LEN..], &[1, b'a', 0, 0, 1, 0, 1]);
        assert_eq!(parse_query(&up).unwrap().questions, q.questions);
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(parse_query(&[0; 11]), Err(DnsError::Short));
        assert_eq!(
            parse_query(&header(1, 0, 0, 0)),
            Err(DnsError::QuestionCount(0))
        );
        assert_eq!(
            parse_query(&header(1, 0, 5, 0)),
            Err(DnsError::QuestionCount(5))
        );
        assert_eq!(
            parse_query(&header(1, FLAG_QR, 1, 0)),
            Err(DnsError::NotAQuery)
        );
        assert_eq!(
            parse_query(&header(1, 5 << 11, 1, 0)),
            Err(DnsError::Opcode(5))
        );
        let mut big = query(1, &[("a", 1)]);
        big.resize(MAX_QUERY_LEN + 1, 0);
        assert_eq!(parse_query(&big), Err(DnsError::TooLong(MAX_QUERY_LEN + 1)));
    }

    #[test]
    fn escapes_odd_bytes() {
        let mut m = header(1, 0, 1, 0);
        m.extend_from_slice(&[3, b'a', b'.', 0xff, 3, b'c', b'o', b'm', 0, 0, 1, 0, 1]);
        let q = parse_query(&m).unwrap();
        assert_eq!(q.questions[0].name, "a\\046\\255.com");
        assert_eq!(suspicion(&q.questions[0].name), vec!["binary-label"]);
    }

    #[test]
    fn builds_error_responses() {
        let m = query(0xBEEF, &[("abc.exfil.invalid", 16)]);
        let q = parse_query(&m).unwrap();
        let r = nxdomain(&q);
        assert_eq!(&r[..2], &[0xBE, 0xEF]);
        let flags = be16(&r, 2).unwrap();
        assert_eq!(flags & FLAG_QR, FLAG_QR);
        assert_eq!(flags & FLAG_RA, FLAG_RA);
        assert_eq!(flags & FLAG_RD, FLAG_RD, "RD echoed");
        assert_eq!(flags & 0xf, 3);
        assert_eq!(be16(&r, 4), Some(1));
        assert_eq!(be16(&r, 6), Some(0));
        assert_eq!(&r[HEADER_LEN..], &m[HEADER_LEN..]);
        assert_eq!(be16(&refused(&q), 2).unwrap() & 0xf, 5);
        assert_eq!(be16(&servfail(&q), 2).unwrap() & 0xf, 2);
        let fe = header_only_response(&header(9, 0, 0, 0), Rcode::FormErr).unwrap();
        assert_eq!(fe.len(), HEADER_LEN);
        assert_eq!(be16(&fe, 2).unwrap() & 0x800f, 0x8001);
        assert_eq!(header_only_response(&[1, 2, 3], Rcode::FormErr), None);
        assert_eq!(
            header_only_response(&header(9, FLAG_QR, 1, 0), Rcode::FormErr),
            None
        );
    }

    #[test]
    fn upstream_message_strips_options() {
        let mut m = query(5, &[("example.com", 1)]);
        m[11] = 1; // ARCOUNT
        // OPT: size 4096, DO set, one client-subnet option (code 8).
        m.extend_from_slice(&[0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 8]);
        m.extend_from_slice(&[0, 8, 0, 4, 0, 1, 24, 0]);
        let q = parse_query(&m).unwrap();
        assert_eq!(
            q.edns,
            Some(Edns {
                udp_size: 4096,
                dnssec_ok: true
            })
        );
        let up = q.upstream_message(0x4242);
        assert_eq!(&up[..2], &[0x42, 0x42]);
        assert_eq!(be16(&up, 10), Some(1));
        let opt = &up[up.len() - 11..];
        assert_eq!(opt, &[0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0]);
        let plain = parse_query(&query(5, &[("example.com", 1)])).unwrap();
        let up = plain.upstream_message(1);
        assert_eq!(be16(&up, 10), Some(0));
        assert_eq!(
            &up[HEADER_LEN..],
            &query(5, &[("example.com", 1)])[HEADER_LEN..]
        );
    }

    #[test]
    fn suspicion_flags() {
        assert!(suspicion("registry.npmjs.org").is_empty());
        assert!(suspicion("objects.githubusercontent.com").is_empty());
        assert!(suspicion("d3c33hcgiwev3.cloudfront.net").is_empty());
        assert!(suspicion("1.0.0.127.in-addr.arpa").is_empty());
        assert_eq!(
            suspicion("deadbeefcafef00d.x.invalid"),
            vec!["encoded-label"]
        );
        // hex("AWS_SECRET")
        assert_eq!(
            suspicion("4157535f534543524554.x.invalid"),
            vec!["encoded-label"]
        );
        assert!(suspicion("aaaaaaaaaaaaaaaaaaaa.x.invalid").is_empty());
        // base32("secret-token-value")
        assert_eq!(
            suspicion("onswg4tfoqwxi33lmvxc25tbnr2wk.exfil.invalid"),
            vec!["encoded-label"]
        );
        assert_eq!(
            suspicion("onswg4tfoqwxi33lmvxc25tbnr2wkllbnzsc23lpojss2zdborqq.exfil.invalid."),
            vec!["long-label", "encoded-label"]
        );
        assert_eq!(suspicion("a.b.c.d.e.f.g"), vec!["many-labels"]);
        assert_eq!(
            suspicion(&format!("{}.x.invalid", "a".repeat(40))),
            vec!["long-label"]
        );
    }

    #[test]
    fn resolv_conf() {
        let text = "# comment\nsearch example.com\nnameserver fe80::1%eth0\n\
                    nameserver 127.0.0.53 # resolved\nnameserver 8.8.8.8\n";
        assert_eq!(
            parse_resolv_conf(text),
            Some("127.0.0.53:53".parse().unwrap())
        );
        assert_eq!(
            parse_resolv_conf("nameserver ::1"),
            Some("[::1]:53".parse().unwrap())
        );
        assert_eq!(parse_resolv_conf("options ndots:5\n"), None);
        assert_eq!(parse_resolv_conf(""), None);
    }

    #[test]
    fn qtype_names() {
        assert_eq!(qtype_name(28), "AAAA");
        assert_eq!(qtype_name(16), "TXT");
        assert_eq!(qtype_name(999), "TYPE999");
    }
}
