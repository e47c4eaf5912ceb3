//! The `turncoat` command line: argument parsing, colours, stdout and exit codes live here
//! and only here. Exit codes: 0 pass, 1 policy violation, 2 tool error.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod commands;
mod output;
mod progress;
mod settings;

/// Stop trojanized dependency updates published from hijacked maintainer accounts.
///
/// turncoat judges every dependency update relative to the package's own history: what the new
/// version can do that the old one could not, and how it was published.
#[derive(Debug, Parser)]
#[command(
    name = "turncoat",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// When to use colours on stdout and stderr.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Cache directory (default: $TURNCOAT_CACHE_DIR, else $XDG_CACHE_HOME/turncoat, else ~/.cache/turncoat).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<std::path::PathBuf>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge every dependency update between two lockfiles (the gate).
    Diff(commands::diff::DiffArgs),
    /// Judge single versions without history: a lockfile, a project, a .tgz or name@version.
    Scan(commands::scan::ScanArgs),
    /// Verify registry signatures and Sigstore provenance of every locked package, offline.
    Verify(commands::verify::VerifyArgs),
    /// Read lockfiles: list what is locked, lint how it is locked.
    #[command(subcommand)]
    Lockfile(commands::lockfile::LockfileCommand),
    /// Print the documentation of a finding code.
    Explain(commands::explain::ExplainArgs),
    /// Show or clean the download cache.
    #[command(subcommand)]
    Cache(commands::cache::CacheCommand),
    /// Run the gate on the bundled, offline seed scenario (a trojanized patch release).
    Demo(commands::demo::DemoArgs),
    /// Run a command (npm ci, a build step) in a recording, blocking sandbox.
    Watch(commands::watch::WatchArgs),
    /// Audit the publish path of a repository's GitHub Actions workflows and its signed commits and tags.
    Fortify(commands::fortify::FortifyArgs),
    /// Who can publish the team's packages (roster vs npm and PyPI) and how their accounts are protected.
    Evaluate(Box<commands::evaluate::EvaluateArgs>),
    /// What an attacker learns about your maintainers from git history: exposed identities, secrets, publish tokens.
    Recon(Box<commands::recon::ReconArgs>),
    /// Write the install policy (cooldown, exclusions, approved scripts) into every package manager's settings.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Install with scripts off in the blocking sandbox, then run only the approved (version- and integrity-pinned) install scripts, each sandboxed.
    Install(commands::install::InstallArgs),
    /// Rehearse a takeover: publish canary releases to a private registry and time each defence layer.
    Drill(Box<commands::drill::DrillArgs>),
    /// Write the battlecard metrics dashboard: one self-contained HTML page.
    Report(commands::report_html::ReportArgs),
    /// The lockfile index: which repositories, branches and lockfiles lock which package versions.
    #[command(subcommand)]
    Index(commands::index::IndexCommand),
    /// From "pkg@ver is malicious" to scope, executions, secrets to rotate and a playbook.
    #[command(subcommand)]
    Incident(commands::incident::IncidentCommand),
    /// The latest value of every recorded metric against its target.
    Metrics(commands::metrics::MetricsArgs),
    /// Follow the registry for locked and own packages; alert on new versions (with the gate's verdict), maintainer, publisher and provenance changes, and takeovers.
    Monitor(Box<commands::monitor::MonitorArgs>),
}

/// What a command returns: pass or policy violation. Tool errors are `Err`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Violation,
    /// Pass through a wrapped command's own non-zero exit code (`watch`).
    Code(u8),
}

fn main() -> ExitCode {
    // `turncoat watch` re-executes this binary as the sandbox init: that must happen before
    // anything else (no threads, no argument parsing).
    if let Some(code) = turncoat_sandbox::init_main_if_requested() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let cli = Cli::parse();
    let ctx = settings::Context::new(&cli.global);
    let result = match cli.command {
        Command::Diff(args) => commands::diff::run(args, &ctx),
        Command::Scan(args) => commands::scan::run(args, &ctx),
        Command::Verify(args) => commands::verify::run(args, &ctx),
        Command::Lockfile(cmd) => commands::lockfile::run(cmd, &ctx),
        Command::Explain(args) => commands::explain::run(args, &ctx),
        Command::Cache(cmd) => commands::cache::run(cmd, &ctx),
        Command::Demo(args) => commands::demo::run(args, &ctx),
        Command::Watch(args) => commands::watch::run(args, &ctx),
        Command::Fortify(args) => commands::fortify::run(args, &ctx),
        Command::Evaluate(args) => commands::evaluate::run(*args, &ctx),
        Command::Recon(args) => commands::recon::run(*args, &ctx),
        Command::Policy(cmd) => commands::policy::run(cmd, &ctx),
        Command::Install(args) => commands::install::run(args, &ctx),
        Command::Drill(args) => commands::drill::run(*args, &ctx),
        Command::Report(args) => commands::report_html::run(args, &ctx),
        Command::Index(cmd) => commands::index::run(cmd, &ctx),
        Command::Incident(cmd) => commands::incident::run(cmd, &ctx),
        Command::Metrics(args) => commands::metrics::run(args, &ctx),
        Command::Monitor(args) => commands::monitor::run(*args, &ctx),
    };
    match result {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::Violation) => ExitCode::from(1),
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Err(err) => {
            output::error(&ctx, &err);
            ExitCode::from(2)
        }
    }
}
