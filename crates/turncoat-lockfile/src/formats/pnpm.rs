//! `pnpm-lock.yaml`, `lockfileVersion` 5.x (pnpm 6/7), 6.x (pnpm 8) and 9.x (pnpm 9/10).
//!
//! v9 splits packages (`packages`, resolution and metadata) from their peer-resolved
//! instances (`snapshots`, the graph). Dev/optional flags are written per package only in
//! v5/v6; otherwise they are computed from the importers (see `graph`).

use std::collections::HashMap;

use super::{Ctx, parse_yaml};
use crate::ParseOptions;
use crate::error::Error;
use crate::model::{
    DepKind, Dependency, Importer, LockedPackage, Lockfile, LockfileFormat, SourceKind, dedupe,
};
use crate::spec::{classify, looks_like_version, split_name};
use crate::tree::Node;

const SUPPORTED: &str = "lockfileVersion 5.x, 6.x, 9.x";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gen {
    V5,
    V6,
    V9,
}

pub(crate) fn parse(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let root = parse_yaml(&ctx, text, opts, "pnpm-lock", SUPPORTED)?;
    if !root.is_map() {
        return Err(ctx.unsupported(
            "pnpm-lock",
            format!("a YAML document that is {}, not a mapping", root.kind()),
            SUPPORTED,
        ));
    }
    let Some(version) = root.text("lockfileVersion").map(str::to_string) else {
        return Err(ctx.unsupported("pnpm-lock", "no lockfileVersion".into(), SUPPORTED));
    };
    let gen_ = match version.split('.').next() {
        Some("5") => Gen::V5,
        Some("6") => Gen::V6,
        Some("9") => Gen::V9,
        _ => {
            return Err(ctx.unsupported(
                "pnpm-lock",
                format!("lockfileVersion {version}"),
                SUPPORTED,
            ));
        }
    };

    // Importers: `importers:` for workspaces, else the root project at top level.
    let mut importers = Vec::new();
    match root.get("importers").filter(|i| !i.is_null()) {
        Some(imp) if imp.is_map() => {
            for e in imp.entries() {
                importers.push(read_importer(&mut ctx, &e.key, &e.node, e.line, gen_));
            }
        }
        Some(imp) => ctx.problem(
            imp.line,
            format!("`importers` is {}, not a mapping", imp.kind()),
        ),
        None => importers.push(read_importer(&mut ctx, ".", &root, 0, gen_)),
    }

    // Packages, one per `packages` key.
    let mut pkgs: Vec<LockedPackage> = Vec::new();
    let mut explicit_dev: Vec<Option<bool>> = Vec::new();
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let empty = Node::new(0, crate::tree::Value::Map(Vec::new()));
    if let Some(packages) = root.get("packages").filter(|p| !p.is_null()) {
        if !packages.is_map() {
            ctx.problem(
                packages.line,
                format!("`packages` is {}, not a mapping", packages.kind()),
            );
        }
        for e in packages.entries() {
            let body = if e.node.is_null() { &empty } else { &e.node };
            if !body.is_map() {
                ctx.problem(
                    e.line,
                    format!("package {:?} is {}, not a mapping", e.key, body.kind()),
                );
                continue;
            }
            match read_package(&mut ctx, &e.key, body, e.line, gen_) {
                Some(p) => {
                    by_key.insert(&*e.key, pkgs.len());
                    explicit_dev.push(body.get("dev").and_then(Node::as_bool));
                    pkgs.push(p);
                }
                None => continue,
            }
        }
    }

    // The graph's nodes: snapshot keys (v9) or package keys (v5/v6).
    let mut node_keys: Vec<&str> = Vec::new();
    let mut node_pkg: Vec<usize> = Vec::new();
    let mut node_deps: Vec<Vec<(String, String, bool)>> = Vec::new();
    if gen_ == Gen::V9 {
        if let Some(snaps) = root.get("snapshots").filter(|s| !s.is_null()) {
            for e in snaps.entries() {
                let base = strip_peers(&e.key);
                let Some(&pi) = by_key.get(base) else {
                    ctx.problem(
                        e.line,
                        format!("snapshot {:?} has no entry under `packages`", e.key),
                    );
                    continue;
                };
                let body = if e.node.is_null() { &empty } else { &e.node };
                let p = &mut pkgs[pi];
                let mut deps = Vec::new();
                ctx.deps(body.get("dependencies"), DepKind::Prod, &mut deps);
                ctx.deps(
                    body.get("optionalDependencies"),
                    DepKind::Optional,
                    &mut deps,
                );
                if p.paths.is_empty() {
                    p.dependencies.extend(deps.iter().cloned());
                }
                p.paths.push(e.key.to_string());
                node_keys.push(&*e.key);
                node_pkg.push(pi);
                node_deps.push(
                    deps.into_iter()
                        .map(|d| (d.name, d.range, d.kind == DepKind::Optional))
                        .collect(),
                );
            }
        }
    } else if let Some(packages) = root.get("packages") {
        for e in packages.entries() {
            if let Some(&pi) = by_key.get(&*e.key) {
                node_keys.push(&*e.key);
                node_pkg.push(pi);
                node_deps.push(
                    pkgs[pi]
                        .dependencies
                        .iter()
                        .filter(|d| d.kind != DepKind::Peer)
                        .map(|d| (d.name.clone(), d.range.clone(), d.kind == DepKind::Optional))
                        .collect(),
                );
            }
        }
    }
    let node_index: HashMap<&str, usize> =
        node_keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let resolve = |name: &str, reference: &str| -> Option<usize> {
        let candidates = match gen_ {
            Gen::V9 => [format!("{name}@{reference}"), reference.to_string()],
            Gen::V6 => [format!("/{name}@{reference}"), reference.to_string()],
            Gen::V5 => [format!("/{name}/{reference}"), reference.to_string()],
        };
        candidates
            .iter()
            .find_map(|c| node_index.get(c.as_str()).copied())
    };
    let edges: Vec<Vec<(usize, bool)>> = node_deps
        .iter()
        .map(|deps| {
            deps.iter()
                .filter_map(|(n, r, opt)| resolve(n, r).map(|t| (t, *opt)))
                .collect()
        })
        .collect();
    let mut roots = Vec::new();
    let mut aliases: Vec<(usize, String)> = Vec::new();
    for imp in &importers {
        for d in &imp.dependencies {
            if let Some(t) = d.locked.as_deref().and_then(|l| resolve(&d.name, l)) {
                roots.push((t, d.kind));
                aliases.push((node_pkg[t], d.name.clone()));
            }
        }
    }
    let flags = crate::graph::flags(node_keys.len(), &edges, &roots);
    let mut dev = vec![true; pkgs.len()];
    let mut optional = vec![true; pkgs.len()];
    let mut seen = vec![false; pkgs.len()];
    for (n, &pi) in node_pkg.iter().enumerate() {
        seen[pi] = true;
        dev[pi] &= flags.dev[n];
        optional[pi] &= flags.optional[n];
    }
    for (pi, p) in pkgs.iter_mut().enumerate() {
        p.dev = match explicit_dev[pi] {
            Some(d) => d,
            None => seen[pi] && dev[pi],
        };
        p.optional = p.optional || (seen[pi] && optional[pi]);
    }
    for (pi, install_name) in aliases {
        let p = &mut pkgs[pi];
        if p.name != install_name && p.alias.is_none() {
            p.alias = Some(install_name);
        }
    }

    ctx.check()?;
    Ok(Lockfile {
        path: path.to_string(),
        format: LockfileFormat::Pnpm { version },
        packages: dedupe(pkgs),
        importers,
        ecosystem: crate::model::Ecosystem::Npm,
        indexes: Vec::new(),
    })
}

