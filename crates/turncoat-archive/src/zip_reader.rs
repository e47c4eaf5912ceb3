//! Zip archives (wheels, zip sdists), read in memory with the `zip` crate under [`Limits`].
//!
//! The `zip` crate parses the central directory and inflates members; this module decides what
//! is kept. Every member is inflated through a `take` bounded by the smallest of the file limit,
//! what is left of the total limit and the ratio allowance (compressed size × `max_ratio` +
//! 1 MiB), so neither a lying header nor a deflate bomb gets more work than that. Archives whose
//! members share compressed bytes (overlapping-entry bombs), with duplicate names or encrypted
//! members are refused outright: an installer would read them differently or not at all.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use crate::{
    Archive, ArchiveError, LimitKind, Limits, MIB, PREALLOC_CAP, PackageFile, SkipReason,
    SkippedEntry, normalise_with, report_name,
};

/// Read a zip archive from memory. `strip` removes the single top directory every entry sits
/// in (zip sdists: `name-1.0/…`); wheels keep their paths as written.
pub fn read_zip(bytes: &[u8], limits: &Limits, strip: bool) -> Result<Archive, ArchiveError> {
    if bytes.len() as u64 > limits.max_compressed {
        return Err(ArchiveError::TooLarge {
            which: LimitKind::Compressed,
            limit: limits.max_compressed,
        });
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if zip.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    if zip.has_duplicate_names() {
        return Err(ArchiveError::DuplicateName(
            " in its central directory".into(),
        ));
    }
    if zip.has_overlapping_files().map_err(corrupt)? {
        return Err(ArchiveError::Overlapping);
    }
    let mut out = Archive::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for i in 0..zip.len() {
        let member = zip.by_index_raw(i).map_err(corrupt)?;
        let raw_name = member.name_raw().to_vec();
        if member.is_dir() {
            continue;
        }
        if member.is_symlink() {
            out.skipped.push(SkippedEntry {
                path: report_name(&raw_name),
                reason: SkipReason::Symlink {
                    target: String::new(),
                },
            });
            continue;
        }
        if member.encrypted() {
            return Err(ArchiveError::Encrypted(report_name(&raw_name)));
        }
        drop(member);
        let path = match normalise_with(&raw_name, strip) {
            Ok(p) => p,
            Err(reason) => {
                out.skipped.push(SkippedEntry {
                    path: report_name(&raw_name),
                    reason,
                });
                continue;
            }
        };
        if index.contains_key(&path) {
            return Err(ArchiveError::DuplicateName(format!(": {path:?}")));
        }
        let member = zip.by_index(i).map_err(corrupt)?;
        let file = read_member(member, path, limits, &mut out.total_uncompressed)?;
        index.insert(file.path.clone(), out.files.len());
        out.files.push(file);
    }
    Ok(out)
}

/// Inflate one member under the file, total and ratio limits.
fn read_member<R: Read>(
    mut member: zip::read::ZipFile<'_, R>,
    path: String,
    limits: &Limits,
    total: &mut u64,
) -> Result<PackageFile, ArchiveError> {
    let remaining = limits.max_uncompressed.saturating_sub(*total);
    let ratio_cap = member
        .compressed_size()
        .saturating_mul(limits.max_ratio)
        .saturating_add(MIB);
    let (cap, which, limit) = [
        (limits.max_file, LimitKind::File, limits.max_file),
        (remaining, LimitKind::Uncompressed, limits.max_uncompressed),
        (ratio_cap, LimitKind::Ratio, limits.max_ratio),
    ]
    .into_iter()
    .min_by_key(|(cap, _, _)| *cap)
    .unwrap_or((0, LimitKind::File, 0));
    let claimed = member.size();
    let unix_mode = member.unix_mode();
    let mut data =
        Vec::with_capacity(usize::try_from(claimed.min(PREALLOC_CAP).min(cap)).unwrap_or(0));
    (&mut member)
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| ArchiveError::Corrupt(format!("{path}: {e}")))?;
    if data.len() as u64 > cap {
        return Err(ArchiveError::TooLarge { which, limit });
    }
    // The central directory's size is what the CRC check relies on; a member that inflates to
    // less (or more) is corrupt, not merely odd.
    if data.len() as u64 != claimed {
        return Err(ArchiveError::Corrupt(format!(
            "{path}: header says {claimed} bytes, data inflates to {}",
            data.len()
        )));
    }
    *total += data.len() as u64;
    let mode = unix_mode
        .map(|m| m & 0o7777)
        .filter(|m| *m != 0)
        .unwrap_or(0o644);
    Ok(PackageFile { path, data, mode })
}

fn corrupt(e: zip::result::ZipError) -> ArchiveError {
    ArchiveError::Corrupt(e.to_string())
}
