//! `attest`: npm registry signatures and Sigstore bundles against the shared vectors.
//!
//! 1. Every vector file used is checked against MANIFEST.json's sha256 first.
//! 2. Real data must verify: all `dist.signatures` of the nuxt packument (under the keys
//!    endpoint shape, the TUF target shape and the embedded keys), the single-message
//!    signature vectors as their `expected` says, the npm/cli key fixtures, every
//!    attestations response, every sigstore-js / sigstore-rs bundle and the PyPI provenance
//!    (converted to a v0.3 bundle), under both trust roots, with the facts MANIFEST.json
//!    records (log time, entry kind, proof, checkpoint, subject, signer).
//! 3. Tampered copies made in memory must fail, each with the expected [`Reason`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use turncoat_attest::{
    Keys, ProvenanceStatus, Reason, SignatureStatus, SignedBy, TrustRoot, VerifiedBundle,
    check_subject, verify_attestations, verify_bundle_value, verify_signature,
};
use turncoat_npm::{DistSignature, Packument};

const OLD_KEY: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
const NEW_KEY: &str = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";
/// `dist.integrity` of sigstore@5.0.0, the artifact of `npm_slsa_bundle_v03.json`
/// (vectors README, "sigstore/bundles/sigstore-rs").
const SIGSTORE_5_INTEGRITY: &str = "sha512-hJqJfoG/e4qFQaauQL00c6J6FrHLBGKtkFvW3JbTSIEFOhLrSjdSM/gWd/yUOfYo/gsERehTXGC1VZWX+9X4Dg==";

struct Run {
    dir: PathBuf,
    manifest: BTreeMap<String, (String, Value)>,
    tally: crate::Tally,
}

impl Run {
    fn check(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        self.tally.check(ok, what, detail);
    }

    /// Read a vector after checking its sha256 against MANIFEST.json.
    fn load(&mut self, rel: &str) -> Option<Vec<u8>> {
        let bytes = match std::fs::read(self.dir.join(rel)) {
            Ok(b) => b,
            Err(e) => {
                self.check(false, rel, format!("cannot read: {e}"));
                return None;
            }
        };
        let Some((want, _)) = self.manifest.get(rel) else {
            self.check(false, rel, "not listed in MANIFEST.json");
            return None;
        };
        let got = hex::encode(Sha256::digest(&bytes));
        let ok = &got == want;
        self.check(
            ok,
            rel,
            if ok {
                "sha256 matches MANIFEST.json"
            } else {
                "sha256 differs from MANIFEST.json"
            },
        );
        ok.then_some(bytes)
    }

    fn load_json(&mut self, rel: &str) -> Option<Value> {
        let bytes = self.load(rel)?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.check(false, rel, format!("not JSON: {e}"));
                None
            }
        }
    }

    fn expected(&self, rel: &str) -> Value {
        self.manifest
            .get(rel)
            .map(|(_, e)| e.clone())
            .unwrap_or(Value::Null)
    }
}

