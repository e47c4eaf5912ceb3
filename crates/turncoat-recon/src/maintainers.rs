//! The attacker's view of your dependencies (`turncoat recon --lockfile PATH`): for every locked
//! registry package, its maintainers as the registry lists them (packument `maintainers`),
//! their address classes, and a ranking of the softest targets with the reasons.
//!
//! Sans-IO: the CLI fetches packuments (`turncoat-registry`) and, with `--check-domains`,
//! asks [`crate::dns::Resolver`] about each custom mail domain; [`judge`] scores the facts.
//!
//! Score (higher is softer), each with its reason in the table:
//! - a maintainer domain that does not resolve: +50 (anyone may register it and reset the
//!   account's password);
//! - a single maintainer: +10 (one account to take over, nobody else to notice);
//! - no maintainer listed: +5 (nothing to judge; the registry hides who can publish);
//! - per personal (free-mail) address: +3 (no organisation's security behind the recovery path);
//! - per custom-domain address: +1 (the domain's renewal is part of the account's security).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use turncoat_finding::{Finding, Level};

use crate::dns::DomainStatus;
use crate::email::{EmailClass, classify, domain};
use crate::report::LeveledFinding;

/// Versioned JSON schema of [`MaintainersReport`].
pub const SCHEMA: &str = "turncoat-recon-maintainers/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Maintainer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub class: Option<EmailClass>,
}

/// One package's maintainers as the registry lists them, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageMaintainers {
    pub package: String,
    pub maintainers: Vec<Maintainer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PackageMaintainers {
    pub fn from_people(package: &str, people: &[turncoat_npm::Person]) -> PackageMaintainers {
        PackageMaintainers {
            package: package.to_string(),
            maintainers: people
                .iter()
                .map(|p| Maintainer {
                    name: p.name.clone(),
                    class: p.email.as_deref().map(classify),
                    email: p.email.clone(),
                })
                .collect(),
            error: None,
        }
    }

    pub fn failed(package: &str, error: String) -> PackageMaintainers {
        PackageMaintainers {
            package: package.to_string(),
            maintainers: Vec::new(),
            error: Some(error),
        }
    }
}

