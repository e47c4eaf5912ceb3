//! `turncoat install [-- <manager args>]`: install with every lifecycle script off inside the
//! blocking sandbox, then run only the approved install scripts, each in its own sandbox.
//!
//! The manager is the one whose lockfile the project has (npm, pnpm, Yarn 2+ with the
//! node-modules linker, Bun; [`turncoat_install::manager`]). Approval comes from turncoat.toml's
//! `[[allow-script]]` entries and the lockfile, never from the package: a script runs only when
//! the lockfile's name, version **and** integrity (which the manager verified against the
//! tarball it installed; Yarn: its archive checksum) match an entry, and which locked package
//! an installed directory is comes from the lockfile and the layout ([`turncoat_install::located`]), never from
//! the directory's own package.json. npm's implicit `node-gyp rebuild` (a `binding.gyp` and no
//! install script) is a script like any other. Each approved script runs with `--block` in a
//! sandbox whose writable project is the package's own directory and whose egress is the
//! configured registries only; the packages nested inside it are shown read-only, and
//! fingerprinted before and checked after (the degraded tier cannot mount). A dependency
//! with an install script that is not approved is skipped and reported with the exact lines
//! to add.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use turncoat_lockfile::LockedPackage;
use turncoat_policy::AllowScript;

use crate::Outcome;
use crate::commands::watch::{Tier, WatchArgs};
use crate::settings::Context;
use turncoat_install::{Manager, located, manager};

/// The lifecycle scripts a manager runs for a dependency at install, in order.
const STAGES: &[&str] = &["preinstall", "install", "postinstall"];

/// The most of a package.json read to find its scripts.
const MAX_MANIFEST: u64 = 4 << 20;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Project directory (holds package.json and the lockfile).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The package manager, when the project has lockfiles of several (default: the one
    /// whose lockfile is there).
    #[arg(long, value_name = "npm|pnpm|yarn|bun")]
    pub manager: Option<Manager>,
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
    /// Write each sandboxed step's events as JSON Lines into this directory, one file per
    /// step named for the locked package and stage (`01-esbuild@0.25.0-postinstall.jsonl`).
    #[arg(long = "events-dir", value_name = "DIR")]
    pub events_dir: Option<PathBuf>,
    /// Kill each sandboxed step after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
    /// Arguments for the manager (default: `ci` for npm, `install --frozen-lockfile` for pnpm
    /// and Bun, `install --immutable` for Yarn); the scripts-off flags are always added.
    #[arg(last = true, value_name = "MANAGER_ARGS")]
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

/// The lockfile's pin of a package's contents: the SRI integrity, or for Yarn (which locks
/// no SRI) the checksum of its archive (`10c0/…`).
fn pin(p: &LockedPackage) -> Option<&str> {
    p.integrity.as_deref().or(p.checksum.as_deref())
}

fn decide<'a>(p: &LockedPackage, approved: &'a [AllowScript]) -> Decision<'a> {
    let Some(a) = approved
        .iter()
        .find(|a| a.name == p.name && a.version == p.version)
    else {
        return Decision::Unapproved;
    };
    let locked = pin(p).unwrap_or("");
    if locked.split_whitespace().any(|h| h == a.integrity) {
        Decision::Run(a)
    } else {
        Decision::IntegrityDiffers(a)
    }
}

/// The `[[allow-script]]` lines that would approve `p`.
fn approval_lines(p: &LockedPackage) -> String {
    if pin(p).is_none() {
        return format!(
            "# {}@{}: the lockfile pins no integrity for it (bundled in another package's tarball, a git, file or link dependency), so it cannot be approved by pin; its scripts do not run\n",
            p.name, p.version
        );
    }
    format!(
        "[[allow-script]]\npackage = \"{}@{}\"\nintegrity = \"{}\"\nreason = \"\"  # why this install script may run\n",
        p.name,
        p.version,
        pin(p).unwrap_or("")
    )
}

/// One stage to run in a package directory.
#[derive(Debug, Clone, PartialEq)]
struct Stage {
    name: &'static str,
    /// npm's implicit `node-gyp rebuild`: a `binding.gyp` and no install script.
    implicit_gyp: bool,
}

