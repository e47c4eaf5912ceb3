//! Text `bun.lock` (JSONC, `lockfileVersion` 0 or 1). Each `packages` key is an install
//! path (`parent/child` for nested copies) mapped to a tuple:
//! npm `[ident, registry-url-or-"", meta, integrity]`, git `[ident, meta, dir]`,
//! tarball `[ident, meta]`/`[ident, meta, integrity]`, file/link/workspace `[ident, meta?]`.
//!
//! Bun writes no dev/optional flags; they are computed from the workspaces.

use std::collections::HashMap;

use super::{Ctx, parse_json};
use crate::ParseOptions;
use crate::error::Error;
use crate::model::{
    DepKind, Dependency, Importer, LockedPackage, Lockfile, LockfileFormat, SourceKind, dedupe,
};
use crate::spec::{classify, looks_like_version, split_name};
use crate::tree::Node;

const SUPPORTED: &str = "lockfileVersion 0, 1, 2";

pub(crate) fn parse(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let root = parse_json(&ctx, text, true, opts)?;
    if !root.is_map() {
        return Err(ctx.unsupported(
            "bun.lock",
            format!("a document that is {}, not an object", root.kind()),
            SUPPORTED,
        ));
    }
    let version = match root.get("lockfileVersion") {
        None => return Err(ctx.unsupported("bun.lock", "no lockfileVersion".into(), SUPPORTED)),
        Some(v) => match v.as_text().and_then(|t| t.parse::<u32>().ok()) {
            Some(n @ 0..=2) if v.as_str().is_none() => n,
            _ => {
                return Err(ctx.unsupported(
                    "bun.lock",
                    format!("lockfileVersion {}", v.as_text().unwrap_or(v.kind())),
                    SUPPORTED,
                ));
            }
        },
    };

    let mut importers = Vec::new();
    if let Some(ws) = root.get("workspaces") {
        for e in ws.entries() {
            if !e.node.is_map() {
                ctx.problem(
                    e.line,
                    format!("workspace {:?} is {}, not an object", e.key, e.node.kind()),
                );
                continue;
            }
            let mut deps = Vec::new();
            ctx.deps(e.node.get("dependencies"), DepKind::Prod, &mut deps);
            ctx.deps(e.node.get("devDependencies"), DepKind::Dev, &mut deps);
            ctx.deps(
                e.node.get("optionalDependencies"),
                DepKind::Optional,
                &mut deps,
            );
            ctx.deps(e.node.get("peerDependencies"), DepKind::Peer, &mut deps);
            importers.push(Importer {
                path: e.key.to_string(),
                name: e.node.text("name").map(str::to_string),
                dependencies: deps,
                line: e.line,
            });
        }
    }

    let mut pkgs: Vec<LockedPackage> = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    if let Some(packages) = root.get("packages") {
        if !packages.is_map() {
            ctx.problem(
                packages.line,
                format!("`packages` is {}, not an object", packages.kind()),
            );
        }
        for e in packages.entries() {
            match read_tuple(&e.key, &e.node) {
                Ok(mut p) => {
                    p.line = e.line;
                    p.paths = vec![e.key.to_string()];
                    keys.push(&*e.key);
                    pkgs.push(p);
                }
                Err(why) => {
                    ctx.problem(e.line, format!("could not read package '{}': {why}", e.key))
                }
            }
        }
    }

    compute_flags(&mut pkgs, &keys, &importers);
    ctx.check()?;
    Ok(Lockfile {
        path: path.to_string(),
        format: LockfileFormat::Bun { version },
        packages: dedupe(pkgs),
        importers,
        ecosystem: crate::model::Ecosystem::Npm,
        indexes: Vec::new(),
    })
}

/// The install name at the end of a key: `a/@s/b` → `@s/b`.
fn install_name(key: &str) -> &str {
    let mut parts = key.rsplitn(3, '/');
    let last = parts.next().unwrap_or(key);
    match parts.next() {
        Some(scope) if scope.starts_with('@') => &key[key.len() - last.len() - scope.len() - 1..],
        _ => last,
    }
}

/// The key of the parent install path (`a/b/c` → `a/b`, `a/@s/b` → `a`), if any.
fn parent_key(key: &str) -> Option<&str> {
    let name = install_name(key);
    let cut = key.len().checked_sub(name.len() + 1)?;
    key.get(..cut)
}

