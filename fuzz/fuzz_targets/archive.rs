//! Any bytes given to the tarball reader must return Ok or a typed error: no panic, no
//! allocation beyond the limits, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turncoat_archive::{Limits, read_tgz};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run cheap; the default ones are exercised by the crate's tests.
    let limits = Limits {
        max_compressed: 1 << 20,
        max_uncompressed: 8 << 20,
        max_entries: 1_000,
        max_file: 4 << 20,
        max_ratio: 200,
    };
    if let Ok(archive) = read_tgz(data, &limits) {
        assert!(archive.unpacked_size() <= archive.total_uncompressed);
        for f in &archive.files {
            assert!(!f.path.is_empty() && !f.path.starts_with('/'));
            assert!(!f.path.split('/').any(|c| c == ".." || c == "." || c.is_empty()));
        }
        let _ = archive.manifest();
    }
});
