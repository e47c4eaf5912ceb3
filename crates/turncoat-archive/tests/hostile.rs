//! Hostile and malformed archives, all generated here: bombs, escapes, links, lying headers.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};
use turncoat_archive::{ArchiveError, LimitKind, Limits, SkipReason, read_tgz};

/// Raw tar builder: writes headers byte by byte so names the `tar` builder refuses
/// (`..`, absolute, invalid UTF-8) can be produced.
#[derive(Default)]
struct RawTar {
    bytes: Vec<u8>,
}

impl RawTar {
    fn header(name: &[u8], entry_type: EntryType, size: u64, mode: u32) -> Header {
        let mut h = Header::new_gnu();
        let raw = h.as_mut_bytes();
        let n = name.len().min(100);
        raw[..n].copy_from_slice(&name[..n]);
        h.set_size(size);
        h.set_entry_type(entry_type);
        h.set_mode(mode);
        h.set_mtime(0);
        h
    }

    fn push_header(&mut self, mut h: Header) {
        h.set_cksum();
        self.bytes.extend_from_slice(h.as_bytes());
    }

    fn push_data(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0u8, pad));
    }

    fn file(mut self, name: &[u8], data: &[u8]) -> Self {
        self.push_header(Self::header(
            name,
            EntryType::Regular,
            data.len() as u64,
            0o644,
        ));
        self.push_data(data);
        self
    }

    fn file_mode(mut self, name: &[u8], data: &[u8], mode: u32) -> Self {
        self.push_header(Self::header(
            name,
            EntryType::Regular,
            data.len() as u64,
            mode,
        ));
        self.push_data(data);
        self
    }

    fn dir(mut self, name: &[u8]) -> Self {
        self.push_header(Self::header(name, EntryType::Directory, 0, 0o755));
        self
    }

    fn link(mut self, name: &[u8], entry_type: EntryType, target: &[u8]) -> Self {
        let mut h = Self::header(name, entry_type, 0, 0o777);
        h.set_link_name_literal(target).unwrap();
        self.push_header(h);
        self
    }

    fn special(mut self, name: &[u8], entry_type: EntryType) -> Self {
        self.push_header(Self::header(name, entry_type, 0, 0o644));
        self
    }

    /// A header whose size field claims `claimed` bytes, followed by only `data`.
    fn lying(mut self, name: &[u8], claimed: u64, data: &[u8]) -> Self {
        self.push_header(Self::header(name, EntryType::Regular, claimed, 0o644));
        self.push_data(data);
        self
    }

    fn finish(mut self) -> Vec<u8> {
        self.bytes.extend(std::iter::repeat_n(0u8, 1024));
        self.bytes
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn package() -> RawTar {
    RawTar::default()
        .dir(b"package/")
        .file(
            b"package/package.json",
            br#"{"name":"demo","version":"1.0.0"}"#,
        )
        .file_mode(b"package/bin/cli.js", b"#!/usr/bin/env node\n", 0o755)
}

#[test]
fn reads_a_normal_package() {
    let tgz = gz(&package().finish());
    let a = read_tgz(&tgz, &Limits::default()).unwrap();
    assert_eq!(a.files.len(), 2);
    assert!(a.skipped.is_empty());
    let m = a.manifest().unwrap().unwrap();
    assert_eq!(m.name.as_deref(), Some("demo"));
    let cli = a.get("bin/cli.js").unwrap();
    assert!(cli.is_executable());
    assert_eq!(cli.mode, 0o755);
    assert!(!a.package_json().unwrap().is_executable());
    assert_eq!(a.total_uncompressed, package().finish().len() as u64);
    assert_eq!(a.unpacked_size(), 33 + 20);
}

#[test]
fn plain_tar_is_accepted() {
    let tar = package().finish();
    let a = read_tgz(&tar, &Limits::default()).unwrap();
    assert_eq!(a.files.len(), 2);
}

#[test]
fn old_top_directory_names_are_stripped() {
    let tar = RawTar::default()
        .file(b"node/package.json", b"{}")
        .file(b"./node//lib\\x.js", b"1")
        .finish();
    let a = read_tgz(&gz(&tar), &Limits::default()).unwrap();
    let paths: Vec<&str> = a.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["package.json", "lib/x.js"]);
}