fn read_tuple(key: &str, node: &Node) -> Result<LockedPackage, String> {
    let items = node.items();
    if !matches!(node.value, crate::tree::Value::Seq(_)) {
        return Err(format!("expected a list, found {}", node.kind()));
    }
    let Some(first) = items.first() else {
        return Err("empty package tuple".into());
    };
    let Some(ident) = first.as_str() else {
        return Err(format!(
            "first element of the tuple is {}, not a string",
            first.kind()
        ));
    };
    let Some((name, spec)) = split_name(ident) else {
        return Err(format!("cannot read name@version from {ident:?}"));
    };
    let text_at = |i: usize| items.get(i).and_then(Node::as_str);
    let meta_at = |i: usize| items.get(i).filter(|n| n.is_map());
    let (source, version, resolved, integrity, meta) = if looks_like_version(spec) {
        let url = text_at(1).filter(|u| !u.is_empty()).map(str::to_string);
        let source = match url.as_deref().map(classify) {
            Some(Some(k)) => k,
            _ => SourceKind::Registry,
        };
        (
            source,
            spec.to_string(),
            url,
            text_at(3).map(str::to_string),
            meta_at(2),
        )
    } else {
        let source = match spec.split(':').next() {
            Some("workspace") => SourceKind::Workspace,
            Some("root") => SourceKind::Workspace,
            Some("link") => SourceKind::Link,
            Some("file") => SourceKind::File,
            _ => classify(spec).ok_or_else(|| format!("unknown source {spec:?}"))?,
        };
        // Tarball tuples may carry an integrity after the meta.
        let integrity = text_at(2)
            .filter(|s| s.starts_with("sha"))
            .map(str::to_string);
        (
            source,
            String::new(),
            Some(spec.to_string()),
            integrity,
            meta_at(1),
        )
    };
    let mut p = LockedPackage::new(name, version, source);
    if install_name(key) != name {
        p.alias = Some(install_name(key).to_string());
    }
    p.resolved = resolved;
    p.integrity = integrity;
    if let Some(m) = meta {
        for (section, kind) in [
            ("dependencies", DepKind::Prod),
            ("optionalDependencies", DepKind::Optional),
            ("peerDependencies", DepKind::Peer),
        ] {
            for d in m.get(section).map(Node::entries).unwrap_or(&[]) {
                if let Some(r) = d.node.as_text() {
                    p.dependencies.push(Dependency {
                        name: d.key.to_string(),
                        range: r.to_string(),
                        kind,
                        locked: None,
                    });
                }
            }
        }
    }
    Ok(p)
}

/// Resolve each dependency the way Bun lays out `node_modules`: `parent/dep`, then up the
/// parents, then the top-level `dep`.
fn compute_flags(pkgs: &mut [LockedPackage], keys: &[&str], importers: &[Importer]) {
    let index: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let resolve = |from: Option<&str>, dep: &str| -> Option<usize> {
        let mut scope = from;
        while let Some(s) = scope {
            if let Some(&i) = index.get(format!("{s}/{dep}").as_str()) {
                return Some(i);
            }
            scope = parent_key(s);
        }
        index.get(dep).copied()
    };
    let edges: Vec<Vec<(usize, bool)>> = pkgs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.dependencies
                .iter()
                .filter_map(|d| {
                    resolve(Some(keys[i]), &d.name).map(|t| (t, d.kind == DepKind::Optional))
                })
                .collect()
        })
        .collect();
    let mut roots = Vec::new();
    for imp in importers {
        // Workspace members' own copies live under their package name.
        let scope = imp.name.as_deref().filter(|_| !imp.path.is_empty());
        for d in &imp.dependencies {
            if let Some(t) = resolve(scope, &d.name) {
                roots.push((t, d.kind));
            }
        }
    }
    let flags = crate::graph::flags(pkgs.len(), &edges, &roots);
    for (i, p) in pkgs.iter_mut().enumerate() {
        p.dev = flags.dev[i];
        p.optional = flags.optional[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn keys() {
        assert_eq!(install_name("a/@s/b"), "@s/b");
        assert_eq!(install_name("@s/b"), "@s/b");
        assert_eq!(install_name("a/b"), "b");
        assert_eq!(parent_key("a/@s/b"), Some("a"));
        assert_eq!(parent_key("@s/b"), None);
        assert_eq!(parent_key("a"), None);
    }

    const LOCK: &str = r#"{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "root",
      "dependencies": { "a": "^1", "old": "npm:a@^0.1" },
      "devDependencies": { "d": "^1", "g": "github:o/g" },
      "optionalDependencies": { "o": "^1" },
    },
  },
  "packages": {
    "a": ["a@1.0.0", "", { "dependencies": { "b": "^1" } }, "sha512-a"],
    "b": ["b@1.0.0", "", {}, "sha512-b"],
    "d": ["d@1.0.0", "", { "dependencies": { "b": "^2" } }, "sha512-d"],
    "d/b": ["b@2.0.0", "", {}, "sha512-b2"],
    "g": ["g@github:o/g#abc", {}, "o-g-abc"],
    "o": ["o@1.0.0", "", {}, "sha512-o"],
    "old": ["a@0.1.0", "", {}, "sha512-old"],
    "t": ["t@https://example.com/t.tgz", {}],
  },
}"#;

    #[test]
    fn model() {
        let l = parse("bun.lock", LOCK.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "bun-v1");
        assert_eq!(l.packages.len(), 8);
        let find = |k: &str| l.packages.iter().find(|p| p.paths[0] == k).unwrap();
        assert!(!find("a").dev && !find("b").dev);
        assert!(find("d").dev && find("d/b").dev && find("g").dev);
        assert!(find("o").optional);
        assert_eq!(find("old").alias.as_deref(), Some("old"));
        assert_eq!(find("old").name, "a");
        assert_eq!(find("g").source, SourceKind::Git);
        assert_eq!(find("t").source, SourceKind::Tarball);
        assert_eq!(find("a").integrity.as_deref(), Some("sha512-a"));
        assert_eq!(find("a").line, 12);
        assert_eq!(l.importers[0].dependencies.len(), 5);
    }

    #[test]
    fn fails_closed() {
        for (text, want) in [
            ("{}", "no lockfileVersion"),
            ("{\"lockfileVersion\": 3}", "lockfileVersion 3"),
            ("[]", "not an object"),
            (
                "{\"lockfileVersion\": 1, \"packages\": {\"x\": [123], \"y\": [{}], \"z\": []}}",
                "'x'",
            ),
        ] {
            let e = parse("bun.lock", text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("bun.lock"), "{text}: {e}");
        }
        let e = parse(
            "bun.lock",
            b"{\"lockfileVersion\": 1, \"packages\": {\"x\": [123], \"y\": [{}]}}",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("'x'") && e.contains("'y'"), "{e}");
    }
}
