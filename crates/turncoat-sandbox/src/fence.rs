//! Landlock: the command may read and execute anything the mount view shows, and write only
//! beneath the directories it is given (project, temp, package caches, a few devices).
//! Kernel-enforced, so static binaries, raw syscalls and io_uring are bound by it too.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
    path_beneath_rules,
};

/// The Landlock ABI we ask for: filesystem rights up to TRUNCATE (Linux 6.2). Older kernels
/// get what they support (best effort), and the report says so.
const ABI_WANTED: ABI = ABI::V3;

/// Devices every program writes to.
pub const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// Restrict the calling thread (and its future children) to writing beneath `writable`.
/// Returns how well it was enforced.
pub fn restrict_writes(writable: &[PathBuf]) -> Result<Enforcement, String> {
    let existing: Vec<&Path> = writable
        .iter()
        .map(PathBuf::as_path)
        .chain(DEVICES.iter().map(Path::new))
        .filter(|p| p.exists())
        .collect();
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(ABI_WANTED))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(["/"], AccessFs::from_read(ABI_WANTED))))
        .and_then(|r| r.add_rules(path_beneath_rules(existing, AccessFs::from_all(ABI_WANTED))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| e.to_string())?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Enforcement::Full,
        RulesetStatus::PartiallyEnforced => Enforcement::Partial,
        RulesetStatus::NotEnforced => Enforcement::None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Full,
    Partial,
    None,
}

/// The Landlock ABI the running kernel supports (0 when Landlock is unavailable).
pub fn kernel_abi() -> i32 {
    // Cheap probe via the crate's compatibility logic would need a ruleset; read the version
    // the way the kernel reports it instead.
    crate::sys::landlock_abi()
}
