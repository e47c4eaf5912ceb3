//! What the sandbox saw: one [`Event`] per observed or refused action, written as JSON Lines,
//! and the [`Recorder`] every observer (seccomp supervisor, DNS resolver, proxy) shares.
//!
//! Events never carry secret values: environment values, file contents and DNS payload bytes
//! beyond the queried name are not recorded. The exfiltration name itself is evidence and kept.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What happened. Stable kebab-case names: baselines and CI filters match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A program was executed (argv recorded).
    Exec,
    /// A socket connect to an address (IP:port or a Unix socket path).
    Connect,
    /// A datagram sent to an explicit address (sendto/sendmsg).
    Send,
    /// A DNS question (from our resolver, or parsed from a datagram payload).
    Dns,
    /// A request through the sandbox's HTTP proxy (CONNECT host:port or plain HTTP).
    Proxy,
    /// An open of a credential or secret path (npm/ssh/cloud credentials, /proc/*/environ, wallets).
    SensitiveRead,
    /// A write to a place that makes code run later (shell rc, CI workflows, editor/agent config).
    PersistenceWrite,
    /// A read of a planted honeytoken file (detonation only).
    CanaryRead,
    /// A syscall the sandbox refuses outright (io_uring, ptrace, nested namespaces, raw sockets).
    Refused,
    /// Processes still alive when the watched command ended, killed with the sandbox.
    Killed,
    /// A resource limit of the sandbox's cgroup was reached (`memory.max`, `pids.max`).
    Limit,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Exec => "exec",
            EventKind::Connect => "connect",
            EventKind::Send => "send",
            EventKind::Dns => "dns",
            EventKind::Proxy => "proxy",
            EventKind::SensitiveRead => "sensitive-read",
            EventKind::PersistenceWrite => "persistence-write",
            EventKind::CanaryRead => "canary-read",
            EventKind::Refused => "refused",
            EventKind::Killed => "killed",
            EventKind::Limit => "limit",
        }
    }
}

/// What the sandbox did about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Allowed and expected (an allowlisted host, an ordinary exec).
    Allow,
    /// Recorded, not stopped (audit mode, or nothing to stop).
    Observe,
    /// Stopped: NXDOMAIN, proxy refusal, EPERM/EACCES, no route.
    Deny,
}

/// Which observer produced the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Seccomp,
    Resolver,
    Proxy,
    Supervisor,
}

