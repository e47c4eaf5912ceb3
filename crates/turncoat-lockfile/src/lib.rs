//! Fail-closed readers and lints for JavaScript and Python lockfiles.
//!
//! This crate owns everything about lockfiles: detecting which tool wrote one (by file
//! name and content), parsing `package-lock.json` / `npm-shrinkwrap.json` v1-v3, Yarn
//! classic and Berry `yarn.lock`, `pnpm-lock.yaml` v5/v6/v9 and text `bun.lock` (npm), and
//! `requirements.txt`, `uv.lock`, `poetry.lock` v1/v2, `Pipfile.lock`, PEP 751
//! `pylock.toml` and `pdm.lock` (PyPI) into one [`Lockfile`] model with 1-based line
//! numbers and an [`Ecosystem`], and the sans-IO lockfile [`lint`]s.
//!
//! Python names are PEP 503-normalised ([`pep503_normalize`]); the spelling a file used is
//! kept in [`LockedPackage::alias`]. A `requirements.txt` may include others (`-r`, `-c`):
//! [`read`] follows them inside the top file's directory only; [`parse`] cannot and fails
//! closed on an include ([`parse_requirements`] takes the caller's [`Includes`]).
//!
//! Parsing is pure: the only IO is in [`read`] and [`discover`]. Input is hostile: the
//! size is capped ([`ParseOptions::max_bytes`]), nesting is capped
//! ([`ParseOptions::max_depth`]) by iterative readers, duplicate keys and YAML aliases are
//! refused, and an unknown format or version is an [`Error`], never an empty list.
//!
//! ```
//! let text = br#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/a": {"version": "1.0.0",
//!   "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "sha512-AAAA"}}}"#;
//! let lock = turncoat_lockfile::parse("package-lock.json", text).unwrap();
//! assert_eq!(lock.format.id(), "package-lock-v3");
//! assert_eq!(lock.packages[0].spec(), "a@1.0.0");
//! ```

mod error;
mod formats;
mod graph;
mod json;
pub mod lint;
mod model;
pub mod spec;
mod tree;
mod yaml;

use std::path::{Path, PathBuf};

pub use error::{Error, Problem, SUPPORTED_FORMATS};
pub use formats::py::{
    classify_url, file_name_of, parse_hash, pep503_normalize, valid_project_name,
};
pub use formats::requirements::{
    Included, Includes, MAX_INCLUDE_DEPTH, MAX_INCLUDED_FILES, NoIncludes,
};
pub use lint::{LintOptions, lint, rules};
pub use model::{
    DepKind, Dependency, Ecosystem, FileHash, Importer, IndexRole, LockedPackage, Lockfile,
    LockfileFormat, PackageIndex, PackageKey, SourceKind,
};

/// Limits applied to untrusted lockfiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Largest accepted file, in bytes (default 256 MiB).
    pub max_bytes: u64,
    /// Deepest accepted nesting of objects/lists (default 128; real lockfiles use < 10,
    /// npm v1 trees nest two levels per `node_modules` level).
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_bytes: 256 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// Which tool's format a file is in (the version is read by the parser).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `package-lock.json`, `npm-shrinkwrap.json`, `node_modules/.package-lock.json`.
    Npm,
    YarnClassic,
    YarnBerry,
    Pnpm,
    Bun,
    /// pip `requirements*.txt` (and `constraints*.txt`).
    Requirements,
    Uv,
    Poetry,
    Pipfile,
    Pylock,
    Pdm,
}

impl Family {
    /// The ecosystem of the lockfiles this family writes.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Family::Npm | Family::YarnClassic | Family::YarnBerry | Family::Pnpm | Family::Bun => {
                Ecosystem::Npm
            }
            _ => Ecosystem::Pypi,
        }
    }
}

/// Parse a lockfile held in memory, detecting its format from `path`'s file name and the
/// content. `path` is only used for detection and messages.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Lockfile, Error> {
    parse_with(path, bytes, None, &ParseOptions::default())
}

