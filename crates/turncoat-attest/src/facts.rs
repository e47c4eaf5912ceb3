//! Publisher facts: who built and published a version, read from the Fulcio certificate of its
//! provenance (Fulcio copies these claims from the CI's OIDC token, so the publisher cannot
//! choose them) and, for the builder only, from the SLSA predicate.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::encoding::{get, get_str};
use crate::x509::CertIdentity;

/// GitHub Actions' OIDC issuer: its tokens name repositories relative to github.com.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Facts about the build that produced a version, from a verified provenance attestation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherFacts {
    /// Certificate SAN: the workflow identity URI, or an e-mail address for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// OIDC issuer (Fulcio `1.8`, legacy `1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// SLSA `builder.id` (from the predicate; informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// Source repository URL (`1.12`, or built from legacy `1.5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// Immutable numeric repository id (`1.15`): survives renames, catches resurrected names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repository_id: Option<String>,
    /// Repository owner URL (`1.16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repository_owner: Option<String>,
    /// Immutable numeric owner id (`1.17`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repository_owner_id: Option<String>,
    /// Commit built (`1.13`, legacy `1.3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_digest: Option<String>,
    /// Git ref built (`1.14`, legacy `1.6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// Build signer URI (`1.9`): the workflow that held the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_signer_uri: Option<String>,
    /// Build config URI (`1.18`): the top-level workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_config_uri: Option<String>,
    /// Workflow file inside the repository, e.g. `.github/workflows/release.yml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_path: Option<String>,
    /// Ref the workflow file was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_ref: Option<String>,
    /// `github-hosted` or `self-hosted` (`1.11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_environment: Option<String>,
    /// Event that triggered the build (`1.20`, legacy `1.2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// Link to the CI run (`1.21`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_invocation_uri: Option<String>,
    /// `public` or `private` at signing time (`1.22`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_visibility: Option<String>,
    /// CI deployment environment (`1.23`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_environment: Option<String>,
}

impl PublisherFacts {
    pub(crate) fn from_parts(id: &CertIdentity, predicate: &Value) -> PublisherFacts {
        let ext = |n: u32| id.ext(n).map(str::to_string);
        let either = |new: u32, old: u32| ext(new).or_else(|| ext(old));
        let issuer = either(8, 1);
        let source_repository = ext(12).or_else(|| {
            // Legacy certificates only carry `owner/repo` (1.5) for GitHub.
            (issuer.as_deref() == Some(GITHUB_ISSUER))
                .then(|| ext(5).map(|r| format!("https://github.com/{r}")))
                .flatten()
        });
        let build_config_uri = ext(18);
        let build_signer_uri = ext(9);
        let workflow_uri = build_config_uri
            .clone()
            .or_else(|| build_signer_uri.clone())
            .or_else(|| {
                id.san
                    .clone()
                    .filter(|s| s.starts_with("https://") && s.contains('@'))
            });
        let (workflow_path, workflow_ref) = workflow_uri
            .as_deref()
            .map(|u| split_workflow(u, source_repository.as_deref()))
            .unwrap_or_default();
        let builder = get(predicate, "runDetails")
            .and_then(|r| get(r, "builder"))
            .or_else(|| get(predicate, "builder"))
            .and_then(|b| get_str(b, "id"))
            .map(str::to_string);
        PublisherFacts {
            identity: id.san.clone(),
            issuer,
            builder,
            source_repository,
            source_repository_id: ext(15),
            source_repository_owner: ext(16),
            source_repository_owner_id: ext(17),
            source_digest: either(13, 3),
            source_ref: either(14, 6),
            build_signer_uri,
            build_config_uri,
            workflow_path,
            workflow_ref,
            runner_environment: ext(11),
            trigger: either(20, 2),
            run_invocation_uri: ext(21),
            repository_visibility: ext(22),
            deployment_environment: ext(23),
        }
    }
}

