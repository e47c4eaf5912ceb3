//! `sms-mfa`: a publisher's second factor is SMS (from the roster).

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;
use crate::evaluate::roster::Mfa;

pub const RULE: RuleDoc = RuleDoc {
    code: "sms-mfa",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a publisher's second factor is SMS",
    doc: "\
SMS codes are what a SIM swap defeats: an attacker who talks the carrier into moving the number receives them, and SMS is relayed by phishing pages like any code. The GitHub org filter `2fa_insecure` counts SMS as insecure for the same reason.

Fix: replace SMS with a hardware key or passkey; remove the phone number as a recovery method.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    input
        .roster
        .people
        .iter()
        .filter(|p| p.mfa == Mfa::Sms)
        .map(|p| {
            Finding::new(
                &RULE,
                format!("{} relies on SMS for their second factor", p.name),
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
                person("Alice", Some("alice"), Mfa::Sms, true),
                person("Bob", Some("bob"), Mfa::HardwareKey, true),
                person("Carol", Some("carol"), Mfa::Totp, true),
            ],
            vec![],
        );
        let f = check(&i);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "Alice relies on SMS for their second factor");
    }
}
