//! `turncoat install [-- <npm args>]`: install with every lifecycle script off inside the
//! blocking sandbox, then run only the approved install scripts, each in its own sandbox.
//!
//! Approval comes from turncoat.toml's `[[allow-script]]` entries and the lockfile, never from
//! the package: a script runs only when the lockfile's name, version **and** integrity (which
//! `npm ci` verified against the tarball it installed) match an entry. Each approved script
//! runs with `--block` in a sandbox whose writable project is the package's own directory and
//! whose egress is the configured registries only. A dependency with an install script that
//! is not approved is skipped and reported with the exact lines to add.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use turncoat_lockfile::LockedPackage;
use turncoat_policy::AllowScript;

use crate::Outcome;
use crate::commands::watch::{Tier, WatchArgs};
use crate::settings::Context;

/// The lifecycle scripts npm runs for a dependency at install, in order.
const STAGES: &[&str] = &["preinstall", "install", "postinstall"];

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Project directory (holds package.json and package-lock.json).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Policy file (default: turncoat.toml in the project or the current directory).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Ask, for each unapproved install script, whether to approve it (appends the entry to
    /// turncoat.toml). Needs a terminal.
    #[arg(long)]
    pub interactive: bool,
    /// A host the install may reach besides the configured registries.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Kill each sandboxed step after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
    /// Arguments for npm (default: `ci`); `--ignore-scripts` is always added.
    #[arg(last = true, value_name = "NPM_ARGS")]
    pub npm_args: Vec<String>,
}

/// What to do with one locked package that has an install script.
#[derive(Debug, PartialEq)]
enum Decision<'a> {
    Run(&'a AllowScript),
    /// Approved for this name and version, but with another integrity: a different tarball.
    IntegrityDiffers(&'a AllowScript),
    Unapproved,
}

fn decide<'a>(p: &LockedPackage, approved: &'a [AllowScript]) -> Decision<'a> {
    let Some(a) = approved
        .iter()
        .find(|a| a.name == p.name && a.version == p.version)
    else {
        return Decision::Unapproved;
    };
    let locked = p.integrity.as_deref().unwrap_or("");
    if locked.split_whitespace().any(|h| h == a.integrity) {
        Decision::Run(a)
    } else {
        Decision::IntegrityDiffers(a)
    }
}

/// The `[[allow-script]]` lines that would approve `p`.
fn approval_lines(p: &LockedPackage) -> String {
    format!(
        "[[allow-script]]\npackage = \"{}@{}\"\nintegrity = \"{}\"\nreason = \"\"  # why this install script may run\n",
        p.name,
        p.version,
        p.integrity.as_deref().unwrap_or("")
    )
}

