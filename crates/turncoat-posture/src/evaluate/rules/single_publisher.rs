//! `single-publisher`: exactly one account can publish a package.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;

pub const RULE: RuleDoc = RuleDoc {
    code: "single-publisher",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "one account alone can publish a package: a single point of failure",
    doc: "\
When the registry lists exactly one maintainer (npm) or owner/maintainer (PyPI), one phished \
or SIM-swapped account is a release, and nobody else can revoke the bad version, rotate \
tokens or even notice in time. A second maintainer on a phishing-resistant factor is also \
the recovery path if the first loses access.

Fix: add a second trusted publisher (`npm owner add USER PKG`; a PyPI co-owner or an \
organisation), each on a hardware key or passkey.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    input
        .packages
        .iter()
        .filter(|p| p.error.is_none() && p.publishers.len() == 1)
        .map(|p| {
            Finding::new(
                &RULE,
                format!(
                    "{} {} can be published by one account only (`{}`)",
                    p.ecosystem.as_str(),
                    p.name,
                    p.publishers[0]
                ),
            )
            .with_evidence(Evidence::at(&p.name, 0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::rules::testing::*;

    #[test]
    fn one_publisher_is_a_finding_two_are_not() {
        let i = input(
            vec![],
            vec![facts("solo", &["alice"]), facts("duo", &["alice", "bob"])],
        );
        let f = check(&i);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "npm solo can be published by one account only (`alice`)"
        );
    }
}
