//! `turncoat drill`: rehearse a maintainer-account takeover end to end and measure Time To
//! Detect, and the metrics dashboard page.
//!
//! - [`canary`]: the harmless trojanized releases, as data (sans-IO).
//! - [`elf`]: the native addon of the `binary` scenario.
//! - [`registry`]: a real private registry (a local Verdaccio, or the team's own) and npm publish.
//! - [`drill`]: the dependency flow (a Dependabot-style lockfile commit) and each defence layer
//!   run as CI runs it; the result model and its [`turncoat_metrics::Sample`]s.
//! - [`dashboard`]: `turncoat report --html`, a pure function from samples and drill results to
//!   one self-contained HTML page.
//!
//! Every host process (node, npm, git, cc, turncoat itself) is started through
//! [`turncoat_sandbox::tools`]; package code only ever runs inside `turncoat watch` or
//! `turncoat diff --detonate`. Host installs carry `--ignore-scripts`.

pub mod canary;
pub mod dashboard;
pub mod drill;
pub mod elf;
pub mod registry;

pub use canary::Scenario;
pub use drill::{DrillConfig, DrillReport, Layer, LayerResult, ScenarioResult, run};

/// Why a drill could not run (a missed detection is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("{what} not found: {how}")]
    Missing { what: String, how: String },
    #[error(transparent)]
    Tool(#[from] turncoat_sandbox::tools::ToolError),
    #[error("drill step `{step}` failed: {detail}")]
    Step { step: String, detail: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl DrillError {
    pub(crate) fn io(what: &str, source: std::io::Error) -> DrillError {
        DrillError::Io {
            what: what.into(),
            source,
        }
    }
}
