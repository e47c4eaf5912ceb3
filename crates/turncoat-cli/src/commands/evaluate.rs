//! `turncoat evaluate`: who can publish the team's packages and how each account is protected.
//! The roster against npm packument `maintainers` (the registry client, `.npmrc`, cache and
//! `--offline` as in every command) and PyPI JSON `ownership` (turncoat-recon's bounded PyPI
//! client); the judging is turncoat-posture's `evaluate`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use turncoat_posture::evaluate::roster::{self, Ecosystem, Roster};
use turncoat_posture::evaluate::{self, PackageFacts};

use crate::Outcome;
use crate::settings::Context;

const TIMEOUT: Duration = Duration::from_secs(30);

const NO_PUBLISHERS: &str =
    "the registry lists no publishers (a mirror may strip them): who can publish is unknown";

/// Largest roster file read.
const MAX_ROSTER: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The roster (default: publishers.toml, else the [publishers] table of turncoat.toml, in the current directory).
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// npm registry URL; overrides .npmrc and the default.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Read npm's "require 2FA to publish" setting and the collaborators with the token in
    /// this environment variable (a token that may read the packages' settings; never printed).
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Join a `turncoat recon passwords --format json` report into the people table, for the
    /// roster person NAME (repeatable).
    #[arg(long, value_name = "NAME=FILE")]
    pub passwords: Vec<String>,
    /// PyPI base URL (a mirror or a test server).
    #[arg(long, value_name = "URL", default_value = turncoat_recon::published::PYPI_API)]
    pub pypi_url: String,
    /// Use only the cache for npm; PyPI is then not consulted (its packages are not judged).
    #[arg(long)]
    pub offline: bool,
    /// Policy file (default: turncoat.toml in the current directory, else built-in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also show findings the policy allows.
    #[arg(long, short)]
    pub verbose: bool,
    /// The soft-target table of a lockfile's dependencies instead of the roster.
    #[arg(long, value_name = "PATH")]
    pub lockfile: Option<PathBuf>,
    #[command(flatten)]
    pub record: super::metrics::RecordArgs,
}

