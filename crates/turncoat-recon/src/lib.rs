//! `turncoat recon`: what an attacker learns about a project's maintainers from its git
//! history (the Reconnaissance stage of an account takeover).
//!
//! - [`history`] reads a repository once with gix (all refs, every blob once) into facts;
//! - [`identity`] and [`email`] group authors and committers into people and classify each
//!   address (`noreply`, `personal`, `organisation`, `local`);
//! - [`detect`] finds tokens, keys and credentials in a blob, with checksums where the format
//!   has one; [`secrets`] turns hits into one record per value;
//! - [`report`] judges the facts with the rules in `rules/` (one file per finding code, each
//!   with its `RuleDoc`), applies levels and the [`baseline`], and renders the report.
//!
//! Everything except [`history`] and [`discover`] is sans-IO. Secret values never leave
//! [`detect::SecretValue`] except as a redacted prefix and length.

use std::path::PathBuf;

pub mod baseline;
pub mod detect;
pub mod discover;
pub mod dns;
pub mod email;
pub mod exposure;
pub mod hibp;
pub mod history;
pub mod identity;
pub mod maintainers;
mod packed;
pub mod passwords;
pub mod published;
pub mod report;
mod rules;
pub mod secrets;
pub mod vault;
mod web;

pub use rules::rules;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {message}", path.display())]
    Git { path: PathBuf, message: String },
    #[error("{} is not a git repository and holds none", .0.display())]
    NotARepository(PathBuf),
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("baseline {path}: {message}")]
    Baseline { path: String, message: String },
}