/// The install stages of the package in `dir`, from its installed package.json (whose
/// tarball the manager verified) and, as npm does it, its `binding.gyp`.
fn stages_of(dir: &Path) -> anyhow::Result<Vec<Stage>> {
    let path = dir.join("package.json");
    let mut bytes = Vec::new();
    let file =
        std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_MANIFEST + 1), &mut bytes)?;
    if bytes.len() as u64 > MAX_MANIFEST {
        bail!("{} is larger than {MAX_MANIFEST} bytes", path.display());
    }
    let manifest: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    let scripts = manifest.get("scripts").and_then(|s| s.as_object());
    let has = |s: &str| {
        scripts
            .and_then(|m| m.get(s))
            .and_then(|v| v.as_str())
            .is_some()
    };
    let mut out: Vec<Stage> = STAGES
        .iter()
        .filter(|s| has(s))
        .map(|s| Stage {
            name: s,
            implicit_gyp: false,
        })
        .collect();
    let gyp = std::fs::symlink_metadata(dir.join("binding.gyp")).is_ok_and(|m| m.is_file());
    if gyp
        && !has("install")
        && !has("preinstall")
        && manifest.get("gypfile") != Some(&serde_json::Value::Bool(false))
    {
        let at = out
            .iter()
            .position(|s| s.name == "postinstall")
            .unwrap_or(out.len());
        out.insert(
            at,
            Stage {
                name: "install",
                implicit_gyp: true,
            },
        );
    }
    Ok(out)
}

pub fn run(args: InstallArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("{} is not a directory", args.dir.display()))?;
    let (manager, lock_path) = manager::detect(&dir, args.manager)?;
    let mut policy = super::load_policy(args.policy.as_deref(), &dir)?;
    if let Some(d) = &args.events_dir {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    // Read before anything runs: what the install may change is not what decides.
    let lock = turncoat_lockfile::read(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;

    // 1. Everything, scripts off, fenced.
    let first = install_scripts_off(&args, ctx, &dir, manager)?;
    if first != Outcome::Pass {
        return Ok(first);
    }

    // 2. Which locked package each installed directory is, and which have install stages.
    let found = located::locate(&dir, &lock, manager)?;
    let (todo, mut unidentified) = plan(&dir, &lock, &found)?;

    // 3. The scripts, one package at a time, only when approved by name, version and integrity.
    let mut unapproved: Vec<&LockedPackage> = Vec::new();
    let mut failed = Vec::new();
    let mut ran = 0usize;
    let mut n = 0usize;
    for (inst, stages) in todo {
        let Some(p) = inst.entry.map(|e| &lock.packages[e]) else {
            unidentified.push(format!(
                "{} has install scripts but no lockfile entry accounts for that directory",
                inst.rel
            ));
            continue;
        };
        let mut decision = decide(p, &policy.allow_scripts);
        if decision == Decision::Unapproved && args.interactive && ask(p)? {
            append_approval(&dir, args.policy.as_deref(), p)?;
            policy = super::load_policy(args.policy.as_deref(), &dir)?;
            decision = decide(p, &policy.allow_scripts);
        }
        match decision {
            Decision::Run(_) => match run_scripts(&args, ctx, manager, inst, p, &stages, &mut n)? {
                Ok(()) => ran += 1,
                Err(why) => failed.push(format!("{}@{} ({}): {why}", p.name, p.version, inst.rel)),
            },
            Decision::IntegrityDiffers(a) => {
                step(
                    ctx,
                    &format!(
                        "NOT run: {}@{} is approved for integrity {} but the lockfile pins {}: a different tarball under the same version",
                        p.name,
                        p.version,
                        a.integrity,
                        pin(p).unwrap_or("(none)")
                    ),
                );
                if !unapproved.contains(&p) {
                    unapproved.push(p);
                }
            }
            Decision::Unapproved => {
                if !unapproved.contains(&p) {
                    unapproved.push(p);
                }
            }
        }
    }
    report(ctx, ran, &unapproved, &unidentified, &failed);
    let own = own_scripts(&dir, &lock);
    if !own.is_empty() {
        step(
            ctx,
            &format!(
                "the project's own lifecycle scripts did not run either (they are not a dependency's; run them yourself where needed): {}",
                own.join(", ")
            ),
        );
    }
    Ok(
        if unapproved.is_empty() && failed.is_empty() && unidentified.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Violation
        },
    )
}

/// Step 1: the manager's install with every script off, inside `watch --block`.
fn install_scripts_off(
    args: &InstallArgs,
    ctx: &Context,
    dir: &Path,
    manager: Manager,
) -> anyhow::Result<Outcome> {
    let cmd = manager.install_command(&args.npm_args)?;
    step(
        ctx,
        &format!("installing with scripts off: {}", cmd.join(" ")),
    );
    let mut w = watch_args(args, dir, cmd, events_file(args, 0, "install"));
    w.set_env = manager.install_env();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    w.allow_host.extend(manager.registry_hosts(home.as_deref()));
    let first = super::watch::run(w, ctx)?;
    if first != Outcome::Pass {
        step(ctx, "the install did not pass; no install script runs");
        if manager == Manager::Yarn {
            step(
                ctx,
                "Yarn records package.json's dependenciesMeta (which `turncoat policy compile` writes) in yarn.lock: if Yarn said the lockfile would be modified, run `yarn install --mode=update-lockfile` (it runs no scripts) and commit yarn.lock",
            );
        }
    }
    Ok(first)
}

