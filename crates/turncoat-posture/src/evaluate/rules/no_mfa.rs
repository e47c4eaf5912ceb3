//! `no-mfa`: a publisher has no second factor (from the roster).

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;
use crate::evaluate::roster::Mfa;

pub const RULE: RuleDoc = RuleDoc {
    code: "no-mfa",
    group: GROUP,
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "a publisher has no second factor",
    doc: "\
A publisher without MFA loses the account to one phished, guessed or breached password — and with it every package the account can publish. npm and PyPI both support WebAuthn (hardware keys, passkeys); PyPI requires a second factor for uploads since 2024, so `none` there also means the roster is wrong.

Fix: enrol a hardware key or passkey on every registry account.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    input
        .roster
        .people
        .iter()
        .filter(|p| p.mfa == Mfa::None)
        .map(|p| {
            Finding::new(
                &RULE,
                format!("{} has no second factor on the registries", p.name),
            )
            .with_evidence(Evidence::at(&input.roster_file, 0).with_snippet(&p.name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::rules::testing::*;

    #[test]
    fn only_that_factor_is_a_finding() {
        let i = input(
            vec![
                person("Alice", Some("alice"), Mfa::None, true),
                person("Bob", Some("bob"), Mfa::HardwareKey, true),
                person("Carol", Some("carol"), Mfa::Totp, true),
            ],
            vec![],
        );
        let f = check(&i);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "Alice has no second factor on the registries");
    }
}
