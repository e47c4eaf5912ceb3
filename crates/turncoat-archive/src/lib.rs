//! Package archives, read in memory and never extracted: npm tarballs, Python wheels and
//! sdists (see [`python`]).
//!
//! This crate owns turning the bytes of a `.tgz` (or a plain `.tar`, a `.whl`, a `.zip`) into a list of
//! [`PackageFile`]s that every analysis works on. A tarball is hostile input: every size is
//! bounded by [`Limits`] *while* decompressing (a gzip bomb stops at the limit, it is never inflated
//! first), header sizes are never trusted for allocation, and entries npm would not install
//! (links, devices, paths escaping the package) are skipped and reported in
//! [`Archive::skipped`] instead of failing the whole archive.
//!
//! Paths follow what npm's extractor (pacote, `strip: 1`) does: the first path component (the
//! `package/` directory, or whatever single top directory an old package used) is removed, and
//! symbolic and hard links are ignored.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

use flate2::bufread::GzDecoder;

pub mod python;
mod zip_reader;

pub use python::{RecordIssue, RecordIssueKind, Wheel, read_sdist, read_wheel};
pub use zip_reader::read_zip;

/// Size bounds applied while reading an archive.
///
/// The defaults fit every real npm package with a wide margin (the largest packages on the
/// registry are a few hundred MiB unpacked) while keeping a single hostile tarball from taking
/// more than about 1 GiB of memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input (the `.tgz` as downloaded). Default 256 MiB.
    pub max_compressed: u64,
    /// Largest decompressed tar stream (headers, padding and data included). Default 1 GiB.
    pub max_uncompressed: u64,
    /// Most tar entries of any kind (files, directories, links, extension headers excluded).
    /// Default 100,000.
    pub max_entries: usize,
    /// Largest single file. Default 256 MiB.
    pub max_file: u64,
    /// Zip only: most bytes a member may inflate to per compressed byte (beyond a 1 MiB
    /// allowance), so a deflate bomb stops early even under the size limits. Default 200.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed: 256 * MIB,
            max_uncompressed: 1024 * MIB,
            max_entries: 100_000,
            max_file: 256 * MIB,
            max_ratio: 200,
        }
    }
}

pub(crate) const MIB: u64 = 1024 * 1024;

/// A header's size is only a claim: buffers are pre-sized from it up to this much, and grow
/// with the data actually read beyond it.
pub(crate) const PREALLOC_CAP: u64 = 8 * MIB;

/// Output buffer between the decompressor and the tar reader.
const OUT_BUF: usize = 64 * 1024;

/// Longest path kept; longer names (possible through PAX headers) are skipped.
const MAX_PATH_LEN: usize = 4096;

/// Longest name or link target copied into a [`SkippedEntry`] report.
const MAX_REPORTED_NAME: usize = 1024;

/// Which limit an archive exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Compressed,
    Uncompressed,
    File,
    /// A zip member inflating to far more than its compressed size (a bomb).
    Ratio,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Compressed => "compressed size",
            LimitKind::Uncompressed => "uncompressed size",
            LimitKind::File => "single file size",
            LimitKind::Ratio => "compression ratio",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Neither gzip nor a tar stream.
    #[error("not a gzip-compressed tarball (and not a plain tar archive either)")]
    NotGzip,
    #[error("archive is truncated: {0}")]
    Truncated(String),
    #[error("archive exceeds the {which} limit of {limit} bytes")]
    TooLarge { which: LimitKind, limit: u64 },
    #[error("archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("archive is corrupt: {0}")]
    Corrupt(String),
    /// Neither a zip nor a (gzip-compressed) tar archive.
    #[error("unknown archive format (expected a zip, a .tar.gz or a .tar)")]
    UnknownFormat,
    /// Two zip members with the same name (as written, or once normalised): installers
    /// disagree on which one wins, so the archive means different things to different tools.
    #[error("zip archive has two members with the same name{0}")]
    DuplicateName(String),
    /// Zip members sharing compressed bytes (an overlapping-entry bomb).
    #[error("zip archive has members that overlap (an overlapping-entry bomb)")]
    Overlapping,
    /// Encrypted zip members: installers cannot read them either.
    #[error("zip member {0:?} is encrypted")]
    Encrypted(String),
}

/// One regular file of the package.
#[derive(Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Normalised path relative to the package root (`lib/index.js`), `/`-separated, with no
    /// `.`/`..`/empty components.
    pub path: String,
    pub data: Vec<u8>,
    /// Permission bits from the header (`0o7777` mask).
    pub mode: u32,
}