#[test]
fn gzip_bomb_stops_at_the_limit() {
    // 64 MiB of zeros inside one entry compresses to ~64 KiB.
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    let mut h = RawTar::header(b"package/zeros", EntryType::Regular, 64 << 20, 0o644);
    h.set_cksum();
    e.write_all(h.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&chunk).unwrap();
    }
    e.write_all(&[0u8; 1024]).unwrap();
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "bomb is {} bytes", bomb.len());

    let limits = Limits {
        max_uncompressed: 4 << 20,
        ..Limits::default()
    };
    match read_tgz(&bomb, &limits) {
        Err(ArchiveError::TooLarge {
            which: LimitKind::Uncompressed,
            limit,
        }) => assert_eq!(limit, 4 << 20),
        other => panic!("expected uncompressed limit, got {other:?}"),
    }
    let limits = Limits {
        max_file: 1 << 20,
        ..Limits::default()
    };
    assert!(matches!(
        read_tgz(&bomb, &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::File,
            ..
        })
    ));
}

#[test]
fn bomb_after_the_end_marker_is_still_bounded() {
    let mut tar = package().finish();
    tar.extend(std::iter::repeat_n(0u8, 16 << 20));
    let limits = Limits {
        max_uncompressed: 1 << 20,
        ..Limits::default()
    };
    assert!(matches!(
        read_tgz(&gz(&tar), &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::Uncompressed,
            ..
        })
    ));
}

#[test]
fn compressed_limit_is_checked_first() {
    let tgz = gz(&package().finish());
    let limits = Limits {
        max_compressed: 10,
        ..Limits::default()
    };
    assert!(matches!(
        read_tgz(&tgz, &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::Compressed,
            limit: 10
        })
    ));
}

#[test]
fn tar_bomb_of_many_entries() {
    let mut t = RawTar::default();
    for i in 0..300 {
        // Directories and links count too: they cost work even though nothing is kept.
        t = if i % 2 == 0 {
            t.dir(format!("package/d{i}/").as_bytes())
        } else {
            t.link(format!("package/l{i}").as_bytes(), EntryType::Symlink, b"x")
        };
    }
    let limits = Limits {
        max_entries: 100,
        ..Limits::default()
    };
    assert!(matches!(
        read_tgz(&gz(&t.finish()), &limits),
        Err(ArchiveError::TooManyEntries { limit: 100 })
    ));
}

#[test]
fn escaping_and_bad_names_are_skipped_not_fatal() {
    let tar = package()
        .file(b"package/../../etc/cron.d/x", b"evil")
        .file(b"../outside", b"evil")
        .file(b"/etc/passwd", b"evil")
        .file(b"C:\\Windows\\x", b"evil")
        .file(b"package/bad-\xff\xfe.js", b"evil")
        .file(b"toplevel.js", b"x")
        .file(b"package/after.js", b"kept")
        .finish();
    let a = read_tgz(&gz(&tar), &Limits::default()).unwrap();
    assert!(
        a.get("after.js").is_some(),
        "entries after bad ones are kept"
    );
    assert_eq!(a.files.len(), 3);
    let reasons: Vec<(&str, &SkipReason)> = a
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), &s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("package/../../etc/cron.d/x", &SkipReason::ParentDir),
            ("../outside", &SkipReason::ParentDir),
            ("/etc/passwd", &SkipReason::Absolute),
            ("C:\\Windows\\x", &SkipReason::Absolute),
            ("package/bad-\u{fffd}\u{fffd}.js", &SkipReason::InvalidUtf8),
            ("toplevel.js", &SkipReason::OutsidePackageDir),
        ]
    );
    for s in &a.skipped {
        assert!(!s.reason.to_string().is_empty());
    }
}

#[test]
fn nul_in_a_pax_path_is_skipped() {
    // PAX `path` records can carry bytes a ustar name field cannot, NUL included.
    let record = b"package/a\0b.js";
    let rest = [b" path=".as_slice(), record, b"\n"].concat();
    // The length prefix counts its own digits.
    let mut len = rest.len() + 1;
    while len != rest.len() + len.to_string().len() {
        len = rest.len() + len.to_string().len();
    }
    let body = [len.to_string().into_bytes(), rest].concat();
    let mut t = RawTar::default();
    t.push_header(RawTar::header(
        b"PaxHeader",
        EntryType::XHeader,
        body.len() as u64,
        0o644,
    ));
    t.push_data(&body);
    let t = t
        .file(b"package/placeholder", b"x")
        .file(b"package/ok.js", b"1");
    let a = read_tgz(&gz(&t.finish()), &Limits::default()).unwrap();
    assert_eq!(a.files.len(), 1);
    assert_eq!(a.skipped.len(), 1);
    assert_eq!(a.skipped[0].reason, SkipReason::NulInName);
}

