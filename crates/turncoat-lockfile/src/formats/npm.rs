//! `package-lock.json` / `npm-shrinkwrap.json`, `lockfileVersion` 1, 2 and 3.
//!
//! v2 and v3 are read from `packages` (what npm ≥ 7 uses); v1, and v2 files that only
//! carry the legacy tree, from the nested `dependencies`.

use super::{Ctx, parse_json};
use crate::ParseOptions;
use crate::error::Error;
use crate::model::{
    DepKind, Dependency, Importer, LockedPackage, Lockfile, LockfileFormat, SourceKind, dedupe,
};
use crate::spec::{classify, glob_match, npm_alias};
use crate::tree::Node;

const SUPPORTED: &str = "lockfileVersion 1, 2, 3";

pub(crate) fn parse(
    path: &str,
    text: &str,
    shrinkwrap: bool,
    opts: &ParseOptions,
) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    let root = parse_json(&ctx, text, false, opts)?;
    if !root.is_map() {
        return Err(Error::UnknownFormat {
            path: path.to_string(),
            found: format!("a JSON document that is {}, not an object", root.kind()),
            supported: crate::SUPPORTED_FORMATS,
        });
    }
    let version = match root.get("lockfileVersion") {
        None => {
            return Err(ctx.unsupported(
                "package-lock",
                "no lockfileVersion (npm < 5, or not a lockfile)".into(),
                SUPPORTED,
            ));
        }
        Some(v) => match v.as_text().and_then(|t| t.parse::<u8>().ok()) {
            Some(n @ 1..=3) if v.as_str().is_none() => n,
            _ => {
                return Err(ctx.unsupported(
                    "package-lock",
                    format!("lockfileVersion {}", v.as_text().unwrap_or(v.kind())),
                    SUPPORTED,
                ));
            }
        },
    };
    let format = if shrinkwrap {
        LockfileFormat::Shrinkwrap { version }
    } else {
        LockfileFormat::PackageLock { version }
    };

    let packages = root.get("packages").filter(|p| !p.is_null());
    let legacy = root.get("dependencies").filter(|p| !p.is_null());
    let (pkgs, importers) = match (version, packages, legacy) {
        (2..=3, Some(p), _) => read_packages(&mut ctx, p),
        (_, _, Some(d)) => (read_legacy(&mut ctx, d), vec![legacy_root(&root)]),
        (1, None, None) => {
            return Err(Error::Malformed {
                path: path.to_string(),
                problems: vec![crate::Problem {
                    line: root.line,
                    message: "lockfileVersion 1 without `dependencies`".into(),
                }],
            });
        }
        _ => {
            return Err(Error::Malformed {
                path: path.to_string(),
                problems: vec![crate::Problem {
                    line: root.line,
                    message: "neither `packages` nor `dependencies`".into(),
                }],
            });
        }
    };
    ctx.check()?;
    Ok(Lockfile {
        path: path.to_string(),
        format,
        packages: dedupe(pkgs),
        importers,
        ecosystem: crate::model::Ecosystem::Npm,
        indexes: Vec::new(),
    })
}

fn legacy_root(root: &Node) -> Importer {
    Importer {
        path: String::new(),
        name: root.text("name").map(str::to_string),
        dependencies: Vec::new(),
        line: root.line,
    }
}

fn entry_deps(ctx: &mut Ctx<'_>, e: &Node, with_dev: bool) -> Vec<Dependency> {
    let mut out = Vec::new();
    ctx.deps(e.get("dependencies"), DepKind::Prod, &mut out);
    ctx.deps(e.get("optionalDependencies"), DepKind::Optional, &mut out);
    ctx.deps(e.get("peerDependencies"), DepKind::Peer, &mut out);
    if with_dev {
        ctx.deps(e.get("devDependencies"), DepKind::Dev, &mut out);
    }
    out
}

/// The install name from a `packages` key: the part after the last `node_modules/`.
fn name_from_path(key: &str) -> Option<&str> {
    let i = key.rfind("node_modules/")?;
    let name = &key[i + "node_modules/".len()..];
    let ok = if let Some(scoped) = name.strip_prefix('@') {
        scoped.split('/').count() == 2 && !scoped.starts_with('/') && !scoped.ends_with('/')
    } else {
        !name.is_empty() && !name.contains('/')
    };
    ok.then_some(name)
}

