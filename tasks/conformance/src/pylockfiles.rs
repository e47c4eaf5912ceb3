//! `pylockfiles`: every real Python lockfile committed under
//! `crates/turncoat-lockfile/tests/fixtures/pypi` (written by uv, poetry, pip-tools, pip,
//! pipenv and pdm; tool versions in its README) must parse, name its format, pin and hash
//! every index package, and lint clean except for the known pipenv quirk. With
//! `--regenerate` the fixtures are first rewritten by the real tools (network: the script
//! installs them from PyPI into a venv under /tmp).
//!
//! Also reports, without failing, how the osv-scalibr Python vectors in `../shared/vectors`
//! fare: those are written for a lenient reader, and turncoat refuses several on purpose
//! (invalid hashes, unknown options, include loops).

use std::path::{Path, PathBuf};

use turncoat_lockfile::{Ecosystem, LintOptions, lint, read};

/// The tool directories that must each hold at least one lockfile.
const TOOLS: &[&str] = &["uv", "poetry", "pip-tools", "pip", "pipenv", "pdm"];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/turncoat-lockfile/tests/fixtures/pypi")
}

/// Lockfiles (not inputs such as `Pipfile`, `requirements.in`, `pyproject.toml`).
fn is_lockfile(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(
        name,
        "uv.lock" | "poetry.lock" | "Pipfile.lock" | "pdm.lock"
    ) || name.ends_with(".txt")
        || (name.starts_with("pylock") && name.ends_with(".toml"))
}

pub(crate) fn run(args: &[String]) -> i32 {
    let regenerate = match args {
        [] => false,
        [f] if f == "--regenerate" => true,
        other => {
            eprintln!("usage: turncoat-conformance pylockfiles [--regenerate]; got {other:?}");
            return 2;
        }
    };
    let dir = fixtures_dir();
    if regenerate {
        match turncoat_sandbox::host::run_repo_script(&dir.join("regenerate.sh")) {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("regenerate.sh failed");
                return 2;
            }
            Err(e) => {
                eprintln!("regenerate.sh: {e}");
                return 2;
            }
        }
    }
    let mut failures = 0;
    for tool in TOOLS {
        let Ok(entries) = std::fs::read_dir(dir.join(tool)) else {
            println!("FAIL {tool}: no fixtures");
            failures += 1;
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_lockfile(p))
            .collect();
        files.sort();
        if files.is_empty() {
            println!("FAIL {tool}: no lockfile");
            failures += 1;
        }
        for f in files {
            failures += usize::from(!check(&dir, &f));
        }
    }
    vectors_report();
    if failures == 0 {
        println!("pylockfiles: all real lockfiles agree");
        0
    } else {
        println!("pylockfiles: {failures} failure(s)");
        1
    }
}

/// One real lockfile: parses as PyPI, every pinned index package has a sha256, and lint
/// finds only `unpinned-requirement` (pipenv writes `==>=0.4` for marker-excluded packages).
fn check(dir: &Path, f: &Path) -> bool {
    let rel = f.strip_prefix(dir).unwrap_or(f).display().to_string();
    let lock = match read(f) {
        Ok(l) => l,
        Err(e) => {
            println!("FAIL {rel}: {e}");
            return false;
        }
    };
    let mut problems = Vec::new();
    if lock.ecosystem != Ecosystem::Pypi {
        problems.push(format!("ecosystem {}", lock.ecosystem));
    }
    let pinned: Vec<_> = lock
        .registry_packages()
        .filter(|p| !p.version.is_empty())
        .collect();
    for p in &pinned {
        if !p.hashes.iter().any(|h| h.algorithm == "sha256") {
            problems.push(format!("{}=={} has no sha256", p.name, p.version));
        }
    }
    let findings = lint(&lock, &[], &LintOptions::default());
    for x in findings.iter().filter(|x| x.code != "unpinned-requirement") {
        problems.push(format!("{}: {}", x.code, x.message));
    }
    let hashes: usize = lock.packages.iter().map(|p| p.hashes.len()).sum();
    if problems.is_empty() {
        println!(
            "ok   {rel}: {} ({} packages, {} pinned from an index, {hashes} file hashes, {} findings)",
            lock.format.id(),
            lock.packages.len(),
            pinned.len(),
            findings.len()
        );
        true
    } else {
        println!("FAIL {rel}: {}", problems.join("; "));
        false
    }
}

/// How the lenient reader's vectors fare (informational).
fn vectors_report() {
    let Ok(root) = crate::vectors_dir(&[]) else {
        return;
    };
    let root = root.join("lockfiles");
    let mut accepted = 0;
    let mut refused = 0;
    for sub in ["requirements", "pipfile", "poetry", "uv", "pylock", "pdm"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            let family = match sub {
                "requirements" => turncoat_lockfile::Family::Requirements,
                "pipfile" => turncoat_lockfile::Family::Pipfile,
                "poetry" => turncoat_lockfile::Family::Poetry,
                "uv" => turncoat_lockfile::Family::Uv,
                "pylock" => turncoat_lockfile::Family::Pylock,
                _ => turncoat_lockfile::Family::Pdm,
            };
            match turncoat_lockfile::read_with(&f, Some(family), &Default::default()) {
                Ok(l) => {
                    accepted += 1;
                    println!("     vector {sub}/{name}: {} packages", l.packages.len());
                }
                Err(e) => {
                    refused += 1;
                    let e = e.to_string().replace(&f.display().to_string(), &name);
                    let short: String = e.chars().take(160).collect();
                    println!("     vector {sub}/{name}: refused: {short}");
                }
            }
        }
    }
    println!(
        "osv-scalibr Python vectors (lenient-reader inputs): {accepted} read, {refused} refused"
    );
}
