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
when that account published no earlier version of the package (teams that take turns are not
flagged): a version published no later than the replaced one, or at least seven days before
the candidate, makes an account known, so an attacker's burst of releases does not vouch for
itself. Also reports a changed trusted-publisher configuration (`oidcConfigId`) between two
OIDC publishes. A move from a person to trusted publishing is an upgrade and is not reported;
the reverse is `trusted-publishing-lost`, and a first-time person publishing after trusted
publishing is reported by both rules. A replaced version without `_npmUser` (old documents)
is compared with the whole publish history. Quiet when the candidate's verified
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

/// An account that first published this package less than this long before the candidate,
/// and after the version being replaced, is still new: an attacker who publishes a burst
/// (1.0.1 and 1.0.2 minutes apart) must not become "known" by their own first version.
const ESTABLISHED_AFTER_SECS: i64 = 7 * 86_400;

/// Whether `account` had published this package before `to` in a way that counts: a version
/// published no later than `from`, or one published at least [`ESTABLISHED_AFTER_SECS`]
/// before `to`. Versions without a publish time count only when `from` has none either.
fn established(cx: &Ctx<'_>, account: &str) -> bool {
    let secs = |v: &str| cx.p.published(v).and_then(crate::encoding::rfc3339_to_unix);
    let to_t = secs(cx.to);
    let from_t = cx.from.and_then(secs);
    cx.p.versions.iter().any(|(v, m)| {
        v != cx.to
            && m.npm_user
                .as_ref()
                .and_then(|u| u.name.as_deref())
                .is_some_and(|n| n.eq_ignore_ascii_case(account))
            && match (secs(v), to_t) {
                (Some(t), Some(tt)) => {
                    t < tt && (from_t.is_some_and(|f| t <= f) || tt - t >= ESTABLISHED_AFTER_SECS)
                }
                _ => from_t.is_none(),
            }
    })
}

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let from = cx.from?;
    let b = cx.to_m?;
    if cx.usual_workflow() {
        return None;
    }
    let a = cx.from_m;
    let old_trusted = a.and_then(|a| a.trusted_publisher.as_ref());
    match (old_trusted, &b.trusted_publisher) {
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
        // Person → OIDC is an upgrade.
        (_, Some(_)) => return None,
        // OIDC → person is also `trusted-publishing-lost`; who the person is still matters.
        (_, None) => {}
    }
    let user = b.npm_user.as_ref()?;
    let new = user.name.as_deref()?;
    let old = a
        .and_then(|a| a.npm_user.as_ref())
        .and_then(|u| u.name.as_deref());
    if old.is_some_and(|o| o.eq_ignore_ascii_case(new)) || established(cx, new) {
        return None;
    }
    let domain = user
        .email_domain()
        .map(|d| format!(" <@{d}>"))
        .unwrap_or_default();
    let before = match (old, old_trusted) {
        (_, Some(_)) => format!("{from} was published through trusted publishing"),
        (Some(o), None) => format!("{from} was published by {o}"),
        (None, None) => format!("{from} names no publisher"),
    };
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} was published by {new}{domain}, who published no earlier version ({before})",
                cx.name, cx.to
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("_npmUser.name: {new}{domain}")))
        .with_evidence(cx.evidence(from, &format!("_npmUser: {before}"))),
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
