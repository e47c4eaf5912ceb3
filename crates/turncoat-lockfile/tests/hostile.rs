//! Hostile input: deep nesting, truncation and byte flips of real lockfiles (npm and
//! Python, each read as every format) must give an error or a result, never a panic or a
//! stack overflow.

use std::path::Path;

use turncoat_lockfile::{Family, ParseOptions, parse, parse_with};

const NAMES: [&str; 11] = [
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "x.txt",
    "requirements.txt",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pylock.toml",
    "pdm.lock",
];

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let json = format!(
        "{{\"lockfileVersion\": 3, \"packages\": {}",
        "[".repeat(1_000_000)
    );
    let yaml = format!("lockfileVersion: '9.0'\npackages: {}", "[".repeat(100_000));
    let block = format!(
        "__metadata:\n  version: 8\n{}",
        (0..5000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect::<String>()
    );
    for (name, text) in [
        ("package-lock.json", json.as_str()),
        ("bun.lock", json.as_str()),
        ("pnpm-lock.yaml", yaml.as_str()),
        ("yarn.lock", block.as_str()),
        ("Pipfile.lock", json.as_str()),
    ] {
        assert!(parse(name, text.as_bytes()).is_err(), "{name}");
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for tool in std::fs::read_dir(&dir).unwrap().flatten() {
        for sc in std::fs::read_dir(tool.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            for f in std::fs::read_dir(sc.path()).into_iter().flatten().flatten() {
                if f.path().is_file() && f.file_name() != "package.json" {
                    files.push(std::fs::read(f.path()).unwrap());
                }
            }
        }
    }
    assert!(!files.is_empty());
    // xorshift: deterministic, no dependency.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (i, original) in files.iter().enumerate() {
        for round in 0..40 {
            let mut bytes = original.clone();
            match round % 3 {
                0 => bytes.truncate((next() as usize) % (bytes.len() + 1)),
                1 => {
                    for _ in 0..4 {
                        let at = (next() as usize) % bytes.len().max(1);
                        if let Some(b) = bytes.get_mut(at) {
                            *b = b"{}[]:,\"'\n -#@/\\x"[(next() % 16) as usize];
                        }
                    }
                }
                _ => {
                    let at = (next() as usize) % (bytes.len() + 1);
                    let dup = bytes[at..].to_vec();
                    bytes.extend_from_slice(&dup);
                }
            }
            let name = NAMES[(i + round) % NAMES.len()];
            let _ = parse(name, &bytes);
            for f in [
                Family::Npm,
                Family::YarnClassic,
                Family::YarnBerry,
                Family::Pnpm,
                Family::Bun,
                Family::Requirements,
                Family::Uv,
                Family::Poetry,
                Family::Pipfile,
                Family::Pylock,
                Family::Pdm,
            ] {
                let _ = parse_with(name, &bytes, Some(f), &ParseOptions::default());
            }
        }
    }
}
