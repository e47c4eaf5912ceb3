//! `turncoat diff`: the update gate.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::GateArgs;
use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Base lockfile (or, with --base-ref, the lockfile to read at that revision and from the work tree),
    /// or a Python wheel/sdist (.whl, .tar.gz, .zip) to compare HEAD, the next release's file, with.
    pub base: Option<PathBuf>,
    /// Head lockfile.
    pub head: Option<PathBuf>,
    /// Read the base lockfile from this git revision (e.g. origin/main) and the head from the work tree.
    #[arg(long, value_name = "GIT_REF")]
    pub base_ref: Option<String>,
    /// Also install and load every changed version in the sandbox (no network, honeytokens
    /// planted) and report what it does that the version it replaces did not.
    #[arg(long)]
    pub detonate: bool,
    /// Time limit per detonated version, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30,
        requires = "detonate"
    )]
    pub detonate_timeout: u64,
    #[command(flatten)]
    pub gate: GateArgs,
}

pub fn run(args: DiffArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if let (None, Some(b), Some(h)) = (&args.base_ref, &args.base, &args.head)
        && turncoat_gate::python::is_python_dist(&b.to_string_lossy())
        && turncoat_gate::python::is_python_dist(&h.to_string_lossy())
    {
        return python(b, h, &args, ctx);
    }
    let (base, head) = match (&args.base_ref, &args.base, &args.head) {
        (Some(rev), lock, None) => {
            let head_path =
                super::single_lockfile(lock.as_deref().unwrap_or(std::path::Path::new(".")))?;
            let head = super::read_any_lockfile(&head_path)?;
            let dir = super::project_dir_of(&head_path);
            let top = turncoat_sandbox::host::git_toplevel(&dir)?;
            let abs = head_path
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", head_path.display()))?;
            let top_abs = top.canonicalize().unwrap_or(top.clone());
            let rel = abs
                .strip_prefix(&top_abs)
                .with_context(|| {
                    format!(
                        "{} is not inside the git work tree {}",
                        abs.display(),
                        top.display()
                    )
                })?
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = turncoat_sandbox::host::git_show(&top, rev, &rel)?;
            let label = format!("{rev}:{rel}");
            let base = turncoat_lockfile::parse(&label, &bytes)?;
            (base, head)
        }
        (Some(_), _, Some(_)) => {
            anyhow::bail!("with --base-ref give at most one lockfile (the head)")
        }
        (None, Some(b), Some(h)) => (super::read_any_lockfile(b)?, super::read_any_lockfile(h)?),
        (None, _, _) => {
            anyhow::bail!("give BASE and HEAD lockfiles, or --base-ref <GIT_REF> [LOCKFILE]")
        }
    };
    if base.ecosystem != head.ecosystem {
        anyhow::bail!(
            "{} is a {} lockfile and {} a {} one: compare lockfiles of one ecosystem",
            base.path,
            base.ecosystem,
            head.path,
            head.ecosystem
        );
    }
    if head.ecosystem == turncoat_lockfile::Ecosystem::Pypi {
        return python_lockfiles(&base, &head, &args, ctx);
    }
    let (base, head) = (super::npm_only(base)?, super::npm_only(head)?);
    let project = super::project_dir_of(std::path::Path::new(&head.path));
    let env = super::GateEnv::new(ctx, &args.gate, &project)?;
    let mut gate = env.context(ctx, args.gate.jobs);
    let detonator = detonator(&args);
    if args.detonate {
        gate.detonator = Some(&detonator);
    }
    let report = turncoat_gate::diff(&base, &head, &gate)?;
    super::finish(&report, &args.gate, ctx, &env.policy, &project)
}

fn detonator(args: &DiffArgs) -> turncoat_gate::detonation::SandboxDetonator {
    turncoat_gate::detonation::SandboxDetonator {
        opts: turncoat_sandbox::detonate::DetonateOptions {
            timeout: std::time::Duration::from_secs(args.detonate_timeout.max(1)),
            ..Default::default()
        },
    }
}

/// `diff OLD.whl NEW.whl` (wheels or sdists): one Python release judged against the previous.
fn python(
    base: &std::path::Path,
    head: &std::path::Path,
    args: &DiffArgs,
    ctx: &Context,
) -> anyhow::Result<Outcome> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (old, new) = (read(base)?, read(head)?);
    let project = super::project_dir_of(head);
    let env = super::GateEnv::new(ctx, &args.gate, std::path::Path::new("."))?;
    let mut gate = env.context(ctx, args.gate.jobs);
    let detonator = detonator(args);
    if args.detonate {
        gate.detonator = Some(&detonator);
    }
    let (old_label, new_label) = (base.to_string_lossy(), head.to_string_lossy());
    // Local files are judged offline; with an explicit --index-url the index's PEP 740
    // provenance of both file names is verified against these bytes and compared too.
    let extra = match args.gate.index_url.as_deref() {
        Some(url) => {
            let client = super::verify_py::pypi_client(
                ctx,
                Some(url),
                std::path::Path::new("."),
                args.gate.offline,
            )?;
            turncoat_gate::python::pep740_for_files(
                (&old_label, &old),
                (&new_label, &new),
                &client,
                gate.trust_root,
            )?
        }
        None => Vec::new(),
    };
    let report = turncoat_gate::python::diff_files_with(
        (&old_label, &old),
        (&new_label, &new),
        gate.policy,
        turncoat_policy::Date::from_unix(gate.now_unix),
        gate.detonator,
        extra,
    )?;
    super::finish(&report, &args.gate, ctx, &env.policy, &project)
}

/// Two Python lockfiles: every changed release downloaded from the index (hashes checked
/// against the lockfile while streaming) and judged against the release it replaces.
fn python_lockfiles(
    base: &turncoat_lockfile::Lockfile,
    head: &turncoat_lockfile::Lockfile,
    args: &DiffArgs,
    ctx: &Context,
) -> anyhow::Result<Outcome> {
    let project = super::project_dir_of(std::path::Path::new(&head.path));
    let index = turncoat_pypi::IndexConfig::load(args.gate.index_url.as_deref(), &project)?;
    if !index.extra_index_urls.is_empty() {
        crate::output::note(
            ctx,
            "extra index URLs are configured; only the main index is read (an extra index is dependency confusion: `turncoat lockfile lint` reports it)",
        );
    }
    let cache = super::cache(ctx)?;
    let pypi_cache = turncoat_pypi::PypiCache::new(&cache.dir().join("pypi"));
    let client = turncoat_pypi::PypiClient::new(
        index.index_url.clone(),
        Some(pypi_cache),
        turncoat_pypi::ClientOptions {
            offline: args.gate.offline,
            ..Default::default()
        },
    )?;
    let env = super::GateEnv::new(ctx, &args.gate, &project)?;
    let mut gate = env.context(ctx, args.gate.jobs);
    let detonator = detonator(args);
    if args.detonate {
        gate.detonator = Some(&detonator);
    }
    let quiet = ctx.quiet;
    let report = turncoat_gate::python::diff_lockfiles(
        base,
        head,
        &client,
        gate.trust_root,
        &turncoat_gate::python::Judge {
            policy: gate.policy,
            today: turncoat_policy::Date::from_unix(gate.now_unix),
            now_unix: gate.now_unix,
            detonator: gate.detonator,
        },
        &|what| {
            if !quiet {
                crate::output::note(ctx, &format!("judging {what}"));
            }
        },
    )?;
    super::finish(&report, &args.gate, ctx, &env.policy, &project)
}