/// `name@1.0.0(peer@2)(x@1)` → `name@1.0.0` (the `(` after the name part).
fn strip_peers(key: &str) -> &str {
    let start = usize::from(key.starts_with('@'));
    match key.get(start..).and_then(|s| s.find('(')) {
        Some(i) => &key[..start + i],
        None => key,
    }
}

fn read_importer(ctx: &mut Ctx<'_>, path: &str, node: &Node, line: u32, gen_: Gen) -> Importer {
    let mut deps = Vec::new();
    let specifiers = node.get("specifiers");
    for (section, kind) in [
        ("dependencies", DepKind::Prod),
        ("devDependencies", DepKind::Dev),
        ("optionalDependencies", DepKind::Optional),
    ] {
        let Some(map) = node.get(section).filter(|m| !m.is_null()) else {
            continue;
        };
        if !map.is_map() {
            ctx.problem(
                map.line,
                format!("`{section}` is {}, not a mapping", map.kind()),
            );
            continue;
        }
        for e in map.entries() {
            let (range, locked) = if gen_ == Gen::V5 {
                (
                    specifiers
                        .and_then(|s| s.text(&e.key))
                        .unwrap_or("")
                        .to_string(),
                    e.node.as_text().map(str::to_string),
                )
            } else {
                (
                    e.node.text("specifier").unwrap_or("").to_string(),
                    e.node.text("version").map(str::to_string),
                )
            };
            if locked.is_none() {
                ctx.problem(
                    e.line,
                    format!("importer dependency {:?} has no version", e.key),
                );
            }
            deps.push(Dependency {
                name: e.key.to_string(),
                range,
                kind,
                locked,
            });
        }
    }
    Importer {
        path: path.to_string(),
        name: None,
        dependencies: deps,
        line,
    }
}