/// The custom (organisation) mail domains of all maintainers: what `--check-domains` asks.
pub fn custom_domains(packages: &[PackageMaintainers]) -> BTreeSet<String> {
    packages
        .iter()
        .flat_map(|p| &p.maintainers)
        .filter(|m| m.class == Some(EmailClass::Organisation))
        .filter_map(|m| m.email.as_deref().and_then(domain))
        .collect()
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Target {
    pub package: String,
    pub maintainers: usize,
    pub classes: BTreeMap<String, usize>,
    pub single_maintainer: bool,
    pub custom_domains: Vec<String>,
    pub unresolvable_domains: Vec<String>,
    pub score: u32,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MaintainerMetrics {
    pub packages: usize,
    pub not_checked: usize,
    pub single_maintainer: usize,
    pub with_personal_address: usize,
    pub with_custom_domain: usize,
    pub with_unresolvable_domain: usize,
    pub distinct_maintainer_addresses: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaintainersReport {
    pub schema: &'static str,
    pub metrics: MaintainerMetrics,
    /// `None` without `--check-domains`.
    pub domains: Option<BTreeMap<String, DomainStatus>>,
    /// Softest first.
    pub targets: Vec<Target>,
    pub errors: Vec<PackageMaintainers>,
    pub findings: Vec<LeveledFinding>,
}

fn target(p: &PackageMaintainers, domains: Option<&BTreeMap<String, DomainStatus>>) -> Target {
    let mut t = Target {
        package: p.package.clone(),
        maintainers: p.maintainers.len(),
        single_maintainer: p.maintainers.len() == 1,
        ..Target::default()
    };
    for m in &p.maintainers {
        let class = m.class.map(EmailClass::as_str).unwrap_or("no-address");
        *t.classes.entry(class.to_string()).or_default() += 1;
        if m.class == Some(EmailClass::Organisation)
            && let Some(d) = m.email.as_deref().and_then(domain)
            && !t.custom_domains.contains(&d)
        {
            t.custom_domains.push(d);
        }
    }
    for d in &t.custom_domains {
        if let Some(DomainStatus::Unresolvable { why }) = domains.and_then(|m| m.get(d)) {
            t.unresolvable_domains.push(d.clone());
            t.score += 50;
            t.reasons
                .push(format!("maintainer domain {d} does not resolve ({why})"));
        }
    }
    if t.single_maintainer {
        t.score += 10;
        t.reasons.push("single maintainer".into());
    }
    if t.maintainers == 0 {
        t.score += 5;
        t.reasons.push("no maintainer listed".into());
    }
    let personal = t.classes.get("personal").copied().unwrap_or(0);
    if personal > 0 {
        t.score += 3 * personal as u32;
        t.reasons.push(format!("{personal} personal address(es)"));
    }
    if !t.custom_domains.is_empty() {
        t.score += t.custom_domains.len() as u32;
        t.reasons
            .push(format!("custom domain(s): {}", t.custom_domains.join(", ")));
    }
    t
}

/// Rank the packages and report unresolvable domains (sans-IO).
pub fn judge(
    packages: Vec<PackageMaintainers>,
    domains: Option<BTreeMap<String, DomainStatus>>,
    level: &dyn Fn(&str) -> Level,
) -> MaintainersReport {
    let (ok, errors): (Vec<_>, Vec<_>) = packages.into_iter().partition(|p| p.error.is_none());
    let mut m = MaintainerMetrics {
        packages: ok.len() + errors.len(),
        not_checked: errors.len(),
        ..MaintainerMetrics::default()
    };
    let mut addresses = BTreeSet::new();
    let mut targets: Vec<Target> = ok
        .iter()
        .map(|p| {
            addresses.extend(
                p.maintainers
                    .iter()
                    .filter_map(|m| m.email.as_deref())
                    .map(str::to_ascii_lowercase),
            );
            target(p, domains.as_ref())
        })
        .collect();
    for t in &targets {
        m.single_maintainer += usize::from(t.single_maintainer);
        m.with_personal_address += usize::from(t.classes.contains_key("personal"));
        m.with_custom_domain += usize::from(!t.custom_domains.is_empty());
        m.with_unresolvable_domain += usize::from(!t.unresolvable_domains.is_empty());
    }
    m.distinct_maintainer_addresses = addresses.len();
    let mut findings: Vec<Finding> = Vec::new();
    if let Some(domains) = &domains {
        for (d, status) in domains {
            if let DomainStatus::Unresolvable { why } = status {
                let users: Vec<(String, String)> = ok
                    .iter()
                    .flat_map(|p| {
                        p.maintainers
                            .iter()
                            .filter_map(|m| m.email.clone())
                            .filter(|e| domain(e).as_deref() == Some(d.as_str()))
                            .map(|e| (p.package.clone(), e))
                    })
                    .collect();
                crate::rules::maintainer_domain_unresolvable::judge(d, why, &users, &mut findings);
            }
        }
    }
    targets.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.package.cmp(&b.package))
    });
    MaintainersReport {
        schema: SCHEMA,
        metrics: m,
        domains,
        targets,
        errors,
        findings: crate::passwords::leveled_findings(findings, level),
    }
}

impl MaintainersReport {
    pub fn violation(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Deny)
    }
}

