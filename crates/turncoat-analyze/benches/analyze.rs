//! End-to-end throughput of `turncoat-analyze` on real npm tarballs.
//!
//! Reads the four tarballs fetched by `scripts/fetch-bench-tarballs.sh` (typescript 5.6.3,
//! webpack 5.113.0, lodash 4.17.21, @babel/core 7.29.13) from `target/bench-tarballs`
//! (`TURNCOAT_BENCH_TARBALLS` overrides), and per run: gunzip + untar in memory, then
//! `Analyzer::facts` on each package, on one thread. Reports the median of the runs as MB/s
//! of JavaScript, plus the analysis alone, and sanity-checks that `scan` stays quiet on these
//! benign packages.
//!
//! `cargo bench -p turncoat-analyze --bench analyze`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use turncoat_analyze::{Analyzer, FileKind, FileRef, Options};
use turncoat_finding::Severity;

const TARBALLS: &[&str] = &[
    "typescript-5.6.3.tgz",
    "webpack-5.113.0.tgz",
    "lodash-4.17.21.tgz",
    "babel-core-7.29.13.tgz",
];
const RUNS: usize = 7;

fn untar(tgz: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let Ok(entries) = archive.entries() else {
        return out;
    };
    for entry in entries.flatten() {
        let mut entry = entry;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Ok(path) = entry.path() else { continue };
        let path = path.to_string_lossy().to_string();
        // npm tarballs put everything under one top directory (usually `package/`).
        let rel = path
            .split_once('/')
            .map(|(_, r)| r.to_string())
            .unwrap_or(path);
        let mut data = Vec::new();
        if entry.read_to_end(&mut data).is_ok() {
            out.push((rel, data));
        }
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::var_os("TURNCOAT_BENCH_TARBALLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-tarballs")
        });
    let tgzs: Vec<(String, Vec<u8>)> = TARBALLS
        .iter()
        .filter_map(|n| std::fs::read(dir.join(n)).ok().map(|d| (n.to_string(), d)))
        .collect();
    if tgzs.len() != TARBALLS.len() {
        eprintln!(
            "bench tarballs missing in {}; run scripts/fetch-bench-tarballs.sh",
            dir.display()
        );
        return;
    }
    let opts = Options::default();
    let mut analyzer = Analyzer::new();

    // Warm-up, and the numbers the throughput is computed from.
    let mut js_bytes = 0u64;
    let mut js_files = 0usize;
    for (name, tgz) in &tgzs {
        let files = untar(tgz);
        let refs: Vec<FileRef<'_>> = files
            .iter()
            .map(|(p, d)| FileRef { path: p, data: d })
            .collect();
        let facts = analyzer.facts(&refs, &opts);
        let scripts: Vec<_> = facts
            .files
            .values()
            .filter(|f| f.kind == FileKind::Script)
            .collect();
        js_bytes += scripts.iter().map(|f| f.size).sum::<u64>();
        js_files += scripts.len();
        let parse_errors = facts.scripts().filter(|(_, j)| !j.parsed()).count();
        let findings = turncoat_analyze::scan(&facts, name, "bench");
        let loud: Vec<_> = findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .collect();
        println!(
            "{name}: {} files, {} scripts, {parse_errors} unparsed, scan findings above info: {}",
            facts.files.len(),
            scripts.len(),
            loud.len()
        );
        for f in loud {
            println!("  {} ({}): {}", f.code, f.severity, f.message);
        }
    }

    // Optional false-positive check and update timing on real updates: previous versions of the
    // same packages in `TURNCOAT_BENCH_PREVIOUS` (e.g. typescript-5.6.2.tgz), diffed against these.
    if let Some(prev_dir) = std::env::var_os("TURNCOAT_BENCH_PREVIOUS").map(PathBuf::from) {
        for (name, tgz) in &tgzs {
            let prefix = name.rsplit_once('-').map(|(p, _)| p).unwrap_or(name);
            let Some(prev) = std::fs::read_dir(&prev_dir).ok().and_then(|d| {
                d.flatten().map(|e| e.path()).find(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.rsplit_once('-').map(|(p, _)| p) == Some(prefix) && n != name
                    })
                })
            }) else {
                continue;
            };
            let Ok(prev_tgz) = std::fs::read(&prev) else {
                continue;
            };
            let facts_of = |a: &mut Analyzer, t: &[u8]| {
                let files = untar(t);
                let refs: Vec<FileRef<'_>> = files
                    .iter()
                    .map(|(p, d)| FileRef { path: p, data: d })
                    .collect();
                a.facts(&refs, &opts)
            };
            // Both versions on one `Analyzer` (as the gate does: scripts byte-identical to the
            // previous version's are remembered, not parsed again) vs on fresh ones.
            let mut shared = Vec::new();
            let mut separate = Vec::new();
            for _ in 0..RUNS {
                let t = Instant::now();
                let mut a = Analyzer::new();
                std::hint::black_box(facts_of(&mut a, &prev_tgz));
                std::hint::black_box(facts_of(&mut a, tgz));
                shared.push(t.elapsed());
                let t = Instant::now();
                std::hint::black_box(facts_of(&mut Analyzer::new(), &prev_tgz));
                std::hint::black_box(facts_of(&mut Analyzer::new(), tgz));
                separate.push(t.elapsed());
            }
            println!(
                "old + new facts of {prefix}: {:.0} ms on one Analyzer, {:.0} ms on fresh ones (median of {RUNS})",
                median(shared).as_secs_f64() * 1e3,
                median(separate).as_secs_f64() * 1e3,
            );
            let old = facts_of(&mut analyzer, &prev_tgz);
            let new = facts_of(&mut analyzer, tgz);
            let version = |f: &turncoat_analyze::VersionFacts| {
                f.manifest
                    .as_ref()
                    .and_then(|m| m.version.clone())
                    .unwrap_or_default()
            };
            let ctx = turncoat_analyze::DiffContext::new(prefix, &version(&old), &version(&new));
            let findings = turncoat_analyze::diff(&old, &new, &ctx);
            let loud: Vec<_> = findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
                .collect();
            println!(
                "diff {prefix} {} -> {} ({}): {} findings, {} above info",
                ctx.from_version,
                ctx.to_version,
                ctx.bump.as_str(),
                findings.len(),
                loud.len()
            );
            for f in loud {
                println!("  {} ({}): {}", f.code, f.severity, f.message);
            }
        }
    }

    // Baseline: gunzip + untar + oxc parse alone (same options), no facts.
    let mut baseline = Vec::new();
    let mut alloc = oxc_allocator::Allocator::default();
    for _ in 0..RUNS {
        let start = Instant::now();
        for (_, tgz) in &tgzs {
            for (path, data) in untar(tgz) {
                let st = match path.rsplit_once('.').map(|(_, e)| e) {
                    Some("js") => oxc_span::SourceType::unambiguous(),
                    Some("cjs") => oxc_span::SourceType::cjs(),
                    Some("mjs") => oxc_span::SourceType::mjs(),
                    _ => continue,
                };
                let Ok(src) = std::str::from_utf8(&data) else {
                    continue;
                };
                let ret = oxc_parser::Parser::new(&alloc, src, st).parse();
                std::hint::black_box(ret.program.body.len());
                alloc.reset();
            }
        }
        baseline.push(start.elapsed());
    }

    let mut end_to_end = Vec::new();
    let mut analysis = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let mut in_analysis = Duration::ZERO;
        for (_, tgz) in &tgzs {
            let files = untar(tgz);
            let refs: Vec<FileRef<'_>> = files
                .iter()
                .map(|(p, d)| FileRef { path: p, data: d })
                .collect();
            let t = Instant::now();
            let facts = analyzer.facts(&refs, &opts);
            in_analysis += t.elapsed();
            std::hint::black_box(facts);
        }
        end_to_end.push(start.elapsed());
        analysis.push(in_analysis);
    }
    let mb = js_bytes as f64 / 1e6;
    let e2e = median(end_to_end);
    let an = median(analysis);
    let base = median(baseline);
    println!(
        "JS: {js_files} files, {mb:.1} MB; median of {RUNS} runs, one thread:\n  baseline (gunzip + untar + oxc parse only): {:.3} s = {:.0} MB/s of JS\n  end to end (gunzip + untar + facts): {:.3} s = {:.0} MB/s of JS\n  facts only: {:.3} s = {:.0} MB/s of JS",
        base.as_secs_f64(),
        mb / base.as_secs_f64(),
        e2e.as_secs_f64(),
        mb / e2e.as_secs_f64(),
        an.as_secs_f64(),
        mb / an.as_secs_f64(),
    );
}
