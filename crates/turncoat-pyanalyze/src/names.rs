//! The vocabulary: which qualified names and strings mean which capability.

use crate::facts::Capability;

/// Builtins a bare name resolves to when nothing in the module binds it.
pub(crate) const BUILTINS: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "open",
    "__import__",
    "getattr",
    "execfile",
    "chr",
    "bytes",
    "vars",
    "globals",
];

/// Names a `from MODULE import *` brings in that matter here.
pub(crate) const STAR_EXPORTS: &[(&str, &[&str])] = &[
    (
        "os",
        &[
            "system", "popen", "environ", "getenv", "execv", "execve", "execl", "execlp", "execvp",
            "spawnv", "spawnl", "chmod", "putenv",
        ],
    ),
    (
        "subprocess",
        &[
            "Popen",
            "run",
            "call",
            "check_call",
            "check_output",
            "getoutput",
            "getstatusoutput",
        ],
    ),
    (
        "socket",
        &[
            "socket",
            "create_connection",
            "gethostbyname",
            "getaddrinfo",
        ],
    ),
    ("ctypes", &["CDLL", "cdll", "WinDLL", "windll", "PyDLL"]),
    (
        "base64",
        &[
            "b64decode",
            "b32decode",
            "b16decode",
            "b85decode",
            "a85decode",
            "decodebytes",
        ],
    ),
    ("zlib", &["decompress"]),
    ("marshal", &["loads"]),
    ("importlib", &["import_module"]),
    (
        "urllib.request",
        &["urlopen", "urlretrieve", "Request", "build_opener"],
    ),
    (
        "requests",
        &[
            "get", "post", "put", "patch", "delete", "request", "head", "Session",
        ],
    ),
];

/// Calls that read one variable (the first argument) or, for the rest, the whole environment.
pub(crate) const ENV_ONE: &[&str] = &[
    "os.getenv",
    "os.getenvb",
    "os.environ.get",
    "os.environ.pop",
    "os.environ.setdefault",
    "os.environ.__getitem__",
    "os.environb.get",
];
pub(crate) const ENV_ALL: &[&str] = &[
    "os.environ.copy",
    "os.environ.items",
    "os.environ.keys",
    "os.environ.values",
    "os.environ.__str__",
    "os.environ.__repr__",
    "os.environ.__iter__",
];

const NETWORK: &[&str] = &[
    "urllib.request.",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.",
    "urllib3.",
    "http.client.",
    "httplib.",
    "requests.",
    "httpx.",
    "aiohttp.",
    "socket.socket",
    "socket.create_connection",
    "ftplib.",
    "smtplib.",
    "telnetlib.",
    "websocket.",
    "websockets.",
    "pycurl.",
    "xmlrpc.client.",
    "asyncio.open_connection",
    "paramiko.",
];

/// `requests.exceptions.HTTPError(...)` and friends are not requests.
const NOT_NETWORK: &[&str] = &[
    ".exceptions.",
    ".utils.",
    ".compat.",
    ".status_codes",
    ".codes",
    "Error",
    "Exception",
    "Timeout(",
];

const DNS_EXACT: &[&str] = &[
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.getaddrinfo",
    "socket.gethostbyaddr",
    "socket.getfqdn",
];
const DNS_PREFIX: &[&str] = &["dns.resolver.", "dns.query.", "dns.asyncresolver."];

const SUBPROCESS_FNS: &[&str] = &[
    "Popen",
    "run",
    "call",
    "check_call",
    "check_output",
    "getoutput",
    "getstatusoutput",
];
const SUBPROCESS_OS: &[&str] = &[
    "os.system",
    "os.popen",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.startfile",
    "pty.spawn",
    "asyncio.create_subprocess_",
    "commands.getoutput",
    "platform.popen",
];

pub(crate) const EXEC: &[&str] = &[
    "builtins.exec",
    "builtins.eval",
    "builtins.compile",
    "builtins.execfile",
    "types.FunctionType",
    "runpy.run_path",
];

pub(crate) const DYNAMIC_IMPORT: &[&str] = &[
    "builtins.__import__",
    "importlib.import_module",
    "importlib.__import__",
];

const NATIVE: &[&str] = &[
    "ctypes.CDLL",
    "ctypes.cdll.",
    "ctypes.WinDLL",
    "ctypes.windll.",
    "ctypes.PyDLL",
    "ctypes.OleDLL",
    "ctypes.LibraryLoader",
    "_ctypes.dlopen",
    "cffi.FFI().dlopen",
    "importlib.machinery.ExtensionFileLoader",
];

/// Functions turning data into other data that can then be executed.
pub(crate) const DECODERS: &[&str] = &[
    "base64.b64decode",
    "base64.b32decode",
    "base64.b16decode",
    "base64.b85decode",
    "base64.a85decode",
    "base64.decodebytes",
    "base64.decodestring",
    "base64.urlsafe_b64decode",
    "base64.standard_b64decode",
    "codecs.decode",
    "zlib.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "gzip.decompress",
    "marshal.loads",
    "binascii.a2b_base64",
    "binascii.unhexlify",
    "bytes.fromhex",
    "builtins.bytes.fromhex",
    // `exec(''.join(chr(c) for c in [...]))`: code spelled as character codes.
    "builtins.chr",
];