/// Name and version from a dependency path, where it holds them.
fn key_name_version(key: &str, gen_: Gen) -> Result<(Option<String>, Option<String>), ()> {
    if key.starts_with("file:") || key.starts_with("link:") {
        return Ok((None, None));
    }
    let version_of = |v: &str| looks_like_version(v).then(|| v.to_string());
    if gen_ == Gen::V9 {
        return match split_name(key) {
            Some((n, v)) => Ok((Some(n.to_string()), version_of(v))),
            None => Err(()),
        };
    }
    // v5/v6: `[host]/name…`; the host part is empty for the default registry.
    let Some((_, rest)) = key.split_once('/') else {
        return Err(());
    };
    if let Some((n, v)) = split_name(rest).filter(|(n, _)| valid_name(n)) {
        // v6 `name@1.0.0(peer@1)`.
        return Ok((Some(n.to_string()), version_of(strip_peers(v))));
    }
    // v5 `name/1.0.0_peer@1` or `@scope/name/1.0.0`.
    let parts: Vec<&str> = rest.split('/').collect();
    let (name, tail) = if parts[0].starts_with('@') && parts.len() >= 2 {
        (format!("{}/{}", parts[0], parts[1]), &parts[2..])
    } else {
        (parts[0].to_string(), &parts[1..])
    };
    let version = tail
        .first()
        .map(|v| v.split('_').next().unwrap_or(v))
        .and_then(version_of);
    Ok(((!name.is_empty()).then_some(name), version))
}

/// `name` or `@scope/name`, nothing more.
fn valid_name(n: &str) -> bool {
    match n.strip_prefix('@') {
        Some(s) => s.matches('/').count() == 1 && !s.contains('@'),
        None => !n.is_empty() && !n.contains('/') && !n.contains('@'),
    }
}

fn read_package(
    ctx: &mut Ctx<'_>,
    key: &str,
    body: &Node,
    line: u32,
    gen_: Gen,
) -> Option<LockedPackage> {
    let Ok((key_name, key_version)) = key_name_version(key, gen_) else {
        ctx.problem(line, format!("invalid dependency path: {key}"));
        return None;
    };
    let name = body.text("name").map(str::to_string).or(key_name);
    let version = body.text("version").map(str::to_string).or(key_version);
    let (source, resolved, integrity) = resolution(body.get("resolution"), key);
    let (name, version) = match (name, version) {
        (Some(n), Some(v)) => (n, v),
        (Some(n), None) if source != SourceKind::Registry => (n, String::new()),
        _ => {
            ctx.problem(
                line,
                format!("invalid dependency path: {key} (no package name and version)"),
            );
            return None;
        }
    };
    let mut p = LockedPackage::new(name, version, source);
    p.resolved = resolved;
    p.integrity = integrity;
    p.optional = body.flag("optional");
    if gen_ != Gen::V9 {
        p.has_install_script = Some(body.flag("requiresBuild"));
        p.paths.push(key.to_string());
    }
    ctx.deps(body.get("dependencies"), DepKind::Prod, &mut p.dependencies);
    ctx.deps(
        body.get("optionalDependencies"),
        DepKind::Optional,
        &mut p.dependencies,
    );
    ctx.deps(
        body.get("peerDependencies"),
        DepKind::Peer,
        &mut p.dependencies,
    );
    p.line = line;
    Some(p)
}

