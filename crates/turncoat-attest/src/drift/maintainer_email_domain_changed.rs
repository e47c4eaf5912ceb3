//! `maintainer-email-domain-changed`: a maintainer's e-mail moved to another domain.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};
use turncoat_npm::Person;

use super::Ctx;

pub const RULE: RuleDoc = RuleDoc {
    code: "maintainer-email-domain-changed",
    group: "attest",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a maintainer's or the publisher's e-mail address moved to another domain",
    doc: "\
## What it does
For every account present in both the replaced version's and the candidate's `maintainers`
snapshot (and for `_npmUser` when the same account published both), compares the domain of the
e-mail address. Quiet when the candidate's verified provenance comes from the same repository
and workflow as the replaced version.

## Why it matters
npm accounts are recovered by e-mail. Attackers take over accounts by registering a
maintainer's expired e-mail domain, or change the address right after a takeover so the
owner cannot recover the account.

## Example
`alice <alice@acme.dev>` on `pkg@1.0.0` becomes `alice <alice@mail-recovery.top>` on
`pkg@1.0.1`.

## How to silence it
Pin an exception for the `name@version` once the maintainer confirms the change.
",
};

fn domain_changes<'a>(
    old: &'a [Person],
    new: &'a [Person],
) -> impl Iterator<Item = (&'a str, String, String)> + 'a {
    new.iter().filter_map(move |n| {
        let name = n.name.as_deref()?;
        let o = old.iter().find(|o| {
            o.name
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(name))
        })?;
        let (od, nd) = (o.email_domain()?, n.email_domain()?);
        (od != nd).then_some((name, od, nd))
    })
}

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let from = cx.from?;
    let (a, b) = (cx.from_m?, cx.to_m?);
    if cx.usual_workflow() {
        return None;
    }
    let mut changed: Vec<(&str, String, String)> =
        domain_changes(&a.maintainers, &b.maintainers).collect();
    if let (Some(x), Some(y)) = (&a.npm_user, &b.npm_user) {
        for c in domain_changes(std::slice::from_ref(x), std::slice::from_ref(y)) {
            if !changed.iter().any(|(n, ..)| n.eq_ignore_ascii_case(c.0)) {
                changed.push(c);
            }
        }
    }
    if changed.is_empty() {
        return None;
    }
    let list: Vec<String> = changed
        .iter()
        .map(|(n, o, d)| format!("{n}: @{o} → @{d}"))
        .collect();
    Some(
        Finding::new(
            &RULE,
            format!(
                "e-mail domain changed since {from} for {}@{}: {}",
                cx.name,
                cx.to,
                list.join(", ")
            ),
        )
        .with_evidence(cx.evidence(cx.to, &list.join(", "))),
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
    fn flags_a_moved_domain() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice")
                .maintainers(vec![("alice", "alice@recovery.top")]),
        ]);
        let f = hits(&p);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("@example.com → @recovery.top"));
    }

    #[test]
    fn quiet_for_same_domain_and_new_people() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").maintainers(vec![
                ("alice", "Alice@EXAMPLE.com"),
                ("bob", "bob@elsewhere.dev"),
            ]),
        ]);
        assert!(hits(&p).is_empty());
    }
}
