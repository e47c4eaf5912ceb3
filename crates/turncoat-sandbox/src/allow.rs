//! The egress allowlist: which names the sandbox's resolver ([`crate::dns`]) answers and which
//! `host:port` destinations its proxy ([`crate::proxy`]) connects to.
//!
//! Entry syntax (one string per entry; whitespace anywhere is an error):
//!
//! | entry                          | allows                                                  |
//! |--------------------------------|---------------------------------------------------------|
//! | `registry.npmjs.org`           | that name on the default web ports, 443 and 80          |
//! | `npm.example.com:8443`         | that name on port 8443 only                             |
//! | `*.github.com`                 | every subdomain of `github.com` (not the apex) on 443/80 |
//! | `*.example.com:8443`           | every subdomain on 8443 only                            |
//! | `127.0.0.1:4873`, `[::1]:4873` | that IP literal on that port (also without a port: 443/80) |
//! | `https://host[:port]/path`     | `host[:port]`; the path is ignored and a missing port defaults by scheme (https 443, http 80) |
//!
//! Names match case-insensitively and a trailing dot is ignored. Only `http` and `https` schemes
//! are accepted, and credentials (`user@host`) are refused so secrets never sit in a policy.
//! IP entries never match DNS names: an IP literal is reached without resolving anything, and
//! it is the only way past the proxy's private-range guard ([`Allowlist::is_explicit_literal`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an allowlist entry was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowError {
    #[error("empty allowlist entry")]
    Empty,
    #[error("allowlist entry {0:?} contains whitespace")]
    Whitespace(String),
    #[error("allowlist entry {entry:?}: bad port {port:?} (expected a number from 1 to 65535)")]
    BadPort { entry: String, port: String },
    #[error("allowlist entry {entry:?}: unsupported scheme {scheme:?} (only http:// and https://)")]
    Scheme { entry: String, scheme: String },
    #[error("allowlist entry {0:?}: credentials (user@host) do not belong in an allowlist")]
    Credentials(String),
    #[error("allowlist entry {entry:?}: {reason}")]
    BadHost { entry: String, reason: &'static str },
}

/// A parsed set of allowed destinations. See the module documentation for the syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    host: HostPattern,
    port: PortSpec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// Lowercase, no trailing dot.
    Name(String),
    /// `*.suffix`: stores `suffix`, lowercase; matches names ending in `.suffix`.
    Subdomains(String),
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortSpec {
    /// 443 and 80.
    Web,
    Only(u16),
}

impl PortSpec {
    fn matches(self, port: u16) -> bool {
        match self {
            PortSpec::Web => port == 443 || port == 80,
            PortSpec::Only(p) => p == port,
        }
    }
}

impl Allowlist {
    /// Parses every entry; the first bad entry is the error.
    pub fn parse(entries: &[String]) -> Result<Allowlist, AllowError> {
        let entries = entries
            .iter()
            .map(|e| parse_entry(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Allowlist { entries })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the resolver may answer `name`: some name or wildcard entry matches it, whatever
    /// its port. Names with characters outside `[A-Za-z0-9._-]` (escaped binary labels from the
    /// wire) never match.
    pub fn allows_name(&self, name: &str) -> bool {
        let Some(name) = normalize_name(name) else {
            return false;
        };
        self.entries.iter().any(|e| e.host.matches_name(&name))
    }

    /// Whether the proxy may connect to `host:port`. `host` is a name or an IP literal
    /// (IPv6 with or without brackets); an IP literal only matches IP entries.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        if let Some(ip) = parse_ip_literal(host) {
            return self.is_explicit_literal(ip, port);
        }
        let Some(name) = normalize_name(host) else {
            return false;
        };
        self.entries
            .iter()
            .any(|e| e.port.matches(port) && e.host.matches_name(&name))
    }

    /// Whether an entry names `ip` literally for `port`: the only way a private or loopback
    /// address passes the proxy's rebinding guard (a test registry on 127.0.0.1, say).
    pub fn is_explicit_literal(&self, ip: IpAddr, port: u16) -> bool {
        let ip = ip.to_canonical();
        self.entries.iter().any(|e| {
            e.port.matches(port) && matches!(e.host, HostPattern::Ip(a) if a.to_canonical() == ip)
        })
    }
}

impl HostPattern {
    fn matches_name(&self, name: &str) -> bool {
        match self {
            HostPattern::Name(n) => n == name,
            HostPattern::Subdomains(suffix) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            HostPattern::Ip(_) => false,
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            HostPattern::Name(n) => f.write_str(n)?,
            HostPattern::Subdomains(s) => write!(f, "*.{s}")?,
            HostPattern::Ip(IpAddr::V4(a)) => write!(f, "{a}")?,
            HostPattern::Ip(IpAddr::V6(a)) => write!(f, "[{a}]")?,
        }
        match self.port {
            PortSpec::Web => Ok(()),
            PortSpec::Only(p) => write!(f, ":{p}"),
        }
    }
}