/// The human report: metrics, the `top` softest targets with reasons, domains that could not
/// be checked, findings.
pub fn render_human(r: &MaintainersReport, top: usize) -> String {
    let m = &r.metrics;
    let mut out = format!(
        "Dependencies' maintainers: {} package(s), {} distinct address(es); single maintainer {}, personal address {}, custom domain {}, unresolvable domain {}{}\n\n",
        m.packages,
        m.distinct_maintainer_addresses,
        m.single_maintainer,
        m.with_personal_address,
        m.with_custom_domain,
        if r.domains.is_some() {
            m.with_unresolvable_domain.to_string()
        } else {
            "not checked (--check-domains)".into()
        },
        if m.not_checked > 0 {
            format!("; {} package(s) not checked", m.not_checked)
        } else {
            String::new()
        }
    );
    let shown: Vec<&Target> = r.targets.iter().filter(|t| t.score > 0).take(top).collect();
    if !shown.is_empty() {
        out.push_str(&format!(
            "  Softest targets\n  {:>4}  {:<32} {:>5}  {}\n",
            "RANK", "PACKAGE", "SCORE", "WHY"
        ));
        for (i, t) in shown.iter().enumerate() {
            out.push_str(&format!(
                "  {:>4}  {:<32} {:>5}  {}\n",
                i + 1,
                crate::passwords::clip(&t.package, 32),
                t.score,
                t.reasons.join("; ")
            ));
        }
        out.push('\n');
    }
    if let Some(domains) = &r.domains {
        for (d, s) in domains {
            if let DomainStatus::Unknown { why } = s {
                out.push_str(&format!("  could not check {d}: {why}\n"));
            }
        }
    }
    for p in &r.errors {
        out.push_str(&format!(
            "  could not read the maintainers of {}: {}\n",
            p.package,
            p.error.as_deref().unwrap_or_default()
        ));
    }
    for f in &r.findings {
        out.push_str(&format!(
            "{:5} {}: {}\n",
            f.level.as_str(),
            f.finding.code,
            f.finding.message
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use turncoat_npm::Person;

    fn pkg(name: &str, emails: &[&str]) -> PackageMaintainers {
        let people: Vec<Person> = emails
            .iter()
            .map(|e| Person {
                name: Some("m".into()),
                email: Some((*e).into()),
            })
            .collect();
        PackageMaintainers::from_people(name, &people)
    }

    #[test]
    fn ranks_softest_first_with_reasons() {
        let pkgs = vec![
            pkg(
                "team",
                &[
                    "a@corp.example",
                    "b@corp.example",
                    "c@users.noreply.github.com",
                ],
            ),
            pkg("solo-gmail", &["me@gmail.com"]),
            pkg("expired", &["dev@gone.example"]),
            PackageMaintainers::failed("broken", "HTTP 500".into()),
        ];
        assert_eq!(
            custom_domains(&pkgs).into_iter().collect::<Vec<_>>(),
            ["corp.example", "gone.example"]
        );
        let domains = BTreeMap::from([
            ("corp.example".to_string(), DomainStatus::Resolves),
            (
                "gone.example".to_string(),
                DomainStatus::Unresolvable {
                    why: "NXDOMAIN".into(),
                },
            ),
        ]);
        let r = judge(pkgs, Some(domains), &|_| Level::Deny);
        let order: Vec<(&str, u32)> = r
            .targets
            .iter()
            .map(|t| (t.package.as_str(), t.score))
            .collect();
        assert_eq!(order, [("expired", 61), ("solo-gmail", 13), ("team", 1)]);
        assert_eq!(r.metrics.packages, 4);
        assert_eq!(r.metrics.not_checked, 1);
        assert_eq!(r.metrics.single_maintainer, 2);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].finding.code, "maintainer-domain-unresolvable");
        assert!(r.violation());
        let text = render_human(&r, 10);
        assert!(
            text.contains("maintainer domain gone.example does not resolve (NXDOMAIN)"),
            "{text}"
        );
        assert!(
            text.contains("could not read the maintainers of broken"),
            "{text}"
        );
    }

    #[test]
    fn unknown_domains_are_not_findings() {
        let domains = BTreeMap::from([(
            "corp.example".to_string(),
            DomainStatus::Unknown {
                why: "timeout".into(),
            },
        )]);
        let r = judge(vec![pkg("p", &["a@corp.example"])], Some(domains), &|_| {
            Level::Deny
        });
        assert!(r.findings.is_empty());
        assert!(render_human(&r, 10).contains("could not check corp.example: timeout"));
    }
}
