//! Rekor v1 log entries: the signed entry timestamp (SET), the RFC 6962 / 9162 Merkle
//! inclusion proof, the signed checkpoint, and whether the logged body describes the envelope
//! and signer we were given.

use serde_json::Value;

use crate::bundle::{Content, TlogEntry};
use crate::crypto::{HashAlg, sha256};
use crate::encoding::{b64, get, get_array, get_str, pem_to_der};
use crate::error::{Reason, VerifyError, fail};
use crate::trust_root::Tlog;

/// Verify the SET: the log's signature over the canonical (RFC 8785) JSON of
/// `{body, integratedTime, logID, logIndex}`. Only a verified SET makes `integratedTime`
/// trustworthy.
pub(crate) fn verify_set(e: &TlogEntry, log: &Tlog, t: i64) -> Result<(), VerifyError> {
    let Some(set) = &e.set else {
        return fail(Reason::SetMissing, "log entry has no inclusion promise");
    };
    let body = serde_json::to_string(&e.body_b64).unwrap_or_default();
    let payload = format!(
        "{{\"body\":{body},\"integratedTime\":{t},\"logID\":\"{}\",\"logIndex\":{}}}",
        hex::encode(&e.log_id),
        e.log_index
    );
    if log.key.verify(HashAlg::Sha256, payload.as_bytes(), set) {
        Ok(())
    } else {
        fail(
            Reason::SetInvalid,
            format!(
                "signed entry timestamp of log index {} does not verify",
                e.log_index
            ),
        )
    }
}

fn node(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(1 + left.len() + right.len());
    buf.push(1);
    buf.extend_from_slice(left);
    buf.extend_from_slice(right);
    sha256(&buf)
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or `None` when the proof's shape
/// does not fit `index` and `size`.
pub(crate) fn root_from_proof(
    leaf_hash: [u8; 32],
    index: u64,
    size: u64,
    proof: &[Vec<u8>],
) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf_hash;
    for p in proof {
        if p.len() != 32 || sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// Verify the inclusion proof and, when present, the signed checkpoint that commits to its
/// root. The proof's own `logIndex` (index within the shard) is used, not the entry's.
pub(crate) fn verify_inclusion(e: &TlogEntry, log: &Tlog) -> Result<(), VerifyError> {
    let Some(p) = &e.proof else {
        return Ok(());
    };
    let mut leaf = Vec::with_capacity(e.body.len() + 1);
    leaf.push(0);
    leaf.extend_from_slice(&e.body);
    let root = root_from_proof(sha256(&leaf), p.log_index, p.tree_size, &p.hashes);
    if root.is_none_or(|r| r[..] != p.root_hash[..]) {
        return fail(
            Reason::InclusionProofInvalid,
            format!(
                "inclusion proof for index {} in a tree of {} does not lead to the stated root",
                p.log_index, p.tree_size
            ),
        );
    }
    if let Some(cp) = &p.checkpoint {
        verify_checkpoint(cp, p.tree_size, &p.root_hash, log)?;
    }
    Ok(())
}

/// A signed note: `origin\nsize\nroot\n[extensions…]\n\n— <name> <base64(keyhint‖sig)>\n`.
fn verify_checkpoint(
    envelope: &str,
    tree_size: u64,
    root_hash: &[u8],
    log: &Tlog,
) -> Result<(), VerifyError> {
    let bad = |d: &str| fail(Reason::CheckpointInvalid, d.to_string());
    let Some((head, sigs)) = envelope.split_once("\n\n") else {
        return bad("checkpoint has no signature block");
    };
    let mut lines = head.split('\n');
    let (_origin, size, root) = (lines.next(), lines.next(), lines.next());
    if size.and_then(|s| s.parse::<u64>().ok()) != Some(tree_size) {
        return bad("checkpoint tree size differs from the inclusion proof");
    }
    if root.and_then(b64).as_deref() != Some(root_hash) {
        return bad("checkpoint root differs from the inclusion proof");
    }
    let signed = format!("{head}\n");
    let hint = log.log_id.get(..4).unwrap_or_default();
    let verified = sigs.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some(raw) = rest.rsplit_once(' ').and_then(|(_, s)| b64(s)) else {
            return false;
        };
        raw.len() > 4
            && raw.get(..4) == Some(hint)
            && log.key.verify(
                HashAlg::Sha256,
                signed.as_bytes(),
                raw.get(4..).unwrap_or_default(),
            )
    });
    if verified {
        Ok(())
    } else {
        bad("no checkpoint signature by the log verifies")
    }
}

/// What signed the bundle, as the log entry must record it.
pub(crate) enum Signer<'a> {
    /// The Fulcio leaf certificate (DER).
    Certificate(&'a [u8]),
    /// A public key (SubjectPublicKeyInfo DER).
    Key(&'a [u8]),
}

impl Signer<'_> {
    fn matches_pem_b64(&self, field: Option<&str>) -> bool {
        let Some((label, der)) = field
            .and_then(b64)
            .and_then(|p| String::from_utf8(p).ok())
            .and_then(|p| pem_to_der(&p))
        else {
            return false;
        };
        match self {
            Signer::Certificate(c) => label == "CERTIFICATE" && der == *c,
            Signer::Key(k) => label == "PUBLIC KEY" && der == *k,
        }
    }
}

fn hash_matches(h: Option<&Value>, data: &[u8]) -> bool {
    h.is_some_and(|h| {
        get_str(h, "algorithm") == Some("sha256")
            && get_str(h, "value")
                .is_some_and(|v| v.eq_ignore_ascii_case(&hex::encode(sha256(data))))
    })
}

fn only<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match get_array(v, key) {
        [one] => Some(one),
        _ => None,
    }
}

