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
snapshot, compares the domain of the e-mail address; and for the candidate's `_npmUser`, reports
a domain that account never published this package under before (its earlier publishes of any
version count, not only the replaced one, which may have come from CI). Quiet when the candidate's verified provenance comes from the same repository
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

/// The candidate's publisher published earlier versions of the package (any of them, not only
/// the replaced one) and never under the candidate's e-mail domain.
fn publisher_domain_change<'a>(cx: &Ctx<'_>, y: &'a Person) -> Option<(&'a str, String, String)> {
    let name = y.name.as_deref()?;
    let new = y.email_domain()?;
    let to_t = cx.p.published(cx.to);
    let mut earlier: Vec<(&str, String)> =
        cx.p.versions
            .iter()
            .filter(|(v, _)| v.as_str() != cx.to)
            .filter_map(|(v, m)| {
                let u = m.npm_user.as_ref()?;
                let same = u.name.as_deref()?.eq_ignore_ascii_case(name);
                let t = cx.p.published(v)?;
                (same && to_t.is_none_or(|tt| t < tt)).then_some((t, u.email_domain()?))
            })
            .collect();
    if earlier.is_empty() || earlier.iter().any(|(_, d)| *d == new) {
        return None;
    }
    earlier.sort();
    let (_, latest) = earlier.pop()?;
    Some((name, latest, new))
}

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    let from = cx.from?;
    let (a, b) = (cx.from_m?, cx.to_m?);
    if cx.usual_workflow() {
        return None;
    }
    let mut changed: Vec<(&str, String, String)> =
        domain_changes(&a.maintainers, &b.maintainers).collect();
    if let Some(c) = b
        .npm_user
        .as_ref()
        .and_then(|y| publisher_domain_change(cx, y))
        && !changed.iter().any(|(n, ..)| n.eq_ignore_ascii_case(c.0))
    {
        changed.push(c);
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
