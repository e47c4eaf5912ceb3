//! The drill: publish the canaries, let a Dependabot-style commit pick each up, run every
//! defence layer as CI would, and time each detection from the trojan's publish.
//!
//! The layers are the turncoat binary itself (`turncoat diff --base-ref`, the same with
//! `--detonate`, `turncoat watch --block -- npm ci`), run through
//! [`turncoat_sandbox::tools`] exactly as a CI job runs them, so the drill measures what CI
//! would see, exit codes and all.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use turncoat_metrics::Sample;
use turncoat_sandbox::tools::{Tool, find_on_path};

use crate::DrillError;
use crate::canary::{self, Canary, CanarySpec, Scenario};
use crate::registry::{self, Registry, npm_tool, scrub};

/// A defence layer, as CI runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// `turncoat diff --base-ref main`.
    Gate,
    /// `turncoat diff --base-ref main --detonate`.
    GateDetonate,
    /// `turncoat watch --block -- npm ci`.
    Watch,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Gate, Layer::GateDetonate, Layer::Watch];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Gate => "gate",
            Layer::GateDetonate => "gate-detonate",
            Layer::Watch => "watch",
        }
    }

    pub fn parse(s: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// What to drill.
#[derive(Debug, Clone)]
pub struct DrillConfig {
    /// The turncoat binary the layers run (the CLI passes its own executable).
    pub turncoat: PathBuf,
    pub scenarios: Vec<Scenario>,
    pub layers: Vec<Layer>,
    /// Layers that must detect every scenario; a miss makes the drill fail (exit 1).
    pub must_detect: Vec<Layer>,
    /// `--registry URL` and the `.npmrc` holding its token; None starts a local Verdaccio.
    pub registry: Option<(String, PathBuf)>,
    /// A git repository to drill on (cloned into the temp dir, never modified); None
    /// generates an app.
    pub project: Option<PathBuf>,
    /// A domain the user owns for the payloads (`<id>.<domain>`); None: `<id>.drill.invalid`.
    pub domain: Option<String>,
    /// Time limit per layer run.
    pub layer_timeout: Duration,
    /// Keep the temp dir (its path is in the report).
    pub keep: bool,
    /// `--package NAME`: drill the team's own package; each scenario's canary is the next
    /// patch of its `latest` (on the local registry: of a clean 1.0.0 published first).
    pub package: Option<String>,
}

impl DrillConfig {
    pub fn new(turncoat: PathBuf) -> DrillConfig {
        DrillConfig {
            turncoat,
            scenarios: Scenario::ALL.to_vec(),
            layers: Layer::ALL.to_vec(),
            must_detect: vec![Layer::Gate],
            registry: None,
            project: None,
            domain: None,
            layer_timeout: Duration::from_secs(300),
            keep: false,
            package: None,
        }
    }
}

/// One layer's outcome on one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerResult {
    pub layer: Layer,
    pub detected: bool,
    /// Finding codes (gate) or `event:<kind>` of what the sandbox saw of the drill domain (watch).
    pub codes: Vec<String>,
    /// From the trojan's publish to the end of the run that detected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttd_seconds: Option<f64>,
    /// The layer's own run time.
    pub run_seconds: f64,
    pub exit_code: i32,
    /// Whether the drill config requires this layer to detect.
    pub required: bool,
    /// Why the layer could not give a verdict (a tool error counts as a miss).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub package: String,
    pub from: String,
    pub to: String,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// Whether the canary's marker existed after the host steps (publish, lockfile update):
    /// true would mean package code ran outside the sandbox.
    pub marker_on_host: bool,
    pub layers: Vec<LayerResult>,
}

/// The whole drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillReport {
    pub id: String,
    pub registry: String,
    pub local_registry: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_dir: Option<String>,
    pub scenarios: Vec<ScenarioResult>,
}

impl DrillReport {
    /// Required layers that missed, as (scenario, layer).
    pub fn missed_required(&self) -> Vec<(Scenario, Layer)> {
        self.scenarios
            .iter()
            .flat_map(|s| {
                s.layers
                    .iter()
                    .filter(|l| l.required && !l.detected)
                    .map(move |l| (s.scenario, l.layer))
            })
            .collect()
    }

