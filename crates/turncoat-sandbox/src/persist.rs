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
/// Regular files up to this size are kept (to put back what `--block` should have stopped),
/// up to [`MAX_KEPT`] in all.
const MAX_KEPT_FILE: u64 = 1 << 20;
const MAX_KEPT: usize = 32 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    mode: u32,
    uid: u32,
    gid: u32,
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
    /// Contents of the regular files (up to [`MAX_KEPT_FILE`] each), when kept.
    contents: BTreeMap<PathBuf, Vec<u8>>,
    kept: usize,
    keep_contents: bool,
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
        Snapshot::take_inner(project, linked, false)
    }

    /// Also keeping the files' contents, so that [`Snapshot::undo`] can put them back.
    pub fn take_keeping(project: &Path, linked: Vec<(PathBuf, &'static str)>) -> Snapshot {
        Snapshot::take_inner(project, linked, true)
    }

    fn take_inner(
        project: &Path,
        linked: Vec<(PathBuf, &'static str)>,
        keep_contents: bool,
    ) -> Snapshot {
        let mut s = Snapshot {
            project: project.to_path_buf(),
            linked,
            entries: BTreeMap::new(),
            contents: BTreeMap::new(),
            kept: 0,
            keep_contents,
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
                uid: m.uid(),
                gid: m.gid(),
                len: m.len(),
                ino: m.ino(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
                link,
            },
        );
        if self.keep_contents
            && m.is_file()
            && m.len() <= MAX_KEPT_FILE
            && self.kept + m.len() as usize <= MAX_KEPT
            && let Some(bytes) = read_nofollow(p, m.len())
        {
            self.kept += bytes.len();
            self.contents.insert(p.to_path_buf(), bytes);
        }
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

/// What [`Snapshot::undo`] did about one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    pub path: PathBuf,
    /// `removed`, `content restored`, `directory restored`, `link restored`, or why not.
    pub result: Result<&'static str, String>,
}

/// A regular file's bytes, read without following a link (at most `len`).
fn read_nofollow(p: &Path, len: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(p)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut out = Vec::new();
    f.take(len + 1).read_to_end(&mut out).ok()?;
    (out.len() as u64 <= len).then_some(out)
}

impl Snapshot {
    /// Put the persistence entries back as they were before the run (every sandboxed process
    /// is gone): what was created is removed, what changed or went away is restored from the
    /// kept contents. Every path is reached from `/` without following any link
    /// (`openat2(RESOLVE_NO_SYMLINKS)`), and entries are replaced by rename, never written
    /// through. `package.json` scripts are left (the rest of that file is the install's).
    pub fn undo(&self, changes: &[Change]) -> Vec<Undone> {
        let mut out = Vec::new();
        let mut created: Vec<&Path> = changes
            .iter()
            .filter(|c| c.what == "created")
            .map(|c| c.path.as_path())
            .collect();
        // Deepest first: a created directory's contents before the directory.
        created.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for p in created {
            if self.covers(p) {
                out.push(Undone {
                    path: p.to_path_buf(),
                    result: undo::remove(p).map(|()| "removed"),
                });
            }
        }
        let mut back: Vec<&Path> = changes
            .iter()
            .filter(|c| c.what != "created" && c.class != "package-scripts")
            .map(|c| c.path.as_path())
            .collect();
        // Shallowest first: a directory before what it holds.
        back.sort_by_key(|p| p.components().count());
        for p in back {
            let Some(old) = self.entries.get(p) else {
                continue;
            };
            let result = match old.mode & libc::S_IFMT {
                libc::S_IFDIR => undo::directory(p, old.mode, old.uid, old.gid),
                libc::S_IFLNK => match &old.link {
                    Some(target) => undo::link(p, target),
                    None => Err("the link's target was not read".into()),
                },
                libc::S_IFREG => match self.contents.get(p) {
                    Some(bytes) => undo::file(p, bytes, old.mode, old.uid, old.gid),
                    None => Err("its content was not kept (over 1 MiB, or unreadable)".into()),
                },
                _ => Err("not a file, directory or link".into()),
            };
            // A directory whose only change is what it holds needs nothing.
            if result != Ok("unchanged") {
                out.push(Undone {
                    path: p.to_path_buf(),
                    result,
                });
            }
        }
        out
    }

    /// Is `p` one of the persistence entries (or a linked target), or inside one?
    fn covers(&self, p: &Path) -> bool {
        paths::PROJECT_PERSISTENCE
            .iter()
            .any(|(rel, _)| p.starts_with(self.project.join(rel)))
            || self.linked.iter().any(|(t, _)| p.starts_with(t))
    }
}

/// The fd-relative operations of [`Snapshot::undo`]: nothing here follows a link.
mod undo {
    use std::os::fd::{AsFd, OwnedFd};
    use std::path::Path;

    use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};

    fn err(what: &str, e: impl std::fmt::Display) -> String {
        format!("{what}: {e}")
    }

    /// The parent directory of `p` (absolute), opened from `/` refusing every link on the way,
    /// and `p`'s last name.
    fn parent(p: &Path) -> Result<(OwnedFd, &std::ffi::OsStr), String> {
        let name = p.file_name().ok_or("no file name")?;
        let dir = p.parent().ok_or("no parent")?;
        let rel = dir.strip_prefix("/").map_err(|_| "not absolute")?;
        let root = rustix::fs::open(
            "/",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err("opening /", e))?;
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let fd = rustix::fs::openat2(
            &root,
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        )
        .map_err(|e| err(&format!("opening {} without links", dir.display()), e))?;
        Ok((fd, name))
    }

    /// Remove whatever is at `name` in `dir` (a directory with everything in it), depth-first,
    /// never following a link.
    fn remove_at(dir: impl AsFd, name: &std::ffi::OsStr, depth: u32) -> Result<(), String> {
        let st = match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(rustix::io::Errno::NOENT) => return Ok(()),
            Err(e) => return Err(err("stat", e)),
        };
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return rustix::fs::unlinkat(&dir, name, AtFlags::empty())
                .map_err(|e| err("unlink", e));
        }
        if depth > 64 {
            return Err("nested too deep".into());
        }
        let sub = rustix::fs::openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err("open", e))?;
        let names: Vec<std::ffi::OsString> = {
            let d = rustix::fs::Dir::read_from(&sub).map_err(|e| err("read", e))?;
            let mut v = Vec::new();
            for ent in d {
                let ent = ent.map_err(|e| err("read", e))?;
                let n = ent.file_name().to_bytes();
                if n != b"." && n != b".." {
                    v.push(
                        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(n)
                            .to_os_string(),
                    );
                }
            }
            v
        };
        for n in names {
            remove_at(&sub, &n, depth + 1)?;
        }
        rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR).map_err(|e| err("rmdir", e))
    }

    pub fn remove(p: &Path) -> Result<(), String> {
        let (dir, name) = parent(p)?;
        remove_at(&dir, name, 0)
    }

    fn is_dir_at(dir: impl AsFd, name: &std::ffi::OsStr) -> Option<rustix::fs::Stat> {
        rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .ok()
            .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
    }

    /// A directory again where one was (with its mode and owner); what replaced it removed.
    pub fn directory(p: &Path, mode: u32, uid: u32, gid: u32) -> Result<&'static str, String> {
        let (dir, name) = parent(p)?;
        if let Some(st) = is_dir_at(&dir, name) {
            if st.st_mode & 0o7777 == mode & 0o7777 && st.st_uid == uid && st.st_gid == gid {
                return Ok("unchanged");
            }
        } else {
            remove_at(&dir, name, 0)?;
            rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(0o700))
                .map_err(|e| err("mkdir", e))?;
        }
        let sub = rustix::fs::openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err("open", e))?;
        set_owner_mode(&sub, mode, uid, gid)?;
        Ok("directory restored")
    }

    fn set_owner_mode(fd: impl AsFd, mode: u32, uid: u32, gid: u32) -> Result<(), String> {
        // Only root can give a file away; anyone else restores their own.
        if rustix::process::geteuid().is_root() {
            rustix::fs::fchown(
                &fd,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )
            .map_err(|e| err("chown", e))?;
        }
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777)).map_err(|e| err("chmod", e))
    }

    fn temp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
        let mut t = std::ffi::OsString::from(".turncoat-restore-");
        t.push(std::process::id().to_string());
        t.push("-");
        t.push(name);
        t
    }

    /// The old bytes under the old name: written to a new file beside it, renamed over
    /// whatever is there (a file, a link: replaced, never written through; a directory:
    /// removed first).
    pub fn file(
        p: &Path,
        bytes: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<&'static str, String> {
        let (dir, name) = parent(p)?;
        if is_dir_at(&dir, name).is_some() {
            remove_at(&dir, name, 0)?;
        }
        let tmp = temp_name(name);
        let _ = rustix::fs::unlinkat(&dir, &tmp, AtFlags::empty());
        let fd = rustix::fs::openat(
            &dir,
            &tmp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| err("creating the restored file", e))?;
        let mut rest = bytes;
        while !rest.is_empty() {
            match rustix::io::write(&fd, rest) {
                Ok(n) => rest = &rest[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    let _ = rustix::fs::unlinkat(&dir, &tmp, AtFlags::empty());
                    return Err(err("writing the restored file", e));
                }
            }
        }
        set_owner_mode(&fd, mode, uid, gid)?;
        rustix::fs::renameat(&dir, &tmp, &dir, name).map_err(|e| {
            let _ = rustix::fs::unlinkat(&dir, &tmp, AtFlags::empty());
            err("renaming into place", e)
        })?;
        Ok("content restored")
    }

    /// The old link again, whatever replaced it removed.
    pub fn link(p: &Path, target: &Path) -> Result<&'static str, String> {
        let (dir, name) = parent(p)?;
        remove_at(&dir, name, 0)?;
        rustix::fs::symlinkat(target, &dir, name).map_err(|e| err("symlink", e))?;
        Ok("link restored")
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
    fn undo_puts_entries_back_without_following_links() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        let p = root.join("project");
        let outside = root.join("outside");
        std::fs::create_dir_all(p.join(".git/hooks")).unwrap();
        std::fs::create_dir_all(p.join(".husky")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("file"), "outside").unwrap();
        std::fs::write(p.join(".git/config"), "[core]\n").unwrap();
        std::fs::write(p.join(".husky/pre-commit"), "npm test\n").unwrap();
        std::fs::write(p.join(".npmrc"), "fund=false\n").unwrap();
        let before = Snapshot::take_keeping(&p, Vec::new());

        // A link where a file was, a directory replaced by a link, a file gone, one added.
        std::fs::remove_file(p.join(".git/config")).unwrap();
        std::os::unix::fs::symlink(outside.join("file"), p.join(".git/config")).unwrap();
        std::fs::remove_dir_all(p.join(".husky")).unwrap();
        std::os::unix::fs::symlink(&outside, p.join(".husky")).unwrap();
        std::fs::remove_file(p.join(".npmrc")).unwrap();
        std::fs::write(p.join(".git/hooks/post-checkout"), "evil").unwrap();
        std::fs::create_dir_all(p.join(".github/workflows")).unwrap();
        std::fs::write(p.join(".github/workflows/x.yml"), "evil").unwrap();

        let changes = before.changes();
        let undone = before.undo(&changes);
        assert!(undone.iter().all(|u| u.result.is_ok()), "{undone:?}");
        let read = |r: &str| std::fs::read_to_string(p.join(r)).unwrap();
        assert_eq!(read(".git/config"), "[core]\n");
        assert!(
            !p.join(".git/config")
                .symlink_metadata()
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(read(".husky/pre-commit"), "npm test\n");
        assert_eq!(read(".npmrc"), "fund=false\n");
        assert!(!p.join(".git/hooks/post-checkout").exists());
        assert!(!p.join(".github").exists());
        assert_eq!(
            std::fs::read_to_string(outside.join("file")).unwrap(),
            "outside"
        );
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            1,
            "nothing written through the link"
        );
    }

    #[test]
    fn undo_refuses_a_path_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("via")).unwrap();
        std::fs::write(root.join("real/x"), "keep").unwrap();
        assert!(undo::remove(&root.join("via/x")).is_err());
        assert!(undo::file(&root.join("via/x"), b"new", 0o644, 0, 0).is_err());
        assert_eq!(
            std::fs::read_to_string(root.join("real/x")).unwrap(),
            "keep"
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
