//! Directories removed when turncoat is interrupted (SIGINT, SIGTERM): a drill's temp dir
//! holds a registry's storage, its publish token and the generated apps, and a `TempDir`'s
//! destructor does not run when a signal ends the process.
//!
//! [`remove_on_signal`] registers a directory until its guard is dropped. The first
//! registration installs the handler (`sys::signals`); on a signal a thread removes every
//! registered directory, then the signal's default action ends the process (exit status
//! "killed by SIGINT/SIGTERM", as without the handler). SIGKILL cannot be caught: that case
//! is left to the OS's temp cleaning.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

static DIRS: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Removes its directory from the list when dropped (the owner cleans up normally then).
#[derive(Debug)]
pub struct Guard {
    id: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut d) = DIRS.lock() {
            d.retain(|(id, _)| *id != self.id);
        }
    }
}

fn install() -> Result<(), String> {
    let pipe = crate::sys::signals::termination_pipe()
        .map_err(|e| format!("cannot install the SIGINT/SIGTERM handler: {e}"))?;
    std::thread::Builder::new()
        .name("turncoat-signals".into())
        .spawn(move || {
            let mut f = std::fs::File::from(pipe);
            let mut b = [0u8; 1];
            if f.read_exact(&mut b).is_ok() {
                // A poisoned lock still holds the list: clean up anyway.
                let dirs: Vec<PathBuf> = match DIRS.lock() {
                    Ok(d) => d.iter().map(|(_, p)| p.clone()).collect(),
                    Err(p) => p.into_inner().iter().map(|(_, p)| p.clone()).collect(),
                };
                for d in dirs {
                    // Twice: a child still writing may have created an entry meanwhile.
                    let _ = std::fs::remove_dir_all(&d);
                    let _ = std::fs::remove_dir_all(&d);
                }
                crate::sys::signals::reraise(libc::c_int::from(b[0]));
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}

/// Remove `dir` if SIGINT or SIGTERM arrives before the guard is dropped.
pub fn remove_on_signal(dir: &Path) -> Result<Guard, String> {
    INSTALLED.get_or_init(install).clone()?;
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    DIRS.lock()
        .map_err(|_| "the cleanup list is poisoned".to_string())?
        .push((id, dir.to_path_buf()));
    Ok(Guard { id })
}

/// Directories registered now (for tests).
pub fn registered() -> Vec<PathBuf> {
    DIRS.lock()
        .map(|d| d.iter().map(|(_, p)| p.clone()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_unregisters_its_directory() {
        let t = tempfile::tempdir().unwrap();
        let g = remove_on_signal(t.path()).unwrap();
        assert!(registered().contains(&t.path().to_path_buf()));
        drop(g);
        assert!(!registered().contains(&t.path().to_path_buf()));
    }
}
