//! ECDSA verification over P-256 and P-384, the only algorithms npm and Sigstore's public-good
//! instance use for what we verify (npm keys, Rekor v1, Fulcio leaf and CA certificates).
//!
//! High-S signatures are accepted: ECDSA verification is invariant under `s → n - s`, and 202
//! of the 377 real nuxt registry signatures are high-S, so `s` is normalised before the check.
//!
//! P-256 over a whole message (every registry signature, DSSE envelope, SET and checkpoint)
//! is verified by `ring`, ≈ 4× faster than the pure-Rust `p256` arithmetic and accepting
//! high-S as is. The RustCrypto crates still parse keys and verify what `ring` has no entry
//! point for: pre-hashed P-256 digests, P-256 with SHA-512, and all of P-384 (where `ring`
//! was measured no faster).

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::pkcs8::DecodePublicKey;
use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA384_ASN1, UnparsedPublicKey};
use sha2::Digest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub(crate) fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(msg).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(msg).to_vec(),
        }
    }
}

pub(crate) fn sha256(msg: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(msg).into()
}

/// A public key we can verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    P256(P256Key),
    P384(p384::ecdsa::VerifyingKey),
}

/// A P-256 key in both forms: parsed for the pre-hash fallback, and as the uncompressed SEC1
/// point `ring` takes (computed once here, not per verification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct P256Key {
    key: p256::ecdsa::VerifyingKey,
    point: Box<[u8]>,
}

impl P256Key {
    fn new(key: p256::ecdsa::VerifyingKey) -> P256Key {
        let point = key.to_sec1_point(false).as_bytes().into();
        P256Key { key, point }
    }

    fn verify_prehash(&self, digest: &[u8], sig_der: &[u8]) -> bool {
        p256::ecdsa::Signature::from_der(sig_der)
            .map(|s| s.normalize_s())
            .is_ok_and(|s| self.key.verify_prehash(digest, &s).is_ok())
    }
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo (what npm's keys endpoint, the trusted root and X.509
    /// certificates carry).
    pub(crate) fn from_spki_der(der: &[u8]) -> Option<PublicKey> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(PublicKey::P256(P256Key::new(k)));
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(der)
            .ok()
            .map(PublicKey::P384)
    }

    /// The hash the key's curve is normally paired with.
    pub(crate) fn default_hash(&self) -> HashAlg {
        match self {
            PublicKey::P256(_) => HashAlg::Sha256,
            PublicKey::P384(_) => HashAlg::Sha384,
        }
    }

    /// Verify a DER ECDSA signature over `msg` hashed with `hash`.
    pub(crate) fn verify(&self, hash: HashAlg, msg: &[u8], sig_der: &[u8]) -> bool {
        let ring_alg = match (self, hash) {
            (PublicKey::P256(_), HashAlg::Sha256) => Some(&ECDSA_P256_SHA256_ASN1),
            (PublicKey::P256(_), HashAlg::Sha384) => Some(&ECDSA_P256_SHA384_ASN1),
            _ => None,
        };
        match (self, ring_alg) {
            (PublicKey::P256(k), Some(alg)) => UnparsedPublicKey::new(alg, &k.point)
                .verify(msg, sig_der)
                .is_ok(),
            _ => self.verify_prehash(&hash.digest(msg), sig_der),
        }
    }

    /// Verify a DER ECDSA signature over an already computed digest.
    pub(crate) fn verify_prehash(&self, digest: &[u8], sig_der: &[u8]) -> bool {
        match self {
            PublicKey::P256(k) => k.verify_prehash(digest, sig_der),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(sig_der)
                .map(|s| s.normalize_s())
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    #[test]
    fn verifies_low_and_high_s() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let spki = sk.verifying_key().to_public_key_der().unwrap();
        let pk = PublicKey::from_spki_der(spki.as_bytes()).unwrap();
        let sig: p256::ecdsa::Signature = sk.sign(b"hello");
        let low = sig.normalize_s();
        let (r, s) = low.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
        assert_ne!(low, high);
        for s in [low, high] {
            assert!(pk.verify(HashAlg::Sha256, b"hello", s.to_der().as_bytes()));
            assert!(!pk.verify(HashAlg::Sha256, b"hellp", s.to_der().as_bytes()));
        }
        assert!(!pk.verify(HashAlg::Sha256, b"hello", b"bogus"));
        assert!(PublicKey::from_spki_der(b"\x30\x00").is_none());
    }

    #[test]
    fn ring_and_prehash_paths_agree_for_every_hash() {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let spki = sk.verifying_key().to_public_key_der().unwrap();
        let pk = PublicKey::from_spki_der(spki.as_bytes()).unwrap();
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let sig: p256::ecdsa::Signature = sk.sign_prehash(&hash.digest(b"msg")).unwrap();
            let der = sig.to_der();
            // `verify` goes through ring for SHA-256/384, `verify_prehash` through p256.
            assert!(pk.verify(hash, b"msg", der.as_bytes()), "{hash:?}");
            assert!(
                pk.verify_prehash(&hash.digest(b"msg"), der.as_bytes()),
                "{hash:?}"
            );
            assert!(!pk.verify(hash, b"msh", der.as_bytes()), "{hash:?}");
            assert!(
                !pk.verify_prehash(&hash.digest(b"msh"), der.as_bytes()),
                "{hash:?}"
            );
        }
        // A raw (r || s) signature is not DER: rejected by both paths.
        let raw = sk
            .sign_prehash(&HashAlg::Sha256.digest(b"msg"))
            .map(|s: p256::ecdsa::Signature| s.to_bytes())
            .unwrap();
        assert!(!pk.verify(HashAlg::Sha256, b"msg", &raw));
        assert!(!pk.verify_prehash(&HashAlg::Sha256.digest(b"msg"), &raw));
    }

    #[test]
    fn verifies_p384() {
        let sk = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        let spki = sk.verifying_key().to_public_key_der().unwrap();
        let pk = PublicKey::from_spki_der(spki.as_bytes()).unwrap();
        assert_eq!(pk.default_hash(), HashAlg::Sha384);
        let sig: p384::ecdsa::Signature = sk.sign(b"tbs");
        assert!(pk.verify(HashAlg::Sha384, b"tbs", sig.to_der().as_bytes()));
        assert!(!pk.verify(HashAlg::Sha384, b"tbz", sig.to_der().as_bytes()));
    }
}
