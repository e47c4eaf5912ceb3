//! Have I Been Pwned: the Pwned Passwords range API (k-anonymity), the downloadable ordered
//! hash file (offline mode), and the v3 `breachedaccount` API.
//!
//! Hand-written: the HIBP crates (`pwned` 0.5, `hibp` 0.1, `pwnage` 0.0.1) are small and
//! stale, and the range protocol is a few lines on `sha1` and the workspace's HTTP client.
//!
//! - Only the first 5 hex digits of a password's SHA-1 leave the machine ([`RangeClient`]),
//!   with `Add-Padding: true` so the reply size does not reveal the prefix's popularity; the
//!   padding lines (count 0) are ignored.
//! - [`HashFile`] searches the ordered `HASH:COUNT` file by binary search with seeks, reading a
//!   few KiB per lookup, never the whole file (it is tens of GB).
//! - [`AccountClient`] needs an API key ([`ApiKey`], from `HIBP_API_KEY` or the CLI's config file; its
//!   `Debug` is redacted and it is never part of an error), treats 404 as "not breached", and
//!   honours 429 `retry-after` with a bounded number of retries and a bounded wait.
//!
//! The judging ([`count_in_range`], [`HashFile`]'s line parsing) is sans-IO or file-only.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::web::{Web, join, parse_base, shown};

/// The public range API.
pub const PWNED_PASSWORDS_API: &str = "https://api.pwnedpasswords.com";
/// The public v3 API.
pub const HIBP_API: &str = "https://haveibeenpwned.com/api/v3";
/// The environment variable holding the HIBP API key.
pub const API_KEY_ENV: &str = "HIBP_API_KEY";

#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error(
        "no HIBP API key: set {API_KEY_ENV} or put the key in ~/.config/turncoat/hibp-api-key (breached-account checks need a key from haveibeenpwned.com/API/Key)"
    )]
    NoApiKey,
    #[error("{url}: HIBP rejected the API key (HTTP 401)")]
    BadApiKey { url: String },
    #[error(
        "{url}: rate limited (HTTP 429) after {attempts} attempt(s); retry-after {retry_after:?}"
    )]
    RateLimited {
        url: String,
        attempts: u32,
        retry_after: Option<String>,
    },
    #[error("{url}: unexpected reply: {message}")]
    BadReply { url: String, message: String },
    #[error("{}: {message}", path.display())]
    HashFile { path: PathBuf, message: String },
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The SHA-1 of a password as 40 upper-case hex digits, zeroised on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(Zeroizing<[u8; 40]>);

impl std::hash::Hash for PasswordHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0[..].hash(state);
    }
}

impl PasswordHash {
    pub fn of(password: &[u8]) -> PasswordHash {
        let digest = Zeroizing::new(<[u8; 20]>::from(Sha1::digest(password)));
        let mut hex = Zeroizing::new([0u8; 40]);
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for (i, b) in digest.iter().enumerate() {
            hex[2 * i] = HEX[(b >> 4) as usize];
            hex[2 * i + 1] = HEX[(b & 15) as usize];
        }
        PasswordHash(hex)
    }

    fn hex(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0[..]).unwrap_or_default()
    }

    /// The first 5 hex digits: the only part that leaves the machine.
    pub fn prefix(&self) -> &str {
        &self.hex()[..5]
    }

    /// The other 35 hex digits.
    pub fn suffix(&self) -> &str {
        &self.hex()[5..]
    }

    fn full(&self) -> &str {
        self.hex()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// How often a password appears in Pwned Passwords (0 = not found).
pub trait PwnedPasswords {
    fn count(&mut self, hash: &PasswordHash) -> Result<u64, BreachError>;
}

/// The count of `hash` in a range reply (`SUFFIX:COUNT` lines); padding lines (count 0) are
/// skipped, a malformed line is an error (a reply we cannot read must not read as "clean").
pub fn count_in_range(body: &str, hash: &PasswordHash) -> Result<u64, BreachError> {
    let bad = |message: String| BreachError::BadReply {
        url: "range".into(),
        message,
    };
    for (i, line) in body.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (suffix, count) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("line {} has no ':'", i + 1)))?;
        if suffix.len() != 35 || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!(
                "line {} is not a 35-digit SHA-1 suffix",
                i + 1
            )));
        }
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| bad(format!("line {} has no count", i + 1)))?;
        if count > 0 && suffix.eq_ignore_ascii_case(hash.suffix()) {
            return Ok(count);
        }
    }
    Ok(0)
}

/// The Pwned Passwords range API client.
pub struct RangeClient {
    web: Web,
    base: url::Url,
}

