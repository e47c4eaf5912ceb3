//! PEP 740 provenance objects (PyPI's Integrity API,
//! `/integrity/<project>/<version>/<file>/provenance`) verified offline.
//!
//! A provenance object holds attestation bundles, one per Trusted Publisher, each with a
//! publisher *claim* (written by the index) and attestations. An attestation is a DSSE envelope
//! (`statement`, `signature`) plus `verification_material` (the Fulcio leaf and Rekor
//! transparency entries). Each attestation is rebuilt as a Sigstore v0.3 bundle and verified by
//! [`crate::verify_bundle_value`] (Fulcio chain to the trust root at the log time, SET,
//! inclusion proof and checkpoint, DSSE signature, log body), then:
//!
//! - its in-toto statement must name the distribution file and carry the file's sha256 (the
//!   lockfile's, i.e. what is installed): a valid attestation for another file, another
//!   project or an older release of this one does not vouch for this file;
//! - its predicate must be PyPI's publish predicate or SLSA provenance;
//! - the index's publisher claim must agree with the certificate (repository and workflow for
//!   GitHub and GitLab). What is *reported* ([`TrustedPublisher`]) comes from the certificate
//!   only: Fulcio copies it from the CI's OIDC token, so neither the uploader nor the index
//!   chooses it.
//!
//! The history-relative rules (`py-provenance-lost`, `py-publisher-changed`,
//! `py-provenance-invalid`, `py-index-hash-mismatch`) are in [`rules`].

pub mod rules;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bundle::truncate;
use crate::encoding::{get, get_array, get_object, get_str};
use crate::error::{Reason, VerifyError, fail};
use crate::facts::PublisherFacts;
use crate::keys::Keys;
use crate::trust_root::TrustRoot;
use crate::verify::{VerifiedBundle, verify_bundle_value};

/// PyPI's publish attestation predicate.
pub const PYPI_PUBLISH_PREDICATE: &str = "https://docs.pypi.org/attestations/publish/v1";
/// Largest provenance object accepted.
pub const MAX_PROVENANCE_BYTES: usize = 8 << 20;
/// Most attestation bundles (publishers) per file, and attestations per bundle.
const MAX_BUNDLES: usize = 8;
const MAX_ATTESTATIONS: usize = 8;

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const GITLAB_ISSUER: &str = "https://gitlab.com";
const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The Trusted Publisher identity of a verified attestation, read from its certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedPublisher {
    /// `GitHub`, `GitLab`, `Google`, or the certificate's OIDC issuer.
    pub kind: String,
    /// `owner/name` (GitHub) or `namespace/project` (GitLab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Immutable numeric repository id, when the certificate has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_id: Option<String>,
    /// The workflow file: `release.yml` for GitHub (under `.github/workflows/`), the CI file
    /// path for GitLab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The CI deployment environment, when the certificate has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The certificate's subject (workflow URI or e-mail address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

impl TrustedPublisher {
    /// `pypa/sampleproject release.yml`, for messages.
    pub fn describe(&self) -> String {
        match (&self.repository, &self.workflow) {
            (Some(r), Some(w)) => format!("{} {r} {w}", self.kind),
            (Some(r), None) => format!("{} {r}", self.kind),
            _ => format!(
                "{} {}",
                self.kind,
                self.identity.as_deref().unwrap_or("(no identity)")
            ),
        }
    }

    fn from_facts(f: &PublisherFacts) -> TrustedPublisher {
        let issuer = f.issuer.as_deref().unwrap_or_default();
        let (kind, host) = match issuer {
            GITHUB_ISSUER => ("GitHub".to_string(), Some("https://github.com/")),
            GITLAB_ISSUER => ("GitLab".to_string(), Some("https://gitlab.com/")),
            GOOGLE_ISSUER => ("Google".to_string(), None),
            "" => ("unknown".to_string(), None),
            other => (truncate(other), None),
        };
        let repository = host.and_then(|h| {
            f.source_repository
                .as_deref()
                .and_then(|r| r.strip_prefix(h))
                .map(|r| r.trim_end_matches('/').to_string())
        });
        let workflow = match kind.as_str() {
            "GitHub" => f
                .workflow_path
                .as_deref()
                .and_then(|p| p.strip_prefix(".github/workflows/"))
                .map(str::to_string),
            "GitLab" => f
                .workflow_path
                .as_deref()
                .map(|p| p.trim_start_matches('/').to_string()),
            _ => None,
        };
        TrustedPublisher {
            kind,
            repository,
            repository_id: f.source_repository_id.clone(),
            workflow,
            environment: f.deployment_environment.clone(),
            identity: f.identity.clone(),
        }
    }

    /// Same repository and workflow (a rename with the same repository id is the same).
    pub fn same_source(&self, other: &TrustedPublisher) -> bool {
        let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => true,
            _ => false,
        };
        let repo_same = match (&self.repository_id, &other.repository_id) {
            (Some(a), Some(b)) => a == b,
            _ => eq(&self.repository, &other.repository),
        };
        self.kind == other.kind
            && repo_same
            && eq(&self.workflow, &other.workflow)
            && (self.repository.is_some() || eq(&self.identity, &other.identity))
    }
}