/// Installed packages with the stages to run in each.
type Todo<'a> = Vec<(&'a located::Installed, Vec<Stage>)>;

/// Step 2: the installed packages with install stages, dependencies first, and what cannot
/// be run at all (links out of the project).
fn plan<'a>(
    dir: &Path,
    lock: &turncoat_lockfile::Lockfile,
    found: &'a located::Located,
) -> anyhow::Result<(Todo<'a>, Vec<String>)> {
    let mut unidentified = Vec::new();
    for (link, target) in &found.outside {
        if stages_of(target).is_ok_and(|s| !s.is_empty()) {
            unidentified.push(format!(
                "{link} links outside the project (to {}); its install scripts are not run",
                target.display()
            ));
        }
    }
    let mut todo: Todo<'a> = Vec::new();
    for i in &found.installed {
        let stages = stages_of(&i.dir)?;
        if !stages.is_empty() {
            todo.push((i, stages));
        }
    }
    // Dependencies first, as the managers run them.
    let todo = located::dependencies_first(dir, lock, &found.installed, todo);
    Ok((todo, unidentified))
}

/// The lifecycle scripts the manager would have run for the project itself and its
/// workspace members (`package.json: prepare`), which the scripts-off install skipped.
fn own_scripts(project: &Path, lock: &turncoat_lockfile::Lockfile) -> Vec<String> {
    const OWN: &[&str] = &[
        "preinstall",
        "install",
        "postinstall",
        "prepublish",
        "preprepare",
        "prepare",
        "postprepare",
    ];
    let mut dirs = vec![String::new()];
    dirs.extend(
        lock.importers
            .iter()
            .map(|i| {
                i.path
                    .trim_start_matches("./")
                    .trim_end_matches('/')
                    .to_string()
            })
            .filter(|p| {
                !p.is_empty() && p != "." && !p.split('/').any(|c| c == ".." || c.is_empty())
            }),
    );
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for d in dirs {
        let rel = if d.is_empty() {
            "package.json".to_string()
        } else {
            format!("{d}/package.json")
        };
        let path = project.join(&rel);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            continue;
        }
        let Some(manifest) = std::fs::read(&path)
            .ok()
            .filter(|b| b.len() as u64 <= MAX_MANIFEST)
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        else {
            continue;
        };
        let scripts = manifest.get("scripts").and_then(|s| s.as_object());
        for stage in OWN {
            if scripts
                .and_then(|m| m.get(*stage))
                .is_some_and(|v| v.is_string())
            {
                out.push(format!("{rel}: {stage}"));
            }
        }
    }
    out
}

/// `DIR/NN-what.jsonl` when `--events-dir` is given.
fn events_file(args: &InstallArgs, n: usize, what: &str) -> Option<PathBuf> {
    let safe: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
                c
            } else {
                '+'
            }
        })
        .collect();
    args.events_dir
        .as_ref()
        .map(|d| d.join(format!("{n:02}-{safe}.jsonl")))
}

