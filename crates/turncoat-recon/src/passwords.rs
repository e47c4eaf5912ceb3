//! `turncoat recon passwords`: are the logins of developer platforms breached, reused across
//! entries, or weak?
//!
//! [`check`] turns [`VaultEntry`]s into [`PasswordFacts`] (SHA-1 for Pwned Passwords and reuse,
//! the zxcvbn score; the only IO is the [`PwnedPasswords`] lookup it is given), then [`judge`]
//! (sans-IO) turns facts into findings and the Evaluation-stage metrics. Facts carry the entry
//! name, the host and booleans/counts only: no password, hash or hash prefix reaches a report.
//!
//! Which logins are "developer platform" logins is data: `data/developer-platforms.txt` (forges,
//! package registries and mail providers, with its source in the header). Passwords read from
//! stdin have no host and are all checked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use serde::Serialize;
use turncoat_finding::{Finding, Level};

use crate::hibp::{BreachError, PasswordHash, PwnedPasswords};
use crate::report::LeveledFinding;
use crate::vault::{VaultEntry, host_of};

/// Versioned JSON schema of [`PasswordReport`].
pub const SCHEMA: &str = "turncoat-recon-passwords/1";

/// zxcvbn scores below this are weak (0–2 of 0–4: crackable with 10^8 guesses or fewer).
pub const WEAK_BELOW: u8 = 3;

static PLATFORMS: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    include_str!("../data/developer-platforms.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(d, p)| (d, p.trim()))
        .collect()
});

/// The developer platform `host` belongs to (its own or a parent domain's entry).
pub fn platform_of(host: &str) -> Option<&'static str> {
    let mut h = host.trim_end_matches('.');
    loop {
        if let Some(p) = PLATFORMS.get(h) {
            return Some(p);
        }
        h = h.split_once('.')?.1;
    }
}

/// What is known about one entry; no secret material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasswordFacts {
    pub name: String,
    pub host: Option<String>,
    /// The developer platform, `stdin` for passwords read from stdin, `None` for other logins.
    pub platform: Option<String>,
    /// Times seen in Pwned Passwords; `None` when not checked.
    pub breached: Option<u64>,
    /// Other entries (of any kind) with the same password.
    pub reused_with: usize,
    /// zxcvbn score 0–4; `None` for entries not in scope.
    pub score: Option<u8>,
}

impl PasswordFacts {
    pub fn in_scope(&self) -> bool {
        self.platform.is_some()
    }
    pub fn is_breached(&self) -> bool {
        self.breached.is_some_and(|c| c > 0)
    }
    pub fn is_weak(&self) -> bool {
        self.score.is_some_and(|s| s < WEAK_BELOW)
    }
}

/// Gather facts: every entry's SHA-1 (for reuse, over all entries), and for developer-platform
/// entries (all entries when `all_in_scope`) the zxcvbn score and, with `pwned`, the breach
/// count (each distinct password looked up once).
pub fn check(
    entries: &[VaultEntry],
    all_in_scope: bool,
    mut pwned: Option<&mut dyn PwnedPasswords>,
) -> Result<Vec<PasswordFacts>, BreachError> {
    let hashes: Vec<PasswordHash> = entries
        .iter()
        .map(|e| PasswordHash::of(e.password.as_bytes()))
        .collect();
    let mut same: HashMap<&PasswordHash, usize> = HashMap::new();
    for h in &hashes {
        *same.entry(h).or_default() += 1;
    }
    let mut counts: HashMap<&PasswordHash, u64> = HashMap::new();
    let mailboxes = mailbox_domains(entries);
    let mut out = Vec::with_capacity(entries.len());
    for (e, h) in entries.iter().zip(&hashes) {
        let host = e.uris.iter().find_map(|u| host_of(u));
        let platform = if all_in_scope {
            Some("stdin".to_string())
        } else {
            e.uris
                .iter()
                .filter_map(|u| host_of(u))
                .find_map(|h| {
                    platform_of(&h).or_else(|| is_under_any(&h, &mailboxes).then_some("email"))
                })
                .map(str::to_string)
        };
        let (mut breached, mut score) = (None, None);
        if platform.is_some() {
            score = Some(strength(e));
            if let Some(p) = pwned.as_deref_mut() {
                let c = match counts.get(h) {
                    Some(c) => *c,
                    None => {
                        let c = p.count(h)?;
                        counts.insert(h, c);
                        c
                    }
                };
                breached = Some(c);
            }
        }
        out.push(PasswordFacts {
            name: e.name.clone(),
            host,
            platform,
            breached,
            reused_with: same[h] - 1,
            score,
        });
    }
    Ok(out)
}

/// The mail domains used as usernames on developer platforms: the login of that mail
/// provider is the recovery path of those accounts, so it is in scope as `email` too (a
/// custom domain's webmail, not only the providers in the list).
fn mailbox_domains(entries: &[VaultEntry]) -> HashSet<String> {
    entries
        .iter()
        .filter(|e| {
            e.uris
                .iter()
                .filter_map(|u| host_of(u))
                .any(|h| platform_of(&h).is_some())
        })
        .filter_map(|e| crate::email::domain(e.username.as_deref()?))
        .filter(|d| crate::email::classify(&format!("x@{d}")) != crate::email::EmailClass::Local)
        .collect()
}

