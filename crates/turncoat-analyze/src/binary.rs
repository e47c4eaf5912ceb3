//! Native code recognised by magic bytes.

use std::collections::BTreeMap;

use crate::facts::{BinaryKind, Capability};

/// The native format of a file, by its first bytes (and `.node` by extension).
pub fn detect(path: &str, data: &[u8]) -> Option<BinaryKind> {
    let magic = |m: &[u8]| data.starts_with(m);
    let kind = if magic(b"\x7fELF") {
        Some(BinaryKind::Elf)
    } else if magic(b"MZ") && is_pe(data) {
        Some(BinaryKind::Pe)
    } else if magic(&[0xfe, 0xed, 0xfa, 0xce])
        || magic(&[0xfe, 0xed, 0xfa, 0xcf])
        || magic(&[0xce, 0xfa, 0xed, 0xfe])
        || magic(&[0xcf, 0xfa, 0xed, 0xfe])
    {
        Some(BinaryKind::MachO)
    } else if magic(&[0xca, 0xfe, 0xba, 0xbe]) && is_fat_macho(data) {
        Some(BinaryKind::MachOFat)
    } else if magic(b"\0asm") {
        Some(BinaryKind::Wasm)
    } else {
        None
    };
    kind.or_else(|| {
        path.to_ascii_lowercase()
            .ends_with(".node")
            .then_some(BinaryKind::NodeAddon)
    })
}

/// `MZ` alone starts plenty of text; a PE has `PE\0\0` where `e_lfanew` (at 0x3c) points.
fn is_pe(data: &[u8]) -> bool {
    let Some(off) = data.get(0x3c..0x40) else {
        return false;
    };
    let off = u32::from_le_bytes([off[0], off[1], off[2], off[3]]) as usize;
    off.checked_add(4)
        .and_then(|end| data.get(off..end))
        .is_some_and(|sig| sig == b"PE\0\0")
}

/// `cafebabe` is also a Java class file; a fat Mach-O has a small architecture count there,
/// a class file has its version (>= 45) in the same place.
fn is_fat_macho(data: &[u8]) -> bool {
    data.get(4..8)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]))
        .is_some_and(|n| (1..20).contains(&n))
}

/// Import names read from one binary at most (a hostile file may declare millions).
const MAX_IMPORTS: usize = 65_536;
/// Symbol names kept as evidence per capability.
const MAX_NAMES: usize = 8;

/// What the import table of native code reaches: the capability of each imported function
/// the gate knows (sockets, resolver, process creation, in libc, Winsock/WinINet/WinHTTP,
/// libcurl and libuv), with the names. Statically linked code imports nothing and so shows
/// nothing here; a file `object` cannot parse gives an empty map.
pub fn native_capabilities(data: &[u8]) -> BTreeMap<Capability, Vec<String>> {
    let mut out: BTreeMap<Capability, Vec<String>> = BTreeMap::new();
    let mut add = |name: &[u8]| {
        let name = String::from_utf8_lossy(name);
        // Mach-O prefixes C symbols with `_`; ELF may carry a `@VERSION` suffix.
        let bare = name.strip_prefix('_').unwrap_or(&name);
        let bare = bare.split('@').next().unwrap_or(bare);
        if let Some(cap) = import_capability(bare) {
            let names = out.entry(cap).or_default();
            if names.len() < MAX_NAMES && !names.iter().any(|n| n == bare) {
                names.push(bare.to_string());
            }
        }
    };
    let mut read = |file: &[u8]| {
        use object::Object;
        if let Ok(f) = object::File::parse(file)
            && let Ok(imports) = f.imports()
        {
            for i in imports.take(MAX_IMPORTS).flatten() {
                if let object::read::NameOrOrdinal::Name(name) = i.name() {
                    add(name);
                }
            }
        }
    };
    if let Ok(fat) = object::read::macho::MachOFatFile32::parse(data) {
        for arch in fat.arches() {
            if let Ok(slice) = object::read::macho::FatArch::data(arch, data) {
                read(slice);
            }
        }
    } else {
        read(data);
    }
    out
}

/// The capability an imported function gives, by name.
fn import_capability(name: &str) -> Option<Capability> {
    const NETWORK: &[&str] = &[
        "socket",
        "connect",
        "send",
        "sendto",
        "sendmsg",
        "sendmmsg",
        "WSAConnect",
        "WSASocketA",
        "WSASocketW",
        "WSASend",
        "WSASendTo",
        "InternetOpenA",
        "InternetOpenW",
        "InternetOpenUrlA",
        "InternetOpenUrlW",
        "InternetConnectA",
        "InternetConnectW",
        "HttpSendRequestA",
        "HttpSendRequestW",
        "WinHttpOpen",
        "WinHttpConnect",
        "WinHttpSendRequest",
        "URLDownloadToFileA",
        "URLDownloadToFileW",
        "curl_easy_init",
        "curl_easy_perform",
        "uv_tcp_connect",
        "uv_udp_send",
        "uv_udp_try_send",
    ];
    const DNS: &[&str] = &[
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname2",
        "gethostbyname_r",
        "res_query",
        "res_search",
        "res_nquery",
        "res_nsearch",
        "res_send",
        "DnsQuery_A",
        "DnsQuery_W",
        "DnsQuery_UTF8",
        "DnsQueryEx",
        "GetAddrInfoW",
        "GetAddrInfoExW",
        "getaddrinfo_a",
        "uv_getaddrinfo",
    ];
    const PROCESS: &[&str] = &[
        "execve",
        "execv",
        "execvp",
        "execvpe",
        "execl",
        "execlp",
        "execle",
        "fexecve",
        "system",
        "popen",
        "posix_spawn",
        "posix_spawnp",
        "fork",
        "vfork",
        "CreateProcessA",
        "CreateProcessW",
        "CreateProcessAsUserA",
        "CreateProcessAsUserW",
        "WinExec",
        "ShellExecuteA",
        "ShellExecuteW",
        "ShellExecuteExA",
        "ShellExecuteExW",
        "uv_spawn",
    ];
    if NETWORK.contains(&name) {
        Some(Capability::Network)
    } else if DNS.contains(&name) {
        Some(Capability::Dns)
    } else if PROCESS.contains(&name) {
        Some(Capability::ChildProcess)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(detect("a", b"\x7fELF\x02\x01"), Some(BinaryKind::Elf));
        let mut pe = vec![0u8; 0x100];
        pe[0] = b'M';
        pe[1] = b'Z';
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(detect("x.dll", &pe), Some(BinaryKind::Pe));
        assert_eq!(detect("README", b"MZ is a text that starts with MZ"), None);
        assert_eq!(
            detect("a", &[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
            Some(BinaryKind::MachO)
        );
        assert_eq!(
            detect("a", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
            Some(BinaryKind::MachOFat)
        );
        assert_eq!(
            detect("A.class", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
            None
        );
        assert_eq!(detect("build/x.node", b"??"), Some(BinaryKind::NodeAddon));
        assert_eq!(detect("x.wasm", b"\0asm\x01\0\0\0"), Some(BinaryKind::Wasm));
        assert_eq!(detect("index.js", b"module.exports = 1"), None);
        assert_eq!(detect("e", b""), None);
    }
}
