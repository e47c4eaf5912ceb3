//! The TOML Python lockfiles: `uv.lock`, `poetry.lock` (v1 and v2), `pdm.lock` and PEP 751
//! `pylock.toml`. Each is read from `toml`'s span-keeping tree so that every package has
//! its line; an unknown format version is an error.

use crate::ParseOptions;
use crate::error::Error;
use crate::formats::Ctx;
use crate::formats::py::{self, Tv, top};
use crate::model::{
    FileHash, IndexRole, LockedPackage, Lockfile, LockfileFormat, PackageIndex, SourceKind,
};

/// uv.lock `revision`s this reader knows (uv 0.13 writes 5).
pub const UV_MAX_REVISION: i64 = 5;

fn int(v: Option<Tv<'_, '_>>) -> Option<i64> {
    let v = v?;
    let i = v.v.get_ref().as_integer()?;
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

fn hash_str(ctx: &mut Ctx<'_>, t: Tv<'_, '_>, file: Option<&str>, out: &mut Vec<FileHash>) {
    match t.get_str("hash") {
        Some(h) => py::file_hash(ctx, file, h, t.line(), out),
        None => ctx.problem(t.line(), format!("file {file:?} has no hash")),
    }
}

/// `[[package]]` / `[[packages]]` entries, or a problem if the key holds something else.
fn entries<'a, 't>(
    ctx: &mut Ctx<'_>,
    text: &'t str,
    doc: &'a toml::de::DeTable<'t>,
    key: &str,
) -> Vec<Tv<'a, 't>> {
    match top(text, doc, key) {
        None => Vec::new(),
        Some(v) if v.items().iter().all(Tv::is_table) => v.items(),
        Some(v) => {
            ctx.problem(v.line(), format!("`{key}` is not an array of tables"));
            Vec::new()
        }
    }
}

/// Name and version of an entry; problems for missing or invalid ones.
fn named(ctx: &mut Ctx<'_>, t: Tv<'_, '_>, source: SourceKind) -> Option<LockedPackage> {
    let Some(name) = t.get_str("name") else {
        ctx.problem(t.line(), "package without a name");
        return None;
    };
    let version = t.get_str("version").unwrap_or("");
    py::package(ctx, name, version, source, t.line())
}

// ---------------------------------------------------------------- uv.lock

pub(crate) fn uv(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let doc = py::parse_toml(&ctx, text, opts)?;
    let version = int(top(text, &doc, "version"));
    let revision = int(top(text, &doc, "revision")).unwrap_or(0);
    const SUPPORTED: &str = "uv.lock version 1, revision 0-5";
    if version != Some(1) || !(0..=UV_MAX_REVISION).contains(&revision) {
        return Err(ctx.unsupported(
            "uv.lock",
            format!("version {version:?}, revision {revision}"),
            SUPPORTED,
        ));
    }
    let mut pkgs = Vec::new();
    let mut registries: Vec<String> = Vec::new();
    for t in entries(&mut ctx, text, &doc, "package") {
        if let Some(p) = uv_package(&mut ctx, t, &mut registries) {
            pkgs.push(p);
        }
    }
    ctx.check()?;
    let indexes = index_list(path, registries);
    let format = LockfileFormat::UvLock {
        version: 1,
        revision: u32::try_from(revision).unwrap_or(0),
    };
    Ok(py::lockfile(path, format, pkgs, indexes))
}

fn uv_package(
    ctx: &mut Ctx<'_>,
    t: Tv<'_, '_>,
    registries: &mut Vec<String>,
) -> Option<LockedPackage> {
    let Some(src) = t.get("source").filter(Tv::is_table) else {
        ctx.problem(t.line(), "package without a `source` table");
        return None;
    };
    let (kind, loc) = match src.entries().first() {
        Some(&("registry", v)) => (SourceKind::Registry, v.str()),
        Some(&("git", v)) => (SourceKind::Git, v.str()),
        Some(&("url", v)) => (SourceKind::Tarball, v.str()),
        Some(&("path", v)) => (SourceKind::File, v.str()),
        Some(&("directory" | "editable" | "virtual", v)) => (SourceKind::Workspace, v.str()),
        other => {
            ctx.problem(
                src.line(),
                format!("unknown source {:?}", other.map(|o| o.0)),
            );
            return None;
        }
    };
    let mut p = named(ctx, t, kind)?;
    let loc = loc.unwrap_or("").to_string();
    if kind == SourceKind::Registry {
        if !registries.contains(&loc) {
            registries.push(loc.clone());
        }
        p.index = Some(loc);
    } else {
        p.resolved = Some(loc);
    }
    let mut files = Vec::new();
    if let Some(s) = t.get("sdist") {
        files.push(s);
    }
    files.extend(t.get("wheels").map(|w| w.items()).unwrap_or_default());
    for f in files {
        let name = f
            .get_str("url")
            .or_else(|| f.get_str("path"))
            .or_else(|| f.get_str("filename"))
            .and_then(py::file_name_of);
        hash_str(ctx, f, name, &mut p.hashes);
    }
    Some(p)
}

fn index_list(path: &str, urls: Vec<String>) -> Vec<PackageIndex> {
    urls.into_iter()
        .enumerate()
        .map(|(i, url)| PackageIndex {
            url,
            role: if i == 0 {
                IndexRole::Primary
            } else {
                IndexRole::Extra
            },
            name: None,
            file: path.to_string(),
            line: 0,
        })
        .collect()
}

// ---------------------------------------------------------------- poetry.lock

pub(crate) fn poetry(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let doc = py::parse_toml(&ctx, text, opts)?;
    let meta = top(text, &doc, "metadata");
    let version = meta.and_then(|m| m.get_str("lock-version")).unwrap_or("");
    const SUPPORTED: &str = "poetry.lock lock-version 1.0-1.1 and 2.0-2.1";
    if !matches!(version, "1.0" | "1.1" | "2.0" | "2.1") {
        return Err(ctx.unsupported("poetry.lock", format!("{version:?}"), SUPPORTED));
    }
    // lock-version 1.x keeps the hashes apart, under [metadata.files].
    let legacy = meta.and_then(|m| m.get("files"));
    let mut pkgs = Vec::new();
    let mut indexes: Vec<String> = Vec::new();
    for t in entries(&mut ctx, text, &doc, "package") {
        let Some(mut p) = poetry_package(&mut ctx, t, &mut indexes) else {
            continue;
        };
        let files = match (t.get("files"), legacy) {
            (Some(f), _) => f.items(),
            (None, Some(l)) => l
                .entries()
                .into_iter()
                .find(|(k, _)| py::pep503_normalize(k) == p.name)
                .map(|(_, v)| v.items())
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        for f in files {
            let name = f.get_str("file");
            hash_str(&mut ctx, f, name, &mut p.hashes);
        }
        pkgs.push(p);
    }
    ctx.check()?;
    let format = LockfileFormat::Poetry {
        version: version.to_string(),
    };
    Ok(py::lockfile(path, format, pkgs, index_extra(path, indexes)))
}

/// Poetry names only the non-default indexes (`legacy` sources): each is an extra one.
fn index_extra(path: &str, urls: Vec<String>) -> Vec<PackageIndex> {
    urls.into_iter()
        .map(|url| PackageIndex {
            url,
            role: IndexRole::Extra,
            name: None,
            file: path.to_string(),
            line: 0,
        })
        .collect()
}

fn poetry_package(
    ctx: &mut Ctx<'_>,
    t: Tv<'_, '_>,
    indexes: &mut Vec<String>,
) -> Option<LockedPackage> {
    let source = t.get("source");
    let kind = match source.and_then(|s| s.get_str("type")) {
        None => SourceKind::Registry,
        Some("legacy") => SourceKind::Registry,
        Some("git" | "hg" | "svn" | "bzr") => SourceKind::Git,
        Some("url") => SourceKind::Tarball,
        Some("file") => SourceKind::File,
        Some("directory") => SourceKind::Workspace,
        Some(other) => {
            ctx.problem(t.line(), format!("unknown source type {other:?}"));
            return None;
        }
    };
    let mut p = named(ctx, t, kind)?;
    let url = source.and_then(|s| s.get_str("url")).map(str::to_string);
    if kind == SourceKind::Registry {
        if let Some(u) = url.as_ref().filter(|u| !indexes.contains(u)) {
            indexes.push(u.clone());
        }
        p.index = url;
    } else {
        let rev = source.and_then(|s| s.get_str("resolved_reference"));
        p.resolved = match (url, rev) {
            (Some(u), Some(r)) => Some(format!("{u}@{r}")),
            (u, _) => u,
        };
    }
    p.markers = match t.get("markers") {
        Some(m) if m.str().is_some() => m.str().map(str::to_string),
        // Poetry 2 may key markers by group: keep them all, group by group.
        Some(m) => Some(
            m.entries()
                .iter()
                .filter_map(|(g, v)| v.str().map(|s| format!("{g}: {s}")))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .filter(|s| !s.is_empty()),
        None => None,
    };
    Some(p)
}

// ---------------------------------------------------------------- pdm.lock

pub(crate) fn pdm(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let doc = py::parse_toml(&ctx, text, opts)?;
    let meta = top(text, &doc, "metadata");
    let version = meta.and_then(|m| m.get_str("lock_version")).unwrap_or("");
    const SUPPORTED: &str = "pdm.lock lock_version 4.x";
    if !version.starts_with("4.") {
        return Err(ctx.unsupported("pdm.lock", format!("{version:?}"), SUPPORTED));
    }
    let mut pkgs = Vec::new();
    for t in entries(&mut ctx, text, &doc, "package") {
        let (kind, loc) = if let Some(g) = t.get_str("git") {
            let rev = t.get_str("revision");
            let loc = rev.map_or_else(|| g.to_string(), |r| format!("{g}@{r}"));
            (SourceKind::Git, Some(loc))
        } else if let Some(u) = t.get_str("url") {
            (py::classify_url(u), Some(u.to_string()))
        } else if let Some(pth) = t.get_str("path") {
            (SourceKind::File, Some(pth.to_string()))
        } else {
            (SourceKind::Registry, None)
        };
        let Some(mut p) = named(&mut ctx, t, kind) else {
            continue;
        };
        p.resolved = loc;
        p.markers = t.get_str("marker").map(str::to_string);
        for f in t.get("files").map(|f| f.items()).unwrap_or_default() {
            let name = f.get_str("file").or_else(|| f.get_str("url"));
            let name = name.and_then(py::file_name_of);
            hash_str(&mut ctx, f, name, &mut p.hashes);
        }
        pkgs.push(p);
    }
    ctx.check()?;
    let format = LockfileFormat::Pdm {
        version: version.to_string(),
    };
    Ok(py::lockfile(path, format, pkgs, Vec::new()))
}

// ---------------------------------------------------------------- pylock.toml (PEP 751)

pub(crate) fn pylock(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let doc = py::parse_toml(&ctx, text, opts)?;
    let version = top(text, &doc, "lock-version")
        .and_then(|v| v.str())
        .unwrap_or("");
    // PEP 751: a tool must refuse an unknown major version.
    const SUPPORTED: &str = "pylock.toml lock-version 1.x";
    if version.split('.').next() != Some("1") {
        return Err(ctx.unsupported("pylock.toml", format!("{version:?}"), SUPPORTED));
    }
    let mut pkgs = Vec::new();
    let mut indexes: Vec<String> = Vec::new();
    for t in entries(&mut ctx, text, &doc, "packages") {
        if let Some(p) = pylock_package(&mut ctx, t, &mut indexes) {
            pkgs.push(p);
        }
    }
    ctx.check()?;
    let format = LockfileFormat::Pylock {
        version: version.to_string(),
    };
    Ok(py::lockfile(path, format, pkgs, index_list(path, indexes)))
}

fn pylock_package(
    ctx: &mut Ctx<'_>,
    t: Tv<'_, '_>,
    indexes: &mut Vec<String>,
) -> Option<LockedPackage> {
    let family: Vec<&str> = ["vcs", "directory", "archive", "sdist", "wheels"]
        .into_iter()
        .filter(|k| t.get(k).is_some())
        .collect();
    let (kind, loc) = match family.first().copied() {
        Some("vcs") => {
            let v = t.get("vcs")?;
            let url = v.get_str("url").or_else(|| v.get_str("path")).unwrap_or("");
            let rev = v.get_str("commit-id").unwrap_or("");
            (SourceKind::Git, Some(format!("{url}@{rev}")))
        }
        Some("directory") => (
            SourceKind::Workspace,
            t.get("directory")?.get_str("path").map(str::to_string),
        ),
        Some("archive") => {
            let a = t.get("archive")?;
            match a.get_str("url") {
                Some(u) => (SourceKind::Tarball, Some(u.to_string())),
                None => (SourceKind::File, a.get_str("path").map(str::to_string)),
            }
        }
        Some(_) => (SourceKind::Registry, None),
        None => {
            ctx.problem(
                t.line(),
                "package with no source (vcs, directory, archive, sdist or wheels)",
            );
            return None;
        }
    };
    if family.len() > 1 && family != ["sdist", "wheels"] {
        ctx.problem(
            t.line(),
            format!("package with several source kinds {family:?} (PEP 751 allows one)"),
        );
        return None;
    }
    let mut p = named(ctx, t, kind)?;
    p.resolved = loc;
    p.markers = t.get_str("marker").map(str::to_string);
    if let Some(i) = t.get_str("index") {
        if !indexes.iter().any(|x| x == i) {
            indexes.push(i.to_string());
        }
        p.index = Some(i.to_string());
    }
    let mut files: Vec<Tv<'_, '_>> = Vec::new();
    files.extend(t.get("sdist"));
    files.extend(t.get("archive"));
    files.extend(t.get("wheels").map(|w| w.items()).unwrap_or_default());
    for f in files {
        let name = f
            .get_str("name")
            .or_else(|| f.get_str("url").and_then(py::file_name_of))
            .or_else(|| f.get_str("path").and_then(py::file_name_of));
        let Some(hashes) = f.get("hashes") else {
            ctx.problem(f.line(), format!("file {name:?} has no hashes"));
            continue;
        };
        for (alg, digest) in hashes.entries() {
            let Some(d) = digest.str() else { continue };
            // Only the algorithms we can check; others (e.g. blake2b) are kept out.
            if matches!(alg, "sha256" | "sha384" | "sha512") {
                py::file_hash(ctx, name, &format!("{alg}:{d}"), f.line(), &mut p.hashes);
            }
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "0000000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn uv_versions_fail_closed() {
        let o = ParseOptions::default();
        assert!(uv("uv.lock", "version = 2\n", &o).is_err());
        assert!(uv("uv.lock", "version = 1\nrevision = 99\n", &o).is_err());
        let l = uv("uv.lock", "version = 1\nrevision = 3\n", &o).unwrap();
        assert_eq!(l.format.id(), "uv-lock-v1");
    }

    #[test]
    fn uv_sources_hashes_and_lines() {
        let text = format!(
            "version = 1\nrevision = 3\n\n[[package]]\nname = \"Foo_Bar\"\nversion = \"1.0\"\n\
             source = {{ registry = \"https://pypi.org/simple\" }}\n\
             sdist = {{ url = \"https://f/foo_bar-1.0.tar.gz\", hash = \"sha256:{H}\" }}\n\n\
             [[package]]\nname = \"evil\"\nversion = \"0.1\"\n\
             source = {{ git = \"https://github.com/x/evil?rev=main#abc\" }}\n"
        );
        let l = uv("uv.lock", &text, &ParseOptions::default()).unwrap();
        assert_eq!(l.packages.len(), 2);
        let a = &l.packages[0];
        assert_eq!((a.name.as_str(), a.line), ("foo-bar", 4));
        assert_eq!(a.hashes[0].file.as_deref(), Some("foo_bar-1.0.tar.gz"));
        assert_eq!(a.index.as_deref(), Some("https://pypi.org/simple"));
        assert_eq!(l.packages[1].source, SourceKind::Git);
        assert_eq!(l.packages[1].line, 10);
    }

    #[test]
    fn poetry_v1_hashes_live_in_metadata() {
        let text = format!(
            "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\n\n[metadata]\nlock-version = \"1.1\"\n\
             [metadata.files]\nsix = [{{file = \"six-1.16.0.tar.gz\", hash = \"sha256:{H}\"}}]\n"
        );
        let l = poetry("poetry.lock", &text, &ParseOptions::default()).unwrap();
        assert_eq!(l.packages[0].hashes.len(), 1);
        assert_eq!(l.format.id(), "poetry-lock-v1");
        assert!(
            poetry(
                "poetry.lock",
                "[metadata]\nlock-version = \"3.0\"\n",
                &ParseOptions::default()
            )
            .is_err()
        );
    }

    #[test]
    fn pylock_one_source_family() {
        let bad = "lock-version = \"1.0\"\ncreated-by = \"x\"\n[[packages]]\nname = \"a\"\n\
                   vcs = {type = \"git\", url = \"https://h/a\", commit-id = \"abc\"}\n\
                   directory = {path = \".\"}\n";
        assert!(pylock("pylock.toml", bad, &ParseOptions::default()).is_err());
        assert!(
            pylock(
                "pylock.toml",
                "lock-version = \"2.0\"\n",
                &ParseOptions::default()
            )
            .is_err()
        );
    }
}
