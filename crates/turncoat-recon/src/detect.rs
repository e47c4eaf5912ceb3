//! Secret detectors: bytes of one blob in, hits out (sans-IO).
//!
//! Each detector is a literal-anchored regular expression (the `regex` crate runs a SIMD
//! prefilter on the literal, so a blob without `npm_`, `ghp_`, `AKIA`, … costs one pass) plus a
//! validation that removes look-alikes: the CRC32 checksum of GitHub and npm tokens, the
//! macaroon header of PyPI tokens, an `EXAMPLE` allowlist for AWS, a matching `END` line for
//! private keys, and Shannon entropy for credential-named assignments. Formats and anchors'
//! regexes: `../shared/research/stages.md` §1.
//!
//! UTF-16 text (a BOM, or NULs in alternate bytes) is transcoded and scanned as text. Other
//! binary blobs (a NUL byte in the first 8000 bytes, git's own test) are scanned with the
//! anchored token detectors only; they have no lines, so line-based rules (`.npmrc` lines,
//! credential assignments) skip them.

use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;
use serde::Serialize;

/// What kind of secret a hit is. The kebab-case name is the `rule` in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    NpmAccessToken,
    NpmLegacyToken,
    NpmrcAuth,
    PypiToken,
    GithubToken,
    GithubFineGrainedToken,
    GitlabToken,
    AwsAccessKey,
    PrivateKey,
    CredentialAssignment,
}

impl SecretKind {
    pub const ALL: [SecretKind; 10] = [
        SecretKind::NpmAccessToken,
        SecretKind::NpmLegacyToken,
        SecretKind::NpmrcAuth,
        SecretKind::PypiToken,
        SecretKind::GithubToken,
        SecretKind::GithubFineGrainedToken,
        SecretKind::GitlabToken,
        SecretKind::AwsAccessKey,
        SecretKind::PrivateKey,
        SecretKind::CredentialAssignment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::NpmAccessToken => "npm-access-token",
            SecretKind::NpmLegacyToken => "npm-legacy-token",
            SecretKind::NpmrcAuth => "npmrc-auth",
            SecretKind::PypiToken => "pypi-token",
            SecretKind::GithubToken => "github-token",
            SecretKind::GithubFineGrainedToken => "github-fine-grained-token",
            SecretKind::GitlabToken => "gitlab-token",
            SecretKind::AwsAccessKey => "aws-access-key",
            SecretKind::PrivateKey => "private-key",
            SecretKind::CredentialAssignment => "credential-assignment",
        }
    }

    /// Publish credentials: a token that can publish packages to a registry (npm, PyPI).
    pub fn is_publish_credential(self) -> bool {
        matches!(
            self,
            SecretKind::NpmAccessToken
                | SecretKind::NpmLegacyToken
                | SecretKind::NpmrcAuth
                | SecretKind::PypiToken
        )
    }

    /// One line for humans.
    pub fn describe(self) -> &'static str {
        match self {
            SecretKind::NpmAccessToken => "npm access token",
            SecretKind::NpmLegacyToken => "legacy npm token (UUID)",
            SecretKind::NpmrcAuth => ".npmrc or .yarnrc.yml registry credential",
            SecretKind::PypiToken => "PyPI API token",
            SecretKind::GithubToken => "GitHub token",
            SecretKind::GithubFineGrainedToken => "GitHub fine-grained token",
            SecretKind::GitlabToken => "GitLab token",
            SecretKind::AwsAccessKey => "AWS access key",
            SecretKind::PrivateKey => "private key",
            SecretKind::CredentialAssignment => "credential-named assignment",
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret's value. It is never printed: `Debug` and `Display` show the redacted form, and
/// there is no `Serialize`. Only [`SecretValue::redacted`] and the fingerprint leave this type.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(s: impl Into<String>) -> SecretValue {
        SecretValue(s.into())
    }

    /// A prefix of at most 4 characters (at most a quarter of the value) and the length.
    pub fn redacted(&self) -> Redacted {
        let len = self.0.chars().count();
        let keep = (len / 4).min(4);
        Redacted {
            prefix: self.0.chars().take(keep).collect(),
            len,
        }
    }

    /// For comparisons inside this crate only (dedup, pairing).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({})", self.redacted())
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.redacted(), f)
    }
}

/// What reports show of a secret: `npm_…` and the length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redacted {
    pub prefix: String,
    pub len: usize,
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}… ({} chars)", self.prefix, self.len)
    }
}

/// One secret found in one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub kind: SecretKind,
    pub value: SecretValue,
    /// 1-based line of the match; `None` in binary blobs.
    pub line: Option<u32>,
    /// AWS: a secret access key was found beside the key id (same blob, within 10 lines).
    pub paired_secret: bool,
}

/// The 62 digits GitHub and npm use for their checksums.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 6-character base62 (zero-padded) CRC32 of `random`: the checksum GitHub (`ghp_` …)
/// and npm (`npm_`) tokens end with. 62^6 > 2^32, so six digits always suffice.
pub fn base62_crc32(random: &[u8]) -> [u8; 6] {
    let mut n = crc32fast::hash(random);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// `prefix_` + 30 random + 6 checksum characters, the checksum over the random part.
pub fn checksum_ok(token: &[u8], prefix_len: usize) -> bool {
    let body = &token[prefix_len.min(token.len())..];
    if body.len() != 36 {
        return false;
    }
    let (random, sum) = body.split_at(30);
    base62_crc32(random) == sum
}

/// An `npm_` token: a valid checksum (GitHub's scheme, which npm adopted in 2021), or, since
/// that scheme is documented but was not confirmed on a real npm token here, 36 characters
/// that look generated (upper, lower and digits, ≥ 4 bits per character). Missing a live
/// publish token costs more than one look-alike; `npm_` + a word never passes.
pub fn npm_token_ok(token: &[u8]) -> bool {
    if checksum_ok(token, 4) {
        return true;
    }
    let body = &token[4.min(token.len())..];
    body.iter().any(u8::is_ascii_uppercase)
        && body.iter().any(u8::is_ascii_lowercase)
        && body.iter().any(u8::is_ascii_digit)
        && entropy(body) >= 4.0
}

/// Not a placeholder (`xxxx…`, `****`, one repeated character) and at least `bits` of
/// entropy per character.
fn random_enough(v: &[u8], bits: f64) -> bool {
    let placeholder = [&b"xxxx"[..], b"XXXX", b"****", b"0000", b"<", b"${"];
    !placeholder
        .iter()
        .any(|p| memchr::memmem::find(v, p).is_some())
        && entropy(v) >= bits
}

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Git's test for binary content: a NUL byte in the first 8000 bytes.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8000)]).is_some()
}

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file; a test compiles every one of them.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in pattern {pattern}: {e}"))
}

