//! `stale-publisher`: the roster lists an account that can publish none of the team's packages.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;
use crate::evaluate::roster::Ecosystem;

pub const RULE: RuleDoc = RuleDoc {
    code: "stale-publisher",
    group: GROUP,
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "the roster lists an account that publishes none of the team's packages",
    doc: "\
The roster names a person's npm or PyPI account, but the registry does not list it as a \
maintainer / owner of any of the roster's packages in that ecosystem. Either the roster is \
out of date (the person left or lost access: take them out so the metrics describe the \
real team), or the account name is misspelt — and then the real account is an \
`undeclared-publisher`. Judged only when every package of that ecosystem could be read.

Fix: correct or remove the roster entry.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    let mut out = Vec::new();
    for eco in [Ecosystem::Npm, Ecosystem::Pypi] {
        let pkgs: Vec<_> = input
            .packages
            .iter()
            .filter(|p| p.ecosystem == eco)
            .collect();
        if pkgs.is_empty() || pkgs.iter().any(|p| p.error.is_some()) {
            continue;
        }
        for person in &input.roster.people {
            let Some(account) = person.account(eco) else {
                continue;
            };
            let publishes = pkgs
                .iter()
                .any(|p| p.publishers.iter().any(|u| u.eq_ignore_ascii_case(account)));
            if !publishes {
                out.push(
                    Finding::new(
                        &RULE,
                        format!(
                            "{} ({} user `{account}`) can publish none of the roster's {} packages",
                            person.name,
                            eco.as_str(),
                            eco.as_str()
                        ),
                    )
                    .with_evidence(Evidence::at(&input.roster_file, 0).with_snippet(account)),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::roster::Mfa;
    use crate::evaluate::rules::testing::*;

    #[test]
    fn a_person_without_any_package_is_stale() {
        let i = input(
            vec![
                person("Alice", Some("alice"), Mfa::Passkey, true),
                person("Bob", Some("bob"), Mfa::Passkey, true),
            ],
            vec![facts("widget", &["alice"])],
        );
        let f = check(&i);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "Bob (npm user `bob`) can publish none of the roster's npm packages"
        );
    }

    #[test]
    fn unreadable_packages_or_other_ecosystems_are_not_judged() {
        let mut p = facts("widget", &[]);
        p.error = Some("offline".into());
        let i = input(
            vec![person("Bob", Some("bob"), Mfa::Passkey, true)],
            vec![p],
        );
        assert!(check(&i).is_empty());
        let i = input(
            vec![person("Bob", None, Mfa::Passkey, true)],
            vec![facts("w", &[])],
        );
        assert!(check(&i).is_empty());
    }
}