fn read_packages(ctx: &mut Ctx<'_>, packages: &Node) -> (Vec<LockedPackage>, Vec<Importer>) {
    let mut pkgs = Vec::with_capacity(packages.entries().len());
    let mut importers = Vec::new();
    if !packages.is_map() {
        ctx.problem(
            packages.line,
            format!("`packages` is {}, not an object", packages.kind()),
        );
        return (pkgs, importers);
    }
    let workspaces: Vec<String> = packages
        .get("")
        .and_then(|r| r.get("workspaces"))
        .map(|w| {
            let list = if w.is_map() {
                w.get("packages").unwrap_or(w)
            } else {
                w
            };
            list.items()
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();

    for entry in packages.entries() {
        let (key, e, line) = (&*entry.key, &entry.node, entry.line);
        if !e.is_map() {
            ctx.problem(
                line,
                format!("package {key:?} is {}, not an object", e.kind()),
            );
            continue;
        }
        let version = e.text("version").unwrap_or("").to_string();
        if key.is_empty() {
            importers.push(Importer {
                path: String::new(),
                name: e.text("name").map(str::to_string),
                dependencies: entry_deps(ctx, e, true),
                line,
            });
            continue;
        }
        let installed = key.starts_with("node_modules/") || key.contains("/node_modules/");
        if !installed {
            // A folder: a workspace member or the target of a `file:` dependency.
            let is_workspace = !key.starts_with("..")
                && !key.starts_with('/')
                && workspaces.iter().any(|w| glob_match(w, key));
            let name = e
                .text("name")
                .map(str::to_string)
                .unwrap_or_else(|| key.rsplit('/').next().unwrap_or(key).to_string());
            let deps = entry_deps(ctx, e, true);
            if is_workspace {
                importers.push(Importer {
                    path: key.to_string(),
                    name: Some(name.clone()),
                    dependencies: deps.clone(),
                    line,
                });
            }
            let source = if is_workspace {
                SourceKind::Workspace
            } else {
                SourceKind::File
            };
            let mut p = LockedPackage::new(name, version, source);
            p.resolved = Some(key.to_string());
            p.integrity = e.text("integrity").map(str::to_string);
            p.has_install_script = Some(e.flag("hasInstallScript"));
            p.dependencies = deps;
            p.paths = vec![key.to_string()];
            p.line = line;
            flags(&mut p, e);
            pkgs.push(p);
            continue;
        }
        let Some(install_name) = name_from_path(key) else {
            ctx.problem(
                line,
                format!("package path {key:?} does not end in a package name"),
            );
            continue;
        };
        let real = e.text("name").unwrap_or(install_name);
        let resolved = e.text("resolved").map(str::to_string);
        let source = if e.flag("link") {
            SourceKind::Link
        } else {
            match resolved.as_deref() {
                None => SourceKind::Registry,
                Some(r) => classify(r).unwrap_or(SourceKind::File),
            }
        };
        let mut p = LockedPackage::new(real, version, source);
        if real != install_name {
            p.alias = Some(install_name.to_string());
        }
        p.resolved = resolved;
        p.integrity = e.text("integrity").map(str::to_string);
        p.has_install_script = Some(e.flag("hasInstallScript"));
        p.dependencies = entry_deps(ctx, e, false);
        p.paths = vec![key.to_string()];
        p.line = line;
        flags(&mut p, e);
        pkgs.push(p);
    }
    (pkgs, importers)
}

fn flags(p: &mut LockedPackage, e: &Node) {
    let dev_optional = e.flag("devOptional");
    p.dev = e.flag("dev") || dev_optional;
    p.optional = e.flag("optional") || dev_optional;
    p.peer = e.flag("peer");
    p.bundled = e.flag("inBundle") || e.flag("bundled");
}

/// The v1 tree: `dependencies: {name: {version, resolved, integrity, requires, dependencies}}`,
/// nested once per `node_modules` level. Walked with an explicit stack.
fn read_legacy(ctx: &mut Ctx<'_>, deps: &Node) -> Vec<LockedPackage> {
    let mut pkgs = Vec::new();
    let mut stack: Vec<(String, &Node)> = vec![(String::new(), deps)];
    while let Some((prefix, map)) = stack.pop() {
        if !map.is_map() {
            ctx.problem(
                map.line,
                format!("`dependencies` is {}, not an object", map.kind()),
            );
            continue;
        }
        for entry in map.entries() {
            let (key, e, line) = (&*entry.key, &entry.node, entry.line);
            let path = format!("{prefix}node_modules/{key}");
            if !e.is_map() {
                ctx.problem(
                    line,
                    format!("dependency {key:?} is {}, not an object", e.kind()),
                );
                continue;
            }
            let Some(raw) = e.text("version") else {
                ctx.problem(line, format!("dependency {key:?} has no version"));
                continue;
            };
            let resolved = e.text("resolved").map(str::to_string);
            let mut name = key.to_string();
            let mut alias = None;
            let (version, source, resolved) = if let Some((real, v)) = npm_alias(raw) {
                alias = Some(key.to_string());
                name = real.to_string();
                let src = resolved.as_deref().and_then(classify);
                (v.to_string(), src.unwrap_or(SourceKind::Registry), resolved)
            } else {
                match classify(raw) {
                    // The version field holds the locator for git, file and URL sources.
                    Some(kind) if kind != SourceKind::Registry || raw.contains("://") => {
                        (String::new(), kind, Some(raw.to_string()))
                    }
                    _ => {
                        let src = resolved.as_deref().and_then(classify);
                        (
                            raw.to_string(),
                            src.unwrap_or(SourceKind::Registry),
                            resolved,
                        )
                    }
                }
            };
            let mut p = LockedPackage::new(name, version, source);
            p.alias = alias;
            p.resolved = resolved;
            p.integrity = e.text("integrity").map(str::to_string);
            // In v1, git entries carry the commit in `integrity`-less form; keep as written.
            p.dev = e.flag("dev");
            p.optional = e.flag("optional");
            p.bundled = e.flag("bundled");
            ctx.deps(e.get("requires"), DepKind::Prod, &mut p.dependencies);
            p.paths = vec![path.clone()];
            p.line = line;
            pkgs.push(p);
            if let Some(nested) = e.get("dependencies") {
                stack.push((format!("{path}/"), nested));
            }
        }
    }
    pkgs
}

#[cfg(test)]
mod tests {
    use crate::{SourceKind, parse};

    const V3: &str = r#"{
  "name": "root",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "root", "workspaces": ["packages/*"], "dependencies": {"a": "^1.0.0", "cjs": "npm:string-width@^4"}, "devDependencies": {"d": "1"}},
    "node_modules/a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "sha512-x", "hasInstallScript": true},
    "node_modules/b/node_modules/a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "sha512-x"},
    "node_modules/cjs": {"name": "string-width", "version": "4.2.3", "resolved": "https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz", "integrity": "sha512-y"},
    "node_modules/d": {"version": "1.0.0", "dev": true, "resolved": "git+ssh://git@github.com/o/d.git#abc"},
    "node_modules/@s/w": {"resolved": "packages/w", "link": true},
    "packages/w": {"name": "@s/w", "version": "0.1.0", "dependencies": {"a": "^1"}},
    "node_modules/o": {"version": "2.0.0", "devOptional": true, "peer": true}
  }
}"#;

    #[test]
    fn v3_model() {
        let l = parse("package-lock.json", V3.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "package-lock-v3");
        assert_eq!(l.packages.len(), 6, "{:#?}", l.packages);
        let a = &l.packages[0];
        assert_eq!((a.name.as_str(), a.paths.len(), a.line), ("a", 2, 7));
        assert_eq!(a.has_install_script, Some(true));
        let cjs = l.by_name("string-width").next().unwrap();
        assert_eq!(cjs.alias.as_deref(), Some("cjs"));
        let d = l.by_name("d").next().unwrap();
        assert!(d.dev && d.source == SourceKind::Git);
        assert_eq!(l.by_name("@s/w").count(), 2);
        assert!(l.packages.iter().any(|p| p.source == SourceKind::Link));
        assert!(l.packages.iter().any(|p| p.source == SourceKind::Workspace));
        let o = l.by_name("o").next().unwrap();
        assert!(o.dev && o.optional && o.peer);
        assert_eq!(l.importers.len(), 2);
        assert_eq!(l.importers[0].dependencies.len(), 3);
        assert_eq!(l.registry_packages().count(), 3);
    }

    #[test]
    fn v1_tree() {
        let text = r#"{"lockfileVersion": 1, "dependencies": {
  "x": {"version": "npm:@babel/code-frame@7.0.0", "resolved": "https://registry.npmjs.org/@babel/code-frame/-/code-frame-7.0.0.tgz",
        "dependencies": {"y": {"version": "1.0.0"}}},
  "g": {"version": "github:o/r#abc"},
  "f": {"version": "file:deps/f", "dev": true}
}}"#;
        let l = parse("npm-shrinkwrap.json", text.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "npm-shrinkwrap-v1");
        assert_eq!(l.packages.len(), 4);
        let x = l.by_name("@babel/code-frame").next().unwrap();
        assert_eq!(
            (x.version.as_str(), x.alias.as_deref()),
            ("7.0.0", Some("x"))
        );
        let y = l.by_name("y").next().unwrap();
        assert_eq!(y.paths, vec!["node_modules/x/node_modules/y"]);
        assert_eq!(y.line, 3);
        assert_eq!(l.by_name("g").next().unwrap().source, SourceKind::Git);
        assert_eq!(l.by_name("f").next().unwrap().source, SourceKind::File);
    }

    #[test]
    fn fails_closed() {
        for (text, want) in [
            ("null", "not an object"),
            ("{}", "no lockfileVersion"),
            (
                "{\"lockfileVersion\": 4, \"packages\": {}}",
                "lockfileVersion 4",
            ),
            (
                "{\"lockfileVersion\": \"3\", \"packages\": {}}",
                "lockfileVersion 3",
            ),
            ("{\"lockfileVersion\": 3}", "neither"),
            (
                "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": 1}}",
                "not an object",
            ),
            (
                "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/\": {}}}",
                "package name",
            ),
        ] {
            let e = parse("package-lock.json", text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(want) && e.contains("package-lock.json"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn empty_is_fine() {
        let l = parse(
            "package-lock.json",
            br#"{"lockfileVersion": 3, "packages": {"": {}}}"#,
        )
        .unwrap();
        assert!(l.packages.is_empty());
    }
}