impl RangeClient {
    /// `base` is [`PWNED_PASSWORDS_API`] or a test server.
    pub fn new(base: &str, timeout: Duration) -> Result<RangeClient, BreachError> {
        Ok(RangeClient {
            web: Web::new(timeout),
            base: parse_base(base)?,
        })
    }
}

impl PwnedPasswords for RangeClient {
    fn count(&mut self, hash: &PasswordHash) -> Result<u64, BreachError> {
        let url = join(&self.base, &["range", hash.prefix()])?;
        let reply = self.web.get(&url, &[("add-padding", "true")])?;
        if reply.status != 200 {
            return Err(BreachError::Status {
                url: shown(&url),
                status: reply.status,
            });
        }
        let body = String::from_utf8(reply.body).map_err(|_| BreachError::BadReply {
            url: shown(&url),
            message: "not UTF-8".into(),
        })?;
        count_in_range(&body, hash).map_err(|e| match e {
            BreachError::BadReply { message, .. } => BreachError::BadReply {
                url: shown(&url),
                message,
            },
            e => e,
        })
    }
}

/// The downloadable ordered SHA-1 file (`HASH:COUNT` lines sorted by hash, LF or CRLF),
/// searched by binary search with seeks.
pub struct HashFile {
    file: File,
    len: u64,
    path: PathBuf,
}

/// Longest accepted line (`40 hex + ':' + a count + CRLF` is under 64 bytes).
const MAX_LINE: usize = 128;
/// Below this many bytes the search reads the window and scans it.
const WINDOW: u64 = 8 * 1024;

