//! `benign`: the false-positive measurement. Downloads the real benign update pairs of
//! `../shared/corpus/benign-npm-dev.tsv` from the registry (into the normal cache), runs the gate
//! on each update with the built-in policy, and reports block and warn rates with the findings
//! behind them. Network evaluation, not a test.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use turncoat_report::Verdict;

pub struct BenignArgs {
    pub corpus: PathBuf,
    pub limit: Option<usize>,
    pub registry: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

struct Pair {
    name: String,
    from: String,
    to: String,
    from_integrity: String,
    to_integrity: String,
}

fn lockfile(pairs: &[Pair], head: bool) -> String {
    let mut packages = serde_json::Map::new();
    let mut deps = serde_json::Map::new();
    for p in pairs {
        let (v, i) = if head {
            (&p.to, &p.to_integrity)
        } else {
            (&p.from, &p.from_integrity)
        };
        let base = p.name.rsplit('/').next().unwrap_or(&p.name);
        deps.insert(p.name.clone(), serde_json::json!(v));
        packages.insert(
            format!("node_modules/{}", p.name),
            serde_json::json!({
                "version": v,
                "resolved": format!("https://registry.npmjs.org/{}/-/{}-{}.tgz", p.name, base, v),
                "integrity": i,
            }),
        );
    }
    packages.insert(
        String::new(),
        serde_json::json!({"name": "benign-corpus", "version": "1.0.0", "dependencies": deps}),
    );
    serde_json::to_string_pretty(&serde_json::json!({
        "name": "benign-corpus", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages,
    }))
    .unwrap_or_default()
}

pub fn run(args: BenignArgs) -> Result<bool, String> {
    let text = std::fs::read_to_string(&args.corpus)
        .map_err(|e| format!("cannot read {}: {e}", args.corpus.display()))?;
    let mut pairs = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 {
            continue;
        }
        pairs.push(Pair {
            name: cols[0].into(),
            from: cols[1].into(),
            to: cols[2].into(),
            from_integrity: cols[3].into(),
            to_integrity: cols[4].into(),
        });
    }
    if let Some(n) = args.limit {
        pairs.truncate(n);
    }
    let base = turncoat_lockfile::parse(
        "benign-base/package-lock.json",
        lockfile(&pairs, false).as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let head = turncoat_lockfile::parse(
        "benign-head/package-lock.json",
        lockfile(&pairs, true).as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let config = turncoat_registry::RegistryConfig::load(&cwd, args.registry.as_deref())
        .map_err(|e| e.to_string())?;
    let cache = turncoat_registry::Cache::from_env(args.cache_dir.as_deref())
        .ok_or("no cache directory (HOME unset): pass --cache-dir")?;
    let client =
        turncoat_registry::Client::new(config, cache, turncoat_registry::ClientOptions::default())
            .map_err(|e| e.to_string())?;
    let policy = turncoat_policy::Policy::builtin(&turncoat_gate::all_rules());
    let keys = turncoat_attest::Keys::embedded();
    let root = turncoat_attest::TrustRoot::embedded();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ctx = turncoat_gate::GateContext {
        client: &client,
        policy: &policy,
        now_unix: now,
        keys: &keys,
        trust_root: &root,
        progress: &turncoat_registry::NoProgress,
        jobs: 0,
        detonator: None,
    };
    let started = std::time::Instant::now();
    eprintln!(
        "judging {} benign updates (downloads into the cache on first run)…",
        pairs.len()
    );
    let report = turncoat_gate::diff(&base, &head, &ctx).map_err(|e| e.to_string())?;
    let updates: Vec<_> = report
        .packages
        .iter()
        .filter(|p| p.from.is_some() && p.to.is_some())
        .collect();
    let n = updates.len().max(1);
    let blocked = updates
        .iter()
        .filter(|p| p.verdict == Verdict::Block)
        .count();
    let warned = updates
        .iter()
        .filter(|p| p.verdict == Verdict::Warn)
        .count();
    // Cooldown is about time, not content: report the rate without it too.
    let content_warned = updates
        .iter()
        .filter(|p| p.verdict == Verdict::Warn)
        .filter(|p| {
            p.findings
                .iter()
                .any(|f| f.level == turncoat_finding::Level::Warn && f.code != "release-too-new")
        })
        .count();
    let mut by_code: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in &updates {
        for f in p.findings.iter().filter(|f| f.excepted.is_none()) {
            *by_code
                .entry((f.code.clone(), f.level.as_str().to_string()))
                .or_default() += 1;
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Benign corpus: {} updates ({})",
        updates.len(),
        args.corpus.display()
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| verdict | updates | rate | target |");
    let _ = writeln!(out, "|---|---|---|---|");
    let _ = writeln!(
        out,
        "| block | {blocked} | {:.2} % | <= 0.5 % |",
        100.0 * blocked as f64 / n as f64
    );
    let _ = writeln!(
        out,
        "| warn | {warned} | {:.2} % | <= 3 % |",
        100.0 * warned as f64 / n as f64
    );
    let _ = writeln!(
        out,
        "| warn (excluding cooldown) | {content_warned} | {:.2} % | |",
        100.0 * content_warned as f64 / n as f64
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "Elapsed: {:.1} s.", started.elapsed().as_secs_f64());
    let _ = writeln!(out);
    let _ = writeln!(out, "## Findings by code (all levels)");
    let _ = writeln!(out);
    for ((code, level), count) in &by_code {
        let _ = writeln!(out, "- `{code}` ({level}): {count}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Blocked and warned updates");
    let _ = writeln!(out);
    for p in updates.iter().filter(|p| p.verdict != Verdict::Pass) {
        let _ = writeln!(
            out,
            "- **{}** {}: {}",
            p.verdict.as_str(),
            p.title(),
            p.findings
                .iter()
                .filter(|f| f.level != turncoat_finding::Level::Allow)
                .map(|f| format!("`{}` {}", f.code, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    match &args.output {
        Some(p) => {
            std::fs::write(p, &out).map_err(|e| format!("cannot write {}: {e}", p.display()))?
        }
        None => print!("{out}"),
    }
    let ok = (blocked as f64 / n as f64) <= 0.005 && (warned as f64 / n as f64) <= 0.03;
    Ok(ok)
}
