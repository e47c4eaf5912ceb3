//! Names hidden in an obfuscator's string table.
//!
//! javascript-obfuscator (and the hand-rolled imitations in npm payloads) moves every string
//! of a file into one array — `var _0x4f2a = ['\x64\x6e\x73', 'ZW52', …]` — and replaces each use
//! by a lookup: `require(_0x1e9b('0x0'))`, `process[_0x1e9b('0x4')]`. The walk then sees only a
//! dynamic `require` and a computed member of `process`. The order of the table is scrambled
//! (rotated, sometimes until a checksum matches), but the *set* of strings is not: a table that
//! holds `dns` in a file that loads a module by computed name loads `dns`. This module reads
//! one table entry (plain, or base64 in either the standard or javascript-obfuscator's
//! lower-case-first alphabet) and says whether it names something we track. RC4-encoded tables
//! stay opaque; detonation covers them.

use super::patterns::{core_module, is_hostname};
use crate::facts::Capability;

/// What a table entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableName {
    /// A Node core module that gives network, DNS or shell access (`dns`, `node:https`), with
    /// the capability it gives.
    Module(Capability, String),
    /// `env`, the property that turns `process[…]` into `process.env`.
    Env,
    /// A DNS suffix the code appends names to (`.exfil.example` → `exfil.example`).
    HostSuffix(String),
}

/// Longest entry looked at: module names are short, and base64 of `node:child_process` is 28.
const MAX_ENTRY: usize = 64;

/// The name an entry of an all-string array stands for, if it is one we track.
pub(crate) fn table_name(entry: &str) -> Option<TableName> {
    if entry.len() > MAX_ENTRY {
        return None;
    }
    if let Some(name) = plain_name(entry) {
        return Some(name);
    }
    // Not a name as it stands: maybe encoded. Both alphabets are tried; only an exact tracked
    // name is accepted, so a random string never decodes into a finding by accident.
    let bytes = entry.as_bytes();
    if bytes.len() < 4 || !bytes.iter().all(|&b| is_base64_byte(b)) {
        return None;
    }
    let mut buf = [0u8; MAX_ENTRY];
    for swap_case in [false, true] {
        if let Some(n) = decode_base64(bytes, swap_case, &mut buf)
            && let Ok(s) = std::str::from_utf8(&buf[..n])
            && let Some(name) = plain_name(s)
        {
            return Some(name);
        }
    }
    None
}

fn plain_name(s: &str) -> Option<TableName> {
    if s == "env" {
        return Some(TableName::Env);
    }
    if let Some(cap) = core_module(s).and_then(|k| k.capability()) {
        return Some(TableName::Module(cap, s.to_string()));
    }
    let suffix = s.strip_prefix('.')?;
    (suffix.contains('.')
        && is_hostname(suffix)
        && suffix.rsplit('.').next().is_some_and(is_tld_like))
    .then(|| TableName::HostSuffix(suffix.to_ascii_lowercase()))
}

/// The last label of a DNS suffix: letters only, and not a file extension (`.min.js`).
fn is_tld_like(label: &str) -> bool {
    label.len() >= 2
        && label.bytes().all(|b| b.is_ascii_alphabetic())
        && !matches!(
            label.to_ascii_lowercase().as_str(),
            "js" | "cjs"
                | "mjs"
                | "jsx"
                | "ts"
                | "tsx"
                | "json"
                | "map"
                | "css"
                | "html"
                | "htm"
                | "txt"
                | "md"
                | "node"
                | "exe"
                | "dll"
                | "so"
                | "sh"
                | "bat"
                | "ps"
                | "py"
                | "zip"
                | "gz"
                | "tgz"
                | "tar"
                | "png"
                | "jpg"
                | "svg"
                | "wasm"
                | "lock"
                | "yml"
                | "yaml"
                | "toml"
                | "log"
        )
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// Decode `input` (padding optional) into `out`; `swap_case` reads javascript-obfuscator's
/// alphabet, which puts the lower-case letters first. `None` when it is not base64 or does not
/// fit.
fn decode_base64(input: &[u8], swap_case: bool, out: &mut [u8]) -> Option<usize> {
    let body = match input.iter().position(|&b| b == b'=') {
        Some(p) => {
            if !input[p..].iter().all(|&b| b == b'=') || input.len() - p > 2 {
                return None;
            }
            &input[..p]
        }
        None => input,
    };
    if body.len() % 4 == 1 {
        return None;
    }
    let value = |b: u8| -> Option<u32> {
        let b = if swap_case {
            if b.is_ascii_lowercase() {
                b.to_ascii_uppercase()
            } else {
                b.to_ascii_lowercase()
            }
        } else {
            b
        };
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut n = 0;
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= value(b)? << (18 - 6 * i);
        }
        let produced = chunk.len() * 6 / 8;
        for k in 0..produced {
            *out.get_mut(n)? = (acc >> (16 - 8 * k)) as u8;
            n += 1;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_plain_and_encoded() {
        let module = |cap, name: &str| Some(TableName::Module(cap, name.into()));
        for (entry, expected) in [
            ("dns", module(Capability::Dns, "dns")),
            ("dns/promises", module(Capability::Dns, "dns/promises")),
            ("node:https", module(Capability::Network, "node:https")),
            ("env", Some(TableName::Env)),
            (
                ".exfil.example",
                Some(TableName::HostSuffix("exfil.example".into())),
            ),
            // Standard alphabet: "child_process", "env".
            (
                "Y2hpbGRfcHJvY2Vzcw==",
                module(Capability::ChildProcess, "child_process"),
            ),
            ("ZW52", Some(TableName::Env)),
            // javascript-obfuscator's lower-case-first alphabet, unpadded: "dns", "https".
            ("zg5Z", module(Capability::Dns, "dns")),
            ("Ahr0Chm", module(Capability::Network, "https")),
        ] {
            assert_eq!(table_name(entry), expected, "{entry}");
        }
    }

    #[test]
    fn ordinary_strings_name_nothing() {
        for s in [
            "request",
            "got",
            "toString",
            "length",
            "",
            "ab",
            ".js",
            ".min.js",
            "1.2.3",
            "process.env",
            "a.b",
            "fs",
            "vm",
            "ZGVmYXVsdA==",
            "====",
            "Zm9v=YmFy",
            "AAAAA",
        ] {
            assert_eq!(table_name(s), None, "{s}");
        }
        assert_eq!(table_name(&"ZG5z".repeat(20)), None);
    }
}
