//! PEP 740 verification from the attacker's side: each test builds a real, signed attestation
//! with the deterministic fake Sigstore of `testkit` and changes one thing.

use serde_json::{Value, json};
use sha2::Digest;

use super::*;
use crate::testkit::{Identity, Kind, Kit, Signer, Version};

const FILE: &str = "demo-1.0.0.tar.gz";

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn statement(name: &str, digest: &str, predicate_type: &str) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": predicate_type,
        "predicate": null
    })
}

/// A PEP 740 attestation (the Integrity API's shape) over `statement`, signed by `id`.
fn attestation(kit: &Kit, id: &Identity, statement: &Value) -> Value {
    let b = kit.bundle(Version::V03, Kind::Dsse, Signer::Leaf(id), statement, true);
    json!({
        "version": 1,
        "envelope": {
            "statement": b["dsseEnvelope"]["payload"],
            "signature": b["dsseEnvelope"]["signatures"][0]["sig"],
        },
        "verification_material": {
            "certificate": b["verificationMaterial"]["certificate"]["rawBytes"],
            "transparency_entries": b["verificationMaterial"]["tlogEntries"],
        }
    })
}

fn provenance(attestations: Vec<Value>, repo: &str) -> Value {
    json!({
        "version": 1,
        "attestation_bundles": [{
            "publisher": {"kind": "GitHub", "repository": repo, "workflow": "release.yml", "environment": "", "claims": null},
            "attestations": attestations,
        }]
    })
}

fn verify(kit: &Kit, p: &Value, digest: &str) -> Result<Pep740Verification, VerifyError> {
    verify_pep740(p.to_string().as_bytes(), FILE, digest, &kit.trust_root())
}

fn reason(kit: &Kit, p: &Value, digest: &str) -> Reason {
    verify(kit, p, digest).expect_err("attack verified").reason
}

#[test]
fn a_valid_attestation_names_the_publisher_from_the_certificate() {
    let kit = Kit::new();
    let digest = sha(b"the sdist");
    let p = provenance(
        vec![attestation(
            &kit,
            &Identity::default(),
            &statement(FILE, &digest, PYPI_PUBLISH_PREDICATE),
        )],
        "acme/widget",
    );
    let v = verify(&kit, &p, &digest).unwrap();
    assert_eq!(v.attestations, 1);
    assert_eq!(v.predicate_types, [PYPI_PUBLISH_PREDICATE]);
    let tp = &v.publishers[0];
    assert_eq!(tp.kind, "GitHub");
    assert_eq!(tp.repository.as_deref(), Some("acme/widget"));
    assert_eq!(tp.repository_id.as_deref(), Some("1001"));
    assert_eq!(tp.workflow.as_deref(), Some("release.yml"));
    // The file name may be spelled with other separators and case (wheel normalisation).
    let p2 = provenance(
        vec![attestation(
            &kit,
            &Identity::default(),
            &statement("Demo_1.0.0.tar.gz", &digest, PYPI_PUBLISH_PREDICATE),
        )],
        "acme/widget",
    );
    assert!(verify(&kit, &p2, &digest).is_ok());
}

#[test]
fn the_subject_digest_of_another_file_fails() {
    let kit = Kit::new();
    let p = provenance(
        vec![attestation(
            &kit,
            &Identity::default(),
            &statement(FILE, &sha(b"another build"), PYPI_PUBLISH_PREDICATE),
        )],
        "acme/widget",
    );
    assert_eq!(
        reason(&kit, &p, &sha(b"the sdist")),
        Reason::SubjectDigestMismatch
    );
}

#[test]
fn a_valid_attestation_for_another_project_or_an_older_release_fails() {
    let kit = Kit::new();
    let digest = sha(b"the sdist");
    // Even with the same digest: the statement names another file.
    for other in [
        "other-1.0.0.tar.gz",
        "demo-0.9.0.tar.gz",
        "demo-1.0.0-py3-none-any.whl",
    ] {
        let p = provenance(
            vec![attestation(
                &kit,
                &Identity::default(),
                &statement(other, &digest, PYPI_PUBLISH_PREDICATE),
            )],
            "acme/widget",
        );
        assert_eq!(
            reason(&kit, &p, &digest),
            Reason::SubjectMismatch,
            "{other}"
        );
    }
    // A replay of the older release's real attestation: its own name and digest.
    let old = sha(b"the 0.9.0 sdist");
    let p = provenance(
        vec![attestation(
            &kit,
            &Identity::default(),
            &statement("demo-0.9.0.tar.gz", &old, PYPI_PUBLISH_PREDICATE),
        )],
        "acme/widget",
    );
    assert_eq!(reason(&kit, &p, &digest), Reason::SubjectMismatch);
}

