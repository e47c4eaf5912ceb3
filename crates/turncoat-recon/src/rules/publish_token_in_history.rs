//! `publish-token-in-history`: a registry publish credential was committed and later removed.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use crate::secrets::SecretRecord;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "publish-token-in-history",
    group: "recon",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "An npm or PyPI publish credential is in the repository's history but not in HEAD.",
    doc: r#"Fires for npm access tokens (`npm_…`: a valid CRC32 checksum, or 36 characters that look generated), legacy npm tokens (a UUID beside an npm keyword or in an `.npmrc`), `.npmrc` `_authToken` / `_auth` / `_password` lines and PyPI API tokens (`pypi-AgEIcHlwaS5vcmc…`) found in any blob reachable from any ref, but no longer in `HEAD`'s tree.

**Why it matters.** Deleting a file does not remove it from history: every clone still has it. A publish token lets an attacker push a trojanized version of your packages without your password or 2FA. npm classic tokens were revoked on 2025-12-09 and legacy UUID tokens are dead, but granular tokens (up to 90 days, optionally with "Bypass 2FA") and PyPI tokens stay valid until revoked.

**How to fix.** Revoke the token at the registry (npm: `npm token revoke`, PyPI: account settings), check the registry's publish log for versions you did not publish, then move publishing to trusted publishing (OIDC) so no long-lived token exists. After review, add the fingerprint to `.turncoat/recon-baseline.json`."#,
};

pub(crate) fn judge(r: &SecretRecord) -> Option<Finding> {
    if r.at_head || !r.publish_credential {
        return None;
    }
    Some(
        Finding::new(
            &RULE,
            format!(
                "{} and is not in HEAD (removed, or on another ref): every clone still has it",
                super::committed(r, "")
            ),
        )
        .with_evidence(super::evidence(r)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::SecretKind;
    use crate::rules::testing::record;

    #[test]
    fn fires_for_removed_publish_tokens() {
        let f = judge(&record(SecretKind::NpmAccessToken, false)).expect("finding");
        assert_eq!(f.code, RULE.code);
        assert_eq!(f.evidence[0].line, Some(3));
    }

    #[test]
    fn quiet_for_other_secrets_and_for_tokens_at_head() {
        assert!(judge(&record(SecretKind::GithubToken, false)).is_none());
        assert!(judge(&record(SecretKind::NpmAccessToken, true)).is_none());
    }
}
