//! Fail-closed readers and lints for JavaScript lockfiles.
//!
//! This crate owns everything about lockfiles: detecting which tool wrote one (by file
//! name and content), parsing `package-lock.json` / `npm-shrinkwrap.json` v1-v3, Yarn
//! classic and Berry `yarn.lock`, `pnpm-lock.yaml` v5/v6/v9 and text `bun.lock` into one
//! [`Lockfile`] model with 1-based line numbers, and the sans-IO lockfile [`lint`]s.
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
pub use lint::{LintOptions, lint, rules};
pub use model::{
    DepKind, Dependency, Importer, LockedPackage, Lockfile, LockfileFormat, PackageKey, SourceKind,
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