/// `host` is one of `domains` or below one (`mail.corp.example` under `corp.example`).
fn is_under_any(host: &str, domains: &HashSet<String>) -> bool {
    let mut h = host;
    loop {
        if domains.contains(h) {
            return true;
        }
        match h.split_once('.') {
            Some((_, rest)) if rest.contains('.') => h = rest,
            _ => return false,
        }
    }
}

/// The zxcvbn score, with the username, its mailbox name and the host as user inputs (a
/// password built from them is weak).
fn strength(e: &VaultEntry) -> u8 {
    let mut inputs: Vec<String> = Vec::new();
    if let Some(u) = &e.username {
        inputs.push(u.clone());
        if let Some((local, _)) = u.split_once('@') {
            inputs.push(local.to_string());
        }
    }
    for u in &e.uris {
        if let Some(h) = host_of(u) {
            inputs.extend(h.split('.').filter(|l| l.len() > 2).map(str::to_string));
        }
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    u8::from(zxcvbn::zxcvbn(&e.password, &refs).score())
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PasswordMetrics {
    pub entries: usize,
    /// Entries in scope: developer-platform logins (or every stdin line).
    pub developer_logins: usize,
    pub checked_against_pwned_passwords: bool,
    pub breached: usize,
    pub reused: usize,
    pub weak: usize,
    pub breached_percent: f64,
    pub reused_percent: f64,
    pub weak_percent: f64,
    /// In-scope logins per platform.
    pub platforms: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PasswordReport {
    pub schema: &'static str,
    pub format: String,
    pub metrics: PasswordMetrics,
    /// The in-scope entries.
    pub entries: Vec<PasswordFacts>,
    pub findings: Vec<LeveledFinding>,
}

impl PasswordReport {
    pub fn violation(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Deny)
    }
}

fn percent(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 * 1000.0 / of as f64).round() / 10.0
    }
}

/// Judge the facts (sans-IO): the findings of the password rules and the metrics.
pub fn judge(
    format: &str,
    facts: Vec<PasswordFacts>,
    level: &dyn Fn(&str) -> Level,
) -> PasswordReport {
    let mut m = PasswordMetrics {
        entries: facts.len(),
        checked_against_pwned_passwords: facts.iter().any(|f| f.breached.is_some()),
        ..PasswordMetrics::default()
    };
    let scoped: Vec<PasswordFacts> = facts.into_iter().filter(PasswordFacts::in_scope).collect();
    let mut findings = Vec::new();
    for f in &scoped {
        m.developer_logins += 1;
        *m.platforms
            .entry(f.platform.clone().unwrap_or_default())
            .or_default() += 1;
        m.breached += usize::from(f.is_breached());
        m.reused += usize::from(f.reused_with > 0);
        m.weak += usize::from(f.is_weak());
        crate::rules::password_breached::judge(f, &mut findings);
        crate::rules::password_reused::judge(f, &mut findings);
        crate::rules::password_weak::judge(f, &mut findings);
    }
    m.breached_percent = percent(m.breached, m.developer_logins);
    m.reused_percent = percent(m.reused, m.developer_logins);
    m.weak_percent = percent(m.weak, m.developer_logins);
    PasswordReport {
        schema: SCHEMA,
        format: format.to_string(),
        metrics: m,
        entries: scoped,
        findings: leveled_findings(findings, level),
    }
}

/// Findings with their level and a fingerprint (code, evidence and message, no secret: the
/// message is printed anyway). The message tells apart two findings of one package or
/// entry, e.g. two maintainers' addresses, which SARIF consumers would otherwise merge.
pub fn leveled_findings(
    findings: Vec<Finding>,
    level: &dyn Fn(&str) -> Level,
) -> Vec<LeveledFinding> {
    use sha2::{Digest, Sha256};
    findings
        .into_iter()
        .map(|f| {
            let mut h = Sha256::new();
            h.update(f.code.as_bytes());
            for e in &f.evidence {
                h.update(b"\0");
                h.update(e.path.as_bytes());
            }
            h.update(b"\0");
            h.update(f.message.as_bytes());
            LeveledFinding {
                level: level(&f.code),
                fingerprint: hex::encode(&h.finalize()[..8]),
                finding: f,
            }
        })
        .collect()
}

