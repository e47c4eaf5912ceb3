//! ECDSA verification over P-256 and P-384, the only algorithms npm and Sigstore's public-good
//! instance use for what we verify (npm keys, Rekor v1, Fulcio leaf and CA certificates).
//!
//! High-S signatures are accepted: ECDSA verification is invariant under `s → n - s`, and 202
//! of the 377 real nuxt registry signatures are high-S, so `s` is normalised before the check.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::pkcs8::DecodePublicKey;
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
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo (what npm's keys endpoint, the trusted root and X.509
    /// certificates carry).
    pub(crate) fn from_spki_der(der: &[u8]) -> Option<PublicKey> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(PublicKey::P256(k));
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
        self.verify_prehash(&hash.digest(msg), sig_der)
    }

    /// Verify a DER ECDSA signature over an already computed digest.
    pub(crate) fn verify_prehash(&self, digest: &[u8], sig_der: &[u8]) -> bool {
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(sig_der)
                .map(|s| s.normalize_s())
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
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
