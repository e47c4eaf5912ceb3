//! `registry-email-exposed`: a registry publishes a maintainer's or author's address for a
//! package this repository publishes.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::email::EmailClass;
use crate::published::RegistryIdentity;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "registry-email-exposed",
    group: "recon",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The registry publishes a maintainer or author address of a package this repository publishes.",
    doc: r#"Fires once per address the registries publish, without authentication, for the packages a repository publishes (`package.json` `name`; `pyproject.toml` `[project] name`): npm packument `maintainers[].email` and `author`, PyPI JSON `info.author_email` and `info.maintainer_email`. The severity is medium for a personal (free-mail) address and low for an organisation's; noreply addresses do not fire.

**Why it matters.** The npm maintainer address is the account's login and recovery address: an attacker who phishes it, finds it in a breach, or takes over its mail domain can reset the password of the account that publishes the package. Anyone can read it with `npm view PKG maintainers`.

**Example.** `npm left-pad: maintainer jane@gmail.com (personal)`.

**How to fix.** Use a dedicated address for the registry account, on a domain you control with registrar lock and auto-renewal, with phishing-resistant MFA on the mailbox; on PyPI leave `author_email` out or use a role address."#,
};

pub(crate) fn judge(id: &RegistryIdentity, out: &mut Vec<Finding>) {
    let severity = match id.class {
        EmailClass::Noreply => return,
        EmailClass::Personal => Severity::Medium,
        EmailClass::Organisation | EmailClass::Local => Severity::Low,
    };
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} {}: {} {} ({})",
                id.registry,
                id.package,
                id.role,
                id.email,
                id.class.as_str()
            ),
        )
        .with_severity(severity)
        .with_evidence(
            Evidence::new(format!("{}:{}", id.registry, id.package)).with_snippet(&id.email),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(email: &str) -> RegistryIdentity {
        RegistryIdentity {
            registry: "npm".into(),
            package: "pkg".into(),
            role: "maintainer".into(),
            name: None,
            email: email.into(),
            class: crate::email::classify(email),
        }
    }

    #[test]
    fn personal_is_medium_organisation_low() {
        let mut out = Vec::new();
        judge(&id("jane@gmail.com"), &mut out);
        judge(&id("ops@corp.example"), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].severity, Severity::Medium);
        assert_eq!(out[1].severity, Severity::Low);
        assert!(
            out[0]
                .message
                .contains("maintainer jane@gmail.com (personal)"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn noreply_is_quiet() {
        let mut out = Vec::new();
        judge(&id("1+jane@users.noreply.github.com"), &mut out);
        assert!(out.is_empty());
    }
}
