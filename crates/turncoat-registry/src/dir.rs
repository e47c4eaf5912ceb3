//! A registry in a local directory (`--registry file:///path/root`), for air-gapped mirrors and
//! the offline demo. Layout:
//!
//! ```text
//! <root>/<name>/index.json                          packument (scoped: <root>/@scope/name/index.json)
//! <root>/<name>/-/<basename>-<version>.tgz          tarballs
//! <root>/-/npm/v1/attestations/<name>@<version>.json   optional
//! <root>/-/npm/v1/keys.json                          optional
//! ```
//!
//! Names are [`PackageName`]s (validated) and versions are checked by [`check_version`] before
//! any path is built, so no input can point outside the root.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use turncoat_npm::PackageName;

use crate::error::RegistryError;

#[derive(Debug, Clone)]
pub(crate) struct DirRegistry {
    root: PathBuf,
}

impl DirRegistry {
    pub(crate) fn new(root: PathBuf) -> DirRegistry {
        DirRegistry { root }
    }

    fn package_dir(&self, name: &PackageName) -> PathBuf {
        // A validated name has at most one '/', separating scope and basename.
        name.as_str()
            .split('/')
            .fold(self.root.clone(), |p, part| p.join(part))
    }

    pub(crate) fn packument_path(&self, name: &PackageName) -> PathBuf {
        self.package_dir(name).join("index.json")
    }

    pub(crate) fn tarball_path(&self, name: &PackageName, version: &str) -> PathBuf {
        self.package_dir(name)
            .join("-")
            .join(name.tarball_file_name(version))
    }

    pub(crate) fn attestations_path(&self, name: &PackageName, version: &str) -> PathBuf {
        let base = self
            .root
            .join("-")
            .join("npm")
            .join("v1")
            .join("attestations");
        let dir = match name.scope() {
            Some(scope) => base.join(format!("@{scope}")),
            None => base,
        };
        dir.join(format!("{}@{version}.json", name.basename()))
    }

    pub(crate) fn keys_path(&self) -> PathBuf {
        self.root.join("-").join("npm").join("v1").join("keys.json")
    }
}

/// Read a file of at most `limit` bytes; `Ok(None)` when it does not exist.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, RegistryError> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RegistryError::io(path, e)),
    };
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| RegistryError::io(path, e))?;
    if data.len() as u64 > limit {
        return Err(RegistryError::TooLarge {
            url: path.display().to_string(),
            limit,
        });
    }
    Ok(Some(data))
}

/// A version string safe to put in a URL path or file name: semver characters only.
pub(crate) fn check_version(version: &str) -> Result<(), RegistryError> {
    let ok = !version.is_empty()
        && version.len() <= 256
        && !version.starts_with('.')
        && !version.contains("..")
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidVersion(
            version.chars().take(80).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let d = DirRegistry::new(PathBuf::from("/r"));
        let scoped = PackageName::new("@s/pkg").unwrap();
        assert_eq!(d.packument_path(&scoped), Path::new("/r/@s/pkg/index.json"));
        assert_eq!(
            d.tarball_path(&scoped, "1.0.0"),
            Path::new("/r/@s/pkg/-/pkg-1.0.0.tgz")
        );
        assert_eq!(
            d.attestations_path(&scoped, "1.0.0"),
            Path::new("/r/-/npm/v1/attestations/@s/pkg@1.0.0.json")
        );
    }

    #[test]
    fn versions_checked() {
        for ok in ["1.0.0", "1.0.0-beta.1+build.5", "0.0.1-x_y"] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../1", "1/2", "..", ".1", "1\\2", "1\0", "1 2", "a%2f"] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }
}
