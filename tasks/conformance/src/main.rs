//! `turncoat-conformance`: checks turncoat against the shared test vectors.
//!
//! Each subcommand lives in its own module with a `run(args) -> i32` entry point and
//! returns the process exit code (0 = all passed, 1 = a disagreement, 2 = usage/setup).
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod attest;
mod benign;
mod benign_pypi;
mod lockfiles;
mod pep740;
mod pylockfiles;

const USAGE: &str = "usage: turncoat-conformance <lockfiles|attest|pep740> [--vectors DIR]\n\
       turncoat-conformance pylockfiles [--regenerate] (real uv/poetry/pip-tools/pip/pipenv/pdm lockfiles)\n\
       turncoat-conformance benign [--corpus FILE]... (default: dev + dev2) [--limit N] [--registry URL] [--cache-dir DIR] [--output FILE]\n\
                                   [--detonate] [--detonate-timeout SECS] [--detonate-events FILE]\n\
       turncoat-conformance benign-pypi [--corpus FILE]... [--cache-dir DIR] [--limit N] [--scan]\n\
  default vectors: $TURNCOAT_VECTORS, else <repo>/../shared/vectors";

fn main() {
    // `benign --detonate` re-executes this binary as the sandbox init: that must happen before
    // anything else (no threads, no argument parsing).
    if let Some(code) = turncoat_sandbox::init_main_if_requested() {
        std::process::exit(code)
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("lockfiles") => lockfiles::run(&args[1..]),
        Some("attest") => attest::run(&args[1..]),
        Some("pylockfiles") => pylockfiles::run(&args[1..]),
        Some("pep740") => pep740::run(&args[1..]),
        Some("benign") => run_benign(&args[1..]),
        Some("benign-pypi") => benign_pypi::run(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

/// The vectors directory: `--vectors DIR`, else `$TURNCOAT_VECTORS`, else
/// `<repo root>/../shared/vectors` (repo root = this crate's manifest dir `/../..`).
pub(crate) fn vectors_dir(args: &[String]) -> Result<std::path::PathBuf, String> {
    match args {
        [] => {}
        [flag, dir] if flag == "--vectors" => return Ok(dir.into()),
        [flag] if flag == "--vectors" => return Err("--vectors needs a directory".into()),
        other => return Err(format!("unexpected arguments {other:?}")),
    }
    if let Some(v) = std::env::var_os("TURNCOAT_VECTORS") {
        return Ok(v.into());
    }
    Ok(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"))
}

/// MANIFEST.json of the vectors: path → (sha256, expected), for checking each file before use.
/// Checks passed and failed, each printed as it is made.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
}

impl Tally {
    pub(crate) fn check(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
            println!("ok   {what}: {detail}");
        } else {
            self.failed += 1;
            println!("FAIL {what}: {detail}");
        }
    }
}

pub(crate) type Manifest = std::collections::BTreeMap<String, (String, serde_json::Value)>;

/// The vectors directory and its manifest, or the exit code (2) after saying why on stderr.
pub(crate) fn vectors(args: &[String]) -> Result<(std::path::PathBuf, Manifest), i32> {
    let dir = vectors_dir(args).map_err(|e| {
        eprintln!("{e}\n{USAGE}");
        2
    })?;
    let manifest_path = dir.join("MANIFEST.json");
    let manifest: serde_json::Value = std::fs::read(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| {
            eprintln!("cannot read {}: {e}", manifest_path.display());
            2
        })?;
    let mut index = Manifest::new();
    for f in manifest["files"].as_array().into_iter().flatten() {
        if let (Some(p), Some(h)) = (f["path"].as_str(), f["sha256"].as_str()) {
            index.insert(p.to_string(), (h.to_string(), f["expected"].clone()));
        }
    }
    Ok((dir, index))
}

/// `benign`: parse its flags and run the false-positive measurement (network).
fn run_benign(args: &[String]) -> i32 {
    let mut a = benign::BenignArgs {
        corpus: Vec::new(),
        limit: None,
        registry: None,
        cache_dir: None,
        output: None,
        detonate: false,
        detonate_timeout: std::time::Duration::from_secs(30),
        detonate_events: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--detonate" {
            a.detonate = true;
            continue;
        }
        let Some(value) = it.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return 2;
        };
        match flag.as_str() {
            "--corpus" => a.corpus.push(value.into()),
            "--limit" => match value.parse() {
                Ok(n) => a.limit = Some(n),
                Err(_) => {
                    eprintln!("--limit takes a number");
                    return 2;
                }
            },
            "--registry" => a.registry = Some(value.clone()),
            "--cache-dir" => a.cache_dir = Some(value.into()),
            "--output" => a.output = Some(value.into()),
            "--detonate-timeout" => match value.parse::<u64>() {
                Ok(n) if n > 0 => a.detonate_timeout = std::time::Duration::from_secs(n),
                _ => {
                    eprintln!("--detonate-timeout takes a positive number of seconds");
                    return 2;
                }
            },
            "--detonate-events" => a.detonate_events = Some(value.into()),
            other => {
                eprintln!("unknown flag {other}\n{USAGE}");
                return 2;
            }
        }
    }
    if a.corpus.is_empty() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        a.corpus = vec![
            dir.join("benign-npm-dev.tsv"),
            dir.join("benign-npm-dev2.tsv"),
        ];
    }
    match benign::run(a) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
