//! `turncoat monitor`'s vocabulary, sans-IO: a [`Snapshot`] of one package as the registry
//! shows it, [`compare`] of two snapshots into [`Event`]s (each the code of a rule declared in
//! [`rules`]) and the per-package [`backoff`] after failed polls.
//!
//! The caller does the I/O: it polls the registry, keeps the last snapshot in the store (the
//! trusted state: only the monitor writes it) and hands old and new snapshots here. Nothing in
//! a snapshot decides where an alert goes: the document is hostile data, bounded on the way
//! in ([`Snapshot::from_packument`]) and only ever described.

pub mod backoff;
mod event;
pub mod rules;
mod snapshot;

pub use event::{AlertLevel, Event, Watch, compare, sort_events};
pub use snapshot::{Limits, PypiFile, PypiProject, Release, Snapshot, SnapshotError};

/// Every rule the monitor reports, for the one registry (`turncoat-gate`'s `all_rules`).
pub fn rules() -> &'static [&'static turncoat_finding::RuleDoc] {
    rules::ALL
}
