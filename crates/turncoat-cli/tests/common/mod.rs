//! Helpers shared by the sandbox tests (watch, detonate, baseline): tool checks and packing a
//! package the way `npm pack` does.

#![allow(dead_code, clippy::print_stderr)]

use std::collections::BTreeMap;

use base64::Engine as _;
use sha1::Digest as _;

pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// False (after saying so on stderr) when one of `tools` is missing. CI sets
/// `TURNCOAT_TEST_REQUIRE_TOOLS=1`: there a missing tool fails the test instead.
pub fn have_tools(test: &str, tools: &[&str]) -> bool {
    for t in tools {
        if !on_path(t) {
            assert!(
                std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
                "{test}: `{t}` is not on PATH and TURNCOAT_TEST_REQUIRE_TOOLS is set"
            );
            eprintln!("SKIPPED {test}: `{t}` is not on PATH (.ci/run installs it)");
            return false;
        }
    }
    true
}

/// A gzipped tarball and the hashes a registry publishes for it.
pub struct Packed {
    pub tgz: Vec<u8>,
    /// `sha512-…` (dist.integrity).
    pub integrity: String,
    /// Hex SHA-1 (dist.shasum).
    pub shasum: String,
}

/// Tar `files` (package-relative paths) under `package/` with npm's fixed mtime, gzip, hash.
pub fn pack(files: &BTreeMap<String, Vec<u8>>) -> Packed {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // npm's fixed mtime (1985-10-26T08:15:00Z).
        h.set_mtime(499_162_500);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("package/{path}"), data.as_slice())
            .expect("tar entry");
    }
    let tgz = tar
        .into_inner()
        .and_then(|gz| gz.finish())
        .expect("gzip tarball");
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tgz))
    );
    let shasum = sha1::Sha1::digest(&tgz)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Packed {
        tgz,
        integrity,
        shasum,
    }
}
