//! `turncoat recon`: what an attacker learns about a project's maintainers from git history
//! (exposed identities, secrets and publish tokens), plus the sections of [`super::recon_breach`]
//! (`--pwned`, `--published`, `--lockfile`) and its `recon passwords` subcommand. The work is
//! `turncoat-recon`'s; this file only parses arguments, finds repositories, loads the baseline
//! and the policy, and writes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use turncoat_recon::baseline::{BASELINE_PATH, Baseline};
use turncoat_recon::history::{self, ScanOptions};
use turncoat_recon::report::{self, ReconReport};

use super::recon_breach::{self, BreachArgs, ReconCommand};
use crate::Outcome;
use crate::output::ReportFormat;
use crate::settings::Context;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReconArgs {
    #[command(subcommand)]
    pub command: Option<ReconCommand>,
    /// Git repositories, or directories walked for repositories (default: the current directory).
    #[arg(value_name = "REPO_OR_DIR")]
    pub paths: Vec<PathBuf>,
    /// Only commits made on or after this date (YYYY-MM-DD, or an RFC 3339 time).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Write the report to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Baseline of reviewed findings (default: .turncoat/recon-baseline.json in each repository).
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// Write every current finding's fingerprint to PATH (a baseline) and exit 0.
    #[arg(long, value_name = "PATH")]
    pub write_baseline: Option<PathBuf>,
    /// Policy file for finding levels (default: turncoat.toml here, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Blobs larger than this many bytes are reported as not scanned instead of being read.
    #[arg(long, value_name = "BYTES", default_value_t = ScanOptions::default().max_blob_bytes)]
    pub max_blob_size: u64,
    /// Identities only: do not read blobs for secrets.
    #[arg(long)]
    pub no_secrets: bool,
    /// People listed per repository in the human report.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_people: usize,
    /// Also show findings the policy allows.
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub breach: BreachArgs,
    #[command(flatten)]
    pub record: super::metrics::RecordArgs,
}

pub fn run(args: ReconArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if let Some(ReconCommand::Passwords(p)) = args.command {
        return recon_breach::run_passwords(p, ctx);
    }
    let since =
        match &args.since {
            Some(s) => Some(history::parse_since(s).with_context(|| {
                format!("--since {s:?}: expected YYYY-MM-DD or an RFC 3339 time")
            })?),
            None => None,
        };
    let opts = ScanOptions {
        since,
        max_blob_bytes: args.max_blob_size,
        secrets: !args.no_secrets,
    };
    let repos = repositories(&args.paths, args.breach.any())?;
    let policy = super::load_policy(args.policy.as_deref(), Path::new("."))?;
    let explicit = match &args.baseline {
        Some(p) => Some(
            read_baseline(p)?
                .with_context(|| format!("baseline {} does not exist", p.display()))?,
        ),
        None => None,
    };
    let progress = |msg: &str| {
        if !ctx.quiet {
            crate::output::note(ctx, &format!("recon: {msg}"));
        }
    };
    let level = |code: &str| policy.level(code);
    let mut reports = Vec::with_capacity(repos.len());
    for (i, repo) in repos.iter().enumerate() {
        if repos.len() > 1 {
            progress(&format!("[{}/{}] {}", i + 1, repos.len(), repo.display()));
        }
        let started = Instant::now();
        let facts = history::scan_repo(repo, &opts, &progress)?;
        progress(&format!(
            "{}: {} commits, {} blobs ({:.1} MB) in {:.2} s",
            repo.display(),
            facts.commits.len(),
            facts.blobs_scanned,
            facts.bytes_scanned as f64 / 1e6,
            started.elapsed().as_secs_f64()
        ));
        let own;
        let baseline = match &explicit {
            Some(b) => b,
            None => {
                own = read_baseline(&repo.join(BASELINE_PATH))?.unwrap_or_default();
                &own
            }
        };
        reports.push(report::judge(&facts, &level, baseline));
    }
    let report = ReconReport::new(reports);
    let at = time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    super::metrics::record(
        ctx,
        &args.record,
        policy.record_metrics,
        &report.samples(at),
    )?;
    if let Some(path) = &args.write_baseline {
        let b = Baseline::of(report.findings().map(|f| f.fingerprint.clone()));
        std::fs::write(path, b.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
        progress(&format!(
            "wrote {} fingerprints to {}",
            b.fingerprints.len(),
            path.display()
        ));
        return Ok(Outcome::Pass);
    }
    let mut violation = report.violation();
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let ex = if args.breach.any() {
        let emails = report
            .repositories
            .iter()
            .flat_map(|r| &r.people)
            .flat_map(|p| &p.emails)
            .map(|e| e.email.to_ascii_lowercase())
            .collect();
        let ex = recon_breach::extras(&paths, emails, &args.breach, &level, ctx)?;
        violation |= ex.violation;
        Some(ex)
    } else {
        None
    };
    // Project directories without history: only the sections asked for.
    let history = !report.repositories.is_empty() || ex.is_none();
    let rules = turncoat_recon::rules();
    let text = match (args.format, &ex) {
        (ReportFormat::Human, None) => report::render_human(&report, args.max_people, args.verbose),
        (ReportFormat::Human, Some(ex)) if history => format!(
            "{}\n{}",
            report::render_human(&report, args.max_people, args.verbose),
            ex.human
        ),
        (ReportFormat::Human, Some(ex)) => ex.human.clone(),
        (ReportFormat::Json, None) => report::render_json(&report),
        (ReportFormat::Json, Some(ex)) => {
            let mut v: serde_json::Value = serde_json::from_str(&report::render_json(&report))?;
            v["exposure"] = ex.json.clone();
            format!("{v:#}\n")
        }
        (ReportFormat::Sarif, None) => report::render_sarif(&report, &rules),
        (ReportFormat::Sarif, Some(ex)) => {
            let scanned = paths[0].display().to_string();
            report::render_sarif_with(&report, &ex.exposure.findings(&scanned), &rules)
        }
        (ReportFormat::Markdown, None) => report::render_markdown(&report),
        (ReportFormat::Markdown, Some(ex)) => {
            let sections = turncoat_recon::exposure::render_markdown(&ex.exposure, args.breach.top);
            if history {
                report::render_markdown(&report) + &sections
            } else {
                format!("## turncoat recon\n{sections}")
            }
        }
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if violation {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}

/// Every repository at or below the given paths, each once. With `project_dirs` (the breach
/// sections work on project directories too), a path that holds no repository adds none.
fn repositories(paths: &[PathBuf], project_dirs: bool) -> anyhow::Result<Vec<PathBuf>> {
    let given = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for p in &given {
        let found = match turncoat_recon::discover::repositories(p) {
            Err(turncoat_recon::Error::NotARepository(_)) if project_dirs => continue,
            other => other?,
        };
        for r in found {
            let key = std::fs::canonicalize(&r).unwrap_or_else(|_| r.clone());
            if !out
                .iter()
                .any(|o| std::fs::canonicalize(o).unwrap_or_else(|_| o.clone()) == key)
            {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// A baseline file, `None` when it does not exist; a file that exists but does not parse
/// is an error (a broken baseline must not silently un-silence, or silence, anything).
fn read_baseline(path: &Path) -> anyhow::Result<Option<Baseline>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(Some(Baseline::parse(&text, &path.display().to_string())?))
}
