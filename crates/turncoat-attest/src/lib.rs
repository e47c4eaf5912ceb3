//! Offline, sans-IO verification of what the npm registry says about a package version, and
//! the publish-path drift it reveals.
//!
//! This crate owns:
//! - npm registry signatures (`dist.signatures`, [`verify_signature`]) with the embedded npm
//!   keys ([`Keys`]) and key expiry at publish time;
//! - Sigstore bundles v0.1–v0.3 ([`verify_bundle`]): Rekor SET, Merkle inclusion proof,
//!   signed checkpoint, log-body consistency, Fulcio chain at the log time against the embedded
//!   trust root ([`TrustRoot`]), DSSE signatures by a Fulcio leaf or an npm key;
//! - npm attestations ([`verify_attestations`]): subjects bound to `pkg:npm/<name>@<version>`
//!   and the tarball's sha512, the registry's publish attestation, and [`PublisherFacts`] from
//!   the provenance certificate;
//! - PyPI's PEP 740 provenance objects ([`pep740::verify_pep740`]): each attestation as a
//!   Sigstore bundle, bound to the file's sha256, the Trusted Publisher read from the
//!   certificate, and the PEP 740 rules ([`pep740::rules`]);
//! - per-version summaries ([`verify_package`]) and the drift rules of group `attest`
//!   ([`drift`]) that compare a version with the package's own history.
//!
//! Everything takes bytes and returns facts: no network, no filesystem, no clock. Every input
//! is hostile; failures are typed ([`VerifyError`] with a [`Reason`]) and nothing panics.

mod attestations;
mod bundle;
mod crypto;
pub mod drift;
mod encoding;
mod error;
mod facts;
mod keys;
mod package;
pub mod pep740;
mod rekor;
mod signature;
mod trust_root;
mod verify;
mod x509;

// Test-only: this crate's tests, and other crates' through the `testkit` feature.
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use attestations::{
    PUBLISH_PREDICATE, ProvenanceResult, ProvenanceStatus, SLSA_PREDICATE_PREFIX, check_subject,
    integrity_sha512_hex, npm_purl, verify_attestations,
};
pub use bundle::BundleVersion;
pub use error::{Reason, VerifyError};
pub use facts::PublisherFacts;
pub use keys::{KeyUsage, Keys, KeysError, NpmKey};
pub use package::{PackageInput, PackageVerification, verify_package};
pub use signature::{SignatureStatus, signed_message, verify_signature};
pub use trust_root::{TrustRoot, TrustRootError};
pub use verify::{
    MAX_BUNDLE_BYTES, SignedBy, Statement, Subject, VerifiedBundle, verify_bundle,
    verify_bundle_value,
};

pub use drift::drift;

/// Every rule this crate reports (the drift and PEP 740 rules of group `attest`).
pub fn rules() -> Vec<&'static turncoat_finding::RuleDoc> {
    let mut all = drift::rules();
    all.extend(pep740::rules::rules());
    all
}
