//! Registry configuration: which registry serves which package, and which credential goes to
//! which host. Read from `.npmrc` files the way npm reads them.
//!
//! Precedence: an explicit `--registry` override, then the project's `.npmrc`, then the user's
//! (`$NPM_CONFIG_USERCONFIG`, else `$HOME/.npmrc`), then `https://registry.npmjs.org/`.
//! Understood keys: `registry`, `@scope:registry`, `//host/path/:_authToken`,
//! `//host/path/:_auth`, `//host/path/:username` + `:_password`, and the legacy top-level
//! `_auth` / `_authToken` (bound to the default registry). `${VAR}` is expanded in keys and
//! values (`${VAR?}` expands to nothing when unset); a missing variable is an error naming it.
//! Other keys are ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use turncoat_npm::PackageName;
use url::Url;

/// A secret string (token or `user:password`). Its `Debug` is redacted and it has no `Display`,
/// so it cannot end up in an error message or a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for building the request header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How to authenticate to one host+path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `_authToken`: `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `_auth` or `username` + `_password`: `Authorization: Basic <base64(user:password)>`.
    Basic(Secret),
}

impl Credential {
    pub(crate) fn header_value(&self) -> String {
        match self {
            Credential::Bearer(t) => format!("Bearer {}", t.expose()),
            Credential::Basic(b) => format!("Basic {}", b.expose()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}:{line}: environment variable {var} is not set (referenced as ${{{var}}})",
        path.display()
    )]
    MissingEnv {
        path: PathBuf,
        line: usize,
        var: String,
    },
    #[error("invalid registry URL {url:?} (from {origin}): {reason}")]
    InvalidRegistry {
        url: String,
        origin: String,
        reason: String,
    },
    #[error("{}:{line}: {reason}", path.display())]
    InvalidAuth {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// One credential and the nerf-darted prefix (`//host[:port]/path/`) it is limited to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthEntry {
    prefix: String,
    credential: Credential,
}

/// Resolved registry configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    registry: Url,
    scopes: BTreeMap<String, Url>,
    auth: Vec<AuthEntry>,
    sources: Vec<PathBuf>,
}

/// Hosts whose tarball URLs npm rewrites to the configured registry (`replace-registry-host`).
/// `registry.yarnpkg.com` is a CNAME of the npm registry that yarn lockfiles write.
pub const DEFAULT_REGISTRY_HOSTS: &[&str] = &["registry.npmjs.org", "registry.yarnpkg.com"];

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            // A constant that always parses.
            registry: Url::parse(turncoat_npm::DEFAULT_REGISTRY)
                .unwrap_or_else(|_| unreachable!("default registry URL parses")),
            scopes: BTreeMap::new(),
            auth: Vec::new(),
            sources: Vec::new(),
        }
    }
}

impl RegistryConfig {
    /// Read `.npmrc` files from `project_dir` and the user's home, with the process environment.
    pub fn load(
        project_dir: &Path,
        override_registry: Option<&str>,
    ) -> Result<RegistryConfig, ConfigError> {
        Self::load_with_env(project_dir, override_registry, &|k| std::env::var(k).ok())
    }

