//! Any bytes given to the pnpm reader must return Ok or Err, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turncoat_lockfile::{Family, ParseOptions, parse_with};

fuzz_target!(|data: &[u8]| {
    if let Ok(lock) = parse_with("fuzz", data, Some(Family::Pnpm), &ParseOptions::default()) {
        let _ = turncoat_lockfile::lint(&lock, &[], &turncoat_lockfile::LintOptions::default());
    }
});
