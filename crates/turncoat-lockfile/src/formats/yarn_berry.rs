//! Yarn 2+ (Berry) `yarn.lock`: YAML with `__metadata: {version, cacheKey}` and one entry
//! per locator, keyed by the descriptors that resolve to it.
//!
//! `checksum` is the SHA-512 of Yarn's zip cache archive, not the npm tarball's
//! integrity, so it goes to [`LockedPackage::checksum`], never `integrity`.

use std::collections::HashMap;

use super::{Ctx, parse_yaml};
use crate::ParseOptions;
use crate::error::Error;
use crate::model::{
    DepKind, Importer, LockedPackage, Lockfile, LockfileFormat, SourceKind, dedupe,
};
use crate::spec::{classify, split_name};

// 10 is what Yarn 4.18 writes (checked on real output, see tests/fixtures).
const SUPPORTED: &str = "__metadata.version 4 to 10 (Yarn 2, 3, 4)";

pub(crate) fn parse(path: &str, text: &str, opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let root = parse_yaml(&ctx, text, opts, "yarn.lock (Berry)", SUPPORTED)?;
    let Some(meta) = root.get("__metadata") else {
        return Err(ctx.unsupported("yarn.lock (Berry)", "no __metadata".into(), SUPPORTED));
    };
    let version = match meta.text("version").and_then(|v| v.parse::<u32>().ok()) {
        Some(v @ 4..=10) => v,
        _ => {
            return Err(ctx.unsupported(
                "yarn.lock (Berry)",
                format!(
                    "__metadata.version {}",
                    meta.text("version").unwrap_or("(missing)")
                ),
                SUPPORTED,
            ));
        }
    };

    let mut pkgs: Vec<LockedPackage> = Vec::new();
    let mut importers = Vec::new();
    // descriptor (`name@npm:^1`) -> graph node; node -> package index (None for the root).
    let mut by_descriptor: HashMap<String, usize> = HashMap::new();
    let mut node_pkg: Vec<Option<usize>> = Vec::new();
    let mut node_edges: Vec<Vec<(String, bool)>> = Vec::new();
    let mut root_nodes = Vec::new();

    for e in root.entries() {
        if e.key == "__metadata" {
            continue;
        }
        let body = &e.node;
        if !body.is_map() {
            ctx.problem(
                e.line,
                format!("entry {:?} is {}, not a mapping", e.key, body.kind()),
            );
            continue;
        }
        let Some(resolution) = body.text("resolution") else {
            ctx.problem(e.line, format!("entry {:?} has no resolution", e.key));
            continue;
        };
        let Some((name, reference)) = split_name(resolution) else {
            ctx.problem(
                e.line,
                format!("entry {:?}: cannot read resolution {resolution:?}", e.key),
            );
            continue;
        };
        let descriptors: Vec<&str> = e.key.split(',').map(str::trim).collect();
        let mut deps = Vec::new();
        ctx.deps(body.get("dependencies"), DepKind::Prod, &mut deps);
        ctx.deps(body.get("peerDependencies"), DepKind::Peer, &mut deps);
        if let Some(meta) = body.get("dependenciesMeta") {
            for m in meta.entries() {
                if m.node.flag("optional") {
                    for d in deps
                        .iter_mut()
                        .filter(|d| d.name == m.key && d.kind == DepKind::Prod)
                    {
                        d.kind = DepKind::Optional;
                    }
                }
            }
        }
        let node = node_pkg.len();
        for d in &descriptors {
            by_descriptor.insert((*d).to_string(), node);
        }
        node_edges.push(
            deps.iter()
                .filter(|d| d.kind != DepKind::Peer)
                .map(|d| {
                    (
                        format!("{}@{}", d.name, d.range),
                        d.kind == DepKind::Optional,
                    )
                })
                .collect(),
        );

        if let Some(ws) = reference.strip_prefix("workspace:") {
            importers.push(Importer {
                path: ws.to_string(),
                name: Some(name.to_string()),
                dependencies: deps.clone(),
                line: e.line,
            });
            if ws == "." {
                node_pkg.push(None);
                root_nodes.push(node);
                continue;
            }
        }
        let Some(source) = source_of(reference) else {
            ctx.problem(
                e.line,
                format!(
                    "entry {:?}: unknown resolution protocol in {resolution:?}",
                    e.key
                ),
            );
            node_pkg.push(None);
            continue;
        };
        let version = body.text("version").unwrap_or("");
        if version.is_empty() && source == SourceKind::Registry {
            ctx.problem(e.line, format!("entry {:?} has no version", e.key));
        }
        let mut p = LockedPackage::new(name, version, source);
        // One entry may serve several install names (`a@npm:^1, alias@npm:a@^1`).
        p.alias = descriptors
            .iter()
            .filter_map(|d| split_name(d).map(|(n, _)| n))
            .find(|n| *n != name)
            .map(str::to_string);
        if source != SourceKind::Registry || reference.starts_with("patch:") {
            p.resolved = Some(reference.to_string());
        }
        p.checksum = body.text("checksum").map(str::to_string);
        p.dependencies = deps;
        p.paths = vec![e.key.to_string()];
        p.line = e.line;
        node_pkg.push(Some(pkgs.len()));
        pkgs.push(p);
    }

    // Optional flags from `dependenciesMeta` (Berry records no dev flag: dev and prod
    // dependencies of workspaces are merged).
    let edges: Vec<Vec<(usize, bool)>> = node_edges
        .iter()
        .map(|es| {
            es.iter()
                .filter_map(|(d, opt)| by_descriptor.get(d).map(|&t| (t, *opt)))
                .collect()
        })
        .collect();
    let roots: Vec<(usize, DepKind)> = root_nodes.iter().map(|&n| (n, DepKind::Prod)).collect();
    if !roots.is_empty() {
        let flags = crate::graph::flags(node_pkg.len(), &edges, &roots);
        for (n, pi) in node_pkg.iter().enumerate() {
            if let Some(pi) = pi {
                pkgs[*pi].optional = flags.optional[n];
            }
        }
    }

    ctx.check()?;
    Ok(Lockfile {
        path: path.to_string(),
        format: LockfileFormat::YarnBerry { version },
        packages: dedupe(pkgs),
        importers,
        ecosystem: crate::model::Ecosystem::Npm,
        indexes: Vec::new(),
    })
}

