//! Which index a project installs from: `--index-url`, `PIP_INDEX_URL`, uv's
//! `UV_DEFAULT_INDEX`/`UV_INDEX_URL` and `uv.toml`, and pip's configuration files, in that
//! order; PyPI otherwise. Extra indexes from every source are collected too (each one is a
//! dependency-confusion risk the caller should report).
//!
//! pip's configuration files are INI read by Python's `configparser` (values continue on
//! indented lines; `extra-index-url` holds several URLs). The few keys needed here are read
//! by a small reader in this module rather than a general INI crate, whose continuation
//! rules differ from configparser's.

use std::path::{Path, PathBuf};

use url::Url;

use crate::error::PypiError;

/// PyPI's simple index.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";

/// The resolved index configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexConfig {
    pub index_url: Url,
    /// Where `index_url` came from (`--index-url`, `PIP_INDEX_URL`, a file path, `default`).
    pub source: String,
    pub extra_index_urls: Vec<Url>,
}

/// Everything [`IndexConfig::resolve`] looks at, gathered by the caller (sans-IO).
#[derive(Debug, Default, Clone)]
pub struct ConfigInputs {
    /// `--index-url`.
    pub explicit: Option<String>,
    /// Environment variables (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `UV_DEFAULT_INDEX`,
    /// `UV_INDEX_URL`, `UV_EXTRA_INDEX_URL`, `UV_INDEX`).
    pub env: Vec<(String, String)>,
    /// `uv.toml` of the project: (path, text).
    pub uv_toml: Option<(String, String)>,
    /// pip configuration files, lowest priority first: (path, text).
    pub pip_conf: Vec<(String, String)>,
}

fn parse_url(s: &str, from: &str) -> Result<Url, PypiError> {
    let bad = |reason: String| PypiError::Config {
        path: from.to_string(),
        reason,
    };
    let u = Url::parse(s.trim()).map_err(|e| bad(format!("invalid index URL: {e}")))?;
    if !matches!(u.scheme(), "https" | "http" | "file") {
        return Err(bad(format!(
            "index URL scheme {:?} is not supported",
            u.scheme()
        )));
    }
    Ok(u)
}

/// `key = value` pairs of the `[global]` and `[install]` sections, continuation lines joined.
fn pip_ini(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if let Some(s) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.trim().to_ascii_lowercase();
            continue;
        }
        if !matches!(section.as_str(), "global" | "install") {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push('\n');
                last.1.push_str(trimmed);
            }
            continue;
        }
        if let Some((k, v)) = trimmed.split_once(['=', ':']) {
            let key = k.trim().to_ascii_lowercase().replace('_', "-");
            out.push((key, v.trim().to_string()));
        }
    }
    out
}

impl IndexConfig {
    /// Resolve the inputs (sans-IO).
    pub fn resolve(inputs: &ConfigInputs) -> Result<IndexConfig, PypiError> {
        let env = |k: &str| {
            inputs
                .env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.trim().is_empty())
        };
        let mut primary: Option<(String, String)> = None;
        let mut extras: Vec<(String, String)> = Vec::new();
        // Lowest priority first; a later primary replaces an earlier one.
        for (path, text) in &inputs.pip_conf {
            for (k, v) in pip_ini(text) {
                match k.as_str() {
                    "index-url" => primary = Some((v, path.clone())),
                    "extra-index-url" => {
                        extras.extend(v.split_whitespace().map(|u| (u.to_string(), path.clone())))
                    }
                    _ => {}
                }
            }
        }
        if let Some((path, text)) = &inputs.uv_toml {
            uv_toml(path, text, &mut primary, &mut extras)?;
        }
        for k in ["UV_INDEX_URL", "UV_DEFAULT_INDEX", "PIP_INDEX_URL"] {
            if let Some(v) = env(k) {
                primary = Some((v, k.to_string()));
            }
        }
        for k in ["PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX"] {
            if let Some(v) = env(k) {
                extras.extend(v.split_whitespace().map(|u| (u.to_string(), k.to_string())));
            }
        }
        if let Some(e) = &inputs.explicit {
            primary = Some((e.clone(), "--index-url".to_string()));
        }
        let (url, source) = primary.unwrap_or_else(|| (PYPI_SIMPLE.into(), "default".into()));
        let mut index_url = parse_url(&url, &source)?;
        if !index_url.path().ends_with('/') {
            let p = format!("{}/", index_url.path());
            index_url.set_path(&p);
        }
        let mut extra_index_urls = Vec::new();
        for (u, from) in extras {
            // uv's `UV_INDEX` entries may be `name=url`.
            let u = u.split_once('=').map_or(u.as_str(), |(_, r)| r);
            let u = parse_url(u, &from)?;
            if u != index_url && !extra_index_urls.contains(&u) {
                extra_index_urls.push(u);
            }
        }
        Ok(IndexConfig {
            index_url,
            source,
            extra_index_urls,
        })
    }

    /// Gather the inputs from the environment and the usual files, then resolve.
    pub fn load(explicit: Option<&str>, project: &Path) -> Result<IndexConfig, PypiError> {
        const VARS: &[&str] = &[
            "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL",
            "UV_DEFAULT_INDEX",
            "UV_INDEX_URL",
            "UV_EXTRA_INDEX_URL",
            "UV_INDEX",
        ];
        let env = VARS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let read = |p: &Path| -> Option<(String, String)> {
            let meta = std::fs::metadata(p).ok()?;
            if !meta.is_file() || meta.len() > 1024 * 1024 {
                return None;
            }
            Some((p.display().to_string(), std::fs::read_to_string(p).ok()?))
        };
        let mut files: Vec<PathBuf> = vec!["/etc/xdg/pip/pip.conf".into(), "/etc/pip.conf".into()];
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
            files.push(home.join(".pip/pip.conf"));
            files.push(home.join(".config/pip/pip.conf"));
        }
        if let Some(venv) = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from) {
            files.push(venv.join("pip.conf"));
        }
        if let Some(f) = std::env::var_os("PIP_CONFIG_FILE").map(PathBuf::from) {
            files.push(f);
        }
        let inputs = ConfigInputs {
            explicit: explicit.map(str::to_string),
            env,
            uv_toml: read(&project.join("uv.toml")),
            pip_conf: files.iter().filter_map(|p| read(p)).collect(),
        };
        IndexConfig::resolve(&inputs)
    }
}

