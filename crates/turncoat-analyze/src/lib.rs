//! Static facts about one npm package version, and the rules that judge a version against
//! the previous one.
//!
//! Sans-IO: callers hand in file bytes ([`FileRef`]) and get data back. Nothing here fetches,
//! and package code is parsed, never executed.
//!
//! - [`facts`] / [`Analyzer::facts`]: what one version contains ([`VersionFacts`]: per-file
//!   capabilities with occurrences, obfuscation measures, install hooks read as shell,
//!   dependencies, binaries). Serialisable, so it can be cached per `name@version`.
//! - [`diff`]: history-relative findings: only what is new in `new` relative to `old`.
//!   A trait the package always had never fires again. See [`rules`] for the list and
//!   the `rules` module docs for what "new" means and the severity policy.
//! - [`scan`]: strong single-version signals, for `turncoat scan` and for a dependency that
//!   is new to the tree (it has no history to compare with).
//! - [`metadata::findings`]: packument rules (cooldown, bursts, dormancy, unpublished
//!   siblings).

mod analyzer;
mod binary;
pub mod facts;
mod js;
mod manifest;
pub mod metadata;
mod rules;
mod shell;

pub use analyzer::{Analyzer, STACK_SIZE};
/// Native code by magic bytes and what its import table reaches; Python extension modules
/// (`turncoat-pyanalyze`) are read with the same code.
pub use binary::{detect as detect_binary, native_capabilities};
pub use facts::*;
pub use js::LONG_LINE;

use turncoat_finding::{Finding, RuleDoc};
use turncoat_npm::semver::Bump;

/// One file of a package: its path relative to the package root (`lib/index.js`,
/// `package.json`) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    pub path: &'a str,
    pub data: &'a [u8],
}

/// Limits of the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Scripts larger than this are hashed but not parsed (`skipped: too large`).
    pub max_file_size: u64,
    /// Estimated nesting beyond which a script is not parsed (`too_deep`): a stack guard.
    pub max_nesting: u32,
    /// Occurrences kept per capability per file (the count is always exact).
    pub max_occurrences: usize,
    /// Threads for the scripts of one package (1: the analysis thread alone). Worth more than
    /// one when few packages are analysed at once (`turncoat scan` of one tarball): the
    /// scripts are split by size across that many big-stack threads, each with its own arena.
    pub file_threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: 20 * 1024 * 1024,
            max_nesting: 10_000,
            max_occurrences: 64,
            file_threads: 1,
        }
    }
}

/// Facts of one package version. A convenience over [`Analyzer`]; use one `Analyzer` per
/// worker thread when analysing many packages.
pub fn facts(files: &[FileRef<'_>], opts: &Options) -> VersionFacts {
    Analyzer::new().facts(files, opts)
}

/// Which update is being judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffContext {
    pub name: String,
    pub from_version: String,
    pub to_version: String,
    pub bump: Bump,
}

impl DiffContext {
    /// Context for `name` `from` → `to`, with the bump computed from the versions.
    pub fn new(name: &str, from: &str, to: &str) -> DiffContext {
        DiffContext {
            name: name.to_string(),
            from_version: from.to_string(),
            to_version: to.to_string(),
            bump: turncoat_npm::semver::bump(from, to),
        }
    }
}

/// History-relative findings: what `new` gained relative to `old`.
pub fn diff(old: &VersionFacts, new: &VersionFacts, ctx: &DiffContext) -> Vec<Finding> {
    rules::run_diff(&rules::DiffCx::new(old, new, ctx))
}

/// Strong single-version signals of a registry-installed package.
pub fn scan(facts: &VersionFacts, name: &str, version: &str) -> Vec<Finding> {
    scan_with(facts, name, version, &ScanOptions::default())
}

/// How the scanned package is installed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Installed from git: its `prepare` script runs as an install hook.
    pub from_git: bool,
}

/// [`scan`] with installation details.
pub fn scan_with(
    facts: &VersionFacts,
    name: &str,
    version: &str,
    opts: &ScanOptions,
) -> Vec<Finding> {
    rules::run_scan(&rules::ScanCx {
        facts,
        name,
        version,
        from_git: opts.from_git,
    })
}

/// Documentation of every rule of this crate (groups `analyze` and `metadata`).
pub fn rules() -> Vec<&'static RuleDoc> {
    let mut all = rules::docs();
    all.extend(metadata::rules());
    all
}