fn watch_args(
    args: &InstallArgs,
    cwd: &Path,
    command: Vec<String>,
    events: Option<PathBuf>,
) -> WatchArgs {
    WatchArgs {
        block: true,
        audit: false,
        allow_host: args.allow_host.clone(),
        allow_write: Vec::new(),
        allow_read: Vec::new(),
        pass_env: Vec::new(),
        set_env: Vec::new(),
        read_only: Vec::new(),
        baseline: None,
        events,
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

/// Run the install stages of one approved package, each in a blocking sandbox whose project
/// is its directory. `Err(why)` when a stage failed, was blocked, or changed a package nested
/// inside its directory (another package's files).
fn run_scripts(
    args: &InstallArgs,
    ctx: &Context,
    manager: Manager,
    inst: &located::Installed,
    p: &LockedPackage,
    stages: &[Stage],
    n: &mut usize,
) -> anyhow::Result<Result<(), String>> {
    let nested = inst.dir.join("node_modules");
    let before = fingerprint(&nested)?;
    // `bun run install` runs `preinstall` and `postinstall` around `install` itself (and no
    // flag stops it), so with an `install` script those two are not run again on their own.
    let bun_wraps = manager == Manager::Bun
        && stages
            .iter()
            .any(|s| s.name == "install" && !s.implicit_gyp);
    for stage in stages {
        if bun_wraps && matches!(stage.name, "preinstall" | "postinstall") {
            continue;
        }
        let cmd = if stage.implicit_gyp {
            vec![node_gyp(), "rebuild".to_string()]
        } else if manager == Manager::Bun {
            vec!["bun".into(), "run".into(), stage.name.to_string()]
        } else {
            // `--ignore-scripts`: npm still runs the script named, but not its `pre`/`post`
            // scripts, which are stages of their own (with `=false`, each ran twice).
            vec![
                "npm".into(),
                "run-script".into(),
                "--ignore-scripts".into(),
                stage.name.to_string(),
            ]
        };
        step(
            ctx,
            &format!(
                "running {}{} of {}@{} ({}) in the sandbox",
                stage.name,
                if stage.implicit_gyp {
                    " (node-gyp rebuild, implicit)"
                } else {
                    ""
                },
                p.name,
                p.version,
                inst.rel
            ),
        );
        *n += 1;
        let events = events_file(
            args,
            *n,
            &format!("{}@{}-{}", p.name, p.version, stage.name),
        );
        let mut w = watch_args(args, &inst.dir, cmd, events);
        // The packages nested in its directory are another package's files: read-only.
        if std::fs::symlink_metadata(&nested).is_ok_and(|m| m.is_dir()) {
            w.read_only.push(nested.clone());
        }
        let outcome = super::watch::run(w, ctx)?;
        if fingerprint(&nested)? != before {
            return Ok(Err(format!(
                "its {} changed the packages nested in {}/node_modules",
                stage.name, inst.rel
            )));
        }
        if outcome != Outcome::Pass {
            return Ok(Err(format!("{} failed or was blocked", stage.name)));
        }
    }
    Ok(Ok(()))
}

/// npm's own node-gyp (what npm runs for the implicit stage), else `node-gyp` on PATH.
fn node_gyp() -> String {
    let npm = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("npm"))
            .find(|p| p.is_file())
    });
    npm.and_then(|p| p.canonicalize().ok())
        .and_then(|cli| {
            let g = cli.parent()?.join("node-gyp-bin/node-gyp");
            g.is_file().then(|| g.display().to_string())
        })
        .unwrap_or_else(|| "node-gyp".to_string())
}

/// Every entry under `root` (not following links): path, kind, size and SHA-256 (link target
/// for links). Empty when `root` does not exist.
fn fingerprint(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    use sha2::Digest as _;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let e = e?;
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let t = e.file_type()?;
            let what = if t.is_symlink() {
                format!("link {}", std::fs::read_link(&path)?.display())
            } else if t.is_dir() {
                stack.push(path);
                "dir".to_string()
            } else {
                let mut h = sha2::Sha256::new();
                std::io::copy(&mut std::fs::File::open(&path)?, &mut h)?;
                format!("file {:x}", h.finalize())
            };
            out.push((rel, what));
            if out.len() > 1_000_000 {
                bail!("{}: more than a million files", root.display());
            }
        }
    }
    out.sort();
    Ok(out)
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

fn report(
    ctx: &Context,
    ran: usize,
    unapproved: &[&LockedPackage],
    unidentified: &[String],
    failed: &[String],
) {
    let mut s = String::new();
    s.push_str(&format!(
        "\nturncoat install: {ran} approved install script(s) ran in the sandbox; {} skipped (not approved); {} failed\n",
        unapproved.len(),
        failed.len()
    ));
    for f in failed {
        s.push_str(&format!("  failed or blocked: {f}\n"));
    }
    for u in unidentified {
        s.push_str(&format!("  not run: {u}\n"));
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
    fn the_projects_own_skipped_scripts_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("package.json"),
            r#"{"scripts":{"prepare":"husky","test":"x","postinstall":"patch-package"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(d.join("packages/w")).unwrap();
        std::fs::write(
            d.join("packages/w/package.json"),
            r#"{"name":"w","version":"1.0.0","scripts":{"install":"node build.js"}}"#,
        )
        .unwrap();
        let lock = turncoat_lockfile::parse(
            "package-lock.json",
            br#"{"lockfileVersion":3,"packages":{"":{"workspaces":["packages/*"]},"packages/w":{"name":"w","version":"1.0.0"}}}"#,
        )
        .unwrap();
        assert_eq!(
            own_scripts(d, &lock),
            [
                "package.json: postinstall",
                "package.json: prepare",
                "packages/w/package.json: install"
            ]
        );
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
        // Nothing pinned, nothing to approve: never an entry with an empty integrity.
        let mut bundled = p.clone();
        bundled.integrity = None;
        assert!(!approval_lines(&bundled).contains("[[allow-script]]"));
        assert_eq!(decide(&bundled, &ok), Decision::IntegrityDiffers(&ok[0]));
    }
}
