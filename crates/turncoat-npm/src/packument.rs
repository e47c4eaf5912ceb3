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
    /// Parse a packument. Only the parts [`Packument::from_value`] reads are built as JSON
    /// values; the rest (readmes, descriptions, keywords, file lists: most of a big packument's
    /// bytes) is checked for syntax and skipped. The result equals `from_value` of the whole
    /// document.
    pub fn from_slice(bytes: &[u8]) -> Result<Packument, PackumentError> {
        let pruned: prune::Doc = serde_json::from_slice(bytes)?;
        Packument::from_value(&pruned.0)
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

/// A packument read down to what [`Packument::from_value`] and [`Manifest::from_value`] look
/// at. Duplicate keys keep the last value, as `serde_json::Value` does.
mod prune {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde_json::{Map, Value};

    const TOP_KEYS: &[&str] = &["name", "dist-tags", "time", "maintainers"];
    /// Every key `Manifest::from_value` reads (kept in step with it by the tests below).
    pub(super) const MANIFEST_KEYS: &[&str] = &[
        "name",
        "version",
        "main",
        "type",
        "scripts",
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
        "bundleDependencies",
        "bundledDependencies",
        "bin",
        "exports",
        "gypfile",
        "hasInstallScript",
        "deprecated",
        "gitHead",
        "_npmVersion",
        "_nodeVersion",
        "_npmUser",
        "maintainers",
        "repository",
        "dist",
    ];

    /// The pruned document; `Value::Null` stands for anything that is not an object.
    pub(super) struct Doc(pub(super) Value);

    impl<'de> serde::Deserialize<'de> for Doc {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Doc, D::Error> {
            d.deserialize_any(Pruned(Level::Top)).map(Doc)
        }
    }

    #[derive(Clone, Copy)]
    enum Level {
        /// The packument: a few keys kept whole, `versions` pruned per version.
        Top,
        /// `versions`: every entry pruned to the manifest keys.
        Versions,
        /// One version document.
        Version,
    }

    /// An object key, borrowed from the input unless it has escapes (serde's own `Cow<str>`
    /// always allocates, and most keys are skipped).
    struct Key<'de>(Cow<'de, str>);

    impl<'de> serde::Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object key")
                }
                fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(s)))
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(s.to_owned())))
                }
                fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(s)))
                }
            }
            d.deserialize_str(KeyVisitor)
        }
    }

    /// Reads one value at `Level`; objects are pruned, anything else becomes `Null`.
    struct Pruned(Level);

    impl<'de> DeserializeSeed<'de> for Pruned {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    /// What to do with the value under a key.
    enum Keep {
        Whole,
        Prune(Level),
        Skip,
    }

    impl<'de> Visitor<'de> for Pruned {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                let keep = match self.0 {
                    Level::Top if key == "versions" => Keep::Prune(Level::Versions),
                    Level::Top if TOP_KEYS.contains(&key.as_ref()) => Keep::Whole,
                    Level::Versions => Keep::Prune(Level::Version),
                    Level::Version if MANIFEST_KEYS.contains(&key.as_ref()) => Keep::Whole,
                    _ => Keep::Skip,
                };
                let value = match keep {
                    Keep::Whole => map.next_value::<Value>()?,
                    Keep::Prune(level) => map.next_value_seed(Pruned(level))?,
                    Keep::Skip => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                };
                out.insert(key.into_owned(), value);
            }
            Ok(Value::Object(out))
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Value::Null)
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `from_slice` (pruned) and `from_value` of the whole document agree.
    fn same_as_whole(doc: &[u8]) {
        let pruned = Packument::from_slice(doc);
        let whole = serde_json::from_slice::<Value>(doc)
            .map_err(PackumentError::from)
            .and_then(|v| Packument::from_value(&v));
        match (pruned, whole) {
            (Ok(p), Ok(w)) => assert_eq!(p, w, "{}", String::from_utf8_lossy(doc)),
            (Err(_), Err(_)) => {}
            (p, w) => panic!(
                "pruned {p:?} vs whole {w:?} for {}",
                String::from_utf8_lossy(doc)
            ),
        }
    }

    #[test]
    fn pruning_changes_nothing() {
        // Every manifest key, in every JSON type, plus keys that are skipped.
        let values = [
            r#""s""#,
            "1",
            "-1",
            "1.5",
            "true",
            "null",
            "[1,{\"a\":2}]",
            r#"{"a":"b","url":"git+https://x","name":"n","email":"e@x","keyid":"k","sig":"s"}"#,
            r#""Ann <ann@x.example>""#,
        ];
        for key in prune::MANIFEST_KEYS
            .iter()
            .chain(&["readme", "description", "x"])
        {
            for value in &values {
                let doc = format!(
                    r#"{{"name":"p","readme":{value},"versions":{{"1.0.0":{{"version":"1.0.0","{key}":{value}}},"2":{value}}},"time":{{"1.0.0":"2020"}}}}"#
                );
                same_as_whole(doc.as_bytes());
            }
        }
        for doc in [
            // Duplicate keys: the last one wins, at every level.
            r#"{"versions":{"1":{"version":"1","version":"2","scripts":{"a":"x"},"scripts":5}},"versions":{"3":{"main":"m"},"3":7}}"#,
            r#"{"versions":{"1":{}},"name":"a","name":"b","time":{"1":"x"},"time":3}"#,
            // Escaped keys are matched after unescaping.
            r#"{"versions":{"1":{"\u0076ersion":"1","d\u0069st":{"integrity":"sha512-x"}}}}"#,
            r#"{"\u0076ersions":{"1":{"version":"1"}}}"#,
            // Not packuments.
            "[]",
            "{}",
            "3",
            r#"{"versions":[]}"#,
            r#"{"versions":{"1":{}}} x"#,
            r#"{"versions":{"1":{"readme":"unterminated}}}"#,
            r#"{"time":{"unpublished":{"time":"2020"}}}"#,
        ] {
            same_as_whole(doc.as_bytes());
        }
    }

    #[test]
    fn deep_nesting() {
        // Kept parts are built as values, under serde_json's recursion limit: an error, as
        // before. Skipped parts are skipped without recursion (no limit needed, no overflow).
        let kept = format!(
            r#"{{"versions":{{"1":{{"exports":{}1{}}}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(Packument::from_slice(kept.as_bytes()).is_err());
        same_as_whole(kept.as_bytes());
        let skipped = format!(
            r#"{{"readme":{}1{},"versions":{{"1":{{"version":"1"}}}}}}"#,
            "[".repeat(1_000_000),
            "]".repeat(1_000_000)
        );
        let p = Packument::from_slice(skipped.as_bytes()).expect("skipped, not built");
        assert_eq!(p.versions.len(), 1);
    }

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
