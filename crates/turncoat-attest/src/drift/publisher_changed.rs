//! `publisher-changed`: a person who never published this package before published it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;

pub const RULE: RuleDoc = RuleDoc {
    code: "publisher-changed",
    group: "attest",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "published by an npm account that published no earlier version, or under a changed trusted-publisher configuration",
    doc: "\
## What it does
Compares `_npmUser` of the candidate with the replaced version's. Reports a new publisher
only when that account published no earlier version of the package (teams that take turns
are not flagged), and reports a changed trusted-publisher configuration (`oidcConfigId`)
between two OIDC publishes. A move from a person to trusted publishing is an upgrade and is
not reported; the reverse is `trusted-publishing-lost`. Quiet when the candidate's verified
provenance comes from the same repository and workflow as the replaced version.

## Why it matters
Account takeovers often use an account that had maintainer rights but never published, or
one added for the purpose. A re-created trusted-publisher configuration means someone with
owner rights on npm changed which CI may publish.

## Example
`pkg@3.1.0` was published by `alice`; `pkg@3.1.1` by `helper-bot-2`, who never published
`pkg` before.

## How to silence it
Set the level to `allow` for packages published by rotating release managers, or pin an
exception for the `name@version` after checking with the maintainers.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let from = cx.from?;
    let (a, b) = (cx.from_m?, cx.to_m?);
    if cx.usual_workflow() {
        return None;
    }
    match (&a.trusted_publisher, &b.trusted_publisher) {
        (Some(x), Some(y)) => {
            if x.oidc_config_id.is_some() && x.oidc_config_id != y.oidc_config_id {
                return Some(
                    Finding::new(
                        &RULE,
                        format!(
                            "{}@{} was published under another trusted-publisher configuration than {from} ({} → {})",
                            cx.name,
                            cx.to,
                            x.oidc_config_id.as_deref().unwrap_or("-"),
                            y.oidc_config_id.as_deref().unwrap_or("-")
                        ),
                    )
                    .with_evidence(cx.evidence(cx.to, "_npmUser.trustedPublisher.oidcConfigId")),
                );
            }
            return None;
        }
        // Person → OIDC is an upgrade; OIDC → person is trusted-publishing-lost.
        (None, Some(_)) | (Some(_), None) => return None,
        (None, None) => {}
    }
    let old = a.npm_user.as_ref()?.name.as_deref()?;
    let new = b.npm_user.as_ref()?.name.as_deref()?;
    if old.eq_ignore_ascii_case(new) {
        return None;
    }
    let to_time = cx.p.published(cx.to);
    let published_before = cx.p.versions.iter().any(|(v, m)| {
        v != cx.to
            && m.npm_user
                .as_ref()
                .and_then(|u| u.name.as_deref())
                .is_some_and(|n| n.eq_ignore_ascii_case(new))
            && match (cx.p.published(v), to_time) {
                (Some(t), Some(tt)) => t < tt,
                _ => true,
            }
    });
    if published_before {
        return None;
    }
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} was published by {new}, who published no earlier version ({from} was published by {old})",
                cx.name, cx.to
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("_npmUser.name: {new}")))
        .with_evidence(cx.evidence(from, &format!("_npmUser.name: {old}"))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn hits(p: &turncoat_npm::Packument, from: &str, to: &str) -> Vec<Finding> {
        super::super::drift(p, Some(from), to, None, None, &plain(to))
            .into_iter()
            .filter(|f| f.code == RULE.code)
            .collect()
    }

    #[test]
    fn flags_a_first_time_publisher_and_a_new_oidc_config() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "mallory"),
            v("1.1.0", "2024-03-01T00:00:00Z", "GitHub Actions").trusted("oidc:a"),
            v("1.1.1", "2024-04-01T00:00:00Z", "GitHub Actions").trusted("oidc:b"),
        ]);
        let f = hits(&p, "1.0.0", "1.0.1");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("mallory"));
        assert_eq!(hits(&p, "1.1.0", "1.1.1").len(), 1);
    }

    #[test]
    fn quiet_for_known_publishers_and_upgrades_to_oidc() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "bob"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice"),
            v("1.0.2", "2024-03-01T00:00:00Z", "bob"),
            v("1.1.0", "2024-04-01T00:00:00Z", "GitHub Actions").trusted("oidc:a"),
        ]);
        assert!(hits(&p, "1.0.1", "1.0.2").is_empty(), "bob published 1.0.0");
        assert!(
            hits(&p, "1.0.2", "1.1.0").is_empty(),
            "person → OIDC is an upgrade"
        );
    }
}