pub fn run(args: InstallArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("{} is not a directory", args.dir.display()))?;
    let lock_path = dir.join("package-lock.json");
    if !lock_path.is_file() {
        bail!(
            "{}: no package-lock.json; `turncoat install` installs what a lockfile pins (npm for now: pnpm, Yarn and Bun projects use `turncoat watch --block -- <install>` and `turncoat policy compile`)",
            dir.display()
        );
    }
    let mut policy = super::load_policy(args.policy.as_deref(), &dir)?;

    // 1. Everything, scripts off, fenced.
    let mut npm = vec!["npm".to_string()];
    npm.extend(if args.npm_args.is_empty() {
        vec!["ci".to_string()]
    } else {
        args.npm_args.clone()
    });
    if npm
        .iter()
        .any(|a| a.starts_with("--ignore-scripts=") && a != "--ignore-scripts=true")
    {
        bail!(
            "`turncoat install` runs npm with --ignore-scripts; remove {:?}",
            npm
        );
    }
    npm.push("--ignore-scripts".into());
    step(
        ctx,
        &format!("installing with scripts off: {}", npm.join(" ")),
    );
    let first = super::watch::run(watch_args(&args, &dir, npm), ctx)?;
    if first != Outcome::Pass {
        step(ctx, "the install did not pass; no install script runs");
        return Ok(first);
    }

    // 2. The scripts, one package at a time, only when approved by name, version and integrity.
    let lock = turncoat_lockfile::read(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let with_scripts: Vec<&LockedPackage> = lock
        .packages
        .iter()
        .filter(|p| p.has_install_script == Some(true) && !p.bundled)
        .collect();
    let mut unapproved = Vec::new();
    let mut failed = Vec::new();
    let mut ran = 0usize;
    for p in with_scripts {
        let mut decision = decide(p, &policy.allow_scripts);
        if decision == Decision::Unapproved && args.interactive && ask(p)? {
            append_approval(&dir, args.policy.as_deref(), p)?;
            policy = super::load_policy(args.policy.as_deref(), &dir)?;
            decision = decide(p, &policy.allow_scripts);
        }
        match decision {
            Decision::Run(_) => {
                for path in &p.paths {
                    match run_scripts(&args, ctx, &dir, path, p)? {
                        Some(()) => ran += 1,
                        None => failed.push(format!("{}@{} ({path})", p.name, p.version)),
                    }
                }
            }
            Decision::IntegrityDiffers(a) => {
                step(
                    ctx,
                    &format!(
                        "NOT run: {}@{} is approved for integrity {} but the lockfile pins {}: a different tarball under the same version",
                        p.name,
                        p.version,
                        a.integrity,
                        p.integrity.as_deref().unwrap_or("(none)")
                    ),
                );
                unapproved.push(p);
            }
            Decision::Unapproved => unapproved.push(p),
        }
    }
    report(ctx, ran, &unapproved, &failed);
    Ok(if unapproved.is_empty() && failed.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Violation
    })
}

fn watch_args(args: &InstallArgs, cwd: &Path, command: Vec<String>) -> WatchArgs {
    WatchArgs {
        block: true,
        audit: false,
        allow_host: args.allow_host.clone(),
        allow_write: Vec::new(),
        allow_read: Vec::new(),
        pass_env: Vec::new(),
        baseline: None,
        events: None,
        cwd: Some(cwd.to_path_buf()),
        tier: Tier::Full,
        timeout: Some(args.timeout),
        memory_max: None,
        pids_max: None,
        record: super::metrics::RecordArgs {
            record: false,
            db: super::index::DatabaseArgs { database: None },
        },
        // The cwd is a package's directory: its turncoat.toml is the package's, not the team's.
        never_record: true,
        command,
    }
}

/// Run the install stages of the package at `install_path` (`node_modules/a/node_modules/b`),
/// each in a blocking sandbox whose project is that directory. `None` when one failed.
fn run_scripts(
    args: &InstallArgs,
    ctx: &Context,
    project: &Path,
    install_path: &str,
    p: &LockedPackage,
) -> anyhow::Result<Option<()>> {
    if install_path.split('/').any(|c| c == ".." || c.is_empty())
        || !install_path.starts_with("node_modules/")
    {
        bail!(
            "{}: install path {install_path:?} is not under node_modules",
            p.name
        );
    }
    let pkg_dir = project.join(install_path);
    // The directory must be a real directory inside the project (a link planted by a
    // tarball or an earlier run must not move the sandbox's project elsewhere).
    let real = pkg_dir
        .canonicalize()
        .with_context(|| format!("{} is not installed", pkg_dir.display()))?;
    if !real.starts_with(project)
        || std::fs::symlink_metadata(&pkg_dir)?
            .file_type()
            .is_symlink()
    {
        bail!(
            "{}: not a directory inside the project; its scripts are not run",
            pkg_dir.display()
        );
    }
    // Which stages exist comes from the installed manifest, whose tarball npm verified.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(real.join("package.json"))
            .with_context(|| format!("cannot read {}/package.json", real.display()))?,
    )
    .with_context(|| format!("{}/package.json is not JSON", real.display()))?;
    let scripts = manifest.get("scripts").and_then(|s| s.as_object());
    for stage in STAGES {
        if scripts
            .and_then(|s| s.get(*stage))
            .and_then(|v| v.as_str())
            .is_none()
        {
            continue;
        }
        step(
            ctx,
            &format!("running {stage} of {}@{} in the sandbox", p.name, p.version),
        );
        let cmd = vec![
            "npm".into(),
            "run-script".into(),
            "--ignore-scripts=false".into(),
            (*stage).to_string(),
        ];
        let outcome = super::watch::run(watch_args(args, &real, cmd), ctx)?;
        if outcome != Outcome::Pass {
            return Ok(None);
        }
    }
    Ok(Some(()))
}

