//! A miniature Sigstore for hermetic tests: a P-384 root and intermediate CA, Fulcio-style
//! P-256 leaf certificates with workflow identities, a Rekor log key with SETs, Merkle proofs
//! and signed checkpoints, and an npm registry key. Everything is deterministic.

use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use x509_cert::der::Encode;
use x509_cert::der::asn1::ObjectIdentifier;

use crate::crypto::sha256;
use crate::encoding::b64_encode;
use crate::keys::Keys;
use crate::trust_root::TrustRoot;

/// Integrated time of every generated log entry (2025-09-12T21:47:33Z).
pub const T: i64 = 1_757_713_653;
const CA_START: i64 = 1_577_836_800; // 2020-01-01
const CA_END: i64 = 2_208_988_800; // 2040-01-01

// --- a tiny DER writer -------------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(s: &str) -> Vec<u8> {
    ObjectIdentifier::new_unwrap(s).to_der().unwrap()
}

fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}

fn utc_time(unix: i64) -> Vec<u8> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
    let s = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    tlv(0x17, s.as_bytes())
}

fn name(cn: &str) -> Vec<u8> {
    seq(&[
        tlv(0x31, &seq(&[oid("2.5.4.10"), utf8("sigstore.dev")])),
        tlv(0x31, &seq(&[oid("2.5.4.3"), utf8(cn)])),
    ])
}

fn extension(id: &str, critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xff]);
    }
    parts.push(tlv(0x04, &value));
    seq(&parts)
}

enum Issuer<'a> {
    P384(&'a p384::ecdsa::SigningKey),
}

fn certificate(
    serial: u8,
    issuer_cn: &str,
    subject_cn: &str,
    validity: (i64, i64),
    spki: &[u8],
    extensions: Vec<Vec<u8>>,
    issuer: Issuer<'_>,
) -> Vec<u8> {
    let alg = seq(&[oid("1.2.840.10045.4.3.3")]);
    let tbs = seq(&[
        tlv(0xa0, &[0x02, 0x01, 0x02]),
        vec![0x02, 0x01, serial],
        alg.clone(),
        name(issuer_cn),
        seq(&[utc_time(validity.0), utc_time(validity.1)]),
        name(subject_cn),
        spki.to_vec(),
        tlv(0xa3, &seq(&extensions)),
    ]);
    let Issuer::P384(sk) = issuer;
    let sig: p384::ecdsa::Signature = sk.sign(&tbs);
    let sig_der = sig.to_der();
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig_der.as_bytes());
    seq(&[tbs, alg, tlv(0x03, &bits)])
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = b64_encode(der);
    let lines: Vec<&str> = b
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

// --- Merkle helpers (RFC 6962 MTH / PATH) ------------------------------------------------

fn node(l: &[u8], r: &[u8]) -> [u8; 32] {
    sha256(&[&[1u8][..], l, r].concat())
}

pub fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let k = leaves.len().next_power_of_two() / 2;
    node(&mth(&leaves[..k]), &mth(&leaves[k..]))
}

pub fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
    if leaves.len() <= 1 {
        return vec![];
    }
    let k = leaves.len().next_power_of_two() / 2;
    let (mut p, other) = if m < k {
        (path(m, &leaves[..k]), mth(&leaves[k..]))
    } else {
        (path(m - k, &leaves[k..]), mth(&leaves[..k]))
    };
    p.push(other.to_vec());
    p
}

// --- the kit -----------------------------------------------------------------------------

/// The workflow identity a generated leaf certificate carries.
#[derive(Debug, Clone)]
pub struct Identity {
    pub repo: String,
    pub repo_id: String,
    pub owner_id: String,
    pub workflow: String,
    pub git_ref: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            repo: "https://github.com/acme/widget".into(),
            repo_id: "1001".into(),
            owner_id: "2002".into(),
            workflow: ".github/workflows/release.yml".into(),
            git_ref: "refs/heads/main".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V01,
    V02,
    V03,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Intoto,
    Dsse,
}

pub enum Signer<'a> {
    Leaf(&'a Identity),
    Npm,
}

pub struct Kit {
    inter_sk: p384::ecdsa::SigningKey,
    root_der: Vec<u8>,
    inter_der: Vec<u8>,
    leaf_sk: p256::ecdsa::SigningKey,
    rekor_sk: p256::ecdsa::SigningKey,
    npm_sk: p256::ecdsa::SigningKey,
}

impl Default for Kit {
    fn default() -> Self {
        Kit::new()
    }
}

