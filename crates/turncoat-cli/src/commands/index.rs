//! `turncoat index add PATH...` and `turncoat index who-has SPEC`: the lockfile index.
#![allow(clippy::print_stderr)]

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use turncoat_incident::PackageSpec;
use turncoat_store::{Location, Store};

use crate::Outcome;
use crate::settings::Context;

/// Where the store is (shared by `index`, `incident` and `metrics`).
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// SQLite file or postgres://… URL (default: $TURNCOAT_DATABASE, else
    /// $TURNCOAT_DATA_DIR/store.sqlite, else ~/.local/share/turncoat/store.sqlite).
    #[arg(long, value_name = "FILE|URL")]
    pub database: Option<String>,
}

impl DatabaseArgs {
    pub fn location(&self) -> anyhow::Result<Location> {
        if let Some(d) = &self.database {
            return Ok(Location::parse(d));
        }
        if let Some(d) = std::env::var("TURNCOAT_DATABASE")
            .ok()
            .filter(|d| !d.is_empty())
        {
            return Ok(Location::parse(&d));
        }
        Location::default_sqlite()
            .context("no store: HOME is not set; pass --database FILE|URL or set TURNCOAT_DATABASE")
    }

    pub fn open(&self, ctx: &Context) -> anyhow::Result<Store> {
        let loc = self.location()?;
        Store::open(&loc, ctx.now_unix())
            .with_context(|| format!("cannot open the store {}", loc.display()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Index every lockfile of git repositories (all local branches) and folders.
    Add(AddArgs),
    /// Which repositories, refs and lockfiles lock a package: name@range, name@version or an integrity.
    WhoHas(WhoHasArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Git repositories or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Index only these refs of each repository (repeatable; default: every local branch).
    #[arg(long = "ref", value_name = "REF")]
    pub refs: Vec<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct WhoHasArgs {
    /// `name@range`, `name@1.2.3`, `name` or `sha512-…`.
    pub spec: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(cmd: IndexCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        IndexCommand::Add(a) => add(a, ctx),
        IndexCommand::WhoHas(a) => who_has(a, ctx),
    }
}

fn add(args: AddArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let mut store = args.db.open(ctx)?;
    let total = args.paths.len();
    let started = std::time::Instant::now();
    let progress_on = ctx.progress;
    let mut reports = Vec::new();
    let mut failed = 0usize;
    for (i, path) in args.paths.iter().enumerate() {
        let line = |msg: &str| {
            if progress_on {
                let mut e = std::io::stderr().lock();
                let _ = write!(e, "\r\x1b[2K[{}/{total}] {msg}", i + 1);
                let _ = e.flush();
            }
        };
        line(&path.display().to_string());
        let opts = turncoat_incident::index::AddOptions {
            refs: &args.refs,
            now: ctx.now_unix(),
            progress: &line,
        };
        match turncoat_incident::index::add(&mut store, path, &opts) {
            Ok(r) => reports.push(r),
            Err(e) => {
                failed += 1;
                if progress_on {
                    eprint!("\r\x1b[2K");
                }
                eprintln!("turncoat: {}: {e}", path.display());
            }
        }
        if !progress_on && !ctx.quiet && total >= 100 && (i + 1) % 100 == 0 {
            eprintln!("indexed {}/{total} paths", i + 1);
        }
    }
    if progress_on {
        eprint!("\r\x1b[2K");
    }
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "database": store.location().display(),
                "paths": reports,
            }))? + "\n"
        }
        Format::Human => {
            let mut s = String::new();
            let sum = |f: fn(&turncoat_incident::index::PathReport) -> usize| {
                reports.iter().map(f).sum::<usize>()
            };
            for r in &reports {
                for sk in &r.skipped {
                    s.push_str(&format!("skipped {}: {sk}\n", r.repo));
                }
            }
            s.push_str(&format!(
                "indexed {} path(s) into {} in {:.2}s: {} ref(s) read, {} unchanged, {} removed; \
                 {} lockfile(s) written, {} kept; {} package rows\n",
                reports.len(),
                store.location().display(),
                started.elapsed().as_secs_f64(),
                sum(|r| r.refs_indexed),
                sum(|r| r.refs_unchanged),
                sum(|r| r.refs_removed),
                sum(|r| r.lockfiles_written),
                sum(|r| r.lockfiles_kept),
                sum(|r| r.packages_written),
            ));
            s
        }
    };
    crate::output::emit(&text, None)?;
    if failed > 0 {
        anyhow::bail!("{failed} of {total} path(s) could not be indexed (see above)");
    }
    Ok(Outcome::Pass)
}

fn who_has(args: WhoHasArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let spec = PackageSpec::parse(&args.spec)?;
    let mut store = args.db.open(ctx)?;
    let hits = turncoat_incident::scope::hits(&mut store, std::slice::from_ref(&spec))?;
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "query": spec,
                "hits": hits,
            }))? + "\n"
        }
        Format::Human => {
            if hits.is_empty() {
                format!("no indexed lockfile locks {}\n", spec.label())
            } else {
                let mut s = String::new();
                for h in &hits {
                    s.push_str(&format!(
                        "{} {} {}:{} {}@{}{}{}\n    {}\n",
                        h.repo,
                        h.ref_name,
                        h.lockfile,
                        h.line,
                        h.name,
                        h.version,
                        if h.dev { " (dev)" } else { "" },
                        match h.install_script {
                            Some(true) => " [install script]",
                            _ => "",
                        },
                        h.dep_path
                    ));
                }
                s
            }
        }
    };
    crate::output::emit(&text, None)?;
    Ok(Outcome::Pass)
}
