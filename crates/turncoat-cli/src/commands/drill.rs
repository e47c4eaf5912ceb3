//! `turncoat drill`: publish harmless canary takeovers to a real private registry, let a
//! Dependabot-style commit pick them up, run every defence layer as CI would, and report
//! Time To Detect. The work is in `turncoat-exercise`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use turncoat_exercise::{DrillConfig, Layer, Scenario};

use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DrillFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Publish to this registry (the token comes from --npmrc, never printed) instead of
    /// starting a local Verdaccio on 127.0.0.1.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// The .npmrc holding the --registry token (default: ~/.npmrc).
    #[arg(long, value_name = "FILE", requires = "registry")]
    pub npmrc: Option<PathBuf>,
    /// Drill an existing private package of the team: each canary is the next patch of its
    /// `latest` on the registry, published under the `turncoat-drill` dist-tag (so `latest`
    /// does not move). A public registry host is refused. Default: generated
    /// `drill-<id>-…` packages.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// A git repository to drill on (cloned; the original is never modified). Default: a
    /// generated app.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Scenario to run (repeatable): seed, runtime, new-dependency, binary. Default: all.
    #[arg(long = "scenario", value_name = "NAME", value_parser = parse_scenario)]
    pub scenarios: Vec<Scenario>,
    /// Layer to run (repeatable): gate, gate-detonate, watch. Default: all.
    #[arg(long = "layer", value_name = "NAME", value_parser = parse_layer)]
    pub layers: Vec<Layer>,
    /// A layer that must detect every scenario, else exit 1 (repeatable). Default: gate.
    #[arg(long = "must-detect", value_name = "LAYER", value_parser = parse_layer)]
    pub must_detect: Vec<Layer>,
    /// A domain you own for the payloads' DNS names and HTTPS host (`<id>.DOMAIN`); default
    /// `<id>.drill.invalid`, which never resolves.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Time limit per layer run, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub layer_timeout: u64,
    #[command(flatten)]
    pub record: super::metrics::RecordArgs,
    /// Also append the time-to-detect samples to this JSON Lines file (an export
    /// `turncoat report --html --samples FILE` reads).
    #[arg(long, value_name = "FILE")]
    pub samples_out: Option<PathBuf>,
    /// Keep the drill's temp dir (registry storage, apps, events) and print its path.
    #[arg(long)]
    pub keep: bool,
    #[arg(long, value_enum, default_value_t = DrillFormat::Human)]
    pub format: DrillFormat,
    /// Write the result to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    Scenario::parse(s)
        .ok_or_else(|| format!("unknown scenario `{s}` (seed, runtime, new-dependency, binary)"))
}

fn parse_layer(s: &str) -> Result<Layer, String> {
    Layer::parse(s).ok_or_else(|| format!("unknown layer `{s}` (gate, gate-detonate, watch)"))
}

pub fn run(args: DrillArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let exe = std::env::current_exe().context("cannot find the turncoat executable")?;
    let mut cfg = DrillConfig::new(exe);
    if !args.scenarios.is_empty() {
        cfg.scenarios = args.scenarios.clone();
    }
    if !args.layers.is_empty() {
        cfg.layers = args.layers.clone();
    }
    if !args.must_detect.is_empty() {
        cfg.must_detect = args.must_detect.clone();
    }
    cfg.layer_timeout = std::time::Duration::from_secs(args.layer_timeout.max(1));
    cfg.keep = args.keep;
    cfg.project = args.project.clone();
    cfg.domain = args.domain.clone();
    if let Some(name) = &args.package {
        turncoat_npm::PackageName::new(name)
            .map_err(|e| anyhow::anyhow!("--package {name:?}: {e}"))?;
        cfg.package = Some(name.clone());
    }
    if let Some(url) = &args.registry {
        let npmrc = match &args.npmrc {
            Some(p) => p.clone(),
            None => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".npmrc"))
                .context("no --npmrc and no HOME")?,
        };
        // Before anything is started or read: a drill never publishes to a public registry.
        turncoat_exercise::registry::check_not_public(url)?;
        cfg.registry = Some((url.clone(), npmrc));
    }
    if !ctx.quiet {
        crate::output::note(
            ctx,
            &format!(
                "drill: {} scenario(s) × {} layer(s); this takes about a minute",
                cfg.scenarios.len(),
                cfg.layers.len()
            ),
        );
    }
    // `[metrics] record = true` in turncoat.toml here (or the --project's) records like --record.
    let policy_dir = args.project.clone().unwrap_or_else(|| PathBuf::from("."));
    let record_policy = super::load_policy(None, &policy_dir)?.record_metrics;
    let report = turncoat_exercise::run(&cfg)?;
    if let Some(path) = &args.samples_out {
        super::report_html::append_samples(path, &report.samples())?;
    }
    super::metrics::record(ctx, &args.record, record_policy, &report.samples())?;
    let text = match args.format {
        DrillFormat::Human => report.to_human(),
        DrillFormat::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["metrics"] = serde_json::to_value(report.samples())?;
            format!("{}\n", serde_json::to_string_pretty(&v)?)
        }
    };
    crate::output::emit(&text, args.output.as_deref())?;
    if report.scenarios.iter().any(|s| s.marker_on_host) {
        anyhow::bail!(
            "the canary's marker appeared on the host: package code ran outside the sandbox"
        );
    }
    Ok(if report.missed_required().is_empty() {
        Outcome::Pass
    } else {
        Outcome::Violation
    })
}
