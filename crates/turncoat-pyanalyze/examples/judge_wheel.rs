//! Times what the gate does with one Python release pair: read both wheels (bounded, RECORD
//! checked), collect their facts and compare them. Used by `scripts/bench-wheel.sh`; not a
//! test. `RAYON_NUM_THREADS=1` gives the one-thread figure.
//!
//! Usage: `cargo run --release -p turncoat-pyanalyze --example judge_wheel -- OLD.whl NEW.whl [RUNS]`

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::time::{Duration, Instant};

use turncoat_archive::{Limits, read_wheel};
use turncoat_pyanalyze::{DiffContext, diff, wheel_facts};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (old_path, new_path) = match (args.first(), args.get(1)) {
        (Some(o), Some(n)) => (o, n),
        _ => return Err("usage: judge_wheel OLD.whl NEW.whl [RUNS]".into()),
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    // Warm: the files are in memory (as the gate has them after a cached download).
    let old = std::fs::read(old_path)?;
    let new = std::fs::read(new_path)?;
    let limits = Limits::default();
    let mut read_new = Vec::new();
    let mut one = Vec::new();
    let mut pair = Vec::new();
    let mut joined = Vec::new();
    let mut findings = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        let new_wheel = read_wheel(&new, &limits)?;
        let t1 = Instant::now();
        let new_facts = wheel_facts(&new_wheel);
        let t2 = Instant::now();
        // The replaced release after the new one, as the gate reads them; then both at once
        // for comparison.
        let old_facts = wheel_facts(&read_wheel(&old, &limits)?);
        let sequential = diff(&old_facts, &new_facts, &DiffContext::new("bench", "1", "2")).len();
        let t3 = Instant::now();
        let t4 = Instant::now();
        let (a, b) = rayon::join(
            || read_wheel(&old, &limits).map(|w| wheel_facts(&w)),
            || read_wheel(&new, &limits).map(|w| wheel_facts(&w)),
        );
        findings = diff(&a?, &b?, &DiffContext::new("bench", "1", "2")).len();
        assert_eq!(findings, sequential, "both ways find the same");
        joined.push(t4.elapsed());
        read_new.push(t1 - t0);
        one.push(t2 - t0);
        pair.push(t3 - t0);
    }
    let ms = |d: &mut Vec<Duration>| -> String {
        d.sort();
        let all: Vec<String> = d.iter().map(|x| x.as_millis().to_string()).collect();
        format!(
            "median {} ms (all: {})",
            d[d.len() / 2].as_millis(),
            all.join(" ")
        )
    };
    println!(
        "new wheel: {} bytes; threads: {}",
        new.len(),
        rayon::current_num_threads()
    );
    println!("read NEW (inflate + RECORD): {}", ms(&mut read_new));
    println!("read + facts of NEW:         {}", ms(&mut one));
    println!(
        "judge OLD -> NEW, one wheel after the other (the gate): {}",
        ms(&mut pair)
    );
    println!(
        "judge OLD -> NEW, both wheels at once ({findings} findings): {}",
        ms(&mut joined)
    );
    Ok(())
}