    /// One `time-to-detect` sample per detection (a miss has no time to detect).
    pub fn samples(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        for s in &self.scenarios {
            for l in &s.layers {
                let Some(ttd) = l.ttd_seconds else { continue };
                let at = s.published_at + time::Duration::seconds_f64(ttd);
                if let Ok(sample) =
                    Sample::new("time-to-detect", ttd, at, format!("drill {}", self.id))
                {
                    out.push(
                        sample
                            .with("scenario", s.scenario.as_str())
                            .with("layer", l.layer.as_str())
                            .with("package", s.package.clone())
                            .with("run_seconds", l.run_seconds)
                            .with("codes", l.codes.clone()),
                    );
                }
            }
        }
        out
    }

    /// The plain-text table for `--format human`.
    pub fn to_human(&self) -> String {
        let mut out = format!(
            "turncoat drill {} against {}{}\n",
            self.id,
            self.registry,
            if self.local_registry {
                " (local Verdaccio)"
            } else {
                ""
            }
        );
        for s in &self.scenarios {
            out.push_str(&format!(
                "\n{} — {} {} → {} ({})\n",
                s.scenario.as_str(),
                s.package,
                s.from,
                s.to,
                s.scenario.summary()
            ));
            if s.marker_on_host {
                out.push_str("  !! the canary marker exists on the host: package code ran outside the sandbox\n");
            }
            for l in &s.layers {
                let status = match (l.detected, l.required) {
                    (true, _) => "detected",
                    (false, true) => "MISSED (required)",
                    (false, false) => "missed",
                };
                let ttd = l
                    .ttd_seconds
                    .map(|t| format!("TTD {t:.1} s"))
                    .unwrap_or_else(|| "TTD —".into());
                let line = format!(
                    "  {:<14} {:<18} {:<12} run {:.1} s  {}",
                    l.layer.as_str(),
                    status,
                    ttd,
                    l.run_seconds,
                    l.codes.join(", ")
                );
                out.push_str(line.trim_end());
                out.push('\n');
                if let Some(e) = &l.error {
                    out.push_str(&format!("  {:<14} error: {}\n", "", one_line(e, 300)));
                }
            }
        }
        let missed = self.missed_required();
        if missed.is_empty() {
            out.push_str("\nevery required layer detected every scenario\n");
        } else {
            out.push_str(&format!(
                "\n{} required detection(s) missed\n",
                missed.len()
            ));
        }
        if let Some(d) = &self.work_dir {
            out.push_str(&format!("work dir kept: {d}\n"));
        }
        out
    }
}