/// The entries in canonical form, comma-separated (for report headers).
impl fmt::Display for Allowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

fn parse_entry(raw: &str) -> Result<Entry, AllowError> {
    if raw.is_empty() {
        return Err(AllowError::Empty);
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(AllowError::Whitespace(raw.to_string()));
    }
    let bad_host = |reason| AllowError::BadHost {
        entry: raw.to_string(),
        reason,
    };
    let (authority, default_port) = match raw.split_once("://") {
        Some((scheme, rest)) => {
            let port = match scheme.to_ascii_lowercase().as_str() {
                "https" => 443,
                "http" => 80,
                _ => {
                    return Err(AllowError::Scheme {
                        entry: raw.to_string(),
                        scheme: scheme.to_string(),
                    });
                }
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (&rest[..end], PortSpec::Only(port))
        }
        None => {
            if raw.contains(['/', '?', '#']) {
                return Err(bad_host(
                    "a path needs a scheme (https://host/path), or give just the host",
                ));
            }
            (raw, PortSpec::Web)
        }
    };
    if authority.contains('@') {
        return Err(AllowError::Credentials(raw.to_string()));
    }
    if authority.is_empty() {
        return Err(bad_host("no host"));
    }
    let bad_port = |port: &str| AllowError::BadPort {
        entry: raw.to_string(),
        port: port.to_string(),
    };

    // Bracketed IPv6, optionally with a port.
    if let Some(inner) = authority.strip_prefix('[') {
        let (addr, after) = inner
            .split_once(']')
            .ok_or_else(|| bad_host("unclosed '[' in IPv6 literal"))?;
        let ip: Ipv6Addr = addr
            .parse()
            .map_err(|_| bad_host("not a valid IPv6 address inside [ ]"))?;
        let port = match after {
            "" => default_port,
            _ => {
                let p = after
                    .strip_prefix(':')
                    .ok_or_else(|| bad_host("unexpected text after ']'"))?;
                PortSpec::Only(parse_port(p).ok_or_else(|| bad_port(p))?)
            }
        };
        return Ok(Entry {
            host: HostPattern::Ip(IpAddr::V6(ip)),
            port,
        });
    }
    // Bare IPv6 (more than one colon) cannot carry a port.
    if authority.matches(':').count() > 1 {
        let ip: Ipv6Addr = authority
            .parse()
            .map_err(|_| bad_host("not a valid IPv6 address (use [addr]:port for a port)"))?;
        return Ok(Entry {
            host: HostPattern::Ip(IpAddr::V6(ip)),
            port: default_port,
        });
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, PortSpec::Only(parse_port(p).ok_or_else(|| bad_port(p))?)),
        None => (authority, default_port),
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Entry {
            host: HostPattern::Ip(IpAddr::V4(ip)),
            port,
        });
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let (wildcard, name) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host.as_str()),
    };
    if name.contains('*') {
        return Err(bad_host(
            "'*' is only allowed as the whole first label (*.example.com)",
        ));
    }
    validate_name(name).map_err(bad_host)?;
    let host = if wildcard {
        HostPattern::Subdomains(name.to_string())
    } else {
        HostPattern::Name(name.to_string())
    };
    Ok(Entry { host, port })
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Hostname syntax: labels of 1..=63 of `[a-z0-9_-]`, at most 253 characters, not all-numeric
/// (that would be a malformed IPv4 address).
fn validate_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("no host");
    }
    if name.len() > 253 {
        return Err("host name longer than 253 characters");
    }
    let mut all_numeric = true;
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label in host name");
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters");
        }
        if !label.bytes().all(is_name_byte) {
            return Err("host names may only contain letters, digits, '-', '_' and '.'");
        }
        all_numeric &= label.bytes().all(|b| b.is_ascii_digit());
    }
    if all_numeric {
        return Err("not a valid IPv4 address");
    }
    Ok(())
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Lowercase, one trailing dot removed; `None` when the text cannot be a host name.
fn normalize_name(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty()
        || name.len() > 253
        || name
            .split('.')
            .any(|l| l.is_empty() || !l.bytes().all(is_name_byte))
    {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// `127.0.0.1`, `::1` or `[::1]`.
pub(crate) fn parse_ip_literal(host: &str) -> Option<IpAddr> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    host.parse::<IpAddr>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Allowlist {
        Allowlist::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn err(entry: &str) -> AllowError {
        Allowlist::parse(&[entry.to_string()]).unwrap_err()
    }

    #[test]
    fn bare_name_allows_web_ports_only() {
        let a = list(&["registry.npmjs.org"]);
        assert!(a.allows("registry.npmjs.org", 443));
        assert!(a.allows("registry.npmjs.org", 80));
        assert!(a.allows("Registry.NPMJS.org.", 443));
        assert!(!a.allows("registry.npmjs.org", 8443));
        assert!(!a.allows("evil.registry.npmjs.org", 443));
        assert!(!a.allows("npmjs.org", 443));
        assert!(a.allows_name("REGISTRY.npmjs.org."));
        assert!(!a.allows_name("registry.npmjs.org.evil.invalid"));
    }

    #[test]
    fn explicit_port_is_exclusive() {
        let a = list(&["npm.example.com:8443"]);
        assert!(a.allows("npm.example.com", 8443));
        assert!(!a.allows("npm.example.com", 443));
        assert!(a.allows_name("npm.example.com"), "DNS ignores ports");
    }

    #[test]
    fn wildcard_matches_subdomains_not_apex() {
        let a = list(&["*.github.com"]);
        assert!(a.allows("api.github.com", 443));
        assert!(a.allows("a.b.github.com", 80));
        assert!(!a.allows("github.com", 443));
        assert!(!a.allows("evilgithub.com", 443));
        assert!(!a.allows("api.github.com", 22));
        assert!(a.allows_name("codeload.GITHUB.com."));
        assert!(!a.allows_name("github.com"));
        assert!(!a.allows_name(".github.com"));
    }

    #[test]
    fn ip_literals() {
        let a = list(&["127.0.0.1:4873", "[::1]:4873", "10.0.0.1"]);
        assert!(a.allows("127.0.0.1", 4873));
        assert!(a.allows("[::1]", 4873));
        assert!(a.allows("::1", 4873));
        assert!(!a.allows("127.0.0.1", 4874));
        assert!(a.allows("10.0.0.1", 443));
        assert!(!a.allows_name("127.0.0.1"), "IP entries are not DNS names");
        assert!(a.is_explicit_literal("127.0.0.1".parse().unwrap(), 4873));
        assert!(a.is_explicit_literal("::ffff:127.0.0.1".parse().unwrap(), 4873));
        assert!(!a.is_explicit_literal("127.0.0.2".parse().unwrap(), 4873));
        assert!(!a.is_explicit_literal("127.0.0.1".parse().unwrap(), 80));
    }

    #[test]
    fn names_never_count_as_literals() {
        let a = list(&["localhost:4873"]);
        assert!(a.allows("localhost", 4873));
        assert!(!a.is_explicit_literal("127.0.0.1".parse().unwrap(), 4873));
        assert!(!a.allows("127.0.0.1", 4873));
    }

    #[test]
    fn urls_take_host_and_scheme_port() {
        let a = list(&[
            "https://npm.pkg.github.com/owner",
            "http://127.0.0.1:4873/",
            "HTTPS://Registry.Example.com:8443/npm/?x#y",
        ]);
        assert!(a.allows("npm.pkg.github.com", 443));
        assert!(!a.allows("npm.pkg.github.com", 80));
        assert!(a.allows("127.0.0.1", 4873));
        assert!(a.allows("registry.example.com", 8443));
        assert!(!a.allows("registry.example.com", 443));
        assert_eq!(
            a.to_string(),
            "npm.pkg.github.com:443, 127.0.0.1:4873, registry.example.com:8443"
        );
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(err(""), AllowError::Empty);
        assert!(matches!(err("a b.com"), AllowError::Whitespace(_)));
        assert!(matches!(err(" a.com"), AllowError::Whitespace(_)));
        assert!(matches!(err("a.com:0"), AllowError::BadPort { .. }));
        assert!(matches!(err("a.com:65536"), AllowError::BadPort { .. }));
        assert!(matches!(err("a.com:"), AllowError::BadPort { .. }));
        assert!(matches!(err("a.com:+1"), AllowError::BadPort { .. }));
        assert!(matches!(err("[::1]:x"), AllowError::BadPort { .. }));
        assert!(matches!(err("ftp://a.com"), AllowError::Scheme { .. }));
        assert!(matches!(
            err("https://u:p@a.com"),
            AllowError::Credentials(_)
        ));
        assert!(matches!(err("a.com/path"), AllowError::BadHost { .. }));
        assert!(matches!(err("foo.*.com"), AllowError::BadHost { .. }));
        assert!(matches!(err("*"), AllowError::BadHost { .. }));
        assert!(matches!(err("a..com"), AllowError::BadHost { .. }));
        assert!(matches!(err("256.1.1.1"), AllowError::BadHost { .. }));
        assert!(matches!(err("[::1"), AllowError::BadHost { .. }));
        assert!(matches!(err("::g"), AllowError::BadHost { .. }));
        assert!(matches!(err("https://"), AllowError::BadHost { .. }));
        assert!(matches!(err(&"a".repeat(64)), AllowError::BadHost { .. }));
        let msg = err("a.com:99999").to_string();
        assert!(msg.contains("99999") && msg.contains("a.com"), "{msg}");
    }

    #[test]
    fn odd_query_names_never_match() {
        let a = list(&["*.github.com", "github.com"]);
        assert!(!a.allows_name("evil\\046github.com"));
        assert!(!a.allows_name(""));
        assert!(!a.allows_name("."));
        assert!(!a.allows_name("a..github.com"));
        assert!(!a.allows("", 443));
    }
}
