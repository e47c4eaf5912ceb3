//! The one model every lockfile format is read into.
//!
//! How the package list relates to each tool's own view:
//!
//! - **npm** (`package-lock.json`, `npm-shrinkwrap.json`): one [`LockedPackage`] per distinct
//!   (name, alias, version, source, resolved, integrity); the same package installed at
//!   several `node_modules` paths is one entry with several [`LockedPackage::paths`]. The
//!   root (`""`) is an [`Importer`], not a package. Workspace folders and `file:` folders
//!   are packages (source `workspace`/`file`), and so are the `link: true` entries that
//!   point at them (source `link`, empty version). So the count is ≤ the number of
//!   `packages` keys minus one.
//! - **Yarn classic / Berry**: one package per lockfile entry (a comma-separated list of
//!   descriptors that resolve to one locator); `paths` holds the entry key. The root
//!   workspace (`…@workspace:.`) is an importer, not a package.
//! - **pnpm v9**: one package per `packages` key; `paths` holds the `snapshots` keys
//!   (peer-dependency variants). **pnpm v5/v6**: `packages` keys that differ only by their
//!   peer suffix are one package, each key kept in `paths`.
//! - **Bun**: one package per `packages` key (keys are install paths such as
//!   `parent/child`), merged like npm when the same package appears at several keys.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A parsed lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    /// The path the lockfile was read from, as given by the caller.
    pub path: String,
    pub format: LockfileFormat,
    /// Every locked package, sorted by [`LockedPackage::line`].
    pub packages: Vec<LockedPackage>,
    /// The root project and workspace members, as the lockfile records them.
    pub importers: Vec<Importer>,
    /// Which package ecosystem the lockfile locks (npm or PyPI).
    #[serde(default)]
    pub ecosystem: Ecosystem,
    /// Package indexes the lockfile names (PyPI: `--index-url`, `--extra-index-url`,
    /// `--find-links`, Pipfile `sources`, uv registries); empty for npm lockfiles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<PackageIndex>,
}

/// The package ecosystem of a lockfile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    #[default]
    Npm,
    /// Python packages (PyPI or another PEP 503 index); names are PEP 503-normalised.
    Pypi,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a lockfile names a package index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndexRole {
    /// The index that replaces the default (`--index-url`, the first Pipfile source).
    Primary,
    /// An index consulted *as well* (`--extra-index-url`, further sources): every name
    /// can be served by either, which is what dependency confusion exploits.
    Extra,
    /// A flat directory or page of files (`--find-links`), searched as well.
    FindLinks,
}

/// One package index a lockfile names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageIndex {
    /// The URL as written (credentials are not stripped here; never print it unredacted).
    pub url: String,
    pub role: IndexRole,
    /// The name the lockfile gives it (Pipfile `sources[].name`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Which file and line named it (requirements files may include others).
    pub file: String,
    pub line: u32,
}

/// A file hash recorded for a locked package (PyPI lockfiles record one per file).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileHash {
    /// The file the hash is for, where the lockfile says (uv, poetry, pdm, pylock do;
    /// requirements.txt and Pipfile.lock do not: any listed hash may match any file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `sha256`, `sha384` or `sha512`.
    pub algorithm: String,
    /// Lower-case hex.
    pub digest: String,
}

impl Lockfile {
    /// Packages fetched from a registry (source [`SourceKind::Registry`]).
    pub fn registry_packages(&self) -> impl Iterator<Item = &LockedPackage> {
        self.packages
            .iter()
            .filter(|p| p.source == SourceKind::Registry)
    }

    /// The packages whose real name is `name`.
    pub fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a LockedPackage> {
        self.packages.iter().filter(move |p| p.name == name)
    }

    /// The importer recorded for `path` (`""` and `"."` both mean the root).
    pub fn importer(&self, path: &str) -> Option<&Importer> {
        let norm = |p: &str| {
            if p == "." {
                String::new()
            } else {
                p.to_string()
            }
        };
        let want = norm(path);
        self.importers.iter().find(|i| norm(&i.path) == want)
    }
}