fn one_line(s: &str, max: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

fn need(name: &str, how: &str) -> Result<PathBuf, DrillError> {
    find_on_path(name).ok_or_else(|| DrillError::Missing {
        what: name.into(),
        how: how.into(),
    })
}

/// Host tools every drill needs.
struct Host {
    node: PathBuf,
    npm: PathBuf,
    git: PathBuf,
    home: PathBuf,
}

/// Run the drill.
pub fn run(cfg: &DrillConfig) -> Result<DrillReport, DrillError> {
    let started_at = OffsetDateTime::now_utc();
    let tmp = tempfile::Builder::new()
        .prefix("turncoat-drill-")
        .tempdir()
        .map_err(|e| DrillError::io("create the drill temp dir", e))?;
    let root = tmp.path().to_path_buf();
    // Ctrl-C or a CI job's SIGTERM: the temp dir (registry storage, publish token, apps)
    // goes with the process; the guard hands it back to `tmp` when the drill ends normally.
    let _cleanup = if cfg.keep {
        None
    } else {
        Some(turncoat_sandbox::cleanup::remove_on_signal(&root).map_err(DrillError::Other)?)
    };
    let host = Host {
        node: need("node", "install Node.js 20 or later")?,
        npm: need("npm", "install npm (it comes with Node.js)")?,
        git: need("git", "install git")?,
        home: root.join("home"),
    };
    std::fs::create_dir_all(&host.home).map_err(|e| DrillError::io("create drill home", e))?;
    let id = registry::new_id()?;
    // One marker per scenario: a layer that runs one canary in its sandbox cannot make a
    // later scenario's host check fire, nor hide it.
    let marker_of = |s: Scenario| root.join(format!("marker-{}", s.as_str()));
    let mut spec = CanarySpec::new(&id, &root.join("marker"));
    if let Some(d) = &cfg.domain {
        spec = spec.with_domain(d).map_err(DrillError::Other)?;
    }

    let mut reg = match &cfg.registry {
        Some((url, npmrc)) => Registry::remote(url, npmrc, &root.join("registry"))?,
        None => {
            Registry::start_local(&host.node, &root.join("verdaccio"), Duration::from_secs(60))?
        }
    };
    let addon = crate::elf::build_with_cc(&canary::addon_c_source(&spec), &root)
        .unwrap_or_else(crate::elf::minimal_addon);

    // Publish everything first: the clock of each scenario starts at its trojan's publish.
    spec.drilled = cfg.package.clone();
    let versions = drilled_versions(cfg, &reg, &host, &spec, &addon, &root)?;
    let mut published = Vec::new();
    for (i, &scenario) in cfg.scenarios.iter().enumerate() {
        let mut spec = spec.clone();
        spec.marker = marker_of(scenario).display().to_string();
        let c = match &versions {
            Some((base, updates)) => {
                canary::generate_versions(&spec, scenario, &addon, base, &updates[i])
            }
            None => canary::generate(&spec, scenario, &addon),
        };
        for r in &c.before {
            // The drilled package's base is the team's release (or was published once).
            if versions.is_none() || spec.drilled.as_deref() != Some(r.name.as_str()) {
                reg.publish(&host.npm, &host.home, r, &root.join("pkg"))?;
            }
        }
        let tag = if versions.is_some() {
            registry::DRILL_TAG
        } else {
            "latest"
        };
        reg.publish_tagged(&host.npm, &host.home, &c.trojan, &root.join("pkg"), tag)?;
        published.push((c, OffsetDateTime::now_utc(), Instant::now()));
    }

    let mut scenarios = Vec::new();
    for (c, published_at, clock) in published {
        let app = root.join(format!("app-{}", c.scenario.as_str()));
        dependabot_flow(cfg, &host, &reg, &c, &app)?;
        let marker_on_host = marker_of(c.scenario).exists();
        let mut layers = Vec::new();
        for &layer in &cfg.layers {
            let mut r = run_layer(cfg, &host, &reg, &spec, &app, &root, layer);
            if r.detected {
                r.ttd_seconds = Some(clock.elapsed().as_secs_f64());
            }
            r.required = cfg.must_detect.contains(&layer);
            layers.push(r);
        }
        scenarios.push(ScenarioResult {
            scenario: c.scenario,
            package: c.package.clone(),
            from: c.base.clone(),
            to: c.update.clone(),
            published_at,
            marker_on_host,
            layers,
        });
    }
    reg.stop();
    let work_dir = if cfg.keep {
        Some(tmp.keep().display().to_string())
    } else {
        None
    };
    Ok(DrillReport {
        id,
        registry: reg.url.clone(),
        local_registry: reg.local,
        started_at,
        finished_at: OffsetDateTime::now_utc(),
        work_dir,
        scenarios,
    })
}

/// `--package`: the base version (the registry's `latest`; on the local registry a clean
/// 1.0.0 published now) and one next patch per scenario. None without `--package`.
fn drilled_versions(
    cfg: &DrillConfig,
    reg: &Registry,
    host: &Host,
    spec: &CanarySpec,
    addon: &[u8],
    root: &Path,
) -> Result<Option<(String, Vec<String>)>, DrillError> {
    let Some(name) = &cfg.package else {
        return Ok(None);
    };
    let base = match reg.latest_version(name)? {
        Some(v) => v,
        None if reg.local => {
            let first = cfg.scenarios.first().copied().unwrap_or(Scenario::Seed);
            let c = canary::generate(spec, first, addon);
            reg.publish(&host.npm, &host.home, &c.before[0], &root.join("pkg"))?;
            c.before[0].version.clone()
        }
        None => {
            return Err(DrillError::Other(format!(
                "--package {name}: {} has no such package (drill an existing private package of \
                 the team, or leave --package out for generated ones)",
                reg.url
            )));
        }
    };
    let updates = next_patches(&base, cfg.scenarios.len()).ok_or_else(|| {
        DrillError::Other(format!(
            "--package {name}: its latest version `{}` is not MAJOR.MINOR.PATCH",
            base.escape_debug()
        ))
    })?;
    Ok(Some((base, updates)))
}

/// The `n` patch versions after `version` (a plain `x.y.z`; None for anything else).
pub fn next_patches(version: &str, n: usize) -> Option<Vec<String>> {
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.len() <= 15 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    let [major, minor, patch] = parts[..] else {
        return None;
    };
    Some(
        (1..=n as u64)
            .map(|i| format!("{major}.{minor}.{}", patch + i))
            .collect(),
    )
}

fn git(host: &Host, dir: &Path) -> Tool {
    Tool::new(&host.git)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &host.home)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "dependabot[bot]")
        .env("GIT_AUTHOR_EMAIL", "drill@turncoat.invalid")
        .env("GIT_COMMITTER_NAME", "dependabot[bot]")
        .env("GIT_COMMITTER_EMAIL", "drill@turncoat.invalid")
        .arg("-C")
        .arg(dir)
        .timeout(Duration::from_secs(60))
        .max_output(256 << 10)
}

