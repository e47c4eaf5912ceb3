//! Native code recognised by magic bytes.

use crate::facts::BinaryKind;

/// The native format of a file, by its first bytes (and `.node` by extension).
pub(crate) fn detect(path: &str, data: &[u8]) -> Option<BinaryKind> {
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
