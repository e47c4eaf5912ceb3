//! Any bytes given to the Yarn readers (classic and Berry) must return Ok or Err.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turncoat_lockfile::{Family, ParseOptions, parse_with};

fuzz_target!(|data: &[u8]| {
    for family in [Family::YarnClassic, Family::YarnBerry] {
        if let Ok(lock) = parse_with("fuzz", data, Some(family), &ParseOptions::default()) {
            let _ = turncoat_lockfile::lint(&lock, &[], &turncoat_lockfile::LintOptions::default());
        }
    }
});
