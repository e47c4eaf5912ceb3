//! Static facts about Python distributions (wheels and sdists) and the rules that judge an
//! update of one project, history-relative like the npm rules of `turncoat-analyze`: only what
//! the new release gained fires, and it fires harder the earlier the new code runs.
//!
//! Sans-IO: callers hand in archives read by `turncoat-archive` ([`wheel_facts`],
//! [`sdist_facts`]) and get data back; package code is parsed, never executed.
//!
//! # The moment code runs
//! Python runs package code at more moments than npm ([`Moment`]): an sdist's `setup.py` and
//! in-tree build backend at **install**, a wheel's `.pth` lines at **every interpreter start**
//! (and `sitecustomize`), module top level at **import**, function bodies at **call** time.
//! Every occurrence of a capability carries its moment; modules that install-time or start-time
//! code imports (and files it `exec`s) take that moment too.
//!
//! # Parser
//! `ruff_python_parser` `=0.0.10` (with `ruff_python_ast`): Ruff's parser, published on the
//! crate registry as an internal component (0.0.x, no API promise); 0.0.10 is the newest
//! release whose MSRV fits our Rust 1.95, hence the exact pin. It is the maintained parser of
//! the most used Python linter, error-resilient, and grows its own stack on deep nesting
//! (`stacker`); `rustpython-parser` has had no release since 2024. Measured at 65–69 MB/s on
//! Django (shared research, crates.md §2). The modules of one distribution are analysed on a
//! pool of large-stack threads (as many as the caller's rayon pool has), round by round until
//! no module's moment changes; results are merged in path order, so the facts do not depend on
//! the thread count.
//!
//! # Vocabulary
//! Finding codes start with `py-` so the Python rules never collide with the npm ones; their
//! group is `pyanalyze`.

mod dist;
pub mod facts;
mod meta;
mod names;
pub mod publish;
mod python;
mod rules;

use std::collections::BTreeSet;

pub use facts::*;
pub use publish::{IndexedFile, PublishContext, publish_findings};
use turncoat_archive::{Archive, Wheel};
use turncoat_finding::{Finding, RuleDoc};

/// Facts of a wheel (its RECORD issues included).
pub fn wheel_facts(wheel: &Wheel) -> DistFacts {
    dist::dist_facts(DistKind::Wheel, &wheel.archive.files, &wheel.record_issues)
}

/// Facts of an sdist (top directory already removed by `read_sdist`).
pub fn sdist_facts(sdist: &Archive) -> DistFacts {
    dist::dist_facts(DistKind::Sdist, &sdist.files, &[])
}

/// Which update is being judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffContext {
    pub name: String,
    pub from_version: String,
    pub to_version: String,
    /// The kinds of file each release has on the index (wheel, sdist). Empty: only the
    /// compared file's own kind is known.
    pub old_kinds: BTreeSet<DistKind>,
    pub new_kinds: BTreeSet<DistKind>,
}

impl DiffContext {
    pub fn new(name: &str, from: &str, to: &str) -> DiffContext {
        DiffContext {
            name: name.to_string(),
            from_version: from.to_string(),
            to_version: to.to_string(),
            old_kinds: BTreeSet::new(),
            new_kinds: BTreeSet::new(),
        }
    }
}

/// History-relative findings: what `new` gained relative to `old`.
pub fn diff(old: &DistFacts, new: &DistFacts, ctx: &DiffContext) -> Vec<Finding> {
    rules::run(&rules::DiffCx { old, new, ctx })
}

/// Single-version findings (`turncoat scan`): the signals rare in benign releases, reported
/// by the same rules as in [`diff`] (see `rules/scan.rs` for the list).
pub fn scan(facts: &DistFacts, name: &str, version: &str) -> Vec<Finding> {
    rules::scan::scan(facts, name, version)
}

pub use rules::scan::SCAN_CODES;

/// Documentation of every rule of this crate (group `pyanalyze`).
pub fn rules() -> Vec<&'static RuleDoc> {
    let mut all = rules::docs();
    all.extend(publish::docs());
    all
}
