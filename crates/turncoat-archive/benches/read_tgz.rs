//! Throughput of `read_tgz` on real npm tarballs, one thread, in memory.
//!
//! Tarballs come from `$TURNCOAT_BENCH_TARBALLS` (default `<workspace>/target/bench-tarballs`),
//! filled by `scripts/fetch-bench-tarballs.sh`; the bench itself never touches the network.
//! Run: `cargo bench -p turncoat-archive --bench read_tgz`.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use turncoat_archive::{Limits, read_tgz};

const RUNS: usize = 15;

fn main() {
    let dir = std::env::var_os("TURNCOAT_BENCH_TARBALLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-tarballs")
        });
    let mut tarballs: Vec<(String, Vec<u8>)> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "tgz"))
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                Some((name, std::fs::read(&p).ok()?))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    if tarballs.is_empty() {
        println!(
            "no tarballs in {} (run scripts/fetch-bench-tarballs.sh); skipping",
            dir.display()
        );
        return;
    }
    tarballs.sort();
    let limits = Limits::default();
    let mut total_out = 0u64;
    let mut total_time = Duration::ZERO;
    // Bare inflate of the same bytes: the ceiling read_tgz can approach.
    let mut total_inflate = Duration::ZERO;
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>8} {:>14}",
        "tarball", "tgz", "tar", "median", "MB/s", "inflate MB/s"
    );
    for (name, bytes) in &tarballs {
        let mut times = Vec::with_capacity(RUNS);
        let mut out = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let a = read_tgz(bytes, &limits).expect("bench tarball reads");
            times.push(t.elapsed());
            out = a.total_uncompressed;
            std::hint::black_box(a);
        }
        times.sort();
        let median = times[RUNS / 2];
        let mut raw = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let mut d = flate2::bufread::GzDecoder::new(bytes.as_slice());
            std::io::copy(&mut d, &mut std::io::sink()).expect("inflates");
            raw.push(t.elapsed());
        }
        raw.sort();
        let inflate_only = raw[RUNS / 2];
        total_inflate += inflate_only;
        total_out += out;
        total_time += median;
        println!(
            "{:<28} {:>10} {:>10} {:>8.1}ms {:>8.0} {:>14.0}",
            name,
            bytes.len(),
            out,
            median.as_secs_f64() * 1e3,
            out as f64 / median.as_secs_f64() / 1e6,
            out as f64 / inflate_only.as_secs_f64() / 1e6
        );
    }
    println!(
        "{:<28} {:>10} {:>10} {:>8.1}ms {:>8.0} {:>14.0}",
        "all (sum of medians)",
        tarballs.iter().map(|(_, b)| b.len()).sum::<usize>(),
        total_out,
        total_time.as_secs_f64() * 1e3,
        total_out as f64 / total_time.as_secs_f64() / 1e6,
        total_out as f64 / total_inflate.as_secs_f64() / 1e6
    );
}