#[test]
fn an_identity_from_a_fork_is_reported_as_the_fork_and_never_as_the_claim() {
    let kit = Kit::new();
    let digest = sha(b"the sdist");
    let fork = Identity {
        repo: "https://github.com/mallory/widget".into(),
        repo_id: "6666".into(),
        ..Identity::default()
    };
    let att = attestation(
        &kit,
        &fork,
        &statement(FILE, &digest, PYPI_PUBLISH_PREDICATE),
    );
    // The claim says the real repository: it disagrees with the certificate.
    let p = provenance(vec![att.clone()], "acme/widget");
    assert_eq!(reason(&kit, &p, &digest), Reason::PublisherMismatch);
    // An honest claim verifies, and the publisher is the fork (py-publisher-changed's input).
    let p = provenance(vec![att], "mallory/widget");
    let v = verify(&kit, &p, &digest).unwrap();
    assert_eq!(
        v.publishers[0].repository.as_deref(),
        Some("mallory/widget")
    );
    assert!(
        !v.publishers[0].same_source(&TrustedPublisher::from_facts(&PublisherFacts {
            issuer: Some(GITHUB_ISSUER.into()),
            source_repository: Some("https://github.com/acme/widget".into()),
            source_repository_id: Some("1001".into()),
            workflow_path: Some(".github/workflows/release.yml".into()),
            ..PublisherFacts::default()
        }))
    );
    // Without a claim at all the certificate still decides.
    let mut p = p;
    p["attestation_bundles"][0]
        .as_object_mut()
        .unwrap()
        .remove("publisher");
    assert_eq!(
        verify(&kit, &p, &digest).unwrap().publishers[0]
            .repository
            .as_deref(),
        Some("mallory/widget")
    );
}

