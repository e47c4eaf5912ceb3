//! Files turncoat writes or trusts around a sandboxed run (`--events`, `--baseline`), which
//! usually live in the project the command may write.
//!
//! The command can replace such a path with a symbolic link (to `~/.bashrc`), rename it and
//! leave a forgery, or edit a file that the next run reads as trusted. So:
//!
//! - [`OutputFile::prepare`] is called *before* the run: it refuses a path that already is a
//!   link or a directory and pins the parent directory (canonical path and device/inode).
//! - [`OutputFile::write`] is called *after* the run, when every sandboxed process is gone: the
//!   parent must still be the pinned directory (a component swapped for a link during the run
//!   is refused), the bytes go into a new file created exclusively in it (`O_EXCL`, never
//!   following a link) and that file is renamed over the target — a link or forgery the
//!   command left there is replaced, never followed.
//! - [`Guarded`] remembers a file's bytes before the run and puts them back after it when the
//!   command changed them, so nothing the command wrote is read as trusted by a later run.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing to write {0}: it is a symbolic link")]
    Symlink(PathBuf),
    #[error("refusing to write {0}: it is a directory")]
    Directory(PathBuf),
    #[error("refusing to write {path}: its directory {dir} was replaced during the run")]
    Moved { path: PathBuf, dir: PathBuf },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OutputError {
    let path = path.to_path_buf();
    move |source| OutputError::Io { what, path, source }
}

/// A file to be written once the sandbox is gone.
#[derive(Debug, Clone)]
pub struct OutputFile {
    path: PathBuf,
    dir: PathBuf,
    name: OsString,
    dir_id: (u64, u64),
}

impl OutputFile {
    /// Check and pin `path` before the run.
    pub fn prepare(path: &Path) -> Result<OutputFile, OutputError> {
        match path.symlink_metadata() {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(OutputError::Symlink(path.to_path_buf()));
            }
            Ok(m) if m.is_dir() => return Err(OutputError::Directory(path.to_path_buf())),
            _ => {}
        }
        let name = path
            .file_name()
            .ok_or_else(|| OutputError::Directory(path.to_path_buf()))?
            .to_os_string();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dir = parent
            .canonicalize()
            .map_err(io("cannot open the directory of", path))?;
        let m = dir
            .metadata()
            .map_err(io("cannot open the directory of", path))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            dir,
            name,
            dir_id: (m.dev(), m.ino()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The target as it will be written: in the pinned directory.
    pub fn resolved(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// Write `bytes` (after the run): a fresh file in the pinned directory, renamed over the
    /// target.
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        let moved = || OutputError::Moved {
            path: self.path.clone(),
            dir: self.dir.clone(),
        };
        // The directory must still be the one we pinned, reached without links.
        let now = self.dir.canonicalize().map_err(|_| moved())?;
        let m = now.metadata().map_err(|_| moved())?;
        if now != self.dir || (m.dev(), m.ino()) != self.dir_id {
            return Err(moved());
        }
        let target = self.resolved();
        if target.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            return Err(OutputError::Directory(self.path.clone()));
        }
        // tempfile creates with O_CREAT|O_EXCL (a planted link makes it fail, never followed).
        let mut tmp = tempfile::Builder::new()
            .prefix(".turncoat-")
            .tempfile_in(&self.dir)
            .map_err(io("cannot create a file beside", &self.path))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io("cannot write", &self.path))?;
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(io("cannot write", &self.path))?;
        }
        // rename(2) replaces a link at the target instead of following it.
        tmp.persist(&target)
            .map_err(|e| io("cannot write", &self.path)(e.error))?;
        Ok(())
    }
}

/// A file the command may reach but must not change: its bytes before the run, put back after.
#[derive(Debug, Clone)]
pub struct Guarded {
    out: OutputFile,
    /// `None`: the file did not exist.
    before: Option<Vec<u8>>,
}

impl Guarded {
    /// Read `path` (never through a link) before the run.
    pub fn read(path: &Path) -> Result<Guarded, OutputError> {
        let out = OutputFile::prepare(path)?;
        let before = match std::fs::read(out.resolved()) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("cannot read", path)(e)),
        };
        Ok(Guarded { out, before })
    }

    /// The bytes read before the run (`None`: there was no file).
    pub fn contents(&self) -> Option<&[u8]> {
        self.before.as_deref()
    }

    pub fn output(&self) -> &OutputFile {
        &self.out
    }

    /// After the run: was the file changed (replaced, linked, removed, edited)? If so, put the
    /// original back and say what happened. A file that did not exist is left to the caller
    /// (which writes its own over whatever the command left).
    pub fn restore(&self) -> Result<Option<String>, OutputError> {
        let Some(before) = &self.before else {
            return Ok(None);
        };
        let target = self.out.resolved();
        let intact = match target.symlink_metadata() {
            Ok(m) if m.is_file() => std::fs::read(&target).ok().as_deref() == Some(before),
            _ => false,
        };
        if intact {
            return Ok(None);
        }
        self.out.write(before)?;
        Ok(Some(format!(
            "the command changed {} during the run; the original was put back",
            self.out.path().display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_at_the_target_is_refused_before_and_replaced_after() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let target = d.path().join("out.json");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        assert!(matches!(
            OutputFile::prepare(&target),
            Err(OutputError::Symlink(_))
        ));
        std::fs::remove_file(&target).unwrap();
        let out = OutputFile::prepare(&target).unwrap();
        // Planted during the run.
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        out.write(b"ours").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(target.symlink_metadata().unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "ours");
    }

    #[test]
    fn a_directory_swapped_for_a_link_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let out = OutputFile::prepare(&sub.join("events.jsonl")).unwrap();
        std::fs::rename(&sub, d.path().join("old")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &sub).unwrap();
        assert!(matches!(out.write(b"x"), Err(OutputError::Moved { .. })));
        assert!(!elsewhere.join("events.jsonl").exists());
    }

    #[test]
    fn a_guarded_file_is_put_back() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("baseline.json");
        std::fs::write(&p, "good").unwrap();
        let g = Guarded::read(&p).unwrap();
        assert_eq!(g.restore().unwrap(), None);
        std::fs::write(&p, "evil").unwrap();
        assert!(g.restore().unwrap().is_some());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "good");
        std::fs::remove_file(&p).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &p).unwrap();
        assert!(g.restore().unwrap().is_some());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "good");
    }
}
