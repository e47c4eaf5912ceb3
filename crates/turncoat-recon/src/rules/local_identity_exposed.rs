//! `local-identity-exposed`: a machine's user and host name is published as a commit identity.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::email::EmailClass;
use crate::identity::Person;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "local-identity-exposed",
    group: "recon",
    severity: Severity::Low,
    default_level: Level::Allow,
    summary: "A commit identity names a local machine (user@host.local, localhost, no domain).",
    doc: r#"Fires once per author or committer address that is not a mailbox: no `@`, `localhost`, a host without a dot, or a `.local`, `.localdomain`, `.lan`, `.internal`, `.home` or `(none)` domain — git's fallback when `user.email` was never set.

**Why it matters.** It tells an attacker a maintainer's login name and machine name (useful for targeted phishing and for guessing internal hosts), and shows commits made from a machine whose git identity was never configured, often a server or CI box.

**Example.** `deploy@build-03.internal` committed 12 release commits.

**How to fix.** Set `user.email` on every machine that commits (a noreply address). Silence reviewed ones with `.turncoat/recon-baseline.json`."#,
};

pub(crate) fn judge(repo: &str, person: &Person, out: &mut Vec<Finding>) {
    for e in person.emails_of(EmailClass::Local) {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "local identity {:?} ({}) is in {} commit(s)",
                    e.email, person.name, e.commits
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

    fn one(email: &str) -> Vec<Finding> {
        let s = Signature {
            commit: "c".into(),
            role: Role::Committer,
            name: "ci".into(),
            email: email.into(),
            canonical_name: "ci".into(),
            canonical_email: email.into(),
            time: 0,
        };
        let mut out = Vec::new();
        judge("repo", &people(&[s])[0], &mut out);
        out
    }

    #[test]
    fn fires_for_machine_names() {
        assert_eq!(one("root@buildbox").len(), 1);
        assert_eq!(one("me@mac.local").len(), 1);
    }

    #[test]
    fn quiet_for_mailboxes() {
        assert!(one("me@corp.io").is_empty());
        assert!(one("me@gmail.com").is_empty());
    }
}
