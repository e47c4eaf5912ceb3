//! The Sigstore trust root: Rekor log keys and Fulcio certificate authorities, each with the
//! window in which it may be trusted.
//!
//! The embedded `trusted_root.json` is Sigstore's production trust root
//! (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`) as distributed through
//! `https://tuf-repo-cdn.sigstore.dev` (target `trusted_root.json`; byte-identical to the copy
//! embedded in sigstore-js `packages/tuf/seeds.json` and shipped as test data by the `sigstore`
//! 0.15.0 crate). It is public trust material of the Sigstore project, Apache-2.0. The tool runs
//! offline, so the root is compiled in; [`TrustRoot::from_json`] loads a refreshed one.

use serde_json::Value;

use crate::crypto::PublicKey;
use crate::encoding::{b64, get, get_array, get_str, rfc3339_to_unix};
use crate::x509::ParsedCert;

const EMBEDDED_TRUSTED_ROOT: &str = include_str!("trusted_root.json");
const MAX_ROOT_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrustRootError {
    #[error("trusted root is not valid JSON: {0}")]
    Json(String),
    #[error("trusted root is larger than {MAX_ROOT_BYTES} bytes")]
    TooLarge,
    #[error("trusted root has no usable transparency log key")]
    NoLogs,
    #[error("trusted root has no certificate authority")]
    NoAuthorities,
    #[error("trusted root entry {what} is malformed: {detail}")]
    Malformed { what: String, detail: String },
}

/// A validity window in Unix seconds (`end` open when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Window {
    pub(crate) fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }

    fn parse(v: Option<&Value>, what: &str) -> Result<Window, TrustRootError> {
        let time = |k: &str| -> Result<Option<i64>, TrustRootError> {
            match v.and_then(|v| get_str(v, k)) {
                None => Ok(None),
                Some(s) => rfc3339_to_unix(s)
                    .map(Some)
                    .ok_or_else(|| TrustRootError::Malformed {
                        what: what.to_string(),
                        detail: format!("bad validFor.{k}"),
                    }),
            }
        };
        Ok(Window {
            start: time("start")?,
            end: time("end")?,
        })
    }
}

/// A Rekor instance we trust.
#[derive(Debug, Clone)]
pub(crate) struct Tlog {
    pub base_url: String,
    pub log_id: Vec<u8>,
    pub key: PublicKey,
    pub valid: Window,
}

/// A Fulcio CA: its chain from the certificate that issues leaves up to the root, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    pub uri: String,
    pub chain: Vec<ParsedCert>,
    pub valid: Window,
}

/// Sigstore trust material.
#[derive(Debug, Clone)]
pub struct TrustRoot {
    pub(crate) tlogs: Vec<Tlog>,
    pub(crate) authorities: Vec<Authority>,
    /// Logs present in the document that we cannot use (e.g. Rekor v2's Ed25519 key).
    pub(crate) skipped_logs: Vec<String>,
}

impl TrustRoot {
    /// Sigstore's production trust root compiled into turncoat.
    pub fn embedded() -> TrustRoot {
        // The embedded document is a constant checked by a unit test.
        TrustRoot::from_json(EMBEDDED_TRUSTED_ROOT.as_bytes()).unwrap_or(TrustRoot {
            tlogs: Vec::new(),
            authorities: Vec::new(),
            skipped_logs: Vec::new(),
        })
    }

