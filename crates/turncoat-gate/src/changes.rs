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
    /// A re-lock: the same registry version is locked to another integrity than in the base
    /// lockfile (this is the base entry). A swapped tarball ("lockfile injection") looks
    /// exactly like this.
    pub relocked: Option<&'a LockedPackage>,
}

/// The integrities of two entries of the same version differ (an added or dropped integrity
/// counts). The URL alone does not: the integrity pins the content wherever it comes from.
fn integrity_differs(a: &LockedPackage, b: &LockedPackage) -> bool {
    a.integrity.as_deref().map(str::trim) != b.integrity.as_deref().map(str::trim)
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
            if let Some(old) = bv.and_then(|m| m.get(key)) {
                if *source == SourceKind::Registry && integrity_differs(old, entry) {
                    used_from.insert(key.clone());
                    out.push(Change {
                        name: name.clone(),
                        from: Some(old.version.clone()),
                        to: Some(entry.version.clone()),
                        entry,
                        relocked: Some(old),
                    });
                }
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
                relocked: None,
            });
        }
        for (key, entry) in bv.into_iter().flatten() {
            if !hv.contains_key(key) && !used_from.contains(key) {
                out.push(Change {
                    name: name.clone(),
                    from: Some(entry.version.clone()),
                    to: None,
                    entry,
                    relocked: None,
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
                relocked: None,
            });
        }
    }
    out.sort_by(|a, b| (&a.name, &a.to, &a.from).cmp(&(&b.name, &b.to, &b.from)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(integrity: &str, resolved: &str) -> Lockfile {
        let doc = serde_json::json!({
            "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
            "packages": {
                "": {"name": "app", "version": "1.0.0", "dependencies": {"pad": "1.0.0"}},
                "node_modules/pad": {"version": "1.0.0", "resolved": resolved, "integrity": integrity},
            }
        });
        turncoat_lockfile::parse("package-lock.json", doc.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_same_version_integrity_change_is_a_change() {
        let url = "https://registry.npmjs.org/pad/-/pad-1.0.0.tgz";
        let base = lock("sha512-AAAA", url);
        let head = lock("sha512-BBBB", url);
        let c = changed(&base, &head);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].from.as_deref(), Some("1.0.0"));
        assert_eq!(c[0].to.as_deref(), Some("1.0.0"));
        assert_eq!(
            c[0].relocked.and_then(|b| b.integrity.as_deref()),
            Some("sha512-AAAA")
        );
        // Same integrity, another URL: the content is pinned, nothing to judge here (hosts
        // are `lockfile lint`'s business).
        let head = lock("sha512-AAAA", "https://mirror.example/pad/-/pad-1.0.0.tgz");
        assert!(changed(&base, &head).is_empty());
        assert!(changed(&base, &base).is_empty());
    }

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
