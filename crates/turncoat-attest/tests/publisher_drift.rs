//! Publisher drift on a real full packument (`nuxt`, public npm schema): an attacker's version
//! appended to it must be reported by the people-centred rules, not only by the provenance
//! rules.

use serde_json::{Value, json};
use turncoat_attest::{PackageVerification, ProvenanceStatus, SignatureStatus, drift};
use turncoat_npm::Packument;

fn real() -> Value {
    serde_json::from_str(include_str!("fixtures/nuxt-3.17.6-3.19.2.json")).unwrap()
}

/// Append `version`, published by `user` at `time`, copying the latest document otherwise
/// (same maintainers, dependencies, signature key) but without attestations.
fn add(mut doc: Value, from: &str, version: &str, time: &str, user: Value) -> Value {
    let mut m = doc["versions"][from].clone();
    m["version"] = json!(version);
    m["_id"] = json!(format!("nuxt@{version}"));
    m["_npmUser"] = user;
    m["dist"].as_object_mut().unwrap().remove("attestations");
    doc["versions"][version] = m;
    doc["time"][version] = json!(time);
    doc
}

fn with_attack(doc: Value, from: &str, version: &str, time: &str, user: Value) -> Packument {
    Packument::from_value(&add(doc, from, version, time, user)).unwrap()
}

fn verif(version: &str) -> PackageVerification {
    PackageVerification {
        name: "nuxt".into(),
        version: version.into(),
        signature: SignatureStatus::Valid,
        provenance: ProvenanceStatus::Absent,
        publisher: None,
        publish_attestation: false,
        trusted_publisher: None,
        reason: None,
        provenance_error: None,
    }
}

fn codes(p: &Packument, from: &str, to: &str) -> Vec<String> {
    let mut c: Vec<String> = drift(p, Some(from), to, None, None, &verif(to))
        .into_iter()
        .map(|f| f.code)
        .collect();
    c.sort();
    c
}

#[test]
fn a_new_account_after_trusted_publishing_is_a_publisher_change() {
    let mallory = json!({"name": "nuxt-release", "email": "nuxt-release@proton.me"});
    let p = with_attack(
        real(),
        "3.19.2",
        "3.19.3",
        "2025-09-15T03:12:00.000Z",
        mallory,
    );
    let c = codes(&p, "3.19.2", "3.19.3");
    assert!(c.contains(&"publisher-changed".to_string()), "{c:?}");
    assert!(c.contains(&"trusted-publishing-lost".to_string()), "{c:?}");
    let f = drift(&p, Some("3.19.2"), "3.19.3", None, None, &verif("3.19.3"));
    let pc = f.iter().find(|f| f.code == "publisher-changed").unwrap();
    assert!(pc.message.contains("nuxt-release"), "{}", pc.message);
    assert!(pc.message.contains("proton.me"), "{}", pc.message);
}

#[test]
fn a_new_account_that_published_a_burst_is_still_new() {
    // The attacker publishes 3.18.2 and 3.18.3 ten minutes apart; the user updates from
    // 3.18.1 straight to 3.18.3.
    let doc = real();
    let user = json!({"name": "nuxt-release", "email": "nuxt-release@proton.me"});
    let doc = add(
        doc,
        "3.18.1",
        "3.18.2",
        "2025-09-15T03:00:00.000Z",
        user.clone(),
    );
    let p = with_attack(doc, "3.18.1", "3.18.3", "2025-09-15T03:10:00.000Z", user);
    let c = codes(&p, "3.18.1", "3.18.3");
    assert!(c.contains(&"publisher-changed".to_string()), "{c:?}");
}

#[test]
fn the_usual_publishers_of_the_real_history_raise_nothing() {
    let p = Packument::from_value(&real()).unwrap();
    // danielroe by hand, then GitHub Actions through trusted publishing: an upgrade.
    for (from, to) in [
        ("3.17.6", "3.17.7"),
        ("3.18.1", "3.19.0"),
        ("3.19.1", "3.19.2"),
    ] {
        let c = codes(&p, from, to);
        assert!(
            !c.iter()
                .any(|c| c == "publisher-changed" || c == "maintainer-email-domain-changed"),
            "{from} → {to}: {c:?}"
        );
    }
    // A maintainer who published earlier versions of the package by hand is not new.
    let atinux = json!({"name": "atinux", "email": "atinux@gmail.com"});
    let doc = real();
    let mut doc2 = doc.clone();
    doc2["versions"]["3.17.5"] = doc["versions"]["3.17.6"].clone();
    doc2["versions"]["3.17.5"]["version"] = json!("3.17.5");
    doc2["versions"]["3.17.5"]["_npmUser"] = atinux.clone();
    doc2["time"]["3.17.5"] = json!("2025-06-03T21:40:33.736Z");
    let p = with_attack(doc2, "3.19.2", "3.19.3", "2025-09-15T03:12:00.000Z", atinux);
    let c = codes(&p, "3.19.2", "3.19.3");
    assert!(!c.contains(&"publisher-changed".to_string()), "{c:?}");
}

#[test]
fn a_known_account_that_moved_its_email_domain_is_reported() {
    // danielroe published 3.17.x as daniel@roe.dev; 3.19.3 comes from danielroe@proton.me.
    let moved = json!({"name": "danielroe", "email": "danielroe@proton.me"});
    let p = with_attack(
        real(),
        "3.19.2",
        "3.19.3",
        "2025-09-15T03:12:00.000Z",
        moved,
    );
    let c = codes(&p, "3.19.2", "3.19.3");
    assert!(
        c.contains(&"maintainer-email-domain-changed".to_string()),
        "{c:?}"
    );
}
