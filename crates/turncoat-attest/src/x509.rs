//! Fulcio certificates: the leaf's chain to a trusted CA at the log time, its key, and its
//! identity (SAN and the `1.3.6.1.4.1.57264.1.*` extensions Fulcio copies from the OIDC token).

use std::collections::BTreeMap;

use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

use crate::crypto::{HashAlg, PublicKey};
use crate::error::{Reason, VerifyError, fail};
use crate::trust_root::{Authority, Window};

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const EKU_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Fulcio's extension arc; the numeric suffix after it names the claim.
const FULCIO_ARC: &str = "1.3.6.1.4.1.57264.1.";

/// A certificate parsed once, with the exact bytes its signature covers.
#[derive(Debug, Clone)]
pub(crate) struct ParsedCert {
    pub der: Vec<u8>,
    pub cert: Certificate,
    tbs: std::ops::Range<usize>,
    pub key: PublicKey,
    pub valid: Window,
}

/// Header of one DER TLV: (header length, content length). Lengths over 4 bytes are refused.
fn tlv_header(input: &[u8]) -> Option<(usize, usize)> {
    let first_len = *input.get(1)?;
    if first_len < 0x80 {
        return Some((2, usize::from(first_len)));
    }
    let n = usize::from(first_len & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let bytes = input.get(2..2 + n)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some((2 + n, len))
}

/// Byte range of `tbsCertificate` inside a DER certificate.
fn tbs_range(der: &[u8]) -> Option<std::ops::Range<usize>> {
    let (outer_header, _) = tlv_header(der)?;
    let (h, len) = tlv_header(der.get(outer_header..)?)?;
    let end = outer_header.checked_add(h)?.checked_add(len)?;
    (end <= der.len()).then_some(outer_header..end)
}

impl ParsedCert {
    pub(crate) fn parse(der: &[u8]) -> Result<ParsedCert, VerifyError> {
        let cert = Certificate::from_der(der)
            .map_err(|e| VerifyError::new(Reason::CertificateMalformed, e.to_string()))?;
        let Some(tbs) = tbs_range(der) else {
            return fail(Reason::CertificateMalformed, "cannot locate tbsCertificate");
        };
        let spki = cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| VerifyError::new(Reason::CertificateMalformed, e.to_string()))?;
        let Some(key) = PublicKey::from_spki_der(&spki) else {
            return fail(
                Reason::CertificateMalformed,
                "certificate key is not ECDSA P-256 or P-384",
            );
        };
        let validity = cert.tbs_certificate().validity();
        let secs = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
        let valid = Window {
            start: Some(secs(validity.not_before).unwrap_or(i64::MAX)),
            end: Some(secs(validity.not_after).unwrap_or(i64::MIN)),
        };
        Ok(ParsedCert {
            der: der.to_vec(),
            cert,
            tbs,
            key,
            valid,
        })
    }

    fn tbs_bytes(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or_default()
    }

    /// True when `issuer` signed this certificate and the names chain.
    fn issued_by(&self, issuer: &ParsedCert) -> bool {
        let names_chain = match (
            self.cert.tbs_certificate().issuer().to_der(),
            issuer.cert.tbs_certificate().subject().to_der(),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !names_chain {
            return false;
        }
        let oid = self.cert.signature_algorithm().oid;
        let hash = if oid == ECDSA_SHA256 {
            HashAlg::Sha256
        } else if oid == ECDSA_SHA384 {
            HashAlg::Sha384
        } else if oid == ECDSA_SHA512 {
            HashAlg::Sha512
        } else {
            return false;
        };
        let Some(sig) = self.cert.signature().as_bytes() else {
            return false;
        };
        issuer.key.verify(hash, self.tbs_bytes(), sig)
    }

    fn has_code_signing_eku(&self) -> bool {
        matches!(
            self.cert.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
            Ok(Some((_, eku))) if eku.0.contains(&EKU_CODE_SIGNING)
        )
    }

    /// The identity the certificate was issued to.
    pub(crate) fn identity(&self) -> CertIdentity {
        let tbs = self.cert.tbs_certificate();
        let san = match tbs.get_extension::<SubjectAltName>() {
            Ok(Some((_, names))) => names.0.iter().find_map(|n| match n {
                GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                GeneralName::Rfc822Name(e) => Some(e.to_string()),
                _ => None,
            }),
            _ => None,
        };
        let mut fulcio = BTreeMap::new();
        for ext in tbs.extensions().into_iter().flatten() {
            let oid = ext.extn_id.to_string();
            let Some(suffix) = oid.strip_prefix(FULCIO_ARC) else {
                continue;
            };
            let Ok(n) = suffix.parse::<u32>() else {
                continue;
            };
            let raw = ext.extn_value.as_bytes();
            // 1.1–1.6 are raw strings; 1.8 onwards are DER UTF8String.
            let value = if n >= 8 {
                Utf8StringRef::from_der(raw)
                    .ok()
                    .map(|s| s.as_str().to_string())
            } else {
                std::str::from_utf8(raw).ok().map(str::to_string)
            };
            if let Some(v) = value {
                fulcio.insert(n, v);
            }
        }
        CertIdentity { san, fulcio }
    }
}

/// What a Fulcio certificate says about its holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CertIdentity {
    /// Subject alternative name: a URI (workflow identity) or an e-mail address.
    pub san: Option<String>,
    /// Fulcio extensions by the last arc of `1.3.6.1.4.1.57264.1.<n>`.
    pub fulcio: BTreeMap<u32, String>,
}

