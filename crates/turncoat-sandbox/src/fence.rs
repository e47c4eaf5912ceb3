//! Landlock: the command may read and execute anything the mount view shows, and write only
//! beneath the directories it is given (project, temp, package caches, a few devices).
//! Kernel-enforced, so static binaries, raw syscalls and io_uring are bound by it too.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, NetPort, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, path_beneath_rules,
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

/// Restrict the calling thread (and its future children) to writing beneath `writable`, and,
/// when `tcp_ports` is given (the degraded tier, without a network namespace), to TCP
/// connections to those ports only (Landlock ABI 4, Linux 6.7). Returns how well it was enforced.
pub fn restrict(writable: &[PathBuf], tcp_ports: Option<&[u16]>) -> Result<Enforcement, String> {
    let existing: Vec<&Path> = writable
        .iter()
        .map(PathBuf::as_path)
        .chain(DEVICES.iter().map(Path::new))
        .filter(|p| p.exists())
        .collect();
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(ABI_WANTED))
        .map_err(|e| e.to_string())?;
    if tcp_ports.is_some() {
        ruleset = ruleset
            .handle_access(AccessNet::ConnectTcp)
            .map_err(|e| e.to_string())?;
    }
    let mut created = ruleset
        .create()
        .and_then(|r| r.add_rules(path_beneath_rules(["/"], AccessFs::from_read(ABI_WANTED))))
        .and_then(|r| r.add_rules(path_beneath_rules(existing, AccessFs::from_all(ABI_WANTED))))
        .map_err(|e| e.to_string())?;
    for port in tcp_ports.unwrap_or_default() {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
            .map_err(|e| e.to_string())?;
    }
    let status = created.restrict_self().map_err(|e| e.to_string())?;
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
