//! The PEP 740 rules (group `attest`): how the way a Python release reached the index differs
//! from the project's own history, and whether what the index serves is what the lockfile
//! pins. Sans-IO: verification results in, findings out. One rule per file.
//!
//! History is the release being replaced first, then earlier releases, newest first. Only a
//! release whose provenance *verified* counts as having had it: an invalid attestation in the
//! history is not evidence of a publish path.

mod index_hash_mismatch;
mod provenance_invalid;
mod provenance_lost;
mod publisher_changed;

use serde::Serialize;
use turncoat_finding::{Evidence, Finding, RuleDoc};

use super::Pep740Verification;

pub use index_hash_mismatch::{Pinned, Served, check as index_hash_mismatch};

/// Every PEP 740 rule, in a stable order.
pub fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &provenance_invalid::RULE,
        &provenance_lost::RULE,
        &publisher_changed::RULE,
        &index_hash_mismatch::RULE,
    ]
}

/// The PEP 740 state of one release's distribution file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Pep740Status {
    /// Every attestation verified against the file's sha256.
    Verified(Pep740Verification),
    /// The index lists no provenance for the file.
    Absent,
    /// Provenance was served but does not verify (the reason says which check failed).
    Invalid { reason: String },
}

impl Pep740Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Pep740Status::Verified(_) => "verified",
            Pep740Status::Absent => "absent",
            Pep740Status::Invalid { .. } => "invalid",
        }
    }

    pub fn verified(&self) -> Option<&Pep740Verification> {
        match self {
            Pep740Status::Verified(v) => Some(v),
            _ => None,
        }
    }
}

/// One release of the project and the PEP 740 state of its judged file.
#[derive(Debug, Clone, Copy)]
pub struct Release<'a> {
    pub version: &'a str,
    pub filename: &'a str,
    pub status: &'a Pep740Status,
}

impl Release<'_> {
    fn evidence(&self, project: &str, snippet: &str) -> Evidence {
        Evidence::new(format!(
            "pypi:{project}=={}/{}",
            self.version, self.filename
        ))
        .with_snippet(snippet)
    }
}

/// PEP 740 findings for `candidate` against `history` (the replaced release first, then
/// earlier ones, newest first).
pub fn pep740_findings(
    project: &str,
    candidate: &Release<'_>,
    history: &[Release<'_>],
) -> Vec<Finding> {
    [
        provenance_invalid::check,
        provenance_lost::check,
        publisher_changed::check,
    ]
    .iter()
    .filter_map(|check| check(project, candidate, history))
    .collect()
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::pep740::TrustedPublisher;

    pub fn publisher(repo: &str, workflow: &str) -> TrustedPublisher {
        TrustedPublisher {
            kind: "GitHub".into(),
            repository: Some(repo.into()),
            repository_id: None,
            workflow: Some(workflow.into()),
            environment: None,
            identity: Some(format!(
                "https://github.com/{repo}/.github/workflows/{workflow}@refs/heads/main"
            )),
        }
    }

    pub fn verified(repo: &str, workflow: &str) -> Pep740Status {
        Pep740Status::Verified(Pep740Verification {
            filename: "f".into(),
            sha256: "00".repeat(32),
            attestations: 1,
            predicate_types: vec![crate::pep740::PYPI_PUBLISH_PREDICATE.into()],
            publishers: vec![publisher(repo, workflow)],
            integrated_time: 1,
        })
    }

    pub fn rel<'a>(version: &'a str, status: &'a Pep740Status) -> Release<'a> {
        Release {
            version,
            filename: "demo-x.whl",
            status,
        }
    }

    pub fn codes(candidate: &Release<'_>, history: &[Release<'_>]) -> Vec<String> {
        pep740_findings("demo", candidate, history)
            .iter()
            .map(|f| f.code.clone())
            .collect()
    }
}
