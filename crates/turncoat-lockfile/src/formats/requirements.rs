//! pip `requirements.txt`, with `-r`/`-c` includes, hashes, markers and index options.
//!
//! Hand-written: no maintained Rust crate parses pip's requirements-file grammar (pip's own
//! `req_file.py` is the reference: comments need whitespace before `#`, a trailing `\`
//! joins lines, options after the requirement apply to it, option-only lines apply to the
//! whole install). PEP 508 requirement strings are split here only as far as the lockfile
//! model needs (name, extras, `==` pin or specifier, direct URL, marker).
//!
//! Includes are resolved by an [`Includes`] the caller passes: [`crate::read`] confines them
//! to the top file's directory (no `..`, absolute or symlinked escape), refuses loops and
//! caps depth and count; [`crate::parse`] has no disk and fails closed on any include.

use std::collections::HashSet;

use crate::error::Error;
use crate::formats::Ctx;
use crate::formats::py;
use crate::model::{IndexRole, LockedPackage, Lockfile, LockfileFormat, PackageIndex, SourceKind};

/// Deepest chain of `-r`/`-c` includes.
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Most files one requirements file may pull in.
pub const MAX_INCLUDED_FILES: usize = 64;

/// Reads the files a requirements file includes.
pub trait Includes {
    /// Read `target` as written in `from` (the display path of the including file).
    /// Returns the included file's display path, a key identifying it (a canonical
    /// path: two spellings of one file must give one key) and its text.
    fn load(&mut self, from: &str, target: &str) -> Result<Included, String>;
}

/// One file an [`Includes`] read.
pub struct Included {
    pub display: String,
    pub key: String,
    pub text: String,
}

/// The [`Includes`] of [`crate::parse`]: no disk, every include is an error.
pub struct NoIncludes;

impl Includes for NoIncludes {
    fn load(&mut self, _from: &str, target: &str) -> Result<Included, String> {
        Err(format!(
            "cannot follow the include {target:?} without the file system; read the file \
             from disk (turncoat_lockfile::read) or pass the included files"
        ))
    }
}

struct State<'i> {
    includes: &'i mut dyn Includes,
    packages: Vec<LockedPackage>,
    indexes: Vec<PackageIndex>,
    /// Keys of the files on the current include chain (a loop) and of every file read.
    stack: Vec<String>,
    seen: HashSet<String>,
    primary: Option<String>,
}

pub(crate) fn parse(
    path: &str,
    text: &str,
    includes: &mut dyn Includes,
) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let mut st = State {
        includes,
        packages: Vec::new(),
        indexes: Vec::new(),
        stack: vec![path.to_string()],
        seen: HashSet::new(),
        primary: None,
    };
    file(&mut ctx, &mut st, path, text, false);
    ctx.check()?;
    // `--index-url` applies to the whole install, wherever it is written.
    if let Some(primary) = &st.primary {
        for p in st
            .packages
            .iter_mut()
            .filter(|p| p.source == SourceKind::Registry)
        {
            p.index = Some(primary.clone());
        }
    }
    let mut lock = py::lockfile(path, LockfileFormat::Requirements, Vec::new(), st.indexes);
    // Keep the order of reading (includes inline), not by line: lines restart per file.
    lock.packages = st.packages;
    Ok(lock)
}

/// Logical lines: `(first physical line, text)`, comments removed, `\` continuations joined.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0u32;
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if cur.is_empty() {
            start = n;
        }
        let line = strip_comment(raw);
        if let Some(body) = line.strip_suffix('\\') {
            cur.push_str(body);
            cur.push(' ');
            continue;
        }
        cur.push_str(line);
        if !cur.trim().is_empty() {
            out.push((start, std::mem::take(&mut cur)));
        }
        cur.clear();
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// pip: `#` starts a comment at the start of a line or after whitespace.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

fn file(ctx: &mut Ctx<'_>, st: &mut State<'_>, display: &str, text: &str, constraints: bool) {
    for (line, logical) in logical_lines(text) {
        let tokens: Vec<&str> = logical.split_whitespace().collect();
        let split = tokens
            .iter()
            .position(|t| t.starts_with('-'))
            .unwrap_or(tokens.len());
        let (req, opts) = tokens.split_at(split);
        let at = |m: String| (line, format!("{display}: {m}"));
        if req.is_empty() {
            if let Err(m) = option_line(ctx, st, display, line, opts, constraints) {
                let (l, m) = at(m);
                ctx.problem(l, m);
            }
            continue;
        }
        if constraints {
            // A constraints file limits versions but installs nothing.
            continue;
        }
        match requirement(ctx, &req.join(" "), opts, display, line) {
            Ok(Some(p)) => st.packages.push(p),
            Ok(None) => {}
            Err(m) => {
                let (l, m) = at(m);
                ctx.problem(l, m);
            }
        }
    }
}

