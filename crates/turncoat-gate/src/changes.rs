//! The changed set: which package versions are new, updated or gone between two lockfiles.

use std::collections::{BTreeMap, BTreeSet};

use turncoat_lockfile::{LockedPackage, Lockfile, SourceKind};
use turncoat_npm::semver::{Version, release_line};

/// One change to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    pub name: String,
    /// The version it replaces (None: newly added).
    pub from: Option<String>,
    /// None: removed.
    pub to: Option<String>,
    /// The head lockfile entry (for `to`), or the base one for removals.
    pub entry: &'a LockedPackage,
}

fn parse(v: &str) -> Option<Version> {
    v.parse().ok()
}

/// The base version an update of `name` to `to` replaces: the highest base version not above
/// `to` in the same release line, else the highest not above it, else the highest.
fn pick_from<'b>(to: &str, base: &'b BTreeSet<String>) -> Option<&'b String> {
    let tv = parse(to);
    let line = release_line(to);
    let mut candidates: Vec<(&String, Option<Version>)> =
        base.iter().map(|b| (b, parse(b))).collect();
    candidates.sort_by(|a, b| a.1.cmp(&b.1));
    let not_above = |c: &&(&String, Option<Version>)| match (&c.1, &tv) {
        (Some(cv), Some(tv)) => cv <= tv,
        _ => true,
    };
    candidates
        .iter()
        .filter(not_above)
        .rfind(|c| line.is_some() && release_line(c.0) == line)
        .or_else(|| candidates.iter().rfind(not_above))
        .or_else(|| candidates.last())
        .map(|c| c.0)
}

/// Registry packages added or updated in `head` relative to `base`, and removals.
/// Packages from other sources are returned too (their `source` tells the caller).
pub fn changed<'a>(base: &'a Lockfile, head: &'a Lockfile) -> Vec<Change<'a>> {
    let index = |l: &'a Lockfile| {
        let mut m: BTreeMap<(String, SourceKind), BTreeMap<String, &'a LockedPackage>> =
            BTreeMap::new();
        for p in &l.packages {
            if matches!(p.source, SourceKind::Workspace | SourceKind::Link) {
                continue;
            }
            let version_key = match p.source {
                SourceKind::Registry => p.version.clone(),
                // A git/tarball/file package changes when its locator changes.
                _ => p.resolved.clone().unwrap_or_else(|| p.version.clone()),
            };
            m.entry((p.name.clone(), p.source))
                .or_default()
                .insert(version_key, p);
        }
        m
    };
    let b = index(base);
    let h = index(head);
    let mut out = Vec::new();
    for ((name, source), hv) in &h {
        let bv = b.get(&(name.clone(), *source));
        let base_versions: BTreeSet<String> =
            bv.map(|m| m.keys().cloned().collect()).unwrap_or_default();
        let mut used_from = BTreeSet::new();
        for (key, entry) in hv {
            if base_versions.contains(key) {
                continue;
            }
            let from = if *source == SourceKind::Registry {
                pick_from(key, &base_versions).cloned()
            } else {
                None
            };
            if let Some(f) = &from {
                used_from.insert(f.clone());
            }
            out.push(Change {
                name: name.clone(),
                from: from.map(|f| {
                    bv.and_then(|m| m.get(&f))
                        .map(|p| p.version.clone())
                        .unwrap_or(f)
                }),
                to: Some(entry.version.clone()),
                entry,
            });
        }
        for (key, entry) in bv.into_iter().flatten() {
            if !hv.contains_key(key) && !used_from.contains(key) {
                out.push(Change {
                    name: name.clone(),
                    from: Some(entry.version.clone()),
                    to: None,
                    entry,
                });
            }
        }
    }
    for ((name, source), bv) in &b {
        if h.contains_key(&(name.clone(), *source)) {
            continue;
        }
        for entry in bv.values() {
            out.push(Change {
                name: name.clone(),
                from: Some(entry.version.clone()),
                to: None,
                entry,
            });
        }
    }
    out.sort_by(|a, b| (&a.name, &a.to, &a.from).cmp(&(&b.name, &b.to, &b.from)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_same_release_line() {
        let base: BTreeSet<String> = ["1.9.0", "2.3.1", "3.0.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pick_from("2.4.0", &base).map(String::as_str), Some("2.3.1"));
        assert_eq!(pick_from("1.9.1", &base).map(String::as_str), Some("1.9.0"));
        assert_eq!(pick_from("4.0.0", &base).map(String::as_str), Some("3.0.0"));
        assert_eq!(pick_from("0.1.0", &base).map(String::as_str), Some("3.0.0"));
        assert_eq!(pick_from("1.0.0", &BTreeSet::new()), None);
    }
}
