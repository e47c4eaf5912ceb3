//! One module per command. Each `run` returns an [`crate::Outcome`] or a tool error.

pub mod cache;
pub mod demo;
pub mod diff;
pub mod drill;
pub mod evaluate;
pub mod explain;
pub mod fortify;
pub mod incident;
pub mod index;
pub mod install;
pub mod lockfile;
pub mod metrics;
pub mod monitor;
pub mod monitor_alerts;
pub mod policy;
pub mod recon;
pub mod report_html;
pub mod scan;
pub mod verify;
pub mod verify_py;
pub mod watch;
// `turncoat recon` breach checks, passwords, published identities, maintainers.
pub mod recon_breach;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::output::ReportFormat;
use crate::settings::Context;

/// Options shared by the commands that fetch packages and apply the policy.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// Registry URL (https:// or a file:// directory registry); overrides .npmrc and the default.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Python package index (simple API root, https:// or a file:// directory index) for
    /// Python lockfiles; default: PIP_INDEX_URL / uv settings / pip.conf, else PyPI.
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Use only the cache; a missing document or tarball is an error.
    #[arg(long)]
    pub offline: bool,
    /// Policy file (default: turncoat.toml beside the lockfile or in the current directory, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Sigstore trusted_root.json instead of the embedded one (provenance and PEP 740).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Write the report to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the SARIF report to this file, from the same run (CI wants both a comment
    /// and code scanning without judging, downloading or detonating everything twice).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Analysis threads (default: all cores).
    #[arg(long, short, value_name = "N", default_value_t = 0)]
    pub jobs: usize,
    /// Also show findings the policy allows.
    #[arg(long, short)]
    pub verbose: bool,
    /// `--record`: the run's `gate-alerts` (findings by code) go to the metrics store.
    #[command(flatten)]
    pub record: metrics::RecordArgs,
}

/// Render and write the gate's report (and record its `gate-alerts` when asked); a blocked
/// update is a policy violation. `project` names the scope the alerts are recorded under.
pub fn finish(
    report: &turncoat_report::Report,
    args: &GateArgs,
    ctx: &Context,
    policy: &turncoat_policy::Policy,
    project: &Path,
) -> anyhow::Result<crate::Outcome> {
    let at = time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let scope = turncoat_incident::index::repo_key(project);
    let samples = turncoat_report::metrics::samples(report, at, &scope);
    let text = crate::output::render_report(
        report,
        args.format,
        ctx,
        args.output.is_some(),
        args.verbose,
    );
    crate::output::emit(&text, args.output.as_deref())?;
    if let Some(path) = &args.sarif {
        let sarif = crate::output::render_report(
            report,
            crate::output::ReportFormat::Sarif,
            ctx,
            true,
            args.verbose,
        );
        crate::output::emit(&sarif, Some(path))?;
    }
    // After the report is out: a store that cannot be written must not hide the verdict.
    metrics::record(ctx, &args.record, policy.record_metrics, &samples)?;
    Ok(if report.blocked() {
        crate::Outcome::Violation
    } else {
        crate::Outcome::Pass
    })
}

/// `--trusted-root FILE`, else the embedded Sigstore trust root.
pub fn trust_root(path: Option<&Path>) -> anyhow::Result<turncoat_attest::TrustRoot> {
    match path {
        Some(p) => turncoat_attest::TrustRoot::from_json(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("invalid trusted root {}", p.display())),
        None => Ok(turncoat_attest::TrustRoot::embedded()),
    }
}

/// What `diff` and `scan` need to run the gate: policy, registry client, keys, trust root.
pub struct GateEnv {
    pub policy: turncoat_policy::Policy,
    pub client: turncoat_registry::Client,
    pub keys: turncoat_attest::Keys,
    pub root: turncoat_attest::TrustRoot,
    pub bar: crate::progress::Bar,
}

