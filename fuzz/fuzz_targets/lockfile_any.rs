//! Detection plus every reader: the first byte picks the file name the detector sees.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 13] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
    "unknown.txt",
    "requirements.txt",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pylock.toml",
    "pdm.lock",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(first) % NAMES.len()];
    if let Ok(lock) = turncoat_lockfile::parse(name, rest) {
        let _ = turncoat_lockfile::lint(&lock, &[], &turncoat_lockfile::LintOptions::default());
        let _ = lock.packages.iter().map(|p| p.key()).count();
    }
});
