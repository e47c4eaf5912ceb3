//! `turncoat index` and `turncoat incident`: from "pkg@ver is malicious" to the repositories
//! that lock it, the CI jobs where its install script ran, the secrets those jobs could read,
//! the rotation order and a playbook.
//!
//! - [`index`] reads lockfiles from git refs and folders into the store (IO).
//! - [`spec`] turns `name@range` / an integrity into a store query ([`resolve`]).
//! - [`exposure`] reads each scoped repository's workflows (with `turncoat-posture`'s parser)
//!   and `.npmrc` at the scoped ref, and judges, sans-IO, which jobs install dependencies, with
//!   or without scripts, and what they could read.
//! - [`scope`] puts hits and exposures together and orders the rotation checklist.
//! - [`playbook`] renders the Markdown incident document from a template (minijinja).
//! - [`osv`] reads the affected packages from an OSV advisory (`MAL-…`).

mod deppath;
pub mod exposure;
pub mod index;
pub mod osv;
pub mod playbook;
pub mod scope;
pub mod spec;

pub use deppath::dep_paths;
pub use spec::{PackageSpec, resolve};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] turncoat_store::Error),
    #[error("git: {0}")]
    Git(String),
    #[error("{0}")]
    Invalid(String),
    #[error("template: {0}")]
    Template(String),
}
