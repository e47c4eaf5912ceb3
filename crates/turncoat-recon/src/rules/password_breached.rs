//! `password-breached`: a developer-platform login uses a password that is in Pwned Passwords.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::passwords::PasswordFacts;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "password-breached",
    group: "recon",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A developer-platform login (forge, registry, mailbox) uses a password found in Pwned Passwords.",
    doc: r#"Fires for each login on a developer platform (GitHub, GitLab, npm, PyPI, crates.io, the mail providers behind them — the list is `crates/turncoat-recon/data/developer-platforms.txt`) whose password appears in the Have I Been Pwned *Pwned Passwords* corpus, checked with the k-anonymity range API (only the first 5 hex digits of the password's SHA-1 leave the machine, with `Add-Padding: true`) or offline against the downloaded ordered hash file (`--pwned-file`).

**Why it matters.** Breached passwords are the first thing credential-stuffing tools try. A maintainer's registry or forge account that accepts such a password is one login away from a trojanized release; the mailbox is the recovery path of all the others.

**Example.** `GitHub (github.com): password seen 17043 times in Pwned Passwords`.

**How to fix.** Change the password to a unique generated one and enable phishing-resistant MFA (a security key or passkey) on the account; on npm, require 2FA for publishing. The report never contains the password, its hash or the hash prefix."#,
};

pub(crate) fn judge(f: &PasswordFacts, out: &mut Vec<Finding>) {
    if let Some(count) = f.breached.filter(|&c| c > 0) {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{}: password seen {count} times in Pwned Passwords",
                    super::login(f)
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
    fn fires_when_seen() {
        let mut out = Vec::new();
        judge(&facts(Some(3), 0, Some(4)), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains("3 times"), "{}", out[0].message);
    }

    #[test]
    fn quiet_when_clean_or_unchecked() {
        let mut out = Vec::new();
        judge(&facts(Some(0), 0, Some(4)), &mut out);
        judge(&facts(None, 0, Some(4)), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
