//! A version document: the `package.json` inside a tarball, and each entry of a packument's
//! `versions` (which adds `dist`, `_npmUser` and friends). One lenient type serves both.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Lifecycle scripts npm runs when a package is installed as a dependency.
/// (`prepare` also runs for git dependencies; see [`Manifest::install_hooks`].)
pub const LIFECYCLE_INSTALL_HOOKS: &[&str] = &["preinstall", "install", "postinstall"];

/// A person as npm records one (`{name, email}`; strings like `"Ann <a@x>"` are split).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Person {
    /// A person written in one string, as npm and PyPI do: `Ann <a@x.example>`,
    /// `a@x.example` or `Ann`. An "address" without `@` is not one.
    pub fn parse(s: &str) -> Person {
        let s = s.trim();
        let (name, email) = match (s.find('<'), s.rfind('>')) {
            (Some(a), Some(b)) if a < b => (s[..a].trim(), Some(s[a + 1..b].trim())),
            _ if s.contains('@') && !s.contains(char::is_whitespace) => ("", Some(s)),
            _ => (s, None),
        };
        Person {
            name: (!name.is_empty()).then(|| name.to_string()),
            email: email.filter(|e| e.contains('@')).map(str::to_string),
        }
    }

    /// A person from a manifest or packument field: a string ([`Person::parse`]) or an
    /// object with `name` and `email`.
    pub fn from_json(v: &Value) -> Option<Person> {
        match v {
            Value::String(s) => Some(Person::parse(s)),
            Value::Object(m) => Some(Person {
                name: m.get("name").and_then(Value::as_str).map(str::to_string),
                email: m
                    .get("email")
                    .and_then(Value::as_str)
                    .filter(|e| e.contains('@'))
                    .map(str::to_string),
            }),
            _ => None,
        }
    }

    /// The domain of the e-mail address, lower-cased.
    pub fn email_domain(&self) -> Option<String> {
        self.email
            .as_deref()
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase())
    }
}

/// `_npmUser.trustedPublisher`: present when the version was published through OIDC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedPublisher {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "oidcConfigId")]
    pub oidc_config_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistSignature {
    pub keyid: String,
    pub sig: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistAttestations {
    pub url: Option<String>,
    /// `provenance.predicateType`, e.g. `https://slsa.dev/provenance/v1`.
    pub provenance_predicate: Option<String>,
}

/// `dist` of a version document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dist {
    pub tarball: Option<String>,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
    #[serde(default)]
    pub signatures: Vec<DistSignature>,
    pub attestations: Option<DistAttestations>,
    pub file_count: Option<u64>,
    pub unpacked_size: Option<u64>,
}

