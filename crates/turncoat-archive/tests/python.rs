//! Hostile wheels and sdists, all built here: bombs, escapes, duplicates, RECORD tampering.

use std::io::{Cursor, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;
use turncoat_archive::{
    ArchiveError, LimitKind, Limits, RecordIssueKind, SkipReason, read_sdist, read_wheel,
};
use zip::write::SimpleFileOptions;

fn record_line(path: &str, data: &[u8]) -> String {
    format!(
        "{path},sha256={},{}\n",
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data)),
        data.len()
    )
}

/// A wheel with `files` and a correct RECORD, plus `extra` files the RECORD does not list.
fn wheel(files: &[(&str, &[u8])], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut record = String::new();
    for (path, data) in files.iter().chain(extra) {
        w.start_file(*path, opts).unwrap();
        w.write_all(data).unwrap();
    }
    for (path, data) in files {
        record.push_str(&record_line(path, data));
    }
    record.push_str("demo-1.0.dist-info/RECORD,,\n");
    w.start_file("demo-1.0.dist-info/RECORD", opts).unwrap();
    w.write_all(record.as_bytes()).unwrap();
    w.finish().unwrap().into_inner()
}

/// A stored (uncompressed) zip written byte by byte, so names `ZipWriter` refuses (duplicates)
/// can be produced.
fn raw_zip(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let mut local = Vec::new();
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&20u16.to_le_bytes()); // version needed
        local.extend_from_slice(&0u16.to_le_bytes()); // flags
        local.extend_from_slice(&0u16.to_le_bytes()); // stored
        local.extend_from_slice(&0u32.to_le_bytes()); // time/date
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name);
        out.extend_from_slice(&local);
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&0x031eu16.to_le_bytes()); // made by unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attrs
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_start = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_clean_wheel_reads_with_no_record_issue() {
    let bytes = wheel(
        &[
            ("demo/__init__.py", b"x = 1\n"),
            ("demo-1.0.dist-info/METADATA", b"Name: demo\n"),
        ],
        &[],
    );
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    assert_eq!(w.record_issues, vec![]);
    assert_eq!(w.dist_info.as_deref(), Some("demo-1.0.dist-info"));
    assert_eq!(w.archive.get("demo/__init__.py").unwrap().data, b"x = 1\n");
}

#[test]
fn a_file_outside_record_and_a_wrong_hash_are_facts() {
    let mut bytes = wheel(
        &[("demo/__init__.py", b"x = 1\n")],
        &[("demo-1.0.pth", b"import os\n")],
    );
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    assert_eq!(w.record_issues.len(), 1, "{:?}", w.record_issues);
    assert_eq!(w.record_issues[0].path, "demo-1.0.pth");
    assert_eq!(w.record_issues[0].kind, RecordIssueKind::NotInRecord);

    // Same length, different bytes: the RECORD hash no longer matches. Stored members keep the
    // bytes as written, so the edit is a byte patch of the archive (the CRC is fixed up too).
    bytes = raw_zip(&[
        (b"demo/__init__.py", b"x = 2\n"),
        (
            b"demo-1.0.dist-info/RECORD",
            format!(
                "{}demo-1.0.dist-info/RECORD,,\n",
                record_line("demo/__init__.py", b"x = 1\n")
            )
            .as_bytes(),
        ),
    ]);
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    assert_eq!(w.record_issues.len(), 1, "{:?}", w.record_issues);
    assert_eq!(w.record_issues[0].kind, RecordIssueKind::HashMismatch);
}

#[test]
fn a_wheel_without_record_says_so() {
    let bytes = raw_zip(&[(b"demo/__init__.py", b"x = 1\n")]);
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    assert_eq!(w.record_issues[0].kind, RecordIssueKind::NoRecord);
}

#[test]
fn escaping_and_absolute_names_are_skipped_and_reported() {
    let bytes = raw_zip(&[
        (b"../../etc/cron.d/x", b"evil"),
        (b"/etc/passwd", b"evil"),
        (b"C:\\Windows\\x.dll", b"evil"),
        (b"demo/ok.py", b"ok"),
    ]);
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    let reasons: Vec<_> = w.archive.skipped.iter().map(|s| s.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            SkipReason::ParentDir,
            SkipReason::Absolute,
            SkipReason::Absolute
        ]
    );
    assert_eq!(w.archive.files.len(), 1);
    assert_eq!(w.archive.files[0].path, "demo/ok.py");
}

