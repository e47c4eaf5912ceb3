//! Publish-path drift (rule group `attest`): how the way a version reached the registry differs
//! from the package's own history. Each rule lives in its own file with its [`RuleDoc`].
//!
//! History means the version being replaced and the earlier versions of the *same release
//! line* as the candidate (by publish time; prereleases only when the candidate is one). A
//! package that publishes 4.x with provenance while 3.x backports are published by hand is not
//! drifting; comparing by date across majors (as pnpm's trust check does) would say it is.
//!
//! A version whose verified provenance comes from the same repository and workflow as the
//! version it replaces is on its usual publish path: the people-centred rules
//! (publisher, maintainers, trusted publishing) stay quiet for it.

mod integrity_mismatch;
mod invalid_provenance;
mod invalid_signature;
mod maintainer_added;
mod maintainer_email_domain_changed;
mod provenance_lost;
mod provenance_source_changed;
mod publisher_changed;
mod signature_missing;
mod signature_unknown_key;
mod trusted_publishing_lost;

use turncoat_finding::{Evidence, Finding, RuleDoc};
use turncoat_npm::semver::{is_prerelease, release_line};
use turncoat_npm::{Manifest, Packument};

use crate::attestations::ProvenanceStatus;
use crate::package::PackageVerification;
use crate::signature::SignatureStatus;

/// Every drift rule, in a stable order.
pub fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &invalid_signature::RULE,
        &signature_missing::RULE,
        &signature_unknown_key::RULE,
        &invalid_provenance::RULE,
        &integrity_mismatch::RULE,
        &provenance_lost::RULE,
        &trusted_publishing_lost::RULE,
        &provenance_source_changed::RULE,
        &publisher_changed::RULE,
        &maintainer_added::RULE,
        &maintainer_email_domain_changed::RULE,
    ]
}

/// Drift findings for the update `from` → `to` of the package described by `p`.
///
/// `locked_integrity` is what the lockfile pins for `to`; `verif_to` / `verif_from` are the
/// verification results of the two versions ([`crate::verify_package`]).
pub fn drift(
    p: &Packument,
    from: Option<&str>,
    to: &str,
    locked_integrity: Option<&str>,
    verif_from: Option<&PackageVerification>,
    verif_to: &PackageVerification,
) -> Vec<Finding> {
    let cx = Ctx {
        p,
        name: p.name.as_deref().unwrap_or(&verif_to.name),
        from,
        to,
        to_m: p.versions.get(to),
        from_m: from.and_then(|f| p.versions.get(f)),
        locked_integrity,
        verif_from,
        verif_to,
    };
    let checks: [fn(&Ctx<'_>) -> Option<Finding>; 11] = [
        invalid_signature::check,
        signature_missing::check,
        signature_unknown_key::check,
        invalid_provenance::check,
        integrity_mismatch::check,
        provenance_lost::check,
        trusted_publishing_lost::check,
        provenance_source_changed::check,
        publisher_changed::check,
        maintainer_added::check,
        maintainer_email_domain_changed::check,
    ];
    checks.iter().filter_map(|c| c(&cx)).collect()
}

/// The verification rules alone (registry signature and provenance, relative to the release
/// line's history), for `turncoat verify`: the same checks as in [`drift`], without the
/// people-centred ones.
pub fn verification(
    p: &Packument,
    version: &str,
    locked_integrity: Option<&str>,
    verif: &PackageVerification,
) -> Vec<Finding> {
    let cx = Ctx {
        p,
        name: p.name.as_deref().unwrap_or(&verif.name),
        from: None,
        to: version,
        to_m: p.versions.get(version),
        from_m: None,
        locked_integrity,
        verif_from: None,
        verif_to: verif,
    };
    let checks: [fn(&Ctx<'_>) -> Option<Finding>; 4] = [
        invalid_signature::check,
        signature_missing::check,
        signature_unknown_key::check,
        invalid_provenance::check,
    ];
    checks.iter().filter_map(|c| c(&cx)).collect()
}

/// Everything a rule may look at.
pub(crate) struct Ctx<'a> {
    pub p: &'a Packument,
    pub name: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub to_m: Option<&'a Manifest>,
    pub from_m: Option<&'a Manifest>,
    pub locked_integrity: Option<&'a str>,
    pub verif_from: Option<&'a PackageVerification>,
    pub verif_to: &'a PackageVerification,
}

impl<'a> Ctx<'a> {
    /// Evidence pointing at a version's registry metadata.
    pub fn evidence(&self, version: &str, snippet: &str) -> Evidence {
        Evidence::new(format!("registry:{}@{version}", self.name)).with_snippet(snippet)
    }

    /// The history `to` is compared with: `from`, then earlier versions of `to`'s release
    /// line (prereleases only if `to` is one), newest first.
    pub fn history(&self) -> Vec<&'a str> {
        let line = release_line(self.to);
        let to_pre = is_prerelease(self.to);
        let to_time = self.p.published(self.to);
        let to_ver = self.to.parse::<turncoat_npm::semver::Version>().ok();
        let earlier = |v: &str| match (self.p.published(v), to_time) {
            (Some(a), Some(b)) => a < b,
            _ => match (v.parse::<turncoat_npm::semver::Version>().ok(), &to_ver) {
                (Some(a), Some(b)) => a < *b,
                _ => false,
            },
        };
        let mut out: Vec<&'a str> = self.from.into_iter().collect();
        let mut same_line: Vec<&'a str> = self
            .p
            .versions
            .keys()
            .map(String::as_str)
            .filter(|v| *v != self.to && Some(*v) != self.from)
            .filter(|v| line.is_some() && release_line(v) == line)
            .filter(|v| to_pre || !is_prerelease(v))
            .filter(|v| earlier(v))
            .collect();
        same_line.sort_by(|a, b| self.p.published(b).cmp(&self.p.published(a)));
        out.extend(same_line);
        out
    }

    /// `to` has provenance: verified, or advertised by the registry when the caller did not
    /// fetch the attestations. An invalid one is not provenance (another rule reports it).
    pub fn to_has_provenance(&self) -> bool {
        match self.verif_to.provenance {
            ProvenanceStatus::Verified => true,
            ProvenanceStatus::Invalid => false,
            ProvenanceStatus::Absent => self.to_m.is_some_and(advertises_provenance),
        }
    }

    /// The history versions that carried a registry signature (any key, valid or not), newest
    /// first: `from` counts when it was served or verified with one.
    pub fn signed_history(&self) -> Vec<&'a str> {
        self.history()
            .into_iter()
            .filter(|v| {
                let listed = self
                    .p
                    .versions
                    .get(*v)
                    .is_some_and(|m| !m.dist.signatures.is_empty());
                let verified = Some(*v) == self.from
                    && self
                        .verif_from
                        .is_some_and(|f| f.signature != SignatureStatus::Missing);
                listed || verified
            })
            .collect()
    }

    /// A history version had provenance.
    pub fn had_provenance(&self, v: &str) -> bool {
        if Some(v) == self.from
            && self
                .verif_from
                .is_some_and(|f| f.provenance == ProvenanceStatus::Verified)
        {
            return true;
        }
        self.p.versions.get(v).is_some_and(advertises_provenance)
    }

    /// `to` comes from the same repository and workflow as `from`, both verified.
    pub fn usual_workflow(&self) -> bool {
        let (Some(a), Some(b)) = (
            self.verif_from.and_then(|f| f.publisher.as_ref()),
            self.verif_to.publisher.as_ref(),
        ) else {
            return false;
        };
        self.verif_to.provenance == ProvenanceStatus::Verified
            && provenance_source_changed::changes(a, b).is_empty()
    }
}

