//! npm attestations (`GET /-/npm/v1/attestations/<name>@<version>`): every bundle verified,
//! every statement bound to this package (`pkg:npm/<name>@<version>` with the sha512 of the
//! integrity), the registry's publish attestation recognised by its npm-key signature, and the
//! SLSA provenance turned into [`PublisherFacts`].

use serde::Serialize;
use serde_json::Value;
use turncoat_npm::{Algorithm, Integrity};

use crate::encoding::{get, get_array, get_str};
use crate::error::{Reason, VerifyError};
use crate::facts::PublisherFacts;
use crate::keys::Keys;
use crate::trust_root::TrustRoot;
use crate::verify::{SignedBy, Statement, VerifiedBundle, verify_bundle_value};

/// Predicate of the registry-signed npm publish attestation.
pub const PUBLISH_PREDICATE: &str =
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
/// Prefix of SLSA provenance predicates (`v0.2`, `v1`).
pub const SLSA_PREDICATE_PREFIX: &str = "https://slsa.dev/provenance/";

/// Largest attestations document accepted.
pub const MAX_ATTESTATIONS_BYTES: usize = 16 << 20;
/// Most bundles in one attestations document (npm serves two).
const MAX_ATTESTATIONS: usize = 16;

/// Provenance outcome for one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProvenanceStatus {
    /// SLSA provenance verified and bound to this exact tarball.
    Verified,
    /// Attestations were present but one failed to verify or to bind to this package.
    Invalid,
    /// No provenance (possibly only the registry's publish attestation).
    Absent,
}

impl ProvenanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvenanceStatus::Verified => "verified",
            ProvenanceStatus::Invalid => "invalid",
            ProvenanceStatus::Absent => "absent",
        }
    }
}

impl std::fmt::Display for ProvenanceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the attestations of one version establish.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenanceResult {
    pub status: ProvenanceStatus,
    /// Why, when `status` is [`ProvenanceStatus::Invalid`].
    pub error: Option<VerifyError>,
    /// From the verified provenance's certificate.
    pub publisher: Option<PublisherFacts>,
    /// The registry's own publish attestation (signed with an npm key) verified.
    pub publish_attestation: bool,
    /// `predicateType` of the verified provenance.
    pub predicate_type: Option<String>,
}

impl ProvenanceResult {
    pub fn absent() -> ProvenanceResult {
        ProvenanceResult {
            status: ProvenanceStatus::Absent,
            error: None,
            publisher: None,
            publish_attestation: false,
            predicate_type: None,
        }
    }

    fn invalid(error: VerifyError) -> ProvenanceResult {
        ProvenanceResult {
            status: ProvenanceStatus::Invalid,
            error: Some(error),
            ..ProvenanceResult::absent()
        }
    }

    /// The failure reason code, when invalid.
    pub fn reason(&self) -> Option<Reason> {
        self.error.as_ref().map(|e| e.reason)
    }
}

/// The PURL npm puts in subjects (`npm-package-arg` `toPurl`): `@` of a scope escaped.
pub fn npm_purl(name: &str, version: &str) -> String {
    match name.strip_prefix('@') {
        Some(rest) => format!("pkg:npm/%40{rest}@{version}"),
        None => format!("pkg:npm/{name}@{version}"),
    }
}

/// Check that `statement` is about `name@version` with the given sha512 (hex).
pub fn check_subject(
    statement: &Statement,
    name: &str,
    version: &str,
    sha512_hex: &str,
) -> Result<(), VerifyError> {
    let purl = npm_purl(name, version);
    // The attestation spec README writes the scope unescaped; npm's code escapes it.
    let unescaped = format!("pkg:npm/{name}@{version}");
    let Some(subject) = statement.subjects.iter().find(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n == purl || n == unescaped)
    }) else {
        return Err(VerifyError::new(
            Reason::SubjectMismatch,
            format!("no subject names {purl}"),
        ));
    };
    match subject.digest.get("sha512") {
        Some(d) if d.eq_ignore_ascii_case(sha512_hex) => Ok(()),
        Some(d) => Err(VerifyError::new(
            Reason::SubjectDigestMismatch,
            format!(
                "subject sha512 {}… differs from the integrity {}…",
                d.get(..16).unwrap_or(d),
                sha512_hex.get(..16).unwrap_or(sha512_hex)
            ),
        )),
        None => Err(VerifyError::new(
            Reason::SubjectDigestMismatch,
            "subject has no sha512 digest",
        )),
    }
}