/// The capability of a call to the function named `q` (a qualified name), if any.
pub(crate) fn call_capability(q: &str) -> Option<Capability> {
    let starts = |list: &[&str]| list.iter().any(|p| q.starts_with(p));
    if DNS_EXACT.contains(&q) || starts(DNS_PREFIX) {
        return Some(Capability::Dns);
    }
    if starts(NETWORK) && !NOT_NETWORK.iter().any(|n| q.contains(n)) {
        return Some(Capability::Network);
    }
    if let Some(f) = q.strip_prefix("subprocess.")
        && SUBPROCESS_FNS.contains(&f)
    {
        return Some(Capability::Subprocess);
    }
    if starts(SUBPROCESS_OS) {
        return Some(Capability::Subprocess);
    }
    if starts(NATIVE) {
        return Some(Capability::NativeLoad);
    }
    if q == "os.chmod" || q == "os.fchmod" || q.ends_with("().chmod") && q.starts_with("pathlib.") {
        return Some(Capability::Chmod);
    }
    None
}

/// Credential stores: `(marker, how it must appear)`. Markers starting with `.` must be a
/// whole path component (so `.aws` does not match `example.aws.com`).
const SENSITIVE: &[&str] = &[
    ".ssh",
    "id_rsa",
    "id_ed25519",
    ".aws",
    ".pypirc",
    ".npmrc",
    ".netrc",
    ".git-credentials",
    ".docker",
    ".kube",
    ".gnupg",
    ".azure",
    ".config/gcloud",
    ".mozilla",
    "Login Data",
    "Local State",
    "cookies.sqlite",
    "wallet.dat",
    "/etc/shadow",
    "/proc/self/environ",
    "keychain",
];

const PERSISTENCE: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".zshrc",
    ".profile",
    "crontab",
    "/etc/cron",
    "systemd/user",
    ".config/autostart",
    "launchagents",
    "/etc/rc.local",
    "sitecustomize.py",
    "usercustomize.py",
];

const PYARMOR: &[&str] = &["__pyarmor__", "pyarmor_runtime", "pytransform"];

/// A marker list with an automaton over its lower-cased markers: every test in
/// [`marker_matches`] needs the marker inside the string, so one pass finds the few candidates
/// instead of one substring search per marker per string literal (that was a fifth of the
/// analysis time of a wheel with a lot of Python).
pub(crate) struct Markers {
    list: &'static [&'static str],
    ac: aho_corasick::AhoCorasick,
}

impl Markers {
    fn new(list: &'static [&'static str]) -> Markers {
        let ac = aho_corasick::AhoCorasick::new(list.iter().map(|m| m.to_ascii_lowercase()))
            .unwrap_or_else(|e| unreachable!("marker lists are small constants: {e}"));
        Markers { list, ac }
    }
}

static SENSITIVE_MARKERS: std::sync::LazyLock<Markers> =
    std::sync::LazyLock::new(|| Markers::new(SENSITIVE));
static PERSISTENCE_MARKERS: std::sync::LazyLock<Markers> =
    std::sync::LazyLock::new(|| Markers::new(PERSISTENCE));

/// The first marker of the list (in list order) that `s` contains as a path component (`.x`
/// markers), as a file name in a path (Chrome's `Login Data`/`Local State`, case as written),
/// or at all.
fn marker(s: &str, markers: &Markers) -> Option<&'static str> {
    let lower = s.to_ascii_lowercase();
    let mut candidates: Vec<usize> = markers
        .ac
        .find_overlapping_iter(&lower)
        .map(|m| m.pattern().as_usize())
        .collect();
    if candidates.is_empty() {
        return None;
    }
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .map(|i| markers.list[i])
        .find(|m| marker_matches(s, &lower, m))
}

fn marker_matches(s: &str, lower: &str, m: &str) -> bool {
    if m.contains(' ') {
        return s == m || (s.contains(m) && (s.contains('/') || s.contains('\\')));
    }
    if !m.starts_with('.') {
        return lower.contains(m);
    }
    lower.match_indices(m).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + m.len()..].chars().next();
        matches!(before, None | Some('/' | '\\' | '~'))
            && matches!(after, None | Some('/' | '\\' | '"' | '\''))
    })
}

