//! Project names (PEP 503 normalised) and the project and version a file name claims.

use crate::error::PypiError;

/// A valid, PEP 503-normalised project name: safe in a URL path segment and a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ProjectName(String);

impl ProjectName {
    /// Validate (PEP 508 name syntax) and normalise.
    pub fn new(name: &str) -> Result<ProjectName, PypiError> {
        if !turncoat_lockfile::valid_project_name(name) {
            return Err(PypiError::InvalidName(name.chars().take(100).collect()));
        }
        Ok(ProjectName(turncoat_lockfile::pep503_normalize(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `(normalised project, version)` a distribution file name claims: wheels
/// (`name-ver(-build)?-py-abi-plat.whl`), eggs, and sdists (`name-ver.tar.gz|.zip|.tar.bz2`).
pub fn file_project(filename: &str) -> Option<(String, String)> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") || lower.ends_with(".egg") {
        let mut parts = filename.split('-');
        let name = parts.next()?;
        let version = parts.next()?;
        let version = version.strip_suffix(".egg").unwrap_or(version);
        return Some((
            turncoat_lockfile::pep503_normalize(name),
            version.to_string(),
        ));
    }
    for ext in [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz"] {
        if lower.ends_with(ext) {
            let stem = filename.get(..filename.len() - ext.len())?;
            let (name, version) = stem.rsplit_once('-')?;
            return Some((
                turncoat_lockfile::pep503_normalize(name),
                version.to_string(),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            ProjectName::new("Zope.Interface").unwrap().as_str(),
            "zope-interface"
        );
        assert!(ProjectName::new("../etc").is_err());
        assert!(ProjectName::new("a/b").is_err());
        assert!(ProjectName::new("").is_err());
    }

    #[test]
    fn file_names() {
        assert_eq!(
            file_project("PySocks-1.7.1-py3-none-any.whl"),
            Some(("pysocks".into(), "1.7.1".into()))
        );
        assert_eq!(
            file_project("charset_normalizer-3.5.3.tar.gz"),
            Some(("charset-normalizer".into(), "3.5.3".into()))
        );
        assert_eq!(
            file_project("zope.interface-6.0.zip"),
            Some(("zope-interface".into(), "6.0".into()))
        );
        assert_eq!(file_project("setup.exe"), None);
    }
}
