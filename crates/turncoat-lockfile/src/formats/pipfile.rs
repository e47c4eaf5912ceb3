//! pipenv `Pipfile.lock` (JSON, `_meta.pipfile-spec` 6), read with the crate's bounded,
//! line-keeping JSON reader.

use crate::ParseOptions;
use crate::error::Error;
use crate::formats::{Ctx, parse_json, py};
use crate::model::{IndexRole, LockedPackage, Lockfile, LockfileFormat, PackageIndex, SourceKind};
use crate::tree::Node;

pub(crate) fn parse(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let root = parse_json(&ctx, text, false, opts)?;
    let meta = root.get("_meta");
    let spec = meta
        .and_then(|m| m.get("pipfile-spec"))
        .and_then(Node::as_text)
        .unwrap_or("");
    if spec != "6" {
        return Err(ctx.unsupported(
            "Pipfile.lock",
            format!("pipfile-spec {spec:?}"),
            "Pipfile.lock pipfile-spec 6",
        ));
    }
    let mut indexes = Vec::new();
    for (i, s) in meta
        .and_then(|m| m.get("sources"))
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(url) = s.get("url").and_then(Node::as_str) else {
            ctx.problem(s.line, "source without a url");
            continue;
        };
        indexes.push(PackageIndex {
            url: url.to_string(),
            role: if i == 0 {
                IndexRole::Primary
            } else {
                IndexRole::Extra
            },
            name: s.get("name").and_then(Node::as_str).map(str::to_string),
            file: path.to_string(),
            line: s.line,
        });
    }
    let mut pkgs = Vec::new();
    for section in root.entries().iter().filter(|e| e.key != "_meta") {
        if !section.node.is_map() {
            ctx.problem(section.line, format!("`{}` is not an object", section.key));
            continue;
        }
        for e in section.node.entries() {
            if let Some(mut p) = entry(&mut ctx, &e.key, &e.node, &indexes) {
                p.dev = section.key == "develop";
                pkgs.push(p);
            }
        }
    }
    ctx.check()?;
    Ok(py::lockfile(
        path,
        LockfileFormat::Pipfile { version: 6 },
        pkgs,
        indexes,
    ))
}

fn entry(
    ctx: &mut Ctx<'_>,
    name: &str,
    n: &Node<'_>,
    indexes: &[PackageIndex],
) -> Option<LockedPackage> {
    let s = |k: &str| n.get(k).and_then(Node::as_str);
    let (kind, loc) = if let Some(g) = s("git") {
        let r = s("ref").unwrap_or("");
        (SourceKind::Git, Some(format!("{g}@{r}")))
    } else if let Some(f) = s("file") {
        (py::classify_url(f), Some(f.to_string()))
    } else if let Some(p) = s("path") {
        (SourceKind::File, Some(p.to_string()))
    } else {
        (SourceKind::Registry, None)
    };
    // `==1.2.3` is a pin. pipenv writes the Pipfile's range (`"==>=0.4"`) for a package
    // whose marker did not match where it locked: that is not a pin, and has no hashes.
    let written = s("version");
    let version = match written.map(|v| v.strip_prefix("==")) {
        Some(Some(v)) if looks_like_version(v) => v,
        Some(_) => "",
        None if kind != SourceKind::Registry => "",
        None => {
            ctx.problem(n.line, format!("{name}: no version"));
            return None;
        }
    };
    let mut p = py::package(ctx, name, version, kind, n.line)?;
    if version.is_empty() && kind == SourceKind::Registry {
        p.requirement = written.map(|w| format!("{name}{w}"));
    }
    p.resolved = loc;
    p.markers = s("markers").map(str::to_string);
    if let Some(ix) = s("index") {
        match indexes.iter().find(|i| i.name.as_deref() == Some(ix)) {
            Some(i) => p.index = Some(i.url.clone()),
            None => ctx.problem(
                n.line,
                format!("{name}: index {ix:?} is not a listed source"),
            ),
        }
    } else if let [only] = indexes {
        // pipenv omits `index` for the only source; with several, any may serve it.
        if kind == SourceKind::Registry {
            p.index = Some(only.url.clone());
        }
    }
    for h in n.get("hashes").map(Node::items).unwrap_or_default() {
        match h.as_str() {
            Some(h) => py::file_hash(ctx, None, h, h_line(n), &mut p.hashes),
            None => ctx.problem(n.line, format!("{name}: a hash is not a string")),
        }
    }
    Some(p)
}

/// PEP 440 characters only (digits, letters, `.`, `!`, `+`, `-`, `_`).
fn looks_like_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '!' | '+' | '-' | '_'))
}

fn h_line(n: &Node<'_>) -> u32 {
    n.get("hashes").map_or(n.line, |h| h.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_and_sources() {
        let o = ParseOptions::default();
        assert!(parse("Pipfile.lock", r#"{"_meta": {"pipfile-spec": 7}}"#, &o).is_err());
        let h = "0".repeat(64);
        let text = format!(
            r#"{{"_meta": {{"pipfile-spec": 6, "sources": [
                {{"name": "pypi", "url": "https://pypi.org/simple"}},
                {{"name": "corp", "url": "https://corp.example/simple"}}]}},
              "default": {{"Requests": {{"version": "==2.31.0", "index": "corp",
                  "hashes": ["sha256:{h}"], "markers": "python_version >= '3.8'"}},
                "evil": {{"git": "https://github.com/x/evil.git", "ref": "abc"}}}},
              "develop": {{}}}}"#
        );
        let l = parse("Pipfile.lock", &text, &o).unwrap();
        assert_eq!(l.indexes.len(), 2);
        assert_eq!(l.indexes[1].role, IndexRole::Extra);
        let r = &l.packages[0];
        assert_eq!(
            (r.name.as_str(), r.alias.as_deref()),
            ("requests", Some("Requests"))
        );
        assert_eq!(r.index.as_deref(), Some("https://corp.example/simple"));
        assert_eq!(l.packages[1].source, SourceKind::Git);
        // Real pipenv output for a package whose marker did not match: a range, no pin.
        let loose = r#"{"_meta": {"pipfile-spec": 6}, "default": {"a": {"version": "==>=0.4"}}}"#;
        let l = parse("Pipfile.lock", loose, &o).unwrap();
        assert_eq!(l.packages[0].version, "");
        assert_eq!(l.packages[0].requirement.as_deref(), Some("a==>=0.4"));
        let bad = r#"{"_meta": {"pipfile-spec": 6}, "default": {"a": {}}}"#;
        assert!(parse("Pipfile.lock", bad, &o).is_err());
    }
}
