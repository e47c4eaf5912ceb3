//! `benign`: the false-positive measurement. Downloads the real benign update pairs of
//! `../shared/corpus/benign-npm-dev.tsv` from the registry (into the normal cache), runs the gate
//! on each update with the built-in policy, and reports block and warn rates with the findings
//! behind them. Network evaluation, not a test.
//!
//! With `--detonate` every changed version is also installed and loaded in the sandbox
//! (`turncoat_gate::detonation::SandboxDetonator`); the report then adds which updates the
//! detonation rules flagged (with their evidence) and how long the detonations took.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use turncoat_gate::Detonator;
use turncoat_report::Verdict;
use turncoat_sandbox::detonate::Detonation;

pub struct BenignArgs {
    /// Corpus files (TSV), judged together as one lockfile change.
    pub corpus: Vec<PathBuf>,
    pub limit: Option<usize>,
    pub registry: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub output: Option<PathBuf>,
    /// Detonate each changed version in the sandbox (the gate's `diff --detonate`).
    pub detonate: bool,
    pub detonate_timeout: Duration,
    /// Write every detonation event as JSON Lines here (for looking into findings).
    pub detonate_events: Option<PathBuf>,
}

/// One detonation as the gate asked for it.
struct Detonated {
    name: String,
    version: String,
    duration: Duration,
    timed_out: bool,
    stages: Vec<String>,
    events: Vec<turncoat_sandbox::event::Event>,
    /// The throwaway `$HOME` and project directory the events mention.
    home: String,
    project: String,
    error: Option<String>,
    /// Declared `dependencies`: installed only when the corpus lockfile resolves them (its
    /// one-package lockfiles do not), else a `require` stops at the first one (coverage).
    dependencies: usize,
}

fn declared_dependencies(files: &[turncoat_archive::PackageFile]) -> usize {
    files
        .iter()
        .find(|f| f.path == "package.json")
        .and_then(|f| serde_json::from_slice::<serde_json::Value>(&f.data).ok())
        .and_then(|m| m.get("dependencies")?.as_object().map(|d| d.len()))
        .unwrap_or(0)
}

/// The sandbox detonator, recording each run for the report (the gate keeps only findings).
struct Recording {
    inner: turncoat_gate::detonation::SandboxDetonator,
    runs: Mutex<Vec<Detonated>>,
}

impl Detonator for Recording {
    fn detonate(
        &self,
        name: &str,
        version: &str,
        files: &[turncoat_archive::PackageFile],
        deps: &[turncoat_gate::DetonationDep],
    ) -> Result<Detonation, String> {
        let started = std::time::Instant::now();
        let result = self.inner.detonate(name, version, files, deps);
        let dependencies = declared_dependencies(files);
        let record = match &result {
            Ok(d) => Detonated {
                name: name.to_string(),
                version: version.to_string(),
                duration: d.duration,
                timed_out: d.timed_out,
                stages: d.stages.clone(),
                events: d.events.clone(),
                home: d.home.clone(),
                project: d.project.clone(),
                error: None,
                dependencies,
            },
            Err(e) => Detonated {
                name: name.to_string(),
                version: version.to_string(),
                duration: started.elapsed(),
                timed_out: false,
                stages: Vec::new(),
                events: Vec::new(),
                home: String::new(),
                project: String::new(),
                error: Some(e.clone()),
                dependencies,
            },
        };
        if let Ok(mut runs) = self.runs.lock() {
            runs.push(record);
        }
        result
    }
}