/// What a verified provenance object establishes about one distribution file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pep740Verification {
    pub filename: String,
    /// The file's sha256 the attestations are bound to.
    pub sha256: String,
    /// Attestations verified (all of them, or the object fails).
    pub attestations: usize,
    pub predicate_types: Vec<String>,
    /// One per attestation bundle, from its certificates.
    pub publishers: Vec<TrustedPublisher>,
    /// Log time (Unix seconds) of the first attestation.
    pub integrated_time: i64,
}

/// Verify the provenance object `bytes` for the file `filename` whose sha256 (lower-case hex)
/// is `sha256`. Every attestation of every bundle must verify; there must be at least one.
pub fn verify_pep740(
    bytes: &[u8],
    filename: &str,
    sha256: &str,
    root: &TrustRoot,
) -> Result<Pep740Verification, VerifyError> {
    if bytes.len() > MAX_PROVENANCE_BYTES {
        return fail(Reason::TooLarge, "provenance object is larger than 8 MiB");
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        VerifyError::new(
            Reason::Malformed,
            format!("provenance object is not JSON: {e}"),
        )
    })?;
    if get(&v, "version").and_then(Value::as_i64) != Some(1) {
        return fail(Reason::Malformed, "provenance object version is not 1");
    }
    let sha256 = sha256.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return fail(
            Reason::IntegrityUnusable,
            "the file's sha256 is not 64 hex digits",
        );
    }
    let bundles = get_array(&v, "attestation_bundles");
    if bundles.is_empty() {
        return fail(
            Reason::Malformed,
            "provenance object has no attestation bundles",
        );
    }
    if bundles.len() > MAX_BUNDLES {
        return fail(Reason::TooLarge, "too many attestation bundles");
    }
    let keys = Keys::none();
    let mut out = Pep740Verification {
        filename: filename.to_string(),
        sha256: sha256.clone(),
        attestations: 0,
        predicate_types: Vec::new(),
        publishers: Vec::new(),
        integrated_time: 0,
    };
    for (bi, b) in bundles.iter().enumerate() {
        let atts = get_array(b, "attestations");
        if atts.is_empty() {
            return fail(
                Reason::Malformed,
                format!("bundle {bi} has no attestations"),
            );
        }
        if atts.len() > MAX_ATTESTATIONS {
            return fail(
                Reason::TooLarge,
                format!("bundle {bi} has too many attestations"),
            );
        }
        let mut publisher: Option<TrustedPublisher> = None;
        for (ai, a) in atts.iter().enumerate() {
            let at = |e: VerifyError| {
                VerifyError::new(e.reason, format!("attestation {bi}.{ai}: {}", e.detail))
            };
            let vb = verify_bundle_value(&as_bundle(a).map_err(at)?, &keys, root).map_err(at)?;
            let predicate = check_statement(&vb, filename, &sha256).map_err(at)?;
            let Some(id) = vb.identity() else {
                return Err(at(VerifyError::new(
                    Reason::CertificateMalformed,
                    "not signed by a Fulcio certificate",
                )));
            };
            let facts = PublisherFacts::from_parts(&id, &Value::Null);
            let tp = TrustedPublisher::from_facts(&facts);
            if let Some(p) = &publisher
                && p != &tp
            {
                return Err(at(VerifyError::new(
                    Reason::PublisherMismatch,
                    "attestations of one bundle were signed by different identities",
                )));
            }
            if out.attestations == 0 {
                out.integrated_time = vb.integrated_time;
            }
            out.attestations += 1;
            if !out.predicate_types.contains(&predicate) {
                out.predicate_types.push(predicate);
            }
            publisher = Some(tp);
        }
        let tp = publisher.unwrap_or_default();
        if let Some(claim) = get_object(b, "publisher") {
            check_claim(claim, &tp)
                .map_err(|e| VerifyError::new(e.reason, format!("bundle {bi}: {}", e.detail)))?;
        }
        if !out.publishers.contains(&tp) {
            out.publishers.push(tp);
        }
    }
    Ok(out)
}

