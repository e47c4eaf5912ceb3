//! `turncoat recon` beyond git history: breach checks (`--pwned`), published identities
//! (`--published`), the dependencies' maintainers (`--lockfile`, `--check-domains`,
//! `--resolver`), and `turncoat recon passwords`. The work is `turncoat-recon`'s; this file
//! parses arguments, builds the clients, and writes.
//!
//! [`BreachArgs`] is flattened into the `recon` command and [`extras`] renders its sections,
//! so the history report and these sections share one command line.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use turncoat_finding::Level;
use turncoat_recon::dns::{self, DomainStatus, Resolver};
use turncoat_recon::email::{EmailClass, classify};
use turncoat_recon::exposure::{AccountBreaches, AccountRow, Exposure};
use turncoat_recon::hibp::{self, AccountClient, ApiKey, HashFile, PwnedPasswords, RangeClient};
use turncoat_recon::maintainers::{self, PackageMaintainers};
use turncoat_recon::passwords;
use turncoat_recon::published::{self, Ecosystem, PublishedFacts, PypiClient};
use turncoat_recon::vault;
use zeroize::Zeroizing;

use crate::Outcome;
use crate::settings::Context;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BreachFormat {
    Human,
    Json,
}

/// The flags `turncoat recon` takes besides the history scan.
#[derive(Debug, Args)]
pub struct BreachArgs {
    /// Check the addresses found (commit history, --published) against Have I Been Pwned (needs an API key: $HIBP_API_KEY or the file ~/.config/turncoat/hibp-api-key).
    #[arg(long)]
    pub pwned: bool,
    /// List the addresses npm and PyPI publish for the packages each repository publishes (package.json, pyproject.toml).
    #[arg(long)]
    pub published: bool,
    /// The attacker's view of your dependencies: every locked package's maintainers, ranked softest first.
    #[arg(long, value_name = "PATH")]
    pub lockfile: Option<PathBuf>,
    /// With --lockfile: look up the maintainers' custom mail domains; no MX and no A record is a finding.
    #[arg(long, requires = "lockfile")]
    pub check_domains: bool,
    /// DNS server for --check-domains: ADDR or ADDR:PORT (default: the first nameserver of /etc/resolv.conf).
    #[arg(long, value_name = "ADDR", requires = "check_domains")]
    pub resolver: Option<String>,
    /// npm registry URL (https:// or a file:// directory registry); overrides .npmrc and the default.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Use only the registry cache for --lockfile and --published.
    #[arg(long)]
    pub offline: bool,
    /// PyPI base URL (a mirror or a test server).
    #[arg(long, value_name = "URL", default_value = published::PYPI_API)]
    pub pypi_url: String,
    /// HIBP v3 API base URL (a test server).
    #[arg(long, value_name = "URL", default_value = hibp::HIBP_API)]
    pub hibp_url: String,
    /// Packages listed in the softest-targets table.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
}

impl BreachArgs {
    pub fn any(&self) -> bool {
        self.pwned || self.published || self.lockfile.is_some()
    }
}

#[derive(Debug, Args)]
pub struct OutArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = BreachFormat::Human)]
    pub format: BreachFormat,
    /// Write the report to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Policy file for finding levels (default: turncoat.toml here, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReconCommand {
    /// Are your developer-platform logins breached, reused or weak? Reads a Bitwarden JSON/CSV or 1Password CSV export, or one password per line on stdin; nothing is printed but entry names and hosts.
    Passwords(PasswordsArgs),
}

#[derive(Debug, Args)]
pub struct PasswordsArgs {
    /// A Bitwarden JSON/CSV or 1Password CSV export (default: one password per line on stdin).
    #[arg(long, value_name = "EXPORT")]
    pub vault: Option<PathBuf>,
    /// The downloaded, ordered SHA-1 Pwned Passwords file: checked offline, nothing leaves the machine.
    #[arg(long, value_name = "PATH")]
    pub pwned_file: Option<PathBuf>,
    /// Skip Pwned Passwords (reuse and strength only).
    #[arg(long, conflicts_with = "pwned_file")]
    pub no_pwned: bool,
    /// Pwned Passwords range API base URL (a test server).
    #[arg(long, value_name = "URL", default_value = hibp::PWNED_PASSWORDS_API)]
    pub pwned_passwords_url: String,
    #[command(flatten)]
    pub out: OutArgs,
}

/// The sections `--pwned`, `--published` and `--lockfile` add to a recon report.
pub struct Extras {
    pub human: String,
    pub json: Value,
    /// The same sections as data, for the Markdown and SARIF renderers.
    pub exposure: Exposure,
    pub violation: bool,
}