impl Dist {
    fn from_value(v: &Value) -> Dist {
        let Some(m) = v.as_object() else {
            return Dist::default();
        };
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let signatures = m
            .get("signatures")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        Some(DistSignature {
                            keyid: e.get("keyid")?.as_str()?.to_string(),
                            sig: e.get("sig")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let attestations =
            m.get("attestations")
                .and_then(Value::as_object)
                .map(|a| DistAttestations {
                    url: a.get("url").and_then(Value::as_str).map(str::to_string),
                    provenance_predicate: a
                        .get("provenance")
                        .and_then(|p| p.get("predicateType"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
        Dist {
            tarball: s("tarball"),
            integrity: s("integrity"),
            shasum: s("shasum"),
            signatures,
            attestations,
            file_count: m.get("fileCount").and_then(Value::as_u64),
            unpacked_size: m.get("unpackedSize").and_then(Value::as_u64),
        }
    }
}

/// A version document / package.json. Every field is optional; malformed fields are dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    pub main: Option<String>,
    /// `"module"` or `"commonjs"`.
    pub module_type: Option<String>,
    pub scripts: BTreeMap<String, String>,
    pub dependencies: BTreeMap<String, String>,
    pub dev_dependencies: BTreeMap<String, String>,
    pub optional_dependencies: BTreeMap<String, String>,
    pub peer_dependencies: BTreeMap<String, String>,
    pub bundle_dependencies: Vec<String>,
    /// `bin` normalised to command → path (a string `bin` is keyed by the package basename).
    pub bin: BTreeMap<String, String>,
    /// Whether `exports` is present (entry points beyond `main`).
    pub exports: Option<Value>,
    pub gypfile: Option<bool>,
    pub has_install_script: Option<bool>,
    pub deprecated: Option<String>,
    pub git_head: Option<String>,
    pub npm_version: Option<String>,
    pub node_version: Option<String>,
    pub npm_user: Option<Person>,
    pub trusted_publisher: Option<TrustedPublisher>,
    pub maintainers: Vec<Person>,
    pub repository: Option<String>,
    pub dist: Dist,
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

impl Manifest {
    /// Parse a `package.json` / version document. Fails only when the bytes are not a JSON
    /// object; wrong-typed fields are dropped.
    pub fn from_slice(bytes: &[u8]) -> Result<Manifest, serde_json::Error> {
        let v: Value = serde_json::from_slice(bytes)?;
        if !v.is_object() {
            return Err(serde::de::Error::custom(
                "package.json is not a JSON object",
            ));
        }
        Ok(Manifest::from_value(&v))
    }

    pub fn from_value(v: &Value) -> Manifest {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let name = s("name");
        let bin = match v.get("bin") {
            Some(Value::String(p)) => {
                let key = name
                    .as_deref()
                    .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
                    .unwrap_or_default();
                BTreeMap::from([(key, p.clone())])
            }
            other => string_map(other),
        };
        let bundle_dependencies = v
            .get("bundleDependencies")
            .or_else(|| v.get("bundledDependencies"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let npm_user_v = v.get("_npmUser");
        let trusted_publisher = npm_user_v
            .and_then(|u| u.get("trustedPublisher"))
            .filter(|t| t.is_object())
            .map(|t| TrustedPublisher {
                id: t.get("id").and_then(Value::as_str).map(str::to_string),
                oidc_config_id: t
                    .get("oidcConfigId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        let repository = match v.get("repository") {
            Some(Value::String(r)) => Some(r.clone()),
            Some(Value::Object(m)) => m.get("url").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        Manifest {
            version: s("version"),
            main: s("main"),
            module_type: s("type"),
            scripts: string_map(v.get("scripts")),
            dependencies: string_map(v.get("dependencies")),
            dev_dependencies: string_map(v.get("devDependencies")),
            optional_dependencies: string_map(v.get("optionalDependencies")),
            peer_dependencies: string_map(v.get("peerDependencies")),
            bundle_dependencies,
            bin,
            exports: v.get("exports").cloned(),
            gypfile: v.get("gypfile").and_then(Value::as_bool),
            has_install_script: v.get("hasInstallScript").and_then(Value::as_bool),
            deprecated: s("deprecated").filter(|d| !d.is_empty()),
            git_head: s("gitHead"),
            npm_version: s("_npmVersion"),
            node_version: s("_nodeVersion"),
            npm_user: npm_user_v.and_then(Person::from_json),
            trusted_publisher,
            maintainers: v
                .get("maintainers")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Person::from_json).collect())
                .unwrap_or_default(),
            repository,
            dist: v.get("dist").map(Dist::from_value).unwrap_or_default(),
            name,
        }
    }

    /// The lifecycle hooks that run when this package is installed from the registry, with
    /// their commands. `binding_gyp` says whether the tarball has a `binding.gyp`, which makes npm
    /// run an implicit `node-gyp rebuild` install script when none is declared.
    pub fn install_hooks(&self, binding_gyp: bool) -> BTreeMap<String, String> {
        let mut hooks: BTreeMap<String, String> = self
            .scripts
            .iter()
            .filter(|(k, _)| LIFECYCLE_INSTALL_HOOKS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if binding_gyp && !hooks.contains_key("install") && !hooks.contains_key("preinstall") {
            hooks.insert("install".into(), "node-gyp rebuild".into());
        }
        hooks
    }

    /// Every runtime dependency (prod, optional, peer) with its range. Dev dependencies are not
    /// installed for consumers, so they are not part of what an update can bring in.
    pub fn runtime_dependencies(&self) -> BTreeMap<String, String> {
        let mut all = self.peer_dependencies.clone();
        all.extend(self.optional_dependencies.clone());
        all.extend(self.dependencies.clone());
        all
    }
}

impl<'de> Deserialize<'de> for Manifest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Manifest::from_value(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_in_one_string() {
        let p = |s| {
            let p = Person::parse(s);
            (p.name, p.email)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(p("Ann <a@x.example>"), (some("Ann"), some("a@x.example")));
        assert_eq!(p(" a@x.example "), (None, some("a@x.example")));
        assert_eq!(p("Ann Lee"), (some("Ann Lee"), None));
        // Not an address: no `@`.
        assert_eq!(p("Ann <nobody>"), (some("Ann"), None));
        // A URL after the address, as npm allows: `Ann <a@x> (https://…)`.
        assert_eq!(
            p("Ann <a@x.example> (https://x.example)"),
            (some("Ann"), some("a@x.example"))
        );
    }

    #[test]
    fn lenient_fields() {
        let m = Manifest::from_slice(
            br#"{"name":"@s/tool","version":"1.0.0","bin":"cli.js","scripts":{"postinstall":"node x.js","bad":5},
                "dependencies":{"a":"^1"},"optionalDependencies":[],"_npmUser":"Ann <ann@corp.example>",
                "maintainers":[{"name":"ann","email":"ann@corp.example"}, 7],
                "dist":{"integrity":"sha512-x","signatures":[{"keyid":"k","sig":"s"},{"nope":1}],
                        "attestations":{"url":"u","provenance":{"predicateType":"https://slsa.dev/provenance/v1"}}}}"#,
        )
        .unwrap();
        assert_eq!(m.bin.get("tool").map(String::as_str), Some("cli.js"));
        assert_eq!(m.scripts.len(), 1);
        assert!(m.optional_dependencies.is_empty());
        assert_eq!(
            m.npm_user.as_ref().unwrap().email_domain().as_deref(),
            Some("corp.example")
        );
        assert_eq!(m.maintainers.len(), 1);
        assert_eq!(m.dist.signatures.len(), 1);
        assert_eq!(
            m.dist
                .attestations
                .as_ref()
                .unwrap()
                .provenance_predicate
                .as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
        assert_eq!(m.install_hooks(false).len(), 1);
    }

    #[test]
    fn implicit_node_gyp() {
        let m = Manifest::default();
        assert_eq!(
            m.install_hooks(true).get("install").map(String::as_str),
            Some("node-gyp rebuild")
        );
        assert!(m.install_hooks(false).is_empty());
        assert!(Manifest::from_slice(b"[1]").is_err());
        assert!(Manifest::from_slice(b"{").is_err());
    }
}