impl Kit {
    pub const NPM_KEYID: &'static str = "SHA256:turncoat-test-npm-key";

    pub fn new() -> Kit {
        let root_sk = p384::ecdsa::SigningKey::from_slice(&[3u8; 48]).unwrap();
        let inter_sk = p384::ecdsa::SigningKey::from_slice(&[4u8; 48]).unwrap();
        let ca_ext = || vec![extension("2.5.29.19", true, seq(&[vec![0x01, 0x01, 0xff]]))];
        let root_spki = root_sk.verifying_key().to_public_key_der().unwrap();
        let root_der = certificate(
            1,
            "test-root",
            "test-root",
            (CA_START, CA_END),
            root_spki.as_bytes(),
            ca_ext(),
            Issuer::P384(&root_sk),
        );
        let inter_spki = inter_sk.verifying_key().to_public_key_der().unwrap();
        let inter_der = certificate(
            2,
            "test-root",
            "test-intermediate",
            (CA_START, CA_END),
            inter_spki.as_bytes(),
            ca_ext(),
            Issuer::P384(&root_sk),
        );
        Kit {
            inter_sk,
            root_der,
            inter_der,
            leaf_sk: p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap(),
            rekor_sk: p256::ecdsa::SigningKey::from_slice(&[6u8; 32]).unwrap(),
            npm_sk: p256::ecdsa::SigningKey::from_slice(&[8u8; 32]).unwrap(),
        }
    }

    /// `sha512-…` of `bytes`.
    pub fn integrity(bytes: &[u8]) -> String {
        turncoat_npm::Integrity::sha512_of(bytes).to_string()
    }

