//! The class of an e-mail address as an attacker sees it (sans-IO).
//!
//! - `noreply`: GitHub's `ID+user@users.noreply.github.com`, `user@users.noreply.github.com` and
//!   `noreply@github.com`; GitLab's `ID-user@users.noreply.gitlab.com`.
//! - `personal`: a free-mail or personal-provider domain, from `data/free-email-domains.txt`
//!   (npm `free-email-domains` 1.12.6, MIT; the file's header names the source). A personal
//!   mailbox is the account recovery path of the maintainer's registry and forge accounts, and
//!   has no organisation's security team behind it.
//! - `local`: no `@`, or a host that cannot be a mail domain (`localhost`, `*.local`,
//!   `*.localdomain`, `(none)`, no dot): a machine name leaks, not a mailbox.
//! - `organisation`: every other (custom) domain.

use std::sync::LazyLock;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmailClass {
    Noreply,
    Personal,
    Organisation,
    Local,
}

impl EmailClass {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailClass::Noreply => "noreply",
            EmailClass::Personal => "personal",
            EmailClass::Organisation => "organisation",
            EmailClass::Local => "local",
        }
    }
}

static FREE_MAIL: LazyLock<rustc_hash::FxHashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/free-email-domains.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Number of domains in the built-in free-mail list.
pub fn free_mail_domains() -> usize {
    FREE_MAIL.len()
}

/// The lower-cased domain of `email`, if it has one.
pub fn domain(email: &str) -> Option<String> {
    let (_, d) = email.trim().rsplit_once('@')?;
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

pub fn classify(email: &str) -> EmailClass {
    let Some(d) = domain(email) else {
        return EmailClass::Local;
    };
    if d == "users.noreply.github.com" || d == "users.noreply.gitlab.com" {
        return EmailClass::Noreply;
    }
    if d == "github.com" && email.trim().to_ascii_lowercase().starts_with("noreply@") {
        return EmailClass::Noreply;
    }
    if !d.contains('.')
        || d == "localhost"
        || d.ends_with(".local")
        || d.ends_with(".localdomain")
        || d.ends_with(".(none)")
        || d.ends_with(".lan")
        || d.ends_with(".internal")
        || d.ends_with(".home")
    {
        return EmailClass::Local;
    }
    if is_free_mail(&d) {
        return EmailClass::Personal;
    }
    EmailClass::Organisation
}

/// The domain or any parent domain is on the list (`mail.yahoo.co.uk` → `yahoo.co.uk`).
fn is_free_mail(domain: &str) -> bool {
    let mut d = domain;
    loop {
        if FREE_MAIL.contains(d) {
            return true;
        }
        match d.split_once('.') {
            Some((_, rest)) if rest.contains('.') => d = rest,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let cases = [
            ("12345+octo@users.noreply.github.com", EmailClass::Noreply),
            ("octo@users.noreply.github.com", EmailClass::Noreply),
            ("noreply@github.com", EmailClass::Noreply),
            ("123-octo@users.noreply.gitlab.com", EmailClass::Noreply),
            ("someone@gmail.com", EmailClass::Personal),
            ("Someone@GMail.COM", EmailClass::Personal),
            ("x@protonmail.com", EmailClass::Personal),
            ("x@hey.com", EmailClass::Personal),
            ("dev@acme-corp.io", EmailClass::Organisation),
            ("ops@github.com", EmailClass::Organisation),
            ("me@laptop.local", EmailClass::Local),
            ("root@localhost", EmailClass::Local),
            ("me@buildbox", EmailClass::Local),
            ("me@host.(none)", EmailClass::Local),
            ("nobody", EmailClass::Local),
            ("", EmailClass::Local),
        ];
        for (e, c) in cases {
            assert_eq!(classify(e), c, "{e}");
        }
    }

    #[test]
    fn the_list_is_loaded() {
        assert!(free_mail_domains() > 10_000, "{}", free_mail_domains());
    }
}
