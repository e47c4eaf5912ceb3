//! `maintainer-domain-unresolvable`: a dependency maintainer's mail domain has no MX and no A
//! record (or does not exist): the expired-domain takeover path.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "maintainer-domain-unresolvable",
    group: "recon",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A maintainer's e-mail domain does not resolve (no MX, no A record): it may be registrable by anyone.",
    doc: r#"With `turncoat recon --lockfile PATH --check-domains`, fires once per custom (organisation) mail domain of the maintainers of the locked packages that answers `NXDOMAIN`, or answers without any MX and without any A record, from the configured resolver (`--resolver ADDR`, default the system's first nameserver). A timeout or `SERVFAIL` is reported as "could not check", never as this finding.

**Why it matters.** When a maintainer's domain lapses, whoever registers it receives the mail for the maintainer's address, requests a password reset from the registry and publishes a new version: the ctx (PyPI, 2022) and several npm takeovers went this way. The registry does not notice that the domain changed hands.

**Example.** `olddomain.example (NXDOMAIN): maintainer dev@olddomain.example of left-pad, pad-right`.

**How to fix.** Ask the maintainer to change the account address, prefer a different dependency, or pin and review the package's updates (`turncoat diff` judges who published them). The maintainer should renew the domain or move the account."#,
};

/// One finding for `domain` and the (package, address) pairs that use it.
pub(crate) fn judge(domain: &str, why: &str, users: &[(String, String)], out: &mut Vec<Finding>) {
    if users.is_empty() {
        return;
    }
    let mut addresses: Vec<&str> = users.iter().map(|(_, e)| e.as_str()).collect();
    addresses.sort_unstable();
    addresses.dedup();
    let mut packages: Vec<&str> = users.iter().map(|(p, _)| p.as_str()).collect();
    packages.sort_unstable();
    packages.dedup();
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{domain} ({why}): maintainer {} of {}",
                addresses.join(", "),
                packages.join(", ")
            ),
        )
        .with_evidence_all(
            packages
                .iter()
                .map(|p| Evidence::new(*p).with_snippet(domain)),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_with_every_package() {
        let mut out = Vec::new();
        let users = [
            ("b-pkg".to_string(), "dev@old.example".to_string()),
            ("a-pkg".to_string(), "dev@old.example".to_string()),
        ];
        judge("old.example", "NXDOMAIN", &users, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].evidence.len(), 2);
        assert!(
            out[0].message.contains("dev@old.example of a-pkg, b-pkg"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn quiet_without_users() {
        let mut out = Vec::new();
        judge("old.example", "NXDOMAIN", &[], &mut out);
        assert!(out.is_empty());
    }
}
