//! `turncoat metrics`: the latest value of every metric in the store, per scope, against
//! its target.

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use super::index::{DatabaseArgs, Format};
use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
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
