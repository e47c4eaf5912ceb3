//! The dependency path that pulls each package in: `app > express > body-parser`.
//!
//! A breadth-first walk from the lockfile's importers (root project and workspace members)
//! over the dependency edges the lockfile records, so each package gets one shortest path.
//! An edge is resolved the way the tool resolves it where the lockfile says enough:
//! npm by `node_modules` nesting (the nearest enclosing `node_modules/NAME`), other formats
//! by the version the edge was locked to, else the version that satisfies its range. A
//! package the walk does not reach (a format without edges, npm v1) gets its install path.
//! Hand-written: no crate walks these lockfile models.

use std::collections::{HashMap, VecDeque};

use turncoat_lockfile::{Dependency, LockedPackage, Lockfile, LockfileFormat};

/// One path per package of `lock.packages`, in the same order.
pub fn dep_paths(lock: &Lockfile) -> Vec<String> {
    let n = lock.packages.len();
    let npm = matches!(
        lock.format,
        LockfileFormat::PackageLock { .. } | LockfileFormat::Shrinkwrap { .. }
    );
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_path: HashMap<&str, usize> = HashMap::new();
    for (i, p) in lock.packages.iter().enumerate() {
        by_name.entry(p.install_name()).or_default().push(i);
        if p.install_name() != p.name {
            by_name.entry(&p.name).or_default().push(i);
        }
        for path in &p.paths {
            by_path.entry(path).or_insert(i);
        }
    }
    let resolve = |from: &str, d: &Dependency| -> Option<usize> {
        if npm {
            return resolve_npm(&by_path, from, &d.name);
        }
        let cands = by_name.get(d.name.as_str())?;
        pick(&lock.packages, cands, d)
    };
    let mut path: Vec<Option<String>> = vec![None; n];
    let mut queue = VecDeque::new();
    for imp in &lock.importers {
        let label = imp
            .name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| match imp.path.as_str() {
                "" | "." => "(root)".to_string(),
                p => p.to_string(),
            });
        let from = imp.path.trim_start_matches("./").trim_end_matches('/');
        let from = if from == "." { "" } else { from };
        for d in &imp.dependencies {
            if let Some(t) = resolve(from, d)
                && path[t].is_none()
            {
                path[t] = Some(format!("{label} > {}", d.name));
                queue.push_back(t);
            }
        }
    }
    let walk = |path: &mut Vec<Option<String>>, queue: &mut VecDeque<usize>| {
        while let Some(i) = queue.pop_front() {
            let p = &lock.packages[i];
            let here = p.paths.first().map(String::as_str).unwrap_or("");
            let base = path[i].clone().unwrap_or_default();
            for d in &p.dependencies {
                if let Some(t) = resolve(here, d)
                    && path[t].is_none()
                {
                    path[t] = Some(format!("{base} > {}", d.name));
                    queue.push_back(t);
                }
            }
        }
    };
    walk(&mut path, &mut queue);
    // Formats without importer edges (Yarn classic): start from the packages nothing
    // depends on.
    if path.iter().any(Option::is_none) {
        let mut targeted = vec![false; n];
        for p in &lock.packages {
            let here = p.paths.first().map(String::as_str).unwrap_or("");
            for d in &p.dependencies {
                if let Some(t) = resolve(here, d) {
                    targeted[t] = true;
                }
            }
        }
        for i in 0..n {
            if path[i].is_none() && !targeted[i] {
                path[i] = Some(lock.packages[i].install_name().to_string());
                queue.push_back(i);
            }
        }
        walk(&mut path, &mut queue);
    }
    lock.packages
        .iter()
        .zip(path)
        .map(|(p, found)| found.unwrap_or_else(|| fallback(p, npm)))
        .collect()
}