fn failures(runs: &[Detonated]) -> Vec<String> {
    runs.iter()
        .filter_map(|r| {
            r.error
                .as_ref()
                .map(|e| format!("{}@{}: {e}", r.name, r.version))
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
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
    if args.detonate_events.is_some() && !args.detonate {
        return Err("--detonate-events needs --detonate".into());
    }
    let mut pairs: Vec<Pair> = Vec::new();
    for corpus in &args.corpus {
        let text = std::fs::read_to_string(corpus)
            .map_err(|e| format!("cannot read {}: {e}", corpus.display()))?;
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 5 {
                continue;
            }
            // One lockfile holds one version of a name: a name in two corpora is an error.
            if pairs.iter().any(|p| p.name == cols[0]) {
                return Err(format!("{} appears twice in the corpora", cols[0]));
            }
            pairs.push(Pair {
                name: cols[0].into(),
                from: cols[1].into(),
                to: cols[2].into(),
                from_integrity: cols[3].into(),
                to_integrity: cols[4].into(),
            });
        }
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
    let keys = turncoat_attest::Keys::embedded().map_err(|e| format!("embedded npm keys: {e}"))?;
    let root = turncoat_attest::TrustRoot::embedded();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let recording = Recording {
        inner: turncoat_gate::detonation::SandboxDetonator {
            opts: turncoat_sandbox::detonate::DetonateOptions {
                timeout: args.detonate_timeout,
                ..Default::default()
            },
        },
        runs: Mutex::new(Vec::new()),
    };
    let ctx = turncoat_gate::GateContext {
        client: &client,
        policy: &policy,
        now_unix: now,
        keys: &keys,
        trust_root: &root,
        progress: &turncoat_registry::NoProgress,
        jobs: 0,
        detonator: args.detonate.then_some(&recording as &dyn Detonator),
    };
    let started = std::time::Instant::now();
    eprintln!(
        "judging {} benign updates{} (downloads into the cache on first run)…",
        pairs.len(),
        if args.detonate {
            ", detonating each"
        } else {
            ""
        }
    );
    // The gate stops at the first detonation that fails: name every failure recorded so far.
    let report = turncoat_gate::diff(&base, &head, &ctx).map_err(|e| {
        let runs = recording
            .runs
            .lock()
            .map(|r| failures(&r))
            .unwrap_or_default();
        match runs.is_empty() {
            true => e.to_string(),
            false => format!("{e} (failed detonations: {})", runs.join("; ")),
        }
    })?;
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
        args.corpus
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(" + ")
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
    ablation(&mut out, &updates);
    if args.detonate {
        let runs = recording.runs.into_inner().unwrap_or_default();
        detonation_section(&mut out, &updates, &runs, args.detonate_timeout);
        if let Some(p) = &args.detonate_events {
            write_events(p, &runs)?;
        }
    }
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

/// The rates with each rule disabled in turn: which rules carry the false positives. A
/// verdict is recomputed from the levels of the remaining (not excepted) findings.
fn ablation(out: &mut String, updates: &[&turncoat_report::PackageReport]) {
    use turncoat_finding::Level;
    let n = updates.len().max(1) as f64;
    let verdict_without = |p: &turncoat_report::PackageReport, code: &str| {
        p.findings
            .iter()
            .filter(|f| f.excepted.is_none() && f.code != code)
            .map(|f| Verdict::from_level(f.level))
            .max()
            .unwrap_or(Verdict::Pass)
    };
    let codes: std::collections::BTreeSet<&str> = updates
        .iter()
        .flat_map(|p| p.findings.iter())
        .filter(|f| f.excepted.is_none() && f.level != Level::Allow)
        .map(|f| f.code.as_str())
        .collect();
    let _ = writeln!(out, "## Rates with each rule disabled in turn");
    let _ = writeln!(out);
    let _ = writeln!(out, "| rule disabled | block | warn |");
    let _ = writeln!(out, "|---|---|---|");
    for code in codes {
        let (mut b, mut w) = (0usize, 0usize);
        for p in updates {
            match verdict_without(p, code) {
                Verdict::Block => b += 1,
                Verdict::Warn => w += 1,
                Verdict::Pass => {}
            }
        }
        let _ = writeln!(
            out,
            "| `{code}` | {b} ({:.2} %) | {w} ({:.2} %) |",
            100.0 * b as f64 / n,
            100.0 * w as f64 / n
        );
    }
    let _ = writeln!(out);
}

fn is_detonation(code: &str) -> bool {
    code.starts_with("detonation-")
}

/// Which updates the detonation rules flagged (with all their evidence), what the verdict
/// would have been without them, and how long the sandbox runs took.
fn detonation_section(
    out: &mut String,
    updates: &[&turncoat_report::PackageReport],
    runs: &[Detonated],
    timeout: Duration,
) {
    let live = |f: &&turncoat_report::ReportFinding| f.excepted.is_none();
    let flagged: Vec<_> = updates
        .iter()
        .filter(|p| {
            p.findings
                .iter()
                .filter(live)
                .any(|f| is_detonation(&f.code))
        })
        .collect();
    // The verdict without detonation: the strongest level among the other live findings.
    let without = |p: &turncoat_report::PackageReport| {
        p.findings
            .iter()
            .filter(live)
            .filter(|f| !is_detonation(&f.code))
            .map(|f| Verdict::from_level(f.level))
            .max()
            .unwrap_or(Verdict::Pass)
    };
    let raised = updates.iter().filter(|p| p.verdict > without(p)).count();
    let _ = writeln!(out, "## Detonation");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} of {} updates got a `detonation-*` finding; {raised} had their verdict raised by one.",
        flagged.len(),
        updates.len()
    );
    let _ = writeln!(out);

    let mut per_package: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for r in runs {
        let e = per_package.entry(&r.name).or_default();
        e.0 += r.duration.as_secs_f64();
        e.1 += 1;
    }
    let secs: Vec<f64> = runs.iter().map(|r| r.duration.as_secs_f64()).collect();
    let total: f64 = secs.iter().sum();
    let max = secs.iter().copied().fold(0.0, f64::max);
    let twice = per_package.values().filter(|(_, n)| *n > 1).count();
    let timed_out: Vec<String> = runs
        .iter()
        .filter(|r| r.timed_out)
        .map(|r| format!("{}@{}", r.name, r.version))
        .collect();
    let _ = writeln!(
        out,
        "Sandbox runs: {} ({} packages, {twice} of them run twice: the old version is \
         detonated only when the new one did something); total {total:.1} s, per run median \
         {:.2} s, max {max:.1} s; per package median {:.2} s; timeout {} s.",
        runs.len(),
        per_package.len(),
        median(secs.clone()),
        median(per_package.values().map(|(s, _)| *s).collect()),
        timeout.as_secs()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Timed out ({}): {}",
        timed_out.len(),
        if timed_out.is_empty() {
            "none".to_string()
        } else {
            timed_out.join(", ")
        }
    );
    let _ = writeln!(out);
    // Only the gate's first run of each package is the changed version (the old one follows).
    let mut seen = std::collections::BTreeSet::new();
    let first: Vec<&Detonated> = runs.iter().filter(|r| seen.insert(&r.name)).collect();
    let with_deps = first.iter().filter(|r| r.dependencies > 0).count();
    let with_scripts = first
        .iter()
        .filter(|r| r.stages.iter().any(|s| s != "require" && s != "import"))
        .count();
    let _ = writeln!(
        out,
        "Coverage: {with_scripts} of {} changed versions have lifecycle scripts (run); {with_deps} \
         declare dependencies (installed beside them from the head lockfile, up to 64).",
        first.len()
    );
    let _ = writeln!(out);

    // What the detonation rules say about each changed version on its own: the gate drops
    // what the replaced version did too, so this is what a first release (no predecessor)
    // or a version newly doing the same would be told.
    let mut alone: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &first {
        let run = turncoat_gate::detonation::Run {
            events: &r.events,
            ctx: turncoat_gate::detonation::Context {
                home: &r.home,
                project: &r.project,
            },
        };
        let id = format!("{}@{}", r.name, r.version);
        for f in turncoat_gate::detonation::findings(&id, &run, None) {
            let ev = f
                .evidence
                .first()
                .and_then(|e| e.snippet.clone())
                .unwrap_or_default();
            alone
                .entry(f.code.clone())
                .or_default()
                .push(format!("{id} (`{ev}`)"));
        }
    }
    let _ = writeln!(
        out,
        "Before the comparison with the replaced version (what each changed version did on its own):"
    );
    let _ = writeln!(out);
    if alone.is_empty() {
        let _ = writeln!(out, "- nothing");
    }
    for (code, who) in &alone {
        let _ = writeln!(out, "- `{code}`: {} — {}", who.len(), who.join(", "));
    }
    let _ = writeln!(out);

    let mut slow: Vec<&Detonated> = runs.iter().collect();
    slow.sort_by_key(|r| std::cmp::Reverse(r.duration));
    let _ = writeln!(out, "Slowest runs:");
    let _ = writeln!(out);
    for r in slow.iter().take(10) {
        let _ = writeln!(
            out,
            "- {}@{}: {:.1} s{} (stages: {}; {} events)",
            r.name,
            r.version,
            r.duration.as_secs_f64(),
            if r.timed_out { ", timed out" } else { "" },
            r.stages.join(", "),
            r.events.len()
        );
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "### Updates with detonation findings");
    let _ = writeln!(out);
    if flagged.is_empty() {
        let _ = writeln!(out, "- none");
    }
    for p in &flagged {
        let _ = writeln!(
            out,
            "- **{}** {} ({} without detonation)",
            p.verdict.as_str(),
            p.title(),
            without(p).as_str()
        );
        for f in p
            .findings
            .iter()
            .filter(live)
            .filter(|f| is_detonation(&f.code))
        {
            let _ = writeln!(
                out,
                "  - `{}` ({}): {}",
                f.code,
                f.level.as_str(),
                f.message
            );
            for e in &f.evidence {
                let _ = writeln!(
                    out,
                    "    - {} `{}`",
                    e.path,
                    e.snippet.as_deref().unwrap_or("")
                );
            }
        }
    }
    let _ = writeln!(out);
}

/// Every event of every detonation, one JSON object a line, tagged with the version run.
fn write_events(path: &std::path::Path, runs: &[Detonated]) -> Result<(), String> {
    let mut text = String::new();
    for r in runs {
        for e in &r.events {
            let line = serde_json::json!({
                "detonated": format!("{}@{}", r.name, r.version),
                "event": e,
            });
            let _ = writeln!(text, "{line}");
        }
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
