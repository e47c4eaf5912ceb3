//! `undeclared-publisher`: the registry lists an account the roster does not.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;

pub const RULE: RuleDoc = RuleDoc {
    code: "undeclared-publisher",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "an account the roster does not list can publish one of the team's packages",
    doc: "\
Every npm maintainer of a package (packument `maintainers`) and every PyPI Owner or \
Maintainer (JSON API `ownership.roles`) can publish a release. An account the team's \
roster does not list is one nobody checks for MFA, password hygiene or departure: a former \
maintainer who kept access, a helper added once, or an attacker who added themselves after \
taking over a real account. Names are compared case-insensitively with each person's `npm` \
/ `pypi` account in the roster.

Fix: remove the account (`npm owner rm USER PKG`, PyPI collaborators page), or add the \
person to the roster with their MFA and password-manager facts.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in input.packages.iter().filter(|p| p.error.is_none()) {
        for user in &p.publishers {
            if input.person_of(p.ecosystem, user).is_none() {
                out.push(
                    Finding::new(
                        &RULE,
                        format!(
                            "{} user `{user}` can publish {} but is not in the roster",
                            p.ecosystem.as_str(),
                            p.name
                        ),
                    )
                    .with_evidence(Evidence::at(&p.name, 0).with_snippet(user)),
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
    fn an_unknown_account_is_found_and_case_is_ignored() {
        let i = input(
            vec![person("Alice", Some("Alice"), Mfa::Passkey, true)],
            vec![facts("widget", &["alice", "mallory"])],
        );
        let f = check(&i);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "npm user `mallory` can publish widget but is not in the roster"
        );
    }

    #[test]
    fn a_package_that_could_not_be_read_is_not_judged() {
        let mut p = facts("widget", &["mallory"]);
        p.error = Some("timeout".into());
        assert!(check(&input(vec![], vec![p])).is_empty());
    }
}
