//! `personal-email-exposed`: a maintainer's personal mailbox is readable in commit history.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::email::EmailClass;
use crate::identity::Person;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "personal-email-exposed",
    group: "recon",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "A personal (free-mail) address is published in the repository's commit history.",
    doc: r#"Fires once per free-mail or personal-provider address (gmail.com, outlook.com, proton.me, … — the list is `crates/turncoat-recon/data/free-email-domains.txt`, from npm `free-email-domains`) found as the author or committer of a commit reachable from any ref.

**Why it matters.** Account takeovers of maintainers start with their mailbox: a personal address is usually the recovery address of their GitHub, npm and PyPI accounts, it has no organisation's security team or enforced MFA behind it, and it can be looked up in breach corpora together with reused passwords. Anyone who clones the repository reads it.

**Example.** `jane.doe@gmail.com` authored 214 commits between 2014 and 2021.

**How to fix.** Commit with a noreply address (`ID+user@users.noreply.github.com`, GitHub's "Keep my email address private" and "Block command line pushes that expose my email"), make sure the personal mailbox has strong, unique credentials and phishing-resistant MFA, and do not use it as the registry account's address. History cannot be unpublished; a reviewed address can be silenced with `.turncoat/recon-baseline.json`."#,
};

/// One finding per personal address of `person`.
pub(crate) fn judge(repo: &str, person: &Person, out: &mut Vec<Finding>) {
    for e in person.emails_of(EmailClass::Personal) {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "personal address {} ({}) is in {} commit(s), {} to {}",
                    e.email,
                    person.name,
                    e.commits,
                    crate::report::date(e.first_seen),
                    crate::report::date(e.last_seen)
                ),
            )
            .with_evidence(Evidence::new(repo).with_snippet(&e.email)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Role, Signature, people};

    fn person(emails: &[&str]) -> Person {
        let sigs: Vec<Signature> = emails
            .iter()
            .enumerate()
            .map(|(i, e)| Signature {
                commit: format!("c{i}"),
                role: Role::Author,
                name: "Jane".into(),
                email: (*e).into(),
                canonical_name: "Jane".into(),
                canonical_email: "jane@corp.io".into(),
                time: i as i64,
            })
            .collect();
        people(&sigs).remove(0)
    }

    #[test]
    fn fires_for_each_personal_address() {
        let mut out = Vec::new();
        judge(
            "repo",
            &person(&["jane@gmail.com", "jane@corp.io", "j@outlook.com"]),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|f| f.code == RULE.code));
        let mut shown: Vec<&str> = out
            .iter()
            .map(|f| f.evidence[0].snippet.as_deref().unwrap_or_default())
            .collect();
        shown.sort();
        assert_eq!(shown, ["j@outlook.com", "jane@gmail.com"]);
        assert!(out.iter().all(|f| f.message.contains("(Jane)")));
    }

    #[test]
    fn quiet_for_noreply_and_organisation_addresses() {
        let mut out = Vec::new();
        judge(
            "repo",
            &person(&["1+jane@users.noreply.github.com", "jane@corp.io"]),
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
    }
}