fn ask(p: &LockedPackage) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("--interactive needs a terminal on stdin");
    }
    let mut err = std::io::stderr();
    write!(
        err,
        "{}@{} has an install script that turncoat.toml does not approve. Approve it (run it in the sandbox)? [y/N] ",
        p.name, p.version
    )?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// Append the approval to the policy file (created when missing), as the report prints it.
fn append_approval(dir: &Path, explicit: Option<&Path>, p: &LockedPackage) -> anyhow::Result<()> {
    let path = explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("turncoat.toml"));
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "{} is a symbolic link; not writing through it",
            path.display()
        );
    }
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(
        &approval_lines(p).replace("reason = \"\"", "reason = \"approved interactively\""),
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn step(ctx: &Context, msg: &str) {
    if !ctx.quiet {
        let mut err = std::io::stderr();
        let _ = writeln!(err, "turncoat install: {msg}");
    }
}

fn report(ctx: &Context, ran: usize, unapproved: &[&LockedPackage], failed: &[String]) {
    let mut s = String::new();
    s.push_str(&format!(
        "\nturncoat install: {ran} approved install script(s) ran in the sandbox; {} skipped (not approved); {} failed\n",
        unapproved.len(),
        failed.len()
    ));
    for f in failed {
        s.push_str(&format!("  failed or blocked: {f}\n"));
    }
    if !unapproved.is_empty() {
        s.push_str("\nThese dependencies have install scripts that did not run. To approve one after review, add to turncoat.toml:\n\n");
        for p in unapproved {
            s.push_str(&approval_lines(p));
            s.push('\n');
        }
    }
    let _ = ctx;
    let mut out = std::io::stdout();
    let _ = out.write_all(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(name: &str, version: &str, integrity: &str) -> LockedPackage {
        let lock = format!(
            "{{\"lockfileVersion\":3,\"packages\":{{\"\":{{}},\"node_modules/{name}\":{{\"version\":\"{version}\",\"resolved\":\"https://r/{name}.tgz\",\"integrity\":\"{integrity}\",\"hasInstallScript\":true}}}}}}"
        );
        turncoat_lockfile::parse("package-lock.json", lock.as_bytes())
            .unwrap()
            .packages
            .remove(0)
    }

    fn allow(name: &str, version: &str, integrity: &str) -> AllowScript {
        AllowScript {
            name: name.into(),
            version: version.into(),
            integrity: integrity.into(),
            reason: "r".into(),
            line: None,
        }
    }

    #[test]
    fn only_name_version_and_integrity_together_approve() {
        let sri = "sha512-".to_string() + &"A".repeat(86) + "==";
        let other = "sha512-".to_string() + &"B".repeat(86) + "==";
        let p = locked("esbuild", "0.25.0", &sri);
        let ok = [allow("esbuild", "0.25.0", &sri)];
        assert!(matches!(decide(&p, &ok), Decision::Run(_)));
        assert!(matches!(
            decide(&p, &[allow("esbuild", "0.25.0", &other)]),
            Decision::IntegrityDiffers(_)
        ));
        assert_eq!(
            decide(&p, &[allow("esbuild", "0.25.1", &sri)]),
            Decision::Unapproved
        );
        assert_eq!(
            decide(&p, &[allow("esbuild-x", "0.25.0", &sri)]),
            Decision::Unapproved
        );
        // An alias installs under another name; approval follows the real name.
        assert!(approval_lines(&p).contains("package = \"esbuild@0.25.0\""));
    }
}