impl GateEnv {
    pub fn new(ctx: &Context, args: &GateArgs, project: &Path) -> anyhow::Result<GateEnv> {
        Ok(GateEnv {
            policy: load_policy(args.policy.as_deref(), project)?,
            client: client(ctx, project, args.registry.as_deref(), args.offline)?,
            keys: turncoat_attest::Keys::embedded().context("embedded npm registry keys")?,
            root: trust_root(args.trusted_root.as_deref())?,
            bar: crate::progress::Bar::new(ctx.progress),
        })
    }

    pub fn context<'a>(&'a self, ctx: &Context, jobs: usize) -> turncoat_gate::GateContext<'a> {
        turncoat_gate::GateContext {
            client: &self.client,
            policy: &self.policy,
            now_unix: ctx.now_unix(),
            keys: &self.keys,
            trust_root: &self.root,
            progress: &self.bar,
            jobs,
            detonator: None,
        }
    }
}

/// Load the policy: explicit file, else `turncoat.toml` in `project_dir` or the current
/// directory, else built-in.
pub fn load_policy(
    explicit: Option<&Path>,
    project_dir: &Path,
) -> anyhow::Result<turncoat_policy::Policy> {
    let rules = turncoat_gate::all_rules();
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => [
            project_dir.join("turncoat.toml"),
            PathBuf::from("turncoat.toml"),
        ]
        .into_iter()
        .find(|p| p.is_file()),
    };
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read policy {}", p.display()))?;
            Ok(turncoat_policy::Policy::parse(
                &text,
                &p.display().to_string(),
                &rules,
            )?)
        }
        None => Ok(turncoat_policy::Policy::builtin(&rules)),
    }
}

/// The registry client for a project directory.
pub fn client(
    ctx: &Context,
    project_dir: &Path,
    registry: Option<&str>,
    offline: bool,
) -> anyhow::Result<turncoat_registry::Client> {
    let config = turncoat_registry::RegistryConfig::load(project_dir, registry)?;
    let cache = cache(ctx)?;
    let options = turncoat_registry::ClientOptions {
        offline,
        ..Default::default()
    };
    Ok(turncoat_registry::Client::new(config, cache, options)?)
}

/// The cache: `--cache-dir`, else `$TURNCOAT_CACHE_DIR`, `$XDG_CACHE_HOME/turncoat`, `~/.cache/turncoat`.
pub fn cache(ctx: &Context) -> anyhow::Result<turncoat_registry::Cache> {
    turncoat_registry::Cache::from_env(ctx.cache_dir.as_deref())
        .context("no cache directory: HOME is not set; pass --cache-dir or set TURNCOAT_CACHE_DIR")
}

/// The directory a lockfile path or project path stands for.
pub fn project_dir_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

/// One lockfile from a path that may be a lockfile or a project directory with exactly one.
pub fn single_lockfile(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let found = turncoat_lockfile::discover(path)?;
    match found.len() {
        0 => anyhow::bail!(
            "no lockfile found in {} (looked for package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock)",
            path.display()
        ),
        1 => Ok(found[0].clone()),
        _ => anyhow::bail!(
            "{} has several lockfiles ({}); name one",
            path.display(),
            found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Parse an npm lockfile from disk for the gate (`diff`, `scan`, `verify`).
pub fn read_lockfile(path: &Path) -> anyhow::Result<turncoat_lockfile::Lockfile> {
    npm_only(turncoat_lockfile::read(path)?)
}

/// Parse any lockfile, npm or PyPI (`lockfile list|lint`).
pub fn read_any_lockfile(path: &Path) -> anyhow::Result<turncoat_lockfile::Lockfile> {
    Ok(turncoat_lockfile::read(path)?)
}

/// The gate judges npm updates only so far: a PyPI lockfile is an error, never an npm
/// lookup of Python names.
pub fn npm_only(lock: turncoat_lockfile::Lockfile) -> anyhow::Result<turncoat_lockfile::Lockfile> {
    if lock.ecosystem != turncoat_lockfile::Ecosystem::Npm {
        anyhow::bail!(
            "{}: a {} lockfile ({}); this command judges npm lockfiles only so far \
             (`turncoat lockfile list|lint` read Python lockfiles)",
            lock.path,
            lock.ecosystem,
            lock.format.id()
        );
    }
    Ok(lock)
}
