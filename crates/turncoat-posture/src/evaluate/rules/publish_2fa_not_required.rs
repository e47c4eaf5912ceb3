//! `publish-2fa-not-required`: an npm package whose publish does not require 2FA (tokens may
//! bypass it). Judged only when the setting could be read; otherwise the report says unknown.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::GROUP;
use crate::evaluate::Input;

pub const RULE: RuleDoc = RuleDoc {
    code: "publish-2fa-not-required",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "publishing the package does not require 2FA (a stolen token or password is enough)",
    doc: "\
npm's per-package setting `npm access set mfa=publish` requires a second factor for every \
publish and refuses tokens that would bypass it (trusted publishing from CI still works); \
`mfa=automation` lets automation tokens publish without it and `mfa=none` asks for nothing. \
A phished password plus a token, or a token leaked from CI, then publishes. The setting can \
only be read with a token that may read the package's access settings (`turncoat evaluate \
--token-env VAR`); without one, `turncoat evaluate` reports it as unknown and raises no \
finding. `mfa=automation` counts as not required: the stolen token is an automation token.

Fix: `npm access set mfa=publish PKG` and move CI to trusted publishing.",
};

pub fn check(input: &Input) -> Vec<Finding> {
    input
        .packages
        .iter()
        .filter(|p| p.error.is_none() && p.publish_requires_2fa == Some(false))
        .map(|p| {
            Finding::new(
                &RULE,
                format!(
                    "{} {}: publishing does not require 2FA{}",
                    p.ecosystem.as_str(),
                    p.name,
                    match p.mfa_level {
                        Some(crate::evaluate::npm_access::MfaLevel::Automation) => {
                            " (mfa=automation: automation tokens publish without it)"
                        }
                        Some(crate::evaluate::npm_access::MfaLevel::None) => " (mfa=none)",
                        _ => "",
                    }
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
    fn only_a_known_false_setting_is_a_finding() {
        let mut off = facts("off", &["a"]);
        off.publish_requires_2fa = Some(false);
        let mut on = facts("on", &["a"]);
        on.publish_requires_2fa = Some(true);
        let unknown = facts("unknown", &["a"]);
        let f = check(&input(vec![], vec![off, on, unknown]));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "npm off: publishing does not require 2FA");
    }
}
