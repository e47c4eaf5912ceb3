//! One call per package version: registry signature + attestations + trusted-publisher fact,
//! summarised as a serialisable [`PackageVerification`].

use serde::Serialize;
use turncoat_npm::{Manifest, TrustedPublisher};

use crate::attestations::{ProvenanceStatus, verify_attestations};
use crate::error::VerifyError;
use crate::facts::PublisherFacts;
use crate::keys::Keys;
use crate::signature::{SignatureStatus, verify_signature};
use crate::trust_root::TrustRoot;

/// What to verify for one version. Bytes in, facts out: the caller fetched everything.
#[derive(Debug, Clone, Copy)]
pub struct PackageInput<'a> {
    /// Real registry name (npm aliases resolved).
    pub name: &'a str,
    pub version: &'a str,
    /// The integrity to verify: the lockfile's, or the registry's `dist.integrity`.
    pub integrity: &'a str,
    /// The registry's version document (packument `versions[version]`).
    pub manifest: &'a Manifest,
    /// `time[version]` (RFC 3339).
    pub published: Option<&'a str>,
    /// The `/-/npm/v1/attestations/<name>@<version>` response, when fetched.
    pub attestations: Option<&'a [u8]>,
}

/// The verification facts of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageVerification {
    pub name: String,
    pub version: String,
    pub signature: SignatureStatus,
    pub provenance: ProvenanceStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<PublisherFacts>,
    /// The registry's own publish attestation verified.
    pub publish_attestation: bool,
    /// `_npmUser.trustedPublisher`: published through OIDC trusted publishing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_publisher: Option<TrustedPublisher>,
    /// Why the signature or provenance is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The typed provenance failure.
    #[serde(skip)]
    pub provenance_error: Option<VerifyError>,
}

impl PackageVerification {
    /// True when SLSA provenance was verified and bound to this tarball.
    pub fn has_provenance(&self) -> bool {
        self.provenance == ProvenanceStatus::Verified
    }
}

/// Verify one version's registry signature and attestations.
pub fn verify_package(
    input: &PackageInput<'_>,
    keys: &Keys,
    root: &TrustRoot,
) -> PackageVerification {
    let m = input.manifest;
    let signature = verify_signature(
        input.name,
        input.version,
        input.integrity,
        &m.dist.signatures,
        input.published,
        keys,
    );
    let mut reasons = Vec::new();
    match signature {
        SignatureStatus::Invalid => {
            let registry_signed_other = m.dist.integrity.as_deref().is_some_and(|d| {
                d.trim() != input.integrity.trim()
                    && verify_signature(
                        input.name,
                        input.version,
                        d,
                        &m.dist.signatures,
                        input.published,
                        keys,
                    ) == SignatureStatus::Valid
            });
            reasons.push(if registry_signed_other {
                "registry signature is for the registry's dist.integrity, which differs from this integrity".to_string()
            } else {
                "registry signature does not verify".to_string()
            });
        }
        SignatureStatus::ExpiredKey => {
            reasons.push("registry signature is by a key that had expired at publish time".into())
        }
        SignatureStatus::UnknownKey => {
            reasons.push("registry signature is by a key turncoat does not know".into())
        }
        SignatureStatus::Valid | SignatureStatus::Missing => {}
    }
    let prov = match input.attestations {
        Some(bytes) => verify_attestations(
            input.name,
            input.version,
            input.integrity,
            bytes,
            keys,
            root,
        ),
        None => crate::attestations::ProvenanceResult::absent(),
    };
    if let Some(e) = &prov.error {
        reasons.push(format!("provenance {e}"));
    }
    PackageVerification {
        name: input.name.to_string(),
        version: input.version.to_string(),
        signature,
        provenance: prov.status,
        publisher: prov.publisher,
        publish_attestation: prov.publish_attestation,
        trusted_publisher: m.trusted_publisher.clone(),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        provenance_error: prov.error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::signed_message;
    use crate::testkit::{Identity, Kit};
    use turncoat_npm::DistSignature;

    fn manifest(kit: &Kit, integrity: &str) -> Manifest {
        let mut m = Manifest::default();
        m.dist.integrity = Some(integrity.to_string());
        m.dist.signatures = vec![DistSignature {
            keyid: Kit::NPM_KEYID.to_string(),
            sig: kit.npm_sign(&signed_message("@scope/pkg", "1.2.3", integrity)),
        }];
        m
    }

    #[test]
    fn verifies_and_serialises() {
        let kit = Kit::new();
        let integrity = Kit::integrity(b"tgz");
        let m = manifest(&kit, &integrity);
        let doc = kit
            .attestations("@scope/pkg", "1.2.3", &integrity, &Identity::default())
            .to_string();
        let input = PackageInput {
            name: "@scope/pkg",
            version: "1.2.3",
            integrity: &integrity,
            manifest: &m,
            published: Some("2025-09-12T21:47:34.863Z"),
            attestations: Some(doc.as_bytes()),
        };
        let v = verify_package(&input, &kit.npm_keys(None), &kit.trust_root());
        assert_eq!(v.signature, SignatureStatus::Valid);
        assert_eq!(v.provenance, ProvenanceStatus::Verified);
        assert!(v.has_provenance());
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["signature"], "valid");
        assert_eq!(json["provenance"], "verified");
        assert_eq!(json["publisher"]["source_repository_id"], "1001");
        assert!(json.get("reason").is_none());
    }

    #[test]
    fn explains_a_lockfile_integrity_the_registry_did_not_sign() {
        let kit = Kit::new();
        let registry = Kit::integrity(b"tgz");
        let m = manifest(&kit, &registry);
        let locked = Kit::integrity(b"other");
        let input = PackageInput {
            name: "@scope/pkg",
            version: "1.2.3",
            integrity: &locked,
            manifest: &m,
            published: None,
            attestations: None,
        };
        let v = verify_package(&input, &kit.npm_keys(None), &kit.trust_root());
        assert_eq!(v.signature, SignatureStatus::Invalid);
        assert_eq!(v.provenance, ProvenanceStatus::Absent);
        assert!(v.reason.unwrap().contains("differs from this integrity"));
    }
}
