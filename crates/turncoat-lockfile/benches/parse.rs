//! Parse benchmark (no criterion): median of N runs over the largest real lockfiles in the
//! shared vectors. Run with `cargo bench -p turncoat-lockfile`.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

const RUNS: usize = 31;

fn vectors() -> PathBuf {
    std::env::var_os("TURNCOAT_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"))
}

/// The largest file directly under `dir`.
fn largest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_file())
        .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .map(|e| e.path())
}

fn bench(label: &str, path: &Path, name: &str) {
    let Ok(bytes) = std::fs::read(path) else {
        println!("{label}: {} not found, skipped", path.display());
        return;
    };
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let lock = turncoat_lockfile::parse(name, &bytes).expect("vector parses");
        times.push(t.elapsed());
        count = lock.packages.len();
    }
    times.sort();
    let median = times[RUNS / 2];
    let ms = median.as_secs_f64() * 1e3;
    let mb_s = bytes.len() as f64 / 1e6 / median.as_secs_f64();
    println!(
        "{label}: {} ({} bytes, {count} packages): median {ms:.2} ms over {RUNS} runs, {mb_s:.1} MB/s",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        bytes.len()
    );
}

fn main() {
    let v = vectors().join("lockfiles");
    if let Some(npm) = largest(&v.join("npm")) {
        bench("npm (largest)", &npm, "package-lock.json");
    }
    bench(
        "pnpm",
        &v.join("pnpm/provenance-action-pnpm-lock.yaml"),
        "pnpm-lock.yaml",
    );
    bench(
        "yarn classic",
        &v.join("yarn/lavamoat-yarn-mmm/yarn.lock"),
        "yarn.lock",
    );
    bench(
        "yarn berry",
        &v.join("yarn-berry/yarn-berry-realistic/yarn.lock"),
        "yarn.lock",
    );
}
