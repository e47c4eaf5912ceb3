//! Any bytes given to the wheel and sdist readers must return Ok or a typed error: no panic,
//! no allocation beyond the limits (zip bombs included), no path that escapes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turncoat_archive::{Limits, read_sdist, read_wheel};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_compressed: 1 << 20,
        max_uncompressed: 8 << 20,
        max_entries: 1_000,
        max_file: 4 << 20,
        max_ratio: 200,
    };
    let check = |a: &turncoat_archive::Archive| {
        assert!(a.unpacked_size() <= a.total_uncompressed);
        for f in &a.files {
            assert!(!f.path.is_empty() && !f.path.starts_with('/'));
            assert!(!f.path.split('/').any(|c| c == ".." || c == "." || c.is_empty()));
        }
    };
    if let Ok(w) = read_wheel(data, &limits) {
        check(&w.archive);
    }
    if let Ok(a) = read_sdist(data, &limits) {
        check(&a);
    }
});
