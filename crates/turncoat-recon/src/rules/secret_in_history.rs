//! `secret-in-history`: a token, key or credential was committed and later removed.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use crate::secrets::SecretRecord;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "secret-in-history",
    group: "recon",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "A token, key or credential (not a publish token) is in history but not in HEAD.",
    doc: r#"Fires for GitHub tokens (checksum-validated), GitHub fine-grained tokens, GitLab tokens, AWS access keys (with or without their secret key beside them), private keys and credential-named assignments with high entropy (`apiKey = '…'`, ≥ 12 characters, letters and digits, ≥ 3.5 bits per character) found in history but no longer in `HEAD`'s tree. Publish tokens have their own code, `publish-token-in-history`.

**Why it matters.** Every clone still holds the value. If it was never revoked, it still works: a GitHub token with `repo` or `workflow` scope is a path to your release workflow and therefore to your packages.

**How to fix.** Revoke or rotate it (the commit date tells you whether it predates a rotation), then add the fingerprint to `.turncoat/recon-baseline.json`."#,
};

pub(crate) fn judge(r: &SecretRecord) -> Option<Finding> {
    if r.at_head || r.publish_credential {
        return None;
    }
    let pair = if r.paired_secret {
        " with its secret key"
    } else {
        ""
    };
    Some(
        Finding::new(
            &RULE,
            format!("{} and is not in HEAD", super::committed(r, pair)),
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
    fn fires_for_removed_secrets() {
        let mut r = record(SecretKind::AwsAccessKey, false);
        r.paired_secret = true;
        let f = judge(&r).expect("finding");
        assert!(f.message.contains("with its secret key"), "{}", f.message);
    }

    #[test]
    fn quiet_for_publish_tokens_and_for_head() {
        assert!(judge(&record(SecretKind::PypiToken, false)).is_none());
        assert!(judge(&record(SecretKind::PrivateKey, true)).is_none());
    }
}