/// One JSON Lines record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Order of recording within the run, from 1.
    pub seq: u64,
    /// RFC 3339 UTC with milliseconds.
    pub time: String,
    pub event: EventKind,
    /// The host, address, path or program the event is about.
    pub target: String,
    pub verdict: Verdict,
    pub source: Source,
    /// Host pid of the acting process, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// `name@version` of the npm package whose lifecycle script (or code) acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The npm lifecycle stage (`preinstall`, `install`, `postinstall`, `prepare`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Short extra context: DNS type and transport, open flags, errno, why it was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// A new event with no process attribution; the recorder fills `seq` and `time`.
    pub fn new(
        event: EventKind,
        target: impl Into<String>,
        verdict: Verdict,
        source: Source,
    ) -> Self {
        Event {
            seq: 0,
            time: String::new(),
            event,
            target: target.into(),
            verdict,
            source,
            pid: None,
            exe: None,
            argv: None,
            package: None,
            stage: None,
            detail: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Events as JSON Lines (one object per line), the `--events` file format.
pub fn json_lines(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for ev in events {
        if serde_json::to_writer(&mut out, ev).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// Shared, thread-safe event log: keeps every event in memory (for the summary and the
/// baseline) and streams each as one JSON line to an optional writer.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderInner>>,
}

#[derive(Default)]
struct RecorderInner {
    events: Vec<Event>,
    sink: Option<Box<dyn Write + Send>>,
    sink_error: Option<String>,
}

/// At most this many events are kept; a runaway loop must not exhaust memory.
pub const MAX_EVENTS: usize = 200_000;

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Also write every event as a JSON line to `sink` (flushed per event: a killed run keeps
    /// what it saw).
    pub fn with_sink(sink: Box<dyn Write + Send>) -> Self {
        let r = Recorder::default();
        r.lock().sink = Some(sink);
        r
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderInner> {
        // A panicking observer thread must not silence the others.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, mut ev: Event) {
        let mut inner = self.lock();
        if inner.events.len() >= MAX_EVENTS {
            return;
        }
        ev.seq = inner.events.len() as u64 + 1;
        ev.time = rfc3339_now();
        if let Some(sink) = inner.sink.as_mut() {
            let line = serde_json::to_string(&ev).unwrap_or_default();
            let res = writeln!(sink, "{line}").and_then(|()| sink.flush());
            if let Err(e) = res {
                inner.sink_error.get_or_insert_with(|| e.to_string());
            }
        }
        inner.events.push(ev);
    }

    /// Every event so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// The first error writing the JSON Lines sink, if any.
    pub fn sink_error(&self) -> Option<String> {
        self.lock().sink_error.clone()
    }
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_now() -> String {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, mo, da) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{da:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_785), (2026, 11, 28));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn recorder_numbers_and_streams() {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let r = Recorder::with_sink(Box::new(buf.clone()));
        r.record(
            Event::new(
                EventKind::Dns,
                "x.exfil.invalid",
                Verdict::Deny,
                Source::Resolver,
            )
            .detail("A udp"),
        );
        r.record(Event::new(
            EventKind::Exec,
            "/bin/sh",
            Verdict::Allow,
            Source::Seccomp,
        ));
        let evs = r.events();
        assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let first: Event = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first.event, EventKind::Dns);
        assert_eq!(first.target, "x.exfil.invalid");
        assert!(text.contains("\"event\":\"dns\""), "{text}");
        assert!(
            !text.contains("\"pid\""),
            "absent fields are omitted: {text}"
        );
    }
}

/// Replace secret-looking parts of a command-line argument with `<redacted>`: well-known token
/// prefixes (npm, GitHub, GitLab, Slack, AWS access keys, JWTs) and the value of
/// `--token=`/`_authToken=`/`Authorization:`-style arguments. Arguments are evidence; the
/// secrets inside them must never reach a log.
pub fn redact(arg: &str) -> String {
    const KEYS: &[&str] = &[
        "authorization:",
        "token=",
        "_authtoken=",
        "_auth=",
        "password=",
        "secret=",
        "apikey=",
        "api_key=",
    ];
    let lower = arg.to_ascii_lowercase();
    for k in KEYS {
        if let Some(i) = lower.find(k) {
            return format!("{}<redacted>", &arg[..i + k.len()]);
        }
    }
    const PREFIXES: &[&str] = &[
        "npm_",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "ASIA",
        "eyJ",
        "pypi-",
    ];
    arg.split_inclusive(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map(|tok| {
            let word = tok.trim_end_matches(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            });
            let looks_secret = PREFIXES.iter().any(|p| {
                let Some(rest) = word.strip_prefix(p) else {
                    return false;
                };
                if *p == "github_pat_" || *p == "eyJ" {
                    rest.len() >= 20
                } else if *p == "pypi-" {
                    // PyPI's macaroons are urlsafe base64 (`pypi-AgEIcHlwaS5vcmc…`).
                    rest.len() >= 16
                        && rest
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                } else {
                    // Token bodies are plain alphanumerics; `npm_config_cache` is not a token.
                    rest.len() >= 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                }
            });
            if looks_secret {
                tok.replacen(word, "<redacted>", 1)
            } else {
                tok.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    #[test]
    fn tokens_never_survive() {
        assert_eq!(redact("--token=abc123"), "--token=<redacted>");
        assert_eq!(
            redact("Authorization: Bearer xyz"),
            "Authorization:<redacted>"
        );
        assert_eq!(
            redact("//registry/:_authToken=npm_abcdefghijklmnopqrstuvwxyz"),
            "//registry/:_authToken=<redacted>"
        );
        assert_eq!(
            redact("curl https://x.invalid/?k=ghp_0123456789abcdefghij"),
            "curl https://x.invalid/?k=<redacted>"
        );
        assert_eq!(redact("AKIAIOSFODNN7EXAMPLE"), "<redacted>");
    }

    #[test]
    fn ordinary_arguments_stay() {
        for a in [
            "node",
            "lib/telemetry.js",
            "--prefix=/tmp/x",
            "npm_config_cache",
            "install",
        ] {
            assert_eq!(redact(a), a);
        }
    }
}