/// The human report: metrics, one row per in-scope login, the findings.
pub fn render_human(r: &PasswordReport) -> String {
    let m = &r.metrics;
    let mut out = format!(
        "Passwords ({}): {} entries, {} developer-platform login(s)\n",
        r.format, m.entries, m.developer_logins
    );
    let breached = if m.checked_against_pwned_passwords {
        format!("{} ({}%)", m.breached, m.breached_percent)
    } else {
        "not checked".into()
    };
    out.push_str(&format!(
        "  breached {breached}   reused {} ({}%)   weak {} ({}%)\n\n",
        m.reused, m.reused_percent, m.weak, m.weak_percent
    ));
    if !r.entries.is_empty() {
        out.push_str(&format!(
            "  {:<28} {:<24} {:<10} {:>8} {:>6} {:>5}\n",
            "ENTRY", "HOST", "PLATFORM", "BREACHED", "REUSED", "WEAK"
        ));
        for f in &r.entries {
            out.push_str(&format!(
                "  {:<28} {:<24} {:<10} {:>8} {:>6} {:>5}\n",
                clip(&f.name, 28),
                clip(f.host.as_deref().unwrap_or("-"), 24),
                f.platform.as_deref().unwrap_or("-"),
                match f.breached {
                    None => "-".to_string(),
                    Some(0) => "no".to_string(),
                    Some(_) => "YES".to_string(),
                },
                if f.reused_with > 0 { "YES" } else { "no" },
                if f.is_weak() { "YES" } else { "no" },
            ));
        }
        out.push('\n');
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

pub(crate) fn clip(s: &str, n: usize) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Distinct developer platforms in the built-in list (for docs and tests).
pub fn platforms() -> HashSet<&'static str> {
    PLATFORMS.values().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn entry(name: &str, uri: &str, user: &str, pw: &str) -> VaultEntry {
        VaultEntry {
            name: name.into(),
            uris: vec![uri.into()],
            username: Some(user.into()),
            password: Zeroizing::new(pw.into()),
        }
    }

    struct Fixed(HashMap<PasswordHash, u64>, usize);
    impl PwnedPasswords for Fixed {
        fn count(&mut self, h: &PasswordHash) -> Result<u64, BreachError> {
            self.1 += 1;
            Ok(self.0.get(h).copied().unwrap_or(0))
        }
    }

    #[test]
    fn platforms_by_host_and_parent() {
        assert_eq!(platform_of("github.com"), Some("github"));
        assert_eq!(platform_of("gist.github.com"), Some("github"));
        assert_eq!(platform_of("www.npmjs.com"), Some("npm"));
        assert_eq!(platform_of("accounts.google.com"), Some("email"));
        assert_eq!(platform_of("github.com.evil.example"), None);
        assert_eq!(platform_of("notgithub.com"), None);
        assert!(platforms().contains("crates-io"));
    }

    #[test]
    fn breached_reused_weak_and_metrics() {
        let entries = vec![
            entry("GitHub", "https://github.com/login", "octo", "hunter2"),
            entry("Shop", "https://shop.example", "octo", "hunter2"),
            entry(
                "npm",
                "https://www.npmjs.com/login",
                "octo",
                "Vq8#mZt2!pLw9xKr4@cF",
            ),
            entry("PyPI", "pypi.org", "octo@mail.example", "octopypi"),
        ];
        let mut pwned = Fixed(HashMap::from([(PasswordHash::of(b"hunter2"), 17_043)]), 0);
        let facts = check(&entries, false, Some(&mut pwned)).unwrap();
        assert_eq!(
            pwned.1, 3,
            "three in-scope entries, three distinct passwords"
        );
        let r = judge("test", facts, &|_| Level::Warn);
        let m = &r.metrics;
        assert_eq!((m.entries, m.developer_logins), (4, 3));
        assert_eq!((m.breached, m.reused, m.weak), (1, 1, 2));
        assert_eq!(m.breached_percent, 33.3);
        let codes: Vec<&str> = r.findings.iter().map(|f| f.finding.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "password-breached",
                "password-reused",
                "password-weak",
                "password-weak"
            ]
        );
        let out = format!("{}{}", render_human(&r), serde_json::to_string(&r).unwrap());
        for secret in [
            "hunter2",
            "Vq8#mZt2!pLw9xKr4@cF",
            "octopypi",
            "F3BBB",
            "F3BBBD66A63D4BF1747940578EC3D0103530E21D",
        ] {
            assert!(!out.contains(secret), "{secret} in output");
        }
    }

    #[test]
    fn the_mailbox_behind_a_platform_login_is_in_scope() {
        let entries = vec![
            entry(
                "GitHub",
                "https://github.com",
                "octo@corp.example",
                "Vq8#mZt2!pLw9xKr4@cF",
            ),
            entry(
                "Corp mail",
                "https://mail.corp.example/owa",
                "octo",
                "Vq8#mZt2!pLw9xKr4@cG",
            ),
            entry(
                "Other corp",
                "https://other.example",
                "octo",
                "Vq8#mZt2!pLw9xKr4@cH",
            ),
        ];
        let facts = check(&entries, false, None).unwrap();
        let scope: Vec<Option<&str>> = facts.iter().map(|f| f.platform.as_deref()).collect();
        assert_eq!(scope, [Some("github"), Some("email"), None]);
    }

    #[test]
    fn stdin_lines_are_all_in_scope_and_unchecked_without_a_source() {
        let entries =
            crate::vault::parse_lines(b"password\ncorrect horse battery staple extra words\n");
        let r = judge("lines", check(&entries, true, None).unwrap(), &|_| {
            Level::Warn
        });
        assert_eq!(r.metrics.developer_logins, 2);
        assert!(!r.metrics.checked_against_pwned_passwords);
        assert_eq!(r.metrics.weak, 1);
        assert!(render_human(&r).contains("not checked"));
    }
}