/// npm: from install path `from`, `NAME` resolves to the nearest `…/node_modules/NAME`.
fn resolve_npm(by_path: &HashMap<&str, usize>, from: &str, name: &str) -> Option<usize> {
    let mut base = from.to_string();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(&i) = by_path.get(candidate.as_str()) {
            return Some(i);
        }
        if base.is_empty() {
            return None;
        }
        // Up one level: drop the last `node_modules/X` (or `node_modules/@s/x`), or a
        // workspace folder's path entirely.
        match base
            .rfind("/node_modules/")
            .or_else(|| base.starts_with("node_modules/").then_some(0))
        {
            Some(pos) => base.truncate(pos),
            None => base.clear(),
        }
    }
}

/// The candidate an edge resolves to: its locked version, else one satisfying its range.
fn pick(pkgs: &[LockedPackage], cands: &[usize], d: &Dependency) -> Option<usize> {
    if cands.len() == 1 {
        return Some(cands[0]);
    }
    if let Some(locked) = &d.locked {
        let v = locked.split('(').next().unwrap_or(locked);
        let v = v.rsplit('@').next().unwrap_or(v);
        if let Some(&i) = cands.iter().find(|&&i| pkgs[i].version == v) {
            return Some(i);
        }
    }
    let range_text = d.range.strip_prefix("npm:").map_or(d.range.as_str(), |r| {
        r.rsplit_once('@').map_or(r, |(_, v)| v)
    });
    if let Ok(range) = node_semver::Range::parse(range_text) {
        let hit = cands.iter().copied().find(|&i| {
            node_semver::Version::parse(&pkgs[i].version).is_ok_and(|v| range.satisfies(&v))
        });
        if hit.is_some() {
            return hit;
        }
    }
    cands.first().copied()
}

/// No walk reached it: `a > b` from an npm install path, else its entry key.
fn fallback(p: &LockedPackage, npm: bool) -> String {
    let Some(first) = p.paths.first() else {
        return p.name.clone();
    };
    if npm {
        let parts: Vec<&str> = first
            .split("node_modules/")
            .map(|s| s.trim_end_matches('/'))
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            return format!("(root) > {}", parts.join(" > "));
        }
    }
    first.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_nesting_and_hoisting() {
        let text = br#"{"lockfileVersion": 3, "packages": {
  "": {"name": "app", "dependencies": {"a": "^1.0.0"}},
  "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^2.0.0", "c": "^1.0.0"}},
  "node_modules/a/node_modules/b": {"version": "2.0.0"},
  "node_modules/b": {"version": "1.0.0"},
  "node_modules/c": {"version": "1.0.0", "dependencies": {"b": "^1.0.0"}}
}}"#;
        let lock = turncoat_lockfile::parse("package-lock.json", text).unwrap();
        let paths = dep_paths(&lock);
        let got: Vec<(String, &str)> = lock
            .packages
            .iter()
            .zip(&paths)
            .map(|(p, d)| (p.spec(), d.as_str()))
            .collect();
        assert!(got.contains(&("a@1.0.0".into(), "app > a")), "{got:?}");
        assert!(got.contains(&("b@2.0.0".into(), "app > a > b")), "{got:?}");
        // Hoisted: reached through c, not a (a has its own nested b).
        assert!(
            got.contains(&("b@1.0.0".into(), "app > a > c > b")),
            "{got:?}"
        );
    }

    #[test]
    fn yarn_by_range() {
        let text = b"# yarn lockfile v1\n\n\"a@^1.0.0\":\n  version \"1.0.0\"\n  dependencies:\n    b \"^2.0.0\"\n\n\"b@^1.0.0\":\n  version \"1.5.0\"\n\n\"b@^2.0.0\":\n  version \"2.1.0\"\n";
        let lock = turncoat_lockfile::parse("yarn.lock", text).unwrap();
        let paths = dep_paths(&lock);
        let b2 = lock
            .packages
            .iter()
            .position(|p| p.spec() == "b@2.1.0")
            .unwrap();
        // Yarn classic records no importer: a is not reached from a root, b@2 through a.
        assert_eq!(paths[b2], "a > b", "{paths:?}");
    }
}
