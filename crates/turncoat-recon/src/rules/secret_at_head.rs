//! `secret-at-head`: a secret is still in the repository's current tree.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use crate::secrets::SecretRecord;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "secret-at-head",
    group: "recon",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "A token, key or credential is present in the current tree (HEAD).",
    doc: r#"Fires for every secret that `turncoat recon` finds in a blob that is part of `HEAD`'s tree: npm tokens (`npm_…` with a valid checksum or a generated-looking body, legacy UUIDs beside an npm keyword, `_authToken=` / `_auth=` lines of an `.npmrc`), PyPI tokens, GitHub tokens (`ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` with a valid CRC32 checksum, `github_pat_`), GitLab tokens, AWS access keys (with their secret key when it is beside them), private keys and credential-named assignments with high entropy. The report shows the rule, commit, path, line and a redacted value (at most 4 characters and the length); the value itself is never printed.

**Why it matters.** Anyone with read access to the repository can use it now. Publish tokens in particular are how attackers push trojanized versions without touching the maintainer's account.

**How to fix.** Revoke and rotate the credential first (deleting it from the tree does not un-leak it), then remove it from the tree. A reviewed test fixture can be silenced by adding its fingerprint to `.turncoat/recon-baseline.json`."#,
};

pub(crate) fn judge(r: &SecretRecord) -> Option<Finding> {
    if !r.at_head {
        return None;
    }
    let head_path = r.head_path.as_deref().unwrap_or(&r.path);
    Some(
        Finding::new(
            &RULE,
            format!(
                "{} {} is in HEAD at {head_path} (first committed in {} by {})",
                r.rule.describe(),
                r.redacted,
                crate::report::short(&r.commit),
                r.author_email
            ),
        )
        .with_evidence(super::evidence(r)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::record;

    #[test]
    fn fires_when_still_present() {
        let r = record(crate::detect::SecretKind::GithubToken, true);
        let f = judge(&r).expect("finding");
        assert_eq!(f.code, RULE.code);
        assert!(f.message.contains("ghp_… (40 chars)"), "{}", f.message);
    }

    #[test]
    fn quiet_when_removed() {
        let r = record(crate::detect::SecretKind::GithubToken, false);
        assert!(judge(&r).is_none());
    }
}