#[test]
fn links_devices_and_fifos_are_skipped_with_targets() {
    let tar = package()
        .link(b"package/evil-link", EntryType::Symlink, b"/etc/shadow")
        .link(b"package/hard", EntryType::Link, b"package/package.json")
        .special(b"package/tty", EntryType::Char)
        .special(b"package/sda", EntryType::Block)
        .special(b"package/pipe", EntryType::Fifo)
        .finish();
    let a = read_tgz(&gz(&tar), &Limits::default()).unwrap();
    assert_eq!(a.files.len(), 2);
    let reasons: Vec<&SkipReason> = a.skipped.iter().map(|s| &s.reason).collect();
    assert_eq!(
        reasons,
        [
            &SkipReason::Symlink {
                target: "/etc/shadow".into()
            },
            &SkipReason::HardLink {
                target: "package/package.json".into()
            },
            &SkipReason::CharDevice,
            &SkipReason::BlockDevice,
            &SkipReason::Fifo,
        ]
    );
}

#[test]
fn header_claiming_2_gib_does_not_allocate_it() {
    // Over the per-file limit: refused from the header alone.
    let tar = package().lying(b"package/huge", 2 << 30, b"tiny").finish();
    assert!(matches!(
        read_tgz(&gz(&tar), &Limits::default()),
        Err(ArchiveError::TooLarge {
            which: LimitKind::File,
            ..
        })
    ));
    // Under the per-file limit but with little data behind it: the reader runs out of input
    // (the buffer was pre-sized only up to the cap, never to the claim).
    let tar = package().lying(b"package/big", 200 << 20, b"tiny").finish();
    assert!(matches!(
        read_tgz(&gz(&tar), &Limits::default()),
        Err(ArchiveError::Truncated(_))
    ));
}

#[test]
fn gnu_sparse_entry_of_2_gib_is_skipped() {
    let mut h = Header::new_gnu();
    h.as_mut_bytes()[..14].copy_from_slice(b"package/sparse");
    h.set_entry_type(EntryType::GNUSparse);
    h.set_mode(0o644);
    h.set_size(512);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(2 << 30);
        gnu.sparse[0].set_offset((2 << 30) - 512);
        gnu.sparse[0].set_length(512);
    }
    let mut t = package();
    t.push_header(h);
    t.push_data(&[7u8; 512]);
    let t = t.file(b"package/after.js", b"ok");
    let a = read_tgz(&gz(&t.finish()), &Limits::default()).unwrap();
    assert_eq!(a.files.len(), 3);
    assert_eq!(
        a.skipped[0].reason,
        SkipReason::Unsupported { entry_type: b'S' }
    );
    assert!(a.total_uncompressed < 1 << 20);
}

#[test]
fn truncated_gzip() {
    let tgz = gz(&package().file(b"package/x.js", &[b'x'; 5000]).finish());
    for cut in [tgz.len() / 2, tgz.len() - 4, 12] {
        match read_tgz(&tgz[..cut], &Limits::default()) {
            Err(ArchiveError::Truncated(_)) => {}
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn corrupt_gzip_and_tar() {
    let mut tgz = gz(&package().finish());
    let mid = tgz.len() / 2;
    for b in &mut tgz[mid..mid + 8] {
        *b ^= 0x5a;
    }
    assert!(matches!(
        read_tgz(&tgz, &Limits::default()),
        Err(ArchiveError::Corrupt(_) | ArchiveError::Truncated(_))
    ));
    // Valid gzip, broken tar header checksum.
    let mut tar = package().finish();
    tar[0] ^= 1;
    assert!(matches!(
        read_tgz(&gz(&tar), &Limits::default()),
        Err(ArchiveError::Corrupt(_))
    ));
    // Valid gzip around something that is not tar at all.
    assert!(read_tgz(&gz(&[1u8; 700]), &Limits::default()).is_err());
}

#[test]
fn duplicates_last_wins_and_is_reported() {
    let tar = package()
        .file(b"package/index.js", b"first")
        .file(b"package/./index.js", b"second")
        .finish();
    let a = read_tgz(&gz(&tar), &Limits::default()).unwrap();
    assert_eq!(a.get("index.js").unwrap().data, b"second");
    assert_eq!(a.files.iter().filter(|f| f.path == "index.js").count(), 1);
    assert_eq!(a.skipped.len(), 1);
    assert_eq!(a.skipped[0].reason, SkipReason::Overwritten);
    assert_eq!(a.skipped[0].path, "index.js");
}

#[test]
fn builder_made_archive_with_long_names() {
    // The `tar` crate's own builder emits GNU long-name records for long paths.
    let mut b = tar::Builder::new(Vec::new());
    let long = format!("package/{}/file.js", "d".repeat(150));
    let mut h = Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let a = read_tgz(&gz(&tar), &Limits::default()).unwrap();
    assert_eq!(a.files[0].path, long.trim_start_matches("package/"));
}