#[test]
fn duplicate_names_are_refused() {
    let bytes = raw_zip(&[(b"demo/a.py", b"good"), (b"demo/a.py", b"evil")]);
    assert!(matches!(
        read_wheel(&bytes, &Limits::default()),
        Err(ArchiveError::DuplicateName(_))
    ));
    // Two spellings of one path once normalised.
    let bytes = raw_zip(&[(b"demo/a.py", b"good"), (b"demo//./a.py", b"evil")]);
    assert!(matches!(
        read_wheel(&bytes, &Limits::default()),
        Err(ArchiveError::DuplicateName(_))
    ));
}

#[test]
fn a_deflate_bomb_stops_at_the_ratio_limit() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("demo/bomb.bin", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        w.write_all(&chunk).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 1 << 20, "bomb is {} bytes", bomb.len());
    match read_wheel(&bomb, &Limits::default()) {
        Err(ArchiveError::TooLarge {
            which: LimitKind::Ratio,
            ..
        }) => {}
        other => panic!("expected the ratio limit, got {other:?}"),
    }
    let limits = Limits {
        max_ratio: u64::MAX,
        max_uncompressed: 8 << 20,
        ..Limits::default()
    };
    assert!(matches!(
        read_wheel(&bomb, &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::Uncompressed,
            ..
        })
    ));
    let limits = Limits {
        max_ratio: u64::MAX,
        max_file: 2 << 20,
        ..Limits::default()
    };
    assert!(matches!(
        read_wheel(&bomb, &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::File,
            ..
        })
    ));
}

#[test]
fn entry_count_and_input_size_are_bounded() {
    let entries: Vec<(Vec<u8>, &[u8])> = (0..20)
        .map(|i| (format!("demo/{i}.py").into_bytes(), b"x".as_slice()))
        .collect();
    let refs: Vec<(&[u8], &[u8])> = entries.iter().map(|(n, d)| (n.as_slice(), *d)).collect();
    let bytes = raw_zip(&refs);
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    assert!(matches!(
        read_wheel(&bytes, &limits),
        Err(ArchiveError::TooManyEntries { limit: 10 })
    ));
    let limits = Limits {
        max_compressed: 16,
        ..Limits::default()
    };
    assert!(matches!(
        read_wheel(&bytes, &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::Compressed,
            ..
        })
    ));
}

#[test]
fn garbage_and_truncated_zips_are_errors_not_panics() {
    assert!(read_wheel(b"PK\x03\x04garbage", &Limits::default()).is_err());
    let good = wheel(&[("demo/a.py", b"a = 1\n")], &[]);
    for cut in [1, 10, good.len() / 2, good.len() - 1] {
        assert!(
            read_wheel(&good[..cut], &Limits::default()).is_err(),
            "cut {cut}"
        );
    }
    assert!(matches!(
        read_sdist(b"hello", &Limits::default()),
        Err(ArchiveError::UnknownFormat)
    ));
}

#[test]
fn sdists_lose_their_top_directory_in_both_formats() {
    let zip_sdist = raw_zip(&[
        (b"demo-1.0/setup.py", b"from setuptools import setup\n"),
        (b"demo-1.0/../escape.py", b"x"),
    ]);
    let a = read_sdist(&zip_sdist, &Limits::default()).unwrap();
    assert_eq!(a.files.len(), 1);
    assert_eq!(a.files[0].path, "setup.py");
    assert_eq!(a.skipped[0].reason, SkipReason::ParentDir);

    let mut tar = tar::Builder::new(Vec::new());
    let data = b"print('hi')\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "demo-1.0/setup.py", data.as_slice())
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let a = read_sdist(&gz.finish().unwrap(), &Limits::default()).unwrap();
    assert_eq!(a.files[0].path, "setup.py");
}

#[test]
fn symlinks_are_skipped_and_reported() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.add_symlink(
        "demo/link.py",
        "/home/user/.ssh/id_rsa",
        SimpleFileOptions::default(),
    )
    .unwrap();
    w.start_file("demo/a.py", SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"a = 1\n").unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    assert_eq!(w.archive.files.len(), 1);
    assert_eq!(w.archive.skipped[0].path, "demo/link.py");
    assert!(matches!(
        w.archive.skipped[0].reason,
        SkipReason::Symlink { .. }
    ));
}

// Large wheels: past 4 MiB of compressed members the reader inflates on several threads. The
// bounds, the order of files and the first error must be what a sequential read gives.

/// Incompressible bytes (xorshift64), so a wheel of them stays large once deflated.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// 48 members of 128 KiB of noise: 6 MiB compressed.
fn large_members() -> Vec<(String, Vec<u8>)> {
    (0..48u64)
        .map(|i| (format!("demo/lib{i:02}.so"), noise(i + 1, 128 << 10)))
        .collect()
}