static NPM: LazyLock<Regex> = LazyLock::new(|| re(r"npm_[A-Za-z0-9]{36}"));
static UUID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
static NPM_KEYWORD: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)npm|_authToken"));
/// `//host/:_authToken=…` anywhere; in an `.npmrc` also the host-less `_authToken=…` forms.
static NPMRC_HOST: LazyLock<Regex> =
    LazyLock::new(|| re(r"//[^\s:]+/:(?:_authToken|_auth|_password)\s*=\s*([^\s'\x22]+)"));
/// Yarn 2+ `.yarnrc.yml`: `npmAuthToken:` / `npmAuthIdent:` at any indentation (top level or
/// under `npmScopes`/`npmRegistries`).
static YARNRC: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?m)^[ \t]*(?:npmAuthToken|npmAuthIdent)[ \t]*:[ \t]*["']?([^\s'\x22#]+)"#)
});
static NPMRC_BARE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s*(?:_authToken|_auth|_password)\s*=\s*([^\s'\x22]+)"));
static PYPI: LazyLock<Regex> =
    LazyLock::new(|| re(r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,1000}"));
static GITHUB: LazyLock<Regex> = LazyLock::new(|| re(r"gh[pousr]_[A-Za-z0-9]{36}"));
/// `github_pat_` + 22 + `_` + 59 (82 after the prefix, gitleaks `github_pat_\w{82}`).
static GITHUB_FINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"));
static GITLAB: LazyLock<Regex> = LazyLock::new(|| {
    re(r"gl(?:pat|dt|rt|cbt|ptt|ft|soat)-[0-9A-Za-z_\-]{20,300}(?:\.[0-9a-z]{9})?")
});
static AWS_ID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"));
static AWS_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?:aws|amazon)[A-Za-z0-9_.\-]{0,30}(?:secret|sk)[A-Za-z0-9_.\-]{0,30}["']?\s{0,5}(?:=|:|:=|=>)\s{0,5}["']?([A-Za-z0-9/+]{40})"#,
    )
});
static PRIVATE_KEY: LazyLock<Regex> =
    LazyLock::new(|| re(r"-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----"));
/// The detectors that start with a literal prefix. One SIMD pass (Teddy) over a blob finds the
/// prefixes of all of them; each detector's pattern then runs anchored at its prefix, on a
/// slice as long as its longest token. (Seven whole-blob regex passes, one per detector, were
/// a sixth of a history scan.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchored {
    Npm,
    Github,
    GithubFine,
    Pypi,
    Gitlab,
    AwsId,
    PrivateKey,
}

impl Anchored {
    const ALL: [Anchored; 7] = [
        Anchored::Npm,
        Anchored::Github,
        Anchored::GithubFine,
        Anchored::Pypi,
        Anchored::Gitlab,
        Anchored::AwsId,
        Anchored::PrivateKey,
    ];

    /// The detector's own (unanchored) pattern.
    fn pattern(self) -> &'static Regex {
        match self {
            Anchored::Npm => &NPM,
            Anchored::Github => &GITHUB,
            Anchored::GithubFine => &GITHUB_FINE,
            Anchored::Pypi => &PYPI,
            Anchored::Gitlab => &GITLAB,
            Anchored::AwsId => &AWS_ID,
            Anchored::PrivateKey => &PRIVATE_KEY,
        }
    }

    /// The longest match of [`Anchored::pattern`] (a test holds each to it).
    fn max_len(self) -> usize {
        match self {
            Anchored::Npm | Anchored::Github => 40,
            Anchored::GithubFine => 93,
            Anchored::Pypi => 5 + 22 + 1000,
            Anchored::Gitlab => 7 + 300 + 10,
            Anchored::AwsId => 20,
            Anchored::PrivateKey => 10 + 30 + 11 + 6 + 5,
        }
    }
}

/// Every literal a match of an [`Anchored`] detector starts with.
const PREFIXES: [(&str, Anchored); 21] = [
    ("npm_", Anchored::Npm),
    ("ghp_", Anchored::Github),
    ("gho_", Anchored::Github),
    ("ghu_", Anchored::Github),
    ("ghs_", Anchored::Github),
    ("ghr_", Anchored::Github),
    ("github_pat_", Anchored::GithubFine),
    ("pypi-Ag", Anchored::Pypi),
    ("glpat-", Anchored::Gitlab),
    ("gldt-", Anchored::Gitlab),
    ("glrt-", Anchored::Gitlab),
    ("glcbt-", Anchored::Gitlab),
    ("glptt-", Anchored::Gitlab),
    ("glft-", Anchored::Gitlab),
    ("glsoat-", Anchored::Gitlab),
    ("A3T", Anchored::AwsId),
    ("AKIA", Anchored::AwsId),
    ("ASIA", Anchored::AwsId),
    ("ABIA", Anchored::AwsId),
    ("ACCA", Anchored::AwsId),
    ("-----BEGIN", Anchored::PrivateKey),
];

static PREFIX_SEARCH: LazyLock<aho_corasick::packed::Searcher> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .builder()
        .extend(PREFIXES.iter().map(|p| p.0))
        .build()
        .unwrap_or_else(|| panic!("no SIMD-free fallback for the built-in prefixes"))
});

