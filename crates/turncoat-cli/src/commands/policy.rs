//! `turncoat policy compile [--check] [DIR]`: write turncoat.toml's install policy (cooldown,
//! exclusions, approved install scripts) into every package manager's and update bot's own
//! settings, or check that they still say the same thing.
//!
//! Writing is the only I/O here and it is fenced: the files written are the fixed list of
//! `turncoat_managers::Project::PATHS`, each inside DIR, never through a symbolic link (a
//! cloned repository can make `.npmrc` a link to `~/.bashrc`), each replaced atomically by a
//! temporary file renamed into place.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use turncoat_managers::{Plan, Project, Wanted};

use crate::Outcome;
use crate::settings::Context;

/// Larger config files than this are refused (they are a few hundred bytes in practice).
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write the install policy into npm, pnpm, Yarn, Bun, uv, pip, Renovate and Dependabot settings.
    Compile(CompileArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Change nothing; exit 1 when a setting differs from the policy or a pinned client is
    /// too old to honour one.
    #[arg(long)]
    pub check: bool,
    /// Policy file (default: turncoat.toml in DIR or the current directory).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(cmd: PolicyCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        PolicyCommand::Compile(args) => compile(args, ctx),
    }
}

fn compile(args: CompileArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    let policy = super::load_policy(args.policy.as_deref(), &args.dir)?;
    if !policy.cooldown_set && policy.allow_scripts.is_empty() {
        bail!(
            "{}: no install policy to compile: set `cooldown = \"3d\"` (and any [[allow-script]]) in turncoat.toml",
            policy.source
        );
    }
    let today = turncoat_policy::Date::from_unix(ctx.now_unix());
    let wanted = Wanted::from_policy(&policy, today);
    let project = read_project(&args.dir)?;
    let plan = turncoat_managers::compile(&wanted, &project)?;
    if plan.managers.is_empty() {
        bail!(
            "{}: no package manager or update bot found (looked for {})",
            args.dir.display(),
            Project::PATHS.join(", ")
        );
    }
    if !args.check {
        for edit in &plan.edits {
            write_file(&args.dir, &edit.path, &edit.after)?;
        }
    }
    let text = match args.format {
        Format::Human => human(&plan, args.check, &wanted),
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "check": args.check,
                "cooldown_secs": wanted.cooldown_secs,
                "plan": plan,
            }))? + "\n"
        }
    };
    crate::output::emit(&text, None)?;
    let blocking = plan
        .notes
        .iter()
        .any(|n| policy.level(n.code) == turncoat_finding::Level::Deny);
    let drift = plan.drift().next().is_some();
    Ok(if args.check && (drift || blocking) {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}

/// The files of `Project::PATHS` that exist in `dir`, refusing links and oversized files.
fn read_project(dir: &Path) -> anyhow::Result<Project> {
    let mut project = Project::default();
    for rel in Project::PATHS {
        let path = dir.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        check_inside(dir, rel)?;
        if meta.file_type().is_symlink() {
            bail!(
                "{}: is a symbolic link; turncoat reads and writes project settings only as regular files",
                path.display()
            );
        }
        if !meta.is_file() {
            continue;
        }
        if meta.len() > MAX_FILE_BYTES {
            bail!(
                "{}: larger than {} bytes, not a settings file turncoat edits",
                path.display(),
                MAX_FILE_BYTES
            );
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        project.files.insert((*rel).to_string(), text);
    }
    Ok(project)
}

/// No directory on the way from `dir` to `rel` may be a link (`.github -> /etc`).
fn check_inside(dir: &Path, rel: &str) -> anyhow::Result<()> {
    let mut at = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        at.push(part);
        let meta = std::fs::symlink_metadata(&at)
            .with_context(|| format!("cannot read {}", at.display()))?;
        if meta.file_type().is_symlink() || !meta.is_dir() {
            bail!(
                "{}: is not a plain directory (a link?); refusing to write below it",
                at.display()
            );
        }
    }
    Ok(())
}

fn write_file(dir: &Path, rel: &str, text: &str) -> anyhow::Result<()> {
    check_inside(dir, rel)?;
    let path = dir.join(rel);
    if let Ok(meta) = std::fs::symlink_metadata(&path)
        && !meta.is_file()
    {
        bail!(
            "{}: is not a regular file; refusing to replace it",
            path.display()
        );
    }
    let parent = path.parent().unwrap_or(dir);
    let mut tmp = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(&path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(&path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

fn human(plan: &Plan, check: bool, wanted: &Wanted) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let managers: Vec<&str> = plan.managers.iter().map(|m| m.as_str()).collect();
    let _ = writeln!(
        s,
        "policy: cooldown {} s ({} d), {} exclusion(s), {} approved script(s); managers: {}",
        wanted.cooldown_secs,
        wanted.days(),
        wanted.excludes.len(),
        wanted.scripts.len(),
        managers.join(", ")
    );
    if plan.edits.is_empty() {
        let _ = writeln!(s, "every setting already says what turncoat.toml says");
    }
    for edit in &plan.edits {
        let verb = match (check, edit.create) {
            (true, _) => "differs",
            (false, true) => "created",
            (false, false) => "updated",
        };
        let _ = writeln!(s, "{} ({verb})", edit.path);
        for c in &edit.changes {
            let _ = writeln!(
                s,
                "  {} {}: {} -> {}",
                c.manager.as_str(),
                c.key,
                c.from.as_deref().unwrap_or("(not set)"),
                c.to
            );
        }
    }
    for n in &plan.notes {
        let _ = writeln!(
            s,
            "[{}] {} {}: {}",
            n.code,
            n.manager.as_str(),
            n.path,
            n.message
        );
    }
    s
}
