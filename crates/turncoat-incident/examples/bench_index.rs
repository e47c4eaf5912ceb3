//! The index benchmark (scripts/bench-index.sh runs it): fill a store with REPOS generated
//! repositories of PACKAGES locked packages each, then time `who-has` of exact versions
//! (p50/p99 over 200 queries) and, on SQLite, indexing one 1,500-package package-lock.json
//! (parse, dependency paths, write).
//!
//! Usage: bench_index DATABASE REPOS PACKAGES
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use turncoat_store::{IndexedLockfile, IndexedPackage, Location, Query, Store};

/// A small deterministic generator (no dependency for a benchmark).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NAMES: u64 = 20_000;
const VERSIONS: u64 = 4;

fn package(rng: &mut Rng, line: u32) -> IndexedPackage {
    let n = rng.below(NAMES);
    let v = rng.below(VERSIONS);
    IndexedPackage {
        name: format!("pkg-{n}"),
        version: format!("1.{v}.0"),
        integrity: Some(format!("sha512-{n:x}{v:x}")),
        dev: line.is_multiple_of(3),
        optional: false,
        install_script: n.is_multiple_of(50).then_some(true),
        dep_path: format!("app > pkg-{}", rng.below(NAMES)),
        line,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, repos, packages] = args.as_slice() else {
        return Err("usage: bench_index DATABASE REPOS PACKAGES".into());
    };
    let loc = Location::parse(db);
    let repos: usize = repos.parse()?;
    let packages: u32 = packages.parse()?;
    let mut store = Store::open(&loc, 0)?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (_, _, have) = store.index_counts()?;
    let t = Instant::now();
    if have == 0 {
        for r in 0..repos {
            let pkgs = (1..=packages).map(|l| package(&mut rng, l)).collect();
            let lf = IndexedLockfile {
                path: "package-lock.json".into(),
                blob: format!("blob-{r}"),
                format: "package-lock-v3".into(),
                packages: Some(pkgs),
            };
            store.put_ref(&format!("/org/repo-{r:05}"), "main", "c0", &[lf], 0)?;
            if (r + 1) % 1000 == 0 {
                eprintln!(
                    "  {} repositories written ({:.0}s)",
                    r + 1,
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    let fill = t.elapsed().as_secs_f64();
    let (refs, lockfiles, rows) = store.index_counts()?;
    println!(
        "backend: {}",
        if db.starts_with("postgres") {
            "postgresql"
        } else {
            "sqlite"
        }
    );
    println!(
        "rows: {rows} packages in {lockfiles} lockfiles of {refs} refs (filled in {fill:.1}s)"
    );

    let mut times = Vec::new();
    let mut hits = 0usize;
    for _ in 0..200 {
        let q = Query::Versions {
            name: format!("pkg-{}", rng.below(NAMES)),
            versions: vec![format!("1.{}.0", rng.below(VERSIONS))],
        };
        let t = Instant::now();
        hits += store.who_has(&q)?.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "who-has exact version: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.1} hits per query)",
        pct(&times, 0.5),
        pct(&times, 0.99),
        times[times.len() - 1],
        hits as f64 / 200.0
    );

    // One 1,500-package package-lock.json, parsed and written (as `index add` does).
    let mut text = String::from(
        "{\"name\": \"big\", \"lockfileVersion\": 3, \"packages\": {\n  \"\": {\"name\": \"big\", \"dependencies\": {",
    );
    text.push_str(
        &(0..1500)
            .map(|i| format!("\"dep-{i}\": \"^1.0.0\""))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("}}");
    for i in 0..1500 {
        text.push_str(&format!(",\n  \"node_modules/dep-{i}\": {{\"version\": \"1.0.{}\", \"resolved\": \"https://registry.npmjs.org/dep-{i}/-/dep-{i}-1.0.0.tgz\", \"integrity\": \"sha512-{i:08x}\"}}", i % 7));
    }
    text.push_str("\n}}\n");
    let mut add_times = Vec::new();
    for k in 0..10 {
        let t = Instant::now();
        let lock = turncoat_lockfile::parse("package-lock.json", text.as_bytes())?;
        let lf =
            turncoat_incident::index::to_indexed("package-lock.json", format!("big-{k}"), &lock);
        store.put_ref("/org/big", "main", &format!("c{k}"), &[lf], 0)?;
        add_times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    add_times.sort_by(f64::total_cmp);
    println!(
        "index add of one 1,500-package lockfile (parse + paths + write): p50 {:.1} ms, max {:.1} ms",
        pct(&add_times, 0.5),
        add_times[add_times.len() - 1]
    );
    Ok(())
}
