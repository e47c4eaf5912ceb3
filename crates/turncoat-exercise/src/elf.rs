//! The native addon of the `binary` scenario: an ELF whose dynamic symbol table imports
//! `connect`, the way a trojanized native module gains network code.
//!
//! Built with `cc` at drill time when a compiler is on PATH (a real shared object), else
//! [`minimal_addon`]: a hand-written ELF64 with only the sections an import-table reader
//! looks at. Written by hand because the `object` crate's writer builds relocatable objects,
//! not a shared object's dynamic symbol table; the bytes below are ~60 lines of layout and
//! a test reads them back with `object`, the reader the gate uses.

use std::path::Path;
use std::time::Duration;

use turncoat_sandbox::tools::{Tool, find_on_path};

/// The import the addon gains.
pub const IMPORT: &str = "connect";

const SHDR: usize = 64;

/// One section header: (name offset, type, flags, file offset, size, link, info, entsize).
type Shdr = (u32, u32, u64, usize, usize, u32, u32, u64);

fn section(out: &mut Vec<u8>, (name, kind, flags, offset, size, link, info, entsize): Shdr) {
    out.extend_from_slice(&name.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // addr
    out.extend_from_slice(&(offset as u64).to_le_bytes());
    out.extend_from_slice(&(size as u64).to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    out.extend_from_slice(&info.to_le_bytes());
    out.extend_from_slice(&8u64.to_le_bytes()); // addralign
    out.extend_from_slice(&entsize.to_le_bytes());
}

/// An x86-64 ELF shared object (no code) whose `.dynsym` imports [`IMPORT`].
pub fn minimal_addon() -> Vec<u8> {
    let dynstr = format!("\0{IMPORT}\0").into_bytes();
    let mut dynsym = vec![0u8; 24]; // the null symbol
    dynsym.extend_from_slice(&1u32.to_le_bytes()); // st_name: offset of IMPORT in dynstr
    dynsym.push(0x12); // STB_GLOBAL << 4 | STT_FUNC
    dynsym.push(0); // st_other
    dynsym.extend_from_slice(&0u16.to_le_bytes()); // SHN_UNDEF: an import
    dynsym.extend_from_slice(&[0u8; 16]); // st_value, st_size
    let shstrtab = b"\0.dynstr\0.dynsym\0.shstrtab\0".to_vec();

    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // entry
    out.extend_from_slice(&0u64.to_le_bytes()); // phoff
    let dynstr_off = 64;
    let dynsym_off = (dynstr_off + dynstr.len()).next_multiple_of(8);
    let shstr_off = dynsym_off + dynsym.len();
    let shoff = (shstr_off + shstrtab.len()).next_multiple_of(8);
    out.extend_from_slice(&(shoff as u64).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // flags
    out.extend_from_slice(&64u16.to_le_bytes()); // ehsize
    out.extend_from_slice(&56u16.to_le_bytes()); // phentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // phnum
    out.extend_from_slice(&(SHDR as u16).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes()); // shnum
    out.extend_from_slice(&3u16.to_le_bytes()); // shstrndx
    out.extend_from_slice(&dynstr);
    out.resize(dynsym_off, 0);
    out.extend_from_slice(&dynsym);
    out.extend_from_slice(&shstrtab);
    out.resize(shoff, 0);
    out.extend_from_slice(&[0u8; SHDR]);
    section(&mut out, (1, 3, 2, dynstr_off, dynstr.len(), 0, 0, 0));
    section(&mut out, (9, 11, 2, dynsym_off, dynsym.len(), 1, 1, 24));
    section(&mut out, (17, 3, 0, shstr_off, shstrtab.len(), 0, 0, 0));
    out
}

/// Build the addon from `source` with the host's `cc` in `dir`; `None` when there is no
/// compiler or it fails (the caller falls back to [`minimal_addon`]).
pub fn build_with_cc(source: &str, dir: &Path) -> Option<Vec<u8>> {
    let cc = find_on_path("cc")?;
    let src = dir.join("addon.c");
    let out = dir.join("addon.node");
    std::fs::write(&src, source).ok()?;
    let run = Tool::new(cc)
        .pass_env(&["PATH", "TMPDIR"])
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&out)
        .arg(&src)
        .timeout(Duration::from_secs(60))
        .max_output(64 << 10)
        .run()
        .ok()?;
    if !run.success() {
        return None;
    }
    std::fs::read(&out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object, read::NameOrOrdinal};

    fn imports(data: &[u8]) -> Vec<String> {
        let f = object::File::parse(data).unwrap();
        f.imports()
            .unwrap()
            .flatten()
            .filter_map(|i| match i.name() {
                NameOrOrdinal::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_minimal_addon_imports_connect() {
        assert_eq!(imports(&minimal_addon()), vec![IMPORT.to_string()]);
    }

    #[test]
    #[allow(clippy::print_stderr)]
    fn the_cc_addon_imports_connect_when_a_compiler_exists() {
        let dir = tempfile::tempdir().unwrap();
        let spec = crate::canary::CanarySpec::new("00ff00ff", &dir.path().join("m"));
        match build_with_cc(&crate::canary::addon_c_source(&spec), dir.path()) {
            Some(bin) => assert!(imports(&bin).iter().any(|n| n == IMPORT)),
            None => eprintln!("skipped: no working cc on PATH"),
        }
    }
}
