//! The breach sections of `turncoat recon` (`--published`, `--lockfile`, `--pwned`) in the
//! Markdown and SARIF formats (the human and JSON forms are each section's own).
//!
//! Sans-IO: the CLI gathers the sections ([`Exposure`]) and these functions render them. What
//! reaches a report: package names, registry addresses (already public: that is the
//! finding), breach names and the findings' messages. Never an API key, a token or a
//! password: none of them is in an [`Exposure`] to begin with, and every cell is escaped.

use std::fmt::Write as _;

use serde::Serialize;
use turncoat_finding::Level;

use crate::hibp::Breach;
use crate::maintainers::MaintainersReport;
use crate::published::PublishedReport;
use crate::report::LeveledFinding;

/// One address checked against HIBP and the breaches it is in.
#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    pub email: String,
    pub breaches: Vec<Breach>,
}

/// The `--pwned` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountBreaches {
    pub checked: usize,
    pub pwned_accounts: usize,
    pub accounts: Vec<AccountRow>,
    pub findings: Vec<LeveledFinding>,
}

/// Every breach section a run produced.
#[derive(Debug, Clone, Default)]
pub struct Exposure {
    pub published: Option<PublishedReport>,
    /// With the lockfile path it was read from (the SARIF location of its findings).
    pub maintainers: Option<(String, MaintainersReport)>,
    pub breaches: Option<AccountBreaches>,
}

impl Exposure {
    /// Every finding of the sections, with the artifact a SARIF result points at: the
    /// manifest for a published identity, the lockfile for a dependency's maintainers, and
    /// the scanned path for a breached account (an address is not in a file).
    pub fn findings<'a>(&'a self, scanned: &'a str) -> Vec<(&'a str, &'a LeveledFinding)> {
        let mut out = Vec::new();
        if let Some(p) = &self.published {
            let manifest = p
                .packages
                .first()
                .map(|f| f.package.manifest.as_str())
                .unwrap_or(scanned);
            out.extend(p.findings.iter().map(|f| (manifest, f)));
        }
        if let Some((lock, m)) = &self.maintainers {
            out.extend(m.findings.iter().map(|f| (lock.as_str(), f)));
        }
        if let Some(b) = &self.breaches {
            out.extend(b.findings.iter().map(|f| (scanned, f)));
        }
        out
    }
}

/// A Markdown table cell of at most 300 characters (names and addresses come from registries
/// anyone can publish to).
fn cell(s: &str) -> String {
    crate::report::md_cell(s, 300)
}

/// The sections as Markdown (appended to the history report's Markdown).
pub fn render_markdown(e: &Exposure, top: usize) -> String {
    let mut o = String::new();
    if let Some(p) = &e.published {
        let _ = write!(
            o,
            "\n### Published identities\n\n{} address(es) published, {} personal.\n\n\
             | package | registry | role | address | class |\n|---|---|---|---|---|\n",
            p.addresses, p.personal_addresses
        );
        for f in &p.packages {
            if let Some(err) = &f.error {
                let _ = writeln!(
                    o,
                    "| `{}` | | | not read: {} | |",
                    cell(&f.package.name),
                    cell(err)
                );
            } else if !f.found {
                let _ = writeln!(o, "| `{}` | | | not published | |", cell(&f.package.name));
            }
            for id in &f.identities {
                let _ = writeln!(
                    o,
                    "| `{}` | {} | {} | {} | {} |",
                    cell(&id.package),
                    cell(&id.registry),
                    cell(&id.role),
                    cell(&id.email),
                    id.class.as_str()
                );
            }
        }
    }
    if let Some((lock, m)) = &e.maintainers {
        let x = &m.metrics;
        let _ = write!(
            o,
            "\n### Your dependencies' maintainers (`{}`)\n\n{} package(s): {} with a single maintainer, \
             {} with a personal address, {} with a custom domain, {} with an unresolvable domain, \
             {} not checked.\n\n| package | maintainers | score | why |\n|---|---:|---:|---|\n",
            cell(lock),
            x.packages,
            x.single_maintainer,
            x.with_personal_address,
            x.with_custom_domain,
            x.with_unresolvable_domain,
            x.not_checked
        );
        for t in m.targets.iter().take(top) {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} |",
                cell(&t.package),
                t.maintainers,
                t.score,
                cell(&t.reasons.join("; "))
            );
        }
        if m.targets.len() > top {
            let _ = writeln!(
                o,
                "\n{} more package(s) in the JSON report.",
                m.targets.len() - top
            );
        }
    }
    if let Some(b) = &e.breaches {
        let _ = write!(
            o,
            "\n### Breached accounts (HIBP)\n\n{} of {} address(es) pwned.\n",
            b.pwned_accounts, b.checked
        );
        let pwned: Vec<&AccountRow> = b
            .accounts
            .iter()
            .filter(|a| !a.breaches.is_empty())
            .collect();
        if !pwned.is_empty() {
            o.push_str("\n| address | breaches |\n|---|---|\n");
            for a in pwned {
                let names: Vec<String> = a
                    .breaches
                    .iter()
                    .map(|x| match &x.breach_date {
                        Some(d) => format!("{} ({})", x.name, d),
                        None => x.name.clone(),
                    })
                    .collect();
                let _ = writeln!(o, "| {} | {} |", cell(&a.email), cell(&names.join(", ")));
            }
        }
    }
    let findings: Vec<&LeveledFinding> = e
        .findings("")
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f.level != Level::Allow)
        .collect();
    if !findings.is_empty() {
        o.push_str("\n| level | code | finding |\n|---|---|---|\n");
        for f in findings {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} |",
                f.level,
                f.finding.code,
                cell(&f.finding.message)
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_inject_markup() {
        assert_eq!(cell("a|b`c<img>\x1b[2J"), "a\\|b'c&lt;img&gt;\\u{1b}[2J");
        assert_eq!(cell(&"x".repeat(1000)).len(), 300);
    }
}