/// `resolution: {integrity}` (registry), `{tarball[, integrity]}`, `{type: git, repo,
/// commit}`, `{type: directory, directory}`.
fn resolution(r: Option<&Node>, key: &str) -> (SourceKind, Option<String>, Option<String>) {
    let integrity = r.and_then(|r| r.text("integrity")).map(str::to_string);
    if key.starts_with("link:") {
        return (SourceKind::Link, Some(key.to_string()), integrity);
    }
    let Some(r) = r else {
        return (SourceKind::Registry, None, integrity);
    };
    match r.text("type") {
        Some("git") => {
            let repo = r.text("repo").unwrap_or("");
            let commit = r.text("commit").unwrap_or("");
            return (SourceKind::Git, Some(format!("{repo}#{commit}")), integrity);
        }
        Some("directory") => {
            let dir = r.text("directory").unwrap_or("");
            return (SourceKind::File, Some(format!("file:{dir}")), integrity);
        }
        _ => {}
    }
    match r.text("tarball") {
        Some(t) => {
            let kind = classify(t).unwrap_or(SourceKind::Tarball);
            (kind, Some(t.to_string()), integrity)
        }
        None => (SourceKind::Registry, None, integrity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn dependency_paths() {
        let nv = |k, g| key_name_version(k, g).unwrap();
        let s = |a: &str, b: &str| (Some(a.to_string()), Some(b.to_string()));
        assert_eq!(nv("/foo/1.0.0", Gen::V5), s("foo", "1.0.0"));
        assert_eq!(nv("/@a/b/1.0.0_react@18.0.0", Gen::V5), s("@a/b", "1.0.0"));
        assert_eq!(
            nv("registry.npmjs.org/foo/1.1.0", Gen::V5),
            s("foo", "1.1.0")
        );
        assert_eq!(
            nv("/foo/1.4.0_@types+babel__core@7.1.14", Gen::V5),
            s("foo", "1.4.0")
        );
        assert_eq!(nv("/acorn@8.7.0", Gen::V6), s("acorn", "8.7.0"));
        assert_eq!(nv("/@s/a@1.0.0(react@18.2.0)", Gen::V6), s("@s/a", "1.0.0"));
        assert_eq!(nv("@s/a@1.0.0", Gen::V9), s("@s/a", "1.0.0"));
        assert_eq!(nv("/foo/bar", Gen::V5), (Some("foo".into()), None));
        assert!(key_name_version("invalidpath1", Gen::V5).is_err());
        assert_eq!(strip_peers("@a/b@1.0.0(x@1)(y@2)"), "@a/b@1.0.0");
    }

    const V9: &str = "lockfileVersion: '9.0'

importers:
  .:
    dependencies:
      a:
        specifier: ^1.0.0
        version: 1.0.0(p@1.0.0)
      cjs:
        specifier: npm:string-width@^4
        version: string-width@4.2.3
    devDependencies:
      d:
        specifier: ^1
        version: 1.0.0
    optionalDependencies:
      o:
        specifier: ^1
        version: 1.0.0

packages:
  a@1.0.0:
    resolution: {integrity: sha512-a}
    peerDependencies:
      p: ^1
  d@1.0.0:
    resolution: {integrity: sha512-d}
  e@1.0.0:
    resolution: {tarball: https://example.com/e.tgz}
  g@1.0.0:
    resolution: {type: git, repo: https://x/g.git, commit: abc}
  o@1.0.0:
    resolution: {integrity: sha512-o}
  p@1.0.0:
    resolution: {integrity: sha512-p}
  string-width@4.2.3:
    resolution: {integrity: sha512-s}

snapshots:
  a@1.0.0(p@1.0.0):
    dependencies:
      p: 1.0.0
  d@1.0.0:
    dependencies:
      e: 1.0.0
      g: 1.0.0
  e@1.0.0: {}
  g@1.0.0: {}
  o@1.0.0:
    optional: true
  p@1.0.0: {}
  string-width@4.2.3: {}
";

    #[test]
    fn v9_model() {
        let l = parse("pnpm-lock.yaml", V9.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "pnpm-v9");
        assert_eq!(l.packages.len(), 7);
        let get = |n: &'static str| l.by_name(n).next().unwrap();
        assert!(!get("a").dev && !get("p").dev);
        assert!(get("d").dev && get("e").dev && get("g").dev);
        assert!(get("o").optional && !get("a").optional);
        assert_eq!(get("e").source, SourceKind::Tarball);
        assert_eq!(get("g").source, SourceKind::Git);
        assert_eq!(get("string-width").alias.as_deref(), Some("cjs"));
        assert_eq!(get("a").paths, vec!["a@1.0.0(p@1.0.0)"]);
        assert_eq!(get("a").line, 22);
        assert_eq!(l.importers[0].dependencies.len(), 4);
    }

    #[test]
    fn fails_closed() {
        for (text, want) in [
            ("# empty\n", "no document"),
            ("lockfileVersion: '7.0'\n", "lockfileVersion 7.0"),
            ("foo: 1\n", "no lockfileVersion"),
            (
                "lockfileVersion: 5.3\npackages:\n  invalidpath1:\n    dev: false\n",
                "invalid dependency path: invalidpath1",
            ),
            (
                "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\nsnapshots:\n  b@1.0.0: {}\n",
                "no entry under",
            ),
            ("lockfileVersion: '9.0'\npackages: [1]\n", "not a mapping"),
        ] {
            let e = parse("pnpm-lock.yaml", text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(want) && e.contains("pnpm-lock.yaml"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn v5_and_v6_flags() {
        let v5 = "lockfileVersion: 5.4\nspecifiers:\n  a: ^1\ndependencies:\n  a: 1.0.0_b@1.0.0\npackages:\n  /a/1.0.0_b@1.0.0:\n    resolution: {integrity: sha512-a}\n    requiresBuild: true\n    dev: false\n  /a/1.0.0_b@2.0.0:\n    resolution: {integrity: sha512-a}\n    requiresBuild: true\n    dev: false\n";
        let l = parse("pnpm-lock.yaml", v5.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "pnpm-v5");
        assert_eq!(l.packages.len(), 1);
        assert_eq!(l.packages[0].paths.len(), 2);
        assert_eq!(l.packages[0].has_install_script, Some(true));
        assert_eq!(l.importers[0].dependencies[0].range, "^1");
    }
}
