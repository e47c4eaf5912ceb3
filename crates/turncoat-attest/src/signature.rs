//! npm registry signatures (`dist.signatures`): ECDSA P-256 / SHA-256 over
//! `<name>@<version>:<integrity>`, checked the way `npm audit signatures` does, with the key
//! required to be valid at the version's publish time (keys are rotated, old versions are not
//! re-signed).
//!
//! A registry signature only proves the registry served these bytes: a hijacked account's
//! publish is signed exactly like a legitimate one. It is an integrity check, not authorship.

use serde::Serialize;
use turncoat_npm::DistSignature;

use crate::encoding::{b64, rfc3339_to_unix};
use crate::keys::{KeyUsage, Keys};

/// npm's stand-in publish time when `time[version]` is missing (`verify-signatures.js`).
const DEFAULT_PUBLISHED: i64 = 1_420_070_400; // 2015-01-01T00:00:00Z

/// The outcome of checking a version's `dist.signatures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// A signature by a known key, valid at publish time, verifies.
    Valid,
    /// A signature by a known key does not verify (npm `EINTEGRITYSIGNATURE`).
    Invalid,
    /// No signatures (third-party registries and stripping mirrors serve none).
    Missing,
    /// Only signatures by keys we do not have (npm `EMISSINGSIGNATUREKEY`): refresh the keys.
    UnknownKey,
    /// Signed by a key that had expired when the version was published
    /// (npm `EEXPIREDSIGNATUREKEY`).
    ExpiredKey,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Valid => "valid",
            SignatureStatus::Invalid => "invalid",
            SignatureStatus::Missing => "missing",
            SignatureStatus::UnknownKey => "unknown-key",
            SignatureStatus::ExpiredKey => "expired-key",
        }
    }
}

impl std::fmt::Display for SignatureStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The exact bytes npm's registry signs.
pub fn signed_message(name: &str, version: &str, integrity: &str) -> String {
    format!("{name}@{version}:{}", integrity.trim())
}

/// Check `sigs` for `name@version` with `integrity` (the SRI string the registry signed).
///
/// `published` is `time[version]` (RFC 3339). Every signature by a known key must verify and
/// its key must not have expired at publish time; signatures by unknown keys are ignored when
/// another one verifies (a registry may add a key before we learn of it).
pub fn verify_signature(
    name: &str,
    version: &str,
    integrity: &str,
    sigs: &[DistSignature],
    published: Option<&str>,
    keys: &Keys,
) -> SignatureStatus {
    if sigs.is_empty() {
        return SignatureStatus::Missing;
    }
    let at = published
        .and_then(rfc3339_to_unix)
        .unwrap_or(DEFAULT_PUBLISHED);
    let message = signed_message(name, version, integrity);
    let (mut valid, mut expired, mut unknown) = (false, false, false);
    for s in sigs {
        let Some(key) = keys.get(&s.keyid, KeyUsage::Signatures) else {
            unknown = true;
            continue;
        };
        if key.expired_at(at) {
            expired = true;
            continue;
        }
        let ok = b64(&s.sig).is_some_and(|der| {
            key.key
                .verify(crate::crypto::HashAlg::Sha256, message.as_bytes(), &der)
        });
        if !ok {
            return SignatureStatus::Invalid;
        }
        valid = true;
    }
    if expired {
        SignatureStatus::ExpiredKey
    } else if valid {
        SignatureStatus::Valid
    } else {
        debug_assert!(unknown);
        SignatureStatus::UnknownKey
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Kit;

    fn sig(keyid: &str, sig: String) -> DistSignature {
        DistSignature {
            keyid: keyid.to_string(),
            sig,
        }
    }

    #[test]
    fn statuses() {
        let kit = Kit::new();
        let keys = kit.npm_keys(Some("2025-01-29T00:00:00.000Z"));
        let integrity = "sha512-AAAA";
        let good = kit.npm_sign(&signed_message("@s/p", "1.0.0", integrity));
        let v = |sigs: &[DistSignature], at: Option<&str>| {
            verify_signature("@s/p", "1.0.0", integrity, sigs, at, &keys)
        };
        assert_eq!(
            v(
                &[sig(Kit::NPM_KEYID, good.clone())],
                Some("2024-01-01T00:00:00Z")
            ),
            SignatureStatus::Valid
        );
        // No publish time: npm's 2015 default, before expiry.
        assert_eq!(
            v(&[sig(Kit::NPM_KEYID, good.clone())], None),
            SignatureStatus::Valid
        );
        assert_eq!(
            v(
                &[sig(Kit::NPM_KEYID, good.clone())],
                Some("2025-01-29T00:00:00Z")
            ),
            SignatureStatus::ExpiredKey
        );
        assert_eq!(
            v(&[sig("SHA256:other", good.clone())], None),
            SignatureStatus::UnknownKey
        );
        assert_eq!(
            v(
                &[
                    sig("SHA256:other", "x".into()),
                    sig(Kit::NPM_KEYID, good.clone())
                ],
                None
            ),
            SignatureStatus::Valid
        );
        assert_eq!(v(&[], None), SignatureStatus::Missing);
        assert_eq!(
            v(&[sig(Kit::NPM_KEYID, "bogus".into())], None),
            SignatureStatus::Invalid
        );
        let other = kit.npm_sign(&signed_message("@s/p", "1.0.1", integrity));
        assert_eq!(
            v(&[sig(Kit::NPM_KEYID, other)], None),
            SignatureStatus::Invalid
        );
        assert_eq!(
            serde_json::to_string(&SignatureStatus::UnknownKey).unwrap(),
            "\"unknown-key\""
        );
    }
}