/// The sha512 (hex) of an SRI string, as npm attestation subjects carry it.
pub fn integrity_sha512_hex(integrity: &str) -> Option<String> {
    Integrity::parse(integrity)
        .ok()?
        .hashes
        .iter()
        .find(|h| h.algorithm == Algorithm::Sha512)
        .map(|h| h.hex())
}

/// Verify an attestations response for `name@version` whose tarball has `integrity`.
///
/// `name` is the real registry name (aliases resolved by the caller). Any bundle that fails,
/// or any statement not about this tarball, makes the whole result invalid: the registry
/// serves only attestations for this version, so a bad one is tampering.
pub fn verify_attestations(
    name: &str,
    version: &str,
    integrity: &str,
    attestations_json: &[u8],
    keys: &Keys,
    root: &TrustRoot,
) -> ProvenanceResult {
    match verify_inner(name, version, integrity, attestations_json, keys, root) {
        Ok(r) => r,
        Err(e) => ProvenanceResult::invalid(e),
    }
}

fn verify_inner(
    name: &str,
    version: &str,
    integrity: &str,
    bytes: &[u8],
    keys: &Keys,
    root: &TrustRoot,
) -> Result<ProvenanceResult, VerifyError> {
    if bytes.len() > MAX_ATTESTATIONS_BYTES {
        return Err(VerifyError::new(
            Reason::TooLarge,
            "attestations document is larger than 16 MiB",
        ));
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        VerifyError::new(Reason::Malformed, format!("attestations are not JSON: {e}"))
    })?;
    if !get(&doc, "attestations").is_some_and(Value::is_array) {
        return Err(VerifyError::new(
            Reason::Malformed,
            "attestations document has no \"attestations\" array",
        ));
    }
    let list = get_array(&doc, "attestations");
    if list.is_empty() {
        return Ok(ProvenanceResult::absent());
    }
    if list.len() > MAX_ATTESTATIONS {
        return Err(VerifyError::new(Reason::TooLarge, "too many attestations"));
    }
    let Some(sha512) = integrity_sha512_hex(integrity) else {
        return Err(VerifyError::new(
            Reason::IntegrityUnusable,
            "the integrity has no sha512 to bind attestations to",
        ));
    };
    let mut result = ProvenanceResult::absent();
    for (i, a) in list.iter().enumerate() {
        let label = get_str(a, "predicateType").unwrap_or("attestation");
        let context = |e: VerifyError| VerifyError {
            reason: e.reason,
            detail: format!("{} [{i}]: {}", crate::bundle::truncate(label), e.detail),
        };
        let Some(bundle) = get(a, "bundle") else {
            return Err(context(VerifyError::new(Reason::Malformed, "no bundle")));
        };
        let vb = verify_bundle_value(bundle, keys, root).map_err(context)?;
        classify(&vb, name, version, &sha512, &mut result).map_err(context)?;
    }
    Ok(result)
}

