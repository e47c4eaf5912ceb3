//! npm data formats, parsed leniently and never trusted.
//!
//! This crate owns the shapes every other turncoat crate reads from the npm world:
//! [`PackageName`] (validation and URL escaping), [`Integrity`] (Subresource Integrity strings and
//! streaming verification), [`Packument`] (the registry document for a package) and [`Manifest`]
//! (a version document, which is also the shape of a tarball's `package.json`).
//!
//! Registry documents and manifests are hostile input: fields of the wrong type are dropped
//! rather than failing the whole document, and nothing here panics on any input.

mod integrity;
mod manifest;
mod name;
mod packument;

pub use integrity::{Algorithm, Hash, Integrity, IntegrityChecker, IntegrityError};
pub use manifest::{
    Dist, DistAttestations, DistSignature, LIFECYCLE_INSTALL_HOOKS, Manifest, Person,
    TrustedPublisher,
};
pub use name::{NameError, PackageName};
pub use packument::{Packument, PackumentError};

/// npm's public registry, the default when neither `--registry` nor `.npmrc` says otherwise.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// Semver helpers shared by the gate (release-line grouping, bump size).
pub mod semver {
    pub use node_semver::{Range, Version};

    /// How far apart two versions are.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum Bump {
        Downgrade,
        Same,
        Prerelease,
        Patch,
        Minor,
        Major,
        /// One of the versions is not valid semver.
        Unknown,
    }

    impl Bump {
        pub fn as_str(self) -> &'static str {
            match self {
                Bump::Downgrade => "downgrade",
                Bump::Same => "same",
                Bump::Prerelease => "prerelease",
                Bump::Patch => "patch",
                Bump::Minor => "minor",
                Bump::Major => "major",
                Bump::Unknown => "unknown",
            }
        }
    }

    /// Classify the step `from` → `to` by plain component comparison (0.x minors count as
    /// minor): the gate weighs the size of step the publisher declared.
    pub fn bump(from: &str, to: &str) -> Bump {
        let (Ok(a), Ok(b)) = (from.parse::<Version>(), to.parse::<Version>()) else {
            return Bump::Unknown;
        };
        if b < a {
            return Bump::Downgrade;
        }
        if a == b {
            return Bump::Same;
        }
        if a.major != b.major {
            Bump::Major
        } else if a.minor != b.minor {
            Bump::Minor
        } else if a.patch != b.patch {
            Bump::Patch
        } else {
            Bump::Prerelease
        }
    }

    /// True for versions with a prerelease tag (`1.0.0-beta.1`).
    pub fn is_prerelease(v: &str) -> bool {
        v.parse::<Version>()
            .map(|v| !v.pre_release.is_empty())
            .unwrap_or(false)
    }

    /// The release line a version belongs to: `major` for >= 1, `0.minor` for 0.x.
    pub fn release_line(v: &str) -> Option<String> {
        let v = v.parse::<Version>().ok()?;
        Some(if v.major == 0 {
            format!("0.{}", v.minor)
        } else {
            v.major.to_string()
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn bumps() {
            assert_eq!(bump("3.1.4", "3.1.5"), Bump::Patch);
            assert_eq!(bump("3.1.4", "3.2.0"), Bump::Minor);
            assert_eq!(bump("3.1.4", "4.0.0"), Bump::Major);
            assert_eq!(bump("3.1.4", "3.1.4"), Bump::Same);
            assert_eq!(bump("3.1.5", "3.1.4"), Bump::Downgrade);
            assert_eq!(bump("1.0.0-beta.1", "1.0.0-beta.2"), Bump::Prerelease);
            assert_eq!(bump("x", "1.0.0"), Bump::Unknown);
        }

        #[test]
        fn lines() {
            assert_eq!(release_line("3.1.4").as_deref(), Some("3"));
            assert_eq!(release_line("0.7.29").as_deref(), Some("0.7"));
            assert!(is_prerelease("1.0.0-rc.1"));
            assert!(!is_prerelease("1.0.0"));
        }
    }
}
