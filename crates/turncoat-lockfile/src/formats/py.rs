//! What every Python lockfile reader shares: PEP 503 names, hashes, source URLs, and a
//! bounded TOML reader with positions (`toml`'s span-keeping `DeTable`).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::ParseOptions;
use crate::error::Error;
use crate::formats::Ctx;
use crate::model::{Ecosystem, FileHash, LockedPackage, Lockfile, LockfileFormat, SourceKind};

/// PEP 503 normalisation: runs of `-`, `_` and `.` become one `-`, and the name is
/// lower-cased (`Django`, `django`, `DJANGO` are one project; `dj_ango` is `dj-ango`).
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// A valid PEP 508 project name: ASCII letters and digits, with `.`, `_` and `-` inside.
pub fn valid_project_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 200
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// A package with a checked, normalised name; `alias` keeps the spelling when it differs.
pub(crate) fn package(
    ctx: &mut Ctx<'_>,
    name: &str,
    version: &str,
    source: SourceKind,
    line: u32,
) -> Option<LockedPackage> {
    if !valid_project_name(name) {
        ctx.problem(line, format!("invalid project name {name:?}"));
        return None;
    }
    let norm = pep503_normalize(name);
    let mut p = LockedPackage::new(norm.clone(), version, source);
    if norm != name {
        p.alias = Some(name.to_string());
    }
    p.line = line;
    Some(p)
}

/// Parse `alg:hex` (`sha256:…`); only sha256/384/512 with hex of the right length.
pub fn parse_hash(s: &str, file: Option<&str>) -> Result<FileHash, String> {
    let Some((alg, hex)) = s.split_once([':', '=']) else {
        return Err(format!("hash {s:?} is not `algorithm:hex`"));
    };
    let alg = alg.trim().to_ascii_lowercase();
    let want = match alg.as_str() {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "hash algorithm {alg:?} is not sha256, sha384 or sha512"
            ));
        }
    };
    let hex = hex.trim();
    if hex.len() != want || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{alg} hash {hex:?} is not {want} hex digits"));
    }
    Ok(FileHash {
        file: file.map(str::to_string),
        algorithm: alg,
        digest: hex.to_ascii_lowercase(),
    })
}

/// The file name at the end of a URL or path (query and fragment removed).
pub fn file_name_of(url: &str) -> Option<&str> {
    let url = url.split(['#', '?']).next().unwrap_or(url);
    url.rsplit(['/', '\\'])
        .next()
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
}

/// Classify a direct reference (`name @ URL`, a bare URL line, a uv/poetry URL source).
pub fn classify_url(url: &str) -> SourceKind {
    let lower = url.to_ascii_lowercase();
    if ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        SourceKind::Git
    } else if lower.starts_with("file:") || !lower.contains("://") {
        SourceKind::File
    } else {
        SourceKind::Tarball
    }
}

pub(crate) fn lockfile(
    path: &str,
    format: LockfileFormat,
    mut packages: Vec<LockedPackage>,
    indexes: Vec<crate::model::PackageIndex>,
) -> Lockfile {
    packages.sort_by_key(|p| p.line);
    Lockfile {
        path: path.to_string(),
        format,
        packages,
        importers: Vec::new(),
        ecosystem: Ecosystem::Pypi,
        indexes,
    }
}

/// 1-based line of a byte offset.
pub(crate) fn line_at(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let n = text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(n + 1).unwrap_or(u32::MAX)
}

/// Parse TOML with positions, after a cheap nesting check (the parser builds nested
/// arrays and inline tables recursively; a hostile file could nest them a million deep).
pub(crate) fn parse_toml<'t>(
    ctx: &Ctx<'_>,
    text: &'t str,
    opts: &ParseOptions,
) -> Result<DeTable<'t>, Error> {
    if let Some(line) = too_deep(text, opts.max_depth) {
        return Err(Error::Syntax {
            path: ctx.path.to_string(),
            syntax: "TOML",
            line,
            message: format!("nesting deeper than {}", opts.max_depth),
        });
    }
    DeTable::parse(text)
        .map(Spanned::into_inner)
        .map_err(|e| Error::Syntax {
            path: ctx.path.to_string(),
            syntax: "TOML",
            line: e.span().map_or(0, |s| line_at(text, s.start)),
            message: e.message().to_string(),
        })
}

