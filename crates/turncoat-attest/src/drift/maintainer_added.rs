//! `maintainer-added`: the candidate's maintainer snapshot lists new accounts.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::Ctx;

pub const RULE: RuleDoc = RuleDoc {
    code: "maintainer-added",
    group: "attest",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the version's `maintainers` snapshot lists accounts the replaced version did not",
    doc: "\
## What it does
Compares the per-version `maintainers` snapshot the registry records at publish time with the
replaced version's and lists the accounts that appeared. Quiet when the candidate's verified
provenance comes from the same repository and workflow as the replaced version.

## Why it matters
An attacker who controls one maintainer account often adds an account of their own first, to
keep access after the victim resets their password, then publishes.

## Example
`pkg@2.0.0` lists `alice`; `pkg@2.0.1` lists `alice` and `new-helper`.

## How to silence it
Set the level to `allow` for packages whose maintainer list changes often, or pin an exception
for the `name@version`.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let from = cx.from?;
    let (a, b) = (cx.from_m?, cx.to_m?);
    if a.maintainers.is_empty() || cx.usual_workflow() {
        return None;
    }
    let known = |n: &str| {
        a.maintainers
            .iter()
            .any(|m| m.name.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n)))
    };
    let added: Vec<&str> = b
        .maintainers
        .iter()
        .filter_map(|m| m.name.as_deref())
        .filter(|n| !known(n))
        .collect();
    if added.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} lists maintainer(s) {} not listed for {from}",
                cx.name,
                cx.to,
                added.join(", ")
            ),
        )
        .with_evidence(cx.evidence(cx.to, &format!("maintainers: +{}", added.join(", +")))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn hits(p: &turncoat_npm::Packument) -> Vec<Finding> {
        patch_hits(p, RULE.code)
    }

    #[test]
    fn flags_new_accounts() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").maintainers(vec![
                ("alice", "alice@example.com"),
                ("mallory", "m@evil.test"),
            ]),
        ]);
        let f = hits(&p);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("mallory"));
    }

    #[test]
    fn quiet_for_removals_and_unchanged_lists() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").maintainers(vec![
                ("alice", "alice@example.com"),
                ("bob", "bob@example.com"),
            ]),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice"),
        ]);
        assert!(hits(&p).is_empty());
    }
}