fn step(what: &str, tool: Tool) -> Result<(), DrillError> {
    let out = tool.run()?;
    if !out.success() {
        return Err(DrillError::Step {
            step: what.into(),
            detail: scrub(&out.stderr_tail(1500)),
        });
    }
    Ok(())
}

/// The base branch locks the canary's 1.0.0; a `dependabot/…` branch commits the lockfile
/// update to 1.0.1, made with `npm install --package-lock-only --ignore-scripts` against the
/// drill registry, as Dependabot does (it never runs install scripts).
fn dependabot_flow(
    cfg: &DrillConfig,
    host: &Host,
    reg: &Registry,
    c: &Canary,
    app: &Path,
) -> Result<(), DrillError> {
    match &cfg.project {
        Some(src) => step(
            "git clone --project",
            git(host, Path::new("."))
                .args(["clone", "--quiet", "--no-hardlinks"])
                .arg(src)
                .arg(app),
        )?,
        None => {
            std::fs::create_dir_all(app).map_err(|e| DrillError::io("create app", e))?;
            let manifest = serde_json::json!({
                "name": "drill-app", "version": "1.0.0", "private": true,
                "description": "generated by turncoat drill",
            });
            std::fs::write(app.join("package.json"), manifest.to_string())
                .map_err(|e| DrillError::io("write app package.json", e))?;
            std::fs::write(app.join(".npmrc"), format!("registry={}\n", reg.url))
                .map_err(|e| DrillError::io("write app .npmrc", e))?;
            step(
                "git init",
                git(host, app).args(["init", "--quiet", "-b", "main"]),
            )?;
        }
    }
    step(
        "git checkout base",
        git(host, app).args(["checkout", "--quiet", "-B", "main"]),
    )?;
    let npm_install = |spec: String| {
        npm_tool(&host.npm, &host.home)
            .cwd(app)
            .args([
                "install",
                "--package-lock-only",
                "--ignore-scripts",
                "--save-exact",
            ])
            .arg(spec)
            .arg("--registry")
            .arg(&reg.url)
    };
    step(
        "npm install the canary's base version",
        npm_install(format!("{}@{}", c.package, c.base)),
    )?;
    step("git add", git(host, app).args(["add", "-A"]))?;
    step(
        "git commit base",
        git(host, app).args([
            "commit",
            "--quiet",
            "-m",
            "drill: lock the canary's base version",
        ]),
    )?;
    let branch = format!("dependabot/npm_and_yarn/{}-{}", c.package, c.update);
    step(
        "git checkout -b",
        git(host, app).args(["checkout", "--quiet", "-b", &branch]),
    )?;
    step(
        "npm install the canary update",
        npm_install(format!("{}@{}", c.package, c.update)),
    )?;
    step("git add", git(host, app).args(["add", "-A"]))?;
    let msg = format!("Bump {} from {} to {}", c.package, c.base, c.update);
    step(
        "git commit update",
        git(host, app).args(["commit", "--quiet", "-m", &msg]),
    )
}