/// `(option, value)` pairs from tokens: `--x=v`, `--x v`, `-r v`, `-rv`.
fn options<'t>(tokens: &[&'t str]) -> Result<Vec<(&'t str, Option<&'t str>)>, String> {
    const WITH_VALUE: &[&str] = &[
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "-e",
        "--editable",
        "--hash",
        "--global-option",
        "--config-settings",
        "-C",
        "--no-binary",
        "--only-binary",
        "--use-feature",
    ];
    let mut out = Vec::new();
    let mut it = tokens.iter();
    while let Some(&t) = it.next() {
        if !t.starts_with('-') {
            return Err(format!("unexpected {t:?} after the options"));
        }
        if let Some((k, v)) = t.split_once('=').filter(|_| t.starts_with("--")) {
            out.push((k, Some(v)));
        } else if WITH_VALUE.contains(&t) {
            let v = it.next().ok_or_else(|| format!("{t} needs a value"))?;
            out.push((t, Some(*v)));
        } else if let Some(short) = ["-r", "-c", "-i", "-f", "-e", "-C"]
            .into_iter()
            .find(|s| t.len() > 2 && t.starts_with(s))
        {
            out.push((short, Some(&t[2..])));
        } else {
            out.push((t, None));
        }
    }
    Ok(out)
}

fn option_line(
    ctx: &mut Ctx<'_>,
    st: &mut State<'_>,
    display: &str,
    line: u32,
    tokens: &[&str],
    constraints: bool,
) -> Result<(), String> {
    let opts = options(tokens)?;
    for (k, v) in opts {
        let v = v.unwrap_or_default();
        let index = |role| PackageIndex {
            url: v.to_string(),
            role,
            name: None,
            file: display.to_string(),
            line,
        };
        match k {
            "-r" | "--requirement" => include(ctx, st, display, v, false)?,
            "-c" | "--constraint" => include(ctx, st, display, v, true)?,
            "-i" | "--index-url" => {
                st.primary = Some(v.to_string());
                st.indexes.push(index(IndexRole::Primary));
            }
            "--extra-index-url" => st.indexes.push(index(IndexRole::Extra)),
            "-f" | "--find-links" => st.indexes.push(index(IndexRole::FindLinks)),
            "-e" | "--editable" if !constraints => {
                if let Some(mut p) = direct(ctx, v, display, line)? {
                    if p.source == SourceKind::File {
                        p.source = SourceKind::Workspace;
                    }
                    st.packages.push(p);
                }
            }
            "--hash" => {
                return Err(format!(
                    "--hash {v:?} on a line with no requirement applies to no package \
                     (a hash must follow its requirement, joined with `\\`)"
                ));
            }
            "--no-index" | "--trusted-host" | "--pre" | "--prefer-binary" | "--require-hashes"
            | "--no-binary" | "--only-binary" | "--use-feature" | "-e" | "--editable" => {}
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(())
}

fn include(
    ctx: &mut Ctx<'_>,
    st: &mut State<'_>,
    from: &str,
    target: &str,
    constraints: bool,
) -> Result<(), String> {
    if st.stack.len() > MAX_INCLUDE_DEPTH {
        return Err(format!(
            "include {target:?} is more than {MAX_INCLUDE_DEPTH} levels deep"
        ));
    }
    let inc = st.includes.load(from, target)?;
    if st.stack.contains(&inc.key) {
        return Err(format!(
            "include loop: {target:?} includes a file already being read ({})",
            inc.display
        ));
    }
    if !st.seen.insert(inc.key.clone()) {
        return Ok(()); // read once already (two files include it): nothing new
    }
    if st.seen.len() > MAX_INCLUDED_FILES {
        return Err(format!("more than {MAX_INCLUDED_FILES} included files"));
    }
    st.stack.push(inc.key);
    file(ctx, st, &inc.display, &inc.text, constraints);
    st.stack.pop();
    Ok(())
}

/// One requirement line: `name[extras] spec ; marker` or `name @ url ; marker`, or a bare
/// URL / path, followed by per-requirement options.
fn requirement(
    ctx: &mut Ctx<'_>,
    req: &str,
    opts: &[&str],
    display: &str,
    line: u32,
) -> Result<Option<LockedPackage>, String> {
    let looks_direct = req.contains("://")
        || req.starts_with(['.', '/'])
        || req.split_whitespace().next().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.ends_with(".whl") || t.ends_with(".tar.gz") || t.ends_with(".zip")
        });
    let mut pkg = if looks_direct && !req.contains(" @ ") && !req.contains("@ ") {
        match direct(
            ctx,
            req.split(" ;").next().unwrap_or(req).trim(),
            display,
            line,
        )? {
            Some(p) => p,
            None => return Ok(None),
        }
    } else {
        pep508(ctx, req, display, line)?
    };
    if let Some((_, m)) = req.split_once(';') {
        pkg.markers = Some(m.trim().to_string());
    }
    for (k, v) in options(opts)? {
        match k {
            "--hash" => {
                let v = v.unwrap_or_default();
                let h = py::parse_hash(v, None)?;
                pkg.hashes.push(h);
            }
            "--global-option" | "--config-settings" | "-C" => {}
            other => return Err(format!("option {other} is not allowed on a requirement")),
        }
    }
    Ok(Some(pkg))
}

