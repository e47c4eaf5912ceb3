//! Which locked package each installed directory is, decided by the lockfile and where the
//! manager put things, never by the package's own `package.json` (a tarball can call itself
//! anything: manifest confusion).
//!
//! - npm: the lockfile's install paths (`node_modules/a/node_modules/b`).
//! - Bun: the lockfile's package keys are install paths too (`a/b` is
//!   `node_modules/a/node_modules/b`).
//! - pnpm: each snapshot key names its directory under `node_modules/.pnpm` (pnpm 10's
//!   `depPathToFilename`, with its hashed form for long or upper-case keys).
//! - Yarn (node-modules linker) and pnpm's `node-linker=hoisted`: the layout is the
//!   hoister's, not the lockfile's, so the lockfile graph is walked from every workspace and
//!   each dependency found the way Node finds it (`<dir>/node_modules/<name>`, then the
//!   ancestors'). A directory reached as two different packages is an error.
//!
//! Then every package directory actually on disk (the root's and each workspace member's
//! `node_modules`; links are not followed) is listed, so a directory no lockfile entry
//! accounts for is reported, never run. Hand-written: no crate
//! maps a lockfile to an installed tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use turncoat_lockfile::{DepKind, Dependency, Importer, Lockfile};

use crate::manager::Manager;
use crate::{Error, Result};

/// One package directory under `node_modules`.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    /// The real directory (inside the project's `node_modules`, not a link).
    pub dir: PathBuf,
    /// Relative to the project, for messages.
    pub rel: String,
    /// Index into the lockfile's packages, when the lockfile accounts for this directory.
    pub entry: Option<usize>,
}

/// Caps on the walk: a tree deeper or bigger than this is refused, not walked forever.
const MAX_DEPTH: usize = 64;
const MAX_DIRS: usize = 200_000;

/// The installed tree as the lockfile explains it.
#[derive(Debug)]
pub struct Located {
    pub installed: Vec<Installed>,
    /// Links in a package's place whose target is outside the project: (link, target).
    pub outside: Vec<(String, PathBuf)>,
}

pub fn locate(project: &Path, lock: &Lockfile, manager: Manager) -> Result<Located> {
    // Where packages are installed: the root's node_modules and each workspace member's.
    let mut found = package_dirs(&project.join("node_modules"))?;
    let members = members(project, lock);
    for (dir, _) in members.iter().filter(|(d, _)| d != project) {
        let more = package_dirs(&dir.join("node_modules"))?;
        found.dirs.extend(more.dirs);
        found.links.extend(more.links);
    }
    found.dirs.sort();
    found.dirs.dedup();

    let mut claims = Claims {
        lock,
        map: BTreeMap::new(),
    };
    // npm's install paths, Bun's keys, pnpm's `.pnpm` directories.
    if manager != Manager::Yarn {
        by_keys(project, lock, manager, &mut claims)?;
    }
    // Yarn, and pnpm with `node-linker=hoisted`: the hoister's layout. (In pnpm's isolated
    // layout the walk finds only links, which never count.)
    if matches!(manager, Manager::Pnpm | Manager::Yarn) {
        walk_graph(project, lock, manager, &members, &mut claims)?;
    }
    let rel = |p: &Path| p.strip_prefix(project).unwrap_or(p).display().to_string();
    // Links whose target is inside the project are pnpm's layout or workspace members (the
    // project's own code); one that leads out is a package nobody can approve here.
    let outside = found
        .links
        .iter()
        .filter_map(|l| {
            let target = l.canonicalize().ok()?;
            (!target.starts_with(project)).then(|| (rel(l), target))
        })
        .collect();
    Ok(Located {
        installed: found
            .dirs
            .into_iter()
            .map(|dir| Installed {
                rel: rel(&dir),
                entry: claims.map.get(&dir).copied(),
                dir,
            })
            .collect(),
        outside,
    })
}

/// The project and its workspace members (the lockfile's importers), as real directories.
fn members<'l>(project: &Path, lock: &'l Lockfile) -> Vec<(PathBuf, &'l Importer)> {
    lock.importers
        .iter()
        .filter_map(|imp| {
            let path = imp.path.trim_start_matches("./").trim_end_matches('/');
            let dir = if path.is_empty() || path == "." {
                Some(project.to_path_buf())
            } else {
                real_dir_in(project, path)
            };
            dir.map(|d| (d, imp))
        })
        .collect()
}

/// Which locked package each directory is; one directory is only ever one package.
struct Claims<'l> {
    lock: &'l Lockfile,
    map: BTreeMap<PathBuf, usize>,
}

