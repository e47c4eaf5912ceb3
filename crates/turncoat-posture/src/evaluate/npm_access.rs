//! npm's per-package settings read with a token: "require 2FA to publish" and the
//! collaborators. Sans-IO: the documents in, facts out.
//!
//! Endpoints (the registry answers them only with a token that may read the package's
//! settings):
//! - `GET /-/package/<name>/access` → `{"access": "public", "publish_requires_tfa": true,
//!   "automation_token_overrides_tfa": false}`. The npm CLI only *writes* these fields
//!   (libnpmaccess `setMfa`, `POST` to the same path with `publish_requires_tfa` /
//!   `automation_token_overrides_tfa`); pnpm's `access get status` reads them back from the
//!   `GET` (pnpm/pnpm `pnpm11/registry-access/commands/src/access.ts`, and
//!   `pnpm/crates/cli/src/cli_args/access.rs`'s `AccessStatus`).
//! - `GET /-/package/<name>/collaborators` → `{"user-or-org:team": "write" | "read" |
//!   "read-write" | "read-only"}` (libnpmaccess `getCollaborators`; the shapes are those of
//!   npm's own test fixtures, libnpmaccess `test/index.js` "ls-collaborators"). pnpm's tests
//!   also answer a list `[{"user": …, "permissions": …}]`; both are read.

use serde::Serialize;

/// What `publish_requires_tfa` and `automation_token_overrides_tfa` say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MfaLevel {
    /// No second factor to publish.
    None,
    /// 2FA required, but automation (and granular bypass) tokens publish without it.
    Automation,
    /// 2FA required for every publish, tokens cannot bypass it.
    Publish,
}

impl MfaLevel {
    /// Does a stolen token or password alone fail to publish?
    pub fn requires_2fa(self) -> bool {
        self == MfaLevel::Publish
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MfaLevel::None => "none",
            MfaLevel::Automation => "automation",
            MfaLevel::Publish => "publish",
        }
    }
}

/// The package's MFA level from its access document; `Ok(None)` when the document does not say
/// (the field is absent), an error when it is not what the registry sends.
pub fn mfa_level(doc: &[u8]) -> Result<Option<MfaLevel>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(doc).map_err(|e| format!("access settings are not JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or("access settings are not a JSON object")?;
    let flag = |k: &str| -> Result<Option<bool>, String> {
        match obj.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!("access settings: `{k}` is {other}, not a boolean")),
        }
    };
    Ok(match flag("publish_requires_tfa")? {
        None => None,
        Some(false) => Some(MfaLevel::None),
        // An absent override is npm's default for `mfa=publish`... unless it says otherwise.
        Some(true) if flag("automation_token_overrides_tfa")? == Some(true) => {
            Some(MfaLevel::Automation)
        }
        Some(true) => Some(MfaLevel::Publish),
    })
}

/// One collaborator: a user or an `org:team`, with its permission as the registry wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collaborator {
    pub name: String,
    pub permission: String,
}

impl Collaborator {
    /// Can it publish (`write` / `read-write`)?
    pub fn can_publish(&self) -> bool {
        matches!(self.permission.as_str(), "write" | "read-write")
    }

    pub fn is_team(&self) -> bool {
        self.name.contains(':')
    }
}

/// Most collaborators read from one document.
const MAX_COLLABORATORS: usize = 10_000;

/// The collaborators document, sorted by name.
pub fn collaborators(doc: &[u8]) -> Result<Vec<Collaborator>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(doc).map_err(|e| format!("collaborators are not JSON: {e}"))?;
    let mut out = Vec::new();
    match &v {
        serde_json::Value::Object(m) => {
            for (name, perm) in m {
                let permission = perm
                    .as_str()
                    .ok_or_else(|| format!("collaborator `{name}`: permission is not a string"))?;
                out.push(Collaborator {
                    name: name.clone(),
                    permission: permission.to_string(),
                });
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                let name = ["user", "username", "name"]
                    .iter()
                    .find_map(|k| item.get(k)?.as_str())
                    .ok_or("a collaborator entry has no user name")?;
                let permission = item
                    .get("permissions")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| format!("collaborator `{name}`: no permissions"))?;
                out.push(Collaborator {
                    name: name.to_string(),
                    permission: permission.to_string(),
                });
            }
        }
        _ => return Err("collaborators are neither a JSON object nor a list".into()),
    }
    if out.len() > MAX_COLLABORATORS {
        return Err(format!("more than {MAX_COLLABORATORS} collaborators"));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_levels() {
        let l = |s: &str| mfa_level(s.as_bytes());
        assert_eq!(l(r#"{"access":"public"}"#), Ok(None));
        assert_eq!(
            l(r#"{"publish_requires_tfa":false}"#),
            Ok(Some(MfaLevel::None))
        );
        assert_eq!(
            l(r#"{"publish_requires_tfa":true,"automation_token_overrides_tfa":true}"#),
            Ok(Some(MfaLevel::Automation))
        );
        assert_eq!(
            l(r#"{"publish_requires_tfa":true,"automation_token_overrides_tfa":false}"#),
            Ok(Some(MfaLevel::Publish))
        );
        assert!(l(r#"{"publish_requires_tfa":"yes"}"#).is_err());
        assert!(l("[]").is_err());
        assert!(!MfaLevel::Automation.requires_2fa());
    }

    #[test]
    fn collaborators_as_npm_and_pnpm_fixtures_send_them() {
        // libnpmaccess test/index.js, "ls-collaborators" (server side of the reply).
        let npm = collaborators(
            br#"{"myorg:myteam":"write","myorg:anotherteam":"read","myorg:thirdteam":"special-case"}"#,
        )
        .unwrap();
        assert_eq!(npm.len(), 3);
        assert!(npm.iter().all(Collaborator::is_team));
        assert_eq!(npm.iter().filter(|c| c.can_publish()).count(), 1);
        // pnpm11/registry-access/commands/test/access.ts, "list collaborators".
        let pnpm = collaborators(
            br#"[{"user":"alice","email":"alice@example.com","permissions":"read-write"},{"user":"bob","email":"bob@example.com","permissions":"read-only"}]"#,
        )
        .unwrap();
        assert_eq!(pnpm[0].name, "alice");
        assert!(pnpm[0].can_publish() && !pnpm[1].can_publish());
        assert!(collaborators(br#"{"a": 1}"#).is_err());
        assert!(collaborators(b"\"x\"").is_err());
    }
}
