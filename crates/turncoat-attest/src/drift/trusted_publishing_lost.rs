//! `trusted-publishing-lost`: a token publish after trusted (OIDC) publishing.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;

pub const RULE: RuleDoc = RuleDoc {
    code: "trusted-publishing-lost",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "published with a token while the replaced version or its release line used trusted publishing",
    doc: "\
## What it does
Flags a candidate without `_npmUser.trustedPublisher` when the version it replaces, or an
earlier version of the same release line (prereleases only for prerelease candidates), was
published through npm trusted publishing (OIDC from CI). Stays quiet when the candidate's
verified provenance comes from the same repository and workflow as the replaced version.

## Why it matters
Trusted publishing needs no long-lived token: the CI proves its identity to npm. Once a
package uses it, a publish made with a classic token means someone used credentials outside
the usual pipeline, which is what a stolen token looks like.

## Example
`pkg@2.3.0` was published by \"GitHub Actions\" through trusted publishing; `pkg@2.3.1` is
published by `alice` with a token.

## How to silence it
Confirm the manual publish with the maintainers and pin an exception for the `name@version`.
Packages that can enable \"Require two-factor authentication and disallow tokens\" on npm
prevent the situation altogether.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let to_m = cx.to_m?;
    if to_m.trusted_publisher.is_some() || cx.usual_workflow() {
        return None;
    }
    let history = cx.history();
    let trusted = history.iter().find(|v| {
        cx.p.versions
            .get(**v)
            .is_some_and(|m| m.trusted_publisher.is_some())
    })?;
    let by = to_m
        .npm_user
        .as_ref()
        .and_then(|u| u.name.as_deref())
        .unwrap_or("an unknown user");
    let provider =
        cx.p.versions
            .get(*trusted)
            .and_then(|m| m.trusted_publisher.as_ref())
            .and_then(|t| t.id.as_deref())
            .unwrap_or("oidc");
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} was published by {by} without trusted publishing, but {trusted} was published through trusted publishing ({provider})",
                cx.name, cx.to
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("_npmUser: {by}")))
        .with_evidence(cx.evidence(trusted, "_npmUser.trustedPublisher: present")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn flags_a_token_publish_after_oidc() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "GitHub Actions").trusted("oidc:1"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice"),
        ]);
        let f = super::super::drift(&p, Some("1.0.0"), "1.0.1", None, None, &plain("1.0.1"));
        assert_eq!(f.iter().filter(|f| f.code == RULE.code).count(), 1);
        // alice never published before: that is a publisher change as well.
        assert!(f.iter().any(|f| f.code == "publisher-changed"));
        // A person who published the package before OIDC took over: only this rule.
        let p = packument(vec![
            v("0.9.0", "2023-06-01T00:00:00Z", "alice"),
            v("1.0.0", "2024-01-01T00:00:00Z", "GitHub Actions").trusted("oidc:1"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice"),
        ]);
        let f = super::super::drift(&p, Some("1.0.0"), "1.0.1", None, None, &plain("1.0.1"));
        assert_eq!(f.iter().filter(|f| f.code == RULE.code).count(), 1);
        assert!(f.iter().all(|f| f.code != "publisher-changed"), "{f:#?}");
    }

    #[test]
    fn quiet_for_oidc_candidates_other_lines_and_the_usual_workflow() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "GitHub Actions").trusted("oidc:1"),
            v("1.0.1", "2024-02-01T00:00:00Z", "GitHub Actions").trusted("oidc:1"),
            v("2.0.0", "2024-03-01T00:00:00Z", "alice"),
        ]);
        fn run(
            p: &turncoat_npm::Packument,
            from: Option<&str>,
            to: &str,
            vf: Option<&crate::package::PackageVerification>,
            vt: &crate::package::PackageVerification,
        ) -> usize {
            super::super::drift(p, from, to, None, vf, vt)
                .iter()
                .filter(|f| f.code == RULE.code)
                .count()
        }
        assert_eq!(run(&p, Some("1.0.0"), "1.0.1", None, &plain("1.0.1")), 0);
        assert_eq!(run(&p, None, "2.0.0", None, &plain("2.0.0")), 0);
        let f = facts("acme/widget", "1001", ".github/workflows/release.yml");
        let vf = proven("1.0.1", f.clone());
        assert_eq!(
            run(&p, Some("1.0.1"), "2.0.0", Some(&vf), &proven("2.0.0", f)),
            0
        );
        assert_eq!(run(&p, Some("1.0.1"), "2.0.0", None, &plain("2.0.0")), 1);
    }
}