impl Claims<'_> {
    /// Record `dir` as package `i`: true when new, an error when it already is another one.
    fn claim(&mut self, dir: PathBuf, i: usize) -> Result<bool> {
        match self.map.get(&dir) {
            Some(&j) if j != i => {
                let (a, b) = (&self.lock.packages[j], &self.lock.packages[i]);
                Err(Error::AmbiguousDir {
                    first: format!("{}@{}", a.name, a.version),
                    second: format!("{}@{}", b.name, b.version),
                    dir,
                })
            }
            Some(_) => Ok(false),
            None => {
                self.map.insert(dir, i);
                Ok(true)
            }
        }
    }
}

/// npm's install paths, Bun's package keys, pnpm's `.pnpm/<key>` directories.
fn by_keys(
    project: &Path,
    lock: &Lockfile,
    manager: Manager,
    claims: &mut Claims<'_>,
) -> Result<()> {
    for (i, p) in lock.packages.iter().enumerate() {
        for key in &p.paths {
            let rel = match manager {
                Manager::Npm => Some(key.clone()),
                Manager::Bun => bun_key_path(key),
                Manager::Pnpm => pnpm_dir_name(key)
                    .map(|file| format!("node_modules/.pnpm/{file}/node_modules/{}", p.name)),
                Manager::Yarn => None,
            };
            if let Some(dir) = rel.and_then(|r| real_dir_in(project, &r)) {
                claims.claim(dir, i)?;
            }
        }
    }
    Ok(())
}

/// The lockfile graph walked from every workspace, each dependency found the way Node finds
/// it from its dependent's directory.
fn walk_graph(
    project: &Path,
    lock: &Lockfile,
    manager: Manager,
    members: &[(PathBuf, &Importer)],
    claims: &mut Claims<'_>,
) -> Result<()> {
    let mut queue: Vec<(PathBuf, &[Dependency])> = members
        .iter()
        .map(|(d, imp)| (d.clone(), imp.dependencies.as_slice()))
        .collect();
    while let Some((from, deps)) = queue.pop() {
        for d in deps.iter().filter(|d| d.kind != DepKind::Peer) {
            let entry = if manager == Manager::Yarn {
                yarn_entry(lock, &d.name, &d.range)
            } else {
                pnpm_entry(lock, &d.name, d.locked.as_deref().unwrap_or(&d.range))
            };
            let Some(i) = entry else {
                continue;
            };
            let Some(dir) = node_resolve(project, &from, &d.name) else {
                continue;
            };
            if claims.claim(dir.clone(), i)? {
                if queue.len() > MAX_DIRS {
                    return Err(Error::GraphTooLarge { max: MAX_DIRS });
                }
                queue.push((dir, &lock.packages[i].dependencies));
            }
        }
    }
    Ok(())
}

