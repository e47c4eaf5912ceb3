//! Verify one Sigstore bundle end to end, offline: transparency log (SET, inclusion proof,
//! checkpoint), signer (Fulcio chain at the log time, or an npm registry key named by
//! `publicKey.hint`), the DSSE / message signature, and the log body's consistency with all of
//! it. What the statement *says* (subject, predicate) is left to the caller.
//!
//! Not checked: embedded SCTs and RFC 3161 timestamps; Rekor v2 entries (no SET, no
//! integrated time) are refused as unsupported rather than trusted.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::bundle::{Bundle, BundleVersion, Content, Material, truncate};
use crate::crypto::{HashAlg, PublicKey};
use crate::encoding::{get, get_array, get_str};
use crate::error::{Reason, VerifyError, fail};
use crate::keys::{KeyUsage, Keys};
use crate::rekor::{self, Signer};
use crate::trust_root::TrustRoot;
use crate::x509::{CertIdentity, ParsedCert, verify_leaf};

/// Largest bundle JSON accepted.
pub const MAX_BUNDLE_BYTES: usize = 8 << 20;

const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// One subject of an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub name: Option<String>,
    /// Algorithm (`sha512`, `sha256`, …) → lower-case hex digest.
    pub digest: BTreeMap<String, String>,
}

/// An in-toto statement (v0.1 or v1), the DSSE payload of an attestation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subjects: Vec<Subject>,
    pub predicate_type: String,
    pub predicate: Value,
}

impl Statement {
    pub(crate) fn parse(payload: &[u8]) -> Result<Statement, VerifyError> {
        let bad = |d: &str| VerifyError::new(Reason::StatementMalformed, d.to_string());
        let v: Value = serde_json::from_slice(payload).map_err(|_| bad("payload is not JSON"))?;
        let statement_type = get_str(&v, "_type")
            .ok_or_else(|| bad("statement has no _type"))?
            .to_string();
        if !statement_type.starts_with("https://in-toto.io/Statement/") {
            return Err(bad("payload is not an in-toto statement"));
        }
        let subjects = get_array(&v, "subject")
            .iter()
            .map(|s| Subject {
                name: get_str(s, "name").map(str::to_string),
                digest: get(s, "digest")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| {
                                v.as_str().map(|s| (k.clone(), s.to_ascii_lowercase()))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Statement {
            statement_type,
            subjects,
            predicate_type: get_str(&v, "predicateType").unwrap_or_default().to_string(),
            predicate: get(&v, "predicate").cloned().unwrap_or(Value::Null),
        })
    }
}

/// Who signed a verified bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBy {
    /// A Fulcio certificate chaining to the trust root.
    Certificate {
        /// Subject alternative name (workflow URI or e-mail).
        san: Option<String>,
        /// Fulcio extensions by the last arc of `1.3.6.1.4.1.57264.1.<n>`.
        extensions: BTreeMap<u32, String>,
        /// Certificates the bundle carried (1 for a leaf only).
        carried: usize,
    },
    /// An npm registry key (the registry's own publish attestation).
    NpmKey { keyid: String },
}

/// What a successfully verified bundle establishes.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedBundle {
    pub version: BundleVersion,
    /// Log time (Unix seconds) of the first entry, trusted through its SET.
    pub integrated_time: i64,
    pub log_index: i64,
    /// `kind/version` of the first log entry, e.g. `dsse/0.0.1`.
    pub tlog_kind: String,
    pub inclusion_proof: bool,
    pub checkpoint: bool,
    pub signed_by: SignedBy,
    /// The DSSE payload and its statement (`None` for message signatures).
    pub payload: Option<Vec<u8>>,
    pub statement: Option<Statement>,
    /// For message signatures: the signed artifact digest.
    pub message_digest: Option<(String, Vec<u8>)>,
}

impl VerifiedBundle {
    pub(crate) fn identity(&self) -> Option<CertIdentity> {
        match &self.signed_by {
            SignedBy::Certificate {
                san, extensions, ..
            } => Some(CertIdentity {
                san: san.clone(),
                fulcio: extensions.clone(),
            }),
            SignedBy::NpmKey { .. } => None,
        }
    }
}

/// DSSE pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Verify a bundle given as JSON bytes.
pub fn verify_bundle(
    bytes: &[u8],
    keys: &Keys,
    root: &TrustRoot,
) -> Result<VerifiedBundle, VerifyError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return fail(Reason::TooLarge, "bundle is larger than 8 MiB");
    }
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| VerifyError::new(Reason::Malformed, format!("bundle is not JSON: {e}")))?;
    verify_bundle_value(&v, keys, root)
}