pub(crate) fn run(args: &[String]) -> i32 {
    let (dir, index) = match crate::vectors(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    println!("attest conformance against {}", dir.display());
    let mut r = Run {
        dir,
        manifest: index,
        tally: crate::Tally::default(),
    };
    let Some(ctx) = setup(&mut r) else {
        println!("{} passed, {} failed", r.tally.passed, r.tally.failed + 1);
        return 1;
    };
    packument_signatures(&mut r, &ctx);
    signature_vectors(&mut r, &ctx);
    key_fixtures(&mut r);
    attestation_responses(&mut r, &ctx);
    sigstore_bundles(&mut r, &ctx);
    pypi_provenance(&mut r, &ctx);
    tampering(&mut r, &ctx);
    println!("{} passed, {} failed", r.tally.passed, r.tally.failed);
    if r.tally.failed > 0 { 1 } else { 0 }
}

struct Ctx {
    keys: Keys,
    keys_json: Value,
    tuf_keys: Keys,
    roots: Vec<(&'static str, TrustRoot)>,
    nuxt: Packument,
    /// name@version → integrity, from the signature vectors.
    integrities: BTreeMap<String, String>,
    /// Attestation responses by file name.
    attestations: BTreeMap<String, Value>,
}

fn setup(r: &mut Run) -> Option<Ctx> {
    let keys_bytes = r.load("npm/keys.json")?;
    let keys = Keys::from_json(&keys_bytes).ok()?;
    let embedded = Keys::embedded().ok()?;
    let same = |a: &Keys, b: &Keys| {
        let f = |k: &Keys| {
            k.iter()
                .map(|k| (k.keyid.clone(), k.expires))
                .collect::<Vec<_>>()
        };
        f(a) == f(b)
    };
    r.check(
        same(&keys, &embedded),
        "embedded npm keys",
        "same key ids and expiry as npm/keys.json",
    );
    let tuf_bytes = r.load("npm/key-fixtures/tuf-target-npm-registry-keys.json")?;
    let tuf_keys = Keys::from_json(&tuf_bytes).ok()?;
    r.check(
        tuf_keys.iter().count() == 4,
        "TUF keys target",
        "4 entries parsed (2 keys × 2 usages)",
    );
    let mut roots = Vec::new();
    for (label, rel) in [
        ("trusted_root.json", "sigstore/trusted_root.json"),
        ("trusted_root-2025.json", "sigstore/trusted_root-2025.json"),
    ] {
        let bytes = r.load(rel)?;
        match TrustRoot::from_json(&bytes) {
            Ok(root) => {
                r.check(
                    true,
                    rel,
                    format!(
                        "loaded: logs {:?}, skipped {:?}",
                        root.log_urls(),
                        root.skipped_log_urls()
                    ),
                );
                roots.push((label, root));
            }
            Err(e) => {
                r.check(false, rel, e);
                return None;
            }
        }
    }
    let embedded_root = TrustRoot::embedded();
    r.check(
        embedded_root.log_urls() == roots[1].1.log_urls()
            && embedded_root.authority_uris() == roots[1].1.authority_uris()
            && embedded_root.skipped_log_urls() == roots[1].1.skipped_log_urls(),
        "embedded trust root",
        "same logs and authorities as sigstore/trusted_root-2025.json",
    );
    let nuxt = Packument::from_slice(&r.load("npm/packuments/nuxt.json")?).ok()?;
    let vectors = r.load_json("npm/signatures/registry-signature-vectors.json")?;
    let integrities = vectors["vectors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some((
                format!("{}@{}", v["name"].as_str()?, v["version"].as_str()?),
                v["integrity"].as_str()?.to_string(),
            ))
        })
        .collect();
    let mut attestations = BTreeMap::new();
    for f in [
        "nuxt@3.13.0.json",
        "nuxt@4.1.2.json",
        "sigstore@1.0.0.json",
        "tuf-js@1.0.0.json",
    ] {
        let rel = format!("npm/attestations/{f}");
        attestations.insert(f.to_string(), r.load_json(&rel)?);
    }
    Some(Ctx {
        keys_json: serde_json::from_slice(&keys_bytes).ok()?,
        keys,
        tuf_keys,
        roots,
        nuxt,
        integrities,
        attestations,
    })
}