/// A zip of `entries` (deflated), in the order given, large-file capable.
fn deflated_zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (p, d) in entries {
        w.start_file(p.as_str(), opts).unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_large_wheel_reads_in_archive_order_with_its_record_checked() {
    let members = large_members();
    let mut files: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    files.push(("demo/__init__.py", b"x = 1\n"));
    let bytes = wheel(&files, &[("demo/extra.py", b"import os\n")]);
    assert!(bytes.len() > 5 << 20, "{} bytes", bytes.len());
    let w = read_wheel(&bytes, &Limits::default()).unwrap();
    let paths: Vec<&str> = w.archive.files.iter().map(|f| f.path.as_str()).collect();
    let mut want: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
    want.push("demo/extra.py");
    want.push("demo-1.0.dist-info/RECORD");
    assert_eq!(paths, want);
    for (p, d) in &files {
        assert_eq!(w.archive.get(p).unwrap().data, *d, "{p}");
    }
    let total: u64 = w.archive.files.iter().map(|f| f.data.len() as u64).sum();
    assert_eq!(w.archive.total_uncompressed, total);
    let issues: Vec<(&str, &RecordIssueKind)> = w
        .record_issues
        .iter()
        .map(|i| (i.path.as_str(), &i.kind))
        .collect();
    assert_eq!(
        issues,
        vec![("demo/extra.py", &RecordIssueKind::NotInRecord)]
    );

    // One byte changed in one large member: its RECORD hash no longer matches.
    let mut tampered = members.clone();
    tampered[17].1[1000] ^= 1;
    let mut record = String::new();
    for (p, d) in &members {
        record.push_str(&record_line(p, d));
    }
    record.push_str("demo-1.0.dist-info/RECORD,,\n");
    tampered.push(("demo-1.0.dist-info/RECORD".into(), record.into_bytes()));
    let w = read_wheel(&deflated_zip(&tampered), &Limits::default()).unwrap();
    assert_eq!(
        w.record_issues,
        vec![turncoat_archive::RecordIssue {
            path: "demo/lib17.so".into(),
            kind: RecordIssueKind::HashMismatch
        }]
    );
}

#[test]
fn a_bomb_among_large_members_stops_at_its_limit_and_the_first_error_wins() {
    let members = large_members();
    let bomb = ("demo/bomb.bin".to_string(), vec![0u8; 64 << 20]);
    let big = ("demo/big.bin".to_string(), noise(99, 3 << 20));
    let mut entries = members.clone();
    entries.insert(20, bomb.clone());
    let bytes = deflated_zip(&entries);
    match read_wheel(&bytes, &Limits::default()) {
        Err(ArchiveError::TooLarge {
            which: LimitKind::Ratio,
            ..
        }) => {}
        other => panic!("expected the ratio limit, got {other:?}"),
    }
    let members_total: u64 = members.iter().map(|(_, d)| d.len() as u64).sum();
    let limits = Limits {
        max_ratio: u64::MAX,
        max_uncompressed: members_total + (8 << 20),
        ..Limits::default()
    };
    assert!(matches!(
        read_wheel(&bytes, &limits),
        Err(ArchiveError::TooLarge {
            which: LimitKind::Uncompressed,
            ..
        })
    ));

    // Two offenders: whichever comes first in the archive decides the error, whatever thread
    // finishes first.
    // With these limits the bomb (≈ 64 KiB deflated) stops at its ratio allowance
    // (64 KiB × 10 + 1 MiB) and the 3 MiB of noise at the 2 MiB file limit.
    let limits = Limits {
        max_file: 2 << 20,
        max_ratio: 10,
        ..Limits::default()
    };
    let mut file_first = members.clone();
    file_first.insert(5, big.clone());
    file_first.insert(30, bomb.clone());
    let mut bomb_first = members;
    bomb_first.insert(5, bomb);
    bomb_first.insert(30, big);
    let (file_first, bomb_first) = (deflated_zip(&file_first), deflated_zip(&bomb_first));
    for _ in 0..2 {
        assert!(matches!(
            read_wheel(&file_first, &limits),
            Err(ArchiveError::TooLarge {
                which: LimitKind::File,
                ..
            })
        ));
        assert!(matches!(
            read_wheel(&bomb_first, &limits),
            Err(ArchiveError::TooLarge {
                which: LimitKind::Ratio,
                ..
            })
        ));
    }
}
