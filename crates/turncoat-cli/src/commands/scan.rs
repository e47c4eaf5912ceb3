//! `turncoat scan`: single versions judged alone (audits; no history).

use std::path::Path;

use anyhow::Context as _;
use clap::Args;

use super::GateArgs;
use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A lockfile, a project directory, a package .tgz, or name@version.
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
    let lockfile;
    let target = if path.is_file()
        && (args.target.ends_with(".tgz") || args.target.ends_with(".tar.gz"))
    {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        turncoat_gate::ScanTarget::Tarball {
            label: args.target.clone(),
            bytes,
        }
    } else if path.exists() {
        lockfile = super::read_lockfile(&super::single_lockfile(path)?)?;
        turncoat_gate::ScanTarget::Lockfile(&lockfile)
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
