//! The project's persistence entries ([`paths::PROJECT_PERSISTENCE`]: hooks, CI workflows,
//! editor, agent and package-manager configuration) seen from outside, before and after the
//! run. Whatever the command did to them — by any path, link, rename, directory fd or race the
//! seccomp supervisor could miss — shows in the difference, which is the kernel's truth.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::paths;

/// At most this many entries are fingerprinted (a huge `.github` must not stall the run).
const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    mode: u32,
    len: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    link: Option<PathBuf>,
}

/// Fingerprints of every file, directory and link under the project's persistence entries.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    project: PathBuf,
    /// Where entries that are links point ([`paths::linked_persistence_entries`]).
    linked: Vec<(PathBuf, &'static str)>,
    entries: BTreeMap<PathBuf, Fingerprint>,
    /// The `scripts` of the project's `package.json` (npm runs them later; the rest of the
    /// file is the install's to change).
    scripts: Option<serde_json::Value>,
}

/// One entry the run created, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub class: &'static str,
    pub what: &'static str,
}

/// The `scripts` object of a `package.json` (read without following a link; at most 4 MiB).
/// Missing, unreadable or not JSON: `None`, and a file that becomes readable with scripts is
/// a change.
fn package_scripts(path: &Path) -> Option<serde_json::Value> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = Vec::new();
    f.take(4 << 20).read_to_end(&mut text).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("scripts").cloned()
}

impl Snapshot {
    pub fn take(project: &Path) -> Snapshot {
        let linked = paths::linked_persistence_entries(project);
        Snapshot::take_with(project, linked)
    }

    /// With the linked entries' targets given (those the run protects).
    pub fn take_with(project: &Path, linked: Vec<(PathBuf, &'static str)>) -> Snapshot {
        let mut s = Snapshot {
            project: project.to_path_buf(),
            linked,
            entries: BTreeMap::new(),
            scripts: package_scripts(&project.join("package.json")),
        };
        for (rel, _) in paths::PROJECT_PERSISTENCE {
            s.walk(&project.join(rel));
        }
        for target in s.linked.clone().iter().map(|(t, _)| t) {
            s.walk(target);
        }
        s
    }

    fn walk(&mut self, p: &Path) {
        if self.entries.len() >= MAX_ENTRIES {
            return;
        }
        let Ok(m) = p.symlink_metadata() else {
            return;
        };
        let link = m
            .file_type()
            .is_symlink()
            .then(|| std::fs::read_link(p).ok())
            .flatten();
        self.entries.insert(
            p.to_path_buf(),
            Fingerprint {
                mode: m.mode(),
                len: m.len(),
                ino: m.ino(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
                link,
            },
        );
        if m.is_dir() {
            let mut kids: Vec<PathBuf> = std::fs::read_dir(p)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            kids.sort();
            for k in kids {
                self.walk(&k);
            }
        }
    }

    /// What differs between `self` (before) and the project now.
    pub fn changes(&self) -> Vec<Change> {
        // The same places as before: a link changed during the run does not move them.
        let after = Snapshot::take_with(&self.project, self.linked.clone());
        let class = |p: &Path| {
            paths::project_persistence_class(p, &self.project)
                .or_else(|| {
                    self.linked
                        .iter()
                        .find(|(t, _)| p.starts_with(t))
                        .map(|(_, c)| *c)
                })
                .unwrap_or("-")
        };
        let mut out = Vec::new();
        if after.scripts != self.scripts {
            out.push(Change {
                path: self.project.join("package.json"),
                class: "package-scripts",
                what: "scripts changed",
            });
        }
        for (p, fp) in &after.entries {
            match self.entries.get(p) {
                None => out.push(Change {
                    path: p.clone(),
                    class: class(p),
                    what: "created",
                }),
                Some(old) if old != fp => out.push(Change {
                    path: p.clone(),
                    class: class(p),
                    what: "changed",
                }),
                _ => {}
            }
        }
        for p in self.entries.keys() {
            if !after.entries.contains_key(p) {
                out.push(Change {
                    path: p.clone(),
                    class: class(p),
                    what: "removed",
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_changed_removed_and_relinked_entries_are_found() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join(".github/workflows")).unwrap();
        std::fs::write(p.join(".github/workflows/ci.yml"), "a").unwrap();
        std::fs::write(p.join(".npmrc"), "x").unwrap();
        std::fs::write(p.join("package.json"), "{}").unwrap();
        let before = Snapshot::take(p);
        assert!(before.changes().is_empty());
        std::fs::write(p.join(".github/workflows/evil.yml"), "b").unwrap();
        std::fs::write(p.join(".github/workflows/ci.yml"), "changed").unwrap();
        std::fs::remove_file(p.join(".npmrc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", p.join(".npmrc")).unwrap();
        std::fs::write(p.join("package.json"), "{\"a\":1}").unwrap();
        let mut got: Vec<(String, &str)> = before
            .changes()
            .into_iter()
            .map(|c| {
                (
                    c.path.strip_prefix(p).unwrap().display().to_string(),
                    c.what,
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (".github/workflows".to_string(), "changed"),
                (".github/workflows/ci.yml".to_string(), "changed"),
                (".github/workflows/evil.yml".to_string(), "created"),
                (".npmrc".to_string(), "changed"),
            ]
        );
    }

    #[test]
    fn only_a_change_to_package_scripts_counts() {
        let d = tempfile::tempdir().unwrap();
        let pj = d.path().join("package.json");
        std::fs::write(
            &pj,
            r#"{"scripts":{"test":"true"},"dependencies":{"a":"1"}}"#,
        )
        .unwrap();
        let before = Snapshot::take(d.path());
        std::fs::write(
            &pj,
            r#"{"dependencies":{"a":"2"},"scripts":{"test":"true"}}"#,
        )
        .unwrap();
        assert!(
            before.changes().is_empty(),
            "dependencies and key order are the install's"
        );
        std::fs::write(&pj, r#"{"scripts":{"test":"true","prepare":"sh x"}}"#).unwrap();
        let got = before.changes();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].class, got[0].what),
            ("package-scripts", "scripts changed")
        );
        std::fs::remove_file(&pj).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &pj).unwrap();
        assert_eq!(
            before.changes().len(),
            1,
            "a link is not followed: scripts gone"
        );
    }
}
