//! `no-password-manager`: a publisher who does not use a password manager (from the roster).

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;

pub const RULE: RuleDoc = RuleDoc {
    code: "no-password-manager",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a publisher does not use a password manager",
    doc: "\
Without a password manager, passwords get reused (one breach elsewhere opens the registry \
account) and typed into whatever page asks (a password manager refuses to fill on \
`npnjs.com`). The roster's `password-manager = false` says so.

Fix: a password manager with a unique generated password per account.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    input
        .roster
        .people
        .iter()
        .filter(|p| !p.password_manager)
        .map(|p| {
            Finding::new(&RULE, format!("{} does not use a password manager", p.name))
                .with_evidence(Evidence::at(&input.roster_file, 0).with_snippet(&p.name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::roster::Mfa;
    use crate::evaluate::rules::testing::*;

    #[test]
    fn only_people_without_one() {
        let i = input(
            vec![
                person("Alice", Some("alice"), Mfa::Passkey, false),
                person("Bob", Some("bob"), Mfa::Passkey, true),
            ],
            vec![],
        );
        let f = check(&i);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "Alice does not use a password manager");
    }
}