fn turncoat(cfg: &DrillConfig, host: &Host, root: &Path) -> Tool {
    Tool::new(&cfg.turncoat)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &host.home)
        .env("TURNCOAT_CACHE_DIR", root.join("cache"))
        .env("NO_COLOR", "1")
        .timeout(cfg.layer_timeout)
        .max_output(16 << 20)
}

fn run_layer(
    cfg: &DrillConfig,
    host: &Host,
    reg: &Registry,
    spec: &CanarySpec,
    app: &Path,
    root: &Path,
    layer: Layer,
) -> LayerResult {
    let tool = match layer {
        Layer::Gate | Layer::GateDetonate => {
            let mut t = turncoat(cfg, host, root)
                .cwd(app)
                .args([
                    "--quiet",
                    "diff",
                    "--base-ref",
                    "main",
                    "--format",
                    "json",
                    "--registry",
                ])
                .arg(&reg.url);
            if layer == Layer::GateDetonate {
                t = t.arg("--detonate");
            }
            t
        }
        Layer::Watch => {
            let host_port = reg
                .url
                .split_once("://")
                .map(|(_, r)| r.trim_end_matches('/'))
                .unwrap_or_default()
                .to_string();
            turncoat(cfg, host, root)
                .cwd(app)
                .args(["--quiet", "watch", "--block", "--events"])
                .arg(root.join(format!("events-{}.jsonl", app_name(app))))
                .args(["--allow-host", &host_port])
                // The sandbox stops itself a little before the drill would kill it.
                .arg("--timeout")
                .arg(
                    cfg.layer_timeout
                        .as_secs()
                        .saturating_sub(5)
                        .max(1)
                        .to_string(),
                )
                .arg("--cwd")
                .arg(app)
                .args(["--", "npm", "ci", "--no-audit", "--no-fund"])
        }
    };
    let start = Instant::now();
    let mut result = LayerResult {
        layer,
        detected: false,
        codes: Vec::new(),
        ttd_seconds: None,
        run_seconds: 0.0,
        exit_code: -1,
        required: false,
        error: None,
    };
    let out = match tool.run() {
        Ok(out) => out,
        Err(e) => {
            result.run_seconds = start.elapsed().as_secs_f64();
            result.error = Some(scrub(&e.to_string()));
            return result;
        }
    };
    result.run_seconds = out.elapsed.as_secs_f64();
    result.exit_code = out.code();
    match layer {
        Layer::Gate | Layer::GateDetonate => {
            judge_gate(&mut result, &out.stdout, &out.stderr_tail(1500), spec)
        }
        Layer::Watch => {
            let events = std::fs::read(root.join(format!("events-{}.jsonl", app_name(app))))
                .unwrap_or_default();
            judge_watch(&mut result, &events, spec);
            if result.exit_code != 0 && result.exit_code != 1 && !result.detected {
                result.error = Some(scrub(&out.stderr_tail(1500)));
            }
        }
    }
    result
}

