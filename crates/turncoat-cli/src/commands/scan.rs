//! `turncoat scan`: single versions judged alone (audits; no history). Python wheels/sdists
//! and Python lockfiles go to `turncoat_gate::python_scan`.

use std::path::Path;

use anyhow::Context as _;
use clap::Args;

use super::GateArgs;
use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A lockfile (npm or Python), a project directory, a package .tgz, a Python wheel/sdist
    /// (.whl, .tar.gz, .zip), or name@version.
    pub target: String,
    #[command(flatten)]
    pub gate: GateArgs,
}

pub fn run(args: ScanArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let path = Path::new(&args.target);
    let project = if path.exists() {
        super::project_dir_of(path)
    } else {
        std::path::PathBuf::from(".")
    };
    let env = super::GateEnv::new(ctx, &args.gate, &project)?;
    let gate = env.context(ctx, args.gate.jobs);
    let today = turncoat_policy::Date::from_unix(gate.now_unix);
    if path.is_file() && is_python_file(path) {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let report =
            turncoat_gate::python_scan::scan_file(&args.target, &bytes, gate.policy, today)?;
        return super::finish(&report, &args.gate, ctx, &env.policy, &project);
    }
    let tarball =
        path.is_file() && (args.target.ends_with(".tgz") || args.target.ends_with(".tar.gz"));
    let mut npm_lock = None;
    if path.exists() && !tarball {
        let lock = super::read_any_lockfile(&super::single_lockfile(path)?)?;
        if lock.ecosystem == turncoat_lockfile::Ecosystem::Npm {
            npm_lock = Some(lock);
        } else {
            let client = super::verify_py::pypi_client(
                ctx,
                args.gate.index_url.as_deref(),
                &project,
                args.gate.offline,
            )?;
            let quiet = ctx.quiet;
            let report = turncoat_gate::python_scan::scan_lockfile(
                &lock,
                &client,
                gate.policy,
                today,
                &|what| {
                    if !quiet {
                        crate::output::note(ctx, &format!("scanning {what}"));
                    }
                },
            )?;
            return super::finish(&report, &args.gate, ctx, &env.policy, &project);
        }
    }
    let target = if tarball {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        turncoat_gate::ScanTarget::Tarball {
            label: args.target.clone(),
            bytes,
        }
    } else if let Some(lockfile) = &npm_lock {
        turncoat_gate::ScanTarget::Lockfile(lockfile)
    } else if let Some((name, version)) = turncoat_gate::scenario::split_spec(&args.target) {
        turncoat_gate::ScanTarget::Spec {
            name: name.to_string(),
            version: version.to_string(),
        }
    } else {
        anyhow::bail!(
            "{:?} is neither an existing file or directory nor name@version (e.g. lodash@4.17.21)",
            args.target
        );
    };
    let report = turncoat_gate::scan(target, &gate)?;
    super::finish(&report, &args.gate, ctx, &env.policy, &project)
}

/// A Python distribution: a wheel, a `.zip` sdist, or a `.tar.gz` sdist (an npm tarball is
/// `.tgz`, or a `.tar.gz` with `package/package.json`, which a Python sdist never has at
/// that path).
fn is_python_file(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".whl") || name.ends_with(".zip") {
        return true;
    }
    name.ends_with(".tar.gz")
        && turncoat_gate::python::dist_name_version(&name).is_some()
        && !looks_like_npm_tarball(path)
}

fn looks_like_npm_tarball(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    turncoat_archive::read_tgz(&bytes, &turncoat_archive::Limits::default())
        .map(|a| a.package_json().is_some())
        .unwrap_or(false)
}