/// Which tool wrote the lockfile, and which version of its format.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LockfileFormat {
    /// `package-lock.json`, `lockfileVersion` 1, 2 or 3.
    PackageLock { version: u8 },
    /// `npm-shrinkwrap.json` (same format as `package-lock.json`).
    Shrinkwrap { version: u8 },
    /// Yarn 1 `yarn.lock` (`# yarn lockfile v1`).
    YarnClassic,
    /// Yarn 2+ `yarn.lock`; `version` is `__metadata.version`.
    YarnBerry { version: u32 },
    /// `pnpm-lock.yaml`; `version` is `lockfileVersion` as written (`"5.4"`, `"6.0"`, `"9.0"`).
    Pnpm { version: String },
    /// Text `bun.lock`; `version` is `lockfileVersion`.
    Bun { version: u32 },
    /// pip `requirements.txt` (and the files it includes with `-r`/`-c`).
    Requirements,
    /// `uv.lock`: `version` and `revision` as written.
    UvLock { version: u32, revision: u32 },
    /// `poetry.lock`; `version` is `metadata.lock-version` (`"1.1"`, `"2.1"`).
    Poetry { version: String },
    /// `Pipfile.lock`; `version` is `_meta.pipfile-spec`.
    Pipfile { version: u32 },
    /// PEP 751 `pylock.toml`; `version` is `lock-version`.
    Pylock { version: String },
    /// `pdm.lock`; `version` is `metadata.lock_version`.
    Pdm { version: String },
}

impl LockfileFormat {
    /// A stable identifier: `package-lock-v3`, `npm-shrinkwrap-v2`, `yarn-classic`,
    /// `yarn-berry-v8`, `pnpm-v9`, `pnpm-v6`, `pnpm-v5`, `bun-v1`; for Python
    /// `requirements-txt`, `uv-lock-v1`, `poetry-lock-v2`, `pipfile-lock-v6`, `pylock-v1`,
    /// `pdm-lock-v4`.
    pub fn id(&self) -> String {
        match self {
            LockfileFormat::PackageLock { version } => format!("package-lock-v{version}"),
            LockfileFormat::Shrinkwrap { version } => format!("npm-shrinkwrap-v{version}"),
            LockfileFormat::YarnClassic => "yarn-classic".to_string(),
            LockfileFormat::YarnBerry { version } => format!("yarn-berry-v{version}"),
            LockfileFormat::Pnpm { version } => {
                format!("pnpm-v{}", version.split('.').next().unwrap_or(version))
            }
            LockfileFormat::Bun { version } => format!("bun-v{version}"),
            LockfileFormat::Requirements => "requirements-txt".to_string(),
            LockfileFormat::UvLock { version, .. } => format!("uv-lock-v{version}"),
            LockfileFormat::Poetry { version } => format!("poetry-lock-v{}", major(version)),
            LockfileFormat::Pipfile { version } => format!("pipfile-lock-v{version}"),
            LockfileFormat::Pylock { version } => format!("pylock-v{}", major(version)),
            LockfileFormat::Pdm { version } => format!("pdm-lock-v{}", major(version)),
        }
    }
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

impl fmt::Display for LockfileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// Where a package's code comes from.
///
/// Python lockfiles use the same kinds: an index package is `Registry`, any VCS (git, hg,
/// svn, bzr) is `Git`, a direct archive URL is `Tarball`, a local path or directory is
/// `File`, and the project itself or an editable workspace member is `Workspace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A registry tarball (`…/<name>/-/<basename>-<version>.tgz`, or recorded by integrity only).
    Registry,
    /// A git repository (including GitHub/GitLab shorthands and codeload tarballs).
    Git,
    /// A tarball at an arbitrary URL.
    Tarball,
    /// A local path or local tarball (`file:`), including `file:` folders outside workspaces.
    File,
    /// A symlink to a local folder (`link:`, npm `link: true`, Yarn `portal:`).
    Link,
    /// A workspace member of this project.
    Workspace,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Registry => "registry",
            SourceKind::Git => "git",
            SourceKind::Tarball => "tarball",
            SourceKind::File => "file",
            SourceKind::Link => "link",
            SourceKind::Workspace => "workspace",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which section a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    Prod,
    Dev,
    Optional,
    Peer,
}

/// A dependency edge: a name and the range (specifier) it was asked with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    /// The range or specifier as written (`^1.2.0`, `npm:real@^1`, `github:o/r`, `workspace:*`).
    pub range: String,
    pub kind: DepKind,
    /// What the lockfile resolved it to, where it records that beside the range
    /// (pnpm importers: `1.2.3`, `1.2.3(peer@1.0.0)`, `real@1.2.3`, `link:../x`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<String>,
}