impl CertIdentity {
    pub(crate) fn ext(&self, n: u32) -> Option<&str> {
        self.fulcio.get(&n).map(String::as_str)
    }
}

/// Check that `leaf` chains to a CA of the trust root that was valid at `t`, that the leaf was
/// valid at `t`, and that it is a code-signing certificate. The CA's own chain is trust
/// material: each link must still be in its validity period at `t`.
pub(crate) fn verify_leaf(
    leaf: &ParsedCert,
    authorities: &[Authority],
    t: i64,
) -> Result<(), VerifyError> {
    let mut issuer_found = false;
    for ca in authorities.iter().filter(|a| a.valid.contains(t)) {
        let Some(issuer) = ca.chain.first() else {
            continue;
        };
        if !leaf.issued_by(issuer) {
            continue;
        }
        issuer_found = true;
        if ca.chain.iter().all(|c| c.valid.contains(t)) {
            if !leaf.valid.contains(t) {
                return fail(
                    Reason::CertificateExpired,
                    format!("signing certificate was not valid at log time {t}"),
                );
            }
            if !leaf.has_code_signing_eku() {
                return fail(
                    Reason::CertificateUsage,
                    "signing certificate lacks the code-signing extended key usage",
                );
            }
            return Ok(());
        }
    }
    let detail = if issuer_found {
        format!("the issuing CA was not valid at log time {t}")
    } else {
        "no trusted Fulcio CA issued the signing certificate".to_string()
    };
    fail(Reason::CertificateChainInvalid, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_headers() {
        assert_eq!(tlv_header(&[0x30, 0x03, 1, 2, 3]), Some((2, 3)));
        assert_eq!(tlv_header(&[0x30, 0x82, 0x01, 0x00]), Some((4, 256)));
        assert_eq!(tlv_header(&[0x30, 0x80]), None);
        assert_eq!(tlv_header(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(tlv_header(&[0x30]), None);
        assert_eq!(tbs_range(&[0x30, 0x05, 0x30, 0x09, 0, 0, 0]), None);
        assert_eq!(tbs_range(&[0x30, 0x04, 0x30, 0x02, 0, 0]), Some(2..6));
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for der in [&b""[..], b"\x30\x00", b"\x30\x82\xff\xff", &[0xff; 40]] {
            assert_eq!(
                ParsedCert::parse(der).unwrap_err().reason,
                Reason::CertificateMalformed
            );
        }
    }
}