    /// Parse a `trusted_root.json`. Logs with key types we cannot verify (Ed25519 for Rekor
    /// v2) are skipped; entries that claim a supported type but do not parse are errors.
    pub fn from_json(bytes: &[u8]) -> Result<TrustRoot, TrustRootError> {
        if bytes.len() > MAX_ROOT_BYTES {
            return Err(TrustRootError::TooLarge);
        }
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|e| TrustRootError::Json(e.to_string()))?;
        let mut tlogs = Vec::new();
        let mut skipped_logs = Vec::new();
        for (i, t) in get_array(&doc, "tlogs").iter().enumerate() {
            let what = format!("tlogs[{i}]");
            let bad = |detail: &str| TrustRootError::Malformed {
                what: what.clone(),
                detail: detail.to_string(),
            };
            let base_url = get_str(t, "baseUrl").unwrap_or_default().to_string();
            let pk = get(t, "publicKey").ok_or_else(|| bad("no publicKey"))?;
            let details = get_str(pk, "keyDetails").unwrap_or_default();
            if !details.starts_with("PKIX_ECDSA_P256") && !details.starts_with("PKIX_ECDSA_P384") {
                skipped_logs.push(base_url);
                continue;
            }
            let der = get_str(pk, "rawBytes")
                .and_then(b64)
                .ok_or_else(|| bad("bad publicKey.rawBytes"))?;
            let key = PublicKey::from_spki_der(&der).ok_or_else(|| bad("unparseable key"))?;
            let log_id = get(t, "logId")
                .and_then(|l| get_str(l, "keyId"))
                .and_then(b64)
                .ok_or_else(|| bad("bad logId.keyId"))?;
            let valid = Window::parse(get(pk, "validFor"), &what)?;
            tlogs.push(Tlog {
                base_url,
                log_id,
                key,
                valid,
            });
        }
        let mut authorities = Vec::new();
        for (i, ca) in get_array(&doc, "certificateAuthorities").iter().enumerate() {
            let what = format!("certificateAuthorities[{i}]");
            let chain: Option<Vec<ParsedCert>> = get(ca, "certChain")
                .map(|c| get_array(c, "certificates"))
                .unwrap_or(&[])
                .iter()
                .map(|c| {
                    get_str(c, "rawBytes")
                        .and_then(b64)
                        .and_then(|der| ParsedCert::parse(&der).ok())
                })
                .collect();
            let chain =
                chain
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| TrustRootError::Malformed {
                        what: what.clone(),
                        detail: "bad certChain".to_string(),
                    })?;
            authorities.push(Authority {
                uri: get_str(ca, "uri").unwrap_or_default().to_string(),
                chain,
                valid: Window::parse(get(ca, "validFor"), &what)?,
            });
        }
        if tlogs.is_empty() {
            return Err(TrustRootError::NoLogs);
        }
        if authorities.is_empty() {
            return Err(TrustRootError::NoAuthorities);
        }
        Ok(TrustRoot {
            tlogs,
            authorities,
            skipped_logs,
        })
    }

    /// Base URLs of the Rekor logs whose keys are used.
    pub fn log_urls(&self) -> Vec<&str> {
        self.tlogs.iter().map(|t| t.base_url.as_str()).collect()
    }

    /// URIs of the certificate authorities.
    pub fn authority_uris(&self) -> Vec<&str> {
        self.authorities.iter().map(|a| a.uri.as_str()).collect()
    }

    /// Logs listed in the document but not usable here (unsupported key type).
    pub fn skipped_log_urls(&self) -> Vec<&str> {
        self.skipped_logs.iter().map(String::as_str).collect()
    }

    pub(crate) fn log(&self, log_id: &[u8], at: i64) -> Option<&Tlog> {
        self.tlogs
            .iter()
            .find(|t| t.log_id == log_id && t.valid.contains(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_root_loads() {
        let r = TrustRoot::embedded();
        assert_eq!(r.log_urls(), vec!["https://rekor.sigstore.dev"]);
        assert_eq!(
            r.skipped_log_urls(),
            vec!["https://log2025-1.rekor.sigstore.dev"]
        );
        assert_eq!(r.authorities.len(), 2);
        assert_eq!(r.authorities[1].chain.len(), 2);
        let id = b64("wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=").unwrap();
        assert!(r.log(&id, 1_757_713_653).is_some());
        assert!(
            r.log(&id, 1_000_000_000).is_none(),
            "before the log's start"
        );
    }

    #[test]
    fn windows() {
        let w = Window {
            start: Some(10),
            end: Some(20),
        };
        assert!(w.contains(10) && w.contains(20) && !w.contains(9) && !w.contains(21));
        let open = Window {
            start: None,
            end: None,
        };
        assert!(open.contains(i64::MIN));
    }

    #[test]
    fn rejects_bad_roots() {
        assert!(matches!(
            TrustRoot::from_json(b"[1"),
            Err(TrustRootError::Json(_))
        ));
        assert_eq!(
            TrustRoot::from_json(b"{}").unwrap_err(),
            TrustRootError::NoLogs
        );
        let mut v: Value = serde_json::from_str(EMBEDDED_TRUSTED_ROOT).unwrap();
        v["certificateAuthorities"] = Value::Array(vec![]);
        assert_eq!(
            TrustRoot::from_json(v.to_string().as_bytes()).unwrap_err(),
            TrustRootError::NoAuthorities
        );
        let mut v: Value = serde_json::from_str(EMBEDDED_TRUSTED_ROOT).unwrap();
        v["tlogs"][0]["publicKey"]["rawBytes"] = Value::String("AAAA".into());
        assert!(matches!(
            TrustRoot::from_json(v.to_string().as_bytes()),
            Err(TrustRootError::Malformed { .. })
        ));
    }
}