/// [`Anchored::pattern`] as `^(?:…)`, in [`Anchored::ALL`] order.
static ANCHORED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    Anchored::ALL
        .iter()
        .map(|a| re(&format!("^(?:{})", a.pattern().as_str())))
        .collect()
});

/// The matches of every [`Anchored`] detector, as each detector's own `find_iter` would give
/// them: in order and, per detector, not overlapping. Every occurrence of a prefix is tried,
/// including one that overlaps another prefix (`ACCAKIA…`).
fn anchored_matches(data: &[u8]) -> Vec<(Anchored, Range<usize>)> {
    let mut out = Vec::new();
    let mut last_end = [0usize; Anchored::ALL.len()];
    let mut from = 0;
    while from < data.len() {
        let span = aho_corasick::Span::from(from..data.len());
        let Some(m) = PREFIX_SEARCH.find_in(data, span) else {
            break;
        };
        let start = m.start();
        from = start + 1;
        let detector = PREFIXES[m.pattern().as_usize()].1;
        let n = detector as usize;
        if start < last_end[n] {
            continue;
        }
        let slice = &data[start..data.len().min(start + detector.max_len())];
        if let Some(hit) = ANCHORED[n].find(slice) {
            last_end[n] = start + hit.end();
            out.push((detector, start..start + hit.end()));
        }
    }
    out
}

/// A credential-named key, a separator, and a value: quoted (any non-space characters), or
/// unquoted (`.env`, shell, YAML: base64/hex/url-safe characters only, up to the end of the
/// line or a separator, so that `token = getToken(x)` and `key: this.cfg.k1` are not values).
static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?im)[A-Za-z0-9_.\-]{0,40}(?:passw(?:or)?d|pwd|secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key|private[_\-]?key|credentials?)[A-Za-z0-9_.\-]{0,40}["']?[ \t]{0,5}(?:=|:|:=|=>)[ \t]{0,5}(?:["']([^"'\s]{12,200})["']|([A-Za-z0-9+/=_\-]{16,200})[ \t]*(?:[;,#]|\r?$))"#,
    )
});

/// True when the bytes around `start..end` are not part of a longer word.
fn bounded(data: &[u8], start: usize, end: usize) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    (start == 0 || !word(data[start - 1])) && data.get(end).is_none_or(|&b| !word(b))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Line numbers for ascending offsets, counting newlines once.
struct Lines<'a> {
    data: &'a [u8],
    offset: usize,
    line: u32,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> u32 {
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let n = memchr::memchr_iter(b'\n', &self.data[self.offset..offset]).count();
        self.line += n as u32;
        self.offset = offset;
        self.line
    }
}

fn line_bounds(data: &[u8], offset: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i);
    (start, end)
}

