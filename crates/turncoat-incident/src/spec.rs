//! What `who-has` and `incident open` are asked about: `name@range` (npm semver), `name@1.2.3`,
//! `name` (every version) or an integrity (`sha512-…`).

use serde::Serialize;
use turncoat_store::{Query, Store};

use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PackageSpec {
    /// A name and an npm range (an exact version is a range too).
    Range {
        name: String,
        range: String,
    },
    Integrity {
        integrity: String,
    },
}

const SRI_PREFIXES: &[&str] = &["sha512-", "sha384-", "sha256-", "sha1-"];

impl PackageSpec {
    pub fn parse(s: &str) -> Result<PackageSpec, Error> {
        let s = s.trim();
        if SRI_PREFIXES.iter().any(|p| s.starts_with(p)) {
            return Ok(PackageSpec::Integrity {
                integrity: s.to_string(),
            });
        }
        // A scoped name starts with `@`: the version separator is the last `@` after it.
        let (name, range) = match s.get(1..).and_then(|rest| rest.rfind('@')) {
            Some(i) => (&s[..i + 1], &s[i + 2..]),
            None => (s, "*"),
        };
        let range = if range.is_empty() { "*" } else { range };
        let name_ok = !name.is_empty()
            && name.len() <= 214
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "@/._-~".contains(c));
        let scoped_ok = match name.strip_prefix('@') {
            Some(rest) => rest
                .split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/')),
            None => !name.contains('/') && !name.starts_with('.') && !name.starts_with('_'),
        };
        if !name_ok || !scoped_ok {
            return Err(Error::Invalid(format!(
                "`{s}`: not a package spec (name@range, name@version or an integrity sha512-…)"
            )));
        }
        node_semver::Range::parse(range)
            .map_err(|e| Error::Invalid(format!("`{s}`: `{range}` is not an npm range: {e}")))?;
        Ok(PackageSpec::Range {
            name: name.to_string(),
            range: range.to_string(),
        })
    }

    pub fn label(&self) -> String {
        match self {
            PackageSpec::Range { name, range } => format!("{name}@{range}"),
            PackageSpec::Integrity { integrity } => integrity.clone(),
        }
    }
}

/// The store query for a spec: an exact version directly (one indexed lookup), a range by
/// the versions of the name that the index holds and the range admits.
pub fn resolve(store: &mut Store, spec: &PackageSpec) -> Result<Query, Error> {
    match spec {
        PackageSpec::Integrity { integrity } => Ok(Query::Integrity(integrity.clone())),
        PackageSpec::Range { name, range } => {
            if let Ok(v) = node_semver::Version::parse(range) {
                return Ok(Query::Versions {
                    name: name.clone(),
                    versions: vec![v.to_string(), range.clone()]
                        .into_iter()
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                });
            }
            let r = node_semver::Range::parse(range)
                .map_err(|e| Error::Invalid(format!("{range}: {e}")))?;
            let versions = store
                .versions_of(name)?
                .into_iter()
                .filter(|v| node_semver::Version::parse(v).is_ok_and(|v| r.satisfies(&v)))
                .collect();
            Ok(Query::Versions {
                name: name.clone(),
                versions,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            PackageSpec::parse("@scope/pkg@^1.2.0").unwrap(),
            PackageSpec::Range {
                name: "@scope/pkg".into(),
                range: "^1.2.0".into()
            }
        );
        assert_eq!(
            PackageSpec::parse("left-pad").unwrap().label(),
            "left-pad@*"
        );
        assert!(matches!(
            PackageSpec::parse("sha512-abc==").unwrap(),
            PackageSpec::Integrity { .. }
        ));
        assert!(PackageSpec::parse("a b@1").is_err());
        assert!(PackageSpec::parse("x@not a range!").is_err());
        assert!(PackageSpec::parse("@").is_err());
    }
}
