//! Sigstore bundle JSON (`dev.sigstore.bundle.v1.Bundle`, media types v0.1, v0.2 and v0.3)
//! parsed into the few fields verification needs. `null`, absent and empty are the same thing
//! here, as the real npm/cli, sigstore-js and provenance fixtures use all three.

use serde_json::Value;

use crate::crypto::HashAlg;
use crate::encoding::{b64, get, get_array, get_i64, get_object, get_str};
use crate::error::{Reason, VerifyError, fail};

/// Most log entries a bundle may carry.
const MAX_TLOG_ENTRIES: usize = 8;
/// Most hashes in an inclusion proof (a tree of 2^64 leaves needs 64).
const MAX_PROOF_HASHES: usize = 64;
/// Most certificates in a v0.1/v0.2 chain.
const MAX_CHAIN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    V01,
    V02,
    V03,
}

impl BundleVersion {
    fn from_media_type(mt: &str) -> Option<BundleVersion> {
        let mt: String = mt.chars().filter(|c| !c.is_whitespace()).collect();
        match mt.as_str() {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(BundleVersion::V01),
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(BundleVersion::V02),
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => Some(BundleVersion::V03),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BundleVersion::V01 => "0.1",
            BundleVersion::V02 => "0.2",
            BundleVersion::V03 => "0.3",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Material {
    /// Keyless: the Fulcio leaf (DER) and how many certificates the bundle carried.
    Certificate { leaf: Vec<u8>, carried: usize },
    /// Keyed: a key id to look up out of band (npm's registry key for publish attestations).
    PublicKey { hint: String },
}

#[derive(Debug, Clone)]
pub(crate) struct Dsse {
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub sig: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct MessageSignature {
    pub digest_alg: HashAlg,
    pub digest: Vec<u8>,
    pub sig: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) enum Content {
    Dsse(Dsse),
    Message(MessageSignature),
}

#[derive(Debug, Clone)]
pub(crate) struct InclusionProof {
    pub log_index: u64,
    pub root_hash: Vec<u8>,
    pub tree_size: u64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct TlogEntry {
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    pub integrated_time: Option<i64>,
    pub set: Option<Vec<u8>>,
    pub proof: Option<InclusionProof>,
    /// `canonicalizedBody` exactly as written (the SET signs this string).
    pub body_b64: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub version: BundleVersion,
    pub material: Material,
    pub tlog_entries: Vec<TlogEntry>,
    pub content: Content,
}

fn malformed<T>(detail: impl Into<String>) -> Result<T, VerifyError> {
    fail(Reason::Malformed, detail)
}

fn bytes_field(v: &Value, key: &str, what: &str) -> Result<Vec<u8>, VerifyError> {
    match get_str(v, key).map(b64) {
        Some(Some(b)) => Ok(b),
        Some(None) => malformed(format!("{what}.{key} is not base64")),
        None => malformed(format!("{what}.{key} is missing")),
    }
}

impl Bundle {
    pub(crate) fn from_value(v: &Value) -> Result<Bundle, VerifyError> {
        if !v.is_object() {
            return malformed("bundle is not a JSON object");
        }
        let Some(mt) = get_str(v, "mediaType") else {
            return malformed("bundle has no mediaType");
        };
        let Some(version) = BundleVersion::from_media_type(mt) else {
            return fail(
                Reason::UnsupportedMediaType,
                format!("unsupported bundle media type {:?}", truncate(mt)),
            );
        };
        let Some(vm) = get_object(v, "verificationMaterial") else {
            return malformed("bundle has no verificationMaterial");
        };
        let material = parse_material(vm)?;
        let entries = get_array(vm, "tlogEntries");
        if entries.len() > MAX_TLOG_ENTRIES {
            return fail(Reason::TooLarge, "too many tlog entries");
        }
        let tlog_entries = entries
            .iter()
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let content = if let Some(env) = get_object(v, "dsseEnvelope") {
            Content::Dsse(parse_dsse(env)?)
        } else if let Some(ms) = get_object(v, "messageSignature") {
            Content::Message(parse_message(ms)?)
        } else {
            return fail(
                Reason::UnsupportedContent,
                "bundle has neither dsseEnvelope nor messageSignature",
            );
        };
        Ok(Bundle {
            version,
            material,
            tlog_entries,
            content,
        })
    }
}

pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

fn parse_material(vm: &Value) -> Result<Material, VerifyError> {
    if let Some(c) = get_object(vm, "certificate") {
        let leaf = bytes_field(c, "rawBytes", "certificate")?;
        return Ok(Material::Certificate { leaf, carried: 1 });
    }
    if let Some(chain) = get_object(vm, "x509CertificateChain") {
        let certs = get_array(chain, "certificates");
        if certs.len() > MAX_CHAIN {
            return fail(Reason::TooLarge, "certificate chain too long");
        }
        let Some(first) = certs.first() else {
            return malformed("x509CertificateChain has no certificates");
        };
        // Only the leaf is used: intermediates and roots come from the trust root, and a root
        // shipped in the bundle must not be trusted.
        let leaf = bytes_field(first, "rawBytes", "x509CertificateChain.certificates[0]")?;
        return Ok(Material::Certificate {
            leaf,
            carried: certs.len(),
        });
    }
    if let Some(pk) = get_object(vm, "publicKey") {
        let Some(hint) = get_str(pk, "hint") else {
            return malformed("publicKey has no hint");
        };
        return Ok(Material::PublicKey {
            hint: hint.to_string(),
        });
    }
    malformed("verificationMaterial has no certificate, chain or publicKey")
}

fn parse_entry(e: &Value) -> Result<TlogEntry, VerifyError> {
    let Some(log_index) = get_i64(e, "logIndex") else {
        return malformed("tlog entry has no logIndex");
    };
    let log_id = get(e, "logId")
        .map(|l| bytes_field(l, "keyId", "logId"))
        .unwrap_or_else(|| malformed("tlog entry has no logId"))?;
    let kv = get(e, "kindVersion");
    let kind = kv.and_then(|k| get_str(k, "kind")).unwrap_or_default();
    let version = kv.and_then(|k| get_str(k, "version")).unwrap_or_default();
    let set = match get_object(e, "inclusionPromise") {
        Some(p) => Some(bytes_field(p, "signedEntryTimestamp", "inclusionPromise")?),
        None => None,
    };
    let proof = match get_object(e, "inclusionProof") {
        Some(p) => Some(parse_proof(p)?),
        None => None,
    };
    let Some(body_b64) = get_str(e, "canonicalizedBody") else {
        return malformed("tlog entry has no canonicalizedBody");
    };
    let Some(body) = b64(body_b64) else {
        return malformed("canonicalizedBody is not base64");
    };
    Ok(TlogEntry {
        log_index,
        log_id,
        kind: kind.to_string(),
        version: version.to_string(),
        integrated_time: get_i64(e, "integratedTime").filter(|t| *t > 0),
        set,
        proof,
        body_b64: body_b64.to_string(),
        body,
    })
}

fn parse_proof(p: &Value) -> Result<InclusionProof, VerifyError> {
    let num = |k: &str| {
        get_i64(p, k)
            .and_then(|n| u64::try_from(n).ok())
            .map_or_else(|| malformed(format!("inclusionProof.{k} is missing")), Ok)
    };
    let hashes = get_array(p, "hashes");
    if hashes.len() > MAX_PROOF_HASHES {
        return fail(Reason::InclusionProofInvalid, "inclusion proof too long");
    }
    let hashes = hashes
        .iter()
        .map(|h| h.as_str().and_then(b64))
        .collect::<Option<Vec<_>>>();
    let Some(hashes) = hashes else {
        return malformed("inclusionProof.hashes are not base64");
    };
    Ok(InclusionProof {
        log_index: num("logIndex")?,
        root_hash: bytes_field(p, "rootHash", "inclusionProof")?,
        tree_size: num("treeSize")?,
        hashes,
        checkpoint: get(p, "checkpoint")
            .and_then(|c| get_str(c, "envelope"))
            .map(str::to_string),
    })
}

fn parse_dsse(env: &Value) -> Result<Dsse, VerifyError> {
    let payload = bytes_field(env, "payload", "dsseEnvelope")?;
    let payload_type = get_str(env, "payloadType").unwrap_or_default().to_string();
    let sigs = get_array(env, "signatures");
    if sigs.len() != 1 {
        return fail(
            Reason::SignatureCount,
            format!("DSSE envelope has {} signatures, expected 1", sigs.len()),
        );
    }
    let s = &sigs[0];
    Ok(Dsse {
        payload,
        payload_type,
        sig: bytes_field(s, "sig", "dsseEnvelope.signatures[0]")?,
    })
}

fn parse_message(ms: &Value) -> Result<MessageSignature, VerifyError> {
    let Some(md) = get(ms, "messageDigest") else {
        return malformed("messageSignature has no messageDigest");
    };
    let digest_alg = match get_str(md, "algorithm") {
        Some("SHA2_256") => HashAlg::Sha256,
        Some("SHA2_384") => HashAlg::Sha384,
        Some("SHA2_512") => HashAlg::Sha512,
        other => {
            return fail(
                Reason::UnsupportedContent,
                format!(
                    "message digest algorithm {:?} unsupported",
                    other.map(truncate)
                ),
            );
        }
    };
    Ok(MessageSignature {
        digest_alg,
        digest: bytes_field(md, "digest", "messageDigest")?,
        sig: bytes_field(ms, "signature", "messageSignature")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "publicKey": {"hint": "k"},
                "tlogEntries": [{"logIndex": "5", "logId": {"keyId": "AAAA"},
                    "kindVersion": {"kind": "intoto", "version": "0.0.2"},
                    "integratedTime": 7, "inclusionPromise": null, "inclusionProof": null,
                    "canonicalizedBody": "e30="}],
                "timestampVerificationData": null
            },
            "dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": "AAAA", "keyid": ""}]}
        })
    }

