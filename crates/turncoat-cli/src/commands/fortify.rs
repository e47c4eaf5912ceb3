//! `turncoat fortify [REPO]`: the publish-path audit of a repository's workflows.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::Outcome;
use crate::output::ReportFormat;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct FortifyArgs {
    /// Repository directory (its .github/workflows is read).
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Write the report to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Policy file (default: turncoat.toml in REPO or the current directory, else built-in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Also show findings the policy allows.
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(args: FortifyArgs, _ctx: &Context) -> anyhow::Result<Outcome> {
    if !args.repo.is_dir() {
        anyhow::bail!("{} is not a directory", args.repo.display());
    }
    let policy = super::load_policy(args.policy.as_deref(), &args.repo)?;
    let limits = turncoat_posture::yaml::Limits::default();
    let (repo, skipped) = turncoat_posture::load_repo(&args.repo, &limits)
        .with_context(|| format!("cannot audit the workflows of {}", args.repo.display()))?;
    let findings = turncoat_posture::audit(&repo);
    let report = turncoat_posture::report::Report::new(
        &args.repo.display().to_string(),
        &repo,
        skipped,
        findings,
        |code| policy.level(code),
    );
    let text = match args.format {
        ReportFormat::Human => turncoat_posture::report::human(&report, args.verbose),
        ReportFormat::Json => turncoat_posture::report::json(&report),
        ReportFormat::Sarif => {
            turncoat_posture::report::sarif(&report, &turncoat_gate::all_rules())
        }
        ReportFormat::Markdown => turncoat_posture::report::markdown(&report),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if report.blocked() {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}