fn packument_signatures(r: &mut Run, ctx: &Ctx) {
    let expected = r.expected("npm/packuments/nuxt.json");
    let name = ctx.nuxt.name.clone().unwrap_or_default();
    let Ok(embedded) = Keys::embedded() else {
        r.check(false, "embedded npm keys", "load");
        return;
    };
    for (label, keys) in [
        ("keys endpoint", &ctx.keys),
        ("TUF target", &ctx.tuf_keys),
        ("embedded", &embedded),
    ] {
        let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
        for (version, m) in &ctx.nuxt.versions {
            let integrity = m.dist.integrity.as_deref().unwrap_or_default();
            let status = verify_signature(
                &name,
                version,
                integrity,
                &m.dist.signatures,
                ctx.nuxt.published(version),
                keys,
            );
            let keyid = m
                .dist
                .signatures
                .first()
                .map(|s| s.keyid.as_str())
                .unwrap_or("-");
            if label == "keys endpoint" || status != SignatureStatus::Valid {
                r.check(
                    status == SignatureStatus::Valid,
                    &format!("nuxt@{version} signature ({label})"),
                    format!("{status} ({})", short(keyid)),
                );
            }
            if status == SignatureStatus::Valid {
                *by_key.entry(keyid.to_string()).or_default() += 1;
            }
        }
        let want: BTreeMap<String, u64> = expected["valid_by_keyid"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let total: u64 = by_key.values().sum();
        r.check(
            by_key == want && Some(total) == expected["dist_signatures_valid"].as_u64(),
            &format!("nuxt packument signatures ({label})"),
            format!(
                "{total} valid: {} old key + {} new key (MANIFEST: {})",
                by_key.get(OLD_KEY).unwrap_or(&0),
                by_key.get(NEW_KEY).unwrap_or(&0),
                expected["dist_signatures_valid"]
            ),
        );
    }
}

fn short(keyid: &str) -> String {
    keyid.chars().take(13).collect::<String>() + "…"
}

fn sig(keyid: &str, s: &str) -> Vec<DistSignature> {
    vec![DistSignature {
        keyid: keyid.to_string(),
        sig: s.to_string(),
    }]
}

fn signature_vectors(r: &mut Run, ctx: &Ctx) {
    let Some(doc) = r.load_json("npm/signatures/registry-signature-vectors.json") else {
        return;
    };
    for v in doc["vectors"].as_array().into_iter().flatten() {
        let s = |k: &str| v[k].as_str().unwrap_or_default();
        let (name, version, integrity, keyid, signature) = (
            s("name"),
            s("version"),
            s("integrity"),
            s("keyid"),
            s("sig"),
        );
        let what = format!("vector {name}@{version} ({})", short(keyid));
        let expected = s("expected");
        let status = verify_signature(
            name,
            version,
            integrity,
            &sig(keyid, signature),
            None,
            &ctx.keys,
        );
        r.check(
            status.as_str() == expected,
            &what,
            format!("{status}, expected {expected}"),
        );
        if expected != "valid" {
            continue;
        }
        // Derived negatives, as the vectors README suggests.
        let other = if keyid == OLD_KEY { NEW_KEY } else { OLD_KEY };
        let cases = [
            (
                "other version",
                verify_signature(
                    name,
                    &format!("{version}0"),
                    integrity,
                    &sig(keyid, signature),
                    None,
                    &ctx.keys,
                ),
                SignatureStatus::Invalid,
            ),
            (
                "other integrity",
                verify_signature(
                    name,
                    version,
                    &flip_b64_char(integrity),
                    &sig(keyid, signature),
                    None,
                    &ctx.keys,
                ),
                SignatureStatus::Invalid,
            ),
            (
                "other key",
                verify_signature(
                    name,
                    version,
                    integrity,
                    &sig(other, signature),
                    None,
                    &ctx.keys,
                ),
                SignatureStatus::Invalid,
            ),
            (
                "unknown keyid",
                verify_signature(
                    name,
                    version,
                    integrity,
                    &sig("SHA256:unknown", signature),
                    None,
                    &ctx.keys,
                ),
                SignatureStatus::UnknownKey,
            ),
            (
                "flipped signature bit",
                verify_signature(
                    name,
                    version,
                    integrity,
                    &sig(keyid, &flip_last_b64_byte(signature)),
                    None,
                    &ctx.keys,
                ),
                SignatureStatus::Invalid,
            ),
        ];
        for (label, got, want) in cases {
            r.check(
                got == want,
                &format!("{what} tampered: {label}"),
                format!("{got}, expected {want}"),
            );
        }
        if keyid == OLD_KEY {
            let got = verify_signature(
                name,
                version,
                integrity,
                &sig(keyid, signature),
                Some("2025-01-29T00:00:00.000Z"),
                &ctx.keys,
            );
            r.check(
                got == SignatureStatus::ExpiredKey,
                &format!("{what} published at the key's expiry"),
                format!("{got}, expected expired-key"),
            );
        }
    }
}

fn key_fixtures(r: &mut Run) {
    let kms = (
        "kms-demo",
        "1.0.0",
        "sha512-QqZ7VJ/8xPkS9s2IWB7Shj3qTJdcRyeXKbPQnsZjsPEwvutGv0EGeVchPcauoiDFJlGbZMFq5GDCurAGNSghJQ==",
        "MEUCIDrLNspFeU5NZ6d55ycVBZIMXnPJi/XnI1Y2dlJvK8P1AiEAnXjn1IOMUd+U7YfPH+FNjwfLq+jCwfH8uaxocq+mpPk=",
    );
    for (file, published, want) in [
        (
            "npm-cli-audit-tuf-valid.json",
            Some("2026-01-01T00:00:00Z"),
            SignatureStatus::Valid,
        ),
        (
            "npm-cli-audit-keys-endpoint-valid.json",
            Some("2026-01-01T00:00:00Z"),
            SignatureStatus::Valid,
        ),
        (
            "npm-cli-audit-tuf-mismatching-keyid.json",
            None,
            SignatureStatus::UnknownKey,
        ),
        // npm's test publishes "now", after the fixture's 2021 expiry.
        (
            "npm-cli-audit-tuf-expired.json",
            Some("2026-01-01T00:00:00Z"),
            SignatureStatus::ExpiredKey,
        ),
    ] {
        let rel = format!("npm/key-fixtures/{file}");
        let Some(bytes) = r.load(&rel) else { continue };
        match Keys::from_json(&bytes) {
            Ok(keys) => {
                let got =
                    verify_signature(kms.0, kms.1, kms.2, &sig(OLD_KEY, kms.3), published, &keys);
                r.check(
                    got == want,
                    &format!("{rel} kms-demo@1.0.0"),
                    format!("{got}, expected {want}"),
                );
            }
            Err(e) => r.check(false, &rel, e),
        }
    }
}

fn integrity_for(ctx: &Ctx, name: &str, version: &str) -> Option<String> {
    if ctx.nuxt.name.as_deref() == Some(name) {
        return ctx.nuxt.versions.get(version)?.dist.integrity.clone();
    }
    ctx.integrities.get(&format!("{name}@{version}")).cloned()
}

/// Compare a verified bundle with MANIFEST.json's facts about it.
fn compare(vb: &VerifiedBundle, want: &Value) -> Result<String, String> {
    let mut diffs = Vec::new();
    if want["integratedTime"].as_i64() != Some(vb.integrated_time) {
        diffs.push(format!("integratedTime {}", vb.integrated_time));
    }
    if want["tlog_kind"].as_str() != Some(vb.tlog_kind.as_str()) {
        diffs.push(format!("tlog kind {}", vb.tlog_kind));
    }
    if want["inclusion_proof"].as_bool() != Some(vb.inclusion_proof) {
        diffs.push(format!("inclusion proof {}", vb.inclusion_proof));
    }
    if want["checkpoint"].as_bool() != Some(vb.checkpoint) {
        diffs.push(format!("checkpoint {}", vb.checkpoint));
    }
    let st = vb.statement.as_ref();
    if want["predicateType"].as_str() != st.map(|s| s.predicate_type.as_str()) {
        diffs.push("predicateType".to_string());
    }
    let subjects: Vec<(Option<String>, BTreeMap<String, String>)> = want["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().map(str::to_string),
                s["digest"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    let got: Vec<_> = st
        .map(|s| {
            s.subjects
                .iter()
                .map(|x| (x.name.clone(), x.digest.clone()))
                .collect()
        })
        .unwrap_or_default();
    if subjects != got {
        diffs.push("subjects".to_string());
    }
    let signer = match &vb.signed_by {
        SignedBy::Certificate { san, carried, .. } => {
            if want["signer"]["fulcio_san"].as_str() != san.as_deref() {
                diffs.push(format!("SAN {san:?}"));
            }
            if want["signer"]["chain_certs_in_bundle"].as_u64() != Some(*carried as u64) {
                diffs.push(format!("{carried} certificates carried"));
            }
            san.clone().unwrap_or_default()
        }
        SignedBy::NpmKey { keyid } => {
            if want["signer"]["npm_keyid"].as_str() != Some(keyid.as_str()) {
                diffs.push(format!("npm key {keyid}"));
            }
            format!("npm key {}", short(keyid))
        }
    };
    if diffs.is_empty() {
        Ok(format!(
            "verified v{} {} t={} proof={} checkpoint={} signer {signer}",
            vb.version.as_str(),
            vb.tlog_kind,
            vb.integrated_time,
            vb.inclusion_proof,
            vb.checkpoint
        ))
    } else {
        Err(format!(
            "verified, but differs from MANIFEST.json: {}",
            diffs.join(", ")
        ))
    }
}

fn attestation_responses(r: &mut Run, ctx: &Ctx) {
    for (file, doc) in &ctx.attestations {
        let rel = format!("npm/attestations/{file}");
        let want = r.expected(&rel);
        let Some((name, version)) = file.trim_end_matches(".json").rsplit_once('@') else {
            continue;
        };
        let Some(integrity) = integrity_for(ctx, name, version) else {
            r.check(false, &rel, "no integrity known for this version");
            continue;
        };
        let bytes = doc.to_string().into_bytes();
        for (label, root) in &ctx.roots {
            let res = verify_attestations(name, version, &integrity, &bytes, &ctx.keys, root);
            let p = res.publisher.as_ref();
            r.check(
                res.status == ProvenanceStatus::Verified && res.publish_attestation,
                &format!("{rel} [{label}]"),
                format!(
                    "provenance {} (publish attestation {}), source {} id {} workflow {}{}",
                    res.status,
                    res.publish_attestation,
                    p.and_then(|p| p.source_repository.as_deref())
                        .unwrap_or("-"),
                    p.and_then(|p| p.source_repository_id.as_deref())
                        .unwrap_or("-"),
                    p.and_then(|p| p.workflow_path.as_deref()).unwrap_or("-"),
                    res.error.map(|e| format!(" — {e}")).unwrap_or_default()
                ),
            );
            for (i, a) in doc["attestations"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let what = format!("{rel} bundle {i} [{label}]");
                match verify_bundle_value(&a["bundle"], &ctx.keys, root) {
                    Ok(vb) => {
                        let c = compare(&vb, &want["attestations"][i]);
                        let bound = vb.statement.as_ref().map(|s| {
                            check_subject(
                                s,
                                name,
                                version,
                                &turncoat_attest::integrity_sha512_hex(&integrity)
                                    .unwrap_or_default(),
                            )
                        });
                        match (c, bound) {
                            (Ok(d), Some(Ok(()))) => {
                                r.check(true, &what, format!("{d}; subject digest = integrity"))
                            }
                            (Err(d), _) => r.check(false, &what, d),
                            (_, b) => r.check(false, &what, format!("subject not bound: {b:?}")),
                        }
                    }
                    Err(e) => r.check(false, &what, e),
                }
            }
        }
    }
}

fn sigstore_bundles(r: &mut Run, ctx: &Ctx) {
    let statement = r.load("sigstore/bundles/sigstore-js/statement.json");
    let sigstore1 = ctx.integrities.get("sigstore@1.0.0").cloned();
    let mut files: Vec<String> = r
        .manifest
        .keys()
        .filter(|k| k.starts_with("sigstore/bundles/") && !k.ends_with("statement.json"))
        .cloned()
        .collect();
    files.sort();
    for rel in files {
        let want = r.expected(&rel);
        let Some(bundle) = r.load_json(&rel) else {
            continue;
        };
        for (label, root) in &ctx.roots {
            let what = format!("{rel} [{label}]");
            let vb = match verify_bundle_value(&bundle, &ctx.keys, root) {
                Ok(vb) => vb,
                Err(e) => {
                    r.check(false, &what, e);
                    continue;
                }
            };
            let mut result = compare(&vb, &want);
            if let (Ok(d), Some(st)) = (&result, &vb.statement) {
                // The artifact each bundle is about, where the README says what it is.
                let bound = if rel.contains("sigstore-js/") {
                    let same_payload = statement.as_deref() == vb.payload.as_deref();
                    let subject = sigstore1
                        .as_deref()
                        .and_then(turncoat_attest::integrity_sha512_hex)
                        .map(|h| check_subject(st, "sigstore", "1.0.0", &h));
                    match (same_payload, subject) {
                        (true, Some(Ok(()))) => Ok(
                            "payload = statement.json; subject = sigstore@1.0.0 integrity"
                                .to_string(),
                        ),
                        (p, s) => Err(format!(
                            "payload matches statement.json: {p}; subject: {s:?}"
                        )),
                    }
                } else if rel.ends_with("npm_slsa_bundle_v03.json") {
                    turncoat_attest::integrity_sha512_hex(SIGSTORE_5_INTEGRITY)
                        .map(|h| check_subject(st, "sigstore", "5.0.0", &h))
                        .map_or(Err("bad integrity".to_string()), |x| {
                            x.map(|()| "subject = sigstore@5.0.0 integrity".to_string())
                                .map_err(|e| e.to_string())
                        })
                } else {
                    Ok("subject compared with MANIFEST.json".to_string())
                };
                result = bound.map(|b| format!("{d}; {b}"));
            }
            match result {
                Ok(d) => r.check(true, &what, d),
                Err(d) => r.check(false, &what, d),
            }
        }
    }
}

/// PEP 740 provenance converted to a v0.3 bundle (README "pypi/").
fn pypi_provenance(r: &mut Run, ctx: &Ctx) {
    let rel = "pypi/sampleproject-4.0.0.tar.gz.provenance.json";
    let Some(doc) = r.load_json(rel) else { return };
    let Some(sha) = r.load("pypi/sampleproject-4.0.0.tar.gz.sha256") else {
        return;
    };
    let want_sha = String::from_utf8_lossy(&sha)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let a = &doc["attestation_bundles"][0]["attestations"][0];
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": a["verification_material"]["certificate"]},
            "tlogEntries": a["verification_material"]["transparency_entries"],
        },
        "dsseEnvelope": {
            "payload": a["envelope"]["statement"],
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": a["envelope"]["signature"]}],
        }
    });
    let want = r.expected(rel);
    for (label, root) in &ctx.roots {
        let what = format!("{rel} [{label}]");
        match verify_bundle_value(&bundle, &ctx.keys, root) {
            Ok(vb) => {
                let digest = vb
                    .statement
                    .as_ref()
                    .and_then(|s| s.subjects.first())
                    .and_then(|s| s.digest.get("sha256").cloned());
                let c = compare(&vb, &want);
                match c {
                    Ok(d) if digest.as_deref() == Some(want_sha.as_str()) => {
                        r.check(true, &what, format!("{d}; subject sha256 = .sha256 file"))
                    }
                    Ok(_) => r.check(false, &what, "subject sha256 differs from the .sha256 file"),
                    Err(d) => r.check(false, &what, d),
                }
            }
            Err(e) => r.check(false, &what, e),
        }
    }
}

