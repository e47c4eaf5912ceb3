//! The recon rules, one per file, each with its `RuleDoc` and its true and false cases.

use turncoat_finding::{Evidence, RuleDoc};

use crate::secrets::SecretRecord;

pub(crate) mod history_blob_not_scanned;
pub(crate) mod local_identity_exposed;
pub(crate) mod personal_email_exposed;
pub(crate) mod publish_token_in_history;
pub(crate) mod secret_at_head;
pub(crate) mod secret_in_history;
// Breach checks, passwords, published identities, dependencies' maintainers.
pub(crate) mod email_in_breach;
pub(crate) mod maintainer_domain_unresolvable;
pub(crate) mod password_breached;
pub(crate) mod password_reused;
pub(crate) mod password_weak;
pub(crate) mod registry_email_exposed;

/// Every rule of this crate, for `turncoat explain` and the policy.
pub fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &history_blob_not_scanned::RULE,
        &local_identity_exposed::RULE,
        &personal_email_exposed::RULE,
        &publish_token_in_history::RULE,
        &secret_at_head::RULE,
        &secret_in_history::RULE,
        &email_in_breach::RULE,
        &maintainer_domain_unresolvable::RULE,
        &password_breached::RULE,
        &password_reused::RULE,
        &password_weak::RULE,
        &registry_email_exposed::RULE,
    ]
}

/// How a password finding names its login: the entry name and host, never the password.
fn login(f: &crate::passwords::PasswordFacts) -> String {
    match &f.host {
        Some(h) => format!("{} ({h})", f.name),
        None => f.name.clone(),
    }
}

/// `GitHub token ghp_ (40 chars) was committed in abc1234 by a@b.example (2024-05-01)`: what
/// was committed, when and by whom, redacted. `extra` follows the value (`with its secret key`).
fn committed(r: &SecretRecord, extra: &str) -> String {
    format!(
        "{} {}{extra} was committed in {} by {} ({})",
        r.rule.describe(),
        r.redacted,
        crate::report::short(&r.commit),
        r.author_email,
        crate::report::date(r.time)
    )
}

/// Where a secret was first seen; the snippet is the redacted value, never the value.
fn evidence(r: &SecretRecord) -> Evidence {
    let e = match r.line {
        Some(l) => Evidence::at(&r.path, l),
        None => Evidence::new(&r.path),
    };
    e.with_snippet(&format!("{} {}", r.rule, r.redacted))
}

#[cfg(test)]
pub(crate) mod testing {
    pub(crate) fn facts(
        breached: Option<u64>,
        reused_with: usize,
        score: Option<u8>,
    ) -> crate::passwords::PasswordFacts {
        crate::passwords::PasswordFacts {
            name: "GitHub".into(),
            host: Some("github.com".into()),
            platform: Some("github".into()),
            breached,
            reused_with,
            score,
        }
    }

    use crate::detect::{SecretKind, SecretValue};
    use crate::secrets::SecretRecord;

    pub(crate) fn record(kind: SecretKind, at_head: bool) -> SecretRecord {
        let value = SecretValue::new(crate::detect::testing::checksummed(
            match kind {
                SecretKind::NpmAccessToken => "npm_",
                _ => "ghp_",
            },
            1,
        ));
        SecretRecord {
            rule: kind,
            publish_credential: kind.is_publish_credential(),
            redacted: value.redacted(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            time: 0,
            author_email: "dev@corp.io".into(),
            path: "config/.npmrc".into(),
            line: Some(3),
            at_head,
            head_path: at_head.then(|| "config/.npmrc".into()),
            paired_secret: false,
            in_message: false,
            blobs: 1,
            fingerprint: "fp".into(),
        }
    }
}