/// The line where `[`/`{` nesting outside strings first exceeds `max`.
fn too_deep(text: &str, max: usize) -> Option<u32> {
    let (mut depth, mut line) = (0usize, 1u32);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    let mut comment = false;
    for &b in text.as_bytes() {
        if b == b'\n' {
            line += 1;
            comment = false;
        }
        if comment {
            continue;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' && q == b'"' {
                escaped = true;
            } else if b == q {
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'#' => comment = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(line);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Typed access to a span-keeping TOML value, with the line for messages.
#[derive(Clone, Copy)]
pub(crate) struct Tv<'a, 't> {
    pub text: &'t str,
    pub v: &'a Spanned<DeValue<'t>>,
}

impl<'a, 't> Tv<'a, 't> {
    pub fn line(&self) -> u32 {
        line_at(self.text, self.v.span().start)
    }
    pub fn get(&self, key: &str) -> Option<Tv<'a, 't>> {
        self.v.get_ref().get(key).map(|v| Tv { text: self.text, v })
    }
    pub fn str(&self) -> Option<&'a str> {
        self.v.get_ref().as_str()
    }
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(|v| v.str())
    }
    pub fn items(&self) -> Vec<Tv<'a, 't>> {
        match self.v.get_ref() {
            DeValue::Array(a) => a.iter().map(|v| Tv { text: self.text, v }).collect(),
            _ => Vec::new(),
        }
    }
    pub fn is_table(&self) -> bool {
        self.v.get_ref().is_table()
    }
    /// `(key, value)` pairs of a table.
    pub fn entries(&self) -> Vec<(&'a str, Tv<'a, 't>)> {
        match self.v.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .map(|(k, v)| (k.get_ref().as_ref(), Tv { text: self.text, v }))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The value under `key` of a parsed document.
pub(crate) fn top<'a, 't>(text: &'t str, doc: &'a DeTable<'t>, key: &str) -> Option<Tv<'a, 't>> {
    doc.get(key).map(|v| Tv { text, v })
}

/// Read a `[{file|name, hash|hashes}]`-style list of file hashes into `out`.
pub(crate) fn file_hash(
    ctx: &mut Ctx<'_>,
    file: Option<&str>,
    hash: &str,
    line: u32,
    out: &mut Vec<FileHash>,
) {
    match parse_hash(hash, file) {
        Ok(h) => out.push(h),
        Err(e) => ctx.problem(line, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(pep503_normalize("Django"), "django");
        assert_eq!(pep503_normalize("zope.interface"), "zope-interface");
        assert_eq!(pep503_normalize("Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(pep503_normalize("dj_ango"), "dj-ango");
        assert!(valid_project_name("a.b_c-d"));
        assert!(!valid_project_name("-a"));
        assert!(!valid_project_name("a b"));
        assert!(!valid_project_name(""));
    }

    #[test]
    fn hashes() {
        let h = parse_hash(&format!("sha256:{}", "A".repeat(64)), Some("x.whl")).unwrap();
        assert_eq!(h.digest, "a".repeat(64));
        assert!(parse_hash(&format!("md5:{}", "a".repeat(32)), None).is_err());
        assert!(parse_hash("sha256:abc", None).is_err());
        assert!(parse_hash(&format!("sha256:{}", "g".repeat(64)), None).is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(classify_url("git+https://x/y.git@abc"), SourceKind::Git);
        assert_eq!(classify_url("https://x/y-1.0.tar.gz"), SourceKind::Tarball);
        assert_eq!(classify_url("file:///tmp/x"), SourceKind::File);
        assert_eq!(classify_url("./vendor/x"), SourceKind::File);
        assert_eq!(
            file_name_of("https://h/p/a-1.whl#sha256=x"),
            Some("a-1.whl")
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("a = {}1{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(too_deep(&deep, 128), Some(1));
        assert_eq!(too_deep("a = \"[[[[\"\n# [[[[\nb = [1]", 2), None);
    }
}