/// What a string literal says: credential stores, persistence places, obfuscators, blobs,
/// destinations.
pub(crate) fn string_facts(s: &str) -> Vec<(Capability, String)> {
    let mut out = Vec::new();
    if s.len() > 64 * 1024 {
        if is_blob(s) {
            out.push((Capability::EncodedBlob, s.len().to_string()));
        }
        return out;
    }
    if let Some(m) = marker(s, &SENSITIVE_MARKERS) {
        out.push((Capability::SensitiveRead, m.to_string()));
    }
    if let Some(m) = marker(s, &PERSISTENCE_MARKERS) {
        out.push((Capability::Persistence, m.to_string()));
    } else if s.ends_with(".pth") && (s.contains('/') || s.contains("site")) {
        out.push((Capability::Persistence, ".pth".to_string()));
    }
    if let Some(m) = PYARMOR.iter().find(|m| s.contains(*m)) {
        out.push((Capability::Obfuscation, (*m).to_string()));
    }
    if is_blob(s) {
        out.push((Capability::EncodedBlob, s.len().to_string()));
    }
    if let Some(h) = url_host(s) {
        out.push((Capability::Destination, h));
    }
    out
}

/// At least 1 KiB of base64/hex alphabet and nothing else (line breaks aside).
pub(crate) fn is_blob(s: &str) -> bool {
    s.len() >= 1024
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n')
        })
        && s.bytes().filter(|b| b.is_ascii_digit()).count() * 20 > s.len()
}

/// The host of an absolute URL (`http`, `https`, `ws`, `wss`, `ftp`), lower-cased.
pub(crate) fn url_host(s: &str) -> Option<String> {
    let s = s.trim();
    let rest = ["http://", "https://", "ws://", "wss://", "ftp://"]
        .iter()
        .find_map(|p| {
            s.get(..p.len())
                .filter(|h| h.eq_ignore_ascii_case(p))
                .map(|_| &s[p.len()..])
        })?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next()?.trim_start_matches('[')
    } else {
        host.split(':').next()?
    };
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'));
    ok.then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-search-per-marker version the automaton replaced.
    fn marker_reference(s: &str, list: &[&'static str]) -> Option<&'static str> {
        let lower = s.to_ascii_lowercase();
        list.iter().copied().find(|m| marker_matches(s, &lower, m))
    }

    #[test]
    fn the_automaton_finds_what_one_search_per_marker_found() {
        let mut cases: Vec<String> = Vec::new();
        for list in [SENSITIVE, PERSISTENCE] {
            for m in list {
                for shape in [
                    "{m}",
                    "~/{m}",
                    "/home/u/{m}/x",
                    "x{m}y",
                    "C:\\Users\\u\\{m}",
                    "prefix {m} suffix",
                    "a/{M}/b",
                    "{m}{m}",
                ] {
                    cases.push(
                        shape
                            .replace("{m}", m)
                            .replace("{M}", &m.to_ascii_uppercase()),
                    );
                }
            }
        }
        cases.extend(
            [
                "",
                "plain words",
                "~/.ssh/.aws/id_rsa",
                "my.sshd.conf",
                "ID_RSA",
            ]
            .map(String::from),
        );
        for c in &cases {
            assert_eq!(
                marker(c, &SENSITIVE_MARKERS),
                marker_reference(c, SENSITIVE),
                "{c:?}"
            );
            assert_eq!(
                marker(c, &PERSISTENCE_MARKERS),
                marker_reference(c, PERSISTENCE),
                "{c:?}"
            );
        }
    }

    #[test]
    fn markers_need_a_path_component() {
        assert_eq!(
            marker("~/.aws/credentials", &SENSITIVE_MARKERS),
            Some(".aws")
        );
        assert_eq!(
            marker("/home/x/.ssh/id_rsa", &SENSITIVE_MARKERS),
            Some(".ssh")
        );
        assert_eq!(marker("https://s3.aws.example", &SENSITIVE_MARKERS), None);
        assert_eq!(marker("my.sshd.conf", &SENSITIVE_MARKERS), None);
        assert_eq!(
            marker("keeps its local state in memory", &SENSITIVE_MARKERS),
            None
        );
        assert_eq!(
            marker(
                "Google/Chrome/User Data/Default/Login Data",
                &SENSITIVE_MARKERS
            ),
            Some("Login Data")
        );
    }

    #[test]
    fn urls_give_hosts() {
        assert_eq!(
            url_host("https://User@EXAMPLE.invalid:8443/x?y").as_deref(),
            Some("example.invalid")
        );
        assert_eq!(url_host("http://[::1]/").as_deref(), Some("::1"));
        assert_eq!(url_host("not a url"), None);
    }

    #[test]
    fn calls_are_classified() {
        assert_eq!(call_capability("requests.post"), Some(Capability::Network));
        assert_eq!(call_capability("requests.exceptions.HTTPError"), None);
        assert_eq!(call_capability("socket.getaddrinfo"), Some(Capability::Dns));
        assert_eq!(call_capability("subprocess.PIPE"), None);
        assert_eq!(call_capability("os.system"), Some(Capability::Subprocess));
        assert_eq!(
            call_capability("ctypes.cdll.LoadLibrary"),
            Some(Capability::NativeLoad)
        );
    }
}