#[test]
fn truncated_or_stripped_objects_fail_closed() {
    let kit = Kit::new();
    let digest = sha(b"the sdist");
    let p = provenance(
        vec![attestation(
            &kit,
            &Identity::default(),
            &statement(FILE, &digest, PYPI_PUBLISH_PREDICATE),
        )],
        "acme/widget",
    );
    let text = p.to_string();
    for cut in [1, text.len() / 3, text.len() / 2, text.len() - 1] {
        let err = verify_pep740(&text.as_bytes()[..cut], FILE, &digest, &kit.trust_root())
            .expect_err("truncated object verified");
        assert_eq!(err.reason, Reason::Malformed, "cut at {cut}");
    }
    type Case = (&'static str, fn(&mut Value), Reason);
    let cases: Vec<Case> = vec![
        (
            "no bundles",
            |p| p["attestation_bundles"] = json!([]),
            Reason::Malformed,
        ),
        (
            "no attestations",
            |p| p["attestation_bundles"][0]["attestations"] = json!([]),
            Reason::Malformed,
        ),
        ("version 2", |p| p["version"] = json!(2), Reason::Malformed),
        (
            "no log entry",
            |p| {
                p["attestation_bundles"][0]["attestations"][0]["verification_material"]["transparency_entries"] =
                    json!([])
            },
            Reason::NoTlogEntry,
        ),
        (
            "no inclusion proof",
            |p| {
                p["attestation_bundles"][0]["attestations"][0]["verification_material"]
                    ["transparency_entries"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("inclusionProof");
            },
            Reason::InclusionProofMissing,
        ),
        (
            "no certificate",
            |p| {
                p["attestation_bundles"][0]["attestations"][0]["verification_material"]
                    .as_object_mut()
                    .unwrap()
                    .remove("certificate");
            },
            Reason::Malformed,
        ),
        (
            "statement swapped",
            |p| {
                let other = statement(FILE, &"ab".repeat(32), PYPI_PUBLISH_PREDICATE);
                p["attestation_bundles"][0]["attestations"][0]["envelope"]["statement"] =
                    json!(crate::encoding::b64_encode(other.to_string().as_bytes()));
            },
            Reason::SignatureInvalid,
        ),
    ];
    for (what, mutate, want) in cases {
        let mut q = p.clone();
        mutate(&mut q);
        assert_eq!(reason(&kit, &q, &digest), want, "{what}");
    }
}

#[test]
fn statements_pep740_does_not_define_fail() {
    let kit = Kit::new();
    let digest = sha(b"the sdist");
    let p = provenance(
        vec![attestation(
            &kit,
            &Identity::default(),
            &statement(FILE, &digest, "https://example.invalid/predicate"),
        )],
        "acme/widget",
    );
    assert_eq!(reason(&kit, &p, &digest), Reason::PredicateMismatch);
    let mut two = statement(FILE, &digest, PYPI_PUBLISH_PREDICATE);
    two["subject"] = json!([two["subject"][0].clone(), two["subject"][0].clone()]);
    let p = provenance(
        vec![attestation(&kit, &Identity::default(), &two)],
        "acme/widget",
    );
    assert_eq!(reason(&kit, &p, &digest), Reason::SubjectMismatch);
}

#[test]
fn the_fork_and_the_lost_provenance_reach_the_rules() {
    let kit = Kit::new();
    let d0 = sha(b"0.9.0");
    let d1 = sha(b"1.0.0");
    let real = Identity::default();
    let fork = Identity {
        repo: "https://github.com/mallory/widget".into(),
        repo_id: "6666".into(),
        ..Identity::default()
    };
    let old = verify_pep740(
        provenance(
            vec![attestation(
                &kit,
                &real,
                &statement("demo-0.9.0.tar.gz", &d0, PYPI_PUBLISH_PREDICATE),
            )],
            "acme/widget",
        )
        .to_string()
        .as_bytes(),
        "demo-0.9.0.tar.gz",
        &d0,
        &kit.trust_root(),
    )
    .unwrap();
    let new = verify(
        &kit,
        &provenance(
            vec![attestation(
                &kit,
                &fork,
                &statement(FILE, &d1, PYPI_PUBLISH_PREDICATE),
            )],
            "mallory/widget",
        ),
        &d1,
    )
    .unwrap();
    let (old, new) = (
        rules::Pep740Status::Verified(old),
        rules::Pep740Status::Verified(new),
    );
    let history = [rules::Release {
        version: "0.9.0",
        filename: "demo-0.9.0.tar.gz",
        status: &old,
    }];
    let codes = |s: &rules::Pep740Status| -> Vec<String> {
        rules::pep740_findings(
            "demo",
            &rules::Release {
                version: "1.0.0",
                filename: FILE,
                status: s,
            },
            &history,
        )
        .iter()
        .map(|f| f.code.clone())
        .collect()
    };
    assert_eq!(codes(&new), ["py-publisher-changed"]);
    assert_eq!(codes(&rules::Pep740Status::Absent), ["py-provenance-lost"]);
    assert!(codes(&old).is_empty());
}

/// The real PyPI vector (`sampleproject 4.0.0`), when the shared vectors are on this machine,
/// and an attacker-modified copy made here. `turncoat-conformance pep740` runs the same.
#[test]
#[allow(clippy::print_stderr)] // says why the test did not run
fn the_real_sampleproject_vector_when_present() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/pypi");
    let Ok(bytes) = std::fs::read(dir.join("sampleproject-4.0.0.tar.gz.provenance.json")) else {
        eprintln!(
            "skipped: {} is absent (shared vectors not on this machine)",
            dir.display()
        );
        return;
    };
    let digest = "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b";
    let root = TrustRoot::embedded();
    let v = verify_pep740(&bytes, "sampleproject-4.0.0.tar.gz", digest, &root).unwrap();
    let tp = &v.publishers[0];
    assert_eq!(
        (
            tp.kind.as_str(),
            tp.repository.as_deref(),
            tp.workflow.as_deref()
        ),
        ("GitHub", Some("pypa/sampleproject"), Some("release.yml"))
    );
    // The same object for a wheel of the release, or for other bytes, fails.
    let wheel = "sampleproject-4.0.0-py3-none-any.whl";
    assert_eq!(
        verify_pep740(&bytes, wheel, digest, &root)
            .unwrap_err()
            .reason,
        Reason::SubjectMismatch
    );
    assert_eq!(
        verify_pep740(&bytes, "sampleproject-4.0.0.tar.gz", &"0".repeat(64), &root)
            .unwrap_err()
            .reason,
        Reason::SubjectDigestMismatch
    );
    let mut forged: Value = serde_json::from_slice(&bytes).unwrap();
    forged["attestation_bundles"][0]["publisher"]["repository"] = json!("mallory/sampleproject");
    assert_eq!(
        verify_pep740(
            forged.to_string().as_bytes(),
            "sampleproject-4.0.0.tar.gz",
            digest,
            &root
        )
        .unwrap_err()
        .reason,
        Reason::PublisherMismatch
    );
}
