//! `turncoat metrics`: the latest value of every metric in the store, per scope, against
//! its target; `turncoat metrics merge-times [REPO]...` measures the time-to-merge of
//! dependency-update merges from git history (definition: turncoat-posture `merges`).

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use super::index::{DatabaseArgs, Format};
use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub command: Option<MetricsCommand>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, clap::Subcommand)]
pub enum MetricsCommand {
    /// Time from a dependency-update branch's first commit to its merge, per repository, from
    /// the merges on HEAD's first-parent chain that change a lockfile.
    MergeTimes(MergeTimesArgs),
}

#[derive(Debug, Args)]
pub struct MergeTimesArgs {
    /// Git repositories (work trees or bare).
    #[arg(default_value = ".")]
    pub repos: Vec<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Policy file (for `[metrics] record`; default: turncoat.toml in the current directory).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub record: RecordArgs,
}

#[derive(Debug, Serialize)]
struct Row {
    metric: String,
    stage: Option<&'static str>,
    scope: String,
    value: f64,
    unit: Option<turncoat_metrics::Unit>,
    at: String,
    source: String,
    target: Option<f64>,
    /// None: no target, or a metric this turncoat does not know.
    meets_target: Option<bool>,
    detail: serde_json::Map<String, serde_json::Value>,
}

pub fn run(args: MetricsArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if let Some(MetricsCommand::MergeTimes(m)) = args.command {
        return merge_times(m, ctx);
    }
    let mut store = args.db.open(ctx)?;
    let rows: Vec<Row> = store
        .latest_samples()?
        .into_iter()
        .map(|s| {
            let def = s.def();
            Row {
                stage: def.map(|d| d.stage.as_str()),
                unit: def.map(|d| d.unit),
                target: def.and_then(|d| d.target),
                meets_target: def.and_then(|d| d.meets_target(s.value)),
                at: turncoat_incident::playbook::rfc3339(s.at.unix_timestamp()),
                metric: s.metric,
                scope: s.scope,
                value: s.value,
                source: s.source,
                detail: s.detail,
            }
        })
        .collect();
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "database": store.location().display(),
                "metrics": rows,
            }))? + "\n"
        }
        Format::Human if rows.is_empty() => format!(
            "no metric samples in {} yet: commands that measure (incident, recon, drill, ...) record them there\n",
            store.location().display()
        ),
        Format::Human => human(&rows),
    };
    crate::output::emit(&text, None)?;
    Ok(Outcome::Pass)
}

fn value(v: f64, unit: Option<turncoat_metrics::Unit>) -> String {
    use turncoat_metrics::Unit;
    match unit {
        Some(Unit::Percent) => format!("{v:.1}%"),
        Some(Unit::Seconds) if v >= 3600.0 => format!("{:.1}h", v / 3600.0),
        Some(Unit::Seconds) => format!("{v:.0}s"),
        _ => format!("{v}"),
    }
}

fn human(rows: &[Row]) -> String {
    let mut s = String::new();
    for r in rows {
        let target = match r.target {
            Some(t) => format!("target {}", value(t, r.unit)),
            None => "no target".into(),
        };
        let verdict = match r.meets_target {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "-",
        };
        s.push_str(&format!(
            "{:<10} {:<30} {:<28} {:>10}  {:<16} {:<8} {}\n",
            r.stage.unwrap_or("?"),
            r.metric,
            r.scope,
            value(r.value, r.unit),
            target,
            verdict,
            r.at
        ));
    }
    s
}

/// `--record` and the store, for every command that measures a battlecard metric.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// Record this run's battlecard metrics in the metrics store (read by `turncoat metrics`
    /// and `turncoat report --html`); `[metrics] record = true` in turncoat.toml does the same.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Store `samples` when `--record` (or the policy's `[metrics] record`) asks for it.
pub fn record(
    ctx: &Context,
    args: &RecordArgs,
    policy_says: bool,
    samples: &[turncoat_metrics::Sample],
) -> anyhow::Result<()> {
    if !(args.record || policy_says) {
        return Ok(());
    }
    let mut store = args.db.open(ctx)?;
    store
        .record(samples)
        .with_context(|| format!("cannot record metrics in {}", store.location().display()))?;
    if !ctx.quiet {
        crate::output::note(
            ctx,
            &format!(
                "recorded {} metric sample(s) in {}",
                samples.len(),
                store.location().display()
            ),
        );
    }
    Ok(())
}

fn merge_times(args: MergeTimesArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let policy = super::load_policy(args.policy.as_deref(), std::path::Path::new("."))?;
    let at = time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let limits = turncoat_posture::merges::MergeLimits::default();
    let mut all = Vec::new();
    let mut samples = Vec::new();
    for repo in &args.repos {
        let t = turncoat_posture::merges::merge_times(repo, &limits)
            .with_context(|| format!("cannot read the history of {}", repo.display()))?;
        samples.extend(t.samples(at));
        all.push(t);
    }
    let text = match args.format {
        Format::Json => {
            let repos: Vec<serde_json::Value> = all
                .iter()
                .map(|t| {
                    let mut v = serde_json::to_value(t).unwrap_or_default();
                    v["median_seconds"] = serde_json::json!(t.median());
                    v
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({
                "repos": repos,
                "metrics": samples,
            }))? + "\n"
        }
        Format::Human => merge_times_human(&all),
    };
    crate::output::emit(&text, None)?;
    record(ctx, &args.record, policy.record_metrics, &samples)?;
    Ok(Outcome::Pass)
}

fn merge_times_human(all: &[turncoat_posture::merges::MergeTimes]) -> String {
    let secs = |v: f64| value(v, Some(turncoat_metrics::Unit::Seconds));
    let mut s = String::new();
    for t in all {
        s.push_str(&format!(
            "{} ({}): {} merge(s) on the first-parent chain, {} changed a lockfile",
            t.repo,
            t.branch,
            t.merges_seen,
            t.merges.len() + t.skipped
        ));
        if t.skipped > 0 {
            s.push_str(&format!(" ({} not measurable)", t.skipped));
        }
        if t.truncated {
            s.push_str(" [walk limit reached]");
        }
        s.push('\n');
        match t.median() {
            Some(m) => {
                let min = t.merges.iter().map(|m| m.seconds).min().unwrap_or(0);
                let max = t.merges.iter().map(|m| m.seconds).max().unwrap_or(0);
                s.push_str(&format!(
                    "  time to merge: median {}, fastest {}, slowest {}\n",
                    secs(m),
                    secs(min as f64),
                    secs(max as f64)
                ));
                for m in t.merges.iter().rev().take(10) {
                    s.push_str(&format!(
                        "  {} {:>8}  {}{}\n",
                        &m.merge[..m.merge.len().min(12)],
                        secs(m.seconds as f64),
                        m.lockfiles.join(", "),
                        if m.bot { "  (bot)" } else { "" }
                    ));
                }
            }
            None => s.push_str("  no dependency-update merge to measure\n"),
        }
    }
    s
}