    /// [`RegistryConfig::load`] with an explicit environment (tests, embedding).
    pub fn load_with_env(
        project_dir: &Path,
        override_registry: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<RegistryConfig, ConfigError> {
        let user = env("NPM_CONFIG_USERCONFIG")
            .or_else(|| env("npm_config_userconfig"))
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".npmrc")));
        let project = project_dir.join(".npmrc");
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        // Lowest precedence first.
        for path in user.into_iter().chain(std::iter::once(project)) {
            if files.iter().any(|(p, _)| same_file(p, &path)) {
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((path, text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(ConfigError::Read { path, source }),
            }
        }
        let refs: Vec<(&Path, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        Self::from_npmrc(&refs, override_registry, env)
    }

    /// Build from `.npmrc` texts given lowest precedence first (user, then project).
    pub fn from_npmrc(
        files: &[(&Path, &str)],
        override_registry: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<RegistryConfig, ConfigError> {
        // key → (value, file, line); later files overwrite earlier ones.
        let mut merged: BTreeMap<String, (String, PathBuf, usize)> = BTreeMap::new();
        let mut sources = Vec::new();
        for (path, text) in files {
            sources.push(path.to_path_buf());
            for (line, key, value) in parse_ini(text, path, env)? {
                merged.insert(key, (value, path.to_path_buf(), line));
            }
        }

        let registry = match override_registry {
            Some(r) => parse_registry_url(r, "--registry")?,
            None => match merged.get("registry") {
                Some((v, p, l)) => parse_registry_url(v, &format!("{}:{l}", p.display()))?,
                None => RegistryConfig::default().registry,
            },
        };

        let mut scopes = BTreeMap::new();
        for (key, (value, path, line)) in &merged {
            if let Some(scope) = key
                .strip_prefix('@')
                .and_then(|k| k.strip_suffix(":registry"))
            {
                let url = parse_registry_url(value, &format!("{}:{line}", path.display()))?;
                scopes.insert(scope.to_string(), url);
            }
        }

        // Group nerf-darted fields by prefix.
        let mut by_prefix: BTreeMap<String, BTreeMap<&str, (&str, &Path, usize)>> = BTreeMap::new();
        for (key, (value, path, line)) in &merged {
            if !key.starts_with("//") {
                continue;
            }
            let Some((prefix, field)) = key.rsplit_once(':') else {
                continue;
            };
            if !matches!(field, "_authToken" | "_auth" | "username" | "_password") {
                continue;
            }
            let prefix = normalise_prefix(prefix);
            by_prefix
                .entry(prefix)
                .or_default()
                .insert(field, (value.as_str(), path.as_path(), *line));
        }
        // Legacy top-level credentials apply to the default registry.
        let default_prefix = nerf_dart(&registry);
        for field in ["_authToken", "_auth"] {
            if let Some((value, path, line)) = merged.get(field) {
                let entry = by_prefix.entry(default_prefix.clone()).or_default();
                entry
                    .entry(field)
                    .or_insert((value.as_str(), path.as_path(), *line));
            }
        }

        let mut auth = Vec::new();
        for (prefix, fields) in by_prefix {
            let credential = if let Some((token, ..)) = fields.get("_authToken") {
                Credential::Bearer(Secret::new(*token))
            } else if let Some((basic, ..)) = fields.get("_auth") {
                Credential::Basic(Secret::new(*basic))
            } else if let (Some((user, ..)), Some((pass, path, line))) =
                (fields.get("username"), fields.get("_password"))
            {
                let decoded = STANDARD
                    .decode(pass.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| ConfigError::InvalidAuth {
                        path: path.to_path_buf(),
                        line: *line,
                        reason: format!("{prefix}:_password is not base64"),
                    })?;
                Credential::Basic(Secret::new(STANDARD.encode(format!("{user}:{decoded}"))))
            } else {
                continue;
            };
            auth.push(AuthEntry { prefix, credential });
        }
        // Longest prefix first, so the most specific credential wins.
        auth.sort_by_key(|a| std::cmp::Reverse(a.prefix.len()));

        Ok(RegistryConfig {
            registry,
            scopes,
            auth,
            sources,
        })
    }

    /// A configuration with just a default registry (no scopes, no credentials).
    pub fn with_registry(url: &str) -> Result<RegistryConfig, ConfigError> {
        Ok(RegistryConfig {
            registry: parse_registry_url(url, "argument")?,
            ..RegistryConfig::default()
        })
    }

    /// Add (or replace) a bearer token for a URL prefix such as `https://host/path/`.
    pub fn with_token(
        mut self,
        url_prefix: &str,
        token: &str,
    ) -> Result<RegistryConfig, ConfigError> {
        let url = parse_registry_url(url_prefix, "argument")?;
        let prefix = nerf_dart(&url);
        self.auth.retain(|a| a.prefix != prefix);
        self.auth.push(AuthEntry {
            prefix,
            credential: Credential::Bearer(Secret::new(token)),
        });
        self.auth.sort_by_key(|a| std::cmp::Reverse(a.prefix.len()));
        Ok(self)
    }

    /// Set the registry for one scope (`scope` with or without the leading `@`).
    pub fn with_scope_registry(
        mut self,
        scope: &str,
        url: &str,
    ) -> Result<RegistryConfig, ConfigError> {
        let url = parse_registry_url(url, "argument")?;
        self.scopes
            .insert(scope.trim_start_matches('@').to_string(), url);
        Ok(self)
    }

    /// The default registry (always ends in `/`).
    pub fn registry(&self) -> &Url {
        &self.registry
    }

    /// The registry serving `name`: its scope's registry if one is configured, else the default.
    pub fn registry_for(&self, name: &PackageName) -> &Url {
        name.scope()
            .and_then(|s| self.scopes.get(s))
            .unwrap_or(&self.registry)
    }

    pub fn scope_registries(&self) -> &BTreeMap<String, Url> {
        &self.scopes
    }

    /// The `.npmrc` files that were read, lowest precedence first.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// The credential for a request to `url`: the one with the longest `//host[:port]/path/`
    /// prefix of the URL. Never one configured for another host.
    pub(crate) fn credential_for(&self, url: &Url) -> Option<&Credential> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let target = nerf_dart(url);
        self.auth
            .iter()
            .find(|a| target.starts_with(&a.prefix))
            .map(|a| &a.credential)
    }

    /// Whether any credential is configured (for diagnostics; never shows the secret).
    pub fn has_credentials(&self) -> bool {
        !self.auth.is_empty()
    }

    /// True when `url` has the scheme, host and port of a configured registry. A registry the
    /// user configured over plain http is their explicit choice, so it is allowed.
    pub(crate) fn is_configured_origin(&self, url: &Url) -> bool {
        std::iter::once(&self.registry)
            .chain(self.scopes.values())
            .any(|r| r.origin() == url.origin())
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// `//host[:port]/path/` of a URL, npm's "nerf dart" (scheme and credentials dropped).
pub(crate) fn nerf_dart(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("//{host}{port}{}", url.path())
}

/// `//Host:443/path` → `//host/path/` (lowercase host, default https port dropped, trailing `/`).
fn normalise_prefix(prefix: &str) -> String {
    let rest = prefix.trim_start_matches('/');
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host
        .strip_suffix(":443")
        .or_else(|| host.strip_suffix(":80"))
        .unwrap_or(&host);
    let mut out = format!("//{host}/{path}");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

pub(crate) fn parse_registry_url(s: &str, origin: &str) -> Result<Url, ConfigError> {
    let err = |reason: &str| ConfigError::InvalidRegistry {
        url: crate::http::redact_url_str(s),
        origin: origin.to_string(),
        reason: reason.to_string(),
    };
    let mut url = Url::parse(s.trim()).map_err(|e| err(&e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {
            if url.host_str().is_none() {
                return Err(err("no host"));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(err(
                    "credentials in the URL are not supported; use //host/:_authToken in .npmrc",
                ));
            }
        }
        "file" => {
            if url.to_file_path().is_err() {
                return Err(err("not an absolute local path"));
            }
        }
        _ => return Err(err("only https:, http: and file: registries are supported")),
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// `key = value` lines with `;`/`#` comments; `[sections]` and `key[]` arrays are ignored.
fn parse_ini(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(usize, String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty()
            || line.starts_with(';')
            || line.starts_with('#')
            || line.starts_with('[')
        {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.ends_with("[]") {
            continue;
        }
        let key = expand_env(key, path, line_no, env)?;
        let value = unquote(value.trim());
        let value = expand_env(&value, path, line_no, env)?;
        out.push((line_no, key, value));
    }
    Ok(out)
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        if let Ok(s) = serde_json::from_str::<String>(v) {
            return s;
        }
        return v[1..v.len() - 1].to_string();
    }
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        return v[1..v.len() - 1].to_string();
    }
    v.to_string()
}

/// npm's `${VAR}` / `${VAR?}` expansion; `\${VAR}` stays literal.
fn expand_env(
    s: &str,
    path: &Path,
    line: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        if let Some(b) = before.strip_suffix('\\') {
            out.push_str(b);
            out.push_str("${");
            rest = &after[2..];
            continue;
        }
        out.push_str(before);
        let Some(end) = after.find('}') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let inner = &after[2..end];
        let (var, optional) = match inner.strip_suffix('?') {
            Some(v) => (v, true),
            None => (inner, false),
        };
        match env(var) {
            Some(v) => out.push_str(&v),
            None if optional => {}
            None => {
                return Err(ConfigError::MissingEnv {
                    path: path.to_path_buf(),
                    line,
                    var: var.to_string(),
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn expands_env() {
        let env = env_of(&[("A", "x"), ("B", "y")]);
        let p = Path::new(".npmrc");
        assert_eq!(expand_env("${A}-${B}", p, 1, &env).unwrap(), "x-y");
        assert_eq!(expand_env("${C?}z", p, 1, &env).unwrap(), "z");
        assert_eq!(expand_env("\\${A}", p, 1, &env).unwrap(), "${A}");
        let err = expand_env("${NOPE}", p, 3, &env).unwrap_err().to_string();
        assert!(err.contains("NOPE") && err.contains(".npmrc:3"), "{err}");
    }

    #[test]
    fn prefixes_normalise() {
        assert_eq!(
            normalise_prefix("//Reg.Example:443/npm"),
            "//reg.example/npm/"
        );
        assert_eq!(normalise_prefix("//h:8080/"), "//h:8080/");
        let u = Url::parse("https://h.example/a/b/-/c.tgz").unwrap();
        assert_eq!(nerf_dart(&u), "//h.example/a/b/-/c.tgz");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let c = Credential::Bearer(Secret::new("npm_SECRET"));
        assert!(!format!("{c:?}").contains("npm_SECRET"));
    }
}