fn classify(
    vb: &VerifiedBundle,
    name: &str,
    version: &str,
    sha512: &str,
    result: &mut ProvenanceResult,
) -> Result<(), VerifyError> {
    let Some(statement) = &vb.statement else {
        // A message signature can only bind to the tarball through a sha512 digest.
        return match &vb.message_digest {
            Some((alg, d)) if alg == "sha512" && hex::encode(d) == sha512 => Ok(()),
            _ => Err(VerifyError::new(
                Reason::UnsupportedContent,
                "message signature is not over this tarball's sha512",
            )),
        };
    };
    check_subject(statement, name, version, sha512)?;
    if statement.predicate_type == PUBLISH_PREDICATE {
        // Only the registry's key makes it the registry's publish attestation; the same
        // predicate signed by anyone else is just a claim.
        if matches!(vb.signed_by, SignedBy::NpmKey { .. }) {
            let p = &statement.predicate;
            let named = |k: &str, want: &str| get_str(p, k).is_none_or(|v| v == want);
            if !named("name", name) || !named("version", version) {
                return Err(VerifyError::new(
                    Reason::PredicateMismatch,
                    "publish attestation names another package or version",
                ));
            }
            result.publish_attestation = true;
        }
    } else if statement.predicate_type.starts_with(SLSA_PREDICATE_PREFIX) {
        result.status = ProvenanceStatus::Verified;
        result.predicate_type = Some(statement.predicate_type.clone());
        result.publisher = vb
            .identity()
            .map(|id| PublisherFacts::from_parts(&id, &statement.predicate));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Identity, Kit};
    use serde_json::json;

    const NAME: &str = "@scope/pkg";
    const VERSION: &str = "1.2.3";

    fn run(kit: &Kit, doc: &Value, integrity: &str) -> ProvenanceResult {
        verify_attestations(
            NAME,
            VERSION,
            integrity,
            doc.to_string().as_bytes(),
            &kit.npm_keys(None),
            &kit.trust_root(),
        )
    }

    #[test]
    fn verifies_provenance_and_publish_attestation() {
        let kit = Kit::new();
        let integrity = Kit::integrity(b"tarball");
        let doc = kit.attestations(NAME, VERSION, &integrity, &Identity::default());
        let r = run(&kit, &doc, &integrity);
        assert_eq!(r.status, ProvenanceStatus::Verified, "{:?}", r.error);
        assert!(r.publish_attestation);
        let p = r.publisher.unwrap();
        assert_eq!(
            p.source_repository.as_deref(),
            Some("https://github.com/acme/widget")
        );
        assert_eq!(p.source_repository_id.as_deref(), Some("1001"));
        assert_eq!(
            p.workflow_path.as_deref(),
            Some(".github/workflows/release.yml")
        );
        assert_eq!(
            r.predicate_type.as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
    }

    #[test]
    fn binds_to_the_tarball_and_name() {
        let kit = Kit::new();
        let integrity = Kit::integrity(b"tarball");
        let doc = kit.attestations(NAME, VERSION, &integrity, &Identity::default());
        let other = Kit::integrity(b"evil");
        assert_eq!(
            run(&kit, &doc, &other).reason(),
            Some(Reason::SubjectDigestMismatch)
        );
        let r = verify_attestations(
            "@scope/other",
            VERSION,
            &integrity,
            doc.to_string().as_bytes(),
            &kit.npm_keys(None),
            &kit.trust_root(),
        );
        assert_eq!(r.reason(), Some(Reason::SubjectMismatch));
        assert_eq!(
            run(&kit, &doc, "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=").reason(),
            Some(Reason::IntegrityUnusable)
        );
    }

    #[test]
    fn absent_and_malformed_documents() {
        let kit = Kit::new();
        let i = Kit::integrity(b"t");
        assert_eq!(
            run(&kit, &json!({"attestations": []}), &i).status,
            ProvenanceStatus::Absent
        );
        assert_eq!(run(&kit, &json!({}), &i).reason(), Some(Reason::Malformed));
        assert_eq!(
            run(&kit, &json!({"attestations": [{"predicateType": "x"}]}), &i).reason(),
            Some(Reason::Malformed)
        );
        let r = verify_attestations(
            NAME,
            VERSION,
            &i,
            b"\xff",
            &kit.npm_keys(None),
            &kit.trust_root(),
        );
        assert_eq!(r.reason(), Some(Reason::Malformed));
    }

    #[test]
    fn publish_attestation_only_is_not_provenance() {
        let kit = Kit::new();
        let integrity = Kit::integrity(b"tarball");
        let mut doc = kit.attestations(NAME, VERSION, &integrity, &Identity::default());
        doc["attestations"].as_array_mut().unwrap().truncate(1);
        let r = run(&kit, &doc, &integrity);
        assert_eq!(r.status, ProvenanceStatus::Absent);
        assert!(r.publish_attestation);
        assert!(r.publisher.is_none());
    }

    #[test]
    fn purls() {
        assert_eq!(npm_purl("@a/b", "1.0.0"), "pkg:npm/%40a/b@1.0.0");
        assert_eq!(npm_purl("b", "1.0.0"), "pkg:npm/b@1.0.0");
        assert_eq!(
            integrity_sha512_hex(&Kit::integrity(b"")).unwrap().len(),
            128
        );
    }
}