/// The root project or a workspace member, as the lockfile records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Importer {
    /// Path relative to the lockfile's folder: `""` or `"."` for the root.
    pub path: String,
    /// The package name, where the lockfile records it.
    pub name: Option<String>,
    /// Declared dependencies, where the format records them (npm v2/v3, pnpm, Bun, Yarn
    /// Berry). npm v1 and Yarn classic record none.
    pub dependencies: Vec<Dependency>,
    /// 1-based line of the importer's entry (0 when the format has no such entry).
    pub line: u32,
}

/// One locked package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedPackage {
    /// The real registry package name (for an npm alias `foo@npm:bar@1` this is `bar`;
    /// for PyPI the PEP 503-normalised name, see [`crate::pep503_normalize`]).
    pub name: String,
    /// The name it is installed under, when that differs from `name` (an npm alias; for
    /// PyPI the name as written when it is not already normalised).
    pub alias: Option<String>,
    /// The version; empty when the lockfile does not say (links, some git and file entries).
    pub version: String,
    pub source: SourceKind,
    /// The URL, git locator or path the package is fetched from, as written.
    pub resolved: Option<String>,
    /// SRI string as written (may hold several hashes separated by spaces).
    pub integrity: Option<String>,
    /// A format-specific checksum that is *not* an npm SRI (Yarn Berry's `checksum`,
    /// the SHA-512 of its zip cache archive). Never compare it with `dist.integrity`.
    pub checksum: Option<String>,
    /// Only needed for development. npm: `dev`/`devOptional`; pnpm v5/v6: `dev: true`;
    /// pnpm v9 and Bun: computed from the importers' dev dependencies; Yarn: always false.
    pub dev: bool,
    /// Only reached through optional dependencies (npm `optional`/`devOptional`, pnpm
    /// `optional: true`, Bun computed, Yarn Berry `dependenciesMeta.optional`).
    pub optional: bool,
    /// npm `peer: true`; false for other formats, which do not record it.
    pub peer: bool,
    /// Shipped inside its parent's tarball (npm `inBundle`/v1 `bundled`): no own download.
    pub bundled: bool,
    /// npm v2/v3 `hasInstallScript`, pnpm v5/v6 `requiresBuild`; `None` where not recorded.
    pub has_install_script: Option<bool>,
    /// Where the entry sits: npm install paths (`node_modules/a/node_modules/b`), Bun
    /// package keys, pnpm dependency paths / snapshot keys, Yarn entry keys.
    pub paths: Vec<String>,
    /// Dependency edges, where the format records them.
    pub dependencies: Vec<Dependency>,
    /// 1-based line of the entry in the lockfile (for SARIF).
    pub line: u32,
    /// PyPI: the index the package comes from, where the lockfile names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// PyPI: the hashes of the release's files the lockfile accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<FileHash>,
    /// PyPI: the PEP 508 environment marker under which the package is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markers: Option<String>,
    /// PyPI `requirements.txt`: the requirement as written (`requests>=2.31`), which says
    /// what an unpinned line asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
}

/// The identity used to match packages across two lockfiles.
///
/// Registry packages are `name@version`; other sources also carry their locator, since a
/// git or tarball package with the same version may be different code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PackageKey {
    pub name: String,
    pub version: String,
    pub source: SourceKind,
    pub locator: Option<String>,
}