/// One PEP 740 attestation as a Sigstore v0.3 bundle.
fn as_bundle(a: &Value) -> Result<Value, VerifyError> {
    if get(a, "version").and_then(Value::as_i64) != Some(1) {
        return fail(Reason::Malformed, "attestation version is not 1");
    }
    let (Some(env), Some(vm)) = (
        get_object(a, "envelope"),
        get_object(a, "verification_material"),
    ) else {
        return fail(
            Reason::Malformed,
            "attestation has no envelope or verification_material",
        );
    };
    let (Some(statement), Some(signature), Some(cert)) = (
        get_str(env, "statement"),
        get_str(env, "signature"),
        get_str(vm, "certificate"),
    ) else {
        return fail(
            Reason::Malformed,
            "attestation lacks its statement, signature or certificate",
        );
    };
    Ok(json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": cert},
            "tlogEntries": get_array(vm, "transparency_entries"),
        },
        "dsseEnvelope": {
            "payload": statement,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": signature}],
        },
    }))
}

/// PEP 503-style folding of a whole file name: runs of `-_.` become `-`, lower case (wheel
/// and sdist names are written with either separator).
fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The statement must name `filename` with its sha256; returns the predicate type.
fn check_statement(
    vb: &VerifiedBundle,
    filename: &str,
    sha256: &str,
) -> Result<String, VerifyError> {
    let Some(st) = &vb.statement else {
        return fail(Reason::UnsupportedContent, "not a DSSE in-toto statement");
    };
    let pt = st.predicate_type.as_str();
    if pt != PYPI_PUBLISH_PREDICATE && !pt.starts_with(crate::SLSA_PREDICATE_PREFIX) {
        return fail(
            Reason::PredicateMismatch,
            format!("predicate type {:?} is not a PEP 740 one", truncate(pt)),
        );
    }
    if st.subjects.len() != 1 {
        return fail(
            Reason::SubjectMismatch,
            format!(
                "statement has {} subjects, PEP 740 requires exactly one",
                st.subjects.len()
            ),
        );
    }
    let s = &st.subjects[0];
    let named = s.name.as_deref().unwrap_or_default();
    if fold(named) != fold(filename) {
        return fail(
            Reason::SubjectMismatch,
            format!(
                "the attestation is for {:?}, not {:?}",
                truncate(named),
                truncate(filename)
            ),
        );
    }
    match s.digest.get("sha256") {
        Some(d) if d == sha256 => Ok(pt.to_string()),
        Some(d) => fail(
            Reason::SubjectDigestMismatch,
            format!(
                "the attestation's sha256 {} differs from the file's {sha256}",
                truncate(d)
            ),
        ),
        None => fail(Reason::SubjectDigestMismatch, "the subject has no sha256"),
    }
}

/// The index's publisher claim must agree with the certificate where it can be checked.
fn check_claim(claim: &Value, cert: &TrustedPublisher) -> Result<(), VerifyError> {
    let kind = get_str(claim, "kind").unwrap_or_default();
    let mismatch = |what: &str, claimed: &str, signed: Option<&str>| {
        fail(
            Reason::PublisherMismatch,
            format!(
                "the index claims {what} {:?} but the certificate says {:?}",
                truncate(claimed),
                signed.map(truncate).unwrap_or_default()
            ),
        )
    };
    let same = |claimed: &str, signed: Option<&str>| {
        signed.is_some_and(|s| s.eq_ignore_ascii_case(claimed.trim_matches('/')))
    };
    match kind {
        "GitHub" | "GitLab" => {
            if cert.kind != kind {
                return mismatch("a publisher of kind", kind, Some(&cert.kind));
            }
            let repo = get_str(claim, "repository").unwrap_or_default();
            if !same(repo, cert.repository.as_deref()) {
                return mismatch("repository", repo, cert.repository.as_deref());
            }
            let wf_key = if kind == "GitHub" {
                "workflow"
            } else {
                "workflow_filepath"
            };
            if let Some(wf) = get_str(claim, wf_key).filter(|w| !w.is_empty())
                && !same(wf, cert.workflow.as_deref())
            {
                return mismatch("workflow", wf, cert.workflow.as_deref());
            }
            if let (Some(env), Some(signed)) = (
                get_str(claim, "environment").filter(|e| !e.is_empty()),
                cert.environment.as_deref(),
            ) && !env.eq_ignore_ascii_case(signed)
            {
                return mismatch("environment", env, Some(signed));
            }
            Ok(())
        }
        // Other publisher kinds are reported from the certificate alone.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
