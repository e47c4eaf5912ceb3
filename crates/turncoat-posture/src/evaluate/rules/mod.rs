//! The evaluate rules: one per file, each with its [`RuleDoc`] and its true and false cases.
//! Each judges the roster and the registries' facts ([`super::Input`]); nothing here does IO.

pub mod no_mfa;
pub mod no_password_manager;
pub mod publish_2fa_not_required;
pub mod single_publisher;
pub mod sms_mfa;
pub mod stale_publisher;
pub mod undeclared_publisher;

use turncoat_finding::{Finding, RuleDoc};

use super::Input;

/// The group every evaluate rule belongs to.
pub const GROUP: &str = "evaluate";

pub const ALL: &[&RuleDoc] = &[
    &no_mfa::RULE,
    &no_password_manager::RULE,
    &publish_2fa_not_required::RULE,
    &single_publisher::RULE,
    &sms_mfa::RULE,
    &stale_publisher::RULE,
    &undeclared_publisher::RULE,
];

pub fn check_all(input: &Input) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(undeclared_publisher::check(input));
    out.extend(stale_publisher::check(input));
    out.extend(single_publisher::check(input));
    out.extend(publish_2fa_not_required::check(input));
    out.extend(no_mfa::check(input));
    out.extend(sms_mfa::check(input));
    out.extend(no_password_manager::check(input));
    out
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::evaluate::roster::{Ecosystem, Mfa, Package, Person, Roster};
    use crate::evaluate::{Input, PackageFacts};

    pub fn person(name: &str, npm: Option<&str>, mfa: Mfa, pm: bool) -> Person {
        Person {
            name: name.into(),
            npm: npm.map(String::from),
            pypi: None,
            mfa,
            password_manager: pm,
            recovery_codes: None,
        }
    }

    pub fn facts(name: &str, publishers: &[&str]) -> PackageFacts {
        PackageFacts {
            ecosystem: Ecosystem::Npm,
            name: name.into(),
            publishers: publishers.iter().map(|s| s.to_string()).collect(),
            organization: None,
            publish_requires_2fa: None,
            mfa_level: None,
            collaborators: Vec::new(),
            settings_error: None,
            error: None,
        }
    }

    pub fn input(people: Vec<Person>, packages: Vec<PackageFacts>) -> Input {
        Input {
            roster: Roster {
                packages: packages
                    .iter()
                    .map(|p| Package {
                        name: p.name.clone(),
                        ecosystem: p.ecosystem,
                    })
                    .collect(),
                people,
            },
            roster_file: "publishers.toml".into(),
            packages,
        }
    }
}