    fn spki(k: &p256::ecdsa::SigningKey) -> Vec<u8> {
        k.verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    pub fn npm_keys(&self, expires: Option<&str>) -> Keys {
        Keys::from_json(self.npm_keys_json(expires).as_bytes()).unwrap()
    }

    /// The test npm key as a `/-/npm/v1/keys` document (for `turncoat verify --keys`).
    pub fn npm_keys_json(&self, expires: Option<&str>) -> String {
        let doc = json!({"keys": [{
            "keyid": Kit::NPM_KEYID,
            "expires": expires,
            "keytype": "ecdsa-sha2-nistp256",
            "scheme": "ecdsa-sha2-nistp256",
            "key": b64_encode(&Kit::spki(&self.npm_sk)),
        }]});
        doc.to_string()
    }

    /// base64 DER signature by the npm key.
    pub fn npm_sign(&self, msg: &str) -> String {
        let sig: p256::ecdsa::Signature = self.npm_sk.sign(msg.as_bytes());
        b64_encode(sig.to_der().as_bytes())
    }

    pub fn rekor_log_id(&self) -> Vec<u8> {
        sha256(&Kit::spki(&self.rekor_sk)).to_vec()
    }

    pub fn trust_root_json(&self) -> Value {
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": "https://rekor.test",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64_encode(&Kit::spki(&self.rekor_sk)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"}
                },
                "logId": {"keyId": b64_encode(&self.rekor_log_id())}
            }],
            "certificateAuthorities": [{
                "subject": {"organization": "sigstore.dev", "commonName": "test"},
                "uri": "https://fulcio.test",
                "certChain": {"certificates": [
                    {"rawBytes": b64_encode(&self.inter_der)},
                    {"rawBytes": b64_encode(&self.root_der)}
                ]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }],
            "ctlogs": [],
            "timestampAuthorities": []
        })
    }

    pub fn trust_root(&self) -> TrustRoot {
        TrustRoot::from_json(self.trust_root_json().to_string().as_bytes()).unwrap()
    }

    /// A Fulcio-style leaf for `id`, valid 10 minutes around [`T`], issued by `issuer`
    /// (the intermediate unless a test wants a stranger).
    pub fn leaf_with(&self, id: &Identity, validity: (i64, i64), stranger: bool) -> Vec<u8> {
        let uri = format!("{}/{}@{}", id.repo, id.workflow, id.git_ref);
        let fulcio =
            |n: u32, v: &str| extension(&format!("1.3.6.1.4.1.57264.1.{n}"), false, utf8(v));
        let exts = vec![
            extension("2.5.29.37", false, seq(&[oid("1.3.6.1.5.5.7.3.3")])),
            extension("2.5.29.17", true, seq(&[tlv(0x86, uri.as_bytes())])),
            fulcio(8, "https://token.actions.githubusercontent.com"),
            fulcio(9, &uri),
            fulcio(11, "github-hosted"),
            fulcio(12, &id.repo),
            fulcio(13, "0123456789abcdef0123456789abcdef01234567"),
            fulcio(14, &id.git_ref),
            fulcio(15, &id.repo_id),
            fulcio(17, &id.owner_id),
            fulcio(18, &uri),
            fulcio(20, "push"),
        ];
        let stranger_sk = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        certificate(
            7,
            "test-intermediate",
            "",
            validity,
            &Kit::spki(&self.leaf_sk),
            exts,
            Issuer::P384(if stranger {
                &stranger_sk
            } else {
                &self.inter_sk
            }),
        )
    }

    pub fn leaf(&self, id: &Identity) -> Vec<u8> {
        self.leaf_with(id, (T - 60, T + 540), false)
    }

    pub fn statement(name: &str, version: &str, integrity: &str, predicate_type: &str) -> Value {
        let sha512 = crate::attestations::integrity_sha512_hex(integrity).unwrap();
        let predicate = if predicate_type == crate::attestations::PUBLISH_PREDICATE {
            json!({"name": name, "version": version, "registry": "https://registry.npmjs.org"})
        } else {
            json!({"buildDefinition": {}, "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}})
        };
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": crate::attestations::npm_purl(name, version), "digest": {"sha512": sha512}}],
            "predicateType": predicate_type,
            "predicate": predicate
        })
    }

    /// A complete, valid bundle over `statement`.
    pub fn bundle(
        &self,
        version: Version,
        kind: Kind,
        signer: Signer<'_>,
        statement: &Value,
        proof: bool,
    ) -> Value {
        let payload = statement.to_string().into_bytes();
        let payload_type = "application/vnd.in-toto+json";
        let mut pae = format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .into_bytes();
        pae.extend_from_slice(&payload);
        let (sk, signer_pem, material, keyid) = match signer {
            Signer::Leaf(id) => {
                let leaf = self.leaf(id);
                let material = match version {
                    Version::V03 => json!({"certificate": {"rawBytes": b64_encode(&leaf)}}),
                    _ => {
                        json!({"x509CertificateChain": {"certificates": [{"rawBytes": b64_encode(&leaf)}]}})
                    }
                };
                (&self.leaf_sk, pem("CERTIFICATE", &leaf), material, "")
            }
            Signer::Npm => (
                &self.npm_sk,
                pem("PUBLIC KEY", &Kit::spki(&self.npm_sk)),
                json!({"publicKey": {"hint": Kit::NPM_KEYID}}),
                Kit::NPM_KEYID,
            ),
        };
        let sig: p256::ecdsa::Signature = sk.sign(&pae);
        let sig = sig.to_der().as_bytes().to_vec();
        let payload_hash = json!({"algorithm": "sha256", "value": hex::encode(sha256(&payload))});
        let body = match kind {
            Kind::Intoto => json!({
                "apiVersion": "0.0.2", "kind": "intoto",
                "spec": {"content": {
                    "envelope": {"payloadType": payload_type, "signatures": [{
                        "keyid": keyid,
                        "publicKey": b64_encode(signer_pem.as_bytes()),
                        "sig": b64_encode(b64_encode(&sig).as_bytes()),
                    }]},
                    "hash": {"algorithm": "sha256", "value": hex::encode(sha256(b"envelope"))},
                    "payloadHash": payload_hash,
                }}
            }),
            Kind::Dsse => json!({
                "apiVersion": "0.0.1", "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256", "value": hex::encode(sha256(b"envelope"))},
                    "payloadHash": payload_hash,
                    "signatures": [{"signature": b64_encode(&sig), "verifier": b64_encode(signer_pem.as_bytes())}]
                }
            }),
        };
        let body_b64 = b64_encode(body.to_string().as_bytes());
        let log_index = 123_456_i64;
        let log_id = self.rekor_log_id();
        let set_payload = format!(
            "{{\"body\":\"{body_b64}\",\"integratedTime\":{T},\"logID\":\"{}\",\"logIndex\":{log_index}}}",
            hex::encode(&log_id)
        );
        let set: p256::ecdsa::Signature = self.rekor_sk.sign(set_payload.as_bytes());
        let (kind_s, ver_s) = match kind {
            Kind::Intoto => ("intoto", "0.0.2"),
            Kind::Dsse => ("dsse", "0.0.1"),
        };
        let mut entry = json!({
            "logIndex": log_index.to_string(),
            "logId": {"keyId": b64_encode(&log_id)},
            "kindVersion": {"kind": kind_s, "version": ver_s},
            "integratedTime": T.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": b64_encode(set.to_der().as_bytes())},
            "canonicalizedBody": body_b64,
        });
        if proof {
            let mut leaf_input = vec![0u8];
            leaf_input.extend_from_slice(body.to_string().as_bytes());
            let mut leaves: Vec<[u8; 32]> = (0..7u8).map(|i| sha256(&[0, i])).collect();
            leaves[5] = sha256(&leaf_input);
            let root = mth(&leaves);
            let hashes: Vec<String> = path(5, &leaves).iter().map(|h| b64_encode(h)).collect();
            let note = format!("rekor.test - 42\n7\n{}\n", b64_encode(&root));
            let cp_sig: p256::ecdsa::Signature = self.rekor_sk.sign(note.as_bytes());
            let mut raw = log_id[..4].to_vec();
            raw.extend_from_slice(cp_sig.to_der().as_bytes());
            let envelope = format!("{note}\n\u{2014} rekor.test {}\n", b64_encode(&raw));
            entry["inclusionProof"] = json!({
                "logIndex": "5", "rootHash": b64_encode(&root), "treeSize": "7",
                "hashes": hashes, "checkpoint": {"envelope": envelope}
            });
        }
        let media_type = match version {
            Version::V01 => "application/vnd.dev.sigstore.bundle+json;version=0.1",
            Version::V02 => "application/vnd.dev.sigstore.bundle+json;version=0.2",
            Version::V03 => "application/vnd.dev.sigstore.bundle.v0.3+json",
        };
        let mut vm = material;
        vm["tlogEntries"] = json!([entry]);
        vm["timestampVerificationData"] = Value::Null;
        json!({
            "mediaType": media_type,
            "verificationMaterial": vm,
            "dsseEnvelope": {
                "payload": b64_encode(&payload),
                "payloadType": payload_type,
                "signatures": [{"sig": b64_encode(&sig), "keyid": keyid}]
            }
        })
    }

    /// A v0.2 message-signature bundle (`hashedrekord` 0.0.1) over the sha512 of `artifact`,
    /// signed by the leaf for `id`, with SET only.
    pub fn message_bundle(&self, id: &Identity, artifact: &[u8]) -> Value {
        use sha2::Digest;
        let digest = sha2::Sha512::digest(artifact).to_vec();
        let sig: p256::ecdsa::Signature =
            p256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&self.leaf_sk, &digest)
                .unwrap();
        let sig = sig.to_der().as_bytes().to_vec();
        let leaf = self.leaf(id);
        let body = json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha512", "value": hex::encode(&digest)}},
                "signature": {"content": b64_encode(&sig),
                              "publicKey": {"content": b64_encode(pem("CERTIFICATE", &leaf).as_bytes())}}
            }
        });
        let body_b64 = b64_encode(body.to_string().as_bytes());
        let log_id = self.rekor_log_id();
        let set_payload = format!(
            "{{\"body\":\"{body_b64}\",\"integratedTime\":{T},\"logID\":\"{}\",\"logIndex\":7}}",
            hex::encode(&log_id)
        );
        let set: p256::ecdsa::Signature = self.rekor_sk.sign(set_payload.as_bytes());
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {
                "x509CertificateChain": {"certificates": [{"rawBytes": b64_encode(&leaf)}]},
                "tlogEntries": [{
                    "logIndex": "7", "logId": {"keyId": b64_encode(&log_id)},
                    "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                    "integratedTime": T.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": b64_encode(set.to_der().as_bytes())},
                    "canonicalizedBody": body_b64
                }]
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_512", "digest": b64_encode(&digest)},
                "signature": b64_encode(&sig)
            }
        })
    }

    /// An npm attestations response: the registry's publish attestation (v0.2, intoto) and a
    /// SLSA v1 provenance (v0.3, dsse) for `id`.
    pub fn attestations(&self, name: &str, version: &str, integrity: &str, id: &Identity) -> Value {
        let publish = Kit::statement(
            name,
            version,
            integrity,
            crate::attestations::PUBLISH_PREDICATE,
        );
        let slsa = Kit::statement(name, version, integrity, "https://slsa.dev/provenance/v1");
        json!({"attestations": [
            {"predicateType": crate::attestations::PUBLISH_PREDICATE,
             "bundle": self.bundle(Version::V02, Kind::Intoto, Signer::Npm, &publish, true)},
            {"predicateType": "https://slsa.dev/provenance/v1",
             "bundle": self.bundle(Version::V03, Kind::Dsse, Signer::Leaf(id), &slsa, true)}
        ]})
    }
}
