//! `password-reused`: a developer-platform login shares its password with other entries.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::passwords::PasswordFacts;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "password-reused",
    group: "recon",
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "A developer-platform login uses the same password as other entries of the vault.",
    doc: r#"Fires for each login on a developer platform whose password is also the password of at least one other entry of the same export (any site). Reuse is compared on the SHA-1 of the passwords, in memory; nothing leaves the machine.

**Why it matters.** When any of the other sites is breached, the password is tried against GitHub, npm and PyPI (credential stuffing). The weakest site holding the password decides how safe the registry account is.

**Example.** `npm (npmjs.com): password shared with 2 other entries`.

**How to fix.** Give every developer-platform account its own generated password and enable phishing-resistant MFA on it."#,
};

pub(crate) fn judge(f: &PasswordFacts, out: &mut Vec<Finding>) {
    if f.reused_with > 0 {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{}: password shared with {} other entr{}",
                    super::login(f),
                    f.reused_with,
                    if f.reused_with == 1 { "y" } else { "ies" }
                ),
            )
            .with_evidence(Evidence::new(super::login(f))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::facts;

    #[test]
    fn fires_when_shared() {
        let mut out = Vec::new();
        judge(&facts(None, 2, Some(4)), &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("2 other entries"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn quiet_when_unique() {
        let mut out = Vec::new();
        judge(&facts(Some(5), 0, Some(0)), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