// --- tampering -----------------------------------------------------------------------------

fn b64d(s: &str) -> Vec<u8> {
    STANDARD.decode(s).unwrap_or_default()
}

fn b64e(b: &[u8]) -> String {
    STANDARD.encode(b)
}

/// Flip the lowest bit of the last byte of a base64 DER signature (keeps the DER valid).
fn flip_last_b64_byte(s: &str) -> String {
    let mut b = b64d(s);
    if let Some(x) = b.last_mut() {
        *x ^= 1;
    }
    b64e(&b)
}

/// Change one base64 character of an SRI string's digest.
fn flip_b64_char(integrity: &str) -> String {
    let mut c: Vec<char> = integrity.chars().collect();
    let i = c.len() / 2;
    c[i] = if c[i] == 'A' { 'B' } else { 'A' };
    c.into_iter().collect()
}

fn flip_b64_field(v: &mut Value, byte: impl Fn(usize) -> usize) {
    if let Some(s) = v.as_str() {
        let mut b = b64d(s);
        let n = b.len();
        if n > 0 {
            b[byte(n).min(n - 1)] ^= 1;
        }
        *v = Value::String(b64e(&b));
    }
}

fn entry(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

type Tamper = (&'static str, fn(&mut Value), Reason);

fn tampers_common() -> Vec<Tamper> {
    vec![
        (
            "flip a DSSE signature bit",
            |b| flip_b64_field(&mut b["dsseEnvelope"]["signatures"][0]["sig"], |n| n - 1),
            Reason::SignatureInvalid,
        ),
        (
            "flip a payload bit",
            |b| flip_b64_field(&mut b["dsseEnvelope"]["payload"], |n| n / 2),
            Reason::SignatureInvalid,
        ),
        (
            "change the payload type",
            |b| b["dsseEnvelope"]["payloadType"] = json!("application/json"),
            Reason::SignatureInvalid,
        ),
        (
            "two DSSE signatures",
            |b| {
                let s = b["dsseEnvelope"]["signatures"][0].clone();
                b["dsseEnvelope"]["signatures"] = json!([s.clone(), s]);
            },
            Reason::SignatureCount,
        ),
        (
            "flip a SET bit",
            |b| {
                flip_b64_field(
                    &mut entry(b)["inclusionPromise"]["signedEntryTimestamp"],
                    |n| n - 1,
                )
            },
            Reason::SetInvalid,
        ),
        (
            "remove the SET",
            |b| entry(b)["inclusionPromise"] = Value::Null,
            Reason::SetMissing,
        ),
        (
            "change integratedTime",
            |b| {
                let t = entry(b)["integratedTime"]
                    .as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0);
                entry(b)["integratedTime"] = json!((t + 1).to_string());
            },
            Reason::SetInvalid,
        ),
        (
            "change the outer logIndex",
            |b| {
                let i = entry(b)["logIndex"]
                    .as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0);
                entry(b)["logIndex"] = json!((i + 1).to_string());
            },
            Reason::SetInvalid,
        ),
        (
            "flip a canonicalizedBody bit",
            |b| flip_b64_field(&mut entry(b)["canonicalizedBody"], |n| n / 2),
            Reason::SetInvalid,
        ),
        (
            "unknown log id",
            |b| flip_b64_field(&mut entry(b)["logId"]["keyId"], |_| 0),
            Reason::UnknownLog,
        ),
        (
            "unsupported media type",
            |b| b["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=9.9"),
            Reason::UnsupportedMediaType,
        ),
        (
            "kindVersion disagrees with the body",
            |b| {
                let kind = entry(b)["kindVersion"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                entry(b)["kindVersion"] = if kind == "dsse" {
                    json!({"kind": "intoto", "version": "0.0.2"})
                } else {
                    json!({"kind": "dsse", "version": "0.0.1"})
                };
            },
            Reason::TlogBodyMismatch,
        ),
        (
            "Rekor v2-style entry without integratedTime",
            |b| entry(b)["integratedTime"] = Value::Null,
            Reason::UnsupportedTlogEntry,
        ),
        (
            "no tlog entry",
            |b| b["verificationMaterial"]["tlogEntries"] = json!([]),
            Reason::NoTlogEntry,
        ),
    ]
}

fn tampers_proof() -> Vec<Tamper> {
    vec![
        (
            "flip an inclusion proof hash bit",
            |b| flip_b64_field(&mut entry(b)["inclusionProof"]["hashes"][0], |_| 0),
            Reason::InclusionProofInvalid,
        ),
        (
            "flip a root hash bit",
            |b| flip_b64_field(&mut entry(b)["inclusionProof"]["rootHash"], |_| 0),
            Reason::InclusionProofInvalid,
        ),
        (
            "drop an inclusion proof hash",
            |b| {
                if let Some(h) = entry(b)["inclusionProof"]["hashes"].as_array_mut() {
                    h.pop();
                }
            },
            Reason::InclusionProofInvalid,
        ),
        (
            "swap the proof's logIndex with the outer one",
            |b| {
                let outer = entry(b)["logIndex"].clone();
                entry(b)["inclusionProof"]["logIndex"] = outer;
            },
            Reason::InclusionProofInvalid,
        ),
        (
            "flip a checkpoint signature bit",
            |b| {
                let env = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let out: Vec<String> = env
                    .split('\n')
                    .map(
                        |l| match l.strip_prefix("\u{2014} ").and_then(|x| x.rsplit_once(' ')) {
                            Some((name, sig)) => {
                                format!("\u{2014} {name} {}", flip_last_b64_byte(sig))
                            }
                            None => l.to_string(),
                        },
                    )
                    .collect();
                entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(out.join("\n"));
            },
            Reason::CheckpointInvalid,
        ),
        (
            "change the checkpoint origin",
            |b| {
                let env = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap_or_default()
                    .replacen("rekor", "rekoR", 1);
                entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(env);
            },
            Reason::CheckpointInvalid,
        ),
        (
            "checkpoint tree size differs",
            |b| {
                let env = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let mut lines: Vec<String> = env.split('\n').map(str::to_string).collect();
                if let Some(n) = lines.get(1).and_then(|s| s.parse::<u64>().ok()) {
                    lines[1] = (n + 1).to_string();
                }
                entry(b)["inclusionProof"]["checkpoint"]["envelope"] = json!(lines.join("\n"));
            },
            Reason::CheckpointInvalid,
        ),
        (
            "remove the inclusion proof (v0.2+)",
            |b| entry(b)["inclusionProof"] = Value::Null,
            Reason::InclusionProofMissing,
        ),
    ]
}

/// The leaf certificate's `rawBytes` field, in either material form.
fn leaf_bytes(b: &mut Value) -> Option<&mut Value> {
    let vm = b.get_mut("verificationMaterial")?;
    if vm.get("certificate").is_some_and(Value::is_object) {
        return vm.get_mut("certificate")?.get_mut("rawBytes");
    }
    vm.get_mut("x509CertificateChain")?
        .get_mut("certificates")?
        .get_mut(0)?
        .get_mut("rawBytes")
}

fn tampers_cert() -> Vec<Tamper> {
    vec![
        (
            "flip a certificate signature bit",
            |b| {
                if let Some(v) = leaf_bytes(b) {
                    flip_b64_field(v, |n| n - 1)
                }
            },
            Reason::CertificateChainInvalid,
        ),
        (
            "flip a bit in the certified key",
            |b| {
                if let Some(v) = leaf_bytes(b) {
                    flip_b64_field(v, |n| n / 3)
                }
            },
            Reason::CertificateChainInvalid,
        ),
        (
            "certificate is not DER",
            |b| {
                if let Some(v) = leaf_bytes(b) {
                    *v = json!("AAAA")
                }
            },
            Reason::CertificateMalformed,
        ),
    ]
}

fn tampers_keyed() -> Vec<Tamper> {
    vec![(
        "unknown publicKey hint",
        |b| b["verificationMaterial"]["publicKey"]["hint"] = json!("SHA256:unknown"),
        Reason::UnknownKey,
    )]
}

fn expect_failure(r: &mut Run, what: &str, v: &Value, keys: &Keys, root: &TrustRoot, want: Reason) {
    match verify_bundle_value(v, keys, root) {
        Ok(_) => r.check(false, what, format!("verified, expected {want}")),
        Err(e) => r.check(
            e.reason == want,
            what,
            format!("{} (expected {want}) — {}", e.reason, e.detail),
        ),
    }
}

fn tampering(r: &mut Run, ctx: &Ctx) {
    // The provenance (SLSA) or the publish attestation bundle of a response.
    let bundle = |file: &str, provenance: bool| {
        ctx.attestations.get(file).and_then(|d| {
            d["attestations"].as_array()?.iter().find_map(|a| {
                let slsa = a["predicateType"]
                    .as_str()?
                    .starts_with(turncoat_attest::SLSA_PREDICATE_PREFIX);
                (slsa == provenance).then(|| a["bundle"].clone())
            })
        })
    };
    let (Some(prov412), Some(pub412), Some(prov313), Some(pub313), Some(prov100)) = (
        bundle("nuxt@4.1.2.json", true),
        bundle("nuxt@4.1.2.json", false),
        bundle("nuxt@3.13.0.json", true),
        bundle("nuxt@3.13.0.json", false),
        bundle("sigstore@1.0.0.json", true),
    ) else {
        r.check(false, "tampering", "base bundles missing");
        return;
    };
    let root = &ctx.roots[1].1;
    let bases: [(&str, &Value, bool, bool, bool); 5] = [
        // (label, bundle, has proof, keyless, keyed)
        (
            "nuxt@4.1.2 provenance (v0.3 dsse)",
            &prov412,
            true,
            true,
            false,
        ),
        (
            "nuxt@4.1.2 publish (v0.2 intoto, npm key)",
            &pub412,
            true,
            false,
            true,
        ),
        (
            "nuxt@3.13.0 provenance (v0.2 intoto)",
            &prov313,
            true,
            true,
            false,
        ),
        (
            "nuxt@3.13.0 publish (v0.2 intoto, npm key)",
            &pub313,
            true,
            false,
            true,
        ),
        (
            "sigstore@1.0.0 provenance (v0.1, SET only)",
            &prov100,
            false,
            true,
            false,
        ),
    ];
    for (label, base, proof, keyless, keyed) in bases {
        let mut list = tampers_common();
        if proof {
            list.extend(tampers_proof());
        }
        if keyless {
            list.extend(tampers_cert());
        }
        if keyed {
            list.extend(tampers_keyed());
        }
        for (name, mutate, want) in list {
            let mut b = base.clone();
            mutate(&mut b);
            for (root_label, root) in &ctx.roots {
                expect_failure(
                    r,
                    &format!("tamper {label}: {name} [{root_label}]"),
                    &b,
                    &ctx.keys,
                    root,
                    want,
                );
            }
        }
    }

    // Keys: the publish attestation under another npm key, an expired key, a missing key.
    let mut other = pub313.clone();
    other["verificationMaterial"]["publicKey"]["hint"] = json!(NEW_KEY);
    expect_failure(
        r,
        "tamper nuxt@3.13.0 publish: hint names the other npm key",
        &other,
        &ctx.keys,
        root,
        Reason::SignatureInvalid,
    );
    let mut old = pub412.clone();
    old["verificationMaterial"]["publicKey"]["hint"] = json!(OLD_KEY);
    expect_failure(
        r,
        "tamper nuxt@4.1.2 publish: hint names the old npm key (expired by then)",
        &old,
        &ctx.keys,
        root,
        Reason::KeyExpired,
    );
    let mut expired_doc = ctx.keys_json.clone();
    for k in expired_doc["keys"].as_array_mut().into_iter().flatten() {
        k["expires"] = json!("2024-01-01T00:00:00.000Z");
    }
    let expired = Keys::from_json(expired_doc.to_string().as_bytes());
    match expired {
        Ok(k) => expect_failure(
            r,
            "tamper nuxt@3.13.0 publish: npm key expired before the log time",
            &pub313,
            &k,
            root,
            Reason::KeyExpired,
        ),
        Err(e) => r.check(false, "expired key set", e),
    }
    expect_failure(
        r,
        "tamper nuxt@3.13.0 publish: no npm keys at all",
        &pub313,
        &Keys::empty(),
        root,
        Reason::UnknownKey,
    );

    // A v0.1 chain bundle whose "leaf" is the intermediate it carries.
    let mut swapped = prov100.clone();
    let inter = swapped["verificationMaterial"]["x509CertificateChain"]["certificates"][1].clone();
    swapped["verificationMaterial"]["x509CertificateChain"]["certificates"][0] = inter;
    expect_failure(
        r,
        "tamper sigstore@1.0.0 provenance: intermediate presented as the leaf",
        &swapped,
        &ctx.keys,
        root,
        Reason::CertificateChainInvalid,
    );

    // Trust roots that do not cover the log time.
    if let Ok(mut tr) = serde_json::from_slice::<Value>(
        &std::fs::read(r.dir.join("sigstore/trusted_root-2025.json")).unwrap_or_default(),
    ) {
        if let Some(cas) = tr["certificateAuthorities"].as_array_mut() {
            for ca in cas {
                ca["validFor"]["end"] = json!("2023-01-01T00:00:00Z");
            }
        }
        match TrustRoot::from_json(tr.to_string().as_bytes()) {
            Ok(short_root) => expect_failure(
                r,
                "nuxt@4.1.2 provenance under CAs that ended in 2023",
                &prov412,
                &ctx.keys,
                &short_root,
                Reason::CertificateChainInvalid,
            ),
            Err(e) => r.check(false, "modified trust root", e),
        }
    }

    // Binding to the package: another tarball, another name.
    let doc412 = ctx
        .attestations
        .get("nuxt@4.1.2.json")
        .map(|d| d.to_string())
        .unwrap_or_default();
    let integrity = integrity_for(ctx, "nuxt", "4.1.2").unwrap_or_default();
    for (what, name, version, integ, want) in [
        (
            "nuxt@4.1.2 attestations for another tarball",
            "nuxt",
            "4.1.2",
            flip_b64_char(&integrity),
            Reason::SubjectDigestMismatch,
        ),
        (
            "nuxt@4.1.2 attestations for another version",
            "nuxt",
            "4.1.3",
            integrity.clone(),
            Reason::SubjectMismatch,
        ),
        (
            "nuxt@4.1.2 attestations for another package",
            "nuxi",
            "4.1.2",
            integrity.clone(),
            Reason::SubjectMismatch,
        ),
        (
            "nuxt@4.1.2 attestations with a sha1-only integrity",
            "nuxt",
            "4.1.2",
            "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string(),
            Reason::IntegrityUnusable,
        ),
    ] {
        for (label, root) in &ctx.roots {
            let res =
                verify_attestations(name, version, &integ, doc412.as_bytes(), &ctx.keys, root);
            let got = res.reason();
            r.check(
                res.status == ProvenanceStatus::Invalid && got == Some(want),
                &format!("tamper {what} [{label}]"),
                format!(
                    "{} (expected {want})",
                    got.map(|g| g.as_str()).unwrap_or(res.status.as_str())
                ),
            );
        }
    }
}
