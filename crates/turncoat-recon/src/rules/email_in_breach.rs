//! `email-in-breach`: a maintainer's address is in a breach known to Have I Been Pwned.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::hibp::Breach;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "email-in-breach",
    group: "recon",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "An address found in the history or the registry metadata is in one or more data breaches (HIBP).",
    doc: r#"Fires once per address (from commit history, `turncoat recon --pwned`, or from the registries' maintainer lists) that the Have I Been Pwned v3 `breachedaccount` API lists in at least one breach. The check needs an HIBP API key (`HIBP_API_KEY` or `hibp-api-key` in the config); the key is sent only in the `hibp-api-key` header and never printed. HIBP's rate limit is honoured (`retry-after`, bounded retries).

**Why it matters.** A breached address comes with the breach's password (often reused), security questions or phone number: the attacker's starting point for the account takeover of the maintainer's registry and forge accounts, which use that address for recovery. The metric **pwned accounts** counts these addresses.

**Example.** `jane@gmail.com is in 3 breach(es): Adobe (2013-10-04), LinkedIn (2012-05-05), Canva (2019-05-24)`.

**How to fix.** Make sure no account still uses a password from the breach, move the registry and forge accounts' recovery to an address that is not public, and enable phishing-resistant MFA."#,
};

/// One finding when `breaches` is not empty.
pub(crate) fn judge(email: &str, breaches: &[Breach], out: &mut Vec<Finding>) {
    if breaches.is_empty() {
        return;
    }
    let names: Vec<String> = breaches
        .iter()
        .take(10)
        .map(|b| match &b.breach_date {
            Some(d) => format!("{} ({d})", b.name),
            None => b.name.clone(),
        })
        .collect();
    let more = breaches.len().saturating_sub(names.len());
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{email} is in {} breach(es): {}{}",
                breaches.len(),
                names.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            ),
        )
        .with_evidence(Evidence::new(email)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breach(name: &str) -> Breach {
        Breach {
            name: name.into(),
            title: None,
            domain: None,
            breach_date: Some("2013-10-04".into()),
            data_classes: vec![],
        }
    }

    #[test]
    fn fires_with_the_breach_names() {
        let mut out = Vec::new();
        judge(
            "a@gmail.com",
            &[breach("Adobe"), breach("LinkedIn")],
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("Adobe (2013-10-04), LinkedIn"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn quiet_for_a_clean_account() {
        let mut out = Vec::new();
        judge("a@gmail.com", &[], &mut out);
        assert!(out.is_empty());
    }
}