/// UTF-16 text (a byte-order mark, or a NUL in nearly every other byte of the first 8000),
/// as UTF-8. Windows editors save `.npmrc` and `.env` files this way; read as bytes, every
/// token in them is split by NULs and no detector would see it. Newlines stay newlines, so
/// line numbers hold.
pub fn utf16_text(data: &[u8]) -> Option<String> {
    let (le, body) = match data {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => {
            let head = &data[..data.len().min(8000)];
            let half = head.len() / 2;
            if half < 8 {
                return None;
            }
            let nul = |skip: usize| {
                head.iter()
                    .skip(skip)
                    .step_by(2)
                    .filter(|&&b| b == 0)
                    .count()
            };
            let (even, odd) = (nul(0), nul(1));
            if odd * 10 >= half * 9 && even * 10 < half {
                (true, data)
            } else if even * 10 >= half * 9 && odd * 10 < half {
                (false, data)
            } else {
                return None;
            }
        }
    };
    let units = body.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

/// Scan one blob at `path` (the path decides `.npmrc` rules). Every distinct value is
/// reported once per blob, by the most specific detector. UTF-16 text is scanned as text.
pub fn scan(path: &str, data: &[u8]) -> Vec<Hit> {
    if is_binary(data)
        && let Some(text) = utf16_text(data)
    {
        return scan_bytes(path, text.as_bytes());
    }
    scan_bytes(path, data)
}

fn scan_bytes(path: &str, data: &[u8]) -> Vec<Hit> {
    let binary = is_binary(data);
    let mut raw: Vec<(usize, SecretKind, SecretValue, bool)> = Vec::new();
    let mut push = |off: usize, kind: SecretKind, v: &[u8], paired: bool| {
        raw.push((off, kind, SecretValue::new(text(v)), paired));
    };
    let mut aws_ids = Vec::new();
    let mut key_headers = Vec::new();
    for (detector, r) in anchored_matches(data) {
        let v = &data[r.clone()];
        if detector != Anchored::PrivateKey && !bounded(data, r.start, r.end) {
            continue;
        }
        match detector {
            Anchored::Npm if npm_token_ok(v) => push(r.start, SecretKind::NpmAccessToken, v, false),
            Anchored::Github if checksum_ok(v, 4) => {
                push(r.start, SecretKind::GithubToken, v, false)
            }
            Anchored::GithubFine => push(r.start, SecretKind::GithubFineGrainedToken, v, false),
            Anchored::Pypi => push(r.start, SecretKind::PypiToken, v, false),
            Anchored::Gitlab => {
                let body = &v[v.iter().position(|&b| b == b'-').unwrap_or(0)..];
                if random_enough(body, 3.0) {
                    push(r.start, SecretKind::GitlabToken, v, false);
                }
            }
            Anchored::AwsId if !v.ends_with(b"EXAMPLE") => aws_ids.push(r),
            Anchored::PrivateKey => key_headers.push(r),
            _ => {}
        }
    }
    // The line-based detectors have no literal of their own to anchor on (`//` of an .npmrc
    // line is in every comment, a UUID has none), so one case-insensitive pass finds their
    // keywords and they run only in windows around them, on the keyword's line.
    let windows = if binary {
        Vec::new()
    } else {
        keyword_windows(data)
    };
    scan_aws(data, &aws_ids, &windows, &mut push);
    scan_private_keys(data, &key_headers, &mut push);
    if !binary {
        scan_npm_lines(path, data, &windows, &mut push);
        for &(a, b) in &windows {
            for c in CREDENTIAL.captures_iter(&data[a..b]) {
                let (Some(whole), Some(v)) = (c.get(0), c.get(1).or_else(|| c.get(2))) else {
                    continue;
                };
                if looks_like_secret(v.as_bytes()) {
                    push(
                        a + whole.start(),
                        SecretKind::CredentialAssignment,
                        v.as_bytes(),
                        false,
                    );
                }
            }
        }
    }
    finish(data, binary, raw)
}

/// Keywords of the line-based detectors: credential names, `aws`/`amazon` for AWS secret
/// keys, `npm` and `_auth`/`_password` for `.npmrc` lines and legacy tokens; each in lower,
/// UPPER, Capitalised and camelCase spelling. Case-sensitive on purpose: 49 literals keep the
/// SIMD (Teddy) prefilter, which a case-insensitive set loses (it was a third of the scan
/// time). A name spelt otherwise (`Api_Key`, `sEcReT`) is not seen by the line-based
/// detectors; the regular expressions themselves stay case-insensitive.
static KEYWORDS: LazyLock<aho_corasick::packed::Searcher> = LazyLock::new(|| {
    let mut words: Vec<&str> = Vec::new();
    for [lower, capital, upper] in [
        ["passw", "Passw", "PASSW"],
        ["pwd", "Pwd", "PWD"],
        ["secret", "Secret", "SECRET"],
        ["token", "Token", "TOKEN"],
        ["credential", "Credential", "CREDENTIAL"],
        ["aws", "Aws", "AWS"],
        ["amazon", "Amazon", "AMAZON"],
        ["npm", "Npm", "NPM"],
    ] {
        words.extend([lower, capital, upper]);
    }
    words.extend([
        "api_key",
        "api-key",
        "apikey",
        "apiKey",
        "ApiKey",
        "APIKey",
        "API_KEY",
        "APIKEY",
        "API-KEY",
        "access_key",
        "access-key",
        "accessKey",
        "AccessKey",
        "ACCESS_KEY",
        "auth_key",
        "authKey",
        "AuthKey",
        "AUTH_KEY",
        "private_key",
        "private-key",
        "privateKey",
        "PrivateKey",
        "PRIVATE_KEY",
        "_auth",
        "_password",
    ]);
    aho_corasick::packed::Config::new()
        .builder()
        .extend(words)
        .build()
        .unwrap_or_else(|| panic!("no SIMD-free fallback for the built-in keywords"))
});

/// Bytes searched before and after a keyword (within its line). Every line-based pattern
/// holds its keyword: a name of ≤ 40 + keyword + 40 characters, a separator and a value of
/// ≤ 200; an `.npmrc` host before `:_auth` is a host name and a path.
const BEFORE: usize = 300;
const AFTER: usize = 400;

/// Merged `[start, end)` windows around the keywords of `data`, each within one line.
fn keyword_windows(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for m in KEYWORDS.find_iter(data) {
        let (ls, le) = line_bounds(data, m.start());
        let a = ls.max(m.start().saturating_sub(BEFORE));
        let b = le.min(m.end() + AFTER);
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// AWS key ids (`ids`, already bounded and not `…EXAMPLE`), each paired with a secret access
/// key found in the keyword windows within 10 lines.
fn scan_aws(
    data: &[u8],
    ids: &[Range<usize>],
    windows: &[(usize, usize)],
    push: &mut impl FnMut(usize, SecretKind, &[u8], bool),
) {
    if ids.is_empty() {
        return;
    }
    let secrets: Vec<(usize, &[u8])> = windows
        .iter()
        .flat_map(|&(a, b)| {
            AWS_SECRET
                .captures_iter(&data[a..b])
                .filter_map(|c| c.get(1))
                .filter(|m| !m.as_bytes().ends_with(b"EXAMPLEKEY"))
                .map(move |m| (a + m.start(), &data[a + m.start()..a + m.end()]))
                .collect::<Vec<_>>()
        })
        .collect();
    for m in ids {
        // Paired when a secret key sits within 10 lines either side.
        let near = secrets.iter().find(|(off, _)| {
            let (a, b) = if *off < m.start {
                (*off, m.start)
            } else {
                (m.start, *off)
            };
            memchr::memchr_iter(b'\n', &data[a..b]).count() <= 10
        });
        push(
            m.start,
            SecretKind::AwsAccessKey,
            &data[m.clone()],
            near.is_some(),
        );
        if let Some((off, secret)) = near {
            // Recorded so that the credential-assignment rule does not report it again;
            // dropped in `finish` (the key id's hit carries `paired_secret`).
            push(*off, SecretKind::AwsAccessKey, secret, true);
        }
    }
}

/// Private keys: a `-----BEGIN … PRIVATE KEY-----` line (`headers`), a base64 body and an
/// `-----END` line within 64 KiB.
fn scan_private_keys(
    data: &[u8],
    headers: &[Range<usize>],
    push: &mut impl FnMut(usize, SecretKind, &[u8], bool),
) {
    for m in headers {
        let window = &data[m.end..data.len().min(m.end + 64 * 1024)];
        let Some(end) = memchr::memmem::find(window, b"-----END") else {
            continue;
        };
        let body = &window[..end];
        let b64 = body
            .iter()
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        if b64 < 64 {
            continue;
        }
        let tail = &window[end..];
        let close = memchr::memmem::find(&tail[8..], b"-----").map_or(tail.len(), |i| 8 + i + 5);
        let whole = &data[m.start..m.end + end + close];
        push(m.start, SecretKind::PrivateKey, whole, false);
    }
}

fn scan_npm_lines(
    path: &str,
    data: &[u8],
    windows: &[(usize, usize)],
    push: &mut impl FnMut(usize, SecretKind, &[u8], bool),
) {
    let name = path.rsplit('/').next().unwrap_or_default();
    let npmrc = name == ".npmrc" || name == "npmrc";
    // `base` is where the searched slice starts in `data`.
    let mut auth = |base: usize, c: regex::bytes::Captures<'_>| {
        let Some(v) = c.get(1) else { return };
        let value = v.as_bytes();
        if value.len() >= 8 && !value.starts_with(b"$") && !value.starts_with(b"%") {
            push(base + v.start(), SecretKind::NpmrcAuth, value, false);
        }
    };
    for &(a, b) in windows {
        for c in NPMRC_HOST.captures_iter(&data[a..b]) {
            auth(a, c);
        }
    }
    if npmrc {
        for c in NPMRC_BARE.captures_iter(data) {
            auth(0, c);
        }
    }
    if name == ".yarnrc.yml" || name == ".yarnrc.yaml" {
        for c in YARNRC.captures_iter(data) {
            auth(0, c);
        }
    }
    // Legacy tokens: any UUID in an .npmrc; elsewhere a UUID with `npm` or `_authToken`
    // within 200 bytes on its line.
    let whole = [(0, data.len())];
    let areas: &[(usize, usize)] = if npmrc { &whole } else { windows };
    for &(a, b) in areas {
        for m in UUID.find_iter(&data[a..b]) {
            let (start, end) = (a + m.start(), a + m.end());
            if !bounded(data, start, end) {
                continue;
            }
            let (ls, le) = line_bounds(data, start);
            let near = &data[ls.max(start.saturating_sub(200))..le.min(end + 200)];
            if npmrc || NPM_KEYWORD.is_match(near) {
                push(start, SecretKind::NpmLegacyToken, m.as_bytes(), false);
            }
        }
    }
}

/// A credential-named assignment's value that looks generated rather than written: at least
/// 12 characters, letters and digits, ≥ 3.5 bits of entropy per character, and not a
/// placeholder, template, path or URL.
fn looks_like_secret(v: &[u8]) -> bool {
    let has_digit = v.iter().any(u8::is_ascii_digit);
    let has_alpha = v.iter().any(u8::is_ascii_alphabetic);
    let placeholder = [
        &b"${"[..],
        b"{{",
        b"<",
        b"%(",
        b"process.env",
        b"xxxx",
        b"XXXX",
        b"****",
        b"example",
        b"EXAMPLE",
        b"://",
    ];
    has_digit
        && has_alpha
        && !placeholder
            .iter()
            .any(|p| memchr::memmem::find(v, p).is_some())
        && !v.starts_with(b"/")
        && !v.starts_with(b"./")
        && entropy(v) >= 3.5
}

fn finish(
    data: &[u8],
    binary: bool,
    mut raw: Vec<(usize, SecretKind, SecretValue, bool)>,
) -> Vec<Hit> {
    // Most specific first: detectors earlier in `SecretKind::ALL` win a value.
    raw.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<(usize, SecretKind, SecretValue, bool)> = Vec::new();
    for (off, kind, value, paired) in raw {
        if !seen.insert(value.expose().to_string()) {
            continue;
        }
        // The secret half of an AWS pair is carried by the key id's hit.
        let aws_secret =
            kind == SecretKind::AwsAccessKey && !AWS_ID.is_match(value.expose().as_bytes());
        if !aws_secret {
            kept.push((off, kind, value, paired));
        }
    }
    kept.sort_by_key(|k| k.0);
    let mut lines = Lines {
        data,
        offset: 0,
        line: 1,
    };
    kept.into_iter()
        .map(|(off, kind, value, paired)| Hit {
            kind,
            value,
            line: (!binary).then(|| lines.at(off)),
            paired_secret: paired,
        })
        .collect()
}

/// Test tokens with valid checksums, made from a seed (never real ones).
pub mod testing {
    use super::base62_crc32;

    /// 30 pseudo-random base62 characters from `seed`.
    pub fn random30(seed: u64) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..30)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                super::BASE62[(x % 62) as usize] as char
            })
            .collect()
    }

    /// `prefix` + 30 random + the 6-character checksum (`npm_`, `ghp_`, `gho_` …).
    pub fn checksummed(prefix: &str, seed: u64) -> String {
        let r = random30(seed);
        let sum = base62_crc32(r.as_bytes());
        format!("{prefix}{r}{}", String::from_utf8_lossy(&sum))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    fn kinds(hits: &[Hit]) -> Vec<SecretKind> {
        hits.iter().map(|h| h.kind).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        for r in [
            &*NPM,
            &*UUID,
            &*NPM_KEYWORD,
            &*NPMRC_HOST,
            &*NPMRC_BARE,
            &*YARNRC,
            &*PYPI,
            &*GITHUB,
            &*GITHUB_FINE,
            &*GITLAB,
            &*AWS_ID,
            &*AWS_SECRET,
            &*PRIVATE_KEY,
            &*CREDENTIAL,
        ] {
            assert!(!r.as_str().is_empty());
        }
    }

    /// The one-pass prefix search gives exactly what each detector's own `find_iter` gives,
    /// on haystacks built to trip it: prefixes inside tokens, overlapping prefixes
    /// (`ACCAKIA…`), a prefix repeated in a token's body, tokens cut short, runs at the
    /// length limits.
    #[test]
    fn prefix_pass_matches_every_detectors_own_search() {
        let fragments: Vec<String> = PREFIXES
            .iter()
            .map(|p| p.0.to_string())
            .chain(
                [
                    "AgEIcHlwaS5vcmc",
                    "AgENdGVzdC5weXBpLm9yZw",
                    "PRIVATE KEY-----",
                    " RSA ",
                    "_",
                    "-",
                    ".",
                    " ",
                    "\n",
                    "AB",
                    "Z7",
                    "x",
                    "ACCAKIA",
                    "A3TAKIA",
                    "npm_npm_",
                    ".abcdefghi",
                ]
                .iter()
                .map(|s| s.to_string()),
            )
            .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut seen = [0usize; Anchored::ALL.len()];
        for round in 0..3000 {
            let mut hay = Vec::new();
            for _ in 0..next(40) {
                match next(4) {
                    0 => hay.extend_from_slice(fragments[next(fragments.len())].as_bytes()),
                    1 => {
                        let run = next(if round % 10 == 0 { 1100 } else { 60 });
                        let upper = next(2) == 0;
                        hay.extend((0..run).map(|i| {
                            let c = BASE62[(i * 7 + run) % 62];
                            if upper { c.to_ascii_uppercase() } else { c }
                        }));
                    }
                    2 => {
                        // A whole token of a random detector (or one cut short).
                        let body = random30(round) + &random30(round + 7) + &random30(round + 9);
                        let token = match next(5) {
                            0 => checksummed(PREFIXES[next(6)].0, round),
                            1 => format!("github_pat_{}_{}", &body[..22], &body[22..81]),
                            2 => format!("pypi-AgEIcHlwaS5vcmc{}", &body[..50 + next(40)]),
                            3 => "-----BEGIN RSA PRIVATE KEY-----".to_string(),
                            _ => format!("glpat-{}", &body[..next(40)]),
                        };
                        let keep = if next(4) == 0 {
                            next(token.len() + 1)
                        } else {
                            token.len()
                        };
                        hay.extend_from_slice(&token.as_bytes()[..keep]);
                    }
                    _ => hay.push(b"AKIQ2-_ \n"[next(9)]),
                }
            }
            let mut want: Vec<(usize, usize, Range<usize>)> = Vec::new();
            for (n, a) in Anchored::ALL.iter().enumerate() {
                want.extend(
                    a.pattern()
                        .find_iter(&hay)
                        .map(|m| (m.start(), n, m.range())),
                );
            }
            want.sort_by_key(|w| (w.0, w.1));
            let mut got: Vec<(usize, usize, Range<usize>)> = anchored_matches(&hay)
                .into_iter()
                .map(|(a, r)| (r.start, a as usize, r))
                .collect();
            got.sort_by_key(|g| (g.0, g.1));
            assert_eq!(
                got,
                want,
                "round {round}: {}",
                String::from_utf8_lossy(&hay)
            );
            for g in &got {
                seen[g.1] += 1;
            }
            // The whole scan on the same bytes, as text in every kind of file and with a NUL
            // (binary), never panics and only reports values that are in the bytes.
            let mut binary = hay.clone();
            binary.insert(next(binary.len() + 1), 0);
            for (path, bytes) in [(".npmrc", &hay), (".yarnrc.yml", &hay), ("a.js", &binary)] {
                for h in scan(path, bytes) {
                    let v = h.value.expose().as_bytes();
                    assert!(
                        bytes.windows(v.len()).any(|w| w == v),
                        "round {round}: {:?} not in the input",
                        h.kind
                    );
                }
            }
        }
        // Not vacuous: every detector matched, many times.
        assert!(seen.iter().all(|&n| n >= 20), "{seen:?}");
    }

    #[test]
    fn prefix_slices_hold_the_longest_token() {
        let longest = [
            (Anchored::Npm, format!("npm_{}", "a".repeat(50))),
            (Anchored::Github, format!("ghp_{}", "a".repeat(50))),
            (
                Anchored::GithubFine,
                format!("github_pat_{}_{}", "a".repeat(22), "b".repeat(70)),
            ),
            (
                Anchored::Pypi,
                format!("pypi-AgENdGVzdC5weXBpLm9yZw{}", "a".repeat(1100)),
            ),
            (
                Anchored::Gitlab,
                format!("glsoat-{}.abcdefghi", "a".repeat(300)),
            ),
            (Anchored::AwsId, format!("A3TX{}", "A".repeat(30))),
            (
                Anchored::PrivateKey,
                format!("-----BEGIN{}PRIVATE KEY BLOCK-----", " ".repeat(30)),
            ),
        ];
        for (a, text) in longest {
            let m = a
                .pattern()
                .find(text.as_bytes())
                .expect("the longest form matches");
            assert_eq!(m.start(), 0);
            assert_eq!(m.len(), a.max_len(), "{a:?}");
            assert!(
                PREFIXES.iter().any(|p| p.1 == a && text.starts_with(p.0)),
                "{a:?}"
            );
        }
    }

    #[test]
    fn checksum_is_base62_crc32_of_the_random_part() {
        // crc32("") = 0 → all zeros; crc32("a") = 0xe8b7be43 = 3904355907.
        assert_eq!(&base62_crc32(b""), b"000000");
        let mut n: u64 = 3_904_355_907;
        let mut digits = Vec::new();
        while n > 0 {
            digits.push(BASE62[(n % 62) as usize]);
            n /= 62;
        }
        while digits.len() < 6 {
            digits.push(b'0');
        }
        digits.reverse();
        assert_eq!(base62_crc32(b"a").to_vec(), digits);
        let t = checksummed("ghp_", 7);
        assert!(checksum_ok(t.as_bytes(), 4));
        let mut broken = t.into_bytes();
        broken[10] = if broken[10] == b'A' { b'B' } else { b'A' };
        assert!(!checksum_ok(&broken, 4));
    }

    #[test]
    fn github_and_npm_tokens_need_a_valid_checksum() {
        let good = checksummed("ghp_", 1);
        let npm = checksummed("npm_", 2);
        let bad = format!("ghp_{}", "a".repeat(36));
        let text = format!("a = '{good}'\nb = \"{npm}\"\nc = {bad}\n");
        let hits = scan("x.js", text.as_bytes());
        assert_eq!(
            kinds(&hits),
            [SecretKind::GithubToken, SecretKind::NpmAccessToken]
        );
        assert_eq!(hits[0].line, Some(1));
        assert_eq!(hits[1].line, Some(2));
    }

    #[test]
    fn every_github_prefix_is_recognised() {
        for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let t = checksummed(p, 9);
            assert_eq!(
                kinds(&scan("f", t.as_bytes())),
                [SecretKind::GithubToken],
                "{p}"
            );
        }
    }

    #[test]
    fn tokens_inside_longer_words_are_not_tokens() {
        let t = checksummed("npm_", 3);
        assert!(scan("f", format!("x{t}").as_bytes()).is_empty());
        assert!(scan("f", format!("{t}x").as_bytes()).is_empty());
    }

    #[test]
    fn legacy_npm_uuid_needs_an_npm_context() {
        let uuid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        assert!(scan("a.js", format!("id = '{uuid}'").as_bytes()).is_empty());
        let hits = scan("a.sh", format!("NPM_TOKEN={uuid}").as_bytes());
        assert_eq!(kinds(&hits), [SecretKind::NpmLegacyToken]);
        let hits = scan(
            "x/.npmrc",
            format!("//registry.npmjs.org/:_authToken={uuid}\n").as_bytes(),
        );
        assert_eq!(kinds(&hits), [SecretKind::NpmLegacyToken]);
    }

    #[test]
    fn npmrc_auth_lines() {
        let hits = scan(
            ".npmrc",
            b"registry=https://r.example/\n_auth=dXNlcjpwYXNzd29yZA==\n",
        );
        assert_eq!(kinds(&hits), [SecretKind::NpmrcAuth]);
        assert_eq!(hits[0].line, Some(2));
        // An environment reference is not a secret.
        assert!(scan(".npmrc", b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n").is_empty());
        // Bare `_auth=` outside an .npmrc is not this rule's business.
        assert!(scan("notes.txt", b"_auth=dXNlcjpwYXNzd29yZA==\n").is_empty());
    }

    #[test]
    fn pypi_gitlab_fine_grained() {
        let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", "A1b2".repeat(20));
        let gl = "glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn";
        let fine = format!(
            "github_pat_{}_{}",
            &random30(4)[..22],
            random30(5) + &random30(6)[..29]
        );
        let text = format!("{pypi}\n{gl}\n{fine}\n");
        let hits = scan("f", text.as_bytes());
        assert_eq!(
            kinds(&hits),
            [
                SecretKind::PypiToken,
                SecretKind::GitlabToken,
                SecretKind::GithubFineGrainedToken
            ]
        );
    }

    #[test]
    fn aws_key_with_and_without_secret() {
        let text = "aws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = \"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\"\n";
        let hits = scan("creds", text.as_bytes());
        assert_eq!(kinds(&hits), [SecretKind::AwsAccessKey]);
        assert!(hits[0].paired_secret);
        let alone = scan("x", b"key: AKIAQWERTYUIOPASDFGH\n");
        assert!(!alone[0].paired_secret);
        assert!(scan("x", b"AKIAIOSFODNN7EXAMPLE").is_empty());
    }

    #[test]
    fn private_key_needs_a_body_and_an_end() {
        let body = "MIIEowIBAAKCAQEA".repeat(8);
        let key =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
        let hits = scan("id_rsa", key.as_bytes());
        assert_eq!(kinds(&hits), [SecretKind::PrivateKey]);
        assert!(
            scan(
                "doc.md",
                b"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"
            )
            .is_empty()
        );
    }

    #[test]
    fn credential_assignments_need_entropy() {
        let hits = scan("c.js", b"const apiKey = 'q8Zr2LmX9vT4pK7wN3sB';\n");
        assert_eq!(kinds(&hits), [SecretKind::CredentialAssignment]);
        for quiet in [
            &b"password: 'correcthorse'"[..],
            b"token = '${GITHUB_TOKEN}'",
            b"secret: 'aaaaaaaaaaaaaaaa1'",
            b"api_key = 'https://example.com/x1'",
        ] {
            assert!(
                scan("c.js", quiet).is_empty(),
                "{}",
                String::from_utf8_lossy(quiet)
            );
        }
    }

    #[test]
    fn binary_blobs_get_anchored_detectors_only() {
        let t = checksummed("npm_", 5);
        let mut data = vec![0u8, 1, 2];
        data.extend_from_slice(format!(" {t} apiKey = 'q8Zr2LmX9vT4pK7wN3sB' ").as_bytes());
        let hits = scan("a.bin", &data);
        assert_eq!(kinds(&hits), [SecretKind::NpmAccessToken]);
        assert_eq!(hits[0].line, None);
    }

    #[test]
    fn values_never_show_in_debug_or_display() {
        let t = checksummed("npm_", 11);
        let hits = scan("f", t.as_bytes());
        let shown = format!("{hits:?} {}", hits[0].value);
        assert!(!shown.contains(&t), "{shown}");
        assert!(shown.contains("npm_… (40 chars)"), "{shown}");
        assert_eq!(hits[0].value.redacted().prefix, "npm_");
    }

    #[test]
    fn same_value_twice_in_a_blob_is_one_hit() {
        let t = checksummed("ghp_", 12);
        let hits = scan("f", format!("{t}\n{t}\n").as_bytes());
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].line, Some(1));
    }

    #[test]
    fn npm_tokens_without_a_checksum_must_look_generated() {
        // A random body whose checksum does not verify is still a publish token.
        let t = format!("npm_{}{}", random30(21), "Q7zP2k");
        assert!(!checksum_ok(t.as_bytes(), 4));
        assert_eq!(
            kinds(&scan("f", t.as_bytes())),
            [SecretKind::NpmAccessToken]
        );
        // Words and repeated characters are not.
        for fake in [
            format!("npm_{}", "a".repeat(36)),
            format!("npm_{}", "Abcdef123456".repeat(3)),
        ] {
            assert!(scan("f", fake.as_bytes()).is_empty(), "{fake}");
        }
    }

    #[test]
    fn github_look_alike_with_a_wrong_checksum_is_not_a_token() {
        let good = checksummed("ghp_", 33);
        let mut bad = good.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        assert!(scan("f", &bad).is_empty());
        assert_eq!(
            kinds(&scan("f", good.as_bytes())),
            [SecretKind::GithubToken]
        );
    }

    #[test]
    fn testpypi_and_routable_gitlab_tokens() {
        let test = format!("pypi-AgENdGVzdC5weXBpLm9yZw{}", random30(8) + &random30(9));
        let routable = format!("glpat-{}.01{}", &random30(10)[..27], "a1b2c3d");
        let text = format!("{test}\n{routable}\n");
        let hits = scan("f", text.as_bytes());
        assert_eq!(
            kinds(&hits),
            [SecretKind::PypiToken, SecretKind::GitlabToken]
        );
        assert_eq!(hits[1].value.redacted().len, routable.len());
        // Documentation placeholders are not tokens.
        assert!(scan("f", b"glpat-xxxxxxxxxxxxxxxxxxxx").is_empty());
        // A PyPI token for another host (or none) is not matched by the macaroon header.
        assert!(scan("f", format!("pypi-{}", random30(11).repeat(3)).as_bytes()).is_empty());
    }

    #[test]
    fn unquoted_assignments_in_env_files() {
        let hits = scan(".env", b"API_TOKEN=q8Zr2LmX9vT4pK7wN3sBh5\nDEBUG=1\n");
        assert_eq!(kinds(&hits), [SecretKind::CredentialAssignment]);
        assert_eq!(hits[0].line, Some(1));
        for quiet in [
            &b"token = getToken(q8Zr2LmX9vT4pK7w)"[..],
            b"secret: this.config.secretKey1abc",
            b"password=changeme",
        ] {
            assert!(
                scan("c.js", quiet).is_empty(),
                "{}",
                String::from_utf8_lossy(quiet)
            );
        }
    }

    #[test]
    fn npmrc_auth_token_in_any_npmrc() {
        let t = "s3cr3tT0kenValue1234abcd";
        let hits = scan(
            "packages/a/.npmrc",
            format!("//npm.corp.io/:_authToken={t}\n").as_bytes(),
        );
        assert_eq!(kinds(&hits), [SecretKind::NpmrcAuth]);
        // A bare `_authToken=` line counts in an .npmrc only.
        let bare = format!("_authToken={t}\n");
        assert_eq!(
            kinds(&scan("ci/.npmrc", bare.as_bytes())),
            [SecretKind::NpmrcAuth]
        );
        // An npm_ token in an .npmrc is reported once, as the more specific npm token.
        let npm = checksummed("npm_", 40);
        let hits = scan(
            ".npmrc",
            format!("//registry.npmjs.org/:_authToken={npm}\n").as_bytes(),
        );
        assert_eq!(kinds(&hits), [SecretKind::NpmAccessToken]);
    }

    #[test]
    fn redaction_keeps_at_most_four_characters_and_a_quarter() {
        assert_eq!(
            SecretValue::new("abcdefghijklmnop").redacted().prefix,
            "abcd"
        );
        assert_eq!(SecretValue::new("abcdefgh").redacted().prefix, "ab");
        assert_eq!(SecretValue::new("abc").redacted().prefix, "");
    }

    #[test]
    fn utf16_text_is_scanned_as_text() {
        let t = checksummed("npm_", 50);
        let text = format!("a=1\r\napiKey = 'q8Zr2LmX9vT4pK7wN3sB'\r\n{t}\r\n");
        for (bom, le) in [(true, true), (false, true), (true, false)] {
            let mut data: Vec<u8> = match (bom, le) {
                (true, true) => vec![0xFF, 0xFE],
                (true, false) => vec![0xFE, 0xFF],
                _ => Vec::new(),
            };
            for u in text.encode_utf16() {
                data.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            let hits = scan("notes.txt", &data);
            assert_eq!(
                kinds(&hits),
                [SecretKind::CredentialAssignment, SecretKind::NpmAccessToken],
                "bom {bom} le {le}"
            );
            assert_eq!(hits[1].line, Some(3));
        }
        // A real binary (NULs here and there) is not mistaken for UTF-16.
        assert!(
            utf16_text(&[
                0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0
            ])
            .is_none()
        );
    }

    #[test]
    fn yarnrc_auth_tokens_are_publish_credentials() {
        let text = "npmScopes:\n  corp:\n    npmAuthToken: \"s3cr3tT0kenValue1234abcd\"\n    npmRegistryServer: https://npm.corp.io\n";
        let hits = scan(".yarnrc.yml", text.as_bytes());
        assert_eq!(kinds(&hits), [SecretKind::NpmrcAuth]);
        assert_eq!(hits[0].line, Some(3));
        assert!(hits[0].kind.is_publish_credential());
        // An environment reference is not a value; other files are not yarn's.
        assert!(scan(".yarnrc.yml", b"npmAuthToken: ${NPM_TOKEN}\n").is_empty());
        assert!(scan("notes.md", b"npmAuthToken: abc\n").is_empty());
    }

    #[test]
    fn line_detectors_work_deep_inside_a_minified_line() {
        // One 200 kB line (a bundle) with an assignment, an .npmrc line and an AWS pair in it.
        let filler = "var a=function(b){return b+1};".repeat(3000);
        let uuid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        let line = format!(
            "{filler}apiKey:\"q8Zr2LmX9vT4pK7wN3sBh5\",{filler}NPM_TOKEN=\"{uuid}\";{filler}"
        );
        let hits = scan("dist/bundle.min.js", line.as_bytes());
        assert_eq!(
            kinds(&hits),
            [SecretKind::CredentialAssignment, SecretKind::NpmLegacyToken]
        );
        assert!(hits.iter().all(|h| h.line == Some(1)));
        // A UUID far from any npm keyword on the same line is not an npm token.
        let far = format!("npm {filler} id='{uuid}'");
        assert!(scan("a.js", far.as_bytes()).is_empty());
    }
}