fn advertises_provenance(m: &Manifest) -> bool {
    m.dist
        .attestations
        .as_ref()
        .is_some_and(|a| a.provenance_predicate.is_some())
}

/// Builders shared by the rule tests.
#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::{Value, json};
    use turncoat_npm::Packument;

    use crate::attestations::ProvenanceStatus;
    use crate::facts::PublisherFacts;

    /// Findings with `code` for the patch release 1.0.0 → 1.0.1 of `p`, unsigned.
    pub(crate) fn patch_hits(p: &Packument, code: &str) -> Vec<turncoat_finding::Finding> {
        super::drift(p, Some("1.0.0"), "1.0.1", None, None, &plain("1.0.1"))
            .into_iter()
            .filter(|f| f.code == code)
            .collect()
    }
    use crate::package::PackageVerification;
    use crate::signature::SignatureStatus;

    /// A version entry: publisher, maintainers (name, email), provenance, trusted publisher.
    pub struct V {
        pub version: &'static str,
        pub time: &'static str,
        pub user: &'static str,
        pub maintainers: Vec<(&'static str, &'static str)>,
        pub provenance: bool,
        pub trusted: Option<&'static str>,
        /// `dist.signatures` key ids (the signature bytes are not checked by drift).
        pub signed_by: Vec<&'static str>,
    }

    pub fn v(version: &'static str, time: &'static str, user: &'static str) -> V {
        V {
            version,
            time,
            user,
            maintainers: vec![("alice", "alice@example.com")],
            provenance: false,
            trusted: None,
            signed_by: Vec::new(),
        }
    }

    impl V {
        pub fn prov(mut self) -> V {
            self.provenance = true;
            self
        }
        pub fn trusted(mut self, config: &'static str) -> V {
            self.trusted = Some(config);
            self
        }
        pub fn maintainers(mut self, m: Vec<(&'static str, &'static str)>) -> V {
            self.maintainers = m;
            self
        }
        pub fn signed(mut self, keyid: &'static str) -> V {
            self.signed_by.push(keyid);
            self
        }
    }

    pub fn packument(versions: Vec<V>) -> Packument {
        let mut vs = serde_json::Map::new();
        let mut time = serde_json::Map::new();
        for x in versions {
            let email = if x.trusted.is_some() {
                "npm-oidc-no-reply@github.com".to_string()
            } else {
                format!("{}@example.com", x.user)
            };
            let mut user = json!({"name": x.user, "email": email});
            if let Some(c) = x.trusted {
                user["trustedPublisher"] = json!({"id": "github", "oidcConfigId": c});
            }
            let mut dist = json!({
                "integrity": crate::testkit::Kit::integrity(x.version.as_bytes()),
                "shasum": "0000000000000000000000000000000000000000",
            });
            if !x.signed_by.is_empty() {
                dist["signatures"] = x
                    .signed_by
                    .iter()
                    .map(|k| json!({"keyid": k, "sig": "MEUCIQ=="}))
                    .collect();
            }
            if x.provenance {
                dist["attestations"] = json!({
                    "url": "https://registry.npmjs.org/-/npm/v1/attestations/pkg@1",
                    "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                });
            }
            let maintainers: Vec<Value> = x
                .maintainers
                .iter()
                .map(|(n, e)| json!({"name": n, "email": e}))
                .collect();
            vs.insert(
                x.version.into(),
                json!({"name": "pkg", "version": x.version, "_npmUser": user,
                       "maintainers": maintainers, "dist": dist}),
            );
            time.insert(x.version.into(), json!(x.time));
        }
        Packument::from_value(&json!({"name": "pkg", "versions": vs, "time": time})).unwrap()
    }

    pub fn verif(
        version: &str,
        signature: SignatureStatus,
        provenance: ProvenanceStatus,
        publisher: Option<PublisherFacts>,
    ) -> PackageVerification {
        PackageVerification {
            name: "pkg".into(),
            version: version.into(),
            signature,
            provenance,
            publisher,
            publish_attestation: provenance == ProvenanceStatus::Verified,
            trusted_publisher: None,
            reason: None,
            provenance_error: None,
        }
    }

    pub fn plain(version: &str) -> PackageVerification {
        verif(
            version,
            SignatureStatus::Valid,
            ProvenanceStatus::Absent,
            None,
        )
    }

    pub fn facts(repo: &str, repo_id: &str, workflow: &str) -> PublisherFacts {
        PublisherFacts {
            source_repository: Some(format!("https://github.com/{repo}")),
            source_repository_id: Some(repo_id.into()),
            source_repository_owner_id: Some("42".into()),
            workflow_path: Some(workflow.into()),
            ..PublisherFacts::default()
        }
    }

    pub fn proven(version: &str, f: PublisherFacts) -> PackageVerification {
        verif(
            version,
            SignatureStatus::Valid,
            ProvenanceStatus::Verified,
            Some(f),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use turncoat_finding::is_kebab_case;

    #[test]
    fn rule_docs_are_complete() {
        let mut codes = std::collections::BTreeSet::new();
        for r in rules() {
            assert!(is_kebab_case(r.code), "{}", r.code);
            assert_eq!(r.group, "attest");
            assert!(codes.insert(r.code), "duplicate {}", r.code);
            assert!(!r.summary.is_empty() && r.doc.contains("## "), "{}", r.code);
        }
        assert_eq!(codes.len(), 11);
    }

    #[test]
    fn history_is_the_release_line_not_the_calendar() {
        let p = packument(vec![
            v("3.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("4.0.0", "2024-02-01T00:00:00Z", "alice"),
            v("3.1.0-beta.1", "2024-02-15T00:00:00Z", "alice"),
            v("3.1.0", "2024-03-01T00:00:00Z", "alice"),
            v("4.0.1", "2024-03-02T00:00:00Z", "alice"),
        ]);
        let t = plain("3.1.0");
        let cx = Ctx {
            p: &p,
            name: "pkg",
            from: Some("3.0.0"),
            to: "3.1.0",
            to_m: p.versions.get("3.1.0"),
            from_m: p.versions.get("3.0.0"),
            locked_integrity: None,
            verif_from: None,
            verif_to: &t,
        };
        assert_eq!(cx.history(), vec!["3.0.0"]);
        let cx = Ctx {
            to: "3.1.0-beta.1",
            from: None,
            ..cx
        };
        assert_eq!(cx.history(), vec!["3.0.0"]);
    }

    #[test]
    fn a_usual_release_with_provenance_raises_nothing() {
        // New publisher, new maintainer, new e-mail domain: all explained by a verified
        // provenance from the very same repository and workflow.
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").prov(),
            v("1.0.1", "2024-02-01T00:00:00Z", "bob")
                .prov()
                .maintainers(vec![
                    ("alice", "alice@newdomain.dev"),
                    ("bob", "bob@example.com"),
                ]),
        ]);
        let f = facts("acme/widget", "1001", ".github/workflows/release.yml");
        let from = proven("1.0.0", f.clone());
        let to = proven("1.0.1", f);
        let locked = p.versions["1.0.1"].dist.integrity.clone();
        let found = drift(
            &p,
            Some("1.0.0"),
            "1.0.1",
            locked.as_deref(),
            Some(&from),
            &to,
        );
        assert!(found.is_empty(), "{found:#?}");
    }
}
