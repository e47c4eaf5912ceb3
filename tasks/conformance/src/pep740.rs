//! `pep740`: PyPI's PEP 740 provenance through `turncoat_attest::pep740::verify_pep740`, the
//! code `turncoat verify` runs on Python files, against the shared vectors.
//!
//! 1. The vector files are checked against MANIFEST.json's sha256 first.
//! 2. The real provenance of `sampleproject 4.0.0` must verify for its sdist's sha256 (from
//!    `pypi/sampleproject-4.0.0.tar.gz.sha256`) under both shared trust roots and the embedded
//!    one, with the Trusted Publisher MANIFEST.json records (`pypa/sampleproject`,
//!    `release.yml`) read from the certificate.
//! 3. Attacker copies made in memory must fail with the expected [`Reason`]: the file of
//!    another digest, another file name (a wheel of the release, another project, an older
//!    release replaying this attestation), a publisher claim for a fork, a truncated object,
//!    a tampered statement or signature, a stripped log entry or inclusion proof.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use turncoat_attest::pep740::verify_pep740;
use turncoat_attest::{Reason, TrustRoot};

use crate::Tally;

const PROV: &str = "pypi/sampleproject-4.0.0.tar.gz.provenance.json";
const SHA: &str = "pypi/sampleproject-4.0.0.tar.gz.sha256";
const FILE: &str = "sampleproject-4.0.0.tar.gz";

fn load(
    dir: &Path,
    manifest: &BTreeMap<String, (String, Value)>,
    rel: &str,
    t: &mut Tally,
) -> Option<Vec<u8>> {
    let bytes = std::fs::read(dir.join(rel)).ok();
    let want = manifest.get(rel).map(|(h, _)| h.as_str());
    let ok = match (&bytes, want) {
        (Some(b), Some(w)) => hex::encode(Sha256::digest(b)) == w,
        _ => false,
    };
    t.check(
        ok,
        rel,
        if ok {
            "sha256 matches MANIFEST.json"
        } else {
            "missing or differs from MANIFEST.json"
        },
    );
    bytes.filter(|_| ok)
}

pub(crate) fn run(args: &[String]) -> i32 {
    let (dir, index) = match crate::vectors(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    println!("pep740 conformance against {}", dir.display());
    let mut t = Tally::default();
    let (Some(prov), Some(sha_file)) = (
        load(&dir, &index, PROV, &mut t),
        load(&dir, &index, SHA, &mut t),
    ) else {
        println!("{} passed, {} failed", t.passed, t.failed);
        return 1;
    };
    let sha = String::from_utf8_lossy(&sha_file)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let mut roots = vec![("embedded", TrustRoot::embedded())];
    for rel in [
        "sigstore/trusted_root.json",
        "sigstore/trusted_root-2025.json",
    ] {
        if let Some(b) = load(&dir, &index, rel, &mut t) {
            match TrustRoot::from_json(&b) {
                Ok(r) => roots.push((rel, r)),
                Err(e) => t.check(false, rel, e),
            }
        }
    }
    let expected = &index[PROV].1["publisher"];
    for (label, root) in &roots {
        match verify_pep740(&prov, FILE, &sha, root) {
            Ok(v) => {
                let p = &v.publishers[0];
                let ok = v.attestations == 1
                    && p.kind == expected["kind"]
                    && p.repository.as_deref() == expected["repository"].as_str()
                    && p.workflow.as_deref() == expected["workflow"].as_str()
                    && v.integrated_time == index[PROV].1["integratedTime"].as_i64().unwrap_or(-1);
                t.check(
                    ok,
                    &format!("{FILE} under {label}"),
                    format!("verified: {}", p.describe()),
                );
            }
            Err(e) => t.check(false, &format!("{FILE} under {label}"), e),
        }
    }
    attacks(&mut t, &prov, &sha, &roots[0].1);
    println!("{} passed, {} failed", t.passed, t.failed);
    if t.failed > 0 { 1 } else { 0 }
}

fn flip_b64(v: &mut Value) {
    let mut b = STANDARD
        .decode(v.as_str().unwrap_or_default())
        .unwrap_or_default();
    if let Some(x) = b.get_mut(10) {
        *x ^= 1;
    }
    *v = json!(STANDARD.encode(b));
}

fn attacks(t: &mut Tally, prov: &[u8], sha: &str, root: &TrustRoot) {
    let v: Value = serde_json::from_slice(prov).unwrap_or(Value::Null);
    let att = "/attestation_bundles/0/attestations/0";
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut c = v.clone();
        f(&mut c);
        c.to_string().into_bytes()
    };
    type Case = (&'static str, Vec<u8>, &'static str, String, Reason);
    let cases: Vec<Case> = vec![
        (
            "another file's bytes",
            prov.to_vec(),
            FILE,
            "0".repeat(64),
            Reason::SubjectDigestMismatch,
        ),
        (
            "the wheel of the release",
            prov.to_vec(),
            "sampleproject-4.0.0-py3-none-any.whl",
            sha.into(),
            Reason::SubjectMismatch,
        ),
        (
            "another project",
            prov.to_vec(),
            "otherproject-4.0.0.tar.gz",
            sha.into(),
            Reason::SubjectMismatch,
        ),
        (
            "replayed for a newer release",
            prov.to_vec(),
            "sampleproject-4.0.1.tar.gz",
            sha.into(),
            Reason::SubjectMismatch,
        ),
        (
            "publisher claim for a fork",
            edit(&|c| {
                c["attestation_bundles"][0]["publisher"]["repository"] =
                    json!("mallory/sampleproject")
            }),
            FILE,
            sha.into(),
            Reason::PublisherMismatch,
        ),
        (
            "publisher claim for another workflow",
            edit(&|c| c["attestation_bundles"][0]["publisher"]["workflow"] = json!("evil.yml")),
            FILE,
            sha.into(),
            Reason::PublisherMismatch,
        ),
        (
            "truncated object",
            prov[..prov.len() * 2 / 3].to_vec(),
            FILE,
            sha.into(),
            Reason::Malformed,
        ),
        (
            "tampered statement",
            edit(&|c| {
                if let Some(s) = c.pointer_mut(&format!("{att}/envelope/statement")) {
                    flip_b64(s);
                }
            }),
            FILE,
            sha.into(),
            Reason::SignatureInvalid,
        ),
        (
            "tampered signature",
            edit(&|c| {
                if let Some(s) = c.pointer_mut(&format!("{att}/envelope/signature")) {
                    flip_b64(s);
                }
            }),
            FILE,
            sha.into(),
            Reason::SignatureInvalid,
        ),
        (
            "no transparency entry",
            edit(&|c| {
                if let Some(s) =
                    c.pointer_mut(&format!("{att}/verification_material/transparency_entries"))
                {
                    *s = json!([]);
                }
            }),
            FILE,
            sha.into(),
            Reason::NoTlogEntry,
        ),
        (
            "no inclusion proof",
            edit(&|c| {
                if let Some(e) = c
                    .pointer_mut(&format!(
                        "{att}/verification_material/transparency_entries/0"
                    ))
                    .and_then(Value::as_object_mut)
                {
                    e.remove("inclusionProof");
                }
            }),
            FILE,
            sha.into(),
            Reason::InclusionProofMissing,
        ),
    ];
    for (what, bytes, file, digest, want) in cases {
        match verify_pep740(&bytes, file, &digest, root) {
            Ok(_) => t.check(false, what, "verified"),
            Err(e) => t.check(e.reason == want, what, format!("refused: {e}")),
        }
    }
}