/// `items` in an order where every package comes after the packages it depends on (through
/// any number of packages without scripts): a script may use what its dependency's built.
/// Ties, and cycles, go deepest directory first, then by path.
pub fn dependencies_first<'a, T>(
    project: &Path,
    lock: &Lockfile,
    installed: &'a [Installed],
    items: Vec<(&'a Installed, T)>,
) -> Vec<(&'a Installed, T)> {
    let entry_of: BTreeMap<&Path, Option<usize>> = installed
        .iter()
        .map(|i| (i.dir.as_path(), i.entry))
        .collect();
    // The directories a package's dependencies resolve to from its own (links followed, but
    // only to directories listed as installed).
    let deps_of = |dir: &Path| -> Vec<PathBuf> {
        let Some(Some(e)) = entry_of.get(dir) else {
            return Vec::new();
        };
        lock.packages[*e]
            .dependencies
            .iter()
            .filter(|d| d.kind != DepKind::Peer)
            .filter_map(|d| {
                let mut cur = dir;
                loop {
                    if cur.file_name().is_none_or(|n| n != "node_modules") {
                        let cand = cur.join("node_modules").join(&d.name);
                        if std::fs::symlink_metadata(&cand).is_ok() {
                            let real = cand.canonicalize().ok()?;
                            return entry_of.contains_key(real.as_path()).then_some(real);
                        }
                    }
                    if cur == project {
                        return None;
                    }
                    cur = cur.parent()?;
                }
            })
            .collect()
    };
    let depth = |i: &Installed| i.rel.matches("node_modules").count();
    let mut items = items;
    items.sort_by(|a, b| depth(b.0).cmp(&depth(a.0)).then(a.0.rel.cmp(&b.0.rel)));
    let index: BTreeMap<&Path, usize> = items
        .iter()
        .enumerate()
        .map(|(k, (i, _))| (i.dir.as_path(), k))
        .collect();
    // What each item needs first: the items reachable through its dependencies.
    let needs: Vec<Vec<usize>> = items
        .iter()
        .map(|(i, _)| {
            let mut seen: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
            let mut stack = deps_of(&i.dir);
            let mut out = Vec::new();
            while let Some(d) = stack.pop() {
                if d == i.dir || !seen.insert(d.clone()) || seen.len() > MAX_DIRS {
                    continue;
                }
                if let Some(&k) = index.get(d.as_path()) {
                    out.push(k);
                }
                stack.extend(deps_of(&d));
            }
            out
        })
        .collect();
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    while order.len() < items.len() {
        // The first item whose needs are done; on a cycle, the first left.
        let next = (0..items.len())
            .find(|&k| !done[k] && needs[k].iter().all(|&n| done[n]))
            .or_else(|| (0..items.len()).find(|&k| !done[k]));
        let Some(k) = next else { break };
        done[k] = true;
        order.push(k);
    }
    let mut slots: Vec<Option<(&'a Installed, T)>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|k| slots[k].take()).collect()
}

/// `project/rel` when it is a real directory with no link anywhere between it and the project.
fn real_dir_in(project: &Path, rel: &str) -> Option<PathBuf> {
    if rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    let dir = project.join(rel);
    let mut cur = dir.as_path();
    while cur != project {
        let meta = std::fs::symlink_metadata(cur).ok()?;
        if meta.file_type().is_symlink() {
            return None;
        }
        cur = cur.parent()?;
    }
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    meta.is_dir().then_some(dir)
}

/// Node's lookup of `name` from the directory `from`: `from/node_modules/name`, then each
/// ancestor's (skipping directories that are themselves `node_modules`), up to the project.
/// Only a real directory inside `nm` counts: a link (a workspace, a `link:` dependency, or
/// one planted to point outside) is never a package whose scripts run.
fn node_resolve(project: &Path, from: &Path, name: &str) -> Option<PathBuf> {
    let mut cur = from;
    loop {
        if cur.file_name().is_none_or(|n| n != "node_modules") {
            let cand = cur.join("node_modules").join(name);
            if std::fs::symlink_metadata(&cand).is_ok() {
                let rel = cand.strip_prefix(project).ok()?.to_str()?.to_string();
                return real_dir_in(project, &rel);
            }
        }
        if cur == project {
            return None;
        }
        cur = cur.parent()?;
    }
}

/// The lockfile entry a Yarn dependency (`b`, `npm:^1.0.0`) resolves to: the entry whose key
/// lists the descriptor `b@npm:^1.0.0`.
fn yarn_entry(lock: &Lockfile, name: &str, range: &str) -> Option<usize> {
    let descriptor = format!("{name}@{range}");
    lock.packages.iter().position(|p| {
        p.paths.iter().any(|k| {
            k.split(',')
                .any(|d| d.trim().trim_matches('"') == descriptor)
        })
    })
}

/// The lockfile entry a pnpm dependency resolves to: its reference (`1.0.0`,
/// `1.0.0(peer@2.0.0)`, or `real@1.0.0` for an alias) names a snapshot key.
fn pnpm_entry(lock: &Lockfile, name: &str, reference: &str) -> Option<usize> {
    let keys = [format!("{name}@{reference}"), reference.to_string()];
    lock.packages.iter().position(|p| {
        p.paths
            .iter()
            .any(|k| keys.iter().any(|c| k.trim_start_matches('/') == c))
    })
}

/// A Bun package key (`a`, `a/b`, `@s/a/@t/b`) as an install path.
fn bun_key_path(key: &str) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    let mut parts = key.split('/');
    while let Some(p) = parts.next() {
        if p.starts_with('@') {
            names.push(format!("{p}/{}", parts.next()?));
        } else {
            names.push(p.to_string());
        }
    }
    Some(
        names
            .iter()
            .map(|n| format!("node_modules/{n}"))
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// pnpm's directory under `node_modules/.pnpm` for a snapshot key (pnpm 10's
/// `depPathToFilename`, hashed names included).
pub fn pnpm_dir_name(key: &str) -> Option<String> {
    let key = key.strip_prefix('/').unwrap_or(key);
    if key.starts_with("file:") || key.starts_with("link:") {
        return None;
    }
    let mut f: String = key
        .chars()
        .map(|c| {
            if matches!(
                c,
                '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '#'
            ) {
                '+'
            } else {
                c
            }
        })
        .collect();
    if f.contains('(') {
        if f.ends_with(')') {
            f.pop();
        }
        f = f.replace(")(", "_").replace(['(', ')'], "_");
    }
    if f.len() <= PNPM_MAX_NAME && f == f.to_lowercase() {
        return Some(f);
    }
    // pnpm 10: the first 87 characters, `_`, and 32 hex digits of the name's SHA-256 (JS
    // counts UTF-16 units: only ASCII is cut the same way here).
    if !f.is_ascii() {
        return None;
    }
    use sha2::Digest as _;
    let hash = format!("{:x}", sha2::Sha256::digest(f.as_bytes()));
    let keep = PNPM_MAX_NAME.saturating_sub(33).min(f.len());
    Some(format!("{}_{}", &f[..keep], &hash[..32]))
}

/// pnpm's `virtual-store-dir-max-length` default (a project that changes it gets its
/// long-named directories reported as unidentified).
const PNPM_MAX_NAME: usize = 120;

/// What is under a `node_modules`: package directories, and the links that stand where a
/// package would (never followed).
#[derive(Debug, Default)]
pub struct Found {
    pub dirs: Vec<PathBuf>,
    pub links: Vec<PathBuf>,
}

/// Every package directory under `nm`: `name`, `@scope/name`, their nested `node_modules`,
/// and pnpm's `.pnpm/*/node_modules/*`; and every link in a package's place.
pub fn package_dirs(nm: &Path) -> Result<Found> {
    let mut out = Found::default();
    if std::fs::symlink_metadata(nm).is_ok_and(|m| m.is_dir()) {
        walk_nm(nm, 0, &mut out)?;
    }
    out.dirs.sort();
    out.links.sort();
    Ok(out)
}

/// Directories and links in `dir`: (name, path, is a link).
fn entries(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf, bool)> = rd
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let t = e.file_type().ok()?;
            (t.is_dir() || t.is_symlink())
                .then(|| Some((e.file_name().into_string().ok()?, e.path(), t.is_symlink())))?
        })
        .collect();
    v.sort();
    v
}