fn app_name(app: &Path) -> String {
    app.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The gate detected the canary when it exited 1 and blocked a drill package; the codes are
/// that package's findings.
pub fn judge_gate(r: &mut LayerResult, stdout: &[u8], stderr: &str, spec: &CanarySpec) {
    let report: Option<serde_json::Value> = serde_json::from_slice(stdout).ok();
    let Some(report) = report else {
        r.error = Some(format!(
            "no JSON report (exit {}): {}",
            r.exit_code,
            scrub(stderr)
        ));
        return;
    };
    let mut blocked = false;
    for p in report["packages"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or_default();
        if !spec.is_drill_package(name) {
            continue;
        }
        if p["verdict"].as_str() == Some("block") {
            blocked = true;
        }
        for f in p["findings"].as_array().into_iter().flatten() {
            if let Some(code) = f["code"].as_str()
                && !r.codes.iter().any(|c| c == code)
            {
                r.codes.push(code.to_string());
            }
        }
    }
    r.detected = blocked && r.exit_code == 1;
    if r.exit_code == 2 {
        r.error = Some(format!("the gate failed: {}", scrub(stderr)));
    }
}

/// The watch layer detected the canary when the sandbox saw (and blocked) anything under the
/// drill domain; the codes are the event kinds.
pub fn judge_watch(r: &mut LayerResult, events: &[u8], spec: &CanarySpec) {
    let text = String::from_utf8_lossy(events);
    let mut seen = false;
    for line in text.lines() {
        let Ok(ev) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let target = ev["target"].as_str().unwrap_or_default();
        let kind = ev["event"].as_str().unwrap_or_default();
        let denied = ev["verdict"].as_str() == Some("deny");
        if target.contains(&spec.domain) || (denied && kind != "refused") {
            seen |= target.contains(&spec.domain);
            let code = format!("event:{kind}");
            if !r.codes.contains(&code) {
                r.codes.push(code);
            }
        }
    }
    r.detected = seen && r.exit_code == 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CanarySpec {
        CanarySpec::new("ab12cd34", Path::new("/tmp/m"))
    }

    fn blank(layer: Layer, exit: i32) -> LayerResult {
        LayerResult {
            layer,
            detected: false,
            codes: vec![],
            ttd_seconds: None,
            run_seconds: 0.0,
            exit_code: exit,
            required: true,
            error: None,
        }
    }

    #[test]
    fn the_gate_counts_only_a_blocked_drill_package() {
        let report = serde_json::json!({"packages": [
            {"name": "drill-ab12cd34-seed-sanitizer", "verdict": "block",
             "findings": [{"code": "new-install-script"}, {"code": "new-install-script"}]},
            {"name": "left-pad", "verdict": "block", "findings": [{"code": "other"}]},
        ]});
        let mut r = blank(Layer::Gate, 1);
        judge_gate(&mut r, report.to_string().as_bytes(), "", &spec());
        assert!(r.detected);
        assert_eq!(r.codes, vec!["new-install-script"]);

        // Another package blocked is not the canary detected.
        let report = serde_json::json!({"packages": [
            {"name": "drill-ab12cd34-seed-sanitizer", "verdict": "warn", "findings": []},
            {"name": "left-pad", "verdict": "block", "findings": []},
        ]});
        let mut r = blank(Layer::Gate, 1);
        judge_gate(&mut r, report.to_string().as_bytes(), "", &spec());
        assert!(!r.detected);

        // A tool error is a miss with its reason, not a detection.
        let mut r = blank(Layer::Gate, 2);
        judge_gate(&mut r, b"", "registry unreachable", &spec());
        assert!(!r.detected);
        assert!(r.error.unwrap().contains("registry unreachable"));
    }

    #[test]
    fn next_patches_of_plain_versions_only() {
        assert_eq!(
            next_patches("2.3.9", 2),
            Some(vec!["2.3.10".to_string(), "2.3.11".to_string()])
        );
        assert_eq!(next_patches("1.0.0-beta.1", 1), None);
        assert_eq!(next_patches("1.0", 1), None);
        assert_eq!(next_patches("1.0.x", 1), None);
        assert_eq!(next_patches("99999999999999999999.0.0", 1), None);
    }

    #[test]
    fn the_gate_counts_the_drilled_package_by_its_exact_name() {
        let mut s = spec();
        s.drilled = Some("@team/widget".into());
        let report = serde_json::json!({"packages": [
            {"name": "@team/widget-extra", "verdict": "block", "findings": [{"code": "x"}]},
            {"name": "@team/widget", "verdict": "block", "findings": [{"code": "new-install-script"}]}
        ]});
        let mut r = blank(Layer::Gate, 1);
        judge_gate(&mut r, report.to_string().as_bytes(), "", &s);
        assert!(r.detected);
        assert_eq!(r.codes, vec!["new-install-script".to_string()]);
    }

    #[test]
    fn watch_needs_the_drill_domain_and_a_block() {
        let ev = |t: &str, v: &str| {
            serde_json::json!({"event": "dns", "target": t, "verdict": v}).to_string()
        };
        let lines = [
            ev("YWJj.ab12cd34.drill.invalid", "deny"),
            ev("registry.npmjs.org", "allow"),
        ]
        .join("\n");
        let mut r = blank(Layer::Watch, 1);
        judge_watch(&mut r, lines.as_bytes(), &spec());
        assert!(r.detected);
        assert_eq!(r.codes, vec!["event:dns"]);
        // Exit 0 (nothing blocked) is a miss even if the name was seen.
        let mut r = blank(Layer::Watch, 0);
        judge_watch(&mut r, lines.as_bytes(), &spec());
        assert!(!r.detected);
        // Another drill's domain is not this one.
        let other = ev("x.ffffffff.drill.invalid", "deny");
        let mut r = blank(Layer::Watch, 1);
        judge_watch(&mut r, other.as_bytes(), &spec());
        assert!(!r.detected);
    }

    fn fixed_report() -> DrillReport {
        let at = OffsetDateTime::from_unix_timestamp(1_796_652_000).unwrap();
        let layer = |layer, detected: bool, ttd: Option<f64>, codes: &[&str]| LayerResult {
            layer,
            detected,
            codes: codes.iter().map(|c| c.to_string()).collect(),
            ttd_seconds: ttd,
            run_seconds: 0.4,
            exit_code: if detected { 1 } else { 0 },
            required: layer == Layer::Gate,
            error: None,
        };
        DrillReport {
            id: "b9a64d8b".into(),
            registry: "http://127.0.0.1:42121/".into(),
            local_registry: true,
            started_at: at,
            finished_at: at + time::Duration::seconds(40),
            work_dir: None,
            scenarios: vec![
                ScenarioResult {
                    scenario: Scenario::Seed,
                    package: "drill-b9a64d8b-seed-sanitizer".into(),
                    from: "1.0.0".into(),
                    to: "1.0.1".into(),
                    published_at: at,
                    marker_on_host: false,
                    layers: vec![
                        layer(Layer::Gate, true, Some(13.1), &["new-install-script"]),
                        layer(Layer::Watch, true, Some(14.8), &["event:dns"]),
                    ],
                },
                ScenarioResult {
                    scenario: Scenario::Runtime,
                    package: "drill-b9a64d8b-runtime-sanitizer".into(),
                    from: "1.0.0".into(),
                    to: "1.0.1".into(),
                    published_at: at,
                    marker_on_host: false,
                    layers: vec![
                        layer(Layer::Gate, true, Some(13.6), &["exfiltration-shape"]),
                        layer(Layer::Watch, false, None, &[]),
                    ],
                },
            ],
        }
    }

    #[test]
    fn human_and_json_reports() {
        let r = fixed_report();
        insta::assert_snapshot!("drill_human", r.to_human());
        insta::assert_json_snapshot!("drill_json", r);
        let back: DrillReport = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn samples_carry_scenario_and_layer_and_misses_have_none() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let mut hit = blank(Layer::Gate, 1);
        hit.detected = true;
        hit.ttd_seconds = Some(12.5);
        let miss = blank(Layer::Watch, 0);
        let report = DrillReport {
            id: "ab12cd34".into(),
            registry: "http://127.0.0.1:1/".into(),
            local_registry: true,
            started_at: at,
            finished_at: at,
            work_dir: None,
            scenarios: vec![ScenarioResult {
                scenario: Scenario::Seed,
                package: "drill-ab12cd34-seed-sanitizer".into(),
                from: "1.0.0".into(),
                to: "1.0.1".into(),
                published_at: at,
                marker_on_host: false,
                layers: vec![hit, miss],
            }],
        };
        let samples = report.samples();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].metric, "time-to-detect");
        assert_eq!(samples[0].value, 12.5);
        assert_eq!(samples[0].detail["scenario"], "seed");
        assert_eq!(samples[0].detail["layer"], "gate");
        assert_eq!(
            report.missed_required(),
            vec![(Scenario::Seed, Layer::Watch)]
        );
        let human = report.to_human();
        assert!(human.contains("MISSED (required)") && human.contains("TTD 12.5 s"));
    }
}
