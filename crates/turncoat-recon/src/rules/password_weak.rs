//! `password-weak`: a developer-platform login's password is weak by zxcvbn.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::passwords::PasswordFacts;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "password-weak",
    group: "recon",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "A developer-platform login's password is guessable (zxcvbn score below 3).",
    doc: r#"Fires for each login on a developer platform whose password the zxcvbn strength estimator (the `zxcvbn` crate, a port of Dropbox's estimator) scores 0, 1 or 2 of 4, i.e. crackable with about 10^8 guesses or fewer. The username, its mailbox name and the site's host are given to the estimator as user inputs, so `octo-github-2024` for `octo` on github.com is weak.

**Why it matters.** Online guessing and offline cracking of a leaked hash both succeed against such passwords; the registry account is the one that publishes code every dependent installs.

**Example.** `PyPI (pypi.org): zxcvbn score 1 of 4`.

**How to fix.** Use a generated password (a password manager's default, or a passphrase of 5+ random words) and phishing-resistant MFA."#,
};

pub(crate) fn judge(f: &PasswordFacts, out: &mut Vec<Finding>) {
    if let Some(score) = f.score.filter(|_| f.is_weak()) {
        out.push(
            Finding::new(
                &RULE,
                format!("{}: zxcvbn score {score} of 4", super::login(f)),
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
    fn fires_below_three() {
        let mut out = Vec::new();
        judge(&facts(None, 0, Some(2)), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains("score 2"), "{}", out[0].message);
    }

    #[test]
    fn quiet_at_three_or_unscored() {
        let mut out = Vec::new();
        judge(&facts(None, 0, Some(3)), &mut out);
        judge(&facts(None, 0, None), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