impl PackageFile {
    /// True when any execute bit is set.
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

impl fmt::Debug for PackageFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageFile")
            .field("path", &self.path)
            .field("len", &self.data.len())
            .field("mode", &format_args!("{:o}", self.mode))
            .finish()
    }
}

/// Why an entry was not turned into a [`PackageFile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A `..` component: the path would escape the package directory.
    ParentDir,
    /// Absolute path (`/etc/passwd`, `C:\x`).
    Absolute,
    /// NUL byte inside the name.
    NulInName,
    /// Name is not UTF-8.
    InvalidUtf8,
    /// Name longer than 4096 bytes.
    NameTooLong,
    /// Only one path component: nothing is left after stripping the top directory, which npm
    /// ignores too.
    OutsidePackageDir,
    Symlink {
        target: String,
    },
    HardLink {
        target: String,
    },
    CharDevice,
    BlockDevice,
    Fifo,
    /// GNU sparse files and other entry types npm does not install.
    Unsupported {
        entry_type: u8,
    },
    /// An earlier entry with the same path, replaced by a later one (last wins, as in tar).
    Overwritten,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::ParentDir => f.write_str("path contains '..'"),
            SkipReason::Absolute => f.write_str("absolute path"),
            SkipReason::NulInName => f.write_str("NUL byte in name"),
            SkipReason::InvalidUtf8 => f.write_str("name is not valid UTF-8"),
            SkipReason::NameTooLong => write!(f, "name longer than {MAX_PATH_LEN} bytes"),
            SkipReason::OutsidePackageDir => f.write_str("not inside the package directory"),
            SkipReason::Symlink { target } => write!(f, "symbolic link to {target:?}"),
            SkipReason::HardLink { target } => write!(f, "hard link to {target:?}"),
            SkipReason::CharDevice => f.write_str("character device"),
            SkipReason::BlockDevice => f.write_str("block device"),
            SkipReason::Fifo => f.write_str("FIFO"),
            SkipReason::Unsupported { entry_type } => {
                write!(f, "unsupported entry type {:?}", char::from(*entry_type))
            }
            SkipReason::Overwritten => {
                f.write_str("overwritten by a later entry with the same path")
            }
        }
    }
}

/// An entry that was not kept, with its name as written (lossy UTF-8, truncated for display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    pub path: String,
    pub reason: SkipReason,
}

/// The regular files of a package, in archive order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    pub files: Vec<PackageFile>,
    pub skipped: Vec<SkippedEntry>,
    /// Bytes of the decompressed tar stream (headers and padding included).
    pub total_uncompressed: u64,
}

impl Archive {
    pub fn get(&self, path: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The package's `package.json`, at the package root.
    pub fn package_json(&self) -> Option<&PackageFile> {
        self.get("package.json")
    }

    /// `package.json` parsed leniently; `None` when the archive has none.
    pub fn manifest(&self) -> Option<Result<turncoat_npm::Manifest, serde_json::Error>> {
        self.package_json()
            .map(|f| turncoat_npm::Manifest::from_slice(&f.data))
    }

    /// Sum of the sizes of the kept files.
    pub fn unpacked_size(&self) -> u64 {
        self.files.iter().map(|f| f.data.len() as u64).sum()
    }
}

/// Read a gzip-compressed (or plain) tarball from memory.
pub fn read_tgz(bytes: &[u8], limits: &Limits) -> Result<Archive, ArchiveError> {
    if bytes.len() as u64 > limits.max_compressed {
        return Err(ArchiveError::TooLarge {
            which: LimitKind::Compressed,
            limit: limits.max_compressed,
        });
    }
    let exceeded = Rc::new(Cell::new(false));
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // `&[u8]` is already buffered: the bufread decoder reads it without another copy. The
        // output side is buffered because tar asks for 512-byte headers one at a time, and
        // small calls into the inflater are what costs on packages of many small files.
        let decoder = GzDecoder::new(bytes);
        let reader = Bounded::new(decoder, limits.max_uncompressed, &exceeded);
        read_tar(
            io::BufReader::with_capacity(OUT_BUF, reader),
            limits,
            &exceeded,
        )
    } else if is_plain_tar(bytes) {
        let reader = Bounded::new(bytes, limits.max_uncompressed, &exceeded);
        read_tar(
            io::BufReader::with_capacity(OUT_BUF, reader),
            limits,
            &exceeded,
        )
    } else {
        Err(ArchiveError::NotGzip)
    }
}