/// `--lockfile`: one row per locked registry package (name, version), from its packument.
fn soft_targets(lock: &Path, args: &EvaluateArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    use std::collections::BTreeSet;
    use turncoat_posture::evaluate::soft;
    let path = super::single_lockfile(lock)?;
    let lockfile = super::read_lockfile(&path)?;
    let pairs: Vec<(String, String)> = lockfile
        .registry_packages()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names: Vec<String> = pairs
        .iter()
        .map(|(n, _)| n.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let client = super::client(
        ctx,
        &super::project_dir_of(&path),
        args.registry.as_deref(),
        args.offline,
    )?;
    let docs = client.fetch_many(&names, "packuments", |c, name| {
        let pn = turncoat_npm::PackageName::new(name).map_err(|e| e.to_string())?;
        c.packument(&pn).map_err(|e| e.to_string())
    });
    let by_name: std::collections::BTreeMap<&str, &Result<_, String>> =
        names.iter().map(String::as_str).zip(docs.iter()).collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let rows = pairs
        .iter()
        .map(|(name, version)| match by_name.get(name.as_str()) {
            Some(Ok(p)) => soft::row(p, name, version, now),
            Some(Err(e)) => soft::unread(name, version, e.clone()),
            None => soft::unread(name, version, "not fetched".into()),
        })
        .collect();
    let report = soft::report(&path.display().to_string(), rows);
    let text = match args.format {
        Format::Human => soft::human(&report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
    };
    crate::output::emit(&text, args.output.as_deref())?;
    // An inventory, not a gate: soft targets are shown, not failed on.
    Ok(Outcome::Pass)
}

fn read_bounded(path: &Path) -> anyhow::Result<String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = Vec::new();
    f.take(MAX_ROSTER + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() as u64 > MAX_ROSTER {
        anyhow::bail!("{} is larger than {MAX_ROSTER} bytes", path.display());
    }
    String::from_utf8(buf).map_err(|_| anyhow::anyhow!("{} is not UTF-8", path.display()))
}

/// The roster and the file it came from: `explicit`, else publishers.toml, else the
/// `[publishers]` table of turncoat.toml (also `turncoat monitor --own`'s roster).
pub(crate) fn load_roster(explicit: Option<&Path>) -> anyhow::Result<(Roster, String)> {
    if let Some(p) = explicit {
        let label = p.display().to_string();
        let text = read_bounded(p)?;
        // A turncoat.toml given as the roster: its [publishers] table.
        if p.file_name().is_some_and(|n| n == "turncoat.toml") {
            let r = roster::parse_in_policy(&label, &text)?
                .with_context(|| format!("{label} has no [publishers] table"))?;
            return Ok((r, label));
        }
        return Ok((roster::parse(&label, &text)?, label));
    }
    let own = Path::new("publishers.toml");
    if own.is_file() {
        return Ok((
            roster::parse("publishers.toml", &read_bounded(own)?)?,
            "publishers.toml".into(),
        ));
    }
    let policy = Path::new("turncoat.toml");
    if policy.is_file()
        && let Some(r) = roster::parse_in_policy("turncoat.toml", &read_bounded(policy)?)?
    {
        return Ok((r, "turncoat.toml".into()));
    }
    anyhow::bail!(
        "no roster: write publishers.toml (or a [publishers] table in turncoat.toml), or pass --roster FILE"
    )
}

fn npm_facts(client: &turncoat_registry::Client, name: &str) -> PackageFacts {
    let mut f = PackageFacts {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        publishers: Vec::new(),
        organization: None,
        // Readable only with a token allowed to read the package's access settings; not
        // asked (see docs/evaluate.md).
        publish_requires_2fa: None,
        mfa_level: None,
        collaborators: Vec::new(),
        settings_error: None,
        error: None,
    };
    let pn = match turncoat_npm::PackageName::new(name) {
        Ok(n) => n,
        Err(e) => {
            f.error = Some(e.to_string());
            return f;
        }
    };
    match client.packument(&pn) {
        Ok(p) => {
            let mut users: Vec<String> = p
                .maintainers
                .iter()
                .filter_map(|m| m.name.clone())
                .collect();
            users.sort();
            users.dedup();
            if users.is_empty() {
                // Every published package has a maintainer: an empty list is data withheld
                // (a mirror strips it), not "nobody can publish". Not judged.
                f.error = Some(NO_PUBLISHERS.into());
            }
            f.publishers = users;
        }
        Err(e) => f.error = Some(e.to_string()),
    }
    f
}

/// npm's token-only settings: the MFA level and the collaborators (those that can publish join
/// the publishers). A failure is kept in `settings_error`; the maintainers still count.
fn npm_settings(client: &turncoat_registry::Client, f: &mut PackageFacts) {
    use turncoat_posture::evaluate::npm_access;
    use turncoat_registry::PackageSettings;
    let Ok(pn) = turncoat_npm::PackageName::new(&f.name) else {
        return;
    };
    let read = |doc| match client.package_settings(&pn, doc) {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err("the registry does not have it (404)".to_string()),
        Err(e) => Err(e.to_string()),
    };
    let mut errors = Vec::new();
    match read(PackageSettings::Access).and_then(|b| npm_access::mfa_level(&b)) {
        Ok(level) => {
            f.mfa_level = level;
            f.publish_requires_2fa = level.map(npm_access::MfaLevel::requires_2fa);
        }
        Err(e) => errors.push(format!("access settings: {e}")),
    }
    match read(PackageSettings::Collaborators).and_then(|b| npm_access::collaborators(&b)) {
        Ok(c) => {
            for w in c.iter().filter(|c| c.can_publish() && !c.is_team()) {
                if !f.publishers.iter().any(|p| p.eq_ignore_ascii_case(&w.name)) {
                    f.publishers.push(w.name.clone());
                }
            }
            f.publishers.sort();
            f.collaborators = c;
        }
        Err(e) => errors.push(format!("collaborators: {e}")),
    }
    if !errors.is_empty() {
        f.settings_error = Some(errors.join("; "));
    }
}

/// The npm client; with `--token-env VAR`, the token is added for the registry (and sent to
/// it only).
fn npm_client(args: &EvaluateArgs, ctx: &Context) -> anyhow::Result<turncoat_registry::Client> {
    let Some(var) = &args.token_env else {
        return super::client(ctx, Path::new("."), args.registry.as_deref(), args.offline);
    };
    let token = std::env::var(var)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .with_context(|| format!("--token-env {var}: the variable is not set or empty"))?;
    let config = turncoat_registry::RegistryConfig::load(Path::new("."), args.registry.as_deref())?;
    let registry = config.registry().to_string();
    let config = config.with_token(&registry, token.trim())?;
    let options = turncoat_registry::ClientOptions {
        offline: args.offline,
        ..Default::default()
    };
    Ok(turncoat_registry::Client::new(
        config,
        super::cache(ctx)?,
        options,
    )?)
}

/// The `--passwords NAME=FILE` reports, read bounded.
fn read_passwords(
    specs: &[String],
) -> anyhow::Result<Vec<turncoat_posture::evaluate::passwords::PasswordResults>> {
    use std::io::Read as _;
    const MAX: u64 = 64 << 20;
    let mut out = Vec::new();
    for spec in specs {
        let (name, file) = spec
            .split_once('=')
            .filter(|(n, f)| !n.trim().is_empty() && !f.is_empty())
            .with_context(|| format!("--passwords {spec}: expected NAME=FILE"))?;
        let mut buf = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| f.take(MAX + 1).read_to_end(&mut buf))
            .with_context(|| format!("cannot read {file}"))?;
        if buf.len() as u64 > MAX {
            anyhow::bail!("{file} is larger than {MAX} bytes");
        }
        out.push(
            turncoat_posture::evaluate::passwords::parse(name.trim(), file, &buf)
                .map_err(anyhow::Error::msg)?,
        );
    }
    Ok(out)
}

/// The account names that can publish (sorted, once each) and the organisation.
fn pypi_ownership(meta: &turncoat_pypi::ProjectMeta) -> (Vec<String>, Option<String>) {
    let Some(o) = &meta.ownership else {
        return (Vec::new(), None);
    };
    let mut users: Vec<String> = o.roles.iter().map(|r| r.user.clone()).collect();
    users.sort();
    users.dedup();
    (users, o.organization.clone())
}

fn pypi_facts(pypi: Option<&turncoat_recon::published::PypiClient>, name: &str) -> PackageFacts {
    let mut f = PackageFacts {
        ecosystem: Ecosystem::Pypi,
        name: name.to_string(),
        publishers: Vec::new(),
        organization: None,
        publish_requires_2fa: None,
        mfa_level: None,
        collaborators: Vec::new(),
        settings_error: None,
        error: None,
    };
    let Some(pypi) = pypi else {
        f.error = Some("offline: PyPI not consulted".into());
        return f;
    };
    match pypi.project(name) {
        Ok(Some(meta)) => {
            let (users, org) = pypi_ownership(&meta);
            if users.is_empty() {
                f.error = Some(NO_PUBLISHERS.into());
            }
            f.publishers = users;
            f.organization = org;
        }
        Ok(None) => f.error = Some("no such project on PyPI".into()),
        Err(e) => f.error = Some(e.to_string()),
    }
    f
}

pub fn run(args: EvaluateArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if let Some(lock) = &args.lockfile {
        return soft_targets(lock, &args, ctx);
    }
    let (roster, roster_file) = load_roster(args.roster.as_deref())?;
    let policy = super::load_policy(args.policy.as_deref(), Path::new("."))?;
    let npm: Vec<String> = roster
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Npm)
        .map(|p| p.name.clone())
        .collect();
    let mut packages = Vec::new();
    if !npm.is_empty() {
        let client = npm_client(&args, ctx)?;
        let with_token = args.token_env.is_some();
        packages.extend(client.fetch_many(&npm, "maintainers", |c, name| {
            let mut f = npm_facts(c, name);
            if with_token && f.error.is_none() {
                npm_settings(c, &mut f);
            }
            f
        }));
    }
    let pypi = if args.offline {
        None
    } else {
        Some(turncoat_recon::published::PypiClient::new(
            &args.pypi_url,
            TIMEOUT,
        )?)
    };
    for p in roster
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Pypi)
    {
        packages.push(pypi_facts(pypi.as_ref(), &p.name));
    }
    let input = evaluate::Input {
        roster,
        roster_file,
        packages,
    };
    let report = evaluate::judge(
        &input,
        |code| policy.level(code),
        time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
    );
    let report = report
        .with_passwords(read_passwords(&args.passwords)?)
        .map_err(anyhow::Error::msg)?;
    super::metrics::record(ctx, &args.record, policy.record_metrics, &report.metrics)?;
    let text = match args.format {
        Format::Human => evaluate::human(&report, args.verbose),
        Format::Json => evaluate::json(&report),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if report.blocked() {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}
