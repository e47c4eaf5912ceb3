//! npm registry signing keys: the embedded npmjs key set and overrides in either published shape.
//!
//! npm publishes its keys twice: `GET <registry>/-/npm/v1/keys`
//! (`{"keys":[{keyid, key, expires, …}]}`) and the Sigstore TUF target `<registry>/keys.json`
//! (`{"keys":[{keyId, keyUsage, publicKey:{rawBytes, keyDetails, validFor:{start, end}}}]}`).
//! Both map to [`NpmKey`]; npm itself only honours the end of the validity window
//! (`validFor.end` → `expires`), and so do we.

use serde_json::Value;

use crate::crypto::PublicKey;
use crate::encoding::{b64, get, get_array, get_str, rfc3339_to_unix};

/// The npmjs registry key set, as served by `/-/npm/v1/keys` (old key expired 2025-01-29,
/// new key from 2025-01-13).
const EMBEDDED_KEYS: &str = include_str!("npm_keys.json");

/// Largest keys document accepted.
const MAX_KEYS_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeysError {
    #[error("keys document is not valid JSON: {0}")]
    Json(String),
    #[error("keys document is larger than {MAX_KEYS_BYTES} bytes")]
    TooLarge,
    #[error("keys document has no \"keys\" array")]
    NoKeys,
    #[error(
        "keys document lists no keys: every registry signature would read as signed by an unknown key; refusing to verify without keys"
    )]
    Empty,
    #[error("key entry {index} has no key id")]
    MissingKeyId { index: usize },
    #[error("key {keyid} is not a base64 P-256 SubjectPublicKeyInfo")]
    BadKey { keyid: String },
    #[error("key {keyid} has an unparseable {field} time {value:?}")]
    BadTime {
        keyid: String,
        field: &'static str,
        value: String,
    },
}

/// What a key may be used for (TUF `keyUsage`); the keys endpoint does not say, so its keys
/// serve both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// `npm:signatures`: `dist.signatures`.
    Signatures,
    /// `npm:attestations`: the registry-signed publish attestation.
    Attestations,
}

/// One npm registry key.
#[derive(Debug, Clone)]
pub struct NpmKey {
    pub keyid: String,
    /// `None`: usable for any purpose.
    pub usage: Option<KeyUsage>,
    /// Unix seconds; a signature made at or after this instant is not accepted.
    pub expires: Option<i64>,
    pub(crate) key: PublicKey,
    pub(crate) spki_der: Vec<u8>,
}

impl NpmKey {
    /// True when the key was no longer valid at `at` (Unix seconds).
    pub fn expired_at(&self, at: i64) -> bool {
        self.expires.is_some_and(|e| at >= e)
    }
}

/// A set of npm registry keys, looked up by `keyid`.
#[derive(Debug, Clone)]
pub struct Keys {
    keys: Vec<NpmKey>,
}

impl Keys {
    /// The npmjs.org keys compiled into turncoat. Fails closed: a document that does not
    /// load, or loads no key, is an error, never an empty set (with no keys, every signature
    /// would read as "unknown key" and a stripped or forged signature would go unnoticed).
    pub fn embedded() -> Result<Keys, KeysError> {
        Keys::from_json(EMBEDDED_KEYS.as_bytes())
    }

    /// No keys at all: every signature reads as signed by an unknown key. Tests only.
    #[cfg(any(test, feature = "testkit"))]
    pub fn empty() -> Keys {
        Keys::none()
    }

    /// No keys (PEP 740 attestations are signed by Fulcio certificates only).
    pub(crate) fn none() -> Keys {
        Keys { keys: Vec::new() }
    }

    /// Parse a keys document in the `/-/npm/v1/keys` shape or the TUF `keys.json` target shape
    /// (entries of both shapes may be mixed).
    pub fn from_json(bytes: &[u8]) -> Result<Keys, KeysError> {
        if bytes.len() > MAX_KEYS_BYTES {
            return Err(KeysError::TooLarge);
        }
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|e| KeysError::Json(e.to_string()))?;
        if !get(&doc, "keys").is_some_and(Value::is_array) {
            return Err(KeysError::NoKeys);
        }
        let mut keys = Vec::new();
        for (index, entry) in get_array(&doc, "keys").iter().enumerate() {
            keys.push(parse_entry(index, entry)?);
        }
        if keys.is_empty() {
            return Err(KeysError::Empty);
        }
        Ok(Keys { keys })
    }

    /// Add keys from another set (e.g. a refreshed document on top of the embedded one).
    pub fn extend(&mut self, other: Keys) {
        self.keys.extend(other.keys);
    }

    pub fn iter(&self) -> impl Iterator<Item = &NpmKey> {
        self.keys.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key with `keyid` usable for `usage`.
    pub fn get(&self, keyid: &str, usage: KeyUsage) -> Option<&NpmKey> {
        self.keys
            .iter()
            .find(|k| k.keyid == keyid && k.usage.is_none_or(|u| u == usage))
    }
}

