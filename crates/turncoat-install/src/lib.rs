//! The install side of `turncoat install`: which package manager a project uses and how to run
//! it with every lifecycle script off ([`manager`]), and which locked package each installed
//! `node_modules` directory is ([`located`]), decided by the lockfile and the layout, never by
//! the package's own files. Running the manager and the approved scripts in the sandbox is the
//! CLI's (it owns the sandbox calls); approval is `turncoat-policy`'s `[[allow-script]]` matched
//! against what this crate locates.
//!
//! Not sans-IO: both halves read the project directory (which lockfiles exist, the
//! `node_modules` tree, symlink targets), and reading it is the point.

pub mod located;
pub mod manager;

use std::path::PathBuf;

pub use located::{Found, Installed, Located, dependencies_first, locate, package_dirs};
pub use manager::{Manager, detect};

/// Why a project cannot be installed the safe way. Each message names the file and says what
/// to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`turncoat install` runs {manager} with every script off; remove {arg:?}")]
    ScriptsFlag { manager: &'static str, arg: String },
    #[error(
        "`turncoat install` runs {manager} to install the lockfile; {arg:?} is not one of its install commands ({allowed})"
    )]
    Subcommand {
        manager: &'static str,
        arg: String,
        allowed: String,
    },
    #[error(
        "{}: only bun.lockb (Bun's binary lockfile), which turncoat does not read; run `bun install --save-text-lockfile` to write bun.lock",
        dir.display()
    )]
    BunBinaryLockfile { dir: PathBuf },
    #[error("{}: --manager {manager} but no {manager} lockfile", dir.display())]
    ChosenWithoutLockfile { dir: PathBuf, manager: &'static str },
    #[error(
        "{}: no lockfile (package-lock.json, pnpm-lock.yaml, yarn.lock or bun.lock); `turncoat install` installs what a lockfile pins",
        dir.display()
    )]
    NoLockfile { dir: PathBuf },
    #[error(
        "{}: lockfiles of several package managers ({files}); say which one this project uses with --manager {choices}",
        dir.display()
    )]
    SeveralManagers {
        dir: PathBuf,
        files: String,
        choices: String,
    },
    #[error(
        "{}: a Yarn 1 (classic) lockfile; `turncoat install` supports Yarn 2 and later (yarn.lock with __metadata)",
        lock.display()
    )]
    YarnClassic { lock: PathBuf },
    #[error(
        "{}: Yarn installs with Plug'n'Play here; `turncoat install` runs approved scripts in node_modules, so set `nodeLinker: node-modules` in .yarnrc.yml",
        dir.display()
    )]
    YarnPnp { dir: PathBuf },
    #[error(
        "{}: reached as {first} and as {second}: cannot tell which locked package it is; no install script runs",
        dir.display()
    )]
    AmbiguousDir {
        dir: PathBuf,
        first: String,
        second: String,
    },
    #[error("the lockfile graph is larger than {max} packages")]
    GraphTooLarge { max: usize },
    #[error(
        "{}: node_modules nested deeper than {max_depth} or more than {max_dirs} packages",
        dir.display()
    )]
    TreeTooLarge {
        dir: PathBuf,
        max_depth: usize,
        max_dirs: usize,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