/// `https://github.com/o/r/.github/workflows/x.yml@refs/heads/main` →
/// (`.github/workflows/x.yml`, `refs/heads/main`).
fn split_workflow(uri: &str, repo: Option<&str>) -> (Option<String>, Option<String>) {
    let (path_part, git_ref) = match uri.rsplit_once('@') {
        Some((p, r)) => (p, Some(r.to_string())),
        None => (uri, None),
    };
    let in_repo = repo
        .and_then(|r| path_part.strip_prefix(r.trim_end_matches('/')))
        .and_then(|rest| rest.strip_prefix('/'))
        .or_else(|| {
            // No repository claim: drop scheme, host, owner and repository.
            let rest = path_part.split_once("://").map_or(path_part, |(_, r)| r);
            rest.splitn(4, '/').nth(3)
        });
    (
        in_repo.filter(|p| !p.is_empty()).map(str::to_string),
        git_ref.filter(|r| !r.is_empty()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn modern_certificate() {
        let mut fulcio = BTreeMap::new();
        for (n, v) in [
            (8, GITHUB_ISSUER),
            (
                9,
                "https://github.com/nuxt/nuxt/.github/workflows/release.yml@refs/heads/main",
            ),
            (11, "github-hosted"),
            (12, "https://github.com/nuxt/nuxt"),
            (13, "412786a1"),
            (14, "refs/heads/main"),
            (15, "71995937"),
            (17, "23360933"),
            (
                18,
                "https://github.com/nuxt/nuxt/.github/workflows/release.yml@refs/heads/main",
            ),
        ] {
            fulcio.insert(n, v.to_string());
        }
        let id = CertIdentity {
            san: Some(
                "https://github.com/nuxt/nuxt/.github/workflows/release.yml@refs/heads/main".into(),
            ),
            fulcio,
        };
        let pred = serde_json::json!({"runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}});
        let f = PublisherFacts::from_parts(&id, &pred);
        assert_eq!(
            f.source_repository.as_deref(),
            Some("https://github.com/nuxt/nuxt")
        );
        assert_eq!(f.source_repository_id.as_deref(), Some("71995937"));
        assert_eq!(f.source_repository_owner_id.as_deref(), Some("23360933"));
        assert_eq!(
            f.workflow_path.as_deref(),
            Some(".github/workflows/release.yml")
        );
        assert_eq!(f.workflow_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(
            f.builder.as_deref(),
            Some("https://github.com/actions/runner/github-hosted")
        );
        assert_eq!(f.source_digest.as_deref(), Some("412786a1"));
    }

    #[test]
    fn legacy_certificate_and_email_identity() {
        let mut fulcio = BTreeMap::new();
        fulcio.insert(1, GITHUB_ISSUER.to_string());
        fulcio.insert(5, "sigstore/sigstore-js".to_string());
        let id = CertIdentity {
            san: Some("https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v1.0.0".into()),
            fulcio,
        };
        let f = PublisherFacts::from_parts(&id, &serde_json::json!({"builder": {"id": "b"}}));
        assert_eq!(
            f.source_repository.as_deref(),
            Some("https://github.com/sigstore/sigstore-js")
        );
        assert_eq!(
            f.workflow_path.as_deref(),
            Some(".github/workflows/publish.yml")
        );
        assert_eq!(f.workflow_ref.as_deref(), Some("refs/tags/v1.0.0"));
        assert_eq!(f.builder.as_deref(), Some("b"));

        let person = CertIdentity {
            san: Some("brian@dehamer.com".into()),
            fulcio: BTreeMap::new(),
        };
        let f = PublisherFacts::from_parts(&person, &Value::Null);
        assert_eq!(f.identity.as_deref(), Some("brian@dehamer.com"));
        assert_eq!(f.workflow_path, None);
        assert_eq!(f.source_repository, None);
    }

    #[test]
    fn workflow_split_without_repository() {
        assert_eq!(
            split_workflow(
                "https://gitlab.com/g/p/.gitlab-ci.yml@refs/heads/main",
                None
            ),
            (
                Some(".gitlab-ci.yml".into()),
                Some("refs/heads/main".into())
            )
        );
        assert_eq!(split_workflow("https://x", None), (None, None));
    }
}