fn walk_nm(nm: &Path, depth: usize, out: &mut Found) -> Result<()> {
    if depth > MAX_DEPTH || out.dirs.len() + out.links.len() > MAX_DIRS {
        return Err(Error::TreeTooLarge {
            dir: nm.to_path_buf(),
            max_depth: MAX_DEPTH,
            max_dirs: MAX_DIRS,
        });
    }
    for (name, path, link) in entries(nm) {
        if name == ".pnpm" && !link {
            for (_, entry, link) in entries(&path) {
                let inner = entry.join("node_modules");
                if !link && std::fs::symlink_metadata(&inner).is_ok_and(|m| m.is_dir()) {
                    walk_nm(&inner, depth + 1, out)?;
                }
            }
        } else if name.starts_with('.') {
            continue;
        } else if link {
            out.links.push(path);
        } else if name.starts_with('@') {
            for (_, pkg, link) in entries(&path) {
                if link {
                    out.links.push(pkg);
                } else {
                    package(&pkg, depth, out)?;
                }
            }
        } else {
            package(&path, depth, out)?;
        }
    }
    Ok(())
}

fn package(dir: &Path, depth: usize, out: &mut Found) -> Result<()> {
    out.dirs.push(dir.to_path_buf());
    let inner = dir.join("node_modules");
    if std::fs::symlink_metadata(&inner).is_ok_and(|m| m.is_dir()) {
        walk_nm(&inner, depth + 1, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_run_first_even_through_packages_without_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().canonicalize().unwrap();
        for p in ["a", "m", "z"] {
            std::fs::create_dir_all(project.join("node_modules").join(p)).unwrap();
        }
        let entry = |deps: &str| {
            format!(
                "{{\"version\":\"1.0.0\",\"resolved\":\"https://r/x.tgz\",\"integrity\":\"sha512-AAAA\"{deps}}}"
            )
        };
        let lock = format!(
            "{{\"lockfileVersion\":3,\"packages\":{{\"\":{{}},\"node_modules/a\":{},\"node_modules/m\":{},\"node_modules/z\":{}}}}}",
            entry(",\"dependencies\":{\"m\":\"1.0.0\"}"),
            entry(",\"dependencies\":{\"z\":\"1.0.0\"}"),
            entry("")
        );
        let lock = turncoat_lockfile::parse("package-lock.json", lock.as_bytes()).unwrap();
        let found = locate(&project, &lock, Manager::Npm).unwrap();
        assert_eq!(found.installed.len(), 3);
        assert!(found.installed.iter().all(|i| i.entry.is_some()));
        let with_scripts: Vec<(&Installed, ())> = found
            .installed
            .iter()
            .filter(|i| !i.rel.ends_with("/m"))
            .map(|i| (i, ()))
            .collect();
        let order: Vec<&str> = dependencies_first(&project, &lock, &found.installed, with_scripts)
            .iter()
            .map(|(i, ())| i.rel.as_str())
            .collect();
        assert_eq!(order, ["node_modules/z", "node_modules/a"]);
    }

    #[test]
    fn npm_workspace_members_own_node_modules_are_walked() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(project.join("packages/w/node_modules/x")).unwrap();
        std::fs::create_dir_all(project.join("node_modules")).unwrap();
        std::os::unix::fs::symlink("../packages/w", project.join("node_modules/w")).unwrap();
        let lock = r#"{"lockfileVersion":3,"packages":{
            "":{"workspaces":["packages/*"]},
            "node_modules/w":{"resolved":"packages/w","link":true},
            "packages/w":{"name":"w","version":"1.0.0","dependencies":{"x":"2.0.0"}},
            "packages/w/node_modules/x":{"version":"2.0.0","resolved":"https://r/x.tgz","integrity":"sha512-AAAA"}}}"#;
        let lock = turncoat_lockfile::parse("package-lock.json", lock.as_bytes()).unwrap();
        let found = locate(&project, &lock, Manager::Npm).unwrap();
        let x: Vec<(&str, Option<&str>)> = found
            .installed
            .iter()
            .map(|i| {
                (
                    i.rel.as_str(),
                    i.entry.map(|e| lock.packages[e].version.as_str()),
                )
            })
            .collect();
        assert_eq!(x, [("packages/w/node_modules/x", Some("2.0.0"))]);
        // The link to the member leads inside the project: not reported as outside.
        assert!(found.outside.is_empty(), "{:?}", found.outside);
    }

    #[test]
    fn pnpm_directory_names() {
        assert_eq!(pnpm_dir_name("a@1.0.0").as_deref(), Some("a@1.0.0"));
        assert_eq!(
            pnpm_dir_name("@s/a@1.0.0(p@2.0.0)(q@1.0.0)").as_deref(),
            Some("@s+a@1.0.0_p@2.0.0_q@1.0.0")
        );
        // Upper case and long names are hashed (values from pnpm 10.34).
        assert_eq!(
            pnpm_dir_name("Upper@1.0.0").as_deref(),
            Some("Upper@1.0.0_2f38233065cbb506de7089bd7fce2421")
        );
        assert_eq!(
            pnpm_dir_name(&format!("a@1.0.0({})", "p".repeat(130))),
            Some(format!(
                "a@1.0.0_{}_d7f4777d4d428c7f0f5abe7dea52a06c",
                "p".repeat(79)
            ))
        );
    }

    #[test]
    fn bun_keys_are_install_paths() {
        assert_eq!(
            bun_key_path("a/@s/b").as_deref(),
            Some("node_modules/a/node_modules/@s/b")
        );
        assert_eq!(bun_key_path("@s").as_deref(), None);
    }

    #[test]
    fn links_are_never_package_directories() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("package.json"), "{}").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().canonicalize().unwrap();
        let nm = project.join("node_modules");
        std::fs::create_dir_all(nm.join("real/node_modules/inner")).unwrap();
        std::fs::create_dir_all(nm.join("@s/x")).unwrap();
        std::os::unix::fs::symlink(outside.path(), nm.join("evil")).unwrap();
        std::os::unix::fs::symlink(outside.path(), nm.join("real/node_modules/evil2")).unwrap();
        // A directory reached through a linked parent is not inside the project either.
        std::os::unix::fs::symlink(outside.path(), nm.join("@t")).unwrap();
        let all = package_dirs(&nm).unwrap();
        let links: Vec<String> = all
            .links
            .iter()
            .map(|p| p.strip_prefix(&project).unwrap().display().to_string())
            .collect();
        assert_eq!(
            links,
            [
                "node_modules/@t",
                "node_modules/evil",
                "node_modules/real/node_modules/evil2"
            ]
        );
        let found: Vec<String> = all
            .dirs
            .iter()
            .map(|p| p.strip_prefix(&project).unwrap().display().to_string())
            .collect();
        assert_eq!(
            found,
            [
                "node_modules/@s/x",
                "node_modules/real",
                "node_modules/real/node_modules/inner"
            ]
        );
        assert_eq!(real_dir_in(&project, "node_modules/evil"), None);
        assert_eq!(real_dir_in(&project, "node_modules/../../etc"), None);
        assert!(node_resolve(&project, &nm.join("real"), "evil").is_none());
        assert_eq!(
            node_resolve(&project, &nm.join("real"), "inner"),
            Some(nm.join("real/node_modules/inner"))
        );
    }
}