/// Run the enabled checks. `emails` are the addresses already found (commit history); with
/// `--pwned` they and the published addresses are checked against HIBP.
pub fn extras(
    paths: &[PathBuf],
    emails: Vec<String>,
    args: &BreachArgs,
    level: &dyn Fn(&str) -> Level,
    ctx: &Context,
) -> anyhow::Result<Extras> {
    let mut ex = Extras {
        human: String::new(),
        json: json!({"schema": "turncoat-recon-exposure/1"}),
        exposure: Exposure::default(),
        violation: false,
    };
    let mut emails: BTreeSet<String> = emails.into_iter().collect();
    if args.published {
        let r = published::judge(published_facts(paths, args, ctx)?, level);
        for p in &r.packages {
            emails.extend(p.identities.iter().map(|i| i.email.to_ascii_lowercase()));
        }
        ex.violation |= r.findings.iter().any(|f| f.level == Level::Deny);
        ex.human.push_str(&published::render_human(&r));
        ex.human.push('\n');
        ex.json["published"] = serde_json::to_value(&r)?;
        ex.exposure.published = Some(r);
    }
    if let Some(lock) = &args.lockfile {
        let r = maintainers_report(lock, args, level, ctx)?;
        ex.violation |= r.violation();
        ex.human.push_str(&maintainers::render_human(&r, args.top));
        ex.human.push('\n');
        ex.json["maintainers"] = serde_json::to_value(&r)?;
        ex.exposure.maintainers = Some((lock.display().to_string(), r));
    }
    if args.pwned {
        let (human, b) = account_breaches(&emails, args, level, ctx)?;
        ex.violation |= b.findings.iter().any(|f| f.level == Level::Deny);
        ex.human.push_str(&human);
        ex.json["breaches"] = serde_json::to_value(&b)?;
        ex.exposure.breaches = Some(b);
    }
    Ok(ex)
}

fn published_facts(
    paths: &[PathBuf],
    args: &BreachArgs,
    ctx: &Context,
) -> anyhow::Result<Vec<PublishedFacts>> {
    let pypi = PypiClient::new(&args.pypi_url, TIMEOUT)?;
    let mut out = Vec::new();
    for dir in paths {
        let pkgs = published::published_packages(dir);
        if pkgs.is_empty() {
            continue;
        }
        let client = super::client(ctx, dir, args.registry.as_deref(), args.offline)?;
        for package in pkgs {
            let mut facts = PublishedFacts {
                package: package.clone(),
                found: false,
                identities: Vec::new(),
                publishers: Vec::new(),
                error: None,
            };
            match package.ecosystem {
                Ecosystem::Npm => {
                    let name = turncoat_npm::PackageName::new(&package.name)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", package.name))?;
                    match client.packument_bytes(&name) {
                        Ok(bytes) => {
                            let v: Value = serde_json::from_slice(&bytes).with_context(|| {
                                format!("the packument of {} is not JSON", package.name)
                            })?;
                            facts.found = true;
                            facts.identities = published::npm_identities(&package.name, &v);
                            facts.publishers = published::npm_publishers(&v);
                        }
                        Err(turncoat_registry::RegistryError::NotFound { .. }) => {}
                        Err(e) => facts.error = Some(e.to_string()),
                    }
                }
                Ecosystem::Pypi => match pypi.project(&package.name) {
                    Ok(Some(v)) => {
                        facts.found = true;
                        facts.identities = published::pypi_identities(&package.name, &v);
                        facts.publishers = published::pypi_publishers(&v);
                    }
                    Ok(None) => {}
                    Err(e) => facts.error = Some(e.to_string()),
                },
            }
            out.push(facts);
        }
    }
    Ok(out)
}

