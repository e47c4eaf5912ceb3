//! Small decoders shared by every verifier: lenient base64, PEM, RFC 3339 times and JSON
//! accessors that treat `null`, absent and empty alike (real bundles use all three).

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decode base64 as protobuf JSON writes `bytes`: standard alphabet, padding optional, and
/// the URL-safe alphabet accepted too (the protobuf JSON mapping allows both).
pub(crate) fn b64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    STANDARD_LENIENT
        .decode(s)
        .or_else(|_| URL_SAFE_LENIENT.decode(s))
        .ok()
}

#[cfg(any(test, feature = "testkit"))]
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode one PEM block (any label) to DER. Only the first block is read.
pub(crate) fn pem_to_der(pem: &str) -> Option<(String, Vec<u8>)> {
    let mut lines = pem.lines().map(str::trim).skip_while(|l| l.is_empty());
    let first = lines.next()?;
    let label = first
        .strip_prefix("-----BEGIN ")?
        .strip_suffix("-----")?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    for line in lines {
        if line == end {
            return b64(&body).map(|der| (label, der));
        }
        body.push_str(line);
    }
    None
}

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`2025-01-29T00:00:00.000Z`).
pub(crate) fn rfc3339_to_unix(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// `obj[key]` unless it is `null`.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// `obj[key]` as a non-empty string.
pub(crate) fn get_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `obj[key]` as an array; `null`, absent and wrong-typed all read as empty.
pub(crate) fn get_array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    get(v, key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `obj[key]` as an object that has at least one non-null member.
pub(crate) fn get_object<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    get(v, key).filter(|x| {
        x.as_object()
            .is_some_and(|m| m.values().any(|v| !v.is_null()))
    })
}

/// protobuf JSON writes int64 as a string; accept a number too.
pub(crate) fn get_i64(v: &Value, key: &str) -> Option<i64> {
    match get(v, key)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_variants() {
        assert_eq!(b64("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(b64("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(b64("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert_eq!(b64("!!"), None);
    }

    #[test]
    fn pem_blocks() {
        let pem = "\n-----BEGIN PUBLIC KEY-----\naGk=\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            pem_to_der(pem),
            Some(("PUBLIC KEY".to_string(), b"hi".to_vec()))
        );
        assert_eq!(pem_to_der("-----BEGIN X-----\naGk=\n"), None);
        assert_eq!(pem_to_der("garbage"), None);
    }

    #[test]
    fn times_and_accessors() {
        assert_eq!(rfc3339_to_unix("1970-01-01T00:01:00.000Z"), Some(60));
        assert_eq!(rfc3339_to_unix("2025-01-29T00:00:00Z"), Some(1_738_108_800));
        assert_eq!(rfc3339_to_unix("yesterday"), None);
        let v: Value =
            serde_json::json!({"a": null, "b": "", "c": "7", "d": 8, "e": {}, "f": {"x": null}});
        assert!(get(&v, "a").is_none());
        assert!(get_str(&v, "b").is_none());
        assert_eq!(get_i64(&v, "c"), Some(7));
        assert_eq!(get_i64(&v, "d"), Some(8));
        assert!(get_object(&v, "e").is_none());
        assert!(get_object(&v, "f").is_none());
        assert!(get_array(&v, "a").is_empty());
    }
}
