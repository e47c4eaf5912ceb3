//! `turncoat fortify [REPO]`: the publish-path audit of a repository's workflows and its signed
//! commits and tags.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::Outcome;
use crate::output::ReportFormat;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct FortifyArgs {
    /// Repository directory (its .github/workflows and .gitlab-ci.yml are read).
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
    /// Verify SSH signatures against this OpenSSH allowed_signers file.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// Verify OpenPGP signatures against this keyring (armored or binary public keys).
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
    /// Do not read the git history (workflows only).
    #[arg(long)]
    pub no_history: bool,
    #[command(flatten)]
    pub record: super::metrics::RecordArgs,
}

/// Read a keys file, bounded.
fn read_keys_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = Vec::new();
    f.take(turncoat_posture::signing::keys::MAX_KEYS_FILE + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() as u64 > turncoat_posture::signing::keys::MAX_KEYS_FILE {
        anyhow::bail!(
            "{} is larger than {} bytes",
            path.display(),
            turncoat_posture::signing::keys::MAX_KEYS_FILE
        );
    }
    Ok(buf)
}

fn load_keys(args: &FortifyArgs) -> anyhow::Result<turncoat_posture::signing::Keys> {
    use turncoat_posture::signing::keys;
    let mut out = keys::Keys::default();
    if let Some(p) = &args.allowed_signers {
        let bytes = read_keys_file(p)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", p.display()))?;
        out.ssh = Some(keys::parse_allowed_signers(
            &p.display().to_string(),
            &text,
        )?);
    }
    if let Some(p) = &args.keyring {
        let bytes = read_keys_file(p)?;
        out.openpgp = Some(keys::parse_keyring(&p.display().to_string(), &bytes)?);
    }
    Ok(out)
}

pub fn run(args: FortifyArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if !args.repo.is_dir() {
        anyhow::bail!("{} is not a directory", args.repo.display());
    }
    let policy = super::load_policy(args.policy.as_deref(), &args.repo)?;
    let limits = turncoat_posture::yaml::Limits::default();
    let (repo, skipped) = turncoat_posture::load_repo(&args.repo, &limits)
        .with_context(|| format!("cannot audit the workflows of {}", args.repo.display()))?;
    let keys = load_keys(&args)?;
    let findings = turncoat_posture::audit(&repo);
    let mut report = turncoat_posture::report::Report::new(
        &args.repo.display().to_string(),
        &repo,
        skipped,
        findings,
        |code| policy.level(code),
    );
    if !args.no_history {
        let limits = turncoat_posture::signing::Limits::default();
        report = match turncoat_posture::signing::read_history(&args.repo, &keys, &limits) {
            Ok(history) => report.with_signing(&history, |code| policy.level(code)),
            // Keys were given to verify with: a history we cannot read is an error, not a pass.
            Err(e) if keys.any() => return Err(e).context("cannot verify signatures"),
            Err(e) => report.without_signing(e.to_string()),
        };
    }
    report.metrics = report.samples(
        time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
    );
    super::metrics::record(ctx, &args.record, policy.record_metrics, &report.metrics)?;
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