/// Check that the logged body (kind `intoto` 0.0.2, `dsse` 0.0.1 or `hashedrekord` 0.0.1) is
/// about this signature, this payload and this signer.
pub(crate) fn check_body(
    e: &TlogEntry,
    content: &Content,
    signer: &Signer<'_>,
) -> Result<(), VerifyError> {
    let mismatch = |d: &str| fail(Reason::TlogBodyMismatch, d.to_string());
    let Ok(body) = serde_json::from_slice::<Value>(&e.body) else {
        return mismatch("log entry body is not JSON");
    };
    if get_str(&body, "kind") != Some(e.kind.as_str())
        || get_str(&body, "apiVersion") != Some(e.version.as_str())
    {
        return mismatch("log entry body kind/apiVersion differ from kindVersion");
    }
    let spec = get(&body, "spec");
    match (e.kind.as_str(), e.version.as_str(), content) {
        ("intoto", "0.0.2", Content::Dsse(d)) => {
            let c = spec.and_then(|s| get(s, "content"));
            let env = c.and_then(|c| get(c, "envelope"));
            let Some(s) = env.and_then(|env| only(env, "signatures")) else {
                return mismatch("intoto entry does not hold exactly one signature");
            };
            // The envelope signature is logged base64-encoded twice.
            let logged = get_str(s, "sig")
                .and_then(b64)
                .and_then(|inner| String::from_utf8(inner).ok())
                .and_then(|inner| b64(&inner));
            if logged.as_deref() != Some(&d.sig[..]) {
                return mismatch("intoto entry records another signature");
            }
            if !signer.matches_pem_b64(get_str(s, "publicKey")) {
                return mismatch("intoto entry records another signer");
            }
            if !hash_matches(c.and_then(|c| get(c, "payloadHash")), &d.payload) {
                return mismatch("intoto entry records another payload hash");
            }
            if env
                .and_then(|env| get_str(env, "payloadType"))
                .is_some_and(|t| t != d.payload_type)
            {
                return mismatch("intoto entry records another payload type");
            }
            Ok(())
        }
        ("dsse", "0.0.1", Content::Dsse(d)) => {
            let Some(s) = spec.and_then(|s| only(s, "signatures")) else {
                return mismatch("dsse entry does not hold exactly one signature");
            };
            if get_str(s, "signature").and_then(b64).as_deref() != Some(&d.sig[..]) {
                return mismatch("dsse entry records another signature");
            }
            if !signer.matches_pem_b64(get_str(s, "verifier")) {
                return mismatch("dsse entry records another signer");
            }
            if !hash_matches(spec.and_then(|s| get(s, "payloadHash")), &d.payload) {
                return mismatch("dsse entry records another payload hash");
            }
            Ok(())
        }
        ("hashedrekord", "0.0.1", Content::Message(m)) => {
            let data_hash = spec
                .and_then(|s| get(s, "data"))
                .and_then(|d| get(d, "hash"));
            let alg = match m.digest_alg {
                HashAlg::Sha256 => "sha256",
                HashAlg::Sha384 => "sha384",
                HashAlg::Sha512 => "sha512",
            };
            let hash_ok = data_hash.is_some_and(|h| {
                get_str(h, "algorithm") == Some(alg)
                    && get_str(h, "value")
                        .is_some_and(|v| v.eq_ignore_ascii_case(&hex::encode(&m.digest)))
            });
            if !hash_ok {
                return mismatch("hashedrekord entry records another digest");
            }
            let sig = spec.and_then(|s| get(s, "signature"));
            if sig
                .and_then(|s| get_str(s, "content"))
                .and_then(b64)
                .as_deref()
                != Some(&m.sig[..])
            {
                return mismatch("hashedrekord entry records another signature");
            }
            let pk = sig
                .and_then(|s| get(s, "publicKey"))
                .and_then(|p| get_str(p, "content"));
            if !signer.matches_pem_b64(pk) {
                return mismatch("hashedrekord entry records another signer");
            }
            Ok(())
        }
        (kind, version, _) => fail(
            Reason::UnsupportedTlogEntry,
            format!(
                "log entry kind {}/{} does not fit this bundle's content",
                crate::bundle::truncate(kind),
                crate::bundle::truncate(version)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u8) -> [u8; 32] {
        sha256(&[0, i])
    }

    /// Reference Merkle tree hash over leaves (RFC 6962 MTH).
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node(&mth(&leaves[..k]), &mth(&leaves[k..]))
    }

    /// Reference audit path (RFC 6962 PATH).
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        if leaves.len() <= 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn inclusion_proofs_for_every_index_of_small_trees() {
        for size in 1..=17u8 {
            let leaves: Vec<[u8; 32]> = (0..size).map(leaf).collect();
            let root = mth(&leaves);
            for m in 0..size as usize {
                let p = path(m, &leaves);
                assert_eq!(
                    root_from_proof(leaves[m], m as u64, size as u64, &p),
                    Some(root),
                    "size {size} index {m}"
                );
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(
                        root_from_proof(leaves[m], m as u64, size as u64, &bad),
                        Some(root)
                    );
                    assert_eq!(
                        root_from_proof(leaves[m], m as u64, size as u64, &p[..p.len() - 1]),
                        None
                    );
                }
                let mut long = p.clone();
                long.push(vec![0; 32]);
                assert_eq!(
                    root_from_proof(leaves[m], m as u64, size as u64, &long),
                    None
                );
            }
        }
        assert_eq!(root_from_proof(leaf(0), 3, 3, &[]), None);
        assert_eq!(root_from_proof(leaf(0), 0, 2, &[vec![0; 31]]), None);
    }
}
