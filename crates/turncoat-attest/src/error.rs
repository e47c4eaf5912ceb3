//! Why a bundle or an attestation failed to verify: a stable reason code plus detail text.

use std::fmt;

use serde::Serialize;

/// The check that failed. Codes are stable (kebab-case); tests and callers match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Not valid JSON, or a required field is missing or of the wrong type / bad base64.
    Malformed,
    /// Input larger than the verifier accepts.
    TooLarge,
    /// A bundle media type other than v0.1, v0.2 or v0.3.
    UnsupportedMediaType,
    /// Neither a DSSE envelope nor a message signature, or content that cannot be bound to
    /// the package (a message signature over a non-sha512 digest).
    UnsupportedContent,
    /// The DSSE envelope does not carry exactly one signature.
    SignatureCount,
    /// The DSSE payload is not an in-toto statement.
    UnsupportedPayloadType,
    /// The DSSE (or message) signature does not verify with the signer's key.
    SignatureInvalid,
    /// The signing certificate is not valid DER X.509 or has an unsupported key.
    CertificateMalformed,
    /// No trusted Fulcio CA (valid at the log time) issued the signing certificate.
    CertificateChainInvalid,
    /// The signing certificate was not valid at the log's integrated time.
    CertificateExpired,
    /// The signing certificate is not for code signing.
    CertificateUsage,
    /// `publicKey.hint` names a key we do not have.
    UnknownKey,
    /// The npm key named by `publicKey.hint` had expired at the log's integrated time.
    KeyExpired,
    /// No transparency log entry.
    NoTlogEntry,
    /// A log entry kind or shape we cannot verify (e.g. Rekor v2 without an integrated time).
    UnsupportedTlogEntry,
    /// The entry's log is not in the trust root (or not valid at the entry's time).
    UnknownLog,
    /// No signed entry timestamp (inclusion promise) to trust the integrated time by.
    SetMissing,
    /// The signed entry timestamp does not verify.
    SetInvalid,
    /// A v0.2+ bundle without an inclusion proof.
    InclusionProofMissing,
    /// The Merkle inclusion proof does not lead to the stated root.
    InclusionProofInvalid,
    /// The signed checkpoint is missing its signature, does not verify, or disagrees with the
    /// proof's tree size or root.
    CheckpointInvalid,
    /// The log entry body does not describe this envelope / signature / signer.
    TlogBodyMismatch,
    /// The DSSE payload is not an in-toto statement we can read.
    StatementMalformed,
    /// No subject names this package (`pkg:npm/<name>@<version>`).
    SubjectMismatch,
    /// The subject's sha512 differs from the package integrity.
    SubjectDigestMismatch,
    /// The package integrity has no sha512 to compare with.
    IntegrityUnusable,
    /// The npm publish attestation names another package or version, or a PEP 740
    /// attestation has a predicate type PEP 740 does not define.
    PredicateMismatch,
    /// The index's Trusted Publisher claim disagrees with the signing certificate, or one
    /// bundle's attestations were signed by different identities.
    PublisherMismatch,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::TooLarge => "too-large",
            Reason::UnsupportedMediaType => "unsupported-media-type",
            Reason::UnsupportedContent => "unsupported-content",
            Reason::SignatureCount => "signature-count",
            Reason::UnsupportedPayloadType => "unsupported-payload-type",
            Reason::SignatureInvalid => "signature-invalid",
            Reason::CertificateMalformed => "certificate-malformed",
            Reason::CertificateChainInvalid => "certificate-chain-invalid",
            Reason::CertificateExpired => "certificate-expired",
            Reason::CertificateUsage => "certificate-usage",
            Reason::UnknownKey => "unknown-key",
            Reason::KeyExpired => "key-expired",
            Reason::NoTlogEntry => "no-tlog-entry",
            Reason::UnsupportedTlogEntry => "unsupported-tlog-entry",
            Reason::UnknownLog => "unknown-log",
            Reason::SetMissing => "set-missing",
            Reason::SetInvalid => "set-invalid",
            Reason::InclusionProofMissing => "inclusion-proof-missing",
            Reason::InclusionProofInvalid => "inclusion-proof-invalid",
            Reason::CheckpointInvalid => "checkpoint-invalid",
            Reason::TlogBodyMismatch => "tlog-body-mismatch",
            Reason::StatementMalformed => "statement-malformed",
            Reason::SubjectMismatch => "subject-mismatch",
            Reason::SubjectDigestMismatch => "subject-digest-mismatch",
            Reason::IntegrityUnusable => "integrity-unusable",
            Reason::PredicateMismatch => "predicate-mismatch",
            Reason::PublisherMismatch => "publisher-mismatch",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed verification: which check, and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct VerifyError {
    pub reason: Reason,
    pub detail: String,
}

impl VerifyError {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        VerifyError {
            reason,
            detail: detail.into(),
        }
    }
}

pub(crate) fn fail<T>(reason: Reason, detail: impl Into<String>) -> Result<T, VerifyError> {
    Err(VerifyError::new(reason, detail))
}