fn parse_entry(index: usize, e: &Value) -> Result<NpmKey, KeysError> {
    let keyid = get_str(e, "keyid")
        .or_else(|| get_str(e, "keyId"))
        .ok_or(KeysError::MissingKeyId { index })?
        .to_string();
    let public = get(e, "publicKey");
    let raw = get_str(e, "key").or_else(|| public.and_then(|p| get_str(p, "rawBytes")));
    let spki_der = raw.and_then(b64).ok_or_else(|| KeysError::BadKey {
        keyid: keyid.clone(),
    })?;
    let key = match PublicKey::from_spki_der(&spki_der) {
        Some(k @ PublicKey::P256(_)) => k,
        _ => return Err(KeysError::BadKey { keyid }),
    };
    let usage = match get_str(e, "keyUsage") {
        Some("npm:signatures") => Some(KeyUsage::Signatures),
        Some("npm:attestations") => Some(KeyUsage::Attestations),
        _ => None,
    };
    let expires_str = get_str(e, "expires").or_else(|| {
        public
            .and_then(|p| get(p, "validFor"))
            .and_then(|v| get_str(v, "end"))
    });
    let expires = match expires_str {
        None => None,
        Some(s) => Some(rfc3339_to_unix(s).ok_or_else(|| KeysError::BadTime {
            keyid: keyid.clone(),
            field: "expires",
            value: s.chars().take(64).collect(),
        })?),
    };
    Ok(NpmKey {
        keyid,
        usage,
        expires,
        key,
        spki_der,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
    const NEW: &str = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";

    #[test]
    fn embedded_keys_load() {
        let k = Keys::embedded().unwrap();
        assert_eq!(k.iter().count(), 2);
        let old = k.get(OLD, KeyUsage::Signatures).unwrap();
        assert_eq!(old.expires, Some(1_738_108_800));
        assert!(old.expired_at(1_738_108_800));
        assert!(!old.expired_at(1_738_108_799));
        assert_eq!(k.get(NEW, KeyUsage::Attestations).unwrap().expires, None);
        assert!(k.get("SHA256:nope", KeyUsage::Signatures).is_none());
    }

    #[test]
    fn tuf_shape_and_usage() {
        let spki = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY6Ya7W++7aUPzvMTrezH6Ycx3c+HOKYCcNGybJZSCJq/fd7Qa8uuAKtdIkUQtQiEKERhAmE5lMMJhP8OkDOa2g==";
        let doc = format!(
            r#"{{"keys":[{{"keyId":"k1","keyUsage":"npm:attestations","publicKey":{{"rawBytes":"{spki}","keyDetails":"PKIX_ECDSA_P256_SHA_256","validFor":{{"start":"2025-01-13T00:00:00.000Z","end":"2030-01-01T00:00:00Z"}}}}}}]}}"#
        );
        let k = Keys::from_json(doc.as_bytes()).unwrap();
        assert!(k.get("k1", KeyUsage::Signatures).is_none());
        let key = k.get("k1", KeyUsage::Attestations).unwrap();
        assert_eq!(key.expires, Some(1_893_456_000));
    }

    #[test]
    fn rejects_bad_documents() {
        assert!(matches!(Keys::from_json(b"nope"), Err(KeysError::Json(_))));
        assert_eq!(Keys::from_json(b"{}").unwrap_err(), KeysError::NoKeys);
        // An empty key set fails closed instead of making every signature "unknown key".
        assert_eq!(
            Keys::from_json(br#"{"keys":[]}"#).unwrap_err(),
            KeysError::Empty
        );
        assert_eq!(
            Keys::from_json(br#"{"keys":[{"key":"AAAA"}]}"#).unwrap_err(),
            KeysError::MissingKeyId { index: 0 }
        );
        assert_eq!(
            Keys::from_json(br#"{"keys":[{"keyid":"x","key":"AAAA"}]}"#).unwrap_err(),
            KeysError::BadKey {
                keyid: "x".to_string()
            }
        );
        assert_eq!(
            Keys::from_json(&vec![b' '; MAX_KEYS_BYTES + 1]).unwrap_err(),
            KeysError::TooLarge
        );
        let embedded: Value = serde_json::from_str(EMBEDDED_KEYS).unwrap();
        let mut e = embedded.clone();
        e["keys"][0]["expires"] = Value::String("soon".into());
        assert!(matches!(
            Keys::from_json(e.to_string().as_bytes()),
            Err(KeysError::BadTime { .. })
        ));
    }
}
