//! `turncoat report --html OUT.html`: the metrics dashboard, one self-contained page.
//!
//! Samples come from the metrics store (`--database`, the same default as `turncoat
//! metrics`), or from a JSON Lines export (`--samples FILE`, e.g. `drill --samples-out`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use turncoat_metrics::Sample;

use crate::Outcome;
use crate::settings::Context;

/// The largest samples file read (a store export, not a log).
const MAX_SAMPLES_BYTES: u64 = 64 << 20;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the dashboard page here.
    #[arg(long, value_name = "OUT.html")]
    pub html: PathBuf,
    /// Read the samples from this JSON Lines file instead of the store (a missing file is an
    /// empty store).
    #[arg(long, value_name = "FILE")]
    pub samples: Option<PathBuf>,
    #[command(flatten)]
    pub db: super::index::DatabaseArgs,
}

pub fn run(args: ReportArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let (samples, incidents) = match &args.samples {
        Some(path) => (read_samples(path)?, Vec::new()),
        None => {
            let mut store = args.db.open(ctx)?;
            let at = store.location().display().to_string();
            let samples = store
                .samples(&turncoat_store::SampleFilter::default())
                .with_context(|| format!("cannot read metrics from {at}"))?;
            let incidents = store
                .incidents()
                .with_context(|| format!("cannot read incidents from {at}"))?
                .into_iter()
                .map(|i| turncoat_exercise::dashboard::IncidentRow {
                    items_total: i.items.len(),
                    items_checked: i.items.iter().filter(|x| x.checked_at.is_some()).count(),
                    id: i.id,
                    spec: i.spec,
                    opened_at: i.opened_at,
                    closed_at: i.closed_at,
                    forced: i.forced,
                })
                .collect();
            (samples, incidents)
        }
    };
    let now = time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let page = turncoat_exercise::dashboard::render_with(&samples, &incidents, now);
    std::fs::write(&args.html, page)
        .with_context(|| format!("cannot write {}", args.html.display()))?;
    if !ctx.quiet {
        crate::output::note(
            ctx,
            &format!(
                "wrote {} ({} sample(s){})",
                args.html.display(),
                samples.len(),
                if samples.is_empty() {
                    "; the page says how to record some"
                } else {
                    ""
                }
            ),
        );
    }
    Ok(Outcome::Pass)
}

fn read_samples(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if meta.len() > MAX_SAMPLES_BYTES {
        anyhow::bail!(
            "{} is larger than {} MiB",
            path.display(),
            MAX_SAMPLES_BYTES >> 20
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    turncoat_exercise::dashboard::read_jsonl(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Append samples as JSON Lines (the file is created if missing).
pub fn append_samples(path: &Path, samples: &[Sample]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut text = String::new();
    for s in samples {
        text.push_str(&serde_json::to_string(s)?);
        text.push('\n');
    }
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