/// The source named by a Berry locator reference (`npm:1.0.0`, `workspace:a`, …).
fn source_of(reference: &str) -> Option<SourceKind> {
    if reference.starts_with("npm:") {
        return Some(SourceKind::Registry);
    }
    if reference.starts_with("workspace:") {
        return Some(SourceKind::Workspace);
    }
    if let Some(inner) = reference.strip_prefix("patch:") {
        // `patch:name@npm%3A1.0.0#./patch.diff::…`: the patched package's own source.
        let inner = inner.replace("%3A", ":");
        let inner_ref = split_name(&inner).map_or(inner.as_str(), |(_, r)| r);
        return source_of(inner_ref);
    }
    if reference.starts_with("exec:") {
        return Some(SourceKind::File);
    }
    classify(reference)
}

#[cfg(test)]
mod tests {
    use crate::{SourceKind, parse};

    const LOCK: &str = r#"# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"@ws/a@workspace:^, @ws/a@workspace:packages/a":
  version: 0.0.0-use.local
  resolution: "@ws/a@workspace:packages/a"
  dependencies:
    ansi-regex: "npm:^6.1.0"
  languageName: unknown
  linkType: soft

"ansi-regex@npm:^6.1.0":
  version: 6.1.0
  resolution: "ansi-regex@npm:6.1.0"
  checksum: 10c0/a91d
  languageName: node
  linkType: hard

"cjs@npm:string-width@^4":
  version: 4.2.3
  resolution: "string-width@npm:4.2.3"
  languageName: node
  linkType: hard

"fsevents@npm:^2":
  version: 2.3.3
  resolution: "fsevents@npm:2.3.3"
  languageName: node
  linkType: hard

"g@https://github.com/o/g.git":
  version: 1.0.0
  resolution: "g@https://github.com/o/g.git#commit=abc"
  languageName: node
  linkType: hard

"root@workspace:.":
  version: 0.0.0-use.local
  resolution: "root@workspace:."
  dependencies:
    "@ws/a": "workspace:^"
    cjs: "npm:string-width@^4"
    fsevents: "npm:^2"
    g: "https://github.com/o/g.git"
  dependenciesMeta:
    fsevents:
      optional: true
  languageName: unknown
  linkType: soft
"#;

    #[test]
    fn model() {
        let l = parse("yarn.lock", LOCK.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "yarn-berry-v8");
        assert_eq!(l.packages.len(), 5);
        let get = |n: &'static str| l.by_name(n).next().unwrap();
        assert_eq!(get("@ws/a").source, SourceKind::Workspace);
        assert_eq!(get("ansi-regex").checksum.as_deref(), Some("10c0/a91d"));
        assert_eq!(get("ansi-regex").integrity, None);
        assert_eq!(get("ansi-regex").line, 16);
        assert_eq!(get("string-width").alias.as_deref(), Some("cjs"));
        assert_eq!(get("g").source, SourceKind::Git);
        assert!(get("fsevents").optional && !get("ansi-regex").optional);
        assert_eq!(l.importers.len(), 2);
        assert!(l.importer(".").is_some());
    }

    #[test]
    fn fails_closed() {
        for (text, want) in [
            ("__metadata:\n  version: 11\n", "__metadata.version 11"),
            ("a@npm:1:\n  version: 1\n", "neither"),
            (
                "__metadata:\n  version: 8\n\"a@npm:1\":\n  version: 1\n",
                "no resolution",
            ),
            (
                "__metadata:\n  version: 8\n\"a@x:1\":\n  version: 1\n  resolution: \"a@weird:1\"\n",
                "unknown resolution protocol",
            ),
        ] {
            let e = parse("yarn.lock", text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("yarn.lock"), "{text}: {e}");
        }
    }
}