/// A ustar/GNU magic at offset 257, or a header block whose checksum is right (v7 tar).
fn is_plain_tar(bytes: &[u8]) -> bool {
    let Some(block) = bytes.get(..512) else {
        return false;
    };
    if block.get(257..262) == Some(b"ustar".as_slice()) {
        return true;
    }
    let stored = block
        .get(148..156)
        .and_then(|f| std::str::from_utf8(f).ok())
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u32::from_str_radix(s, 8).ok());
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    stored == Some(sum) && block.iter().any(|b| *b != 0)
}

/// Counts bytes coming out of the decompressor and fails once the limit is passed, so a bomb
/// is cut off after `limit` bytes of work.
struct Bounded<R> {
    inner: R,
    remaining: u64,
    read: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Bounded<R> {
    fn new(inner: R, limit: u64, exceeded: &Rc<Cell<bool>>) -> Self {
        Bounded {
            inner,
            remaining: limit,
            read: 0,
            exceeded: Rc::clone(exceeded),
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Ask for one byte more than allowed so "exactly at the limit" is not an error.
        let want = buf
            .len()
            .min(usize::try_from(self.remaining.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.remaining {
            self.exceeded.set(true);
            return Err(io::Error::other("uncompressed size limit exceeded"));
        }
        self.remaining -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

fn read_tar<R: Read>(
    reader: io::BufReader<Bounded<R>>,
    limits: &Limits,
    exceeded: &Rc<Cell<bool>>,
) -> Result<Archive, ArchiveError> {
    let io_err = |e: io::Error| -> ArchiveError {
        if exceeded.get() {
            ArchiveError::TooLarge {
                which: LimitKind::Uncompressed,
                limit: limits.max_uncompressed,
            }
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            ArchiveError::Truncated(e.to_string())
        } else {
            ArchiveError::Corrupt(e.to_string())
        }
    };

    let mut tar = tar::Archive::new(reader);
    let mut out = Archive::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut entries_seen = 0usize;
    {
        let entries = tar.entries().map_err(io_err)?;
        for entry in entries {
            let mut entry = entry.map_err(io_err)?;
            entries_seen += 1;
            if entries_seen > limits.max_entries {
                return Err(ArchiveError::TooManyEntries {
                    limit: limits.max_entries,
                });
            }
            let raw_name = entry.path_bytes().into_owned();
            let entry_type = entry.header().entry_type();
            let kind = match classify(entry_type) {
                Kind::File => None,
                Kind::Ignore => continue,
                Kind::Skip(reason) => Some(reason),
                Kind::Link { hard } => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| report_name(&t))
                        .unwrap_or_default();
                    Some(if hard {
                        SkipReason::HardLink { target }
                    } else {
                        SkipReason::Symlink { target }
                    })
                }
            };
            if let Some(reason) = kind {
                out.skipped.push(SkippedEntry {
                    path: report_name(&raw_name),
                    reason,
                });
                continue;
            }
            let path = match normalise(&raw_name) {
                Ok(p) => p,
                Err(reason) => {
                    out.skipped.push(SkippedEntry {
                        path: report_name(&raw_name),
                        reason,
                    });
                    continue;
                }
            };
            let size = entry.size();
            if size > limits.max_file {
                return Err(ArchiveError::TooLarge {
                    which: LimitKind::File,
                    limit: limits.max_file,
                });
            }
            let mut data = Vec::with_capacity(usize::try_from(size.min(PREALLOC_CAP)).unwrap_or(0));
            (&mut entry)
                .take(limits.max_file.saturating_add(1))
                .read_to_end(&mut data)
                .map_err(io_err)?;
            if data.len() as u64 > limits.max_file {
                return Err(ArchiveError::TooLarge {
                    which: LimitKind::File,
                    limit: limits.max_file,
                });
            }
            // The entry reader stops quietly at end of input; a short read means the header
            // promised more than the archive holds.
            if (data.len() as u64) < size {
                return Err(ArchiveError::Truncated(format!(
                    "{path}: header says {size} bytes, archive holds {}",
                    data.len()
                )));
            }
            let mode = entry.header().mode().map(|m| m & 0o7777).unwrap_or(0o644);
            let file = PackageFile { path, data, mode };
            match index.get(&file.path) {
                Some(&i) => {
                    out.skipped.push(SkippedEntry {
                        path: file.path.clone(),
                        reason: SkipReason::Overwritten,
                    });
                    if let Some(slot) = out.files.get_mut(i) {
                        *slot = file;
                    }
                }
                None => {
                    index.insert(file.path.clone(), out.files.len());
                    out.files.push(file);
                }
            }
        }
    }
    // Read to the end of the stream: this checks the gzip trailer (CRC and length), so a
    // truncated or tampered download is not accepted just because the tar end marker came first.
    // Anything after the marker still counts against the uncompressed limit.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(io_err)?;
    out.total_uncompressed = rest.get_ref().read;
    Ok(out)
}

enum Kind {
    File,
    Ignore,
    Link { hard: bool },
    Skip(SkipReason),
}

fn classify(t: tar::EntryType) -> Kind {
    use tar::EntryType as T;
    match t {
        T::Regular | T::Continuous => Kind::File,
        T::Directory | T::XGlobalHeader => Kind::Ignore,
        T::Symlink => Kind::Link { hard: false },
        T::Link => Kind::Link { hard: true },
        T::Char => Kind::Skip(SkipReason::CharDevice),
        T::Block => Kind::Skip(SkipReason::BlockDevice),
        T::Fifo => Kind::Skip(SkipReason::Fifo),
        other => Kind::Skip(SkipReason::Unsupported {
            entry_type: other.as_byte(),
        }),
    }
}

pub(crate) fn report_name(raw: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(raw);
    if lossy.len() <= MAX_REPORTED_NAME {
        return lossy.into_owned();
    }
    let mut cut = MAX_REPORTED_NAME;
    while !lossy.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &lossy[..cut])
}

/// Normalise a raw entry name to a package-relative path, or say why it is not one.
/// `strip` removes the top directory (npm tarballs and sdists have one; wheels do not).
fn normalise(raw: &[u8]) -> Result<String, SkipReason> {
    normalise_with(raw, true)
}

pub(crate) fn normalise_with(raw: &[u8], strip: bool) -> Result<String, SkipReason> {
    if raw.contains(&0) {
        return Err(SkipReason::NulInName);
    }
    if raw.len() > MAX_PATH_LEN {
        return Err(SkipReason::NameTooLong);
    }
    let name = std::str::from_utf8(raw).map_err(|_| SkipReason::InvalidUtf8)?;
    let name = name.replace('\\', "/");
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if name.starts_with('/') || drive {
        return Err(SkipReason::Absolute);
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(SkipReason::ParentDir),
            p => parts.push(p),
        }
    }
    if !strip {
        if parts.is_empty() {
            return Err(SkipReason::OutsidePackageDir);
        }
        return Ok(parts.join("/"));
    }
    // npm extracts with `strip: 1`: whatever the top directory is called, it goes.
    if parts.len() < 2 {
        return Err(SkipReason::OutsidePackageDir);
    }
    Ok(parts[1..].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        assert_eq!(normalise(b"package/lib/a.js").unwrap(), "lib/a.js");
        assert_eq!(normalise(b"./package//lib/./a.js").unwrap(), "lib/a.js");
        assert_eq!(normalise(b"node\\lib\\a.js").unwrap(), "lib/a.js");
        assert_eq!(normalise(b"package/../x"), Err(SkipReason::ParentDir));
        assert_eq!(normalise(b"/etc/passwd"), Err(SkipReason::Absolute));
        assert_eq!(normalise(b"C:\\x\\y"), Err(SkipReason::Absolute));
        assert_eq!(normalise(b"package/a\0b"), Err(SkipReason::NulInName));
        assert_eq!(normalise(b"package/\xff"), Err(SkipReason::InvalidUtf8));
        assert_eq!(
            normalise(b"package.json"),
            Err(SkipReason::OutsidePackageDir)
        );
        assert_eq!(normalise(b"package/"), Err(SkipReason::OutsidePackageDir));
    }

    #[test]
    fn report_name_is_bounded() {
        let long = vec![b'a'; 5000];
        assert!(report_name(&long).len() <= MAX_REPORTED_NAME + '…'.len_utf8());
        assert_eq!(report_name(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            read_tgz(b"hello", &Limits::default()),
            Err(ArchiveError::NotGzip)
        ));
        assert!(matches!(
            read_tgz(&[0u8; 1024], &Limits::default()),
            Err(ArchiveError::NotGzip)
        ));
    }
}