/// uv.toml: `index-url`, `extra-index-url`, and `[[index]]` tables (`default = true` is the
/// primary; others are extra).
fn uv_toml(
    path: &str,
    text: &str,
    primary: &mut Option<(String, String)>,
    extras: &mut Vec<(String, String)>,
) -> Result<(), PypiError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| PypiError::Config {
        path: path.to_string(),
        reason: e.message().to_string(),
    })?;
    if let Some(u) = doc.get("index-url").and_then(toml::Value::as_str) {
        *primary = Some((u.to_string(), path.to_string()));
    }
    for u in doc
        .get("extra-index-url")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_str)
    {
        extras.push((u.to_string(), path.to_string()));
    }
    for ix in doc
        .get("index")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(u) = ix.get("url").and_then(toml::Value::as_str) else {
            continue;
        };
        if ix.get("default").and_then(toml::Value::as_bool) == Some(true) {
            *primary = Some((u.to_string(), path.to_string()));
        } else {
            extras.push((u.to_string(), path.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn default_is_pypi() {
        let c = IndexConfig::resolve(&ConfigInputs::default()).unwrap();
        assert_eq!(c.index_url.as_str(), PYPI_SIMPLE);
        assert_eq!(c.source, "default");
    }

    #[test]
    fn precedence() {
        let mut i = ConfigInputs {
            pip_conf: vec![
                ("/etc/pip.conf".into(), "[global]\nindex-url = https://a.example/simple\n".into()),
                (
                    "~/.config/pip/pip.conf".into(),
                    "[global]\nindex_url = https://b.example/simple\nextra-index-url =\n    https://x.example/simple\n    https://y.example/simple\n".into(),
                ),
            ],
            ..Default::default()
        };
        let c = IndexConfig::resolve(&i).unwrap();
        assert_eq!(c.index_url.as_str(), "https://b.example/simple/");
        assert_eq!(c.extra_index_urls.len(), 2);
        i.uv_toml = Some((
            "uv.toml".into(),
            "[[index]]\nurl = \"https://uv.example/simple\"\ndefault = true\n".into(),
        ));
        assert_eq!(IndexConfig::resolve(&i).unwrap().source, "uv.toml");
        i.env = env(&[("PIP_INDEX_URL", "https://env.example/simple/")]);
        assert_eq!(IndexConfig::resolve(&i).unwrap().source, "PIP_INDEX_URL");
        i.explicit = Some("https://cli.example/simple".into());
        let c = IndexConfig::resolve(&i).unwrap();
        assert_eq!(c.index_url.as_str(), "https://cli.example/simple/");
    }

    #[test]
    fn bad_urls_fail() {
        let i = ConfigInputs {
            explicit: Some("ftp://x/simple".into()),
            ..Default::default()
        };
        assert!(IndexConfig::resolve(&i).is_err());
    }
}
