//! Parse benchmark (no criterion): median of N runs over a generated 5k-entry
//! `package-lock.json` v3 (the target size) and the largest real lockfiles in the shared
//! vectors. Run with `cargo bench -p turncoat-lockfile`; `-- <text>` runs only the benches
//! whose label contains `<text>` (e.g. `-- npm`).
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

/// Deterministic xorshift64*, so the generated lockfile is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A `package-lock.json` v3 with `entries` package entries shaped like npm writes them
/// (`JSON.stringify(…, null, 2)`): ~70% hoisted `node_modules/<name>`, the rest nested one
/// or two levels under another package with a different version; scoped names; registry
/// `resolved` URLs and sha512 integrities; `dependencies`/`peerDependencies`/
/// `optionalDependencies` maps; `engines`, `bin`, `license`, `funding`; dev, optional,
/// devOptional, peer and hasInstallScript flags in realistic proportions; a workspace
/// member and its link.
fn generate_package_lock(entries: usize) -> String {
    use serde_json::{Map, Value, json};
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let words = [
        "core", "utils", "parser", "plugin", "loader", "config", "types", "cli", "runtime",
        "compat", "stream", "path", "glob", "color", "ansi", "string", "array", "object", "fs",
        "http", "url", "semver", "lodash", "babel", "eslint", "postcss", "webpack", "jest",
    ];
    let hoisted = entries * 7 / 10;
    let names: Vec<String> = (0..hoisted)
        .map(|i| {
            let a = words[i % words.len()];
            let b = words[(i / words.len()) % words.len()];
            if i % 5 == 0 {
                format!("@{a}-scope/{b}-{i}")
            } else {
                format!("{a}-{b}-{i}")
            }
        })
        .collect();
    let version =
        |rng: &mut Rng, major: u64| format!("{major}.{}.{}", rng.below(30), rng.below(20));
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let entry = |rng: &mut Rng, name: &str, ver: &str| -> Value {
        let base = name.rsplit('/').next().unwrap_or(name);
        let integrity: String = (0..86)
            .map(|_| char::from(b64[rng.below(64) as usize]))
            .collect();
        let mut e = Map::new();
        e.insert("version".into(), json!(ver));
        e.insert(
            "resolved".into(),
            json!(format!(
                "https://registry.npmjs.org/{name}/-/{base}-{ver}.tgz"
            )),
        );
        e.insert("integrity".into(), json!(format!("sha512-{integrity}==")));
        let flag = rng.below(100);
        match flag {
            0..=44 => {
                e.insert("dev".into(), json!(true));
            }
            45..=47 => {
                e.insert("optional".into(), json!(true));
            }
            48..=49 => {
                e.insert("devOptional".into(), json!(true));
            }
            50..=51 => {
                e.insert("peer".into(), json!(true));
            }
            _ => {}
        }
        if rng.chance(3) {
            e.insert("hasInstallScript".into(), json!(true));
        }
        e.insert(
            "license".into(),
            json!(["MIT", "ISC", "Apache-2.0", "BSD-3-Clause"][rng.below(4) as usize]),
        );
        let deps = |rng: &mut Rng, n: u64| -> Value {
            let mut m = Map::new();
            for _ in 0..n {
                let d = &names[rng.below(names.len() as u64) as usize];
                m.insert(
                    d.clone(),
                    json!(format!("^{}.{}.0", rng.below(9), rng.below(20))),
                );
            }
            Value::Object(m)
        };
        let n = [0, 0, 1, 1, 2, 2, 3, 4, 6, 12][rng.below(10) as usize];
        if n > 0 {
            e.insert("dependencies".into(), deps(rng, n));
        }
        if rng.chance(4) {
            e.insert("optionalDependencies".into(), {
                let n = 1 + rng.below(2);
                deps(rng, n)
            });
        }
        if rng.chance(6) {
            e.insert("peerDependencies".into(), {
                let n = 1 + rng.below(3);
                deps(rng, n)
            });
        }
        if rng.chance(10) {
            e.insert("bin".into(), json!({ base: format!("bin/{base}.js") }));
        }
        if rng.chance(60) {
            e.insert(
                "engines".into(),
                json!({"node": format!(">={}", 6 + rng.below(14))}),
            );
        }
        if rng.chance(15) {
            e.insert(
                "funding".into(),
                json!({"url": format!("https://github.com/sponsors/{base}")}),
            );
        }
        Value::Object(e)
    };

    let mut packages = Map::new();
    let mut root_deps = Map::new();
    for n in names.iter().take(40) {
        root_deps.insert(n.clone(), json!("^1.0.0"));
    }
    packages.insert(
        String::new(),
        json!({"name": "generated-monorepo", "version": "0.0.0", "workspaces": ["packages/*"],
               "devDependencies": root_deps}),
    );
    let mut paths: Vec<(String, Value)> = Vec::with_capacity(entries);
    for n in &names {
        let major = 1 + rng.below(5);
        let v = version(&mut rng, major);
        paths.push((format!("node_modules/{n}"), entry(&mut rng, n, &v)));
    }
    while paths.len() < entries - 2 {
        let parent = &names[rng.below(names.len() as u64) as usize];
        let child = &names[rng.below(names.len() as u64) as usize];
        let mut key = format!("node_modules/{parent}/node_modules/{child}");
        if rng.chance(20) {
            let grandchild = &names[rng.below(names.len() as u64) as usize];
            key = format!("{key}/node_modules/{grandchild}");
        }
        let name = key
            .rsplit("node_modules/")
            .next()
            .unwrap_or_default()
            .to_string();
        let major = 6 + rng.below(4);
        let v = version(&mut rng, major);
        let e = entry(&mut rng, &name, &v);
        paths.push((key, e));
    }
    paths.push((
        "node_modules/@generated/app".into(),
        json!({"resolved": "packages/app", "link": true}),
    ));
    paths.push((
        "packages/app".into(),
        json!({"name": "@generated/app", "version": "1.0.0", "dependencies": {&names[0]: "^1"}}),
    ));
    // npm sorts `packages` keys.
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    paths.dedup_by(|a, b| a.0 == b.0);
    for (k, v) in paths {
        packages.insert(k, v);
    }
    let doc = json!({
        "name": "generated-monorepo",
        "version": "0.0.0",
        "lockfileVersion": 3,
        "requires": true,
        "packages": packages,
    });
    serde_json::to_string_pretty(&doc).expect("a JSON value serializes")
}

