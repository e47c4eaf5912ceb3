//! The typed errors of parsing. Every failure names the file; unknown formats and
//! versions say what was found and what is supported (fail closed, never an empty list).

use std::fmt;

/// One problem with one entry of an otherwise readable lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, 0 when unknown.
    pub line: u32,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// Why a lockfile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {size} bytes is over the {limit}-byte limit for lockfiles")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{path}: not UTF-8 text")]
    NotUtf8 { path: String },
    #[error("{path}: not a recognised lockfile: found {found}; supported: {supported}")]
    UnknownFormat {
        path: String,
        found: String,
        supported: &'static str,
    },
    #[error("{path}: unsupported {format} version: found {found}; supported: {supported}")]
    UnsupportedVersion {
        path: String,
        format: &'static str,
        found: String,
        supported: &'static str,
    },
    #[error("{path}:{line}: invalid {syntax}: {message}")]
    Syntax {
        path: String,
        syntax: &'static str,
        line: u32,
        message: String,
    },
    #[error("{path}: malformed lockfile: {}", join(.problems))]
    Malformed {
        path: String,
        problems: Vec<Problem>,
    },
}

fn join(problems: &[Problem]) -> String {
    const SHOWN: usize = 20;
    let mut s = problems
        .iter()
        .take(SHOWN)
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > SHOWN {
        s.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    s
}

/// What [`Error::UnknownFormat`] lists as supported.
pub const SUPPORTED_FORMATS: &str = "package-lock.json / npm-shrinkwrap.json (lockfileVersion 1-3), \
yarn.lock (classic v1, Berry __metadata 4-10), pnpm-lock.yaml (lockfileVersion 5.x, 6.x, 9.x), \
bun.lock (lockfileVersion 0-2); Python: requirements*.txt, uv.lock (version 1, revision 0-5), \
poetry.lock (lock-version 1.0-2.1), Pipfile.lock (pipfile-spec 6), pylock.toml / pylock.*.toml \
(lock-version 1.x), pdm.lock (lock_version 4.x)";