/// Verify a bundle already parsed as JSON.
pub fn verify_bundle_value(
    v: &Value,
    keys: &Keys,
    root: &TrustRoot,
) -> Result<VerifiedBundle, VerifyError> {
    let bundle = Bundle::from_value(v)?;
    let Some(first) = bundle.tlog_entries.first() else {
        return fail(Reason::NoTlogEntry, "bundle has no transparency log entry");
    };

    // 1. Transparency log: trust each entry's time only through its SET.
    let mut times = Vec::with_capacity(bundle.tlog_entries.len());
    for e in &bundle.tlog_entries {
        let supported = matches!(
            (e.kind.as_str(), e.version.as_str()),
            ("intoto", "0.0.2") | ("dsse", "0.0.1") | ("hashedrekord", "0.0.1")
        );
        if !supported {
            return fail(
                Reason::UnsupportedTlogEntry,
                format!(
                    "log entry kind {}/{} is not supported",
                    truncate(&e.kind),
                    truncate(&e.version)
                ),
            );
        }
        let Some(t) = e.integrated_time else {
            return fail(
                Reason::UnsupportedTlogEntry,
                "log entry has no integrated time (Rekor v2 / RFC 3161 timestamps are not supported)",
            );
        };
        let Some(log) = root.log(&e.log_id, t) else {
            return fail(
                Reason::UnknownLog,
                format!(
                    "log {} is not in the trust root (or not valid at {t})",
                    hex::encode(&e.log_id)
                ),
            );
        };
        rekor::verify_set(e, log, t)?;
        if e.proof.is_none() && bundle.version >= BundleVersion::V02 {
            return fail(
                Reason::InclusionProofMissing,
                format!(
                    "a v{} bundle must carry an inclusion proof",
                    bundle.version.as_str()
                ),
            );
        }
        rekor::verify_inclusion(e, log)?;
        times.push(t);
    }

    // 2. Signer, valid at every log time.
    let leaf;
    let (key, signed_by, signer): (&PublicKey, SignedBy, Signer<'_>) = match &bundle.material {
        Material::Certificate { leaf: der, carried } => {
            leaf = ParsedCert::parse(der)?;
            for t in &times {
                verify_leaf(&leaf, &root.authorities, *t)?;
            }
            let id = leaf.identity();
            (
                &leaf.key,
                SignedBy::Certificate {
                    san: id.san,
                    extensions: id.fulcio,
                    carried: *carried,
                },
                Signer::Certificate(&leaf.der),
            )
        }
        Material::PublicKey { hint } => {
            let Some(k) = keys.get(hint, KeyUsage::Attestations) else {
                return fail(
                    Reason::UnknownKey,
                    format!("no npm key {:?}", truncate(hint)),
                );
            };
            if let Some(t) = times.iter().find(|t| k.expired_at(**t)) {
                return fail(
                    Reason::KeyExpired,
                    format!("npm key {} had expired at log time {t}", k.keyid),
                );
            }
            (
                &k.key,
                SignedBy::NpmKey {
                    keyid: k.keyid.clone(),
                },
                Signer::Key(&k.spki_der),
            )
        }
    };

    // 3. The signature over the content.
    let sig_ok = match &bundle.content {
        Content::Dsse(d) => key.verify(
            key.default_hash(),
            &pae(&d.payload_type, &d.payload),
            &d.sig,
        ),
        Content::Message(m) => key.verify_prehash(&m.digest, &m.sig),
    };
    if !sig_ok {
        return fail(
            Reason::SignatureInvalid,
            "the signature does not verify with the signer's key",
        );
    }

    // 4. Every log entry must be about this signature, payload and signer.
    for e in &bundle.tlog_entries {
        rekor::check_body(e, &bundle.content, &signer)?;
    }

    let (payload, statement, message_digest) = match bundle.content {
        Content::Dsse(d) => {
            if d.payload_type != IN_TOTO_PAYLOAD_TYPE {
                return fail(
                    Reason::UnsupportedPayloadType,
                    format!("DSSE payload type {:?}", truncate(&d.payload_type)),
                );
            }
            let st = Statement::parse(&d.payload)?;
            (Some(d.payload), Some(st), None)
        }
        Content::Message(m) => {
            let alg = match m.digest_alg {
                HashAlg::Sha256 => "sha256",
                HashAlg::Sha384 => "sha384",
                HashAlg::Sha512 => "sha512",
            };
            (None, None, Some((alg.to_string(), m.digest)))
        }
    };
    let proof = first.proof.as_ref();
    Ok(VerifiedBundle {
        version: bundle.version,
        integrated_time: times.first().copied().unwrap_or_default(),
        log_index: first.log_index,
        tlog_kind: format!("{}/{}", first.kind, first.version),
        inclusion_proof: proof.is_some(),
        checkpoint: proof.is_some_and(|p| p.checkpoint.is_some()),
        signed_by,
        payload,
        statement,
        message_digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::b64;
    use crate::testkit::{Identity, Kind, Kit, Signer as By, T, Version};
    use serde_json::json;

    fn statement() -> Value {
        Kit::statement(
            "pkg",
            "1.0.0",
            &Kit::integrity(b"t"),
            "https://slsa.dev/provenance/v1",
        )
    }

    fn check(kit: &Kit, b: &Value) -> Result<VerifiedBundle, VerifyError> {
        verify_bundle(
            b.to_string().as_bytes(),
            &kit.npm_keys(None),
            &kit.trust_root(),
        )
    }

    fn reason(kit: &Kit, b: &Value) -> Reason {
        check(kit, b).expect_err("tampered bundle verified").reason
    }

    fn flip(v: &mut Value, at: impl Fn(usize) -> usize) {
        let mut bytes = b64(v.as_str().unwrap()).unwrap();
        let i = at(bytes.len());
        bytes[i] ^= 1;
        *v = json!(crate::encoding::b64_encode(&bytes));
    }

    fn entry(b: &mut Value) -> &mut Value {
        &mut b["verificationMaterial"]["tlogEntries"][0]
    }

    #[test]
    fn every_version_kind_and_signer_verifies() {
        let kit = Kit::new();
        let id = Identity::default();
        for version in [Version::V01, Version::V02, Version::V03] {
            for kind in [Kind::Intoto, Kind::Dsse] {
                for keyed in [false, true] {
                    let signer = if keyed { By::Npm } else { By::Leaf(&id) };
                    let b = kit.bundle(version, kind, signer, &statement(), true);
                    let vb = check(&kit, &b)
                        .unwrap_or_else(|e| panic!("{version:?} {kind:?} {keyed}: {e}"));
                    assert_eq!(vb.integrated_time, T);
                    assert!(vb.inclusion_proof && vb.checkpoint);
                    assert_eq!(
                        vb.statement.unwrap().subjects[0].name.as_deref(),
                        Some("pkg:npm/pkg@1.0.0")
                    );
                    match vb.signed_by {
                        SignedBy::NpmKey { keyid } => assert!(keyed && keyid == Kit::NPM_KEYID),
                        SignedBy::Certificate {
                            san, extensions, ..
                        } => {
                            assert!(!keyed);
                            assert_eq!(
                                san.as_deref(),
                                Some(
                                    "https://github.com/acme/widget/.github/workflows/release.yml@refs/heads/main"
                                )
                            );
                            assert_eq!(extensions.get(&15).map(String::as_str), Some("1001"));
                        }
                    }
                }
            }
        }
        // v0.1 needs only the SET.
        let b = kit.bundle(
            Version::V01,
            Kind::Intoto,
            By::Leaf(&id),
            &statement(),
            false,
        );
        assert!(!check(&kit, &b).unwrap().inclusion_proof);
    }

    #[test]
    fn tampering_fails_with_the_right_reason() {
        let kit = Kit::new();
        let id = Identity::default();
        let base = kit.bundle(Version::V03, Kind::Dsse, By::Leaf(&id), &statement(), true);
        type Case = (&'static str, fn(&mut Value), Reason);
        let cases: Vec<Case> = vec![
            (
                "signature",
                |b| flip(&mut b["dsseEnvelope"]["signatures"][0]["sig"], |n| n - 1),
                Reason::SignatureInvalid,
            ),
            (
                "payload",
                |b| flip(&mut b["dsseEnvelope"]["payload"], |n| n / 2),
                Reason::SignatureInvalid,
            ),
            (
                "certificate",
                |b| {
                    flip(
                        &mut b["verificationMaterial"]["certificate"]["rawBytes"],
                        |n| n - 1,
                    )
                },
                Reason::CertificateChainInvalid,
            ),
            (
                "proof hash",
                |b| flip(&mut entry(b)["inclusionProof"]["hashes"][0], |_| 0),
                Reason::InclusionProofInvalid,
            ),
            (
                "proof index",
                |b| entry(b)["inclusionProof"]["logIndex"] = json!("4"),
                Reason::InclusionProofInvalid,
            ),
            (
                "proof index past the tree",
                |b| entry(b)["inclusionProof"]["logIndex"] = json!("99"),
                Reason::InclusionProofInvalid,
            ),
            (
                "checkpoint",
                |b| {
                    let e = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                        .as_str()
                        .unwrap()
                        .replacen("rekor.test - 42", "rekor.test - 43", 1);
                    entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(e);
                },
                Reason::CheckpointInvalid,
            ),
            (
                "checkpoint without signature",
                |b| {
                    let e = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                        .as_str()
                        .unwrap()
                        .split("\n\n")
                        .next()
                        .unwrap()
                        .to_string();
                    entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(e);
                },
                Reason::CheckpointInvalid,
            ),
            (
                "SET",
                |b| {
                    flip(
                        &mut entry(b)["inclusionPromise"]["signedEntryTimestamp"],
                        |n| n - 1,
                    )
                },
                Reason::SetInvalid,
            ),
            (
                "logIndex",
                |b| entry(b)["logIndex"] = json!("123457"),
                Reason::SetInvalid,
            ),
            (
                "no SET",
                |b| entry(b)["inclusionPromise"] = json!(null),
                Reason::SetMissing,
            ),
            (
                "no proof in v0.3",
                |b| entry(b)["inclusionProof"] = json!(null),
                Reason::InclusionProofMissing,
            ),
            (
                "unknown log",
                |b| flip(&mut entry(b)["logId"]["keyId"], |_| 0),
                Reason::UnknownLog,
            ),
            (
                "hashedrekord kind for a DSSE bundle",
                |b| entry(b)["kindVersion"] = json!({"kind": "hashedrekord", "version": "0.0.1"}),
                Reason::TlogBodyMismatch,
            ),
            (
                "unsupported kind",
                |b| entry(b)["kindVersion"] = json!({"kind": "rekord", "version": "0.0.1"}),
                Reason::UnsupportedTlogEntry,
            ),
            (
                "payload type",
                |b| b["dsseEnvelope"]["payloadType"] = json!("text/plain"),
                Reason::SignatureInvalid,
            ),
        ];
        for (what, mutate, want) in cases {
            let mut b = base.clone();
            mutate(&mut b);
            assert_eq!(reason(&kit, &b), want, "{what}");
        }
    }

    #[test]
    fn signer_must_be_trusted_at_log_time() {
        let kit = Kit::new();
        let id = Identity::default();
        let st = statement();
        // Leaf expired before the log time.
        let mut b = kit.bundle(Version::V03, Kind::Dsse, By::Leaf(&id), &st, true);
        let old = kit.leaf_with(&id, (T - 3600, T - 1800), false);
        b["verificationMaterial"]["certificate"]["rawBytes"] =
            json!(crate::encoding::b64_encode(&old));
        assert_eq!(reason(&kit, &b), Reason::CertificateExpired);
        // Leaf from a CA that is not in the trust root.
        let stranger = kit.leaf_with(&id, (T - 60, T + 540), true);
        b["verificationMaterial"]["certificate"]["rawBytes"] =
            json!(crate::encoding::b64_encode(&stranger));
        assert_eq!(reason(&kit, &b), Reason::CertificateChainInvalid);
        // npm key expired before the log time, or unknown.
        let keyed = kit.bundle(Version::V02, Kind::Intoto, By::Npm, &st, true);
        let expired = kit.npm_keys(Some("2025-01-01T00:00:00Z"));
        let e =
            verify_bundle(keyed.to_string().as_bytes(), &expired, &kit.trust_root()).unwrap_err();
        assert_eq!(e.reason, Reason::KeyExpired);
        let e = verify_bundle(
            keyed.to_string().as_bytes(),
            &Keys::empty(),
            &kit.trust_root(),
        )
        .unwrap_err();
        assert_eq!(e.reason, Reason::UnknownKey);
        // The embedded production root does not trust the test CA or log.
        let e = verify_bundle(
            keyed.to_string().as_bytes(),
            &kit.npm_keys(None),
            &TrustRoot::embedded(),
        )
        .unwrap_err();
        assert_eq!(e.reason, Reason::UnknownLog);
    }

    #[test]
    fn log_body_must_describe_this_signer() {
        let kit = Kit::new();
        let st = statement();
        // Same key, another certificate (another identity): the signature and chain verify,
        // but the log recorded a different certificate.
        let other = Identity {
            repo: "https://github.com/mallory/widget".into(),
            repo_id: "9999".into(),
            ..Identity::default()
        };
        for (version, kind) in [(Version::V03, Kind::Dsse), (Version::V01, Kind::Intoto)] {
            let mut b = kit.bundle(version, kind, By::Leaf(&Identity::default()), &st, true);
            let leaf = crate::encoding::b64_encode(&kit.leaf(&other));
            let vm = &mut b["verificationMaterial"];
            if version == Version::V03 {
                vm["certificate"]["rawBytes"] = json!(leaf);
            } else {
                vm["x509CertificateChain"]["certificates"][0]["rawBytes"] = json!(leaf);
            }
            assert_eq!(reason(&kit, &b), Reason::TlogBodyMismatch, "{kind:?}");
        }
        // A keyed bundle re-labelled as keyless: the leaf key did not sign.
        let mut b = kit.bundle(Version::V02, Kind::Intoto, By::Npm, &st, true);
        let mut vm = b["verificationMaterial"].clone();
        vm.as_object_mut().unwrap().remove("publicKey");
        vm["x509CertificateChain"] =
            json!({"certificates": [{"rawBytes": crate::encoding::b64_encode(&kit.leaf(&other))}]});
        b["verificationMaterial"] = vm;
        assert_eq!(reason(&kit, &b), Reason::SignatureInvalid);
    }

    #[test]
    fn message_signatures_verify_and_bind_by_digest() {
        let kit = Kit::new();
        let b = kit.message_bundle(&Identity::default(), b"tarball");
        let vb = check(&kit, &b).unwrap();
        assert!(vb.statement.is_none());
        let (alg, digest) = vb.message_digest.unwrap();
        assert_eq!(alg, "sha512");
        assert_eq!(
            Some(hex::encode(digest)),
            crate::attestations::integrity_sha512_hex(&Kit::integrity(b"tarball"))
        );
        let mut bad = b.clone();
        flip(
            &mut bad["messageSignature"]["messageDigest"]["digest"],
            |_| 0,
        );
        assert_eq!(reason(&kit, &bad), Reason::SignatureInvalid);
        let mut bad = b.clone();
        flip(&mut bad["messageSignature"]["signature"], |n| n - 1);
        assert_eq!(reason(&kit, &bad), Reason::SignatureInvalid);
        // In an npm attestations document it must be over this tarball's sha512.
        let doc = json!({"attestations": [{"predicateType": "x", "bundle": b}]}).to_string();
        let keys = kit.npm_keys(None);
        let root = kit.trust_root();
        let ok = crate::verify_attestations(
            "pkg",
            "1.0.0",
            &Kit::integrity(b"tarball"),
            doc.as_bytes(),
            &keys,
            &root,
        );
        assert_eq!(
            (ok.status, ok.error),
            (crate::ProvenanceStatus::Absent, None)
        );
        let other = crate::verify_attestations(
            "pkg",
            "1.0.0",
            &Kit::integrity(b"other"),
            doc.as_bytes(),
            &keys,
            &root,
        );
        assert_eq!(other.reason(), Some(Reason::UnsupportedContent));
    }

    #[test]
    fn hostile_input_is_a_typed_error() {
        let kit = Kit::new();
        for bytes in [&b""[..], b"null", b"[]", b"{\"mediaType\": 5}", &[0xff; 64]] {
            assert!(verify_bundle(bytes, &kit.npm_keys(None), &kit.trust_root()).is_err());
        }
        let huge = vec![b' '; MAX_BUNDLE_BYTES + 1];
        assert_eq!(
            verify_bundle(&huge, &kit.npm_keys(None), &kit.trust_root())
                .unwrap_err()
                .reason,
            Reason::TooLarge
        );
    }

    #[test]
    fn pae_format() {
        assert_eq!(
            pae("application/vnd.in-toto+json", b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
        );
    }

    #[test]
    fn statements() {
        let st = Statement::parse(
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:npm/a@1.0.0","digest":{"sha512":"AB"}},{"digest":{"sha256":"cd"}}],"predicateType":"p"}"#,
        )
        .unwrap();
        assert_eq!(st.subjects.len(), 2);
        assert_eq!(st.subjects[0].digest["sha512"], "ab");
        assert_eq!(st.subjects[1].name, None);
        assert_eq!(st.predicate, Value::Null);
        for bad in [&b"[]"[..], b"{\"_type\":\"x\"}", b"nope"] {
            assert_eq!(
                Statement::parse(bad).unwrap_err().reason,
                Reason::StatementMalformed
            );
        }
    }
}