fn maintainers_report(
    lock: &Path,
    args: &BreachArgs,
    level: &dyn Fn(&str) -> Level,
    ctx: &Context,
) -> anyhow::Result<maintainers::MaintainersReport> {
    let path = super::single_lockfile(lock)?;
    let lockfile = super::read_lockfile(&path)?;
    let names: Vec<String> = lockfile
        .registry_packages()
        .map(|p| p.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let client = super::client(
        ctx,
        &super::project_dir_of(&path),
        args.registry.as_deref(),
        args.offline,
    )?;
    let packages: Vec<PackageMaintainers> = client.fetch_many(&names, "maintainers", |c, name| {
        let pn = match turncoat_npm::PackageName::new(name) {
            Ok(n) => n,
            Err(e) => return PackageMaintainers::failed(name, e.to_string()),
        };
        match c.packument(&pn) {
            Ok(p) => PackageMaintainers::from_people(name, &p.maintainers),
            Err(e) => PackageMaintainers::failed(name, e.to_string()),
        }
    });
    let domains = if args.check_domains {
        let resolver = match &args.resolver {
            Some(s) => Resolver::new(
                dns::parse_server(s)
                    .with_context(|| format!("--resolver {s:?}: expected ADDR or ADDR:PORT"))?,
            ),
            None => Resolver::system().context(
                "no nameserver in /etc/resolv.conf; pass --resolver ADDR for --check-domains",
            )?,
        };
        let mut m: BTreeMap<String, DomainStatus> = BTreeMap::new();
        for d in maintainers::custom_domains(&packages) {
            let status = resolver.status(&d);
            m.insert(d, status);
        }
        Some(m)
    } else {
        None
    };
    Ok(maintainers::judge(packages, domains, level))
}

/// The HIBP API key: `$HIBP_API_KEY`, else `$XDG_CONFIG_HOME/turncoat/hibp-api-key` (or
/// `~/.config/...`). Never printed.
fn api_key() -> anyhow::Result<ApiKey> {
    if let Ok(k) = ApiKey::from_env() {
        return Ok(k);
    }
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(file) = dir.map(|d| d.join("turncoat").join("hibp-api-key"))
        && let Ok(mut f) = std::fs::File::open(&file)
    {
        let mut s = Zeroizing::new(String::new());
        f.by_ref()
            .take(4096)
            .read_to_string(&mut s)
            .with_context(|| format!("cannot read {}", file.display()))?;
        if let Some(k) = ApiKey::new(&s) {
            return Ok(k);
        }
    }
    Err(hibp::BreachError::NoApiKey.into())
}

fn account_breaches(
    emails: &BTreeSet<String>,
    args: &BreachArgs,
    level: &dyn Fn(&str) -> Level,
    ctx: &Context,
) -> anyhow::Result<(String, AccountBreaches)> {
    // Only mailboxes: noreply and machine-local identities are nobody's account.
    let accounts: Vec<&String> = emails
        .iter()
        .filter(|e| matches!(classify(e), EmailClass::Personal | EmailClass::Organisation))
        .collect();
    let client = AccountClient::new(&args.hibp_url, api_key()?, TIMEOUT)?;
    let mut findings = Vec::new();
    let mut rows = Vec::new();
    for (i, email) in accounts.iter().enumerate() {
        if ctx.progress {
            crate::output::note(ctx, &format!("hibp: [{}/{}]", i + 1, accounts.len()));
        }
        let breaches = client.breaches(email)?;
        hibp::judge_account(email, &breaches, &mut findings);
        rows.push(AccountRow {
            email: email.to_string(),
            breaches,
        });
    }
    let findings = turncoat_recon::passwords::leveled_findings(findings, level);
    let pwned = rows.iter().filter(|r| !r.breaches.is_empty()).count();
    let mut human = format!(
        "Breached accounts (HIBP): {pwned} of {} address(es) pwned\n",
        accounts.len()
    );
    for f in &findings {
        human.push_str(&format!(
            "{:5} {}: {}\n",
            f.level.as_str(),
            f.finding.code,
            f.finding.message
        ));
    }
    Ok((
        human,
        AccountBreaches {
            checked: accounts.len(),
            pwned_accounts: pwned,
            accounts: rows,
            findings,
        },
    ))
}

/// Read at most `limit` bytes into a zeroised buffer; more is an error.
fn read_secret_input(mut r: impl Read, what: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    r.by_ref()
        .take(vault::MAX_EXPORT + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {what}"))?;
    if buf.len() as u64 > vault::MAX_EXPORT {
        anyhow::bail!("{what} is larger than {} bytes", vault::MAX_EXPORT);
    }
    Ok(buf)
}

pub fn run_passwords(args: PasswordsArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let policy = super::load_policy(args.out.policy.as_deref(), Path::new("."))?;
    let (format, entries) = match &args.vault {
        Some(p) => {
            let f =
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let bytes = read_secret_input(f, &p.display().to_string())?;
            let (f, e) = vault::parse_export(&bytes)
                .with_context(|| format!("cannot read the export {}", p.display()))?;
            (f.as_str(), e)
        }
        None => {
            let bytes = read_secret_input(std::io::stdin().lock(), "stdin")?;
            ("lines", vault::parse_lines(&bytes))
        }
    };
    let mut source: Option<Box<dyn PwnedPasswords>> = if args.no_pwned {
        None
    } else if let Some(f) = &args.pwned_file {
        Some(Box::new(HashFile::open(f)?))
    } else {
        Some(Box::new(RangeClient::new(
            &args.pwned_passwords_url,
            TIMEOUT,
        )?))
    };
    if ctx.progress {
        crate::output::note(
            ctx,
            &format!("passwords: {} entries ({format})", entries.len()),
        );
    }
    let pwned: Option<&mut dyn PwnedPasswords> = match &mut source {
        Some(b) => Some(b.as_mut()),
        None => None,
    };
    let facts = passwords::check(&entries, args.vault.is_none(), pwned)?;
    drop(entries);
    let report = passwords::judge(format, facts, &|c| policy.level(c));
    let text = match args.out.format {
        BreachFormat::Human => passwords::render_human(&report),
        BreachFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
    };
    crate::output::emit(&text, args.out.output.as_deref())?;
    Ok(if report.violation() {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}