fn pep508(ctx: &mut Ctx<'_>, req: &str, display: &str, line: u32) -> Result<LockedPackage, String> {
    let before_marker = req.split(';').next().unwrap_or(req).trim();
    let name_end = before_marker
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(before_marker.len());
    let name = &before_marker[..name_end];
    let mut rest = before_marker[name_end..].trim_start();
    if rest.starts_with('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| format!("unclosed extras in {req:?}"))?;
        rest = rest[close + 1..].trim_start();
    }
    if let Some(url) = rest.strip_prefix('@') {
        // `name @ URL`: whatever the URL is (git+, https, file), it is not the index.
        let url = url.trim();
        if url.is_empty() {
            return Err(format!("{name} @ with no URL"));
        }
        let mut p = py::package(ctx, name, "", py::classify_url(url), line)
            .ok_or_else(|| format!("invalid project name {name:?}"))?;
        p.resolved = Some(url.to_string());
        p.requirement = Some(before_marker.to_string());
        p.paths = vec![display.to_string()];
        return Ok(p);
    }
    let spec: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
    if !spec.is_empty() && !spec.starts_with(['=', '<', '>', '!', '~', '(']) {
        return Err(format!("cannot read the requirement {req:?}"));
    }
    let pinned = spec
        .strip_prefix("===")
        .or_else(|| spec.strip_prefix("=="))
        .filter(|v| {
            !v.is_empty()
                && !v.contains([',', '*', '=', '<', '>', '!', '~', '(', ')'])
                && v.chars().all(|c| c.is_ascii_graphic())
        });
    if spec.starts_with("==") && pinned.is_none() && !spec.contains([',', '*']) {
        return Err(format!("`==` without a version in {req:?}"));
    }
    let mut p = py::package(ctx, name, pinned.unwrap_or(""), SourceKind::Registry, line)
        .ok_or_else(|| format!("invalid project name {name:?}"))?;
    p.requirement = Some(before_marker.to_string());
    p.paths = vec![display.to_string()];
    Ok(p)
}

/// A bare URL or path line (or `-e` target): the name from `#egg=` or the file name.
fn direct(
    ctx: &mut Ctx<'_>,
    url: &str,
    display: &str,
    line: u32,
) -> Result<Option<LockedPackage>, String> {
    let egg = url
        .split_once('#')
        .and_then(|(_, frag)| frag.split('&').find_map(|kv| kv.strip_prefix("egg=")));
    let (name, version) = match egg {
        Some(e) => (e.to_string(), String::new()),
        None => name_from_file(url).ok_or_else(|| {
            format!("cannot tell which project {url:?} is (add `#egg=NAME` or use `NAME @ URL`)")
        })?,
    };
    let Some(mut p) = py::package(ctx, &name, &version, py::classify_url(url), line) else {
        return Ok(None);
    };
    p.resolved = Some(url.to_string());
    p.requirement = Some(url.to_string());
    p.paths = vec![display.to_string()];
    Ok(Some(p))
}

