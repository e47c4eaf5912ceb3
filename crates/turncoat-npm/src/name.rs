//! npm package names: validation (hostile names must not become paths or URLs that escape)
//! and the escaping the registry protocol uses.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid npm package name {name:?}: {reason}")]
pub struct NameError {
    pub name: String,
    pub reason: &'static str,
}

/// A validated package name, scoped (`@scope/name`) or not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName(String);

impl PackageName {
    pub fn new(name: &str) -> Result<PackageName, NameError> {
        let err = |reason| NameError {
            name: name.chars().take(100).collect(),
            reason,
        };
        if name.is_empty() {
            return Err(err("empty"));
        }
        if name.len() > 214 {
            return Err(err("longer than 214 characters"));
        }
        let (scope, base) = match name.strip_prefix('@') {
            Some(rest) => match rest.split_once('/') {
                Some((s, b)) => (Some(s), b),
                None => return Err(err("scoped name without '/'")),
            },
            None => (None, name),
        };
        for part in scope.into_iter().chain(std::iter::once(base)) {
            if part.is_empty() {
                return Err(err("empty scope or name part"));
            }
            if part.starts_with('.') || part.starts_with('_') {
                return Err(err("a part starts with '.' or '_'"));
            }
            if !part.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'.' | b'_' | b'~' | b'!' | b'*' | b'\'' | b'(' | b')'
                    )
            }) {
                return Err(err("contains a character that is not URL-safe"));
            }
        }
        Ok(PackageName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn scope(&self) -> Option<&str> {
        self.0
            .strip_prefix('@')
            .and_then(|r| r.split_once('/'))
            .map(|(s, _)| s)
    }

    /// The part after the scope (`rarebit` for `@hypercarrier/rarebit`).
    pub fn basename(&self) -> &str {
        match self.0.rsplit_once('/') {
            Some((_, b)) => b,
            None => &self.0,
        }
    }

    /// The path segment used for packument requests: `@scope%2fname` for scoped names.
    pub fn url_path(&self) -> String {
        self.0.replacen('/', "%2f", 1)
    }

    /// The canonical tarball file name, `<basename>-<version>.tgz`.
    pub fn tarball_file_name(&self, version: &str) -> String {
        format!("{}-{}.tgz", self.basename(), version)
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        let n = PackageName::new("@hypercarrier/rarebit").unwrap();
        assert_eq!(n.scope(), Some("hypercarrier"));
        assert_eq!(n.basename(), "rarebit");
        assert_eq!(n.url_path(), "@hypercarrier%2frarebit");
        assert_eq!(n.tarball_file_name("0.1.0"), "rarebit-0.1.0.tgz");
        assert_eq!(PackageName::new("lodash").unwrap().url_path(), "lodash");
    }

    #[test]
    fn hostile_names_rejected() {
        for bad in [
            "", "../etc", "@a", "@/b", "a/b", "a b", ".hidden", "@s/../x", "é", "a%2f",
        ] {
            assert!(PackageName::new(bad).is_err(), "{bad}");
        }
    }
}