fn bench(label: &str, path: &Path, name: &str) {
    if !selected(label) {
        return;
    }
    let Ok(bytes) = std::fs::read(path) else {
        println!("{label}: {} not found, skipped", path.display());
        return;
    };
    bench_bytes(
        label,
        path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        &bytes,
        name,
    );
}

/// The label filter given after `--` (cargo itself passes `--bench`).
fn selected(label: &str) -> bool {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .all(|f| label.contains(&f))
}

fn bench_bytes(label: &str, file: &str, bytes: &[u8], name: &str) {
    if !selected(label) {
        return;
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let lock = turncoat_lockfile::parse(name, bytes).expect("lockfile parses");
        times.push(t.elapsed());
        count = lock.packages.len();
    }
    times.sort();
    let median = times[RUNS / 2];
    let ms = median.as_secs_f64() * 1e3;
    let mb_s = bytes.len() as f64 / 1e6 / median.as_secs_f64();
    println!(
        "{label}: {file} ({} bytes, {count} packages): median {ms:.2} ms over {RUNS} runs, {mb_s:.1} MB/s",
        bytes.len()
    );
}

fn main() {
    let generated = if selected("npm (generated)") {
        generate_package_lock(5000)
    } else {
        String::new()
    };
    bench_bytes(
        "npm (generated)",
        "5000-entry package-lock.json v3",
        generated.as_bytes(),
        "package-lock.json",
    );
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