/// `name-version-…whl` / `name-version.tar.gz` / a directory's last component.
fn name_from_file(url: &str) -> Option<(String, String)> {
    let f = py::file_name_of(url)?;
    if let Some(stem) = f.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        return Some((parts.next()?.to_string(), parts.next()?.to_string()));
    }
    for ext in [".tar.gz", ".zip", ".tar.bz2"] {
        if let Some(stem) = f.strip_suffix(ext) {
            let (n, v) = stem.rsplit_once('-')?;
            return Some((n.to_string(), v.to_string()));
        }
    }
    // A local project directory.
    (!url.contains("://")).then(|| (f.to_string(), String::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<&'static str, &'static str>);
    impl Includes for Mem {
        fn load(&mut self, _from: &str, target: &str) -> Result<Included, String> {
            let text = self.0.get(target).ok_or("missing")?;
            Ok(Included {
                display: target.to_string(),
                key: target.to_string(),
                text: (*text).to_string(),
            })
        }
    }

    fn run(text: &str, files: &[(&'static str, &'static str)]) -> Result<Lockfile, Error> {
        parse(
            "requirements.txt",
            text,
            &mut Mem(files.iter().copied().collect()),
        )
    }

    const H1: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn pinned_with_hashes_markers_and_continuations() {
        let text = format!(
            "# c\nrequests==2.31.0 \\\n    --hash={H1} \\\n    --hash={H1}\n\
             tomli==2.0.1 ; python_version < \"3.11\" --hash={H1}\nFoo.Bar>=1\n"
        );
        let l = run(&text, &[]).unwrap();
        assert_eq!(l.format.id(), "requirements-txt");
        assert_eq!(l.packages.len(), 3);
        let r = &l.packages[0];
        assert_eq!(
            (r.name.as_str(), r.version.as_str(), r.line),
            ("requests", "2.31.0", 2)
        );
        assert_eq!(r.hashes.len(), 2);
        assert_eq!(
            l.packages[1].markers.as_deref(),
            Some("python_version < \"3.11\"")
        );
        let u = &l.packages[2];
        assert_eq!((u.name.as_str(), u.version.as_str()), ("foo-bar", ""));
        assert_eq!(u.alias.as_deref(), Some("Foo.Bar"));
        assert_eq!(u.requirement.as_deref(), Some("Foo.Bar>=1"));
    }

    #[test]
    fn indexes_are_recorded_and_applied() {
        let l = run(
            "-i https://mirror.example/simple\n--extra-index-url https://evil.example/simple\na==1\n",
            &[],
        )
        .unwrap();
        assert_eq!(l.indexes.len(), 2);
        assert_eq!(l.indexes[1].role, IndexRole::Extra);
        assert_eq!(
            l.packages[0].index.as_deref(),
            Some("https://mirror.example/simple")
        );
    }

    #[test]
    fn includes_are_followed_and_loops_refused() {
        let l = run(
            "-r b.txt\na==1\n",
            &[("b.txt", "b==2\n-c c.txt\n"), ("c.txt", "z==9\n")],
        )
        .unwrap();
        let names: Vec<_> = l.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["b", "a"], "constraints install nothing");
        assert_eq!(l.packages[0].paths, ["b.txt"]);
        let e = run(
            "-r b.txt\n",
            &[("b.txt", "-r requirements.txt\n"), ("requirements.txt", "")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("include loop"), "{e}");
        let e = run("-r requirements.txt\n", &[("requirements.txt", "a==1\n")]).unwrap_err();
        assert!(e.to_string().contains("include loop"), "{e}");
        let e = parse("requirements.txt", "-r x.txt\n", &mut NoIncludes).unwrap_err();
        assert!(e.to_string().contains("without the file system"), "{e}");
    }

    #[test]
    fn a_detached_hash_line_is_refused() {
        // The hash line belongs to nothing once a comment breaks the continuation.
        let text = format!("a==1 \\\n  --hash={H1}\n# pinned\n  --hash={H1}\n");
        let e = run(&text, &[]).unwrap_err().to_string();
        assert!(e.contains("applies to no package"), "{e}");
    }

    #[test]
    fn direct_references_are_not_index_packages() {
        let l = run(
            "evil @ git+https://github.com/x/evil.git@abc\n\
             ./vendor/pkg-1.0-py3-none-any.whl\n\
             -e git+https://h/r.git#egg=Ed\n\
             https://h/x-2.0.tar.gz\n",
            &[],
        )
        .unwrap();
        let kinds: Vec<_> = l
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.source))
            .collect();
        assert_eq!(
            kinds,
            [
                ("evil", SourceKind::Git),
                ("pkg", SourceKind::File),
                ("ed", SourceKind::Git),
                ("x", SourceKind::Tarball)
            ]
        );
    }

    #[test]
    fn malformed_lines_fail_closed() {
        for bad in [
            "asdf==\n",
            "==1.0\n",
            "asdf 1.0\n",
            "a==1 --hash=md5:00\n",
            "a==1 --hash=sha256:123\n",
            "--unknown-option\n",
            "a==1 -r x.txt\n",
            "https://h/unnamed\n",
        ] {
            assert!(run(bad, &[]).is_err(), "{bad:?} should fail");
        }
    }
}