    #[test]
    fn parses_with_nulls() {
        let b = Bundle::from_value(&minimal()).unwrap();
        assert_eq!(b.version, BundleVersion::V03);
        assert!(matches!(b.material, Material::PublicKey { ref hint } if hint == "k"));
        let e = &b.tlog_entries[0];
        assert_eq!((e.log_index, e.integrated_time), (5, Some(7)));
        assert!(e.set.is_none() && e.proof.is_none());
        let Content::Dsse(d) = &b.content else {
            panic!("dsse expected")
        };
        assert_eq!(d.payload, b"{}");
    }

    #[test]
    fn media_types() {
        for (mt, v) in [
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.1",
                BundleVersion::V01,
            ),
            (
                "application/vnd.dev.sigstore.bundle+json; version=0.2",
                BundleVersion::V02,
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.3",
                BundleVersion::V03,
            ),
        ] {
            assert_eq!(BundleVersion::from_media_type(mt), Some(v));
        }
        let mut b = minimal();
        b["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=9");
        assert_eq!(
            Bundle::from_value(&b).unwrap_err().reason,
            Reason::UnsupportedMediaType
        );
    }

    #[test]
    fn rejects_broken_shapes() {
        type Case = (fn(&mut Value), Reason);
        let cases: Vec<Case> = vec![
            (
                |b| b["dsseEnvelope"]["signatures"] = json!([]),
                Reason::SignatureCount,
            ),
            (
                |b| b["dsseEnvelope"]["payload"] = json!("!!"),
                Reason::Malformed,
            ),
            (
                |b| {
                    b.as_object_mut().unwrap().remove("dsseEnvelope");
                },
                Reason::UnsupportedContent,
            ),
            (
                |b| b["verificationMaterial"]["publicKey"] = json!({}),
                Reason::Malformed,
            ),
            (
                |b| b["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!(null),
                Reason::Malformed,
            ),
            (
                |b| {
                    b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"] =
                        json!({"logIndex": "1", "treeSize": "2", "rootHash": "AAAA", "hashes": [1]})
                },
                Reason::Malformed,
            ),
            (
                |b| {
                    b["verificationMaterial"]["tlogEntries"] =
                        Value::Array(vec![json!({}); MAX_TLOG_ENTRIES + 1])
                },
                Reason::TooLarge,
            ),
            (|b| *b = json!([1]), Reason::Malformed),
        ];
        for (mutate, reason) in cases {
            let mut b = minimal();
            mutate(&mut b);
            assert_eq!(Bundle::from_value(&b).unwrap_err().reason, reason, "{b}");
        }
    }
}
