//! Zip archives (wheels, zip sdists), read in memory with the `zip` crate under [`Limits`].
//!
//! The `zip` crate parses the central directory and inflates members; this module decides what
//! is kept. Every member is inflated through a `take` bounded by the smallest of the file limit,
//! what is left of the total limit and the ratio allowance (compressed size × `max_ratio` +
//! 1 MiB), so neither a lying header nor a deflate bomb gets more work than that. Archives whose
//! members share compressed bytes (overlapping-entry bombs), with duplicate names or encrypted
//! members are refused outright: an installer would read them differently or not at all.
//! Large archives are inflated on several threads (rayon), with the same bounds and the same
//! outcome as a sequential read (see [`read_zip`]).

use std::collections::HashSet;
use std::io::{Cursor, Read};

use crate::{
    Archive, ArchiveError, LimitKind, Limits, MIB, PREALLOC_CAP, PackageFile, SkipReason,
    SkippedEntry, normalise_with, report_name,
};

/// Below this much compressed data members are inflated on the calling thread: a small wheel
/// is read faster than threads start.
const PARALLEL_MIN_BYTES: u64 = 4 * MIB;

/// One member to inflate, decided by the sequential pass over the central directory.
struct Job {
    index: usize,
    path: String,
    /// The most the member may inflate to: the smallest of the file limit, what the total
    /// limit leaves after the members before it, and the ratio allowance.
    cap: u64,
    which: LimitKind,
    limit: u64,
}

/// Read a zip archive from memory. `strip` removes the single top directory every entry sits
/// in (zip sdists: `name-1.0/…`); wheels keep their paths as written.
///
/// Two passes: the central directory is walked in order (nothing inflated) to refuse what
/// must be refused and give each member its bound; then members are inflated, on several
/// threads (rayon) when the archive is large, each through its own clone of the
/// `ZipArchive` (the parsed directory is shared; the reader is a cursor over the same bytes).
/// Results are kept in archive order and the first failing member's error is the one
/// returned, so the outcome is the one a sequential read gives: the bound of member *n*
/// assumes members before it inflate to their declared sizes, which every member must (a
/// different size is corrupt) for the read to succeed at all.
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
    let (jobs, compressed) = plan(&mut zip, limits, strip, &mut out)?;
    let inflate = |z: &mut zip::ZipArchive<Cursor<&[u8]>>, job: &Job| {
        let member = z.by_index(job.index).map_err(corrupt)?;
        read_member(member, job)
    };
    let results: Vec<Result<PackageFile, ArchiveError>> =
        if compressed >= PARALLEL_MIN_BYTES && jobs.len() > 1 {
            use rayon::prelude::*;
            jobs.par_iter()
                .map_init(|| zip.clone(), |z, job| inflate(z, job))
                .collect()
        } else {
            jobs.iter().map(|job| inflate(&mut zip, job)).collect()
        };
    for r in results {
        let file = r?;
        out.total_uncompressed += file.data.len() as u64;
        out.files.push(file);
    }
    Ok(out)
}

/// The sequential pass: skip directories, symbolic links and escaping paths (reported),
/// refuse encrypted members and names that collide once normalised, and bound each member.
/// Also returns the compressed bytes to inflate.
fn plan(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
    strip: bool,
    out: &mut Archive,
) -> Result<(Vec<Job>, u64), ArchiveError> {
    let mut jobs = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut declared_total: u64 = 0;
    let mut compressed: u64 = 0;
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
        let (claimed, packed) = (member.size(), member.compressed_size());
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
        if !seen.insert(path.clone()) {
            return Err(ArchiveError::DuplicateName(format!(": {path:?}")));
        }
        let remaining = limits.max_uncompressed.saturating_sub(declared_total);
        let ratio_cap = packed.saturating_mul(limits.max_ratio).saturating_add(MIB);
        let (cap, which, limit) = [
            (limits.max_file, LimitKind::File, limits.max_file),
            (remaining, LimitKind::Uncompressed, limits.max_uncompressed),
            (ratio_cap, LimitKind::Ratio, limits.max_ratio),
        ]
        .into_iter()
        .min_by_key(|(cap, _, _)| *cap)
        .unwrap_or((0, LimitKind::File, 0));
        declared_total = declared_total.saturating_add(claimed);
        compressed = compressed.saturating_add(packed);
        jobs.push(Job {
            index: i,
            path,
            cap,
            which,
            limit,
        });
    }
    Ok((jobs, compressed))
}

/// Inflate one member under its bound.
fn read_member<R: Read>(
    mut member: zip::read::ZipFile<'_, R>,
    job: &Job,
) -> Result<PackageFile, ArchiveError> {
    let (path, cap) = (&job.path, job.cap);
    let claimed = member.size();
    let unix_mode = member.unix_mode();
    let mut data =
        Vec::with_capacity(usize::try_from(claimed.min(PREALLOC_CAP).min(cap)).unwrap_or(0));
    (&mut member)
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| ArchiveError::Corrupt(format!("{path}: {e}")))?;
    if data.len() as u64 > cap {
        return Err(ArchiveError::TooLarge {
            which: job.which,
            limit: job.limit,
        });
    }
    // The central directory's size is what the CRC check relies on; a member that inflates to
    // less (or more) is corrupt, not merely odd.
    if data.len() as u64 != claimed {
        return Err(ArchiveError::Corrupt(format!(
            "{path}: header says {claimed} bytes, data inflates to {}",
            data.len()
        )));
    }
    let mode = unix_mode
        .map(|m| m & 0o7777)
        .filter(|m| *m != 0)
        .unwrap_or(0o644);
    Ok(PackageFile {
        path: path.clone(),
        data,
        mode,
    })
}

fn corrupt(e: zip::result::ZipError) -> ArchiveError {
    ArchiveError::Corrupt(e.to_string())
}