impl HashFile {
    pub fn open(path: &Path) -> Result<HashFile, BreachError> {
        let io = |source| BreachError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(BreachError::HashFile {
                path: path.to_path_buf(),
                message: "not a regular file".into(),
            });
        }
        Ok(HashFile {
            file,
            len: meta.len(),
            path: path.to_path_buf(),
        })
    }

    fn err(&self, message: impl Into<String>) -> BreachError {
        BreachError::HashFile {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> Result<usize, BreachError> {
        let io = |source| BreachError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.seek(SeekFrom::Start(at)).map_err(&io)?;
        let mut n = 0;
        while n < buf.len() {
            match self.file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(n)
    }

    /// The offset of the first line that starts at or after `p`.
    fn line_start_from(&mut self, p: u64) -> Result<u64, BreachError> {
        if p == 0 {
            return Ok(0);
        }
        let mut buf = [0u8; MAX_LINE];
        let n = self.read_at(p - 1, &mut buf)?;
        match buf[..n].iter().position(|&b| b == b'\n') {
            Some(i) => Ok(p + i as u64),
            None if p - 1 + n as u64 >= self.len => Ok(self.len),
            None => Err(self.err(format!(
                "a line longer than {MAX_LINE} bytes near offset {p}: not a Pwned Passwords SHA-1 file"
            ))),
        }
    }

    /// The line starting at `at`, parsed.
    fn line_at(&mut self, at: u64) -> Result<([u8; 40], u64), BreachError> {
        let mut buf = [0u8; MAX_LINE];
        let n = self.read_at(at, &mut buf)?;
        let end = buf[..n].iter().position(|&b| b == b'\n').unwrap_or(n);
        parse_line(&buf[..end]).map_err(|m| self.err(format!("offset {at}: {m}")))
    }

    /// Scan the lines starting in `[lo, hi)`, checking their order on the way.
    fn scan(&mut self, lo: u64, hi: u64, target: &[u8; 40]) -> Result<u64, BreachError> {
        let end = (hi + MAX_LINE as u64).min(self.len);
        let mut buf = vec![0u8; (end - lo) as usize];
        let n = self.read_at(lo, &mut buf)?;
        buf.truncate(n);
        let mut pos = 0usize;
        let mut last: Option<[u8; 40]> = None;
        while (lo + pos as u64) < hi && pos < buf.len() {
            let rest = &buf[pos..];
            let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let (hash, count) = parse_line(&rest[..len])
                .map_err(|m| self.err(format!("offset {}: {m}", lo + pos as u64)))?;
            if last.is_some_and(|l| l > hash) {
                return Err(self.err(format!(
                    "not sorted at offset {}: the file must be ordered by hash",
                    lo + pos as u64
                )));
            }
            match hash.cmp(target) {
                std::cmp::Ordering::Equal => return Ok(count),
                std::cmp::Ordering::Greater => return Ok(0),
                std::cmp::Ordering::Less => {}
            }
            last = Some(hash);
            pos += len + 1;
        }
        Ok(0)
    }
}

impl PwnedPasswords for HashFile {
    fn count(&mut self, hash: &PasswordHash) -> Result<u64, BreachError> {
        let mut target = [0u8; 40];
        target.copy_from_slice(hash.full().as_bytes());
        // Invariant: every line starting before `lo` sorts below the target, every line
        // starting at or after `hi` above it; `lo` is a line start.
        let (mut lo, mut hi) = (0u64, self.len);
        while hi - lo > WINDOW {
            let mid = lo + (hi - lo) / 2;
            let s = self.line_start_from(mid)?;
            if s >= hi {
                break;
            }
            let (h, count) = self.line_at(s)?;
            match h.cmp(&target) {
                std::cmp::Ordering::Equal => return Ok(count),
                std::cmp::Ordering::Less => lo = s,
                std::cmp::Ordering::Greater => hi = s,
            }
        }
        self.scan(lo, hi, &target)
    }
}

/// One `HASH:COUNT` line (CR tolerated), the hash upper-cased.
fn parse_line(line: &[u8]) -> Result<([u8; 40], u64), String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or("a line without ':'")?;
    let (h, c) = (&line[..colon], &line[colon + 1..]);
    if h.len() == 32 && h.iter().all(u8::is_ascii_hexdigit) {
        return Err("an NTLM hash file; turncoat needs the SHA-1 file".into());
    }
    if h.len() != 40 || !h.iter().all(u8::is_ascii_hexdigit) {
        return Err("not a 40-digit SHA-1 hash".into());
    }
    let mut hash = [0u8; 40];
    for (d, s) in hash.iter_mut().zip(h) {
        *d = s.to_ascii_uppercase();
    }
    let count = std::str::from_utf8(c)
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .ok_or("no count after ':'")?;
    Ok((hash, count))
}

/// The HIBP API key; `Debug` is redacted and the value is sent only in the `hibp-api-key`
/// header.
pub struct ApiKey(Zeroizing<String>);

impl ApiKey {
    pub fn new(key: &str) -> Option<ApiKey> {
        let key = key.trim();
        (!key.is_empty()).then(|| ApiKey(Zeroizing::new(key.to_string())))
    }

    /// From [`API_KEY_ENV`]; [`BreachError::NoApiKey`] when unset or empty.
    pub fn from_env() -> Result<ApiKey, BreachError> {
        std::env::var(API_KEY_ENV)
            .ok()
            .and_then(|k| ApiKey::new(&Zeroizing::new(k)))
            .ok_or(BreachError::NoApiKey)
    }

    /// The value, to scan outputs for it in tests.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// One breach of an account, as `breachedaccount?truncateResponse=false` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Breach {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub breach_date: Option<String>,
    #[serde(default)]
    pub data_classes: Vec<String>,
}

/// The HIBP v3 `breachedaccount` client.
pub struct AccountClient {
    web: Web,
    base: url::Url,
    key: ApiKey,
    /// Extra attempts after a 429. Default 3.
    pub retries: u32,
    /// Longest `retry-after` honoured; a longer one is an error. Default 60 s.
    pub max_wait: Duration,
}

impl AccountClient {
    /// `base` is [`HIBP_API`] or a test server.
    pub fn new(base: &str, key: ApiKey, timeout: Duration) -> Result<AccountClient, BreachError> {
        Ok(AccountClient {
            web: Web::new(timeout),
            base: parse_base(base)?,
            key,
            retries: 3,
            max_wait: Duration::from_secs(60),
        })
    }

    /// The breaches `account` is in; empty when HIBP answers 404 (not breached).
    pub fn breaches(&self, account: &str) -> Result<Vec<Breach>, BreachError> {
        let mut url = join(&self.base, &["breachedaccount", account.trim()])?;
        url.set_query(Some("truncateResponse=false&includeUnverified=false"));
        let mut attempt = 0;
        loop {
            let reply = self.web.get(
                &url,
                &[
                    ("hibp-api-key", self.key.expose()),
                    ("accept", "application/json"),
                ],
            )?;
            match reply.status {
                200 => {
                    return serde_json::from_slice(&reply.body).map_err(|e| {
                        BreachError::BadReply {
                            url: shown(&url),
                            message: e.to_string(),
                        }
                    });
                }
                404 => return Ok(Vec::new()),
                401 => return Err(BreachError::BadApiKey { url: shown(&url) }),
                429 => {
                    let wait = retry_after(reply.retry_after.as_deref());
                    attempt += 1;
                    if attempt > self.retries || wait.is_none_or(|w| w > self.max_wait) {
                        return Err(BreachError::RateLimited {
                            url: shown(&url),
                            attempts: attempt,
                            retry_after: reply.retry_after,
                        });
                    }
                    std::thread::sleep(wait.unwrap_or_default());
                }
                status => {
                    return Err(BreachError::Status {
                        url: shown(&url),
                        status,
                    });
                }
            }
        }
    }
}

/// The `email-in-breach` finding for `email` when `breaches` is not empty (sans-IO).
pub fn judge_account(email: &str, breaches: &[Breach], out: &mut Vec<turncoat_finding::Finding>) {
    crate::rules::email_in_breach::judge(email, breaches, out);
}

/// `retry-after` in seconds (HIBP sends an integer); absent means 2 s, unreadable means none.
fn retry_after(v: Option<&str>) -> Option<Duration> {
    match v {
        None => Some(Duration::from_secs(2)),
        Some(s) => s.trim().parse::<u64>().ok().map(Duration::from_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_password_splits_into_prefix_and_suffix() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
        let h = PasswordHash::of(b"password");
        assert_eq!(h.prefix(), "5BAA6");
        assert_eq!(h.suffix(), "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
        assert_eq!(format!("{h:?}"), "PasswordHash(<redacted>)");
    }

    #[test]
    fn range_reply_counts_and_skips_padding() {
        let h = PasswordHash::of(b"password");
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1e4c9b93f3f0682250b6cf8331b7ee68fd8:3861493\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0\r\n";
        assert_eq!(count_in_range(body, &h).unwrap(), 3_861_493);
        let padded = "1E4C9B93F3F0682250B6CF8331B7EE68FD8:0\n";
        assert_eq!(
            count_in_range(padded, &h).unwrap(),
            0,
            "padding is not a hit"
        );
        assert!(count_in_range("<html>", &h).is_err());
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(retry_after(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(None), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }

    fn write_file(lines: &[String]) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for l in lines {
            write!(f, "{l}\r\n").unwrap();
        }
        f.flush().unwrap();
        f
    }

    /// 20,000 ordered hashes of generated passwords: every one is found with its count, and
    /// others are not.
    #[test]
    fn hash_file_binary_search_finds_every_line() {
        let mut rows: Vec<(String, u64)> = (0..20_000u64)
            .map(|i| {
                let h = PasswordHash::of(format!("pw-{i}").as_bytes());
                (h.full().to_string(), i + 1)
            })
            .collect();
        rows.sort();
        let f = write_file(
            &rows
                .iter()
                .map(|(h, c)| format!("{h}:{c}"))
                .collect::<Vec<_>>(),
        );
        let mut file = HashFile::open(f.path()).unwrap();
        for i in (0..20_000u64).step_by(97).chain([0, 19_999]) {
            let h = PasswordHash::of(format!("pw-{i}").as_bytes());
            assert_eq!(file.count(&h).unwrap(), i + 1, "pw-{i}");
        }
        for i in 0..200 {
            let h = PasswordHash::of(format!("absent-{i}").as_bytes());
            assert_eq!(file.count(&h).unwrap(), 0);
        }
    }

    #[test]
    fn hash_file_refuses_ntlm_and_garbage() {
        let ntlm = write_file(&["8846F7EAEE8FB117AD06BDD830B7586C:1".into()]);
        let e = HashFile::open(ntlm.path())
            .unwrap()
            .count(&PasswordHash::of(b"password"))
            .unwrap_err();
        assert!(e.to_string().contains("NTLM"), "{e}");
        let long = write_file(&["A".repeat(100_000)]);
        assert!(
            HashFile::open(long.path())
                .unwrap()
                .count(&PasswordHash::of(b"x"))
                .is_err()
        );
        let empty = write_file(&[]);
        assert_eq!(
            HashFile::open(empty.path())
                .unwrap()
                .count(&PasswordHash::of(b"x"))
                .unwrap(),
            0
        );
    }

    #[test]
    fn hash_file_detects_disorder_in_the_window() {
        let mut h: Vec<PasswordHash> = ["a", "b", "c", "d"]
            .iter()
            .map(|p| PasswordHash::of(p.as_bytes()))
            .collect();
        h.sort_by(|a, b| a.full().cmp(b.full()));
        let f = write_file(&[0, 2, 1].map(|i| format!("{}:1", h[i].full())));
        let e = HashFile::open(f.path()).unwrap().count(&h[3]).unwrap_err();
        assert!(e.to_string().contains("not sorted"), "{e}");
    }

    #[test]
    fn api_key_is_redacted() {
        let k = ApiKey::new("  secret-key-value ").unwrap();
        assert_eq!(format!("{k:?}"), "ApiKey(<redacted>)");
        assert_eq!(k.expose(), "secret-key-value");
        assert!(ApiKey::new(" ").is_none());
        assert!(!BreachError::NoApiKey.to_string().contains("secret"));
    }
}