impl fmt::Display for PackageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)?;
        if self.source != SourceKind::Registry {
            write!(f, " ({}", self.source)?;
            if let Some(l) = &self.locator {
                write!(f, " {l}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl LockedPackage {
    /// A package with the given identity and every other field empty.
    pub fn new(name: impl Into<String>, version: impl Into<String>, source: SourceKind) -> Self {
        LockedPackage {
            name: name.into(),
            alias: None,
            version: version.into(),
            source,
            resolved: None,
            integrity: None,
            checksum: None,
            dev: false,
            optional: false,
            peer: false,
            bundled: false,
            has_install_script: None,
            paths: Vec::new(),
            dependencies: Vec::new(),
            line: 0,
            index: None,
            hashes: Vec::new(),
            markers: None,
            requirement: None,
        }
    }

    /// The stable key: `name@version` + source (+ locator for non-registry sources).
    pub fn key(&self) -> PackageKey {
        PackageKey {
            name: self.name.clone(),
            version: self.version.clone(),
            source: self.source,
            locator: if self.source == SourceKind::Registry {
                None
            } else {
                self.resolved.clone()
            },
        }
    }

    /// `name@version`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The name this package is installed under (the alias, else the name).
    pub fn install_name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// Merge entries that are the same package at several paths; sort by line.
///
/// Flags merge conservatively: an entry is `dev`/`optional`/`peer` only if every
/// instance is; it has an install script if any instance says so.
pub(crate) fn dedupe(mut pkgs: Vec<LockedPackage>) -> Vec<LockedPackage> {
    use std::collections::HashMap;
    pkgs.sort_by_key(|p| p.line);
    // For each package, the index of the first one with the same identity (its own when it
    // is the first). The keys borrow from `pkgs`, so nothing is cloned to find duplicates.
    type MergeKey<'p> = (
        &'p str,
        Option<&'p str>,
        &'p str,
        SourceKind,
        Option<&'p str>,
        Option<&'p str>,
    );
    let first: Vec<usize> = {
        let mut index: HashMap<MergeKey<'_>, usize> = HashMap::with_capacity(pkgs.len());
        pkgs.iter()
            .enumerate()
            .map(|(i, p)| {
                let k = (
                    p.name.as_str(),
                    p.alias.as_deref(),
                    p.version.as_str(),
                    p.source,
                    p.resolved.as_deref(),
                    p.integrity.as_deref(),
                );
                *index.entry(k).or_insert(i)
            })
            .collect()
    };
    // Where each first occurrence landed in `out`.
    let mut slot = vec![usize::MAX; pkgs.len()];
    let mut out: Vec<LockedPackage> = Vec::with_capacity(pkgs.len());
    for ((i, p), f) in pkgs.into_iter().enumerate().zip(first) {
        let target = slot.get(f).copied().filter(|_| f != i);
        let Some(e) = target.and_then(|s| out.get_mut(s)) else {
            if let Some(s) = slot.get_mut(i) {
                *s = out.len();
            }
            out.push(p);
            continue;
        };
        e.paths.extend(p.paths);
        e.dev &= p.dev;
        e.optional &= p.optional;
        e.peer &= p.peer;
        e.bundled &= p.bundled;
        e.has_install_script = match (e.has_install_script, p.has_install_script) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        for d in p.dependencies {
            if !e.dependencies.contains(&d) {
                e.dependencies.push(d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(
            LockfileFormat::PackageLock { version: 3 }.id(),
            "package-lock-v3"
        );
        assert_eq!(
            LockfileFormat::Shrinkwrap { version: 2 }.id(),
            "npm-shrinkwrap-v2"
        );
        assert_eq!(
            LockfileFormat::YarnBerry { version: 8 }.id(),
            "yarn-berry-v8"
        );
        assert_eq!(
            LockfileFormat::Pnpm {
                version: "9.0".into()
            }
            .id(),
            "pnpm-v9"
        );
        assert_eq!(LockfileFormat::Bun { version: 1 }.id(), "bun-v1");
        assert_eq!(LockfileFormat::YarnClassic.id(), "yarn-classic");
    }

    #[test]
    fn source_kind_serializes_lowercase() {
        let s = serde_json::to_string(&SourceKind::Tarball).unwrap();
        assert_eq!(s, "\"tarball\"");
    }

    #[test]
    fn dedupe_merges_paths_and_flags() {
        let mut a = LockedPackage::new("a", "1.0.0", SourceKind::Registry);
        a.paths = vec!["node_modules/a".into()];
        a.line = 5;
        a.dev = true;
        let mut b = a.clone();
        b.paths = vec!["node_modules/x/node_modules/a".into()];
        b.line = 9;
        b.dev = false;
        let mut c = a.clone();
        c.version = "2.0.0".into();
        c.line = 2;
        let out = dedupe(vec![a, b, c]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].version, "2.0.0");
        assert_eq!(out[1].paths.len(), 2);
        assert!(!out[1].dev);
        assert_eq!(out[1].key().to_string(), "a@1.0.0");
    }
}
