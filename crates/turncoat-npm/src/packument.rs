//! The packument: everything the registry knows about one package (`GET /<name>`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::manifest::{Manifest, Person};

#[derive(Debug, thiserror::Error)]
pub enum PackumentError {
    #[error("packument is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("packument is not a JSON object")]
    NotAnObject,
    #[error("packument has no \"versions\" object")]
    NoVersions,
}

/// A full or abbreviated packument. Abbreviated ("corgi") documents have no `time`,
/// `maintainers` or `_npmUser`; [`Packument::is_abbreviated`] says which one this is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Packument {
    pub name: Option<String>,
    pub dist_tags: BTreeMap<String, String>,
    pub versions: BTreeMap<String, Manifest>,
    /// `time`: `created`, `modified` and one RFC 3339 timestamp per version ever published
    /// (unpublished versions keep their entry here).
    pub time: BTreeMap<String, String>,
    /// Current maintainers (a cache, "not authoritative").
    pub maintainers: Vec<Person>,
    /// `time.unpublished` present: the whole package was unpublished.
    pub unpublished: bool,
}

impl Packument {
    pub fn from_slice(bytes: &[u8]) -> Result<Packument, PackumentError> {
        let v: Value = serde_json::from_slice(bytes)?;
        Packument::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Packument, PackumentError> {
        let obj = v.as_object().ok_or(PackumentError::NotAnObject)?;
        let mut time = BTreeMap::new();
        let mut unpublished = false;
        if let Some(t) = obj.get("time").and_then(Value::as_object) {
            for (k, v) in t {
                match v {
                    Value::String(s) => {
                        time.insert(k.clone(), s.clone());
                    }
                    _ if k == "unpublished" => unpublished = true,
                    _ => {}
                }
            }
        }
        let versions = match obj.get("versions") {
            Some(Value::Object(m)) => m
                .iter()
                .filter(|(_, v)| v.is_object())
                .map(|(k, v)| (k.clone(), Manifest::from_value(v)))
                .collect(),
            // A fully unpublished package has `time.unpublished` and no versions.
            None if unpublished => BTreeMap::new(),
            _ => return Err(PackumentError::NoVersions),
        };
        Ok(Packument {
            name: obj.get("name").and_then(Value::as_str).map(str::to_string),
            dist_tags: obj
                .get("dist-tags")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            versions,
            time,
            maintainers: obj
                .get("maintainers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| serde_json::from_value::<Person>(p.clone()).ok())
                        .collect()
                })
                .unwrap_or_default(),
            unpublished,
        })
    }

    /// True when the document has no `time` (the abbreviated install document).
    pub fn is_abbreviated(&self) -> bool {
        self.time.is_empty()
    }

    /// Publish time of `version` as written (RFC 3339), if recorded.
    pub fn published(&self, version: &str) -> Option<&str> {
        self.time.get(version).map(String::as_str)
    }

    /// Versions listed in `time` but absent from `versions`: unpublished versions.
    pub fn unpublished_versions(&self) -> Vec<&str> {
        self.time
            .keys()
            .filter(|k| k.as_str() != "created" && k.as_str() != "modified")
            .filter(|k| !self.versions.contains_key(k.as_str()))
            .map(String::as_str)
            .collect()
    }

    /// Versions ordered by publish time (those without a time last, by key).
    pub fn versions_by_time(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.versions.keys().map(String::as_str).collect();
        v.sort_by(|a, b| {
            let ta = self.time.get(*a);
            let tb = self.time.get(*b);
            match (ta, tb) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.cmp(b),
            }
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_packument() {
        let p = Packument::from_slice(
            br#"{"name":"x","dist-tags":{"latest":"1.0.1"},
                "time":{"created":"2020-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z",
                        "1.0.0":"2020-01-01T00:00:00.000Z","1.0.1":"2021-01-01T00:00:00.000Z","1.0.2":"2021-01-02T00:00:00.000Z"},
                "versions":{"1.0.1":{"version":"1.0.1"},"1.0.0":{"version":"1.0.0"},"bad":3},
                "maintainers":[{"name":"a","email":"a@x"}]}"#,
        )
        .unwrap();
        assert_eq!(p.versions.len(), 2);
        assert_eq!(p.unpublished_versions(), vec!["1.0.2"]);
        assert_eq!(p.versions_by_time(), vec!["1.0.0", "1.0.1"]);
        assert!(!p.is_abbreviated());
        assert_eq!(p.maintainers.len(), 1);
    }

    #[test]
    fn rejects_non_packuments() {
        assert!(Packument::from_slice(b"[]").is_err());
        assert!(Packument::from_slice(b"{}").is_err());
        assert!(Packument::from_slice(b"{\"versions\":").is_err());
        let gone = Packument::from_slice(br#"{"name":"x","time":{"unpublished":{"time":"2020"}}}"#)
            .unwrap();
        assert!(gone.unpublished);
    }
}