/// Parse with an explicit family (skipping file-name detection) and limits.
pub fn parse_with(
    path: &str,
    bytes: &[u8],
    family: Option<Family>,
    opts: &ParseOptions,
) -> Result<Lockfile, Error> {
    if bytes.len() as u64 > opts.max_bytes {
        return Err(Error::TooLarge {
            path: path.to_string(),
            size: bytes.len() as u64,
            limit: opts.max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::NotUtf8 {
        path: path.to_string(),
    })?;
    let family = match family {
        Some(f) => f,
        None => detect(path, text)?,
    };
    let shrinkwrap = file_name(path) == "npm-shrinkwrap.json";
    match family {
        Family::Npm => formats::npm::parse(path, text, shrinkwrap, opts),
        Family::YarnClassic => formats::yarn_classic::parse(path, text, opts),
        Family::YarnBerry => formats::yarn_berry::parse(path, text, opts),
        Family::Pnpm => formats::pnpm::parse(path, text, opts),
        Family::Bun => formats::bun::parse(path, text, opts),
        Family::Requirements => formats::requirements::parse(path, text, &mut NoIncludes),
        Family::Uv => formats::py_toml::uv(path, text, opts),
        Family::Poetry => formats::py_toml::poetry(path, text, opts),
        Family::Pipfile => formats::pipfile::parse(path, text, opts),
        Family::Pylock => formats::py_toml::pylock(path, text, opts),
        Family::Pdm => formats::py_toml::pdm(path, text, opts),
    }
}

/// Parse a pip requirements file, following `-r`/`-c` includes through `includes`.
pub fn parse_requirements(
    path: &str,
    bytes: &[u8],
    includes: &mut dyn Includes,
    opts: &ParseOptions,
) -> Result<Lockfile, Error> {
    if bytes.len() as u64 > opts.max_bytes {
        return Err(Error::TooLarge {
            path: path.to_string(),
            size: bytes.len() as u64,
            limit: opts.max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::NotUtf8 {
        path: path.to_string(),
    })?;
    formats::requirements::parse(path, text, includes)
}

/// The [`Includes`] of [`read`]: files under the top file's directory only, resolved
/// through symlinks before the check, each size-capped.
pub struct DirIncludes {
    root: PathBuf,
    max_bytes: u64,
}

impl DirIncludes {
    /// Confine includes to `root` (canonicalised here).
    pub fn new(root: &Path, max_bytes: u64) -> std::io::Result<Self> {
        Ok(DirIncludes {
            root: root.canonicalize()?,
            max_bytes,
        })
    }
}

impl Includes for DirIncludes {
    fn load(&mut self, from: &str, target: &str) -> Result<Included, String> {
        if target.contains("://") {
            return Err(format!(
                "include {target:?}: remote includes are not followed"
            ));
        }
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let joined = base.join(target);
        let real = joined
            .canonicalize()
            .map_err(|e| format!("include {target:?} (from {from}): {e}"))?;
        if !real.starts_with(&self.root) {
            return Err(format!(
                "include {target:?} (from {from}) resolves to {}, outside the project directory {}",
                real.display(),
                self.root.display()
            ));
        }
        let meta = std::fs::metadata(&real).map_err(|e| format!("include {target:?}: {e}"))?;
        if !meta.is_file() || meta.len() > self.max_bytes {
            return Err(format!(
                "include {target:?} is not a regular file under {} bytes",
                self.max_bytes
            ));
        }
        let text =
            std::fs::read_to_string(&real).map_err(|e| format!("include {target:?}: {e}"))?;
        Ok(Included {
            display: joined.display().to_string(),
            key: real.display().to_string(),
            text,
        })
    }
}

/// Read and parse a lockfile from disk (size-capped before reading).
pub fn read(path: &Path) -> Result<Lockfile, Error> {
    read_with(path, None, &ParseOptions::default())
}

/// [`read`] with an explicit family and limits.
pub fn read_with(
    path: &Path,
    family: Option<Family>,
    opts: &ParseOptions,
) -> Result<Lockfile, Error> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |source| Error::Io {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > opts.max_bytes {
        return Err(Error::TooLarge {
            path: shown,
            size,
            limit: opts.max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // `take` guards against a file that grows between stat and read.
    file.take(opts.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let is_requirements = match family {
        Some(f) => f == Family::Requirements,
        None => requirements_name(file_name(&shown)),
    };
    if is_requirements {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut inc = DirIncludes::new(dir, opts.max_bytes).map_err(io)?;
        return parse_requirements(&shown, &bytes, &mut inc, opts);
    }
    parse_with(&shown, &bytes, family, opts)
}

/// The lockfiles in `dir` (not recursive), in the order a package manager would honour
/// them. `npm-shrinkwrap.json` hides a `package-lock.json` beside it (npm ignores the
/// latter). A `bun.lockb` without `bun.lock` is returned so that reading it fails closed.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let exists = |name: &str| dir.join(name).is_file();
    if !dir.is_dir() {
        return Err(Error::Io {
            path: dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let mut out = Vec::new();
    if exists("npm-shrinkwrap.json") {
        out.push(dir.join("npm-shrinkwrap.json"));
    } else if exists("package-lock.json") {
        out.push(dir.join("package-lock.json"));
    }
    for name in ["yarn.lock", "pnpm-lock.yaml", "bun.lock"] {
        if exists(name) {
            out.push(dir.join(name));
        }
    }
    if !exists("bun.lock") && exists("bun.lockb") {
        out.push(dir.join("bun.lockb"));
    }
    Ok(out)
}

/// The Python lockfiles in `dir` (not recursive): `uv.lock`, `poetry.lock`, `Pipfile.lock`,
/// `pdm.lock`, `pylock.toml` and `pylock.*.toml`, and `requirements.txt`. Kept apart from
/// [`discover`] so that npm callers never receive a Python lockfile.
pub fn discover_pypi(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut out: Vec<PathBuf> = [
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "pdm.lock",
        "requirements.txt",
    ]
    .iter()
    .map(|n| dir.join(n))
    .filter(|p| p.is_file())
    .collect();
    let mut pylocks: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(pylock_name)
        })
        .collect();
    pylocks.sort();
    out.extend(pylocks);
    Ok(out)
}

fn pylock_name(name: &str) -> bool {
    name == "pylock.toml"
        || name
            .strip_prefix("pylock.")
            .and_then(|r| r.strip_suffix(".toml"))
            .is_some_and(|mid| !mid.is_empty() && !mid.contains('.'))
}

fn requirements_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".txt") && (lower.contains("requirements") || lower.contains("constraints"))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Decide the format from the file name, then the content. A known file name picks the
/// family; the content must then agree (a `yarn.lock` must say classic or Berry).
pub fn detect(path: &str, text: &str) -> Result<Family, Error> {
    let unknown = |found: String| Error::UnknownFormat {
        path: path.to_string(),
        found,
        supported: SUPPORTED_FORMATS,
    };
    let by_content = sniff(text);
    match file_name(path) {
        "package-lock.json" | "npm-shrinkwrap.json" | ".package-lock.json" => Ok(Family::Npm),
        "pnpm-lock.yaml" => Ok(Family::Pnpm),
        "bun.lock" => Ok(Family::Bun),
        "bun.lockb" => Err(unknown(
            "the binary bun.lockb format; migrate it with `bun install --save-text-lockfile \
             --frozen-lockfile --lockfile-only`"
                .into(),
        )),
        "uv.lock" => Ok(Family::Uv),
        "poetry.lock" => Ok(Family::Poetry),
        "Pipfile.lock" => Ok(Family::Pipfile),
        "pdm.lock" => Ok(Family::Pdm),
        n if pylock_name(n) => Ok(Family::Pylock),
        n if requirements_name(n) => Ok(Family::Requirements),
        "yarn.lock" => match by_content {
            Some(f @ (Family::YarnClassic | Family::YarnBerry)) => Ok(f),
            _ => Err(unknown(
                "a yarn.lock with neither `# yarn lockfile v1` nor `__metadata`".into(),
            )),
        },
        _ => by_content.ok_or_else(|| unknown(describe_content(text))),
    }
}

/// Content sniffing for files whose name says nothing.
fn sniff(text: &str) -> Option<Family> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') && trimmed.contains("\"pipfile-spec\"") {
        return Some(Family::Pipfile);
    }
    if let Some(f) = sniff_toml(text) {
        return Some(f);
    }
    if trimmed.starts_with('{') {
        // JSON family: Bun writes tuples under `packages` and a `workspaces` map; npm does not.
        let looks_bun = trimmed.contains("\"workspaces\"") && trimmed.contains("\": [\"")
            || (!trimmed.contains("\"packages\"")
                && !trimmed.contains("\"dependencies\"")
                && trimmed.contains("\"workspaces\""));
        let looks_npm = trimmed.contains("\"lockfileVersion\"")
            && (trimmed.contains("\"packages\"") || trimmed.contains("\"dependencies\""));
        return if looks_bun {
            Some(Family::Bun)
        } else if looks_npm {
            Some(Family::Npm)
        } else {
            None
        };
    }
    for line in text.lines().take(64) {
        if line.starts_with("# yarn lockfile v1") {
            return Some(Family::YarnClassic);
        }
        if line.starts_with("__metadata:") {
            return Some(Family::YarnBerry);
        }
        if line.starts_with("lockfileVersion:") {
            return Some(Family::Pnpm);
        }
    }
    // Berry files keep `__metadata` first, but be generous about leading entries.
    if text.lines().any(|l| l.starts_with("__metadata:")) {
        return Some(Family::YarnBerry);
    }
    None
}

/// The TOML Python lockfiles, by their version keys.
fn sniff_toml(text: &str) -> Option<Family> {
    let has = |prefix: &str| text.lines().any(|l| l.trim_start().starts_with(prefix));
    if has("lock-version") && (has("created-by") || has("[[packages]]")) {
        Some(Family::Pylock)
    } else if has("lock_version") && has("[metadata]") {
        Some(Family::Pdm)
    } else if has("lock-version") && has("[metadata]") {
        Some(Family::Poetry)
    } else if has("[[package]]") && has("source = {") && has("version = ") {
        Some(Family::Uv)
    } else {
        None
    }
}

fn describe_content(text: &str) -> String {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if first.is_empty() {
        "an empty file".to_string()
    } else {
        format!(
            "content starting {:?}",
            first.chars().take(40).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_name_and_content() {
        assert_eq!(detect("x/package-lock.json", "{}").unwrap(), Family::Npm);
        assert_eq!(detect("pnpm-lock.yaml", "").unwrap(), Family::Pnpm);
        assert_eq!(
            detect("yarn.lock", "# yarn lockfile v1\n").unwrap(),
            Family::YarnClassic
        );
        assert_eq!(
            detect("yarn.lock", "__metadata:\n  version: 8\n").unwrap(),
            Family::YarnBerry
        );
        assert!(detect("yarn.lock", "# just a comment\n").is_err());
        assert!(detect("bun.lockb", "").is_err());
        assert_eq!(
            detect("a.json", "{\"lockfileVersion\": 3, \"packages\": {}}").unwrap(),
            Family::Npm
        );
        assert_eq!(
            detect(
                "a.json5",
                "{\"lockfileVersion\": 1, \"workspaces\": {\"\": {}}}"
            )
            .unwrap(),
            Family::Bun
        );
        assert_eq!(
            detect("a.yaml", "lockfileVersion: '9.0'\n").unwrap(),
            Family::Pnpm
        );
        assert_eq!(detect("uv.lock", "").unwrap(), Family::Uv);
        assert_eq!(
            detect("a/requirements-dev.txt", "").unwrap(),
            Family::Requirements
        );
        assert_eq!(detect("pylock.prod.toml", "").unwrap(), Family::Pylock);
        assert_eq!(
            detect("x.toml", "lock-version = \"1.0\"\ncreated-by = \"pip\"\n").unwrap(),
            Family::Pylock
        );
        assert_eq!(
            detect(
                "x.lock",
                "[[package]]\nname = \"a\"\n[metadata]\nlock-version = \"2.1\"\n"
            )
            .unwrap(),
            Family::Poetry
        );
        assert_eq!(
            detect("x.json", "{\"_meta\": {\"pipfile-spec\": 6}}").unwrap(),
            Family::Pipfile
        );
        let e = detect("notes.txt", "this is not json!")
            .unwrap_err()
            .to_string();
        assert!(e.contains("notes.txt") && e.contains("supported"), "{e}");
    }

    #[test]
    fn size_cap() {
        let opts = ParseOptions {
            max_bytes: 10,
            ..ParseOptions::default()
        };
        let e = parse_with("package-lock.json", &[b' '; 11], None, &opts).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }));
    }

    #[test]
    fn not_utf8() {
        let e = parse("package-lock.json", &[0xff, 0xfe]).unwrap_err();
        assert!(matches!(e, Error::NotUtf8 { .. }));
    }
}
